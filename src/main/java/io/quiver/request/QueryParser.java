package io.quiver.request;

import static io.quiver.request.JsonFields.field;
import static io.quiver.request.JsonFields.object;
import static io.quiver.request.JsonFields.path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Bm25;
import io.quiver.engine.filter.Datetimes;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.error.ApiException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses Qdrant's universal query ({@code /points/query}, its batch and groups) into {@link
 * QueryRequest}s, with Qdrant's wording: format errors name the JSON path, validation errors (422)
 * Qdrant's path of the field ({@code internal.limit}, {@code searches[0].internal.limit}, ...).
 */
public final class QueryParser {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** Largest limit (and offset) honoured: limit + offset stays an int; no shard holds more points. */
  public static final int MAX_LIMIT = Integer.MAX_VALUE / 2;
  /** Points per group when a grouped query does not say. */
  public static final int DEFAULT_GROUP_SIZE = 3;
  /** Largest MMR {@code candidates_limit}, as Qdrant. */
  public static final int MAX_MMR_CANDIDATES = 16_384;
  private static final Set<String> FILTER_FIELDS = Set.of("must", "should", "must_not", "min_should");
  private static final List<String> CONDITION_FIELDS = List.of("key", "is_empty", "is_null", "has_id", "has_vector", "nested");

  private QueryParser() {}

  /** {@code /points/query}. */
  public static QueryRequest query(JsonNode body) {
    var v = Validation.body();
    QueryRequest req = request(object(body, "body"), "", "internal", v, false);
    v.throwIfAny();
    return req;
  }

  /** {@code {"searches": [...]}}: every request is parsed and validated before any runs. */
  public static List<QueryRequest> batch(JsonNode body) {
    JsonNode searches = searches(body);
    var v = Validation.body();
    List<QueryRequest> out = new ArrayList<>();
    for (int i = 0; i < searches.size(); i++) {
      String at = "searches[" + i + "]";
      out.add(request(object(searches.get(i), at), at, at + ".internal", v, false));
    }
    v.throwIfAny();
    return out;
  }

  /** The {@code searches} list of a batch body. */
  static JsonNode searches(JsonNode body) {
    JsonNode searches = object(body, "body").get("searches");
    if (searches == null || !searches.isArray()) {
      throw ApiException.formatError("missing field `searches`");
    }
    Limits.atMost(searches, Limits.MAX_BATCH_SEARCHES, "searches");
    return searches;
  }

  /** {@code /points/query/groups}. */
  public static QueryGroupsRequest groups(JsonNode raw) {
    ObjectNode body = object(raw, "body");
    JsonNode groupBy = body.get("group_by");
    if (groupBy == null || !groupBy.isTextual()) {
      throw ApiException.formatError("missing field `group_by`");
    }
    JsonPath key = key(groupBy, "group_by");
    var v = Validation.body();
    Long size = v.count(body.get("group_size"), "search_group_request.group_request.group_size", 1);
    Long limit = v.count(body.get("limit"), "search_group_request.group_request.limit", 1);
    QueryRequest req = request(body, "", "search_group_request", v, true);
    v.throwIfAny();
    return new QueryGroupsRequest(req, key, size == null ? DEFAULT_GROUP_SIZE : clampLimit(size),
        limit == null ? Stage.DEFAULT_LIMIT : clampLimit(limit), withLookup(body));
  }

  /**
   * @param at the JSON path of the request, for format errors ("" at the top)
   * @param vpath Qdrant's path of the request in validation errors ({@code internal}, ...)
   * @param groups whether this is a grouped query (its {@code limit} counts groups, its offset is none)
   */
  private static QueryRequest request(ObjectNode body, String at, String vpath, Validation v, boolean groups) {
    Stage root = stage(body, at, vpath, v, !groups);
    Long offset = groups ? null : v.count(body.get("offset"), vpath + ".offset", 0);
    return new QueryRequest(root, offset == null ? 0 : clampLimit(offset), PointParser.withPayload(body.get("with_payload"), false),
        PointParser.withVector(body), PointParser.shardKey(body));
  }

