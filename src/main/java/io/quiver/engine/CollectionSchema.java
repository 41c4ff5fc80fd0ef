package io.quiver.engine;

import io.quiver.engine.filter.PayloadSchema;
import java.util.Map;

/** What a shard needs to know of its collection's configuration. Immutable; replaced when the config changes. */
public record CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload,
    Optimizers optimizers) {
  public CollectionSchema {
    dense = Map.copyOf(dense);
    sparse = Map.copyOf(sparse);
    optimizers = optimizers == null ? Optimizers.DEFAULT : optimizers;
  }

  /** With the default optimizer settings. */
  public CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload) {
    this(dense, sparse, payload, Optimizers.DEFAULT);
  }

  public CollectionSchema withPayload(PayloadSchema p) {
    return new CollectionSchema(dense, sparse, p, optimizers);
  }
}
