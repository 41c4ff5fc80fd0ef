package io.quiver.engine.query;

import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.Shard;
import io.quiver.engine.SparseVector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Qdrant's maximal marginal relevance: the candidates (once each, those having the vector)
 * re-ranked greedily by {@code lambda * relevance - (1 - lambda) * max similarity to the already
 * selected}, relevance and similarity being raw similarities (distances negated, Euclid squared).
 * Scores are kept.
 */
public final class Mmr {
  private Mmr() {}

  static List<Hit> rerank(Shard.Reader r, Plan.MmrScoring m, List<Hit> hits, int limit) throws IOException {
    String using = m.nearest().using();
    var selector = new DocMapper.Selector(false, true, Set.of(using));
    List<Hit> candidates = new ArrayList<>();
    List<Object> vectors = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    for (Hit h : hits) {
      if (!seen.add(h.doc())) {
        continue;
      }
      Point p = r.load(h.doc(), r.idOf(h.doc()), selector);
      Object v = m.distance() != null ? p.dense().get(using) : p.sparse().get(using);
      if (v != null) {
        candidates.add(h);
        vectors.add(v);
      }
    }
    return select(m, candidates, vectors, limit);
  }

  /**
   * The MMR selection of {@code candidates} (distinct, each with its vector in {@code vectors}, in
   * the order given), at most {@code limit}.
   */
  public static <T> List<T> select(Plan.MmrScoring m, List<T> candidates, List<Object> vectors, int limit) {
    if (candidates.size() < 2) {
      return candidates;
    }
    int n = candidates.size();
    float[] relevance = new float[n];
    float[] maxSimilarity = new float[n];
    for (int i = 0; i < n; i++) {
      relevance[i] = rawSimilarity(m, m.vector(), vectors.get(i));
    }
    List<Integer> remaining = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      remaining.add(i);
    }
    List<T> out = new ArrayList<>();
    boolean first = true;
    while (out.size() < limit && !remaining.isEmpty()) {
      // Rust's max_by_key: the last of equal maxima
      int bestPos = 0;
      float bestScore = Float.NEGATIVE_INFINITY;
      for (int pos = 0; pos < remaining.size(); pos++) {
        int c = remaining.get(pos);
        float score = first ? relevance[c] : m.lambda() * relevance[c] - (1f - m.lambda()) * maxSimilarity[c];
        if (score >= bestScore) {
          bestScore = score;
          bestPos = pos;
        }
      }
      int selected = remaining.get(bestPos);
      int last = remaining.removeLast(); // IndexSet::swap_remove
      if (bestPos < remaining.size()) {
        remaining.set(bestPos, last);
      }
      out.add(candidates.get(selected));
      for (int c : remaining) {
        float s = rawSimilarity(m, vectors.get(c), vectors.get(selected));
        maxSimilarity[c] = first ? s : Math.max(maxSimilarity[c], s);
      }
      first = false;
    }
    return out;
  }

  /**
   * Qdrant's raw similarity (higher is better): dot products, negated squared euclidean or manhattan
   * distance; for a multivector, max_sim over its rows, as Qdrant scores it with the vector's comparator.
   */
  private static float rawSimilarity(Plan.MmrScoring m, Object a, Object b) {
    if (m.distance() == null) {
      return ((SparseVector) a).dot((SparseVector) b);
    }
    if (m.multiDim() > 0) {
      return io.quiver.engine.VectorSearch.maxSim(m.distance(), m.multiDim(), (float[]) a, (float[]) b);
    }
    return m.distance().similarity((float[]) a, (float[]) b);
  }
}
