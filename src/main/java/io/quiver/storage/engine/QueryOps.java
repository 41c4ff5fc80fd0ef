package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Distance;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Fields;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.SparseSearch;
import io.quiver.engine.SparseSpec;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Datetimes;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.Geo;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.OrderBy;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * Qdrant's universal query API: {@code /points/query}, {@code /points/query/batch} and
 * {@code /points/query/groups}.
 *
 * <p>A request is a tree of stages: the request itself and its prefetches, each with an optional
 * query, filter, limit and score threshold. As in Qdrant's planner, a stage without prefetches
 * searches the collection (a vector query), scrolls it by id (no query), orders it by a payload key
 * or samples it, under its own filter and all its ancestors' filters; a stage with prefetches scores
 * the union of their candidates: an exact search restricted to their ids, an order_by or a sample
 * of them, or a fusion (rrf, dbsf), a formula or MMR over the candidate lists. Point ids given as
 * examples are read first (from {@code lookup_from} if set) and excluded from the results when they
 * come from this collection. A request runs on one reader of the shard, so doc ids stay valid.
 */
final class QueryOps {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int DEFAULT_LIMIT = 10;
  private static final int DEFAULT_GROUP_SIZE = 3;
  private static final int DEFAULT_RRF_K = 2;
  private static final int MAX_PREFETCH_DEPTH = 64;
  private static final int MAX_MMR_CANDIDATES = 16_384;
  private static final float DEFAULT_MMR_LAMBDA = 0.5f;
  private static final Set<String> STRATEGIES = Set.of("average_vector", "best_score", "sum_scores");
  private static final Set<String> FILTER_FIELDS = Set.of("must", "should", "must_not", "min_should");
  private static final List<String> CONDITION_FIELDS = List.of("key", "is_empty", "is_null", "has_id", "has_vector", "nested");
  private static final List<String> UNARY = List.of("neg", "abs", "sqrt", "exp", "log10", "ln");

  private final Catalogue catalogue;

  QueryOps(Catalogue catalogue) {
    this.catalogue = catalogue;
  }

  // ---- the request, as parsed ----

  /** A vector given in a query: dense, sparse, or the id of a point whose vector to use. */
  private sealed interface Input permits DenseInput, MultiInput, SparseInput, IdInput, Resolved {}

  private record DenseInput(float[] values) implements Input {}

  /** A multivector as given: parsed against the searched vector's config once it is known. */
  private record MultiInput(JsonNode rows, String at) implements Input {}

  private record SparseInput(SparseVector vector) implements Input {}

  private record IdInput(PointId id) implements Input {}

  /** An example read from a point: its vector (float[] or SparseVector), or null when the point lacks {@code name}. */
  private record Resolved(Object vector, String name) implements Input {}

  private sealed interface Kind permits Nearest, Recommend, Discover, Context, OrderByQuery, Fusion, Formula, Sample {}

  private record Nearest(Input vector, Mmr mmr) implements Kind {}

  /** Maximal marginal relevance: null parts take their defaults. */
  private record Mmr(Float diversity, Integer candidatesLimit) {}

  private record Recommend(List<Input> positive, List<Input> negative, String strategy) implements Kind {}

  /** Discovery: a target and context pairs, flattened (positive, negative, positive, ...). */
  private record Discover(Input target, List<Input> pairs) implements Kind {}

  private record Context(List<Input> pairs) implements Kind {}

  private record OrderByQuery(EngineStorageService.OrderSpec spec) implements Kind {}

  private record Fusion(boolean dbsf, int k) implements Kind {}

  private record Formula(Expr expr, ObjectNode defaults, List<Filter> conditions) implements Kind {}

  private record Sample() implements Kind {}

  private record Lookup(String collection, String vector) {}

  /** One level of the request: the request itself or one of its prefetches. */
  private record Stage(List<Stage> prefetch, Kind query, String using, Filter filter, Integer ef, boolean exact, Float threshold,
      int limit, Lookup lookup) {}

  private record Request(Stage root, int offset, PointRequests.Selection selection) {}

  // ---- entry points ----

  JsonNode query(Collection col, ObjectNode body) throws IOException {
    var v = Validation.body();
    Request req = request(body, "", "internal", col.schema(), v, false);
    v.throwIfAny();
    return F.objectNode().set("points", run(col, req));
  }

