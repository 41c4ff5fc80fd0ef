package io.quiver.grpc;

import static io.quiver.grpc.FilterConvert.u64;
import static io.quiver.request.JsonFields.path;
import static io.quiver.request.QueryParser.clampLimit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.request.LegacyParser;
import io.quiver.request.Limits;
import io.quiver.request.PointParser;
import io.quiver.request.LookupLocation;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryOperation;
import io.quiver.request.QueryOperation.Shape;
import io.quiver.request.QueryParser;
import io.quiver.request.QueryRequest;
import io.quiver.request.SearchParams;
import io.quiver.request.Stage;
import io.quiver.request.Validation;
import io.quiver.request.VectorInput;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Qdrant's gRPC searches mapped onto the universal query, to the very {@link QueryRequest} REST's
 * parsers build for the same JSON: the legacy search, recommend and discover (and their batches and
 * groups) as {@code LegacyParser} translates them, the universal query, its batch and groups as
 * {@code QueryParser} does, with their bounds and wording (validation paths as {@code limit},
 * {@code internal.limit}, {@code searches[0].internal.limit}). Formulas (no vectors in them) are
 * written as REST's JSON and parsed by REST's parser; vectors go straight into the request.
 */
final class QueryConvert {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private QueryConvert() {}

  // ---- legacy searches ----

  static QueryOperation.Queries search(Points.SearchPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), List.of(search1(r)), Shape.POINTS,
        ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  static QueryOperation.Queries searchBatch(Points.SearchBatchPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), batch(r.getSearchPointsList(), QueryConvert::search1), Shape.POINTS_BATCH,
        ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  static QueryOperation.Groups searchGroups(Points.SearchPointGroups r) {
    var read = ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    JsonPath key = QueryParser.key(F.textNode(r.getGroupBy()), "group_by");
    int groupSize = groupSize(r.getGroupSize());
    var lookup = r.hasWithLookup() ? withLookup(r.getWithLookup()) : null;
    Nearest nearest = nearest(r.getVectorCount(), r::getVector, r.hasSparseIndices() ? r.getSparseIndices() : null,
        r.hasVectorName() ? r.getVectorName() : null);
    QueryRequest query = legacy(new Query.Nearest(nearest.input(), null), nearest.using(), null, Integer.toUnsignedLong(r.getLimit()), null,
        r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null, r.hasFilter() ? r.getFilter() : null,
        r.hasWithPayload() ? r.getWithPayload() : null, r.hasWithVectors() ? r.getWithVectors() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null);
    return new QueryOperation.Groups(r.getCollectionName(), new QueryGroupsRequest(query, key, groupSize, query.root().limitOrDefault(),
        lookup), true, read);
  }

  private static QueryRequest search1(Points.SearchPoints r) {
    Nearest nearest = nearest(r.getVectorCount(), r::getVector, r.hasSparseIndices() ? r.getSparseIndices() : null,
        r.hasVectorName() ? r.getVectorName() : null);
    return legacy(new Query.Nearest(nearest.input(), null), nearest.using(), null, r.getLimit(), r.hasOffset() ? r.getOffset() : null,
        r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null, r.hasFilter() ? r.getFilter() : null,
        r.hasWithPayload() ? r.getWithPayload() : null, r.hasWithVectors() ? r.getWithVectors() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null);
  }

  /** A legacy search's vector and the vector it searches. */
  private record Nearest(VectorInput input, String using) {}

  /** The i-th number of a message's repeated float field, read without boxing. */
  @FunctionalInterface
  private interface Floats {
    float at(int i);
  }

