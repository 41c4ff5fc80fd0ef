package io.quiver.storage.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.Distance;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.request.Expression;
import io.quiver.request.OrderBy;
import java.util.List;
import java.util.Map;
import org.apache.lucene.search.Query;

/**
 * A stage of a query ready to run on a shard: its scoring (null: a scroll by id), its filter with
 * every ancestor's as one Lucene query, its search params and its limit (already multiplied for
 * grouped queries). Built by {@link QueryPlanner}, run by {@link QueryExecutor}.
 */
record Plan(List<Plan> prefetch, Scoring scoring, Query filter, Integer ef, boolean exact, Float threshold, int limit) {

  sealed interface Scoring permits VectorScoring, MmrScoring, OrderScoring, FusionScoring, FormulaScoring, SampleScoring {}

  /** A score of stored sparse vectors, higher is better. */
  @FunctionalInterface
  interface SparseScorer {
    float score(SparseVector stored);
  }

  /**
   * Nearest to a dense ({@code dense}) or sparse ({@code sparse}) vector, or a custom score of the
   * stored dense ({@code custom}) or sparse ({@code sparseCustom}) vectors, higher is better.
   */
  record VectorScoring(String using, float[] dense, SparseVector sparse, VectorSearch.VectorScorer custom,
      SparseScorer sparseCustom) implements Scoring {
    boolean isCustom() {
      return custom != null || sparseCustom != null;
    }
  }

  /** MMR over the candidates nearest to {@code vector}; {@code distance} is null for a sparse vector. */
  record MmrScoring(VectorScoring nearest, Object vector, Distance distance, float lambda, int candidates) implements Scoring {}

  record OrderScoring(OrderBy orderBy, FieldIndex index) implements Scoring {}

  record FusionScoring(boolean dbsf, int k) implements Scoring {}

  /** A formula with its conditions as Lucene queries (an identity map: by the condition's node) and its defaults. */
  record FormulaScoring(Expression expression, Map<Integer, Double> scoreDefaults, Map<String, JsonNode> payloadDefaults,
      Map<Expression.Condition, Query> conditions, PayloadSchema payload) implements Scoring {}

  record SampleScoring() implements Scoring {}
}
