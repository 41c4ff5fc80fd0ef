package io.quiver.storage.strict;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Expression;
import io.quiver.request.PointOperation;
import io.quiver.request.PointRead;
import io.quiver.request.PointStruct;
import io.quiver.request.PointVectors;
import io.quiver.request.PointWrite;
import io.quiver.request.PointsSelector;
import io.quiver.request.Query;
import io.quiver.request.QueryOperation;
import io.quiver.request.QueryRequest;
import io.quiver.request.ReadParams;
import io.quiver.request.Request;
import io.quiver.request.SearchParams;
import io.quiver.request.Stage;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.strict.IndexCapabilities.Cap;
import io.quiver.storage.strict.IndexCapabilities.Unindexed;
import java.io.IOException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Qdrant's strict mode ({@code strict_mode_config} of a collection), enforced in one place on the
 * typed request: the storage service asks {@link #check} before it runs any operation on a
 * collection. It checks the request against the limits (query limit, timeout, search parameters,
 * unindexed filter keys, filter size, batch size, collection size, multivector and sparse sizes,
 * payload index count, full scans) and then charges the collection's read or write rate limiter.
 * Refusals carry Qdrant's messages: 400 {@code Bad request: <what>. Help: <how>} and 429 {@code Rate
 * limiting exceeded: ...} with the seconds to wait.
 *
 * <p>Searches are checked in the universal query's form they were parsed into, so every endpoint
 * is limited alike; the legacy search endpoints skip the full-scan check, as Qdrant's do. Costs
 * follow Qdrant's core searches: one per query vector (a multivector its rows, a sparse vector one
 * per 64 indices; an average recommendation searches one vector) plus one per filter condition; a
 * retrieval one per id; a scroll or count one plus the filter's conditions; an update one per
 * point, or the expected number of points its filter selects. Rate limiters are token buckets per
 * collection, made afresh whenever the strict-mode config changes (as Qdrant does). Thread-safe.
 */
public final class StrictMode {
  private static final double SPARSE_DIMS_COST_UNIT = 64;

  /** The parsed config and limiters of each collection, for one strict-mode config (compared by identity). */
  private final Map<Collection, State> states = Collections.synchronizedMap(new WeakHashMap<>());
  private final CollectionSize sizes = new CollectionSize();

  private record State(ObjectNode config, StrictConfig strict, RateLimiter read, RateLimiter write) {}

  /** Checks {@code request} against the strict mode of {@code col}, if enabled; throws 400 or 429. */
  public void check(Collection col, Request request) throws IOException {
    State state = stateOf(col);
    if (state.strict() == null) {
      return;
    }
    var ctx = new Check(col, state.strict(), col.schema().payload());
    switch (request) {
      case QueryOperation.Queries q -> {
        boolean legacy = q.shape() == QueryOperation.Shape.POINTS || q.shape() == QueryOperation.Shape.POINTS_BATCH;
        long cost = 0;
        for (QueryRequest r : q.requests()) {
          cost += ctx.query(r.root(), true, legacy, 1);
        }
        ctx.timeout(q.read());
        charge(state.read(), cost, "Read");
      }
      case QueryOperation.Groups g -> {
        ctx.grouping(g.request().groupBy());
        long cost = ctx.query(g.request().query().root(), true, g.legacy(), g.request().groupSize(), g.request().groups());
        ctx.timeout(g.read());
        charge(state.read(), cost, "Read");
      }
      case PointRead.Scroll s -> ctx.simpleRead(state, s.limit() == null ? null : (long) s.limit(), s.filter(), s.read());
      case PointRead.Count c -> ctx.simpleRead(state, null, c.filter(), c.read());
      case PointRead.Facet f -> ctx.simpleRead(state, f.limit() == null ? null : (long) f.limit(), f.filter(), f.read());
      case PointRead.Matrix m -> {
        long sample = m.sample() == null ? 10 : m.sample();
        long limit = m.limit() == null ? 3 : m.limit();
        ctx.limit(sample * limit, "max_query_limit", ctx.cfg.maxQueryLimit(), "limit");
        ctx.readFilter(m.filter());
        ctx.timeout(m.read());
        charge(state.read(), sample + FilterCosts.conditions(m.filter()), "Read");
      }
      case PointRead.Retrieve r -> {
        ctx.timeout(r.read());
        charge(state.read(), Math.max(1, r.ids().size()), "Read");
      }
      case PointRead.GetOne g -> charge(state.read(), 1, "Read");
      case PointWrite w -> {
        long cost = 0;
        for (PointOperation op : w.operations()) {
          cost += ctx.update(op);
        }
        charge(state.write(), cost, "Write");
      }
      case CollectionRequest.CreateIndex c -> ctx.indexCount(c.field());
      default -> {
        // collection administration and snapshots are not limited
      }
    }
  }

