package io.quiver.request;

import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Bm25;
import java.util.Arrays;

/**
 * A vector as a request gives it (Qdrant's {@code VectorInput} and the values of a point's {@code
 * vector}): numbers as given, not yet checked against a collection nor prepared for its distance.
 */
public sealed interface VectorInput {
  /** A plain dense vector. */
  record Dense(float[] values) implements VectorInput {
    @Override
    public boolean equals(Object o) {
      return o instanceof Dense d && Arrays.equals(values, d.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "Dense" + Arrays.toString(values);
    }
  }

  /** A multivector: one or more rows of the same non-zero dimension (checked when parsed). */
  record Multi(float[][] rows) implements VectorInput {
    @Override
    public boolean equals(Object o) {
      return o instanceof Multi m && Arrays.deepEquals(rows, m.rows);
    }

    @Override
    public int hashCode() {
      return Arrays.deepHashCode(rows);
    }

    @Override
    public String toString() {
      return "Multi" + Arrays.deepToString(rows);
    }
  }

  record Sparse(SparseVector vector) implements VectorInput {}

  /** The vector of another point, read when the request runs (examples in recommendations and queries). */
  record Id(PointId id) implements VectorInput {}

  /**
   * A document to embed on the server, in a point's vectors: only Qdrant's local BM25 model is
   * served, into a sparse vector (other models are refused when parsed).
   */
  record Document(String model, String text, Bm25 bm25) implements VectorInput {}
}
