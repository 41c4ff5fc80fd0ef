package io.quiver.engine;

import java.util.Locale;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.VectorUtil;

/**
 * Qdrant's distances with their raw scores: cosine similarity and dot product (higher is better),
 * euclidean and manhattan distance (lower is better). Persisted by {@link #json()} name.
 */
public enum Distance {
  COSINE("Cosine", VectorSimilarityFunction.DOT_PRODUCT),
  EUCLID("Euclid", VectorSimilarityFunction.EUCLIDEAN),
  DOT("Dot", VectorSimilarityFunction.MAXIMUM_INNER_PRODUCT),
  /** Lucene's graph has no manhattan similarity: the graph is euclidean and results are rescored exactly. */
  MANHATTAN("Manhattan", VectorSimilarityFunction.EUCLIDEAN);

  private final String json;
  private final VectorSimilarityFunction lucene;

  Distance(String json, VectorSimilarityFunction lucene) {
    this.json = json;
    this.lucene = lucene;
  }

  public String json() {
    return json;
  }

  public VectorSimilarityFunction lucene() {
    return lucene;
  }

  public static Distance parse(String name) {
    for (Distance d : values()) {
      if (d.json.equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown distance `" + name + "`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`");
  }

  /** True when a larger score is a better match. */
  public boolean higherIsBetter() {
    return this == COSINE || this == DOT;
  }

  /**
   * The vector as stored: cosine vectors are normalised on the way in, as Qdrant does, so that
   * cosine similarity is their dot product. Returns a new array when it changes anything.
   */
  public float[] prepare(float[] v) {
    if (this != COSINE) {
      return v;
    }
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    if (norm == 0 || Math.abs(norm - 1.0) < 1e-7) {
      return v;
    }
    float inv = (float) (1.0 / Math.sqrt(norm));
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * inv;
    }
    return out;
  }

  /** Qdrant's score of stored vector {@code v} for prepared query {@code q}. */
  public float score(float[] q, float[] v) {
    return switch (this) {
      case COSINE, DOT -> VectorUtil.dotProduct(q, v);
      case EUCLID -> (float) Math.sqrt(VectorUtil.squareDistance(q, v));
      case MANHATTAN -> {
        float s = 0;
        for (int i = 0; i < q.length; i++) {
          s += Math.abs(q[i] - v[i]);
        }
        yield s;
      }
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
