package io.quiver.request;

import static io.quiver.request.JsonFields.field;
import static io.quiver.request.JsonFields.object;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses Qdrant's legacy search requests ({@code /points/search}, {@code /recommend}, {@code
 * /discover}, their batches and groups) into the universal query's form, as Qdrant translates them
 * into its core search: a search is a nearest query, a recommendation a recommend query, a discovery
 * a discover query (a context query without a target). Each keeps its own wording for what it
 * requires ({@code limit} has no default here, {@code hnsw_ef} is bounded, ...).
 */
public final class LegacyParser {
  private LegacyParser() {}

  /** A search: {@code vector} (an array, or {@code {"name", "vector"}} dense or sparse). */
  public static QueryRequest search(JsonNode raw) {
    ObjectNode body = object(raw, "body");
    JsonNode vector = body.get("vector");
    if (vector == null || vector.isNull()) {
      throw ApiException.formatError("missing field `vector`");
    }
    String using = "";
    VectorInput input;
    if (vector.isArray()) {
      input = PointParser.vector(vector, "vector");
    } else {
      ObjectNode named = object(vector, "vector");
      JsonNode name = named.get("name");
      JsonNode value = named.get("vector");
      if (name == null || !name.isTextual() || value == null || !(value.isArray() || value.isObject())) {
        throw ApiException.formatError("vector: data did not match any variant of untagged enum NamedVectorStruct");
      }
      using = name.textValue();
      input = value.isObject() ? new VectorInput.Sparse(PointParser.sparse(value, "vector.vector")) : PointParser.vector(value, "vector.vector");
    }
    return request(body, new Query.Nearest(input, null), using, null);
  }

  /** A recommendation: positive and negative examples (ids or vectors), a strategy, and where ids are read. */
  public static QueryRequest recommend(JsonNode raw) {
    ObjectNode body = object(raw, "body");
    String using = using(body);
    Query.RecommendStrategy strategy = QueryParser.strategy(body.path("strategy").isTextual() ? body.get("strategy") : null, "strategy");
    List<VectorInput> positive = examples(body.get("positive"), "positive");
    List<VectorInput> negative = examples(body.get("negative"), "negative");
    return request(body, recommend(positive, negative, strategy), using, lookup(body, using));
  }

  /**
   * A legacy recommendation's query from parsed examples (at the gRPC edge, too): a positive
   * example is required unless the strategy scores negative ones alone.
   */
  public static Query.Recommend recommend(List<VectorInput> positive, List<VectorInput> negative, Query.RecommendStrategy strategy) {
    if (positive.isEmpty() && (strategy == Query.RecommendStrategy.AVERAGE_VECTOR || negative.isEmpty())) {
      throw ApiException.badRequest("At least one positive vector ID required");
    }
    return new Query.Recommend(positive, negative, strategy);
  }

  /**
   * A discovery: a target and/or context pairs. With a target, score = (sum over the pairs of +1/0/-1
   * for being closer to the positive than the negative) + a sigmoid of the similarity to the target;
   * without one it is a context search.
   */
  public static QueryRequest discover(JsonNode raw) {
    ObjectNode body = object(raw, "body");
    String using = using(body);
    JsonNode target = field(body, "target");
    JsonNode context = field(body, "context");
    List<Query.ContextPair> pairs = new ArrayList<>();
    if (context != null) {
      if (!context.isArray()) {
        throw ApiException.formatError("context: expected a list of {positive, negative} pairs");
      }
      for (int i = 0; i < context.size(); i++) {
        JsonNode pair = context.get(i);
        if (!pair.isObject() || field(pair, "positive") == null || field(pair, "negative") == null) {
          throw ApiException.formatError("context[" + i + "]: expected an object with `positive` and `negative`");
        }
        pairs.add(new Query.ContextPair(QueryParser.requiredInput(pair.get("positive"), "context[" + i + "].positive"),
            QueryParser.requiredInput(pair.get("negative"), "context[" + i + "].negative")));
      }
    }
    VectorInput targetInput = target == null ? null : QueryParser.requiredInput(target, "target");
    return request(body, discover(targetInput, pairs), using, lookup(body, using));
  }

