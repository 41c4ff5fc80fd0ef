package io.quiver.engine;

/**
 * How one named dense vector is stored and indexed.
 *
 * @param m HNSW graph degree; 0 means no graph (searches are exact)
 * @param quantization {@code none}, {@code scalar} or {@code binary}: Lucene's quantized HNSW formats
 * @param multi a multivector ({@code multivector_config} with {@code max_sim}): each point holds one or
 *     more vectors of {@code size} dimensions, kept flattened in one array and compared exactly
 * @param datatype element type: values are rounded to it on the way in; float16 and uint8 vectors are stored
 *     in their own width ({@link NarrowVectorsFormat})
 */
public record VectorSpec(String name, int size, Distance distance, int m, int efConstruct, Quantization quantization,
    boolean multi, Datatype datatype) {
  public enum Quantization {
    NONE,
    SCALAR,
    BINARY
  }

  /** Qdrant's vector datatypes. */
  public enum Datatype {
    FLOAT32,
    FLOAT16,
    UINT8;

    /** A value as this type holds it: float16 rounds to half precision, uint8 truncates into 0..255. */
    public float round(float x) {
      return switch (this) {
        case FLOAT32 -> x;
        case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16(x));
        case UINT8 -> Float.isNaN(x) ? 0f : (float) Math.floor(Math.max(0f, Math.min(255f, x)));
      };
    }
  }

  /** A single float32 vector. */
  public VectorSpec(String name, int size, Distance distance, int m, int efConstruct, Quantization quantization) {
    this(name, size, distance, m, efConstruct, quantization, false, Datatype.FLOAT32);
  }
}