  private State stateOf(Collection col) {
    ObjectNode config = col.config();
    synchronized (states) {
      State s = states.get(col);
      if (s == null || s.config() != config) {
        StrictConfig strict = StrictConfig.of(config);
        s = new State(config, strict, limiter(strict == null ? null : strict.readRateLimit()),
            limiter(strict == null ? null : strict.writeRateLimit()));
        states.put(col, s);
      }
      return s;
    }
  }

  private static RateLimiter limiter(Long perMinute) {
    return perMinute == null ? null : new RateLimiter(perMinute);
  }

  private static void charge(RateLimiter limiter, long cost, String kind) {
    if (limiter != null) {
      limiter.consume(cost, kind);
    }
  }

  /** One request against one collection's strict mode. */
  private final class Check {
    final Collection col;
    final StrictConfig cfg;
    final PayloadSchema schema;

    Check(Collection col, StrictConfig cfg, PayloadSchema schema) {
      this.col = col;
      this.cfg = cfg;
      this.schema = schema;
    }

    void timeout(ReadParams read) {
      if (read.timeoutSeconds() != null) {
        limit((long) read.timeoutSeconds(), "max_timeout", cfg.maxTimeout(), "timeout");
      }
    }

    void limit(Long value, String option, Long limit, String name) {
      if (value != null && limit != null && value > limit) {
        throw strict("Limit exceeded " + value + " > " + limit + " for \"" + name + "\"",
            "Reduce the \"" + name + "\" parameter to or below " + limit + ".");
      }
    }

    void simpleRead(State state, Long limit, Filter filter, ReadParams read) {
      limit(limit, "max_query_limit", cfg.maxQueryLimit(), "limit");
      readFilter(filter);
      timeout(read);
      charge(state.read(), 1 + FilterCosts.conditions(filter), "Read");
    }

    long query(Stage s, boolean top, boolean legacy, int groupSize) {
      return query(s, top, legacy, groupSize, null);
    }

    /**
     * A stage of a query with its prefetches; returns its cost.
     *
     * @param groups for a grouped query, its number of groups (the limit then counts groups × group size)
     */
    long query(Stage s, boolean top, boolean legacy, int groupSize, Integer groups) {
      Long limit = s.limit() == null ? null : (long) s.limit();
      if (top && groups != null) {
        limit = (long) groups * groupSize;
      } else if (limit == null && top) {
        limit = (long) Stage.DEFAULT_LIMIT;
      }
      limit(limit, "max_query_limit", cfg.maxQueryLimit(), "limit");
      long cost = 0;
      for (Stage p : s.prefetch()) {
        cost += query(p, false, legacy, groupSize, null);
      }
      Query q = s.query();
      if (q != null && !legacy && (s.prefetch().isEmpty() || !top)) {
        fullScan(q, s.using(), s.filter());
      }
      if (q instanceof Query.Formula f) {
        formula(f.expression());
      }
      readFilter(s.filter());
      params(s.params());
      return cost + queryCost(q) + FilterCosts.conditions(s.filter()) + (referencesId(q) ? 1 : 0);
    }

    /** Qdrant's search cost: a vector per query vector (a multivector its rows); ids cost a fetch. */
    private long queryCost(Query q) {
      return switch (q) {
        case null -> 1; // a scroll
        case Query.Fusion f -> 0;
        case Query.Formula f -> 0;
        case Query.Sample s -> 0;
        case Query.OrderByQuery o -> 1;
        case Query.Nearest n -> vectorCost(n.vector()) + (n.vector() instanceof VectorInput.Id ? 1 : 0); // and its fetch
        case Query.Recommend r -> r.strategy() == Query.RecommendStrategy.AVERAGE_VECTOR ? 1
            : Math.max(1, vectorCosts(r.positive()) + vectorCosts(r.negative()));
        case Query.Discover d -> vectorCost(d.target()) + pairCosts(d.context());
        case Query.Context c -> pairCosts(c.pairs());
      };
    }

    private long pairCosts(List<Query.ContextPair> pairs) {
      long n = 0;
      for (Query.ContextPair p : pairs) {
        n += vectorCost(p.positive()) + vectorCost(p.negative());
      }
      return n;
    }

