package io.quiver.engine;

import java.util.Arrays;

/** A sparse vector: strictly increasing indices with their values. Immutable by convention. */
public record SparseVector(int[] indices, float[] values) {
  public SparseVector {
    if (indices.length != values.length) {
      throw new IllegalArgumentException("indices and values must have the same length");
    }
  }

  /** Sorts by index and rejects duplicates, as Qdrant does. */
  public static SparseVector of(int[] indices, float[] values) {
    if (indices.length != values.length) {
      throw new IllegalArgumentException("Validation error in JSON body: [indices: must be the same length as values]");
    }
    Integer[] order = new Integer[indices.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Integer.compare(indices[a], indices[b]));
    int[] ix = new int[indices.length];
    float[] vs = new float[values.length];
    for (int i = 0; i < order.length; i++) {
      ix[i] = indices[order[i]];
      vs[i] = values[order[i]];
      if (i > 0 && ix[i] == ix[i - 1]) {
        throw new IllegalArgumentException("Validation error in JSON body: [indices: must be unique]");
      }
    }
    return new SparseVector(ix, vs);
  }

  /**
   * Dot product over the shared indices, in Qdrant's order (its sparse {@code score_vectors}): from
   * zero, the products of the shared indices added one at a time in increasing index order, each
   * product rounded before the add. Both vectors must be sorted by index, as {@link #of} makes them.
   */
  public float dot(SparseVector o) {
    float s = 0;
    int i = 0;
    int j = 0;
    while (i < indices.length && j < o.indices.length) {
      int c = Integer.compare(indices[i], o.indices[j]);
      if (c == 0) {
        s += values[i++] * o.values[j++];
      } else if (c < 0) {
        i++;
      } else {
        j++;
      }
    }
    return s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SparseVector s && Arrays.equals(indices, s.indices) && Arrays.equals(values, s.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(indices) * 31 + Arrays.hashCode(values);
  }
}