  private static Stage stage(JsonNode node, String at, String vpath, Validation v, boolean withLimit) {
    ObjectNode n = object(node, at.isEmpty() ? "body" : at);
    List<Stage> prefetch = new ArrayList<>();
    JsonNode p = field(n, "prefetch");
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
    JsonNode q = field(n, "query");
    Query query = q == null ? null : query(q, path(at, "query"), vpath + ".query", v);
    JsonNode using = field(n, "using");
    if (using != null && !using.isTextual()) {
      throw ApiException.formatError(path(at, "using") + ": invalid type: " + Validation.kind(using) + ", expected a string");
    }
    Filter filter = field(n, "filter") == null ? null : PointParser.filter(n.get("filter"), path(at, "filter"));
    JsonNode params = field(n, "params");
    SearchParams searchParams = params == null ? SearchParams.DEFAULT
        : searchParams(params, v.count(params.get("hnsw_ef"), vpath + ".params.hnsw_ef", 0));
    JsonNode t = field(n, "score_threshold");
    if (t != null && !t.isNumber()) {
      throw ApiException.formatError(path(at, "score_threshold") + ": invalid type: " + Validation.kind(t) + ", expected f32");
    }
    Long limit = withLimit ? v.count(n.get("limit"), vpath + ".limit", 1) : null;
    return new Stage(prefetch, query, using == null ? "" : using.textValue(), filter, searchParams,
        t == null ? null : t.floatValue(), limit == null ? null : clampLimit(limit), lookupFrom(n, at));
  }

  /** Search {@code params} with an already validated {@code hnsw_ef}. */
  static SearchParams searchParams(JsonNode params, Long ef) {
    boolean exact = params.path("exact").asBoolean(false);
    JsonNode oversampling = params.path("quantization").get("oversampling");
    return new SearchParams(ef == null ? null : clampLimit(ef), exact,
        oversampling != null && oversampling.isNumber() ? oversampling.doubleValue() : null);
  }

  static LookupLocation lookupFrom(ObjectNode n, String at) {
    JsonNode l = field(n, "lookup_from");
    if (l == null) {
      return null;
    }
    ObjectNode lo = object(l, path(at, "lookup_from"));
    if (!lo.path("collection").isTextual()) {
      throw ApiException.formatError(path(at, "lookup_from") + ": missing field `collection`");
    }
    JsonNode vector = field(lo, "vector");
    return new LookupLocation(lo.get("collection").textValue(), vector == null ? null : vector.asText());
  }

