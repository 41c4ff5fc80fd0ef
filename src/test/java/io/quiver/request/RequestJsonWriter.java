package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.Match;
import io.quiver.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Writes request models back into the JSON a Qdrant client sends, for {@link
 * RequestRoundTripTest} and {@code RestGrpcEquivalenceTest}. Where Qdrant accepts several spellings
 * of the same thing (a vector as the query or as {@code {"nearest": ...}}, one condition or a list,
 * {@code with_vector} or {@code with_vectors}, an absent field or an explicit null, sparse pairs in
 * any order, a UUID with or without hyphens), it picks one at random: they must all parse into the
 * same model. One of the spellings of a filter, a stage, a query, an expression, an order and an id is
 * the canonical wire form ({@link RequestJson}), written by main code: it is picked too, so the
 * wire form is checked against the edge's parsers wherever these parts appear.
 */
public final class RequestJsonWriter {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private final Random r;

  public RequestJsonWriter(Random r) {
    this.r = r;
  }

  // ---- universal query ----

  public ObjectNode query(QueryRequest q) {
    ObjectNode out = stage(q.root());
    if (q.offset() != 0 || r.nextBoolean()) {
      out.put("offset", q.offset());
    }
    returned(out, q.withPayload(), q.withVector());
    shardKey(out, q.shardKey());
    return out;
  }

  public ObjectNode groups(QueryGroupsRequest g) {
    ObjectNode out = query(g.query());
    out.put("group_by", g.groupBy().toString());
    out.put("group_size", g.groupSize());
    out.put("limit", g.groups());
    QueryGroupsRequest.WithLookup lookup = g.withLookup();
    if (lookup == null) {
      absent(out, "with_lookup");
    } else if (lookup.withPayload().equals(WithPayload.ALL) && lookup.withVector().equals(WithVector.NONE) && r.nextBoolean()) {
      out.put("with_lookup", lookup.collection());
    } else {
      ObjectNode l = out.putObject("with_lookup").put("collection", lookup.collection());
      if (!lookup.withPayload().equals(WithPayload.ALL) || r.nextBoolean()) {
        l.set("with_payload", withPayload(lookup.withPayload(), true));
      }
      withVector(l, lookup.withVector());
    }
    return out;
  }

