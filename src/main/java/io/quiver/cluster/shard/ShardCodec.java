package io.quiver.cluster.shard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.query.Sampling;
import io.quiver.request.RequestJson;
import io.quiver.storage.collection.ShardEndpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON form of {@link ShardEndpoint} calls and results between nodes. Request parts (stages,
 * filters, point operations, ids, selectors) travel in their canonical Qdrant JSON ({@link
 * RequestJson}) and are read back by the same parsers; floats travel as their bits (scores as
 * {@code int}s, vectors as base64 of little-endian floats), so a score or vector read on another node
 * is the same float to the last bit.
 */
final class ShardCodec {
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  private ShardCodec() {}

  // ---- values ----

  static JsonNode id(PointId id) {
    return id.toJson();
  }

  static PointId id(JsonNode n) {
    return RequestJson.POINT_ID.read(n);
  }

  static ArrayNode ids(List<PointId> ids) {
    ArrayNode a = F.arrayNode(ids.size());
    ids.forEach(i -> a.add(i.toJson()));
    return a;
  }

  static List<PointId> ids(JsonNode a) {
    List<PointId> out = new ArrayList<>(a.size());
    a.forEach(n -> out.add(id(n)));
    return out;
  }

  static JsonNode filter(Filter f) {
    return f == null ? F.nullNode() : tree(RequestJson.FILTER.write(f));
  }

  static Filter filter(JsonNode n) {
    return n == null || n.isNull() ? null : RequestJson.FILTER.read(n);
  }

  static String floats(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return Base64.getEncoder().encodeToString(b.array());
  }

  static float[] floats(JsonNode n) {
    byte[] bytes = Base64.getDecoder().decode(n.asText());
    float[] out = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  static String ints(int[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asIntBuffer().put(v);
    return Base64.getEncoder().encodeToString(b.array());
  }

  static int[] ints(JsonNode n) {
    byte[] bytes = Base64.getDecoder().decode(n.asText());
    int[] out = new int[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  static JsonNode tree(byte[] json) {
    try {
      return io.quiver.json.Json.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable canonical JSON", e);
    }
  }

  // ---- records ----

  static ObjectNode hit(ShardEndpoint.Hit h) {
    ObjectNode o = F.objectNode();
    o.set("id", h.id().toJson());
    o.put("s", Float.floatToRawIntBits(h.score()));
    if (h.orderValue() != null) {
      if (h.orderValue() instanceof Double || h.orderValue() instanceof Float) {
        o.put("od", Double.doubleToRawLongBits(h.orderValue().doubleValue()));
      } else {
        o.put("ol", h.orderValue().longValue());
      }
    }
    o.put("v", h.version());
    if (h.payload() != null) {
      o.set("p", h.payload());
    }
    if (h.vector() != null) {
      o.set("x", h.vector());
    }
    return o;
  }

  static ShardEndpoint.Hit hit(JsonNode o) {
    Number order = o.has("od") ? (Number) Double.longBitsToDouble(o.get("od").asLong()) : o.has("ol") ? (Number) o.get("ol").asLong() : null;
    return new ShardEndpoint.Hit(id(o.get("id")), Float.intBitsToFloat(o.get("s").asInt()), order, o.path("v").asLong(),
        o.get("p"), o.get("x"));
  }

  static ArrayNode hits(List<ShardEndpoint.Hit> hits) {
    ArrayNode a = F.arrayNode(hits.size());
    hits.forEach(h -> a.add(hit(h)));
    return a;
  }

  static List<ShardEndpoint.Hit> hits(JsonNode a) {
    List<ShardEndpoint.Hit> out = new ArrayList<>(a.size());
    a.forEach(n -> out.add(hit(n)));
    return out;
  }

  static ObjectNode point(Point p) {
    ObjectNode o = F.objectNode();
    o.set("id", p.id().toJson());
    ObjectNode dense = o.putObject("d");
    new TreeMap<>(p.dense()).forEach((name, v) -> dense.put(name, floats(v)));
    ObjectNode sparse = o.putObject("s");
    new TreeMap<>(p.sparse()).forEach((name, v) -> sparse.putObject(name).put("i", ints(v.indices())).put("v", floats(v.values())));
    if (p.payload() != null) {
      o.set("p", p.payload());
    }
    return o;
  }

  static Point point(JsonNode o) {
    Map<String, float[]> dense = new LinkedHashMap<>();
    o.path("d").properties().forEach(e -> dense.put(e.getKey(), floats(e.getValue())));
    Map<String, SparseVector> sparse = new LinkedHashMap<>();
    o.path("s").properties().forEach(e -> sparse.put(e.getKey(), new SparseVector(ints(e.getValue().get("i")), floats(e.getValue().get("v")))));
    JsonNode payload = o.get("p");
    return new Point(id(o.get("id")), dense, sparse, payload == null || payload.isNull() ? null : (ObjectNode) payload);
  }

  static ArrayNode points(List<Point> points) {
    ArrayNode a = F.arrayNode(points.size());
    points.forEach(p -> a.add(point(p)));
    return a;
  }

  static List<Point> points(JsonNode a) {
    List<Point> out = new ArrayList<>(a.size());
    a.forEach(n -> out.add(point(n)));
    return out;
  }

  static ObjectNode examples(ShardEndpoint.Examples e) {
    ObjectNode o = F.objectNode();
    if (e.vector() != null) {
      o.put("vector", e.vector());
    }
    ArrayNode pts = o.putArray("points");
    e.points().values().forEach(p -> pts.add(point(p)));
    return o;
  }

  static ShardEndpoint.Examples examples(JsonNode o) {
    if (o == null || o.isNull()) {
      return null;
    }
    Map<PointId, Point> pts = new LinkedHashMap<>();
    o.path("points").forEach(n -> {
      Point p = point(n);
      pts.put(p.id(), p);
    });
    return new ShardEndpoint.Examples(o.hasNonNull("vector") ? o.get("vector").asText() : null, pts);
  }

  static ObjectNode facetHit(Facets.Hit h) {
    ObjectNode o = F.objectNode().put("c", h.count());
    switch (h.value()) {
      case String s -> o.put("s", s);
      case Boolean b -> o.put("b", b);
      case Number n -> o.put("l", n.longValue());
      default -> throw new IllegalArgumentException("facet value of type " + h.value().getClass());
    }
    return o;
  }

  static Facets.Hit facetHit(JsonNode o) {
    Object v = o.has("s") ? o.get("s").asText() : o.has("b") ? (Object) o.get("b").asBoolean() : (Object) o.get("l").asLong();
    return new Facets.Hit(v, o.get("c").asLong());
  }

  static ObjectNode sampled(Sampling.Sampled s) {
    return F.objectNode().<ObjectNode>set("id", s.id().toJson()).put("v", floats(s.vector()));
  }

  static Sampling.Sampled sampled(JsonNode o) {
    return new Sampling.Sampled(id(o.get("id")), floats(o.get("v")));
  }
}
