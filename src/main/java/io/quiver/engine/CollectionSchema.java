package io.quiver.engine;

import io.quiver.engine.filter.PayloadSchema;
import java.util.Map;

/** What a shard needs to know of its collection's configuration. Immutable; replaced when the config changes. */
public record CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload) {
  public CollectionSchema {
    dense = Map.copyOf(dense);
    sparse = Map.copyOf(sparse);
  }

  public CollectionSchema withPayload(PayloadSchema p) {
    return new CollectionSchema(dense, sparse, p);
  }
}