  /** The {@code with_lookup} of a grouped request: a collection name or {collection, with_payload, with_vectors}; or null. */
  static QueryGroupsRequest.WithLookup withLookup(ObjectNode body) {
    JsonNode withLookup = field(body, "with_lookup");
    if (withLookup == null) {
      return null;
    }
    JsonNode name = withLookup.isObject() ? withLookup.get("collection") : withLookup;
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("with_lookup: expected a collection name or {collection, with_payload, with_vectors}");
    }
    WithPayload payload = PointParser.withPayload(withLookup.isObject() ? withLookup.get("with_payload") : null, true);
    WithVector vectors = withLookup.isObject() ? PointParser.withVector(withLookup) : WithVector.NONE;
    return new QueryGroupsRequest.WithLookup(name.textValue(), payload, vectors);
  }

  /** A limit or offset as honoured: at most {@link #MAX_LIMIT}. */
  public static int clampLimit(long n) {
    return (int) Math.min(n, MAX_LIMIT);
  }

  /** Qdrant's {@code QueryInterface}: a vector input (nearest), or one of the query objects. */
  private static Query query(JsonNode q, String at, String vpath, Validation v) {
    VectorInput direct = input(q, at);
    if (direct != null) {
      return new Query.Nearest(direct, null);
    }
    if (q.isObject()) {
      if (q.has("nearest")) {
        return new Query.Nearest(requiredInput(q.get("nearest"), at + ".nearest"), mmr(field(q, "mmr"), at + ".mmr", vpath + ".mmr", v));
      }
      if (q.has("recommend")) {
        return recommend(q.get("recommend"), at + ".recommend", vpath + ".recommend", v);
      }
      if (q.has("discover")) {
        ObjectNode d = object(q.get("discover"), at + ".discover");
        for (String field : List.of("target", "context")) {
          if (!d.has(field)) {
            throw ApiException.formatError(at + ".discover: missing field `" + field + "`");
          }
        }
        return new Query.Discover(requiredInput(d.get("target"), at + ".discover.target"), pairs(d.get("context"), at + ".discover.context"));
      }
      if (q.has("context")) {
        return new Query.Context(pairs(q.get("context"), at + ".context"));
      }
      if (q.has("order_by")) {
        return new Query.OrderByQuery(orderBy(q.get("order_by")));
      }
      if (q.has("fusion")) {
        String f = q.get("fusion").asText();
        if (!f.equals("rrf") && !f.equals("dbsf")) {
          throw ApiException.formatError(at + ".fusion: unknown variant `" + f + "`, expected `rrf` or `dbsf`");
        }
        return new Query.Fusion(f.equals("dbsf"), Query.Fusion.DEFAULT_RRF_K);
      }
      if (q.has("rrf")) {
        JsonNode rrf = q.get("rrf");
        Long k = rrf == null || rrf.isNull() ? null : v.count(object(rrf, at + ".rrf").get("k"), vpath + ".rrf.k", 1);
        return new Query.Fusion(false, k == null ? Query.Fusion.DEFAULT_RRF_K : clampLimit(k));
      }
      if (q.has("formula")) {
        return formula(q, at);
      }
      if (q.has("sample")) {
        if (!q.get("sample").asText().equals("random")) {
          throw ApiException.formatError(at + ".sample: unknown variant `" + q.get("sample").asText() + "`, expected `random`");
        }
        return new Query.Sample();
      }
    }
    throw ApiException.formatError(at + ": Expected some form of vector, id, or a type of query");
  }

  /** Qdrant's {@code VectorInput}, or null when {@code n} is none of its forms. */
  static VectorInput input(JsonNode n, String at) {
    if (n.isArray()) {
      if (!n.isEmpty() && n.get(0).isArray()) {
        return PointParser.multi(n, at);
      }
      return new VectorInput.Dense(PointParser.floats(n, at));
    }
    if (n.isIntegralNumber() || n.isTextual()) {
      try {
        return new VectorInput.Id(PointId.parse(n));
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    if (n.isObject() && (n.has("indices") || n.has("values"))) {
      return new VectorInput.Sparse(PointParser.sparse(n, at));
    }
    if (n.isObject() && n.path("model").isTextual() && Bm25.isModel(n.get("model").textValue())) {
      ObjectNode o = (ObjectNode) n;
      return new VectorInput.Sparse(Bm25.of(o.get("options")).query(PointParser.bm25Text(o)));
    }
    if (n.isObject() && n.has("model") && (n.has("text") || n.has("image") || n.has("object"))) {
      // what Qdrant answers when no inference service is configured
      throw serviceError("InferenceService is not initialized. "
          + "Please check if it was properly configured and initialized during startup.");
    }
    return null;
  }

  /** Qdrant's {@code VectorInput} at {@code at}; a format error when {@code n} is none of its forms. */
  public static VectorInput requiredInput(JsonNode n, String at) {
    VectorInput in = n == null ? null : input(n, at);
    if (in == null) {
      throw ApiException.formatError(at + ": data did not match any variant of untagged enum VectorInput");
    }
    return in;
  }

  static List<VectorInput> inputs(JsonNode n, String at) {
    List<VectorInput> out = new ArrayList<>();
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

  private static Query.Recommend recommend(JsonNode node, String at, String vpath, Validation v) {
    ObjectNode r = object(node, at);
    List<VectorInput> positive = inputs(r.get("positive"), at + ".positive");
    List<VectorInput> negative = inputs(r.get("negative"), at + ".negative");
    return recommend(positive, negative, strategy(field(r, "strategy"), at + ".strategy"), vpath, v);
  }

  /** A recommend query of examples already parsed (at the gRPC edge, too): at least one example must be given. */
  public static Query.Recommend recommend(List<VectorInput> positive, List<VectorInput> negative, Query.RecommendStrategy strategy,
      String vpath, Validation v) {
    if (positive.isEmpty() && negative.isEmpty()) {
      v.add(vpath + ".positives, negatives", "Validation error: At least one positive or negative vector/id must be provided [{}]");
    }
    return new Query.Recommend(positive, negative, strategy);
  }

  /** {@code average_vector} (the default), {@code best_score} or {@code sum_scores}. */
  static Query.RecommendStrategy strategy(JsonNode s, String at) {
    if (s == null) {
      return Query.RecommendStrategy.AVERAGE_VECTOR;
    }
    return switch (s.asText()) {
      case "average_vector" -> Query.RecommendStrategy.AVERAGE_VECTOR;
      case "best_score" -> Query.RecommendStrategy.BEST_SCORE;
      case "sum_scores" -> Query.RecommendStrategy.SUM_SCORES;
      default -> throw ApiException.formatError(at + ": unknown variant `" + s.asText()
          + "`, expected one of `average_vector`, `best_score`, `sum_scores`");
    };
  }

  /** Context pairs: one pair or a list. */
  static List<Query.ContextPair> pairs(JsonNode n, String at) {
    List<Query.ContextPair> out = new ArrayList<>();
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
      ObjectNode pair = object(items.get(i), pat);
      for (String field : List.of("positive", "negative")) {
        if (!pair.has(field)) {
          throw ApiException.formatError(pat + ": missing field `" + field + "`");
        }
      }
      out.add(new Query.ContextPair(requiredInput(pair.get("positive"), pat + ".positive"),
          requiredInput(pair.get("negative"), pat + ".negative")));
    }
    return out;
  }

  private static Query.Mmr mmr(JsonNode n, String at, String vpath, Validation v) {
    if (n == null) {
      return null;
    }
    ObjectNode m = object(n, at);
    Float diversity = null;
    JsonNode d = field(m, "diversity");
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
    return new Query.Mmr(diversity, candidates == null ? null : clampLimit(candidates));
  }

  /**
   * MMR parameters given as typed values (the gRPC edge's), checked as the JSON form is: diversity
   * within [0, 1], candidates at most {@link #MAX_MMR_CANDIDATES}; violations are added to {@code v}.
   */
  public static Query.Mmr mmr(Float diversity, Long candidates, String vpath, Validation v) {
    if (diversity != null && (diversity < 0 || diversity > 1)) {
      v.add(vpath + ".diversity", "value " + (double) diversity + " invalid, must be from 0.0 to 1.0");
    }
    if (candidates != null && candidates > MAX_MMR_CANDIDATES) {
      v.add(vpath + ".candidates_limit", "value " + candidates + " invalid, must be " + MAX_MMR_CANDIDATES + " or smaller");
    }
    return new Query.Mmr(diversity, candidates == null ? null : clampLimit(candidates));
  }

  // ---- order_by ----

  /** {@code order_by}: a key, or {@code {key, direction, start_from}}. */
  public static OrderBy orderBy(JsonNode n) {
    if (n.isTextual()) {
      return new OrderBy(key(n, "order_by"), false, null);
    }
    if (!n.isObject()) {
      throw ApiException.formatError("order_by: data did not match any variant of untagged enum OrderByInterface");
    }
    JsonPath key = key(n.get("key"), "order_by.key");
    JsonNode dir = field(n, "direction");
    boolean descending = false;
    if (dir != null) {
      if (!dir.isTextual() || !(dir.textValue().equals("asc") || dir.textValue().equals("desc"))) {
        throw ApiException.formatError("order_by.direction: unknown variant `" + dir.asText() + "`, expected `asc` or `desc`");
      }
      descending = dir.textValue().equals("desc");
    }
    JsonNode from = field(n, "start_from");
    Double start = null;
    if (from != null) {
      if (from.isNumber()) {
        start = from.doubleValue();
      } else if (from.isTextual() && Datetimes.parseMicros(from.textValue()) != null) {
        start = Datetimes.parseMicros(from.textValue()).doubleValue();
      } else {
        throw ApiException.formatError("order_by.start_from: data did not match any variant of untagged enum StartFrom");
      }
    }
    return new OrderBy(key, descending, start);
  }

  /** A payload key (Qdrant's JsonPath). */
  public static JsonPath key(JsonNode n, String where) {
    if (n == null || !n.isTextual()) {
      throw ApiException.formatError(where + ": expected a payload key");
    }
    try {
      return JsonPath.parse(n.textValue());
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(where + ": " + e.getMessage());
    }
  }

  // ---- formulas ----

  /** A formula query: {@code q} holds {@code formula} (the expression) and optional {@code defaults}. */
  public static Query.Formula formula(JsonNode q, String at) {
    Expression e = expression(q.get("formula"), at + ".formula");
    JsonNode d = field(q, "defaults");
    Map<String, JsonNode> payloadDefaults = new HashMap<>();
    Map<Integer, Double> scoreDefaults = new HashMap<>();
    if (d != null) {
      object(d, at + ".defaults").properties().forEach(entry -> {
        Object id = variableId(entry.getKey());
        if (id instanceof Integer i) {
          if (entry.getValue().isNumber()) {
            scoreDefaults.put(i, entry.getValue().doubleValue());
          }
        } else {
          payloadDefaults.put(id.toString(), entry.getValue());
        }
      });
    }
    return new Query.Formula(e, payloadDefaults, scoreDefaults);
  }

  /** Qdrant's untagged {@code Expression}: a number, a variable, a condition, or one of the operator objects. */
  private static Expression expression(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      throw ApiException.formatError(at + ": data did not match any variant of untagged enum Expression");
    }
    if (n.isNumber()) {
      return new Expression.Constant(n.floatValue());
    }
    if (n.isTextual()) {
      Object id = variableId(n.textValue());
      return id instanceof Integer i ? new Expression.Score(i) : new Expression.Payload((JsonPath) id);
    }
    if (n.isObject()) {
      if (CONDITION_FIELDS.stream().anyMatch(n::has) || FILTER_FIELDS.containsAll(names(n))) {
        return new Expression.Condition(PointParser.filter(F.objectNode().set("must", F.arrayNode().add(n)), at));
      }
      if (n.has("geo_distance")) {
        ObjectNode g = object(n.get("geo_distance"), at + ".geo_distance");
        ObjectNode origin = object(g.get("origin"), at + ".geo_distance.origin");
        if (!origin.path("lon").isNumber() || !origin.path("lat").isNumber()) {
          throw ApiException.formatError(at + ".geo_distance.origin: expected a geo point {lon, lat}");
        }
        return new Expression.GeoDistance(origin.get("lon").doubleValue(), origin.get("lat").doubleValue(),
            key(g.get("to"), at + ".geo_distance.to"));
      }
      if (n.has("datetime")) {
        String s = n.get("datetime").asText();
        Long micros = Datetimes.parseMicros(s);
        if (micros == null) {
          throw ApiException.wrongInput("failed to parse date-time " + F.textNode(s) + ": input contains invalid characters");
        }
        return new Expression.Datetime(micros);
      }
      if (n.has("datetime_key")) {
        return new Expression.DatetimeKey(key(n.get("datetime_key"), at + ".datetime_key"));
      }
      for (String op : List.of("mult", "sum")) {
        if (n.has(op)) {
          JsonNode args = n.get(op);
          if (!args.isArray()) {
            throw ApiException.formatError(at + "." + op + ": invalid type: " + Validation.kind(args) + ", expected a sequence");
          }
          List<Expression> list = new ArrayList<>();
          for (int i = 0; i < args.size(); i++) {
            list.add(expression(args.get(i), at + "." + op + "[" + i + "]"));
          }
          return new Expression.Nary(op.equals("mult"), list);
        }
      }
      if (n.has("div")) {
        ObjectNode d = object(n.get("div"), at + ".div");
        JsonNode byZero = field(d, "by_zero_default");
        return new Expression.Div(expression(d.get("left"), at + ".div.left"), expression(d.get("right"), at + ".div.right"),
            byZero == null ? null : (double) byZero.floatValue());
      }
      if (n.has("pow")) {
        ObjectNode p = object(n.get("pow"), at + ".pow");
        return new Expression.Pow(expression(p.get("base"), at + ".pow.base"), expression(p.get("exponent"), at + ".pow.exponent"));
      }
      for (Expression.UnaryOp op : Expression.UnaryOp.values()) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        if (n.has(name)) {
          return new Expression.Unary(op, expression(n.get(name), at + "." + name));
        }
      }
      for (Expression.DecayKind kind : Expression.DecayKind.values()) {
        String name = kind.name().toLowerCase(java.util.Locale.ROOT) + "_decay";
        if (n.has(name)) {
          ObjectNode d = object(n.get(name), at + "." + name);
          double lambda = decayLambda(kind, floatField(d, "midpoint", at + "." + name), floatField(d, "scale", at + "." + name));
          Expression x = expression(d.get("x"), at + "." + name + ".x");
          Expression target = field(d, "target") == null ? null : expression(d.get("target"), at + "." + name + ".target");
          return new Expression.Decay(kind, x, target, lambda);
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
    JsonNode x = field(n, name);
    if (x != null && !x.isNumber()) {
      throw ApiException.formatError(at + "." + name + ": invalid type: " + Validation.kind(x) + ", expected f32");
    }
    return x == null ? null : x.floatValue();
  }

  /** Qdrant's {@code decay_params_to_lambda}, with its checks. */
  private static double decayLambda(Expression.DecayKind kind, Float midpointValue, Float scaleValue) {
    double midpoint = midpointValue == null ? 0.5 : midpointValue;
    double scale = scaleValue == null ? 1.0 : scaleValue;
    boolean linear = kind == Expression.DecayKind.LIN;
    if (linear ? midpoint < 0 || midpoint > 1 : midpoint <= 0 || midpoint >= 1) {
      throw ApiException.wrongInput("Validation failed: " + (linear
          ? "Linear decay midpoint should be in the range [0.0, 1.0], got " : "Decay midpoint should be in the range (0.0, 1.0), got ")
          + rust(midpoint) + ".");
    }
    if (scale <= 0) {
      throw ApiException.wrongInput("Validation failed: Decay scale should be non-zero positive, got " + rust(scale) + ".");
    }
    return switch (kind) {
      case LIN -> (1.0 - midpoint) / scale;
      case EXP -> Math.log(midpoint) / scale;
      case GAUSS -> Math.log(midpoint) / (scale * scale);
    };
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
  static ApiException serviceError(String message) {
    return new ApiException(400, "Bad request: " + message);
  }

  /** A double as Rust's {@code Display} prints it: no exponent, no trailing {@code .0}, {@code inf}, {@code NaN}. */
  public static String rust(double x) {
    if (Double.isNaN(x)) {
      return "NaN";
    }
    if (Double.isInfinite(x)) {
      return x > 0 ? "inf" : "-inf";
    }
    return new BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
  }
}