    private long vectorCosts(List<VectorInput> inputs) {
      long n = 0;
      for (VectorInput in : inputs) {
        n += vectorCost(in);
      }
      return n;
    }

    /** A query by point id also filters that point out of the results: one more condition. */
    private boolean referencesId(Query q) {
      return q instanceof Query.Nearest n && n.vector() instanceof VectorInput.Id;
    }

    /** Qdrant refuses a vector query that must scan every point when exact search is not allowed. */
    private void fullScan(Query q, String using, Filter filter) {
      if (!cfg.forbidsExact()) {
        return;
      }
      if (q instanceof Query.Fusion || q instanceof Query.OrderByQuery || q instanceof Query.Formula || q instanceof Query.Sample) {
        return;
      }
      var params = col.config().path("params");
      if (params.path("sparse_vectors").has(using)) {
        return;
      }
      var vectors = params.path("vectors");
      var vector = using.isEmpty() && vectors.has("size") ? vectors : vectors.path(using);
      var hnsw = col.config().path("hnsw_config");
      long m = vector.path("hnsw_config").path("m").isNumber() ? vector.path("hnsw_config").path("m").asLong()
          : hnsw.path("m").asLong(16);
      if (m > 0) {
        return;
      }
      long payloadM = vector.path("hnsw_config").path("payload_m").isNumber() ? vector.path("hnsw_config").path("payload_m").asLong()
          : hnsw.path("payload_m").isNumber() ? hnsw.path("payload_m").asLong() : m;
      String label = using.isEmpty() ? "" : " on '" + using + "'";
      boolean tenantFilter = false;
      if (filter != null) {
        for (Condition c : FilterCosts.topLevel(filter)) {
          JsonPath key = IndexCapabilities.targetedKey(c);
          FieldIndex index = key == null ? null : schema.get(key);
          if (index != null && Boolean.TRUE.equals(index.isTenant())) {
            tenantFilter = true;
          }
        }
      }
      if (!tenantFilter) {
        throw strict("Request is forbidden" + label + " because global vector indexing is disabled (hnsw_config.m = 0)",
            "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option");
      }
      if (payloadM == 0) {
        throw strict("Request is forbidden" + label + " because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
            "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode `search_allow_exact` option");
      }
    }

    /** Payload variables of a formula need an index of their type when unindexed filtering is off. */
    private void formula(Expression e) {
      if (!Boolean.FALSE.equals(cfg.unindexedFilteringRetrieve())) {
        return;
      }
      Unindexed u = unindexed(e);
      if (u != null) {
        throw strict("Index required but not found for \"" + u.key() + "\" of one of the following types: [" + u.types() + "]",
            "Create an index for this key or use a different formula expression.");
      }
    }

    private Unindexed unindexed(Expression e) {
      return switch (e) {
        case Expression.Payload p -> IndexCapabilities.unindexed(p.key(), EnumSet.of(Cap.INT_MATCH, Cap.INT_RANGE, Cap.FLOAT_RANGE), schema);
        case Expression.Condition c -> IndexCapabilities.firstUnindexed(c.filter(), null, schema);
        case Expression.GeoDistance g -> IndexCapabilities.unindexed(g.to(), EnumSet.of(Cap.GEO), schema);
        case Expression.DatetimeKey d -> IndexCapabilities.unindexed(d.key(), EnumSet.of(Cap.DATETIME_RANGE), schema);
        case Expression.Nary n -> first(n.args());
        case Expression.Unary u -> unindexed(u.arg());
        case Expression.Div d -> first(List.of(d.left(), d.right()));
        case Expression.Pow p -> first(List.of(p.base(), p.exponent()));
        case Expression.Decay d -> d.target() == null ? unindexed(d.x()) : first(List.of(d.x(), d.target()));
        default -> null;
      };
    }

    private Unindexed first(List<Expression> es) {
      for (Expression e : es) {
        Unindexed u = unindexed(e);
        if (u != null) {
          return u;
        }
      }
      return null;
    }

    private void params(SearchParams p) {
      if (p.exact() && cfg.forbidsExact()) {
        throw strict("Exact search disabled!", "Set exact=false.");
      }
      if (p.oversampling() != null && cfg.searchMaxOversampling() != null && p.oversampling() > cfg.searchMaxOversampling()) {
        double limit = cfg.searchMaxOversampling();
        throw strict("Limit exceeded " + fmt(p.oversampling()) + " > " + fmt(limit) + " for \"oversampling\"",
            "Reduce the \"oversampling\" parameter to or below " + fmt(limit) + ".");
      }
      limit(p.hnswEf() == null ? null : (long) p.hnswEf(), "search_max_hnsw_ef", cfg.searchMaxHnswEf(), "hnsw_ef");
    }

