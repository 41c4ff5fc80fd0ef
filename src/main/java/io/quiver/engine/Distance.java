package io.quiver.engine;

import java.util.Locale;
import org.apache.lucene.index.VectorSimilarityFunction;

/**
 * Qdrant's distances with their raw scores: cosine similarity and dot product (higher is better),
 * euclidean and manhattan distance (lower is better). Persisted by {@link #json()} name. Scores and
 * similarities are computed in Qdrant's arithmetic order ({@link QdrantMath}); {@link #lucene()} is only
 * the graph's similarity, used to find candidates.
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
   * cosine similarity is their dot product ({@link QdrantMath#normalize}: Qdrant's arithmetic, and
   * the same array when it is zero or already of length one). Other distances return {@code v}.
   */
  public float[] prepare(float[] v) {
    return this == COSINE ? QdrantMath.normalize(v) : v;
  }

  /**
   * Qdrant's raw metric similarity of stored vector {@code v} for prepared query {@code q}, higher is
   * better: the dot product for cosine and dot, minus the squared euclidean distance, minus the
   * manhattan distance ({@link QdrantMath#similarity}). Recommendation strategies and multivector
   * max_sim combine these; the same bits on every CPU.
   */
  public float similarity(float[] q, float[] v) {
    return QdrantMath.similarity(this, q, v);
  }

  /**
   * Qdrant's score of stored vector {@code v} for prepared query {@code q}, as a search reports it:
   * the {@link #similarity}, post-processed (euclid the square root of the squared distance, manhattan
   * the distance). The same bits on every CPU.
   */
  public float score(float[] q, float[] v) {
    return QdrantMath.postprocess(this, similarity(q, v));
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