  /** {@code vector}, sparse with {@code sparse_indices} (then it must be named), searching {@code vector_name} ("" when absent). */
  private static Nearest nearest(int count, Floats values, Points.SparseIndices sparse, String name) {
    float[] data = new float[count];
    for (int i = 0; i < count; i++) {
      data[i] = values.at(i);
    }
    if (sparse == null) {
      return new Nearest(new VectorInput.Dense(data), name == null ? "" : name);
    }
    if (name == null) {
      throw PointConvert.invalid("Sparse vector must have a name specified");
    }
    int[] indices = new int[sparse.getDataCount()];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = sparse.getData(i);
    }
    return new Nearest(new VectorInput.Sparse(PointParser.sparse(indices, data, "vector.vector")), name);
  }

  static QueryOperation.Queries recommend(Points.RecommendPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), List.of(recommend1(r)), Shape.POINTS,
        ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  static QueryOperation.Queries recommendBatch(Points.RecommendBatchPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), batch(r.getRecommendPointsList(), QueryConvert::recommend1),
        Shape.POINTS_BATCH, ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  static QueryOperation.Groups recommendGroups(Points.RecommendPointGroups r) {
    var read = ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    JsonPath key = QueryParser.key(F.textNode(r.getGroupBy()), "group_by");
    int groupSize = groupSize(r.getGroupSize());
    var lookup = r.hasWithLookup() ? withLookup(r.getWithLookup()) : null;
    String using = r.hasUsing() ? r.getUsing() : "";
    Query query = LegacyParser.recommend(examples(r.getPositiveList(), r.getPositiveVectorsList(), "positive"),
        examples(r.getNegativeList(), r.getNegativeVectorsList(), "negative"),
        r.hasStrategy() ? strategy(r.getStrategy(), r.getStrategyValue()) : Query.RecommendStrategy.AVERAGE_VECTOR);
    QueryRequest request = legacy(query, using, r.hasLookupFrom() ? legacyLookup(r.getLookupFrom(), using) : null,
        Integer.toUnsignedLong(r.getLimit()), null, r.hasParams() ? r.getParams() : null,
        r.hasScoreThreshold() ? r.getScoreThreshold() : null, r.hasFilter() ? r.getFilter() : null,
        r.hasWithPayload() ? r.getWithPayload() : null, r.hasWithVectors() ? r.getWithVectors() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null);
    return new QueryOperation.Groups(r.getCollectionName(), new QueryGroupsRequest(request, key, groupSize,
        request.root().limitOrDefault(), lookup), true, read);
  }

  private static QueryRequest recommend1(Points.RecommendPoints r) {
    String using = r.hasUsing() ? r.getUsing() : "";
    Query query = LegacyParser.recommend(examples(r.getPositiveList(), r.getPositiveVectorsList(), "positive"),
        examples(r.getNegativeList(), r.getNegativeVectorsList(), "negative"),
        r.hasStrategy() ? strategy(r.getStrategy(), r.getStrategyValue()) : Query.RecommendStrategy.AVERAGE_VECTOR);
    return legacy(query, using, r.hasLookupFrom() ? legacyLookup(r.getLookupFrom(), using) : null, r.getLimit(),
        r.hasOffset() ? r.getOffset() : null, r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null,
        r.hasFilter() ? r.getFilter() : null, r.hasWithPayload() ? r.getWithPayload() : null,
        r.hasWithVectors() ? r.getWithVectors() : null, r.hasShardKeySelector() ? r.getShardKeySelector() : null);
  }

  /** Examples by id, then given as vectors, as Qdrant's gRPC API concatenates them. */
  private static List<VectorInput> examples(List<Points.PointId> ids, List<Points.Vector> vectors, String path) {
    List<VectorInput> out = new ArrayList<>(ids.size() + vectors.size());
    for (Points.PointId id : ids) {
      out.add(new VectorInput.Id(Values.id(id)));
    }
    for (Points.Vector v : vectors) {
      out.add(PointConvert.queryVector(v, path + "[" + out.size() + "]"));
    }
    return out;
  }

  private static Query.RecommendStrategy strategy(Points.RecommendStrategy s, int value) {
    return switch (s) {
      case AverageVector -> Query.RecommendStrategy.AVERAGE_VECTOR;
      case BestScore -> Query.RecommendStrategy.BEST_SCORE;
      case SumScores -> Query.RecommendStrategy.SUM_SCORES;
      case UNRECOGNIZED -> throw PointConvert.invalid("Unknown recommend strategy: " + value);
    };
  }

  /** A legacy {@code lookup_from}: without a vector name, the searched vector's. */
  private static LookupLocation legacyLookup(Points.LookupLocation l, String using) {
    return new LookupLocation(l.getCollectionName(), l.hasVectorName() ? l.getVectorName() : using);
  }

  static QueryOperation.Queries discover(Points.DiscoverPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), List.of(discover1(r)), Shape.POINTS,
        ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  static QueryOperation.Queries discoverBatch(Points.DiscoverBatchPoints r) {
    return new QueryOperation.Queries(r.getCollectionName(), batch(r.getDiscoverPointsList(), QueryConvert::discover1),
        Shape.POINTS_BATCH, ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null));
  }

  private static QueryRequest discover1(Points.DiscoverPoints r) {
    String using = r.hasUsing() ? r.getUsing() : "";
    VectorInput target = null;
    if (r.hasTarget()) {
      if (r.getTarget().getTargetCase() != Points.TargetVector.TargetCase.SINGLE) {
        throw PointConvert.invalid("Target vector is malformed");
      }
      target = example(r.getTarget().getSingle(), "target");
    }
    List<Query.ContextPair> pairs = new ArrayList<>(r.getContextCount());
    for (int i = 0; i < r.getContextCount(); i++) {
      Points.ContextExamplePair pair = r.getContext(i);
      if (!pair.hasPositive() || !pair.hasNegative()) {
        throw PointConvert.invalid("Both positive and negative are required in a context pair");
      }
      pairs.add(new Query.ContextPair(example(pair.getPositive(), "context[" + i + "].positive"),
          example(pair.getNegative(), "context[" + i + "].negative")));
    }
    return legacy(LegacyParser.discover(target, pairs), using, r.hasLookupFrom() ? legacyLookup(r.getLookupFrom(), using) : null,
        r.getLimit(), r.hasOffset() ? r.getOffset() : null, r.hasParams() ? r.getParams() : null, null,
        r.hasFilter() ? r.getFilter() : null, r.hasWithPayload() ? r.getWithPayload() : null,
        r.hasWithVectors() ? r.getWithVectors() : null, r.hasShardKeySelector() ? r.getShardKeySelector() : null);
  }

  private static VectorInput example(Points.VectorExample e, String path) {
    return switch (e.getExampleCase()) {
      case ID -> new VectorInput.Id(Values.id(e.getId()));
      case VECTOR -> PointConvert.queryVector(e.getVector(), path);
      case EXAMPLE_NOT_SET -> throw PointConvert.invalid("Vector example, which can be id or bare vector, is malformed");
    };
  }

  /**
   * The parts every legacy search shares, checked as {@code LegacyParser} checks them: a limit of
   * at least 1, an offset, {@code hnsw_ef} up to 100000, a threshold, a filter, what to return.
   */
  private static QueryRequest legacy(Query query, String using, LookupLocation lookup, long limit, Long offset, Points.SearchParams params,
      Float threshold, Points.Filter filter, Points.WithPayloadSelector withPayload, Points.WithVectorsSelector withVectors,
      Points.ShardKeySelector shardKey) {
    var v = Validation.body();
    Long checkedLimit = v.count(u64(limit), "limit", 1);
    Long checkedOffset = offset == null ? null : v.count(u64(offset), "offset", 0);
    Long ef = params != null && params.hasHnswEf() ? v.range(u64(params.getHnswEf()), "params.hnsw_ef", 0, 100_000) : null;
    v.throwIfAny();
    Filter f = filter == null ? null : FilterConvert.filter(filter, "filter");
    Stage root = new Stage(List.of(), query, using, f, params == null ? SearchParams.DEFAULT : searchParams(params, ef), threshold,
        clampLimit(checkedLimit), lookup);
    return new QueryRequest(root, checkedOffset == null ? 0 : clampLimit(checkedOffset), PointConvert.withPayload(withPayload, false),
        PointConvert.withVector(withVectors), PointConvert.shardKey(shardKey));
  }

  /** Requests of a legacy batch, each checked as if alone (as REST's). */
  private static <M> List<QueryRequest> batch(List<M> requests, Function<M, QueryRequest> one) {
    Limits.atMost(requests.size(), Limits.MAX_BATCH_SEARCHES, "searches");
    List<QueryRequest> out = new ArrayList<>(requests.size());
    for (M r : requests) {
      out.add(one.apply(r));
    }
    return out;
  }

  private static int groupSize(int raw) {
    var v = Validation.body();
    Long size = v.range(u64(Integer.toUnsignedLong(raw)), "group_size", 1, 100_000);
    v.throwIfAny();
    return size.intValue();
  }

  // ---- the universal query ----

  static QueryOperation.Queries query(Points.QueryPoints r) {
    var read = ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    var v = Validation.body();
    QueryRequest request = query1(r, "", "internal", v);
    v.throwIfAny();
    return new QueryOperation.Queries(r.getCollectionName(), List.of(request), Shape.QUERY, read);
  }

  static QueryOperation.Queries queryBatch(Points.QueryBatchPoints r) {
    var read = ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    Limits.atMost(r.getQueryPointsCount(), Limits.MAX_BATCH_SEARCHES, "searches");
    var v = Validation.body();
    List<QueryRequest> out = new ArrayList<>(r.getQueryPointsCount());
    for (int i = 0; i < r.getQueryPointsCount(); i++) {
      String at = "searches[" + i + "]";
      out.add(query1(r.getQueryPoints(i), at, at + ".internal", v));
    }
    v.throwIfAny();
    return new QueryOperation.Queries(r.getCollectionName(), out, Shape.QUERY_BATCH, read);
  }

  static QueryOperation.Groups queryGroups(Points.QueryPointGroups r) {
    var read = ReadConvert.read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    JsonPath key = QueryParser.key(F.textNode(r.getGroupBy()), "group_by");
    var v = Validation.body();
    Long size = r.hasGroupSize() ? v.count(u64(r.getGroupSize()), "search_group_request.group_request.group_size", 1) : null;
    Long limit = r.hasLimit() ? v.count(u64(r.getLimit()), "search_group_request.group_request.limit", 1) : null;
    Stage root = stage(Parts.of(r), "", "search_group_request", v, false);
    QueryRequest request = new QueryRequest(root, 0, PointConvert.withPayload(r.hasWithPayload() ? r.getWithPayload() : null, false),
        PointConvert.withVector(r.hasWithVectors() ? r.getWithVectors() : null),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null));
    v.throwIfAny();
    return new QueryOperation.Groups(r.getCollectionName(), new QueryGroupsRequest(request, key,
        size == null ? QueryParser.DEFAULT_GROUP_SIZE : clampLimit(size), limit == null ? Stage.DEFAULT_LIMIT : clampLimit(limit),
        r.hasWithLookup() ? withLookup(r.getWithLookup()) : null), false, read);
  }

  private static QueryRequest query1(Points.QueryPoints r, String at, String vpath, Validation v) {
    Stage root = stage(Parts.of(r), at, vpath, v, true);
    Long offset = r.hasOffset() ? v.count(u64(r.getOffset()), vpath + ".offset", 0) : null;
    return new QueryRequest(root, offset == null ? 0 : clampLimit(offset),
        PointConvert.withPayload(r.hasWithPayload() ? r.getWithPayload() : null, false),
        PointConvert.withVector(r.hasWithVectors() ? r.getWithVectors() : null),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null));
  }

  /** What a query, a prefetch and a grouped query have in common: one stage; absent parts are null. */
  private record Parts(List<Points.PrefetchQuery> prefetch, Points.Query query, String using, Points.Filter filter,
      Points.SearchParams params, Float threshold, Long limit, Points.LookupLocation lookup) {
    static Parts of(Points.QueryPoints r) {
      return new Parts(r.getPrefetchList(), r.hasQuery() ? r.getQuery() : null, r.hasUsing() ? r.getUsing() : null,
          r.hasFilter() ? r.getFilter() : null, r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null,
          r.hasLimit() ? r.getLimit() : null, r.hasLookupFrom() ? r.getLookupFrom() : null);
    }

    static Parts of(Points.PrefetchQuery r) {
      return new Parts(r.getPrefetchList(), r.hasQuery() ? r.getQuery() : null, r.hasUsing() ? r.getUsing() : null,
          r.hasFilter() ? r.getFilter() : null, r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null,
          r.hasLimit() ? r.getLimit() : null, r.hasLookupFrom() ? r.getLookupFrom() : null);
    }

    /** A grouped query's stage: its {@code limit} counts groups, not points. */
    static Parts of(Points.QueryPointGroups r) {
      return new Parts(r.getPrefetchList(), r.hasQuery() ? r.getQuery() : null, r.hasUsing() ? r.getUsing() : null,
          r.hasFilter() ? r.getFilter() : null, r.hasParams() ? r.getParams() : null, r.hasScoreThreshold() ? r.getScoreThreshold() : null,
          null, r.hasLookupFrom() ? r.getLookupFrom() : null);
    }
  }

  private static Stage stage(Parts p, String at, String vpath, Validation v, boolean withLimit) {
    List<Stage> prefetch = new ArrayList<>(p.prefetch().size());
    for (int i = 0; i < p.prefetch().size(); i++) {
      prefetch.add(stage(Parts.of(p.prefetch().get(i)), path(at, "prefetch[" + i + "]"), vpath + ".prefetch[" + i + "]", v, true));
    }
    Query query = p.query() == null ? null : query(p.query(), path(at, "query"), vpath + ".query", v);
    Filter filter = p.filter() == null ? null : FilterConvert.filter(p.filter(), path(at, "filter"));
    SearchParams params = p.params() == null ? SearchParams.DEFAULT
        : searchParams(p.params(), p.params().hasHnswEf() ? v.count(u64(p.params().getHnswEf()), vpath + ".params.hnsw_ef", 0) : null);
    Long limit = withLimit && p.limit() != null ? v.count(u64(p.limit()), vpath + ".limit", 1) : null;
    LookupLocation lookup = p.lookup() == null ? null
        : new LookupLocation(p.lookup().getCollectionName(), p.lookup().hasVectorName() ? p.lookup().getVectorName() : null);
    return new Stage(prefetch, query, p.using(), filter, params, p.threshold(), limit == null ? null : clampLimit(limit), lookup);
  }

  private static Query query(Points.Query q, String at, String vpath, Validation v) {
    return switch (q.getVariantCase()) {
      case NEAREST -> new Query.Nearest(PointConvert.input(q.getNearest(), at + ".nearest"), null);
      case NEAREST_WITH_MMR -> {
        Points.NearestInputWithMmr n = q.getNearestWithMmr();
        if (!n.hasNearest()) {
          throw PointConvert.invalid("nearest vector is missing");
        }
        VectorInput nearest = PointConvert.input(n.getNearest(), at + ".nearest");
        if (!n.hasMmr()) {
          throw PointConvert.invalid("mmr is missing");
        }
        Points.Mmr m = n.getMmr();
        yield new Query.Nearest(nearest, QueryParser.mmr(m.hasDiversity() ? m.getDiversity() : null,
            m.hasCandidatesLimit() ? Integer.toUnsignedLong(m.getCandidatesLimit()) : null, vpath + ".mmr", v));
      }
      case RECOMMEND -> {
        Points.RecommendInput r = q.getRecommend();
        // an unknown strategy is the default, as Qdrant's gRPC API takes it
        Query.RecommendStrategy strategy = !r.hasStrategy() || r.getStrategy() == Points.RecommendStrategy.UNRECOGNIZED
            ? Query.RecommendStrategy.AVERAGE_VECTOR : strategy(r.getStrategy(), r.getStrategyValue());
        yield QueryParser.recommend(inputs(r.getPositiveList(), at + ".recommend.positive"),
            inputs(r.getNegativeList(), at + ".recommend.negative"), strategy, vpath + ".recommend", v);
      }
      case DISCOVER -> {
        Points.DiscoverInput d = q.getDiscover();
        if (!d.hasTarget()) {
          throw PointConvert.invalid("DiscoverInput target is missing");
        }
        VectorInput target = PointConvert.input(d.getTarget(), at + ".discover.target");
        if (!d.hasContext()) {
          throw PointConvert.invalid("DiscoverInput context is missing");
        }
        yield new Query.Discover(target, pairs(d.getContext(), at + ".discover.context"));
      }
      case CONTEXT -> new Query.Context(pairs(q.getContext(), at + ".context"));
      case ORDER_BY -> new Query.OrderByQuery(ReadConvert.orderBy(q.getOrderBy()));
      case FUSION -> switch (q.getFusion()) {
        case RRF -> new Query.Fusion(false, Query.Fusion.DEFAULT_RRF_K);
        case DBSF -> new Query.Fusion(true, Query.Fusion.DEFAULT_RRF_K);
        case UNRECOGNIZED -> throw PointConvert.invalid("invalid fusion type value " + q.getFusionValue());
      };
      case SAMPLE -> switch (q.getSample()) {
        case Random -> new Query.Sample();
        case UNRECOGNIZED -> throw PointConvert.invalid("invalid sample type value " + q.getSampleValue());
      };
      case FORMULA -> formula(q.getFormula(), at);
      case VARIANT_NOT_SET -> {
        NewerPointFields.Rrf rrf = NewerPointFields.rrf(q);
        if (rrf == null) {
          throw PointConvert.invalid("Query variant is missing");
        }
        Long k = rrf.k() == null ? null : v.count(u64(rrf.k()), vpath + ".rrf.k", 1);
        yield new Query.Fusion(false, k == null ? Query.Fusion.DEFAULT_RRF_K : clampLimit(k));
      }
    };
  }

  private static List<VectorInput> inputs(List<Points.VectorInput> inputs, String path) {
    List<VectorInput> out = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      out.add(PointConvert.input(inputs.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  private static List<Query.ContextPair> pairs(Points.ContextInput context, String path) {
    List<Query.ContextPair> out = new ArrayList<>(context.getPairsCount());
    for (int i = 0; i < context.getPairsCount(); i++) {
      Points.ContextInputPair pair = context.getPairs(i);
      if (!pair.hasPositive()) {
        throw PointConvert.invalid("ContextPair positive is missing");
      }
      if (!pair.hasNegative()) {
        throw PointConvert.invalid("ContextPair negative is missing");
      }
      out.add(new Query.ContextPair(PointConvert.input(pair.getPositive(), path + "[" + i + "].positive"),
          PointConvert.input(pair.getNegative(), path + "[" + i + "].negative")));
    }
    return out;
  }

  /** Search {@code params} with an already checked {@code hnsw_ef}, as REST's. */
  private static SearchParams searchParams(Points.SearchParams p, Long ef) {
    return new SearchParams(ef == null ? null : clampLimit(ef), p.hasExact() && p.getExact(),
        p.hasQuantization() && p.getQuantization().hasOversampling() ? p.getQuantization().getOversampling() : null);
  }

  private static QueryGroupsRequest.WithLookup withLookup(Points.WithLookup l) {
    return new QueryGroupsRequest.WithLookup(l.getCollection(), PointConvert.withPayload(l.hasWithPayload() ? l.getWithPayload() : null, true),
        PointConvert.withVector(l.hasWithVectors() ? l.getWithVectors() : null));
  }

  // ---- formulas, as REST's JSON ----

  private static Query.Formula formula(Points.Formula f, String at) {
    if (!f.hasExpression()) {
      throw PointConvert.invalid("missing field: expression");
    }
    ObjectNode json = F.objectNode();
    json.set("formula", expression(f.getExpression()));
    if (f.getDefaultsCount() > 0) {
      json.set("defaults", Values.json(f.getDefaultsMap()));
    }
    return QueryParser.formula(json, at);
  }

  private static JsonNode expression(Points.Expression e) {
    return switch (e.getVariantCase()) {
      case CONSTANT -> F.numberNode(e.getConstant());
      case VARIABLE -> F.textNode(e.getVariable());
      case CONDITION -> {
        JsonNode condition = FilterConvert.condition(e.getCondition());
        if (condition == null) {
          throw PointConvert.invalid("missing field: condition");
        }
        yield condition;
      }
      case GEO_DISTANCE -> {
        if (!e.getGeoDistance().hasOrigin()) {
          throw PointConvert.invalid("missing field: origin");
        }
        Points.GeoPoint o = e.getGeoDistance().getOrigin();
        ObjectNode g = F.objectNode();
        g.putObject("geo_distance").put("to", e.getGeoDistance().getTo()).putObject("origin").put("lon", o.getLon()).put("lat", o.getLat());
        yield g;
      }
      case DATETIME -> F.objectNode().put("datetime", e.getDatetime());
      case DATETIME_KEY -> F.objectNode().put("datetime_key", e.getDatetimeKey());
      case MULT -> nary("mult", e.getMult().getMultList());
      case SUM -> nary("sum", e.getSum().getSumList());
      case DIV -> {
        Points.DivExpression d = e.getDiv();
        if (!d.hasLeft()) {
          throw PointConvert.invalid("missing field: left");
        }
        if (!d.hasRight()) {
          throw PointConvert.invalid("missing field: right");
        }
        ObjectNode div = F.objectNode();
        ObjectNode args = div.putObject("div");
        args.set("left", expression(d.getLeft()));
        args.set("right", expression(d.getRight()));
        if (d.hasByZeroDefault()) {
          args.put("by_zero_default", d.getByZeroDefault());
        }
        yield div;
      }
      case NEG -> unary("neg", e.getNeg());
      case ABS -> unary("abs", e.getAbs());
      case SQRT -> unary("sqrt", e.getSqrt());
      case EXP -> unary("exp", e.getExp());
      case LOG10 -> unary("log10", e.getLog10());
      case LN -> unary("ln", e.getLn());
      case POW -> {
        Points.PowExpression p = e.getPow();
        if (!p.hasBase()) {
          throw PointConvert.invalid("missing field: base");
        }
        if (!p.hasExponent()) {
          throw PointConvert.invalid("missing field: exponent");
        }
        ObjectNode pow = F.objectNode();
        pow.putObject("pow").<ObjectNode>set("base", expression(p.getBase())).set("exponent", expression(p.getExponent()));
        yield pow;
      }
      case EXP_DECAY -> decay("exp_decay", e.getExpDecay());
      case GAUSS_DECAY -> decay("gauss_decay", e.getGaussDecay());
      case LIN_DECAY -> decay("lin_decay", e.getLinDecay());
      case VARIANT_NOT_SET -> throw PointConvert.invalid("missing field: variant");
    };
  }

  private static ObjectNode nary(String name, List<Points.Expression> args) {
    ObjectNode out = F.objectNode();
    var list = out.putArray(name);
    args.forEach(a -> list.add(expression(a)));
    return out;
  }

  private static ObjectNode unary(String name, Points.Expression arg) {
    return F.objectNode().set(name, expression(arg));
  }

  private static ObjectNode decay(String name, Points.DecayParamsExpression d) {
    if (!d.hasX()) {
      throw PointConvert.invalid("missing field: x");
    }
    ObjectNode out = F.objectNode();
    ObjectNode params = out.putObject(name);
    params.set("x", expression(d.getX()));
    if (d.hasTarget()) {
      params.set("target", expression(d.getTarget()));
    }
    if (d.hasScale()) {
      params.put("scale", d.getScale());
    }
    if (d.hasMidpoint()) {
      params.put("midpoint", d.getMidpoint());
    }
    return out;
  }
}