    /** {@code group_by} needs an index that can match values when unindexed filtering is off. */
    void grouping(JsonPath key) {
      if (!Boolean.FALSE.equals(cfg.unindexedFilteringRetrieve())) {
        return;
      }
      FieldIndex index = schema.get(key);
      if (index == null) {
        throw strict("Index required but not found for \"" + key + "\"", "Create an index supporting `match` for this key.");
      }
      boolean match = switch (index.type()) {
        case KEYWORD, UUID, BOOL -> true;
        case INTEGER -> !Boolean.FALSE.equals(index.lookup());
        default -> false;
      };
      if (!match) {
        String kind = index.type().json();
        throw strict("Index of type \"" + Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + "\" found for \"" + key + "\"",
            "Create an index supporting `match` for this key.");
      }
    }

    void readFilter(Filter f) {
      checkFilter(f, cfg.unindexedFilteringRetrieve());
    }

    private void checkFilter(Filter f, Boolean unindexedAllowed) {
      if (f == null) {
        return;
      }
      if (Boolean.FALSE.equals(unindexedAllowed)) {
        Unindexed u = IndexCapabilities.firstUnindexed(f, null, schema);
        if (u != null) {
          throw strict("Index required but not found for \"" + u.key() + "\" of one of the following types: [" + u.types() + "]",
              "Create an index for this key or use a different filter.");
        }
      }
      if (cfg.filterMaxConditions() != null) {
        long n = FilterCosts.conditions(f);
        if (n > cfg.filterMaxConditions()) {
          throw strict("Filter condition limit reached (" + n + " > " + cfg.filterMaxConditions() + ")",
              "Reduce the amount of conditions of your filter.");
        }
      }
      if (cfg.conditionMaxSize() != null) {
        long n = FilterCosts.maxConditionSize(f);
        if (n > cfg.conditionMaxSize()) {
          throw strict("Condition size limit reached (" + n + " > " + cfg.conditionMaxSize() + ")", "Reduce the size of your condition.");
        }
      }
    }

    /** An update (one step of a batch too): checks it and returns its cost. */
    long update(PointOperation op) throws IOException {
      return switch (op) {
        case PointOperation.Upsert u -> {
          long n = u.points().size();
          limit(n, "upsert_max_batchsize", cfg.upsertMaxBatchsize(), "upsert limit");
          size();
          for (PointStruct p : u.points()) {
            vectorLimits(p.vectors());
          }
          yield Math.max(1, n);
        }
        case PointOperation.UpdateVectors u -> {
          long n = u.points().size();
          limit(n, "upsert_max_batchsize", cfg.upsertMaxBatchsize(), "update limit");
          size();
          for (PointVectors p : u.points()) {
            vectorLimits(p.vectors());
          }
          yield Math.max(1, n);
        }
        case PointOperation.SetPayload s -> {
          if (cfg.maxCollectionPayloadSizeBytes() != null) {
            checkPayloadSize(sizes.of(col, true), cfg.maxCollectionPayloadSizeBytes());
          }
          yield selectorCost(s.selector());
        }
        case PointOperation.Delete d -> selectorCost(d.selector());
        case PointOperation.DeletePayload d -> selectorCost(d.selector());
        case PointOperation.ClearPayload c -> selectorCost(c.selector());
        case PointOperation.DeleteVectors d -> selectorCost(d.selector());
      };
    }

    /** Points by id cost one each; a filter costs the expected number of points it selects. */
    private long selectorCost(PointsSelector selector) throws IOException {
      if (selector.ids() != null) {
        return Math.max(1, selector.ids().size());
      }
      Filter f = selector.filter();
      checkFilter(f, cfg.unindexedFilteringUpdate());
      long total = 0;
      for (Shard shard : col.localShards().values()) {
        total += shard.read(Shard.Reader::numDocs);
      }
      return Math.max(1, (long) Math.floor(estimate(f, total) * total));
    }

    private void vectorLimits(Vectors vectors) {
      vectors.byName().forEach((name, v) -> {
        Long maxVectors = cfg.maxVectors(name);
        if (maxVectors != null && v instanceof VectorInput.Multi m && m.rows().length > maxVectors) {
          throw ApiException.badRequest("Multivector '" + name + "' has a limit of " + maxVectors + " vectors, but "
              + m.rows().length + " were provided!");
        }
        Long maxLength = cfg.maxSparseLength(name);
        if (maxLength != null && v instanceof VectorInput.Sparse s && s.vector().indices().length > maxLength) {
          throw ApiException.badRequest("Sparse vector '" + name + "' has a limit of " + maxLength + " indices, but "
              + s.vector().indices().length + " were provided!");
        }
      });
    }

