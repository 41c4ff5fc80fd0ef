package io.quiver.storage.query;

import io.quiver.engine.Distance;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.VectorSpec;
import io.quiver.error.ApiException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one place for Qdrant's example-based scores: the recommendation strategies ({@code
 * average_vector}, {@code best_score}, {@code sum_scores}), discovery and context search. They
 * combine raw similarities (higher is better), so a Euclid collection compares squared distances
 * here as Qdrant does, before the square root of its nearest-search scores.
 */
final class RecommendScores {
  private RecommendScores() {}

  /** A similarity of an example to a stored vector, higher is better. */
  @FunctionalInterface
  interface Similarity<T> {
    float of(T example, T stored);
  }

  /**
   * Qdrant's raw metric similarity, in its arithmetic order: the dot product for cosine (prepared
   * vectors) and dot, minus the squared euclidean distance, minus the manhattan distance.
   */
  static float similarity(Distance d, float[] q, float[] v) {
    return d.similarity(q, v);
  }

  /** The similarity of a dense vector: {@link #similarity} for single vectors, max_sim for multivectors. */
  static Similarity<float[]> dense(VectorSpec spec) {
    Distance d = spec.distance();
    return spec.multi() ? (a, b) -> VectorSearch.maxSim(d, spec.size(), a, b) : (a, b) -> similarity(d, a, b);
  }

  static final Similarity<SparseVector> SPARSE = SparseVector::dot;

  static <T> float bestScore(Similarity<T> sim, List<T> pos, List<T> neg, T v) {
    float maxPos = Float.NEGATIVE_INFINITY;
    for (T p : pos) {
      maxPos = Math.max(maxPos, sim.of(p, v));
    }
    float maxNeg = Float.NEGATIVE_INFINITY;
    for (T n : neg) {
      maxNeg = Math.max(maxNeg, sim.of(n, v));
    }
    return maxPos > maxNeg ? scaledSigmoid(maxPos) : -scaledSigmoid(maxNeg);
  }

  static <T> float sumScores(Similarity<T> sim, List<T> pos, List<T> neg, T v) {
    float s = 0;
    for (T p : pos) {
      s += sim.of(p, v);
    }
    for (T n : neg) {
      s -= sim.of(n, v);
    }
    return s;
  }

  /** Discovery: +1/0/-1 per pair for being closer to its positive than its negative, plus a sigmoid of the target's similarity. */
  static <T> float discoveryScore(Similarity<T> sim, T target, List<T> pairs, T v) {
    int rank = 0;
    for (int i = 0; i < pairs.size(); i += 2) {
      rank += Integer.signum(Float.compare(sim.of(pairs.get(i), v), sim.of(pairs.get(i + 1), v)));
    }
    return rank + scaledSigmoid(sim.of(target, v));
  }

  /** Context search: the summed loss of the pairs (flattened) whose negative is at least as close as the positive. */
  static <T> float contextScore(Similarity<T> sim, List<T> pairs, T v) {
    float s = 0;
    for (int i = 0; i < pairs.size(); i += 2) {
      float difference = sim.of(pairs.get(i), v) - sim.of(pairs.get(i + 1), v) - Math.ulp(1f);
      float x = Math.min(difference, 0f);
      s += x / (1f + Math.abs(x));
    }
    return s;
  }

  private static float scaledSigmoid(float x) {
    return 0.5f * (x / (1f + Math.abs(x)) + 1f);
  }

  /**
   * average_vector's query, not yet prepared: avg(positive) + avg(positive) - avg(negative) (just the
   * positive average without negatives). For multivectors, as Qdrant: the rows of every positive
   * example followed by the negated rows of every negative one.
   */
  static float[] averageVector(List<float[]> positive, List<float[]> negative, boolean multi) {
    if (positive.isEmpty()) {
      throw ApiException.wrongInput("Positive vectors should not be empty with `average` strategy");
    }
    if (multi) {
      int n = 0;
      for (float[] v : positive) {
        n += v.length;
      }
      for (float[] v : negative) {
        n += v.length;
      }
      float[] out = new float[n];
      int at = 0;
      for (float[] v : positive) {
        System.arraycopy(v, 0, out, at, v.length);
        at += v.length;
      }
      for (float[] v : negative) {
        for (float x : v) {
          out[at++] = -x;
        }
      }
      return out;
    }
    float[] pos = average(positive);
    if (negative.isEmpty()) {
      return pos;
    }
    float[] neg = average(negative);
    float[] out = new float[pos.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = pos[i] + pos[i] - neg[i];
    }
    return out;
  }

  private static float[] average(List<float[]> vs) {
    float[] out = new float[vs.get(0).length];
    for (float[] v : vs) {
      for (int i = 0; i < out.length; i++) {
        out[i] += v[i];
      }
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= vs.size();
    }
    return out;
  }

  /** Qdrant's sparse recommendation vector: avg(positive) + avg(positive) - avg(negative), over the union of indices. */
  static SparseVector sparseAverage(List<SparseVector> positive, List<SparseVector> negative) {
    if (positive.isEmpty()) {
      throw ApiException.wrongInput("Positive vectors should not be empty with `average` strategy");
    }
    Map<Integer, Float> pos = averageSparse(positive);
    if (!negative.isEmpty()) {
      Map<Integer, Float> merged = new TreeMap<>();
      pos.forEach((i, p) -> merged.put(i, p + p));
      averageSparse(negative).forEach((i, n) -> merged.merge(i, -n, Float::sum));
      pos = merged;
    }
    int[] indices = pos.keySet().stream().mapToInt(Integer::intValue).toArray();
    float[] values = new float[indices.length];
    for (int i = 0; i < indices.length; i++) {
      values[i] = pos.get(indices[i]);
    }
    return new SparseVector(indices, values);
  }

  private static Map<Integer, Float> averageSparse(List<SparseVector> vs) {
    Map<Integer, Float> sum = new TreeMap<>();
    for (SparseVector v : vs) {
      for (int i = 0; i < v.indices().length; i++) {
        sum.merge(v.indices()[i], v.values()[i], Float::sum);
      }
    }
    sum.replaceAll((i, x) -> x / vs.size());
    return sum;
  }
}
