package io.quiver.engine.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.Distance;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import java.io.IOException;
import java.util.List;

/**
 * A stage of a query ready to run on a shard's reader: its scoring (null: a scroll by id), its own
 * filter (null: none; the stage also keeps to every ancestor's), its search params ({@code
 * hnsw_ef}, the quantization {@code oversampling}, 1 for none, and {@code exact}) and its limit.
 * {@link QueryExecutor} runs it; the storage's planner builds it from a Qdrant query.
 */
public record Plan(List<Plan> prefetch, Scoring scoring, Filter filter, Integer ef, double oversampling, boolean exact, Float threshold,
    int limit) {
  public Plan {
    prefetch = List.copyOf(prefetch);
  }

  public sealed interface Scoring permits VectorScoring, MmrScoring, OrderScoring, FusionScoring, FormulaScoring, SampleScoring {}

  /** A score of stored sparse vectors, higher is better. */
  @FunctionalInterface
  public interface SparseScorer {
    float score(SparseVector stored);
  }

  /**
   * Nearest to a dense ({@code dense}, prepared) or sparse ({@code sparse}) vector, or a custom
   * score of the stored dense ({@code custom}) or sparse ({@code sparseCustom}) vectors, higher is
   * better; exactly one is set.
   */
  public record VectorScoring(String using, float[] dense, SparseVector sparse, VectorSearch.VectorScorer custom,
      SparseScorer sparseCustom) implements Scoring {
    boolean isCustom() {
      return custom != null || sparseCustom != null;
    }
  }

  /**
   * MMR over the candidates nearest to {@code vector}; {@code distance} is null for a sparse vector,
   * {@code multiDim} the row size of a multivector (compared by max_sim), else 0.
   */
  public record MmrScoring(VectorScoring nearest, Object vector, Distance distance, int multiDim, float lambda, int candidates)
      implements Scoring {}

  /** Ordered by the values of a payload key with a range index, from {@code startFrom} (or null). */
  public record OrderScoring(JsonPath key, boolean descending, Double startFrom, FieldIndex index) implements Scoring {}

  /** Reciprocal rank fusion with constant {@code k}, or distribution-based score fusion. */
  public record FusionScoring(boolean dbsf, int k) implements Scoring {}

  /** The prefetches' candidates rescored by {@code scorer}, which may test the {@code conditions} by index. */
  public record FormulaScoring(List<Filter> conditions, FormulaScorer scorer) implements Scoring {
    public FormulaScoring {
      conditions = List.copyOf(conditions);
    }
  }

  /** A uniform random sample. */
  public record SampleScoring() implements Scoring {}

  /** Scores one candidate of a formula stage. */
  @FunctionalInterface
  public interface FormulaScorer {
    float score(FormulaInput candidate) throws IOException;
  }

  /** What a formula reads of one candidate. */
  public interface FormulaInput {
    PointId id();

    /** Its score in the n-th prefetch, or null when that prefetch did not find it. */
    Float prefetchScore(int n);

    /** Whether it meets the n-th condition of the {@link FormulaScoring}. */
    boolean meets(int condition);

    /** Its payload, read on first use. */
    JsonNode payload() throws IOException;
  }
}
