package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * {@link FilterOracleTest}'s random payloads and filters for tests in other packages (which go
 * through the REST API): the points and filters of its generator, filters rendered as Qdrant JSON,
 * and its payload index schemas as create-index requests. {@link FilterMatcher} is the oracle.
 */
public final class RandomFilters {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final DateTimeFormatter MICROS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  /** A random point: its id, payload and the names of the vectors it has ("" and/or "img"). */
  public record RandomPoint(PointId id, ObjectNode payload, Set<String> vectors) {}

  /** One payload index: the body of {@code PUT /collections/{name}/index}. */
  public record IndexRequest(String field, JsonNode schema) {
    public ObjectNode body() {
      return F.objectNode().put("field_name", field).set("field_schema", schema);
    }
  }

  /**
   * The indexed schemas of {@link FilterOracleTest#SCHEMAS} (the first one there is no index at
   * all), as create-index requests.
   */
  public static final List<List<IndexRequest>> INDEX_SETS = List.of(
      List.of(
          index("txt", "{'type': 'text', 'phrase_matching': true, 'stopwords': {'custom': ['the']}}"),
          index("arr[].t", "{'type': 'text'}"),
          index("s", "'keyword'"),
          index("n", "{'type': 'integer', 'lookup': true}")),
      List.of(
          index("txt", "{'type': 'text', 'tokenizer': 'prefix', 'min_token_len': 2, 'max_token_len': 4, 'lowercase': false}"),
          index("tags", "{'type': 'text', 'tokenizer': 'whitespace', 'phrase_matching': true}"),
          index("arr[0].t", "{'type': 'text', 'phrase_matching': true}")));

  private static IndexRequest index(String field, String json) {
    return new IndexRequest(field, PayloadSchemaTest.json(json));
  }

  /** The payload schema the server builds from these requests (what the oracle matches with). */
  public static PayloadSchema schemaOf(List<IndexRequest> indexes) {
    PayloadSchema out = PayloadSchema.EMPTY;
    for (IndexRequest i : indexes) {
      out = out.with(i.field(), PayloadSchema.parseIndexRequest(i.field(), i.schema()));
    }
    return out;
  }

  private final FilterOracleTest.Gen gen;

  public RandomFilters(Random random) {
    this.gen = new FilterOracleTest.Gen(random);
  }

  /** Point number {@code i}: id {@code 3i + 1}, or a random UUID when i is a multiple of 5. */
  public RandomPoint point(int i) {
    FilterOracleTest.Point p = gen.point(i);
    return new RandomPoint(p.id(), p.payload(), p.vectors());
  }

  /** A random filter over the payloads (and ids) of the points made so far. */
  public Filter filter() {
    return gen.filter(0);
  }

  public static Filter parse(JsonNode json) {
    return FilterParser.parse(json);
  }

  // ---- filters as JSON ----

  public static ObjectNode toJson(Filter f) {
    ObjectNode o = F.objectNode();
    if (f.must() != null) {
      o.set("must", conditions(f.must()));
    }
    if (f.should() != null) {
      o.set("should", conditions(f.should()));
    }
    if (f.mustNot() != null) {
      o.set("must_not", conditions(f.mustNot()));
    }
    if (f.minShould() != null) {
      ObjectNode m = o.putObject("min_should");
      m.set("conditions", conditions(f.minShould().conditions()));
      m.put("min_count", f.minShould().minCount());
    }
    return o;
  }

  private static ArrayNode conditions(List<Condition> cs) {
    ArrayNode a = F.arrayNode();
    cs.forEach(c -> a.add(condition(c)));
    return a;
  }

  private static ObjectNode condition(Condition c) {
    ObjectNode o = F.objectNode();
    switch (c) {
      case Filter f -> {
        return toJson(f);
      }
      case Condition.IsEmpty e -> o.putObject("is_empty").put("key", e.key().toString());
      case Condition.IsNull n -> o.putObject("is_null").put("key", n.key().toString());
      case Condition.HasId h -> {
        ArrayNode ids = o.putArray("has_id");
        h.ids().forEach(id -> ids.add(id.toJson()));
      }
      case Condition.HasVector v -> o.put("has_vector", v.vector());
      case Condition.Nested n -> {
        ObjectNode nested = o.putObject("nested");
        nested.put("key", n.key().toString());
        nested.set("filter", toJson(n.filter()));
      }
      case Condition.Field f -> field(f, o);
    }
    return o;
  }