  /** {@code {"searches": [...]}}: every request is parsed and validated before any runs. */
  JsonNode batch(Collection col, ObjectNode body) throws IOException {
    JsonNode searches = body.get("searches");
    if (searches == null || !searches.isArray()) {
      throw ApiException.formatError("missing field `searches`");
    }
    Limits.atMost(searches, Limits.MAX_BATCH_SEARCHES, "searches");
    var v = Validation.body();
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < searches.size(); i++) {
      String at = "searches[" + i + "]";
      requests.add(request(CollectionConfigs.object(searches.get(i), at), at, at + ".internal", col.schema(), v, false));
    }
    v.throwIfAny();
    ArrayNode out = F.arrayNode();
    for (Request req : requests) {
      out.addObject().set("points", run(col, req));
    }
    return out;
  }

  /**
   * Grouped query: the query's results grouped by a payload key as in grouped search. Like Qdrant,
   * points without the key are filtered out and prefetch limits are multiplied by the group size;
   * the root limit is widened until the groups are full or the candidates run out.
   */
  JsonNode groups(Collection col, ObjectNode body) throws IOException {
    CollectionSchema schema = col.schema();
    JsonNode groupBy = body.get("group_by");
    if (groupBy == null || !groupBy.isTextual()) {
      throw ApiException.formatError("missing field `group_by`");
    }
    JsonPath key = EngineStorageService.orderKey(groupBy, "group_by");
    var v = Validation.body();
    Long sizeValue = v.count(body.get("group_size"), "search_group_request.group_request.group_size", 1);
    Long limitValue = v.count(body.get("limit"), "search_group_request.group_request.limit", 1);
    Request req = request(body, "", "search_group_request", schema, v, true);
    v.throwIfAny();
    int groups = limitValue == null ? DEFAULT_LIMIT : clamp(limitValue);
    int size = sizeValue == null ? DEFAULT_GROUP_SIZE : clamp(sizeValue);
    EngineStorageService.GroupLookup lookup = EngineStorageService.groupLookup(catalogue, body);
    Filter hasKey = PointOps.filter(F.objectNode().set("must_not",
        F.arrayNode().add(F.objectNode().set("is_empty", F.objectNode().put("key", key.toString())))), "filter");
    Resolution resolution = resolve(col, req.root(), hasKey);
    int first = clamp(Math.max(32L, (long) groups * size * 2));
    plan(schema, resolution, first, size); // fails early on an invalid request
    Map<Object, ArrayNode> found = col.shard.read(r -> {
      int k = first;
      while (true) {
        List<Hit> hits = execute(r, plan(schema, resolution, k, size), k);
        var out = EngineStorageService.groupHits(r, hits, Hit::doc, key, groups, size);
        if (EngineStorageService.full(out, groups, size) || hits.size() < k || k >= r.numDocs() || k >= SearchOps.MAX_LIMIT) {
          Map<Object, ArrayNode> rendered = new LinkedHashMap<>();
          for (var e : out.entrySet()) {
            rendered.put(e.getKey(), render(r, e.getValue(), 0, size, req.selection()));
          }
          return rendered;
        }
        k = clamp((long) k * 4);
      }
    });
    ObjectNode result = F.objectNode();
    ArrayNode list = result.putArray("groups");
    for (var e : found.entrySet()) {
      ObjectNode group = list.addObject();
      group.set("hits", e.getValue());
      group.set("id", e.getKey() instanceof Long n ? F.numberNode(n) : F.textNode(e.getKey().toString()));
      if (lookup != null) {
        lookup.addTo(group, e.getKey());
      }
    }
    return result;
  }

  private ArrayNode run(Collection col, Request req) throws IOException {
    Stage root = req.root();
    int limit = root.limit();
    // Qdrant ignores the offset of a random sample of the whole collection: its order is not stable anyway
    int offset = root.query() instanceof Sample && root.prefetch().isEmpty() ? 0 : req.offset();
    Plan plan = plan(col.schema(), resolve(col, root, null), limit + offset, 1);
    return col.shard.read(r -> render(r, execute(r, plan, limit), offset, offset + limit, req.selection()));
  }

  // ---- parsing ----

  /**
   * @param at the JSON path of the request, for format errors ("" at the top)
   * @param vpath Qdrant's path of the request in validation errors ({@code internal}, ...)
   * @param groups whether this is a grouped query (its {@code limit} counts groups)
   */
  private static Request request(ObjectNode body, String at, String vpath, CollectionSchema schema, Validation v,
      boolean groups) {
    Stage root = stage(body, at, vpath, v, !groups);
    Long offset = groups ? null : v.count(body.get("offset"), vpath + ".offset", 0);
    var selection = PointRequests.selection(body.get("with_payload"), EngineStorageService.withVector(body), false, schema);
    return new Request(root, offset == null ? 0 : clamp(offset), selection);
  }

  private static Stage stage(JsonNode node, String at, String vpath, Validation v, boolean withLimit) {
    ObjectNode n = CollectionConfigs.object(node, at.isEmpty() ? "body" : at);
    List<Stage> prefetch = new ArrayList<>();
    JsonNode p = Changes.field(n, "prefetch");
    if (p != null) {
      List<JsonNode> items = new ArrayList<>();
      if (p.isArray()) {
        p.forEach(items::add);
      } else {
        items.add(p);
      }
      for (int i = 0; i < items.size(); i++) {
        prefetch.add(stage(items.get(i), path(at, "prefetch[" + i + "]"), vpath + ".prefetch[" + i + "]", v, true));
      }
    }
    JsonNode q = Changes.field(n, "query");
    Kind query = q == null ? null : kind(q, path(at, "query"), vpath + ".query", v);
    JsonNode using = Changes.field(n, "using");
    if (using != null && !using.isTextual()) {
      throw ApiException.formatError(path(at, "using") + ": invalid type: " + Validation.kind(using) + ", expected a string");
    }
    Filter filter = Changes.field(n, "filter") == null ? null : PointOps.filter(n.get("filter"), path(at, "filter"));
    JsonNode params = Changes.field(n, "params");
    Long ef = params == null ? null : v.count(params.get("hnsw_ef"), vpath + ".params.hnsw_ef", 0);
    boolean exact = params != null && params.path("exact").asBoolean(false);
    JsonNode t = Changes.field(n, "score_threshold");
    if (t != null && !t.isNumber()) {
      throw ApiException.formatError(path(at, "score_threshold") + ": invalid type: " + Validation.kind(t) + ", expected f32");
    }
    Long limit = withLimit ? v.count(n.get("limit"), vpath + ".limit", 1) : null;
    Lookup lookup = null;
    JsonNode l = Changes.field(n, "lookup_from");
    if (l != null) {
      ObjectNode lo = CollectionConfigs.object(l, path(at, "lookup_from"));
      if (!lo.path("collection").isTextual()) {
        throw ApiException.formatError(path(at, "lookup_from") + ": missing field `collection`");
      }
      JsonNode vector = Changes.field(lo, "vector");
      lookup = new Lookup(lo.get("collection").textValue(), vector == null ? null : vector.asText());
    }
    return new Stage(prefetch, query, using == null ? "" : using.textValue(), filter,
        ef == null ? null : clamp(ef), exact, t == null ? null : t.floatValue(), limit == null ? DEFAULT_LIMIT : clamp(limit), lookup);
  }

  private static String path(String at, String field) {
    return at.isEmpty() ? field : at + "." + field;
  }

  private static int clamp(long n) {
    return (int) Math.min(n, SearchOps.MAX_LIMIT);
  }

  /** Qdrant's {@code QueryInterface}: a vector input (nearest), or one of the query objects. */
  private static Kind kind(JsonNode q, String at, String vpath, Validation v) {
    Input direct = input(q, at);
    if (direct != null) {
      return new Nearest(direct, null);
    }
    if (q.isObject()) {
      if (q.has("nearest")) {
        return new Nearest(requiredInput(q.get("nearest"), at + ".nearest"), mmr(Changes.field(q, "mmr"), at + ".mmr", vpath + ".mmr", v));
      }
      if (q.has("recommend")) {
        return recommend(q.get("recommend"), at + ".recommend", vpath + ".recommend", v);
      }
      if (q.has("discover")) {
        ObjectNode d = CollectionConfigs.object(q.get("discover"), at + ".discover");
        for (String field : List.of("target", "context")) {
          if (!d.has(field)) {
            throw ApiException.formatError(at + ".discover: missing field `" + field + "`");
          }
        }
        return new Discover(requiredInput(d.get("target"), at + ".discover.target"), pairs(d.get("context"), at + ".discover.context"));
      }
      if (q.has("context")) {
        return new Context(pairs(q.get("context"), at + ".context"));
      }
      if (q.has("order_by")) {
        return new OrderByQuery(EngineStorageService.orderSpec(q.get("order_by")));
      }
      if (q.has("fusion")) {
        String f = q.get("fusion").asText();
        if (!f.equals("rrf") && !f.equals("dbsf")) {
          throw ApiException.formatError(at + ".fusion: unknown variant `" + f + "`, expected `rrf` or `dbsf`");
        }
        return new Fusion(f.equals("dbsf"), DEFAULT_RRF_K);
      }
      if (q.has("rrf")) {
        JsonNode rrf = q.get("rrf");
        Long k = rrf == null || rrf.isNull() ? null : v.count(CollectionConfigs.object(rrf, at + ".rrf").get("k"), vpath + ".rrf.k", 1);
        return new Fusion(false, k == null ? DEFAULT_RRF_K : clamp(k));
      }
      if (q.has("formula")) {
        List<Filter> conditions = new ArrayList<>();
        Expr e = expr(q.get("formula"), at + ".formula", conditions);
        JsonNode d = Changes.field(q, "defaults");
        return new Formula(e, d == null ? F.objectNode() : CollectionConfigs.object(d, at + ".defaults"), conditions);
      }
      if (q.has("sample")) {
        if (!q.get("sample").asText().equals("random")) {
          throw ApiException.formatError(at + ".sample: unknown variant `" + q.get("sample").asText() + "`, expected `random`");
        }
        return new Sample();
      }
    }
    throw ApiException.formatError(at + ": Expected some form of vector, id, or a type of query");
  }

  /** Qdrant's {@code VectorInput}, or null when {@code n} is none of its forms. */
  private static Input input(JsonNode n, String at) {
    if (n.isArray()) {
      if (!n.isEmpty() && n.get(0).isArray()) {
        return new MultiInput(n, at);
      }
      float[] values = new float[n.size()];
      for (int i = 0; i < values.length; i++) {
        if (!n.get(i).isNumber()) {
          throw ApiException.formatError(at + "[" + i + "]: invalid type: " + Validation.kind(n.get(i)) + ", expected f32");
        }
        values[i] = n.get(i).floatValue();
      }
      return new DenseInput(values);
    }
    if (n.isIntegralNumber() || n.isTextual()) {
      try {
        return new IdInput(PointId.parse(n));
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    if (n.isObject() && (n.has("indices") || n.has("values"))) {
      return new SparseInput(PointRequests.sparse(n, at));
    }
    if (n.isObject() && n.path("model").isTextual() && io.quiver.engine.filter.Bm25.isModel(n.get("model").textValue())) {
      return new SparseInput(PointRequests.bm25((com.fasterxml.jackson.databind.node.ObjectNode) n, at, true));
    }
    if (n.isObject() && n.has("model") && (n.has("text") || n.has("image") || n.has("object"))) {
      // what Qdrant answers when no inference service is configured
      throw serviceError("InferenceService is not initialized. "
          + "Please check if it was properly configured and initialized during startup.");
    }
    return null;
  }

  private static Input requiredInput(JsonNode n, String at) {
    Input in = n == null ? null : input(n, at);
    if (in == null) {
      throw ApiException.formatError(at + ": data did not match any variant of untagged enum VectorInput");
    }
    return in;
  }

  private static List<Input> inputs(JsonNode n, String at) {
    List<Input> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      throw ApiException.formatError(at + ": invalid type: " + Validation.kind(n) + ", expected a sequence");
    }
    for (int i = 0; i < n.size(); i++) {
      out.add(requiredInput(n.get(i), at + "[" + i + "]"));
    }
    return out;
  }

  private static Recommend recommend(JsonNode node, String at, String vpath, Validation v) {
    ObjectNode r = CollectionConfigs.object(node, at);
    List<Input> positive = inputs(r.get("positive"), at + ".positive");
    List<Input> negative = inputs(r.get("negative"), at + ".negative");
    JsonNode s = Changes.field(r, "strategy");
    if (s != null && !STRATEGIES.contains(s.asText())) {
      throw ApiException.formatError(at + ".strategy: unknown variant `" + s.asText()
          + "`, expected one of `average_vector`, `best_score`, `sum_scores`");
    }
    if (positive.isEmpty() && negative.isEmpty()) {
      v.add(vpath + ".positives, negatives", "Validation error: At least one positive or negative vector/id must be provided [{}]");
    }
    return new Recommend(positive, negative, s == null ? "average_vector" : s.asText());
  }

  /** Context pairs (one pair or a list), flattened. */
  private static List<Input> pairs(JsonNode n, String at) {
    List<Input> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    List<JsonNode> items = new ArrayList<>();
    if (n.isArray()) {
      n.forEach(items::add);
    } else {
      items.add(n);
    }
    for (int i = 0; i < items.size(); i++) {
      String pat = at + "[" + i + "]";
      ObjectNode pair = CollectionConfigs.object(items.get(i), pat);
      for (String field : List.of("positive", "negative")) {
        if (!pair.has(field)) {
          throw ApiException.formatError(pat + ": missing field `" + field + "`");
        }
        out.add(requiredInput(pair.get(field), pat + "." + field));
      }
    }
    return out;
  }

  private static Mmr mmr(JsonNode n, String at, String vpath, Validation v) {
    if (n == null) {
      return null;
    }
    ObjectNode m = CollectionConfigs.object(n, at);
    Float diversity = null;
    JsonNode d = Changes.field(m, "diversity");
    if (d != null) {
      if (!d.isNumber()) {
        throw ApiException.formatError(at + ".diversity: invalid type: " + Validation.kind(d) + ", expected f32");
      }
      diversity = d.floatValue();
      if (diversity < 0 || diversity > 1) {
        v.add(vpath + ".diversity", "value " + (double) diversity + " invalid, must be from 0.0 to 1.0");
      }
    }
    Long candidates = v.count(m.get("candidates_limit"), vpath + ".candidates_limit", 0);
    if (candidates != null && candidates > MAX_MMR_CANDIDATES) {
      v.add(vpath + ".candidates_limit",
          "value " + m.get("candidates_limit").asText() + " invalid, must be " + MAX_MMR_CANDIDATES + " or smaller");
    }
    return new Mmr(diversity, candidates == null ? null : clamp(candidates));
  }

  // ---- formulas ----

  /** A formula expression, as Qdrant's {@code ParsedExpression}. */
  private sealed interface Expr permits Const, ScoreVar, PayloadVar, ConditionVar, GeoDistance, DatetimeConst, DatetimeKey,
      Nary, Unary, Div, Pow, Decay {}

  private record Const(double value) implements Expr {}

  /** The score of a point in the n-th prefetch ({@code $score[n]}). */
  private record ScoreVar(int prefetch) implements Expr {}

  private record PayloadVar(JsonPath key) implements Expr {}

  /** 1 when the point meets the id-th condition of the formula, else 0. */
  private record ConditionVar(int id) implements Expr {}

  private record GeoDistance(double lon, double lat, JsonPath to) implements Expr {}

  private record DatetimeConst(long micros) implements Expr {}

  private record DatetimeKey(JsonPath key) implements Expr {}

  /** {@code mult} (product, short-circuits on a zero) or {@code sum}. */
  private record Nary(boolean mult, List<Expr> args) implements Expr {}

  /** {@code neg}, {@code abs}, {@code sqrt}, {@code exp}, {@code log10} or {@code ln}. */
  private record Unary(String op, Expr arg) implements Expr {}

  private record Div(Expr left, Expr right, Double byZeroDefault) implements Expr {}

  private record Pow(Expr base, Expr exponent) implements Expr {}

  /** {@code lin_decay}, {@code exp_decay} or {@code gauss_decay}, with its constant folded into lambda. */
  private record Decay(String kind, Expr x, Expr target, double lambda) implements Expr {}

  /** Qdrant's untagged {@code Expression}: a number, a variable, a condition, or one of the operator objects. */
  private static Expr expr(JsonNode n, String at, List<Filter> conditions) {
    if (n == null || n.isNull()) {
      throw ApiException.formatError(at + ": data did not match any variant of untagged enum Expression");
    }
    if (n.isNumber()) {
      return new Const(n.floatValue());
    }
    if (n.isTextual()) {
      return variable(n.textValue());
    }
    if (n.isObject()) {
      if (CONDITION_FIELDS.stream().anyMatch(n::has) || FILTER_FIELDS.containsAll(names(n))) {
        conditions.add(PointOps.filter(F.objectNode().set("must", F.arrayNode().add(n)), at));
        return new ConditionVar(conditions.size() - 1);
      }
      if (n.has("geo_distance")) {
        ObjectNode g = CollectionConfigs.object(n.get("geo_distance"), at + ".geo_distance");
        ObjectNode origin = CollectionConfigs.object(g.get("origin"), at + ".geo_distance.origin");
        if (!origin.path("lon").isNumber() || !origin.path("lat").isNumber()) {
          throw ApiException.formatError(at + ".geo_distance.origin: expected a geo point {lon, lat}");
        }
        return new GeoDistance(origin.get("lon").doubleValue(), origin.get("lat").doubleValue(),
            EngineStorageService.orderKey(g.get("to"), at + ".geo_distance.to"));
      }
      if (n.has("datetime")) {
        String s = n.get("datetime").asText();
        Long micros = Datetimes.parseMicros(s);
        if (micros == null) {
          throw ApiException.wrongInput("failed to parse date-time " + F.textNode(s) + ": input contains invalid characters");
        }
        return new DatetimeConst(micros);
      }
      if (n.has("datetime_key")) {
        return new DatetimeKey(EngineStorageService.orderKey(n.get("datetime_key"), at + ".datetime_key"));
      }
      for (String op : List.of("mult", "sum")) {
        if (n.has(op)) {
          JsonNode args = n.get(op);
          if (!args.isArray()) {
            throw ApiException.formatError(at + "." + op + ": invalid type: " + Validation.kind(args) + ", expected a sequence");
          }
          List<Expr> list = new ArrayList<>();
          for (int i = 0; i < args.size(); i++) {
            list.add(expr(args.get(i), at + "." + op + "[" + i + "]", conditions));
          }
          return new Nary(op.equals("mult"), list);
        }
      }
      if (n.has("div")) {
        ObjectNode d = CollectionConfigs.object(n.get("div"), at + ".div");
        JsonNode byZero = Changes.field(d, "by_zero_default");
        return new Div(expr(d.get("left"), at + ".div.left", conditions), expr(d.get("right"), at + ".div.right", conditions),
            byZero == null ? null : (double) byZero.floatValue());
      }
      if (n.has("pow")) {
        ObjectNode p = CollectionConfigs.object(n.get("pow"), at + ".pow");
        return new Pow(expr(p.get("base"), at + ".pow.base", conditions), expr(p.get("exponent"), at + ".pow.exponent", conditions));
      }
      for (String op : UNARY) {
        if (n.has(op)) {
          return new Unary(op, expr(n.get(op), at + "." + op, conditions));
        }
      }
      for (String kind : List.of("lin_decay", "exp_decay", "gauss_decay")) {
        if (n.has(kind)) {
          ObjectNode d = CollectionConfigs.object(n.get(kind), at + "." + kind);
          double lambda = decayLambda(kind, floatField(d, "midpoint", at + "." + kind), floatField(d, "scale", at + "." + kind));
          Expr x = expr(d.get("x"), at + "." + kind + ".x", conditions);
          Expr target = Changes.field(d, "target") == null ? null : expr(d.get("target"), at + "." + kind + ".target", conditions);
          return new Decay(kind, x, target, lambda);
        }
      }
    }
    throw ApiException.formatError(at + ": data did not match any variant of untagged enum Expression");
  }

  private static List<String> names(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static Float floatField(ObjectNode n, String name, String at) {
    JsonNode x = Changes.field(n, name);
    if (x != null && !x.isNumber()) {
      throw ApiException.formatError(at + "." + name + ": invalid type: " + Validation.kind(x) + ", expected f32");
    }
    return x == null ? null : x.floatValue();
  }

  /** Qdrant's {@code decay_params_to_lambda}, with its checks. */
  private static double decayLambda(String kind, Float midpointValue, Float scaleValue) {
    double midpoint = midpointValue == null ? 0.5 : midpointValue;
    double scale = scaleValue == null ? 1.0 : scaleValue;
    if (kind.equals("lin_decay") ? midpoint < 0 || midpoint > 1 : midpoint <= 0 || midpoint >= 1) {
      throw ApiException.wrongInput("Validation failed: " + (kind.equals("lin_decay")
          ? "Linear decay midpoint should be in the range [0.0, 1.0], got " : "Decay midpoint should be in the range (0.0, 1.0), got ")
          + rust(midpoint) + ".");
    }
    if (scale <= 0) {
      throw ApiException.wrongInput("Validation failed: Decay scale should be non-zero positive, got " + rust(scale) + ".");
    }
    return switch (kind) {
      case "lin_decay" -> (1.0 - midpoint) / scale;
      case "exp_decay" -> Math.log(midpoint) / scale;
      default -> Math.log(midpoint) / (scale * scale);
    };
  }

  /** A variable: {@code $score}, {@code $score[n]}, or a payload key. Qdrant answers bad names with a 500. */
  private static Expr variable(String s) {
    Object id = variableId(s);
    return id instanceof Integer i ? new ScoreVar(i) : new PayloadVar((JsonPath) id);
  }

  /** Qdrant's {@code VariableId}: the prefetch index of a score variable, or the JsonPath of a payload one. */
  private static Object variableId(String s) {
    if (s.startsWith("$")) {
      JsonPath p;
      try {
        p = JsonPath.parse(s.substring(1));
      } catch (IllegalArgumentException e) {
        throw serviceError("Invalid reserved variable: " + s);
      }
      if (!p.firstKey().equals("score")) {
        throw serviceError("Invalid reserved word: " + s);
      }
      if (p.rest().isEmpty()) {
        return 0;
      }
      if (p.rest().size() == 1 && p.rest().get(0) instanceof JsonPath.Index i) {
        return (int) Math.min(i.index(), Integer.MAX_VALUE);
      }
      throw serviceError("Invalid reserved variable: " + s);
    }
    try {
      return JsonPath.parse(s);
    } catch (IllegalArgumentException e) {
      throw serviceError("Invalid payload variable: " + s);
    }
  }

  /**
   * Requests Qdrant itself answers with a 500 "Service internal error" (no inference service, bad
   * formula variables): here they are the client's to fix, so 400 with Qdrant's own words.
   */
  private static ApiException serviceError(String message) {
    return new ApiException(400, "Bad request: " + message);
  }

  /** A double as Rust's {@code Display} prints it: no exponent, no trailing {@code .0}, {@code inf}, {@code NaN}. */
  private static String rust(double x) {
    if (Double.isNaN(x)) {
      return "NaN";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    return new BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
  }

  // ---- resolution: examples given by id ----

  /** A request with its examples read, and the root filter (the request's, the exclusion of the examples, any extra). */
  private record Resolution(Stage root, Query rootFilter) {}

  private Resolution resolve(Collection col, Stage root, Filter extra) throws IOException {
    Set<PointId> examples = new LinkedHashSet<>();
    Stage resolved = resolveStage(col, root, examples);
    PayloadSchema payload = col.schema().payload();
    Query filter = SearchOps.combine(extra == null ? null : FilterQueries.toQuery(extra, payload),
        SearchOps.excluding(new ArrayList<>(examples)));
    return new Resolution(resolved, filter);
  }

  /** Replaces the point ids of the stage's examples (and its prefetches') by their vectors; collects ids read from {@code col}. */
  private Stage resolveStage(Collection col, Stage s, Set<PointId> examples) throws IOException {
    Kind query = s.query();
    if (query != null && hasIds(query)) {
      Collection from = s.lookup() == null ? col : lookupCollection(s.lookup().collection());
      String vector = s.lookup() == null || s.lookup().vector() == null ? s.using() : s.lookup().vector();
      CollectionSchema fromSchema = from.schema();
      if (!fromSchema.dense().containsKey(vector) && !fromSchema.sparse().containsKey(vector)) {
        throw ApiException.wrongInput("Not existing vector name error: " + vector);
      }
      var selector = new DocMapper.Selector(false, true, Set.of(vector));
      List<Input> given = inputs(query);
      Map<PointId, Point> points = new HashMap<>();
      from.shard.read(r -> {
        for (Input in : given) {
          if (in instanceof IdInput(PointId id) && !points.containsKey(id)) {
            Point p = r.get(id, selector);
            if (p == null) {
              throw ApiException.notFound("No point with id " + id + " found");
            }
            points.put(id, p);
          }
        }
        return null;
      });
      if (from == col) {
        examples.addAll(points.keySet());
      }
      query = map(query, in -> {
        if (in instanceof IdInput(PointId id)) {
          Point p = points.get(id);
          return new Resolved(p.dense().containsKey(vector) ? p.dense().get(vector) : p.sparse().get(vector), vector);
        }
        return in;
      });
    }
    List<Stage> prefetch = new ArrayList<>();
    for (Stage p : s.prefetch()) {
      prefetch.add(resolveStage(col, p, examples));
    }
    return new Stage(prefetch, query, s.using(), s.filter(), s.ef(), s.exact(), s.threshold(), s.limit(), s.lookup());
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

  private static boolean hasIds(Kind k) {
    return inputs(k).stream().anyMatch(in -> in instanceof IdInput);
  }

  private static List<Input> inputs(Kind k) {
    return switch (k) {
      case Nearest n -> List.of(n.vector());
      case Recommend r -> {
        List<Input> all = new ArrayList<>(r.positive());
        all.addAll(r.negative());
        yield all;
      }
      case Discover d -> {
        List<Input> all = new ArrayList<>(List.of(d.target()));
        all.addAll(d.pairs());
        yield all;
      }
      case Context c -> c.pairs();
      default -> List.of();
    };
  }

  private static Kind map(Kind k, UnaryOperator<Input> f) {
    return switch (k) {
      case Nearest n -> new Nearest(f.apply(n.vector()), n.mmr());
      case Recommend r -> new Recommend(r.positive().stream().map(f).toList(), r.negative().stream().map(f).toList(), r.strategy());
      case Discover d -> new Discover(f.apply(d.target()), d.pairs().stream().map(f).toList());
      case Context c -> new Context(c.pairs().stream().map(f).toList());
      default -> k;
    };
  }

  // ---- planning: checks, and queries turned into scorings ----

  /** A stage ready to run: its scoring (null: scroll by id), its filter with its ancestors' as one Lucene query. */
  private record Plan(List<Plan> prefetch, Scoring scoring, Query filter, Integer ef, boolean exact, Float threshold, int limit) {}

  private sealed interface Scoring permits VectorScoring, MmrScoring, OrderScoring, FusionScoring, FormulaScoring, SampleScoring {}

  /** A score of stored sparse vectors, higher is better. */
  @FunctionalInterface
  private interface SparseScorer {
    float score(SparseVector stored);
  }

  /** Nearest to a dense or sparse vector, or a custom score of the stored dense or sparse vectors (higher is better). */
  private record VectorScoring(String using, float[] dense, SparseVector sparse, VectorSearch.VectorScorer custom,
      SparseScorer sparseCustom) implements Scoring {}

  /** MMR over the candidates nearest to {@code vector}; {@code distance} is null for a sparse vector. */
  private record MmrScoring(VectorScoring nearest, Object vector, Distance distance, float lambda, int candidates) implements Scoring {}

  private record OrderScoring(EngineStorageService.OrderSpec spec, FieldIndex index) implements Scoring {}

  private record FusionScoring(boolean dbsf, int k) implements Scoring {}

  private record FormulaScoring(Expr expr, Map<Integer, Double> scoreDefaults, Map<String, JsonNode> payloadDefaults,
      List<Query> conditions, PayloadSchema payload) implements Scoring {}

  private record SampleScoring() implements Scoring {}

  /**
   * @param take the root's limit (limit + offset; the grouped query's widened limit)
   * @param scale multiplies the prefetch limits (grouped queries)
   */
  private static Plan plan(CollectionSchema schema, Resolution resolution, int take, int scale) {
    Plan plan = plan(schema, resolution.root(), resolution.rootFilter(), take, scale);
    int depth = depth(resolution.root());
    if (depth > MAX_PREFETCH_DEPTH) {
      throw ApiException.badRequest("prefetches depth " + depth + " exceeds max depth " + MAX_PREFETCH_DEPTH);
    }
    checkLeaves(plan);
    return plan;
  }

  private static Plan plan(CollectionSchema schema, Stage s, Query parentFilter, int limit, int scale) {
    if (!s.prefetch().isEmpty() && s.query() == null) {
      throw ApiException.badRequest("A query is needed to merge the prefetches. Can't have prefetches without defining a query.");
    }
    if (s.threshold() != null && s.query() instanceof OrderByQuery) {
      throw ApiException.badRequest("Can't use score_threshold with an order_by query.");
    }
    if (s.threshold() != null && s.query() == null) {
      throw ApiException.badRequest("A query is needed to use the score_threshold. Can't have score_threshold without defining a query.");
    }
    if (s.query() instanceof Fusion && !s.using().isEmpty()) {
      throw ApiException.badRequest("Fusion queries cannot be combined with the 'using' field.");
    }
    Scoring scoring = s.query() == null ? null : scoring(schema, s);
    Query filter = SearchOps.combine(parentFilter, s.filter() == null ? null : FilterQueries.toQuery(s.filter(), schema.payload()));
    List<Plan> prefetch = new ArrayList<>();
    for (Stage p : s.prefetch()) {
      prefetch.add(plan(schema, p, filter, clamp((long) p.limit() * scale), scale));
    }
    return new Plan(prefetch, scoring, filter, s.ef(), s.exact(), s.threshold(), limit);
  }

  private static int depth(Stage s) {
    int depth = 0;
    for (Stage p : s.prefetch()) {
      depth = Math.max(depth, 1 + depth(p));
    }
    return depth;
  }

  private static void checkLeaves(Plan p) {
    if (p.prefetch().isEmpty() && p.scoring() instanceof FusionScoring) {
      throw ApiException.badRequest("cannot apply Fusion without prefetches");
    }
    if (p.prefetch().isEmpty() && p.scoring() instanceof FormulaScoring) {
      throw ApiException.badRequest("cannot apply Formula without prefetches");
    }
    p.prefetch().forEach(QueryOps::checkLeaves);
  }

  private static Scoring scoring(CollectionSchema schema, Stage s) {
    return switch (s.query()) {
      case OrderByQuery o -> new OrderScoring(o.spec(), EngineStorageService.rangeIndex(schema, o.spec().key()));
      case Fusion f -> new FusionScoring(f.dbsf(), f.k());
      case Sample x -> new SampleScoring();
      case Formula f -> formula(schema, f);
      default -> vectorScoring(schema, s);
    };
  }

  private static Scoring vectorScoring(CollectionSchema schema, Stage s) {
    String using = s.using();
    VectorSpec dense = schema.dense().get(using);
    SparseSpec sparse = schema.sparse().get(using);
    if (dense == null && sparse == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + using);
    }
    Distance d = dense == null ? null : dense.distance();
    SearchOps.Similarity<float[]> denseSim = dense == null ? null : SearchOps.sim(dense);
    SearchOps.Similarity<SparseVector> sparseSim = SparseVector::dot;
    switch (s.query()) {
      case Nearest n -> {
        Object v = vector(n.vector(), dense, sparse, true);
        VectorScoring nearest = nearest(using, v);
        if (n.mmr() == null) {
          return nearest;
        }
        float lambda = n.mmr().diversity() == null ? DEFAULT_MMR_LAMBDA : 1f - n.mmr().diversity();
        int candidates = n.mmr().candidatesLimit() == null ? s.limit() : n.mmr().candidatesLimit();
        return new MmrScoring(nearest, v, d, lambda, candidates);
      }
      case Recommend r -> {
        List<Object> pos = vectors(r.positive(), dense, sparse, false);
        List<Object> neg = vectors(r.negative(), dense, sparse, false);
        if (r.strategy().equals("average_vector")) {
          if (pos.isEmpty()) {
            throw ApiException.wrongInput("Positive vectors should not be empty with `average` strategy");
          }
          return nearest(using, dense != null ? SearchOps.averageVector(cast(pos), cast(neg), dense) : sparseAverage(cast(pos), cast(neg)));
        }
        boolean best = r.strategy().equals("best_score");
        if (dense != null) {
          List<float[]> p = cast(pos);
          List<float[]> ng = cast(neg);
          return new VectorScoring(using, null, null,
              best ? v -> SearchOps.bestScore(denseSim, p, ng, v) : v -> SearchOps.sumScores(denseSim, p, ng, v), null);
        }
        List<SparseVector> p = cast(pos);
        List<SparseVector> ng = cast(neg);
        return new VectorScoring(using, null, null, null,
            best ? v -> SearchOps.bestScore(sparseSim, p, ng, v) : v -> SearchOps.sumScores(sparseSim, p, ng, v));
      }
      case Discover q -> {
        Object target = vector(q.target(), dense, sparse, true);
        List<Object> pairs = vectors(q.pairs(), dense, sparse, true);
        if (dense != null) {
          List<float[]> p = cast(pairs);
          return new VectorScoring(using, null, null, v -> SearchOps.discoveryScore(denseSim, (float[]) target, p, v), null);
        }
        List<SparseVector> p = cast(pairs);
        return new VectorScoring(using, null, null, null, v -> SearchOps.discoveryScore(sparseSim, (SparseVector) target, p, v));
      }
      case Context c -> {
        List<Object> pairs = vectors(c.pairs(), dense, sparse, true);
        if (dense != null) {
          List<float[]> p = cast(pairs);
          return new VectorScoring(using, null, null, v -> SearchOps.contextScore(denseSim, p, v), null);
        }
        List<SparseVector> p = cast(pairs);
        return new VectorScoring(using, null, null, null, v -> SearchOps.contextScore(sparseSim, p, v));
      }
      default -> throw new IllegalStateException("not a vector query: " + s.query());
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> List<T> cast(List<Object> list) {
    return (List<T>) (List<?>) list;
  }

  private static VectorScoring nearest(String using, Object v) {
    return v instanceof float[] f ? new VectorScoring(using, f, null, null, null)
        : new VectorScoring(using, null, (SparseVector) v, null, null);
  }

  private static List<Object> vectors(List<Input> inputs, VectorSpec dense, SparseSpec sparse, boolean required) {
    List<Object> out = new ArrayList<>();
    for (Input in : inputs) {
      Object v = vector(in, dense, sparse, required);
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }

  /** The vector of an input for the searched vector ({@code dense} or {@code sparse}); dense ones prepared. */
  private static Object vector(Input in, VectorSpec dense, SparseSpec sparse, boolean required) {
    Object v = switch (in) {
      case DenseInput d -> d.values();
      case MultiInput m -> {
        if (dense == null || !dense.multi()) {
          throw ApiException.wrongInput(dense == null ? "Conversion between sparse and regular vectors failed"
              : "Conversion between multi and regular vectors failed");
        }
        yield PointRequests.multi(m.rows(), dense, m.at());
      }
      case SparseInput sp -> sp.vector();
      case Resolved r -> {
        if (r.vector() == null && required) {
          throw ApiException.notFound("Vector with name " + F.textNode(r.name()) + " for point not found");
        }
        yield r.vector();
      }
      case IdInput id -> throw new IllegalStateException("unresolved example " + id);
    };
    if (v == null) {
      return null;
    }
    if (v instanceof float[] f) {
      if (dense == null) {
        throw ApiException.wrongInput("Conversion between sparse and regular vectors failed");
      }
      if (dense.multi()) {
        // a plain vector is a multivector of one row; stored examples are already prepared rows
        if (f.length == 0 || f.length % dense.size() != 0) {
          throw ApiException.wrongInput("Vector dimension error: expected dim: " + dense.size() + ", got " + f.length);
        }
        return f.length == dense.size() ? dense.distance().prepare(f) : f;
      }
      if (f.length != dense.size()) {
        throw ApiException.wrongInput("Vector dimension error: expected dim: " + dense.size() + ", got " + f.length);
      }
      return dense.distance().prepare(f);
    }
    if (sparse == null) {
      throw ApiException.wrongInput("Conversion between sparse and regular vectors failed");
    }
    return v;
  }

  /** Qdrant's sparse recommendation vector: avg(positive) + avg(positive) - avg(negative), over the union of indices. */
  private static SparseVector sparseAverage(List<SparseVector> positive, List<SparseVector> negative) {
    Map<Integer, Float> pos = average(positive);
    if (!negative.isEmpty()) {
      Map<Integer, Float> merged = new TreeMap<>();
      pos.forEach((i, p) -> merged.put(i, p + p));
      average(negative).forEach((i, n) -> merged.merge(i, -n, Float::sum));
      pos = merged;
    }
    int[] indices = pos.keySet().stream().mapToInt(Integer::intValue).toArray();
    float[] values = new float[indices.length];
    for (int i = 0; i < indices.length; i++) {
      values[i] = pos.get(indices[i]);
    }
    return new SparseVector(indices, values);
  }

  private static Map<Integer, Float> average(List<SparseVector> vs) {
    Map<Integer, Float> sum = new TreeMap<>();
    for (SparseVector v : vs) {
      for (int i = 0; i < v.indices().length; i++) {
        sum.merge(v.indices()[i], v.values()[i], Float::sum);
      }
    }
    sum.replaceAll((i, x) -> x / vs.size());
    return sum;
  }

  private static FormulaScoring formula(CollectionSchema schema, Formula f) {
    Map<Integer, Double> scoreDefaults = new HashMap<>();
    Map<String, JsonNode> payloadDefaults = new HashMap<>();
    for (String name : names(f.defaults())) {
      JsonNode value = f.defaults().get(name);
      Object id = variableId(name);
      if (id instanceof Integer i) {
        if (value.isNumber()) {
          scoreDefaults.put(i, value.doubleValue());
        }
      } else {
        payloadDefaults.put(id.toString(), value);
      }
    }
    List<Query> conditions = f.conditions().stream().map(c -> FilterQueries.toQuery(c, schema.payload())).toList();
    return new FormulaScoring(f.expr(), scoreDefaults, payloadDefaults, conditions, schema.payload());
  }

  // ---- execution ----

  /** A candidate: its global doc id, score, order value (order_by), and whether it came from a scroll (version 0). */
  private record Hit(int doc, float score, Number orderValue, boolean scrolled) {}

  @FunctionalInterface
  private interface DocConsumer {
    void accept(int doc) throws IOException;
  }

  /**
   * Runs a stage: its own search, or the rescoring of its prefetches' candidates.
   *
   * @param rootLimit the request's limit when this is the root (MMR keeps that many there), else null
   */
  private static List<Hit> execute(Shard.Reader r, Plan p, Integer rootLimit) throws IOException {
    boolean root = rootLimit != null;
    if (p.prefetch().isEmpty()) {
      return switch (p.scoring()) {
        case null -> scroll(r, p.filter(), p.limit());
        case VectorScoring v -> vectorHits(r, v, p.filter(), p.limit(), p.ef(), p.exact(), p.threshold());
        case MmrScoring m -> {
          // as in Qdrant, MMR re-ranks only at the root; a prefetch keeps the nearest candidates
          List<Hit> candidates = vectorHits(r, m.nearest(), p.filter(), m.candidates(), p.ef(), p.exact(), p.threshold());
          yield root ? mmr(r, m, candidates, rootLimit) : candidates;
        }
        case OrderScoring o -> order(r, o, p.filter(), p.limit());
        case SampleScoring s -> sample(r, p.filter(), p.limit());
        case FusionScoring f -> throw new IllegalStateException("fusion without prefetches");
        case FormulaScoring f -> throw new IllegalStateException("formula without prefetches");
      };
    }
    List<List<Hit>> sources = new ArrayList<>();
    for (Plan child : p.prefetch()) {
      sources.add(execute(r, child, null));
    }
    return switch (p.scoring()) {
      case null -> throw new IllegalStateException("prefetches without a query");
      case VectorScoring v -> vectorHits(r, v, ids(r, docs(sources)), p.limit(), p.ef(), true, p.threshold());
      case MmrScoring m -> root
          ? mmr(r, m, vectorHits(r, m.nearest(), ids(r, docs(sources)), m.candidates(), p.ef(), true, p.threshold()), rootLimit)
          : mmr(r, m, sources.stream().flatMap(List::stream).toList(), p.limit());
      case OrderScoring o -> order(r, o, ids(r, docs(sources)), p.limit());
      case SampleScoring s -> sample(r, ids(r, docs(sources)), p.limit());
      case FusionScoring f -> fuse(sources, f, p.threshold(), p.limit());
      case FormulaScoring f -> formula(r, f, sources, p.limit());
    };
  }

  /** No more hits than live points: limits may be huge. */
  private static int cap(Shard.Reader r, int k) {
    return Math.min(k, Math.max(1, r.numDocs()));
  }

  private static Set<Integer> docs(List<List<Hit>> sources) {
    Set<Integer> docs = new LinkedHashSet<>();
    sources.forEach(s -> s.forEach(h -> docs.add(h.doc())));
    return docs;
  }

  /** Matches exactly these docs of the reader, by their point ids. */
  private static Query ids(Shard.Reader r, Set<Integer> docs) throws IOException {
    if (docs.isEmpty()) {
      return new MatchNoDocsQuery();
    }
    List<BytesRef> terms = new ArrayList<>(docs.size());
    for (int doc : docs) {
      terms.add(r.idOf(new ScoreDoc(doc, 0f)).term());
    }
    return new TermInSetQuery(Fields.ID, terms);
  }

  private static void forEachDoc(Shard.Reader r, Query q, DocConsumer consumer) throws IOException {
    var searcher = r.searcher();
    Weight weight = searcher.createWeight(searcher.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Scorer scorer = weight.scorer(ctx);
      if (scorer == null) {
        continue;
      }
      Bits live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (live == null || live.get(doc)) {
          consumer.accept(ctx.docBase + doc);
        }
      }
    }
  }

  /** Points in id order (Qdrant's scroll), score 0. */
  private static List<Hit> scroll(Shard.Reader r, Query filter, int limit) throws IOException {
    var top = r.searcher().search(filter == null ? new MatchAllDocsQuery() : filter, cap(r, limit),
        new Sort(new SortField(Fields.ID, SortField.Type.STRING)), false);
    List<Hit> out = new ArrayList<>(top.scoreDocs.length);
    for (ScoreDoc sd : top.scoreDocs) {
      out.add(new Hit(sd.doc, 0f, null, true));
    }
    return out;
  }

  private static List<Hit> vectorHits(Shard.Reader r, VectorScoring v, Query filter, int limit, Integer ef, boolean exact,
      Float threshold) throws IOException {
    int k = cap(r, limit);
    CollectionSchema schema = r.schema();
    List<VectorSearch.Hit> hits;
    if (v.dense() != null) {
      hits = VectorSearch.search(r.searcher(), schema.dense().get(v.using()), v.dense(), filter, k, ef, exact, threshold);
    } else if (v.sparse() != null) {
      hits = SparseSearch.search(r.searcher(), schema.sparse().get(v.using()), v.sparse(), filter, k, threshold);
    } else if (v.custom() != null) {
      hits = VectorSearch.scan(r.searcher(), VectorSearch.field(schema.dense().get(v.using())), v.custom(), true, filter, k);
    } else {
      hits = sparseScan(r, v.using(), v.sparseCustom(), filter, k);
    }
    List<Hit> out = new ArrayList<>(hits.size());
    for (VectorSearch.Hit h : hits) {
      boolean custom = v.custom() != null || v.sparseCustom() != null;
      if (!custom || threshold == null || h.score() >= threshold) {
        out.add(new Hit(h.doc(), h.score(), null, false));
      }
    }
    return out;
  }

  /** Exact top-k by a custom score of the stored sparse vectors of {@code using}. */
  private static List<VectorSearch.Hit> sparseScan(Shard.Reader r, String using, SparseScorer scorer, Query filter, int k)
      throws IOException {
    Comparator<VectorSearch.Hit> best = Comparator.comparingDouble(VectorSearch.Hit::score).reversed()
        .thenComparingInt(VectorSearch.Hit::doc);
    PriorityQueue<VectorSearch.Hit> heap = new PriorityQueue<>(best.reversed());
    var selector = new DocMapper.Selector(false, true, Set.of(using));
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, using));
    forEachDoc(r, SearchOps.combine(has, filter), doc -> {
      ScoreDoc sd = new ScoreDoc(doc, 0f);
      SparseVector v = r.load(sd, r.idOf(sd), selector).sparse().get(using);
      if (v != null) {
        heap.add(new VectorSearch.Hit(doc, scorer.score(v)));
        if (heap.size() > k) {
          heap.poll();
        }
      }
    });
    List<VectorSearch.Hit> out = new ArrayList<>(heap);
    out.sort(best);
    return out;
  }

  private static List<Hit> order(Shard.Reader r, OrderScoring o, Query filter, int limit) throws IOException {
    // a point has an entry per value: bound the limit by a generous multiple of the points
    int k = (int) Math.min(limit, 16L * r.numDocs() + 1024);
    List<Hit> out = new ArrayList<>();
    for (OrderBy.Hit h : OrderBy.top(r.searcher(), o.spec().key(), o.index(), o.spec().descending(), o.spec().startFrom(), filter, k)) {
      out.add(new Hit(h.doc(), 0f, h.value(), true));
    }
    return out;
  }

  /** A uniform random sample (reservoir) of the matching points, in random order. */
  private static List<Hit> sample(Shard.Reader r, Query filter, int limit) throws IOException {
    int n = cap(r, limit);
    int[] reservoir = new int[n];
    long[] seen = {0};
    var random = ThreadLocalRandom.current();
    forEachDoc(r, filter == null ? new MatchAllDocsQuery() : filter, doc -> {
      if (seen[0] < n) {
        reservoir[(int) seen[0]] = doc;
      } else {
        long j = random.nextLong(seen[0] + 1);
        if (j < n) {
          reservoir[(int) j] = doc;
        }
      }
      seen[0]++;
    });
    List<Hit> out = new ArrayList<>();
    for (int i = 0; i < Math.min(seen[0], n); i++) {
      out.add(new Hit(reservoir[i], 0f, null, true));
    }
    Collections.shuffle(out, random);
    return out;
  }

  /**
   * Reciprocal rank fusion (sum over the lists of 1 / (k + 0-based rank)) or distribution-based
   * score fusion (each list normalised by its mean ± 3 sample standard deviations, then summed).
   * A point keeps what its first list said of it but the score. Ties keep first-seen order.
   */
  private static List<Hit> fuse(List<List<Hit>> sources, FusionScoring f, Float threshold, int limit) {
    Map<Integer, Hit> first = new LinkedHashMap<>();
    Map<Integer, Float> scores = new HashMap<>();
    for (List<Hit> source : sources) {
      float[] normalised = f.dbsf() ? distributionNormalised(source) : null;
      for (int i = 0; i < source.size(); i++) {
        Hit h = source.get(i);
        float score = f.dbsf() ? normalised[i] : 1f / ((float) i + (float) f.k());
        first.putIfAbsent(h.doc(), h);
        scores.merge(h.doc(), score, Float::sum);
      }
    }
    List<Hit> fused = new ArrayList<>(first.size());
    first.values().forEach(h -> fused.add(new Hit(h.doc(), scores.get(h.doc()), h.orderValue(), h.scrolled())));
    fused.sort(Comparator.comparingDouble(Hit::score).reversed());
    List<Hit> out = new ArrayList<>();
    for (Hit h : fused) {
      if (out.size() == limit || (threshold != null && h.score() < threshold)) {
        break;
      }
      out.add(h);
    }
    return out;
  }

  /** Qdrant's {@code distr_norm}, in f32 with Welford's mean and sample variance. */
  private static float[] distributionNormalised(List<Hit> points) {
    float[] out = new float[points.size()];
    if (points.size() < 2) {
      Arrays.fill(out, 0.5f);
      return out;
    }
    float mean = 0;
    float aggregate = 0;
    int k = 1;
    for (Hit p : points) {
      float oldDelta = p.score() - mean;
      mean += oldDelta / k++;
      aggregate += oldDelta * (p.score() - mean);
    }
    float std = (float) Math.sqrt(aggregate / (points.size() - 1f));
    float min = mean - 3f * std;
    float max = mean + 3f * std;
    for (int i = 0; i < out.length; i++) {
      out[i] = min == max ? 0.5f : (points.get(i).score() - min) / (max - min);
    }
    return out;
  }

  /** The points the prefetches found, rescored by the formula; the best {@code limit}, ties by id. */
  private static List<Hit> formula(Shard.Reader r, FormulaScoring f, List<List<Hit>> sources, int limit) throws IOException {
    List<Map<Integer, Float>> scores = new ArrayList<>();
    for (List<Hit> source : sources) {
      Map<Integer, Float> m = new HashMap<>();
      source.forEach(h -> m.put(h.doc(), h.score()));
      scores.add(m);
    }
    Set<Integer> docs = docs(sources);
    Query ids = ids(r, docs);
    List<Set<Integer>> conditions = new ArrayList<>();
    for (Query c : f.conditions()) {
      Set<Integer> matching = new HashSet<>();
      forEachDoc(r, SearchOps.combine(c, ids), matching::add);
      conditions.add(matching);
    }
    var payloadOnly = new DocMapper.Selector(true, false, Set.of());
    List<Hit> out = new ArrayList<>();
    Map<Integer, PointId> pointIds = new HashMap<>();
    for (int doc : docs) {
      ScoreDoc sd = new ScoreDoc(doc, 0f);
      PointId id = r.idOf(sd);
      pointIds.put(doc, id);
      JsonNode[] payload = {null};
      var ctx = new Evaluation(f, scores, conditions, doc, () -> {
        if (payload[0] == null) {
          payload[0] = r.load(sd, id, payloadOnly).payload();
        }
        return payload[0];
      });
      double score = eval(f.expr(), ctx);
      float single = (float) score;
      if (!Float.isFinite(single)) {
        throw ApiException.wrongInput("The expression " + rust(score) + " as f32 = " + rust(single) + " produced a non-finite number");
      }
      out.add(new Hit(doc, single, null, false));
    }
    out.sort(Comparator.comparingDouble(Hit::score).reversed().thenComparing(h -> pointIds.get(h.doc())));
    return out.size() > limit ? out.subList(0, limit) : out;
  }

  @FunctionalInterface
  private interface PayloadSource {
    JsonNode get() throws IOException;
  }

  /** What a formula reads for one point. */
  private record Evaluation(FormulaScoring f, List<Map<Integer, Float>> scores, List<Set<Integer>> conditions, int doc,
      PayloadSource payload) {}

  /** Qdrant's {@code FormulaScorer::eval_expression}, in f64. */
  private static double eval(Expr e, Evaluation c) throws IOException {
    switch (e) {
      case Const k -> {
        return k.value();
      }
      case ScoreVar s -> {
        Float score = s.prefetch() < c.scores().size() ? c.scores().get(s.prefetch()).get(c.doc()) : null;
        if (score != null) {
          return score;
        }
        return c.f().scoreDefaults().getOrDefault(s.prefetch(), 0.0);
      }
      case PayloadVar p -> {
        JsonNode v = variable(p.key(), "number", c);
        if (!v.isNumber()) {
          throw typeError(p.key(), "number", "Value is not a number");
        }
        return v.doubleValue();
      }
      case ConditionVar cv -> {
        return c.conditions().get(cv.id()).contains(c.doc()) ? 1 : 0;
      }
      case GeoDistance g -> {
        JsonNode v = variable(g.to(), "geo point", c);
        if (!v.isObject() || !v.path("lon").isNumber() || !v.path("lat").isNumber()) {
          throw typeError(g.to(), "geo point", "invalid type: " + Validation.kind(v) + ", expected a geo point {lon, lat}");
        }
        return Geo.haversineMeters(g.lat(), g.lon(), v.get("lat").doubleValue(), v.get("lon").doubleValue());
      }
      case DatetimeConst d -> {
        return d.micros() / 1_000_000.0;
      }
      case DatetimeKey d -> {
        JsonNode v = variable(d.key(), "datetime", c);
        if (!v.isTextual()) {
          throw typeError(d.key(), "datetime", "Value is not a string");
        }
        Long micros = Datetimes.parseMicros(v.textValue());
        if (micros == null) {
          throw typeError(d.key(), "datetime", "input contains invalid characters");
        }
        return micros / 1_000_000.0;
      }
      case Nary n -> {
        double acc = n.mult() ? 1 : 0;
        for (Expr arg : n.args()) {
          double x = eval(arg, c);
          if (n.mult() && x == 0) {
            return 0;
          }
          acc = n.mult() ? acc * x : acc + x;
        }
        return acc;
      }
      case Unary u -> {
        double x = eval(u.arg(), c);
        return switch (u.op()) {
          case "neg" -> -x;
          case "abs" -> Math.abs(x);
          case "sqrt" -> finite(Math.sqrt(x), "√" + rust(x));
          case "exp" -> finite(Math.exp(x), "exp(" + rust(x) + ")");
          case "log10" -> finite(Math.log10(x), "log10(" + rust(x) + ")");
          default -> finite(Math.log(x), "ln(" + rust(x) + ")");
        };
      }
      case Div d -> {
        double left = eval(d.left(), c);
        if (left == 0) {
          return 0;
        }
        double right = eval(d.right(), c);
        if (right == 0 && d.byZeroDefault() != null) {
          return d.byZeroDefault();
        }
        return finite(left / right, rust(left) + "/" + rust(right));
      }
      case Pow p -> {
        double base = eval(p.base(), c);
        double exponent = eval(p.exponent(), c);
        return finite(Math.pow(base, exponent), rust(base) + "^" + rust(exponent));
      }
      case Decay d -> {
        double x = eval(d.x(), c);
        double target = d.target() == null ? 0 : eval(d.target(), c);
        double diff = Math.abs(x - target);
        return switch (d.kind()) {
          case "exp_decay" -> Math.exp(d.lambda() * diff);
          case "gauss_decay" -> Math.exp(d.lambda() * diff * diff);
          default -> Math.max(-d.lambda() * diff + 1.0, 0.0);
        };
      }
    }
  }

  private static double finite(double value, String expression) {
    if (Double.isFinite(value)) {
      return value;
    }
    throw ApiException.wrongInput("The expression " + expression + " = " + rust(value) + " produced a non-finite number");
  }

  private static ApiException typeError(JsonPath key, String type, String description) {
    return ApiException.wrongInput("Expected " + type + " value for " + key
        + " in the payload and/or in the formula defaults. Error: " + description);
  }

  /** The value of a payload variable: its one value, an array of its values, or the default. */
  private static JsonNode variable(JsonPath key, String type, Evaluation c) throws IOException {
    List<JsonNode> values = payloadValues(key, c.payload().get(), c.f().payload());
    if (values.isEmpty()) {
      JsonNode d = c.f().payloadDefaults().get(key.toString());
      if (d == null) {
        throw typeError(key, type, "No value found in a payload nor defaults");
      }
      return d;
    }
    return values.size() == 1 ? values.get(0) : F.arrayNode().addAll(values);
  }

  /**
   * The values Qdrant reads for a variable: those of its payload index when the key has one (only
   * values of the index's type), else the payload's; arrays are flattened one level.
   */
  private static List<JsonNode> payloadValues(JsonPath key, JsonNode payload, PayloadSchema schema) {
    List<JsonNode> values = new ArrayList<>();
    boolean wildcard = !key.rest().isEmpty() && key.rest().getLast() instanceof JsonPath.Wildcard;
    for (JsonNode v : key.values(payload)) {
      if (v.isArray() && !wildcard) {
        v.forEach(values::add);
      } else {
        values.add(v);
      }
    }
    FieldIndex index = schema.get(key);
    if (index == null) {
      return values;
    }
    return switch (index.type()) {
      case INTEGER -> values.stream().filter(v -> v.isIntegralNumber() && v.canConvertToLong()).toList();
      case FLOAT -> values.stream().filter(JsonNode::isNumber).toList();
      case KEYWORD -> values.stream().filter(JsonNode::isTextual).toList();
      case UUID -> values.stream().filter(v -> v.isTextual() && PointId.parseUuid(v.textValue()) != null)
          .map(v -> (JsonNode) F.textNode(PointId.parseUuid(v.textValue()).toString())).toList();
      case BOOL -> values.stream().filter(JsonNode::isBoolean).toList();
      case DATETIME -> values.stream().filter(v -> v.isTextual() && Datetimes.parseMicros(v.textValue()) != null).toList();
      case GEO -> values.stream().filter(v -> v.isObject() && v.path("lon").isNumber() && v.path("lat").isNumber()).toList();
      case TEXT -> values;
    };
  }

  // ---- maximal marginal relevance ----

  /**
   * Qdrant's MMR: the candidates (once each, those having the vector) re-ranked greedily by
   * {@code lambda * relevance - (1 - lambda) * max similarity to the already selected}, relevance
   * and similarity being raw similarities (distances negated, Euclid squared). Scores are kept.
   */
  private static List<Hit> mmr(Shard.Reader r, MmrScoring m, List<Hit> hits, int limit) throws IOException {
    String using = m.nearest().using();
    var selector = new DocMapper.Selector(false, true, Set.of(using));
    List<Hit> candidates = new ArrayList<>();
    List<Object> vectors = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    for (Hit h : hits) {
      if (!seen.add(h.doc())) {
        continue;
      }
      ScoreDoc sd = new ScoreDoc(h.doc(), 0f);
      Point p = r.load(sd, r.idOf(sd), selector);
      Object v = m.distance() != null ? p.dense().get(using) : p.sparse().get(using);
      if (v != null) {
        candidates.add(h);
        vectors.add(v);
      }
    }
    if (candidates.size() < 2) {
      return candidates;
    }
    int n = candidates.size();
    float[] relevance = new float[n];
    float[] maxSimilarity = new float[n];
    for (int i = 0; i < n; i++) {
      relevance[i] = rawSimilarity(m.distance(), m.vector(), vectors.get(i));
    }
    List<Integer> remaining = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      remaining.add(i);
    }
    List<Hit> out = new ArrayList<>();
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
        float s = rawSimilarity(m.distance(), vectors.get(c), vectors.get(selected));
        maxSimilarity[c] = first ? s : Math.max(maxSimilarity[c], s);
      }
      first = false;
    }
    return out;
  }

  /** Qdrant's raw similarity (higher is better): dot products, negated squared euclidean or manhattan distance. */
  private static float rawSimilarity(Distance d, Object a, Object b) {
    if (d == null) {
      return ((SparseVector) a).dot((SparseVector) b);
    }
    float[] x = (float[]) a;
    float[] y = (float[]) b;
    return switch (d) {
      case COSINE, DOT -> org.apache.lucene.util.VectorUtil.dotProduct(x, y);
      case EUCLID -> -org.apache.lucene.util.VectorUtil.squareDistance(x, y);
      case MANHATTAN -> -d.score(x, y);
    };
  }

  // ---- rendering ----

  /** ScoredPoints {@code hits[from, to)}: id, version (0 for scrolled points, as Qdrant), score, payload, vector, order_value. */
  private static ArrayNode render(Shard.Reader r, List<Hit> hits, int from, int to, PointRequests.Selection sel) throws IOException {
    ArrayNode out = F.arrayNode();
    for (int i = from; i < Math.min(to, hits.size()); i++) {
      Hit h = hits.get(i);
      var sd = new ScoreDoc(h.doc(), h.score());
      PointId id = r.idOf(sd);
      ObjectNode p = out.addObject();
      p.set("id", id.toJson());
      p.put("version", h.scrolled() ? 0 : r.version(sd));
      p.put("score", h.score());
      if (sel.selector().payload() || sel.selector().vectors()) {
        ObjectNode rec = PointRequests.record(r.load(sd, id, sel.selector()), sel, r.schema());
        p.set("payload", rec.get("payload"));
        p.set("vector", rec.get("vector"));
      } else {
        p.putNull("payload");
        p.putNull("vector");
      }
      if (h.orderValue() instanceof Double d) {
        p.put("order_value", d);
      } else if (h.orderValue() != null) {
        p.put("order_value", h.orderValue().longValue());
      }
    }
    return out;
  }
}
