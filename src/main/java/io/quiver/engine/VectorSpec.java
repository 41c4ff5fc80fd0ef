package io.quiver.engine;

/**
 * How one named dense vector is stored and indexed.
 *
 * @param m HNSW graph degree; 0 means no graph (searches are exact)
 * @param quantization {@code none}, {@code scalar} or {@code binary}: Lucene's quantized HNSW formats
 */
public record VectorSpec(String name, int size, Distance distance, int m, int efConstruct, Quantization quantization) {
  public enum Quantization {
    NONE,
    SCALAR,
    BINARY
  }
}