  private static void field(Condition.Field f, ObjectNode o) {
    o.put("key", f.key().toString());
    if (f.match() != null) {
      o.set("match", match(f.match()));
    }
    if (f.range() != null) {
      ObjectNode r = o.putObject("range");
      switch (f.range()) {
        case Condition.NumberRange n -> {
          putDouble(r, "lt", n.lt());
          putDouble(r, "gt", n.gt());
          putDouble(r, "gte", n.gte());
          putDouble(r, "lte", n.lte());
        }
        case Condition.DatetimeRange d -> {
          putDate(r, "lt", d.lt());
          putDate(r, "gt", d.gt());
          putDate(r, "gte", d.gte());
          putDate(r, "lte", d.lte());
        }
      }
    }
    if (f.geoBoundingBox() != null) {
      ObjectNode b = o.putObject("geo_bounding_box");
      b.set("top_left", geo(f.geoBoundingBox().topLeft()));
      b.set("bottom_right", geo(f.geoBoundingBox().bottomRight()));
    }
    if (f.geoRadius() != null) {
      ObjectNode r = o.putObject("geo_radius");
      r.set("center", geo(f.geoRadius().center()));
      r.put("radius", f.geoRadius().radius());
    }
    if (f.geoPolygon() != null) {
      ObjectNode p = o.putObject("geo_polygon");
      p.set("exterior", ring(f.geoPolygon().exterior()));
      ArrayNode in = p.putArray("interiors");
      f.geoPolygon().interiors().forEach(r -> in.add(ring(r)));
    }
    if (f.valuesCount() != null) {
      ObjectNode v = o.putObject("values_count");
      Condition.ValuesCount c = f.valuesCount();
      for (var e : new Object[][] {{"lt", c.lt()}, {"gt", c.gt()}, {"gte", c.gte()}, {"lte", c.lte()}}) {
        if (e[1] != null) {
          v.put((String) e[0], (Long) e[1]);
        }
      }
    }
    if (f.isEmpty() != null) {
      o.put("is_empty", f.isEmpty());
    }
    if (f.isNull() != null) {
      o.put("is_null", f.isNull());
    }
  }

  private static void putDouble(ObjectNode o, String name, Double v) {
    if (v != null) {
      o.put(name, v);
    }
  }

  private static void putDate(ObjectNode o, String name, Long micros) {
    if (micros != null) {
      Instant t = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
      o.put(name, MICROS.format(t));
    }
  }

  private static ObjectNode geo(Geo.Point p) {
    return F.objectNode().put("lon", p.lon()).put("lat", p.lat());
  }

  private static ObjectNode ring(List<Geo.Point> points) {
    ObjectNode r = F.objectNode();
    ArrayNode a = r.putArray("points");
    points.forEach(p -> a.add(geo(p)));
    return r;
  }

  private static ObjectNode match(Match m) {
    ObjectNode o = F.objectNode();
    switch (m) {
      case Match.Value v -> {
        switch (v.value()) {
          case String s -> o.put("value", s);
          case Long l -> o.put("value", l);
          case Boolean b -> o.put("value", b);
          default -> throw new IllegalArgumentException("match value " + v);
        }
      }
      case Match.Any a -> o.set("any", values(a.any()));
      case Match.Except e -> o.set("except", values(e.except()));
      case Match.Text t -> o.put("text", t.text());
      case Match.TextAny t -> o.put("text_any", t.textAny());
      case Match.Phrase p -> o.put("phrase", p.phrase());
    }
    return o;
  }

  private static ArrayNode values(Match.Values v) {
    ArrayNode a = F.arrayNode();
    switch (v) {
      case Match.Keywords k -> k.values().forEach(a::add);
      case Match.Integers i -> i.values().forEach(a::add);
    }
    return a;
  }
}