  /** A stage's fields; the root stage's are the request's own. */
  ObjectNode stage(Stage s) {
    if (canonically()) {
      return (ObjectNode) canonical(RequestJson.STAGE, s);
    }
    ObjectNode out = F.objectNode();
    if (!s.prefetch().isEmpty()) {
      out.set("prefetch", s.prefetch().size() == 1 && r.nextBoolean() ? stage(s.prefetch().getFirst())
          : array(s.prefetch(), this::stage));
    } else if (r.nextInt(4) == 0) {
      out.putArray("prefetch");
    }
    optional(out, "query", s.query() == null ? null : query(s.query()));
    if (!s.using().isEmpty() || r.nextBoolean()) {
      out.put("using", s.using());
    }
    optional(out, "filter", s.filter() == null ? null : filter(s.filter()));
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.set("params", params(s.params()));
    }
    optional(out, "score_threshold", s.scoreThreshold() == null ? null : F.numberNode((double) s.scoreThreshold()));
    optional(out, "limit", s.limit() == null ? null : F.numberNode(s.limit()));
    if (s.lookupFrom() != null) {
      ObjectNode l = out.putObject("lookup_from").put("collection", s.lookupFrom().collection());
      optional(l, "vector", s.lookupFrom().vector() == null ? null : F.textNode(s.lookupFrom().vector()));
    } else {
      absent(out, "lookup_from");
    }
    return out;
  }

  private ObjectNode params(SearchParams p) {
    ObjectNode out = F.objectNode();
    optional(out, "hnsw_ef", p.hnswEf() == null ? null : F.numberNode(p.hnswEf()));
    if (p.exact() || r.nextBoolean()) {
      out.put("exact", p.exact());
    }
    if (p.oversampling() != null) {
      out.putObject("quantization").put("oversampling", p.oversampling());
    }
    return out;
  }

  JsonNode query(Query q) {
    if (canonically()) {
      return canonical(RequestJson.QUERY, q);
    }
    return switch (q) {
      case Query.Nearest n when n.mmr() == null && r.nextBoolean() -> input(n.vector());
      case Query.Nearest n -> {
        ObjectNode out = F.objectNode().set("nearest", input(n.vector()));
        if (n.mmr() != null) {
          ObjectNode m = out.putObject("mmr");
          optional(m, "diversity", n.mmr().diversity() == null ? null : F.numberNode((double) n.mmr().diversity()));
          optional(m, "candidates_limit", n.mmr().candidatesLimit() == null ? null : F.numberNode(n.mmr().candidatesLimit()));
        }
        yield out;
      }
      case Query.Recommend rec -> {
        ObjectNode out = F.objectNode();
        ObjectNode body = out.putObject("recommend");
        examples(body, "positive", rec.positive());
        examples(body, "negative", rec.negative());
        if (rec.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR || r.nextBoolean()) {
          body.put("strategy", rec.strategy().name().toLowerCase(Locale.ROOT));
        }
        yield out;
      }
      case Query.Discover d -> {
        ObjectNode out = F.objectNode();
        out.putObject("discover").<ObjectNode>set("target", input(d.target())).set("context", pairs(d.context()));
        yield out;
      }
      case Query.Context c -> F.objectNode().set("context", pairs(c.pairs()));
      case Query.OrderByQuery o -> F.objectNode().set("order_by", orderBy(o.orderBy()));
      case Query.Fusion f when f.dbsf() -> F.objectNode().put("fusion", "dbsf");
      case Query.Fusion f when f.k() == Query.Fusion.DEFAULT_RRF_K && r.nextBoolean() ->
          r.nextBoolean() ? F.objectNode().put("fusion", "rrf") : F.objectNode().set("rrf", r.nextBoolean() ? F.objectNode() : F.nullNode());
      case Query.Fusion f -> {
        ObjectNode out = F.objectNode();
        out.putObject("rrf").put("k", f.k());
        yield out;
      }
      case Query.Formula f -> formula(f);
      case Query.Sample s -> F.objectNode().put("sample", "random");
    };
  }

  private void examples(ObjectNode out, String name, List<VectorInput> examples) {
    if (!examples.isEmpty() || r.nextBoolean()) {
      out.set(name, array(examples, this::input));
    }
  }

  /** Context pairs: a list, or one pair alone; none as an empty list or null. */
  private JsonNode pairs(List<Query.ContextPair> pairs) {
    if (pairs.isEmpty()) {
      return r.nextBoolean() ? F.arrayNode() : F.nullNode();
    }
    if (pairs.size() == 1 && r.nextBoolean()) {
      return pair(pairs.getFirst());
    }
    return array(pairs, this::pair);
  }

  private JsonNode pair(Query.ContextPair p) {
    return F.objectNode().<ObjectNode>set("positive", input(p.positive())).set("negative", input(p.negative()));
  }

  public JsonNode orderBy(OrderBy o) {
    if (canonically()) {
      return canonical(RequestJson.ORDER_BY, o);
    }
    if (!o.descending() && o.startFrom() == null && r.nextBoolean()) {
      return F.textNode(o.key().toString());
    }
    ObjectNode out = F.objectNode().put("key", o.key().toString());
    if (o.descending() || r.nextBoolean()) {
      out.put("direction", o.descending() ? "desc" : "asc");
    }
    optional(out, "start_from", o.startFrom() == null ? null : F.numberNode(o.startFrom()));
    return out;
  }

  private JsonNode formula(Query.Formula f) {
    ObjectNode out = F.objectNode().set("formula", expression(f.expression()));
    if (!f.payloadDefaults().isEmpty() || !f.scoreDefaults().isEmpty() || r.nextBoolean()) {
      ObjectNode d = out.putObject("defaults");
      f.payloadDefaults().forEach(d::set);
      f.scoreDefaults().forEach((i, v) -> d.put(score(i), v));
    }
    return out;
  }

  private String score(int prefetch) {
    return prefetch == 0 && r.nextBoolean() ? "$score" : "$score[" + prefetch + "]";
  }

  JsonNode expression(Expression e) {
    if (canonically()) {
      return canonical(RequestJson.EXPRESSION, e);
    }
    return switch (e) {
      case Expression.Constant c -> F.numberNode(c.value());
      case Expression.Score s -> F.textNode(score(s.prefetch()));
      case Expression.Payload p -> F.textNode(p.key().toString());
      case Expression.Condition c -> condition(c.filter().must().getFirst());
      case Expression.GeoDistance g -> {
        ObjectNode out = F.objectNode();
        ObjectNode d = out.putObject("geo_distance");
        d.putObject("origin").put("lon", g.lon()).put("lat", g.lat());
        d.put("to", g.to().toString());
        yield out;
      }
      case Expression.Datetime d -> F.objectNode().put("datetime", Instant.ofEpochSecond(d.micros() / 1_000_000).toString());
      case Expression.DatetimeKey d -> F.objectNode().put("datetime_key", d.key().toString());
      case Expression.Nary n -> F.objectNode().set(n.mult() ? "mult" : "sum", array(n.args(), this::expression));
      case Expression.Unary u -> F.objectNode().set(u.op().name().toLowerCase(Locale.ROOT), expression(u.arg()));
      case Expression.Div d -> {
        ObjectNode out = F.objectNode();
        ObjectNode div = out.putObject("div").<ObjectNode>set("left", expression(d.left())).set("right", expression(d.right()));
        optional(div, "by_zero_default", d.byZeroDefault() == null ? null : F.numberNode(d.byZeroDefault()));
        yield out;
      }
      case Expression.Pow p -> {
        ObjectNode out = F.objectNode();
        out.putObject("pow").<ObjectNode>set("base", expression(p.base())).set("exponent", expression(p.exponent()));
        yield out;
      }
      case Expression.Decay d -> decay(d);
    };
  }

  /**
   * A decay of scale 1, so that its midpoint is found back from lambda: 1 - lambda for a linear
   * decay, e^lambda otherwise (within an f64 rounding of the f32 midpoint, which the parser reads
   * back as that f32).
   */
  private JsonNode decay(Expression.Decay d) {
    ObjectNode out = F.objectNode();
    ObjectNode body = out.putObject(d.kind().name().toLowerCase(Locale.ROOT) + "_decay").set("x", expression(d.x()));
    if (d.target() != null) {
      body.set("target", expression(d.target()));
    }
    double midpoint = d.kind() == Expression.DecayKind.LIN ? 1 - d.lambda() : Math.exp(d.lambda());
    if ((float) midpoint != 0.5f || r.nextBoolean()) {
      body.put("midpoint", midpoint);
    }
    if (r.nextBoolean()) {
      body.put("scale", 1);
    }
    return out;
  }

  // ---- vectors ----

  JsonNode input(VectorInput v) {
    return switch (v) {
      case VectorInput.Dense d -> floats(d.values());
      case VectorInput.Multi m -> {
        ArrayNode rows = F.arrayNode();
        for (float[] row : m.rows()) {
          rows.add(floats(row));
        }
        yield rows;
      }
      case VectorInput.Sparse s -> sparse(s.vector());
      case VectorInput.Id id -> id(id.id());
      case VectorInput.Document d -> F.objectNode().put("model", d.model()).put("text", d.text());
    };
  }

  private static ArrayNode floats(float[] values) {
    ArrayNode out = F.arrayNode();
    for (float x : values) {
      out.add((double) x);
    }
    return out;
  }

  /** Indices and values in a random order of their pairs: the parser sorts them. */
  private JsonNode sparse(SparseVector v) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < v.indices().length; i++) {
      order.add(i);
    }
    Collections.shuffle(order, r);
    ObjectNode out = F.objectNode();
    ArrayNode indices = out.putArray("indices");
    ArrayNode values = out.putArray("values");
    for (int i : order) {
      indices.add(v.indices()[i]);
      values.add((double) v.values()[i]);
    }
    return out;
  }

  /** An id as a number, or a UUID hyphenated or as 32 hex digits in either case. */
  public JsonNode id(PointId id) {
    if (canonically()) {
      return canonical(RequestJson.POINT_ID, id);
    }
    return switch (id) {
      case PointId.Num n -> F.numberNode(n.value());
      case PointId.Uuid u -> {
        String s = u.value().toString();
        if (r.nextInt(4) == 0) {
          s = s.replace("-", "");
        }
        yield F.textNode(r.nextInt(4) == 0 ? s.toUpperCase(Locale.ROOT) : s);
      }
    };
  }

  private JsonNode vectors(Vectors v) {
    if (v.byName().size() == 1 && v.byName().containsKey("")) {
      return input(v.byName().get(""));
    }
    ObjectNode out = F.objectNode();
    v.byName().forEach((name, x) -> out.set(name, input(x)));
    return out;
  }

  // ---- filters ----

  public JsonNode filter(Filter f) {
    if (canonically()) {
      return canonical(RequestJson.FILTER, f);
    }
    ObjectNode out = F.objectNode();
    conditions(out, "must", f.must());
    conditions(out, "should", f.should());
    conditions(out, "must_not", f.mustNot());
    if (f.minShould() != null) {
      out.putObject("min_should").<ObjectNode>set("conditions", array(f.minShould().conditions(), this::condition))
          .put("min_count", f.minShould().minCount());
    }
    return out;
  }

  private void conditions(ObjectNode out, String name, List<Condition> conditions) {
    if (conditions == null) {
      absent(out, name);
    } else if (conditions.size() == 1 && r.nextBoolean()) {
      out.set(name, condition(conditions.getFirst()));
    } else {
      out.set(name, array(conditions, this::condition));
    }
  }

  JsonNode condition(Condition c) {
    return switch (c) {
      case Filter f -> filter(f);
      case Condition.Field f -> field(f);
      case Condition.IsEmpty e -> F.objectNode().set("is_empty", F.objectNode().put("key", e.key().toString()));
      case Condition.IsNull n -> F.objectNode().set("is_null", F.objectNode().put("key", n.key().toString()));
      case Condition.HasId h -> F.objectNode().set("has_id", array(h.ids(), this::id));
      case Condition.HasVector h -> F.objectNode().put("has_vector", h.vector());
      case Condition.Nested n -> {
        ObjectNode out = F.objectNode();
        out.putObject("nested").put("key", n.key().toString()).set("filter", filter(n.filter()));
        yield out;
      }
    };
  }

  private JsonNode field(Condition.Field f) {
    ObjectNode out = F.objectNode().put("key", f.key().toString());
    if (f.match() != null) {
      out.set("match", match(f.match()));
    }
    if (f.range() instanceof Condition.NumberRange n) {
      ObjectNode range = out.putObject("range");
      optional(range, "lt", n.lt() == null ? null : F.numberNode(n.lt()));
      optional(range, "gt", n.gt() == null ? null : F.numberNode(n.gt()));
      optional(range, "gte", n.gte() == null ? null : F.numberNode(n.gte()));
      optional(range, "lte", n.lte() == null ? null : F.numberNode(n.lte()));
    }
    if (f.valuesCount() != null) {
      ObjectNode count = out.putObject("values_count");
      optional(count, "lt", f.valuesCount().lt() == null ? null : F.numberNode(f.valuesCount().lt()));
      optional(count, "gt", f.valuesCount().gt() == null ? null : F.numberNode(f.valuesCount().gt()));
      optional(count, "gte", f.valuesCount().gte() == null ? null : F.numberNode(f.valuesCount().gte()));
      optional(count, "lte", f.valuesCount().lte() == null ? null : F.numberNode(f.valuesCount().lte()));
    }
    if (f.isEmpty() != null) {
      out.put("is_empty", f.isEmpty());
    }
    if (f.isNull() != null) {
      out.put("is_null", f.isNull());
    }
    return out;
  }

  private JsonNode match(Match m) {
    return switch (m) {
      case Match.Value v -> F.objectNode().set("value", switch (v.value()) {
        case String s -> F.textNode(s);
        case Long l -> F.numberNode(l);
        case Boolean b -> F.booleanNode(b);
        default -> throw new IllegalArgumentException(v.toString());
      });
      case Match.Text t -> F.objectNode().put("text", t.text());
      case Match.TextAny t -> F.objectNode().put("text_any", t.textAny());
      case Match.Phrase p -> F.objectNode().put("phrase", p.phrase());
      case Match.Any a -> F.objectNode().set("any", values(a.any()));
      case Match.Except e -> F.objectNode().set("except", values(e.except()));
    };
  }

  private static JsonNode values(Match.Values values) {
    ArrayNode out = F.arrayNode();
    switch (values) {
      case Match.Keywords k -> k.values().forEach(out::add);
      case Match.Integers i -> i.values().forEach(out::add);
    }
    return out;
  }

  // ---- what to return, shard keys ----

  private void returned(ObjectNode out, WithPayload payload, WithVector vector) {
    if (!payload.equals(WithPayload.NONE) || r.nextBoolean()) {
      out.set("with_payload", withPayload(payload, false));
    }
    withVector(out, vector);
  }

  /** @param allByDefault whether an absent (or null) {@code with_payload} means all of it, as in a lookup */
  public JsonNode withPayload(WithPayload p, boolean allByDefault) {
    if (!p.enabled()) {
      return allByDefault || r.nextBoolean() ? F.booleanNode(false) : F.nullNode();
    }
    if (p.include() != null) {
      return r.nextBoolean() ? strings(p.include()) : F.objectNode().set("include", strings(p.include()));
    }
    if (p.exclude() != null) {
      return F.objectNode().set("exclude", strings(p.exclude()));
    }
    return F.booleanNode(true);
  }

  /** {@code with_vector} or its alias {@code with_vectors}; nothing for none, sometimes. */
  private void withVector(ObjectNode out, WithVector v) {
    String name = r.nextBoolean() ? "with_vector" : "with_vectors";
    if (!v.enabled()) {
      if (r.nextBoolean()) {
        out.put(name, false);
      }
    } else {
      out.set(name, v.names() == null ? F.booleanNode(true) : strings(v.names()));
    }
  }

  private void shardKey(ObjectNode out, ShardKeySelector s) {
    if (s == null) {
      absent(out, "shard_key");
      return;
    }
    JsonNode keys = s.keys().size() == 1 && r.nextBoolean() ? shardKeyValue(s.keys().getFirst()) : array(s.keys(), this::shardKeyValue);
    if (s.fallback() == null && r.nextBoolean()) {
      out.set("shard_key", keys);
    } else {
      ObjectNode target = out.putObject("shard_key").set("target", keys);
      optional(target, "fallback", s.fallback() == null ? null : shardKeyValue(s.fallback()));
    }
  }

  private JsonNode shardKeyValue(Object key) {
    return key instanceof Long l ? F.numberNode(l) : F.textNode((String) key);
  }

  // ---- point writes ----

  /** The operation that carries {@code op} alone. */
  static StorageOp storageOp(PointOperation op) {
    return switch (op) {
      case PointOperation.Upsert u -> StorageOp.UPSERT_POINTS;
      case PointOperation.Delete d -> StorageOp.DELETE_POINTS;
      case PointOperation.SetPayload s -> s.overwrite() ? StorageOp.OVERWRITE_PAYLOAD : StorageOp.SET_PAYLOAD;
      case PointOperation.DeletePayload d -> StorageOp.DELETE_PAYLOAD;
      case PointOperation.ClearPayload c -> StorageOp.CLEAR_PAYLOAD;
      case PointOperation.UpdateVectors u -> StorageOp.UPDATE_VECTORS;
      case PointOperation.DeleteVectors d -> StorageOp.DELETE_VECTORS;
    };
  }

  /** {@code {"operations": [{"upsert": {...}}, ...]}}: each step named as its operation, lower case. */
  ObjectNode batch(List<PointOperation> ops) {
    ObjectNode out = F.objectNode();
    ArrayNode steps = out.putArray("operations");
    ops.forEach(op -> steps.addObject().set(storageName(op), operation(op)));
    return out;
  }

  private static String storageName(PointOperation op) {
    String name = storageOp(op).name().toLowerCase(Locale.ROOT);
    return switch (name) {
      case "upsert_points" -> "upsert";
      case "delete_points" -> "delete";
      default -> name;
    };
  }

  /** The body of one operation, as its own endpoint and as a step of a batch take it. */
  public ObjectNode operation(PointOperation op) {
    ObjectNode out = switch (op) {
      case PointOperation.Upsert u -> {
        ObjectNode body = r.nextBoolean() ? columns(u.points()) : rows(u.points());
        optional(body, "update_filter", u.updateFilter() == null ? null : filter(u.updateFilter()));
        yield body;
      }
      case PointOperation.Delete d -> selector(d.selector());
      case PointOperation.SetPayload s -> {
        ObjectNode body = selector(s.selector()).set("payload", s.payload());
        optional(body, "key", s.key() == null ? null : F.textNode(s.key()));
        yield body;
      }
      case PointOperation.DeletePayload d -> selector(d.selector()).set("keys", strings(d.keys()));
      case PointOperation.ClearPayload c -> selector(c.selector());
      case PointOperation.UpdateVectors u -> {
        ObjectNode body = F.objectNode();
        ArrayNode points = body.putArray("points");
        u.points().forEach(p -> points.addObject().<ObjectNode>set("id", id(p.id())).set("vector", vectors(p.vectors())));
        optional(body, "update_filter", u.updateFilter() == null ? null : filter(u.updateFilter()));
        yield body;
      }
      case PointOperation.DeleteVectors d -> selector(d.selector()).set("vector", strings(d.vectors()));
    };
    shardKey(out, op.shardKey());
    return out;
  }

  private ObjectNode rows(List<PointStruct> points) {
    ObjectNode out = F.objectNode();
    ArrayNode rows = out.putArray("points");
    for (PointStruct p : points) {
      ObjectNode row = rows.addObject().set("id", id(p.id()));
      row.set(r.nextBoolean() ? "vector" : "vectors", vectors(p.vectors()));
      payload(row, "payload", p.payload());
    }
    return out;
  }

  /** The column form: every point has the same vector names (the generator makes them so). */
  private ObjectNode columns(List<PointStruct> points) {
    ObjectNode out = F.objectNode();
    ObjectNode batch = out.putObject("batch");
    batch.set("ids", array(points, p -> id(p.id())));
    Vectors first = points.getFirst().vectors();
    if (first.byName().size() == 1 && first.byName().containsKey("")) {
      batch.set("vectors", array(points, p -> input(p.vectors().byName().get(""))));
    } else {
      ObjectNode columns = batch.putObject("vectors");
      first.byName().keySet().forEach(name -> columns.set(name, array(points, p -> input(p.vectors().byName().get(name)))));
    }
    if (points.stream().anyMatch(p -> !p.payload().isEmpty()) || r.nextBoolean()) {
      ArrayNode payloads = batch.putArray("payloads");
      points.forEach(p -> payloads.add(p.payload().isEmpty() && r.nextBoolean() ? F.nullNode() : p.payload()));
    }
    return out;
  }

  private void payload(ObjectNode out, String name, ObjectNode payload) {
    if (!payload.isEmpty() || r.nextBoolean()) {
      out.set(name, payload);
    } else {
      absent(out, name);
    }
  }

  private ObjectNode selector(PointsSelector s) {
    ObjectNode out = F.objectNode();
    if (s.ids() != null) {
      out.set("points", array(s.ids(), this::id));
      absent(out, "filter");
    } else {
      out.set("filter", filter(s.filter()));
    }
    return out;
  }

  /** {@code wait} and {@code ordering} as query parameters; defaults left out at random. */
  public Map<String, String> params(WriteParams w) {
    Map<String, String> out = new HashMap<>();
    if (w.waitForResult() || r.nextBoolean()) {
      out.put("wait", w.waitForResult() ? "true" : "false");
    }
    if (w.ordering() != WriteParams.Ordering.WEAK || r.nextBoolean()) {
      out.put("ordering", w.ordering().name().toLowerCase(Locale.ROOT));
    }
    return out;
  }

  // ---- legacy searches ----

  /** The legacy operation whose request says what {@code q} says: search, recommend or discover. */
  static StorageOp legacyOp(QueryRequest q) {
    return switch (q.root().query()) {
      case Query.Nearest n -> StorageOp.SEARCH_POINTS;
      case Query.Recommend rec -> StorageOp.RECOMMEND_POINTS;
      default -> StorageOp.DISCOVER_POINTS;
    };
  }

  /**
   * {@code q} as a legacy search, recommend or discover body: the vector named by the search's
   * {@code vector}, examples and context at the top, and {@code lookup_from.vector} left out when
   * it is the vector searched (legacy requests default it so).
   */
  public ObjectNode legacy(QueryRequest q) {
    Stage s = q.root();
    ObjectNode out = F.objectNode();
    switch (s.query()) {
      case Query.Nearest n when s.using().isEmpty() && n.vector() instanceof VectorInput.Dense && r.nextBoolean() ->
          out.set("vector", input(n.vector()));
      case Query.Nearest n -> out.putObject("vector").put("name", s.using()).set("vector", input(n.vector()));
      case Query.Recommend rec -> {
        examples(out, "positive", rec.positive());
        examples(out, "negative", rec.negative());
        if (rec.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR || r.nextBoolean()) {
          out.put("strategy", rec.strategy().name().toLowerCase(Locale.ROOT));
        }
      }
      case Query.Discover d -> out.<ObjectNode>set("target", input(d.target())).set("context", array(d.context(), this::pair));
      case Query.Context c -> out.set("context", array(c.pairs(), this::pair));
      default -> throw new IllegalArgumentException("no legacy form of " + s.query());
    }
    if (!(s.query() instanceof Query.Nearest) && (!s.using().isEmpty() || r.nextBoolean())) {
      out.put("using", s.using());
    }
    if (s.lookupFrom() != null) {
      ObjectNode l = out.putObject("lookup_from").put("collection", s.lookupFrom().collection());
      if (!s.lookupFrom().vector().equals(s.using()) || r.nextBoolean()) {
        l.put("vector", s.lookupFrom().vector());
      }
    }
    out.put("limit", s.limit());
    if (q.offset() != 0 || r.nextBoolean()) {
      out.put("offset", q.offset());
    }
    optional(out, "filter", s.filter() == null ? null : filter(s.filter()));
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.set("params", params(s.params()));
    }
    optional(out, "score_threshold", s.scoreThreshold() == null ? null : F.numberNode((double) s.scoreThreshold()));
    returned(out, q.withPayload(), q.withVector());
    shardKey(out, q.shardKey());
    return out;
  }

  // ---- basics ----

  /** Whether to write the next part in its canonical wire form (one time in eight). */
  private boolean canonically() {
    return r.nextInt(8) == 0;
  }

  /** {@code value} as the canonical wire form writes it, as a tree. */
  static <T> JsonNode canonical(RequestJson.Form<T> form, T value) {
    try {
      return Json.MAPPER.readTree(form.write(value));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private <T> ArrayNode array(Collection<T> items, java.util.function.Function<T, JsonNode> write) {
    ArrayNode out = F.arrayNode();
    items.forEach(i -> out.add(write.apply(i)));
    return out;
  }

  private static ArrayNode strings(Collection<String> items) {
    ArrayNode out = F.arrayNode();
    items.forEach(out::add);
    return out;
  }

  /** A field that may be left out: its value, or (at random) nothing or an explicit null when there is none. */
  private void optional(ObjectNode out, String name, JsonNode value) {
    if (value != null) {
      out.set(name, value);
    } else {
      absent(out, name);
    }
  }

  /** An absent optional field: left out, or sometimes an explicit null, which serde reads as none. */
  private void absent(ObjectNode out, String name) {
    if (r.nextInt(4) == 0) {
      out.putNull(name);
    }
  }
}
