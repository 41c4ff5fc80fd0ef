package io.quiver.engine;

import io.quiver.engine.filter.PayloadSchema;
import java.util.Map;

/**
 * What a shard needs to know of its collection's configuration. Immutable; replaced when the config changes.
 *
 * @param quantizedInRam some vector's quantization asks {@code always_ram}: the quantized codes of
 *     the shard's segments are loaded into memory when a segment is opened for searches
 */
public record CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload,
    Optimizers optimizers, boolean quantizedInRam) {
  public CollectionSchema {
    dense = Map.copyOf(dense);
    sparse = Map.copyOf(sparse);
    optimizers = optimizers == null ? Optimizers.DEFAULT : optimizers;
  }

  /** Quantized codes read from the files as searches need them. */
  public CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload,
      Optimizers optimizers) {
    this(dense, sparse, payload, optimizers, false);
  }

  /** With the default optimizer settings. */
  public CollectionSchema(Map<String, VectorSpec> dense, Map<String, SparseSpec> sparse, PayloadSchema payload) {
    this(dense, sparse, payload, Optimizers.DEFAULT);
  }

  public CollectionSchema withPayload(PayloadSchema p) {
    return new CollectionSchema(dense, sparse, p, optimizers, quantizedInRam);
  }
}
