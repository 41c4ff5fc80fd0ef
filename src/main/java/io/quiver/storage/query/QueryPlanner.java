package io.quiver.storage.query;

import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseSpec;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.query.Plan;
import io.quiver.error.ApiException;
import io.quiver.request.Query;
import io.quiver.request.QueryParser;
import io.quiver.request.Stage;
import io.quiver.request.VectorInput;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint.Examples;
import io.quiver.storage.collection.Shards;
import io.quiver.storage.point.PointReads;
import io.quiver.storage.point.VectorValues;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a universal query into {@link Plan}s, as Qdrant's planner does: a stage without prefetches
 * searches the collection (a vector query), scrolls it by id (no query), orders it by a payload key
 * or samples it, under its own filter and all its ancestors'; a stage with prefetches rescores the
 * union of their candidates. Examples given by point id are read first ({@link #resolve}) from the
 * stage's {@code lookup_from} collection or this one, and excluded from the results when they come
 * from this one. Checks the request against the collection: vector names, kinds and dimensions,
 * indexes for {@code order_by}, and Qdrant's rules on how stages combine.
 */
final class QueryPlanner {
  private static final int MAX_PREFETCH_DEPTH = 64;
  private static final float DEFAULT_MMR_LAMBDA = 0.5f;

  private final Catalogue catalogue;

  QueryPlanner(Catalogue catalogue) {
    this.catalogue = catalogue;
  }

  /** A query's examples by stage (an identity map) and what its root adds to its filter: the extra filter and the exclusion of the examples. */
  record Resolution(Stage root, Map<Stage, Examples> examples, Filter rootFilter) {}

  /** What one stage's example ids need: where they are read, by which vector, or why they cannot be. */
  private record Wanted(Stage stage, List<PointId> ids, Collection from, String vector, ApiException lookupFailure) {}

  /**
   * Reads the examples of every stage (from whichever shard holds each); {@code extra} (or null) is
   * added to the root filter. Fails as one shard does, in the stages' order: for each, an unknown
   * lookup collection (404), then a missing point (404), then an unknown vector name (400).
   */
  CompletionStage<Resolution> resolve(Collection col, Stage root, Filter extra) {
    List<Wanted> wanted = new ArrayList<>();
    for (Stage s : preorder(root)) {
      List<PointId> ids = s.query() == null ? List.of() : exampleIds(s.query());
      if (ids.isEmpty()) {
        continue;
      }
      String vector = s.lookupFrom() == null || s.lookupFrom().vector() == null ? s.using() : s.lookupFrom().vector();
      try {
        Collection from = s.lookupFrom() == null ? col : lookupCollection(s.lookupFrom().collection());
        wanted.add(new Wanted(s, ids, from, vector, null));
      } catch (ApiException e) {
        wanted.add(new Wanted(s, ids, null, vector, e));
      }
    }
    if (wanted.isEmpty()) {
      return CompletableFuture.completedFuture(new Resolution(root, Map.of(), extra));
    }
    List<CompletionStage<Map<PointId, Point>>> reads = new ArrayList<>();
    for (Wanted w : wanted) {
      reads.add(w.from() == null ? CompletableFuture.completedFuture(Map.of())
          : PointReads.points(w.from(), w.ids(), Set.of(w.vector())));
    }
    return Shards.all(reads).thenApply(found -> {
      Set<PointId> excluded = new LinkedHashSet<>();
      Map<Stage, Examples> examples = new IdentityHashMap<>();
      for (int i = 0; i < wanted.size(); i++) {
        Wanted w = wanted.get(i);
        if (w.lookupFailure() != null) {
          throw w.lookupFailure();
        }
        Map<PointId, Point> points = new HashMap<>();
        for (PointId id : w.ids()) {
          Point p = found.get(i).get(id);
          if (p == null) {
            throw ApiException.notFound("No point with id " + id + " found");
          }
          points.put(id, p);
        }
        // as Qdrant: a missing point (404) is found before an unknown vector name (400)
        CollectionSchema fromSchema = w.from().schema();
        if (!fromSchema.dense().containsKey(w.vector()) && !fromSchema.sparse().containsKey(w.vector())) {
          throw ApiException.wrongInput("Not existing vector name error: " + w.vector());
        }
        if (w.from() == col) {
          excluded.addAll(points.keySet());
        }
        examples.put(w.stage(), new Examples(w.vector(), points));
      }
      Filter exclusion = excluded.isEmpty() ? null : new Filter(null, null, List.of(new Condition.HasId(List.copyOf(excluded))), null);
      return new Resolution(root, examples, and(extra, exclusion));
    });
  }

  /** The stages of a tree, in pre-order (a stage before its prefetches, these in order). */
  static List<Stage> preorder(Stage root) {
    List<Stage> out = new ArrayList<>();
    preorder(root, out);
    return out;
  }

  private static void preorder(Stage s, List<Stage> out) {
    out.add(s);
    s.prefetch().forEach(p -> preorder(p, out));
  }

  /** The examples of a tree's stages by pre-order position, as they cross to a shard. */
  static Map<Integer, Examples> byPosition(Stage root, Map<Stage, Examples> examples) {
    if (examples.isEmpty()) {
      return Map.of();
    }
    Map<Integer, Examples> out = new HashMap<>();
    List<Stage> stages = preorder(root);
    for (int i = 0; i < stages.size(); i++) {
      Examples e = examples.get(stages.get(i));
      if (e != null) {
        out.put(i, e);
      }
    }
    return out;
  }

  /** The reverse of {@link #byPosition}: the examples by stage. */
  static Map<Stage, Examples> byStage(Stage root, Map<Integer, Examples> examples) {
    if (examples.isEmpty()) {
      return Map.of();
    }
    Map<Stage, Examples> out = new IdentityHashMap<>();
    List<Stage> stages = preorder(root);
    examples.forEach((i, e) -> out.put(stages.get(i), e));
    return out;
  }

  /** Both filters (null: none). */
  static Filter and(Filter a, Filter b) {
    return a == null ? b : b == null ? a : new Filter(List.of(a, b), null, null, null);
  }

  private Collection lookupCollection(String name) {
    try {
      return catalogue.resolve(name);
    } catch (ApiException e) {
      if (e.status() == 404) {
        throw ApiException.notFound("Collection " + name + " not found");
      }
      throw e;
    }
  }

  private static List<PointId> exampleIds(Query q) {
    List<PointId> out = new ArrayList<>();
    for (VectorInput in : inputs(q)) {
      if (in instanceof VectorInput.Id(PointId id)) {
        out.add(id);
      }
    }
    return out;
  }

  private static List<VectorInput> inputs(Query q) {
    List<VectorInput> all = new ArrayList<>();
    switch (q) {
      case Query.Nearest n -> all.add(n.vector());
      case Query.Recommend r -> {
        all.addAll(r.positive());
        all.addAll(r.negative());
      }
      case Query.Discover d -> {
        all.add(d.target());
        d.context().forEach(p -> all.add(p.positive()));
        d.context().forEach(p -> all.add(p.negative()));
      }
      case Query.Context c -> {
        c.pairs().forEach(p -> all.add(p.positive()));
        c.pairs().forEach(p -> all.add(p.negative()));
      }
      default -> {
        // no vectors
      }
    }
    return all;
  }

  /**
   * The plan of a resolved request.
   *
   * @param take the root's limit (limit + offset; the grouped query's widened limit)
   * @param scale multiplies the prefetch limits (grouped queries)
   */
  Plan plan(CollectionSchema schema, Resolution resolution, int take, int scale) {
    Plan plan = plan(schema, resolution, resolution.root(), resolution.rootFilter(), take, scale);
    int depth = depth(resolution.root());
    if (depth > MAX_PREFETCH_DEPTH) {
      throw ApiException.badRequest("prefetches depth " + depth + " exceeds max depth " + MAX_PREFETCH_DEPTH);
    }
    checkLeaves(plan);
    return plan;
  }

  /** @param extra what the stage adds to its own filter (the root's exclusions), or null */
  private Plan plan(CollectionSchema schema, Resolution res, Stage s, Filter extra, int limit, int scale) {
    if (!s.prefetch().isEmpty() && s.query() == null) {
      throw ApiException.badRequest("A query is needed to merge the prefetches. Can't have prefetches without defining a query.");
    }
    if (s.scoreThreshold() != null && s.query() instanceof Query.OrderByQuery) {
      throw ApiException.badRequest("Can't use score_threshold with an order_by query.");
    }
    if (s.scoreThreshold() != null && s.query() == null) {
      throw ApiException.badRequest("A query is needed to use the score_threshold. Can't have score_threshold without defining a query.");
    }
    if (s.query() instanceof Query.Fusion && !s.using().isEmpty()) {
      throw ApiException.badRequest("Fusion queries cannot be combined with the 'using' field.");
    }
    Plan.Scoring scoring = s.query() == null ? null : scoring(schema, s, res.examples().get(s));
    List<Plan> prefetch = new ArrayList<>();
    for (Stage p : s.prefetch()) {
      prefetch.add(plan(schema, res, p, null, QueryParser.clampLimit((long) p.limitOrDefault() * scale), scale));
    }
    return new Plan(prefetch, scoring, and(s.filter(), extra), ef(schema, s, limit), oversampling(schema, s), s.params().exact(),
        s.scoreThreshold(), limit);
  }

  /**
   * The stage's {@code hnsw_ef}, widened on a quantized vector by the quantization {@code
   * oversampling}: each segment's graph yields at least its {@code limit x oversampling} best
   * candidates by the quantized score, which are rescored with the original vectors (as Qdrant
   * rescores), so oversampling buys back the recall that quantized scores lose.
   */
  static Integer ef(CollectionSchema schema, Stage s, int limit) {
    Integer ef = s.params().hnswEf();
    double oversampling = oversampling(schema, s);
    if (oversampling <= 1) {
      return ef;
    }
    int wanted = (int) Math.min(Integer.MAX_VALUE, (long) (limit * oversampling)); // as Qdrant: truncated
    return Math.max(ef == null ? Math.max(limit, io.quiver.engine.VectorSearch.DEFAULT_EF) : ef, wanted);
  }

  /** The stage's quantization {@code oversampling} when its vector is quantized; 1 otherwise (none). */
  static double oversampling(CollectionSchema schema, Stage s) {
    Double oversampling = s.params().oversampling();
    if (oversampling == null || oversampling <= 1) {
      return 1;
    }
    VectorSpec spec = schema.dense().get(s.using() == null ? "" : s.using());
    return spec == null || spec.quantization() == VectorSpec.Quantization.NONE ? 1 : oversampling;
  }

  /**
   * One stage's own plan, without its prefetches (whose candidates are given to the shard that
   * rescores them): its scoring, filter, params, threshold and {@code limit}.
   */
  Plan planStage(CollectionSchema schema, Stage s, Examples examples, int limit) {
    Plan.Scoring scoring = s.query() == null ? null : scoring(schema, s, examples);
    return new Plan(List.of(), scoring, s.filter(), ef(schema, s, limit), oversampling(schema, s), s.params().exact(),
        s.scoreThreshold(), limit);
  }

  private static int depth(Stage s) {
    int depth = 0;
    for (Stage p : s.prefetch()) {
      depth = Math.max(depth, 1 + depth(p));
    }
    return depth;
  }

  private static void checkLeaves(Plan p) {
    if (p.prefetch().isEmpty() && p.scoring() instanceof Plan.FusionScoring) {
      throw ApiException.badRequest("cannot apply Fusion without prefetches");
    }
    if (p.prefetch().isEmpty() && p.scoring() instanceof Plan.FormulaScoring) {
      throw ApiException.badRequest("cannot apply Formula without prefetches");
    }
    p.prefetch().forEach(QueryPlanner::checkLeaves);
  }

  private static Plan.Scoring scoring(CollectionSchema schema, Stage s, Examples examples) {
    return switch (s.query()) {
      case Query.OrderByQuery o -> new Plan.OrderScoring(o.orderBy().key(), o.orderBy().descending(), o.orderBy().startFrom(),
          PointReads.rangeIndex(schema, o.orderBy().key()));
      case Query.Fusion f -> new Plan.FusionScoring(f.dbsf(), f.k());
      case Query.Sample x -> new Plan.SampleScoring();
      case Query.Formula f -> Formulas.scoring(schema, f);
      default -> new Vectors(schema, s, examples).scoring();
    };
  }

  /** The vector scoring of one stage: its query's vectors checked against the vector {@code using}. */
  private static final class Vectors {
    private final Stage stage;
    private final String using;
    private final VectorSpec dense;
    private final SparseSpec sparse;
    private final Examples examples;

    Vectors(CollectionSchema schema, Stage stage, Examples examples) {
      this.stage = stage;
      this.using = stage.using();
      this.dense = schema.dense().get(using);
      this.sparse = schema.sparse().get(using);
      this.examples = examples;
      if (dense == null && sparse == null) {
        throw ApiException.wrongInput("Not existing vector name error: " + using);
      }
    }

    Plan.Scoring scoring() {
      return switch (stage.query()) {
        case Query.Nearest n -> {
          Object v = prepared(n.vector(), true);
          Plan.VectorScoring nearest = nearest(v);
          if (n.mmr() == null) {
            yield nearest;
          }
          float lambda = n.mmr().diversity() == null ? DEFAULT_MMR_LAMBDA : 1f - n.mmr().diversity();
          int candidates = n.mmr().candidatesLimit() == null ? stage.limitOrDefault() : n.mmr().candidatesLimit();
          yield new Plan.MmrScoring(nearest, v, dense == null ? null : dense.distance(), dense != null && dense.multi() ? dense.size() : 0,
              lambda, candidates);
        }
        case Query.Recommend r -> recommend(r);
        case Query.Discover d -> {
          Object target = prepared(d.target(), true);
          List<Object> pairs = pairs(d.context());
          yield dense != null
              ? custom(v -> RecommendScores.discoveryScore(RecommendScores.dense(dense), (float[]) target, cast(pairs), v))
              : sparseCustom(v -> RecommendScores.discoveryScore(RecommendScores.SPARSE, (SparseVector) target, cast(pairs), v));
        }
        case Query.Context c -> {
          List<Object> pairs = pairs(c.pairs());
          yield dense != null
              ? custom(v -> RecommendScores.contextScore(RecommendScores.dense(dense), cast(pairs), v))
              : sparseCustom(v -> RecommendScores.contextScore(RecommendScores.SPARSE, cast(pairs), v));
        }
        default -> throw new IllegalStateException("not a vector query: " + stage.query());
      };
    }

    private Plan.Scoring recommend(Query.Recommend r) {
      if (r.strategy() == Query.RecommendStrategy.AVERAGE_VECTOR) {
        if (dense != null && !dense.multi()) {
          // Qdrant averages the examples as given and prepares only the average
          float[] avg = RecommendScores.averageVector(raw(r.positive()), raw(r.negative()), false);
          return nearest(VectorValues.dense(new VectorInput.Dense(avg), dense));
        }
        List<Object> pos = all(r.positive(), false);
        List<Object> neg = all(r.negative(), false);
        return nearest(dense != null ? RecommendScores.averageVector(cast(pos), cast(neg), true)
            : RecommendScores.sparseAverage(cast(pos), cast(neg)));
      }
      List<Object> pos = all(r.positive(), false);
      List<Object> neg = all(r.negative(), false);
      boolean best = r.strategy() == Query.RecommendStrategy.BEST_SCORE;
      if (dense != null) {
        var sim = RecommendScores.dense(dense);
        List<float[]> p = cast(pos);
        List<float[]> n = cast(neg);
        return custom(best ? v -> RecommendScores.bestScore(sim, p, n, v) : v -> RecommendScores.sumScores(sim, p, n, v));
      }
      List<SparseVector> p = cast(pos);
      List<SparseVector> n = cast(neg);
      return sparseCustom(best ? v -> RecommendScores.bestScore(RecommendScores.SPARSE, p, n, v)
          : v -> RecommendScores.sumScores(RecommendScores.SPARSE, p, n, v));
    }

    private Plan.VectorScoring nearest(Object v) {
      return v instanceof float[] f ? new Plan.VectorScoring(using, f, null, null, null)
          : new Plan.VectorScoring(using, null, (SparseVector) v, null, null);
    }

    private Plan.VectorScoring custom(io.quiver.engine.VectorSearch.VectorScorer scorer) {
      return new Plan.VectorScoring(using, null, null, scorer, null);
    }

    private Plan.VectorScoring sparseCustom(Plan.SparseScorer scorer) {
      return new Plan.VectorScoring(using, null, null, null, scorer);
    }

    private List<Object> pairs(List<Query.ContextPair> pairs) {
      List<Object> out = new ArrayList<>();
      for (Query.ContextPair p : pairs) {
        out.add(prepared(p.positive(), true));
        out.add(prepared(p.negative(), true));
      }
      return out;
    }

    /** The prepared vectors of the inputs; examples whose point lacks the vector are left out. */
    private List<Object> all(List<VectorInput> inputs, boolean required) {
      List<Object> out = new ArrayList<>();
      for (VectorInput in : inputs) {
        Object v = prepared(in, required);
        if (v != null) {
          out.add(v);
        }
      }
      return out;
    }

    /** Single dense examples as given (stored ones as stored), for averaging. */
    private List<float[]> raw(List<VectorInput> inputs) {
      List<float[]> out = new ArrayList<>();
      for (VectorInput in : inputs) {
        if (in instanceof VectorInput.Dense d) {
          if (d.values().length != dense.size()) {
            throw dimension(d.values().length);
          }
          out.add(d.values());
        } else if (in instanceof VectorInput.Id) {
          float[] v = (float[]) prepared(in, false);
          if (v != null) {
            out.add(v);
          }
        } else {
          prepared(in, false); // fails with the reason
        }
      }
      return out;
    }

    /** A float[] (dense or flattened multivector) or a SparseVector, prepared; null for an example point lacking the vector when not {@code required}. */
    private Object prepared(VectorInput in, boolean required) {
      return switch (in) {
        case VectorInput.Dense d -> {
          requireDense();
          yield VectorValues.dense(d, dense);
        }
        case VectorInput.Multi m -> {
          requireDense();
          yield VectorValues.dense(m, dense);
        }
        case VectorInput.Sparse s -> {
          if (sparse == null) {
            throw conversion();
          }
          yield s.vector();
        }
        case VectorInput.Id(PointId id) -> stored(id, required);
        case VectorInput.Document d -> throw new IllegalStateException("documents are embedded when parsed");
      };
    }

    private Object stored(PointId id, boolean required) {
      Point p = examples.points().get(id);
      String name = examples.vector();
      Object v = p.dense().containsKey(name) ? p.dense().get(name) : p.sparse().get(name);
      if (v == null) {
        if (required) {
          throw ApiException.notFound("Vector with name \"" + name + "\" for point not found");
        }
        return null;
      }
      if (v instanceof float[] f) {
        requireDense();
        if (dense.multi() ? f.length == 0 || f.length % dense.size() != 0 : f.length != dense.size()) {
          throw dimension(f.length);
        }
      } else if (sparse == null) {
        throw conversion();
      }
      return v;
    }

    private void requireDense() {
      if (dense == null) {
        throw conversion();
      }
    }

    private ApiException dimension(int got) {
      return ApiException.wrongInput("Vector dimension error: expected dim: " + dense.size() + ", got " + got);
    }

    private static ApiException conversion() {
      return ApiException.wrongInput("Conversion between sparse and regular vectors failed");
    }
  }

  @SuppressWarnings("unchecked")
  static <T> List<T> cast(List<Object> list) {
    return (List<T>) (List<?>) list;
  }
}