    void indexCount(String field) {
      Long max = cfg.maxPayloadIndexCount();
      if (max == null) {
        return;
      }
      boolean replaces = false;
      try {
        replaces = schema.get(JsonPath.parse(field)) != null;
      } catch (IllegalArgumentException e) {
        // the operation reports it
      }
      if (!replaces && schema.fields().size() >= max) {
        throw strict("Collection already has the maximum number of payload indices (" + max + ")",
            "Please delete an existing index before creating a new one.");
      }
    }

    private void size() throws IOException {
      Long vectorLimit = cfg.maxCollectionVectorSizeBytes();
      Long payloadLimit = cfg.maxCollectionPayloadSizeBytes();
      Long pointLimit = cfg.maxPointsCount();
      if (vectorLimit == null && payloadLimit == null && pointLimit == null) {
        return;
      }
      CollectionSize.Stats s = sizes.of(col, payloadLimit != null);
      if (vectorLimit != null && s.vectorBytes() >= vectorLimit) {
        throw ApiException.badRequest("Max vector storage size limit of " + mb(vectorLimit) + "MB reached!");
      }
      if (payloadLimit != null) {
        checkPayloadSize(s, payloadLimit);
      }
      if (pointLimit != null && s.points() >= pointLimit) {
        throw ApiException.badRequest("Max points count limit of " + pointLimit + " reached!");
      }
    }

    private void checkPayloadSize(CollectionSize.Stats s, long limit) {
      if (s.payloadBytes() >= limit) {
        throw ApiException.badRequest("Max payload storage size limit of " + mb(limit) + "MB reached!");
      }
    }

    /**
     * The expected fraction of points a filter selects, as Qdrant's cardinality estimation: a
     * condition on a key with a fitting index is counted exactly, any other is taken as half; must
     * multiplies, should combines as independent events, must_not complements.
     */
    double estimate(Filter f, long total) throws IOException {
      if (total == 0) {
        return 0;
      }
      double p = 1;
      if (f.must() != null) {
        for (Condition c : f.must()) {
          p *= fraction(c, total);
        }
      }
      p *= any(f.should(), total);
      if (f.minShould() != null) {
        p *= any(f.minShould().conditions(), total);
      }
      if (f.mustNot() != null) {
        for (Condition c : f.mustNot()) {
          p *= 1 - fraction(c, total);
        }
      }
      return p;
    }

    private double any(List<Condition> conditions, long total) throws IOException {
      if (conditions == null || conditions.isEmpty()) {
        return 1;
      }
      double none = 1;
      for (Condition c : conditions) {
        none *= 1 - fraction(c, total);
      }
      return 1 - none;
    }

    private double fraction(Condition c, long total) throws IOException {
      switch (c) {
        case Filter inner -> {
          return estimate(inner, total);
        }
        case Condition.HasId h -> {
          return Math.min(1.0, h.ids().size() / (double) total);
        }
        case Condition.Field field -> {
          FieldIndex index = schema.get(field.key());
          if (index != null && !Collections.disjoint(IndexCapabilities.capabilities(index), IndexCapabilities.required(field))) {
            var only = new Filter(List.of(c), null, null, null);
            long n = 0;
            for (Shard shard : col.localShards().values()) {
              n += shard.read(r -> r.count(only));
            }
            return n / (double) total;
          }
          return 0.5;
        }
        default -> {
          return 0.5;
        }
      }
    }
  }

  /** A vector's search cost: 1, a multivector its rows, a sparse vector one per 64 indices. */
  static long vectorCost(VectorInput v) {
    return switch (v) {
      case VectorInput.Multi m -> m.rows().length;
      case VectorInput.Sparse s -> (long) Math.ceil(s.vector().indices().length / SPARSE_DIMS_COST_UNIT);
      default -> 1;
    };
  }

  private static ApiException strict(String error, String help) {
    return ApiException.badRequest(error + ". Help: " + help);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && !Double.isInfinite(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** Megabytes as Qdrant prints an f32: shortest form, never in scientific notation. */
  private static String mb(long bytes) {
    float mb = (float) (bytes / (1024.0 * 1024.0));
    return mb == Math.rint(mb) ? Long.toString((long) mb) : new java.math.BigDecimal(Float.toString(mb)).toPlainString();
  }
}
