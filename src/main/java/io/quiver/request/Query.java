package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Qdrant's {@code QueryInterface}: what a stage of a universal query does. Vector queries score
 * points by their vector {@code using}; the others order, fuse, rescore or sample.
 */
public sealed interface Query {
  /** Nearest to a vector; with {@code mmr}, re-ranked by maximal marginal relevance. */
  record Nearest(VectorInput vector, Mmr mmr) implements Query {}

  /** Maximal marginal relevance: null parts take Qdrant's defaults (diversity 0.5, the limit). */
  record Mmr(Float diversity, Integer candidatesLimit) {}

  record Recommend(List<VectorInput> positive, List<VectorInput> negative, RecommendStrategy strategy) implements Query {
    public Recommend {
      positive = List.copyOf(positive);
      negative = List.copyOf(negative);
    }
  }

  enum RecommendStrategy {
    AVERAGE_VECTOR,
    BEST_SCORE,
    SUM_SCORES
  }

  record ContextPair(VectorInput positive, VectorInput negative) {}

  /** Discovery: closer to the positive than the negative of each pair, then closest to the target. */
  record Discover(VectorInput target, List<ContextPair> context) implements Query {
    public Discover {
      context = List.copyOf(context);
    }
  }

  /** Context search: as discovery without a target. */
  record Context(List<ContextPair> pairs) implements Query {
    public Context {
      pairs = List.copyOf(pairs);
    }
  }

  record OrderByQuery(OrderBy orderBy) implements Query {}

  /** Reciprocal rank fusion with constant {@code k}, or distribution-based score fusion. */
  record Fusion(boolean dbsf, int k) implements Query {
    public static final int DEFAULT_RRF_K = 2;
  }

  /**
   * A score formula over the prefetches' scores and the points' payloads; defaults for payload
   * variables by their key, for score variables by their prefetch index.
   */
  record Formula(Expression expression, Map<String, JsonNode> payloadDefaults,
      Map<Integer, Double> scoreDefaults) implements Query {
    public Formula {
      payloadDefaults = Map.copyOf(payloadDefaults);
      scoreDefaults = Map.copyOf(scoreDefaults);
    }
  }

  /** A uniform random sample. */
  record Sample() implements Query {}
}