  /**
   * A legacy discovery's query from parsed examples (at the gRPC edge, too): a discover query, or a
   * context query when there is no target (null); one of the two must be given.
   */
  public static Query discover(VectorInput target, List<Query.ContextPair> pairs) {
    if (target == null && pairs.isEmpty()) {
      throw ApiException.badRequest("target and/or context_pairs must be specified");
    }
    return target == null ? new Query.Context(pairs) : new Query.Discover(target, pairs);
  }

  /** {@code {"searches": [...]}} of one kind, each parsed as alone. */
  public static List<QueryRequest> batch(JsonNode body, java.util.function.Function<JsonNode, QueryRequest> one) {
    JsonNode searches = QueryParser.searches(body);
    List<QueryRequest> out = new ArrayList<>(searches.size());
    for (int i = 0; i < searches.size(); i++) {
      out.add(one.apply(object(searches.get(i), "searches[" + i + "]")));
    }
    return out;
  }

  /** A search or recommendation grouped by a payload key: {@code group_by}, {@code group_size} and {@code limit} groups. */
  public static QueryGroupsRequest groups(JsonNode raw, java.util.function.Function<JsonNode, QueryRequest> source) {
    ObjectNode body = object(raw, "body");
    JsonNode groupBy = body.get("group_by");
    if (groupBy == null || !groupBy.isTextual()) {
      throw ApiException.formatError("missing field `group_by`");
    }
    JsonPath key = QueryParser.key(groupBy, "group_by");
    if (!body.has("group_size") || body.get("group_size").isNull()) {
      throw ApiException.formatError("missing field `group_size`");
    }
    var v = Validation.body();
    Long groupSize = v.range(body.get("group_size"), "group_size", 1, 100_000);
    v.throwIfAny();
    QueryGroupsRequest.WithLookup lookup = QueryParser.withLookup(body);
    QueryRequest query = source.apply(body);
    return new QueryGroupsRequest(query, key, groupSize.intValue(), query.root().limitOrDefault(), lookup);
  }

  private static String using(ObjectNode body) {
    return body.path("using").isTextual() ? body.get("using").textValue() : "";
  }

  private static LookupLocation lookup(ObjectNode body, String using) {
    JsonNode lookup = field(body, "lookup_from");
    String collection = lookup == null ? null : lookup.path("collection").asText(null);
    if (collection == null) {
      return null;
    }
    return new LookupLocation(collection, lookup.path("vector").isTextual() ? lookup.get("vector").textValue() : using);
  }

  private static List<VectorInput> examples(JsonNode n, String path) {
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw ApiException.formatError(path + ": expected a list of point ids or vectors");
    }
    List<VectorInput> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.add(QueryParser.requiredInput(n.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  /** The parts every legacy search shares: limit (required), offset, params, threshold, filter, what to return. */
  private static QueryRequest request(ObjectNode body, Query query, String using, LookupLocation lookup) {
    var v = Validation.body();
    JsonNode limitNode = body.get("limit");
    if (body.has("top")) { // Qdrant's serde alias of `limit`
      if (body.has("limit")) {
        throw ApiException.formatError("duplicate field `limit`");
      }
      limitNode = body.get("top");
    }
    if (limitNode == null || limitNode.isNull()) {
      throw ApiException.formatError("missing field `limit`");
    }
    Long limit = v.count(limitNode, "limit", 1);
    Long offset = v.count(body.get("offset"), "offset", 0);
    JsonNode params = field(body, "params");
    Long ef = params == null ? null : v.range(params.get("hnsw_ef"), "params.hnsw_ef", 0, 100_000);
    JsonNode t = field(body, "score_threshold");
    if (t != null && !t.isNumber()) {
      throw ApiException.formatError("score_threshold: expected a number");
    }
    v.throwIfAny();
    Filter filter = PointParser.optionalFilter(body, "filter");
    Stage root = new Stage(List.of(), query, using, filter, params == null ? SearchParams.DEFAULT : QueryParser.searchParams(params, ef),
        t == null ? null : t.floatValue(), QueryParser.clampLimit(limit), lookup);
    return new QueryRequest(root, offset == null ? 0 : QueryParser.clampLimit(offset),
        PointParser.withPayload(body.get("with_payload"), false), PointParser.withVector(body), PointParser.shardKey(body));
  }
}
