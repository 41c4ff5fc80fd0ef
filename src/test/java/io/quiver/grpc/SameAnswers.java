package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.ScoredPoint;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Assertions that a gRPC answer says what REST's JSON answer to the same request says: ids,
 * versions, bit-exact scores, order values, payloads (numbers by value: a gRPC integer and a JSON
 * integer, a double and a double) and vectors (as f32), read from the messages' fields, not through
 * the service's own renderer.
 */
final class SameAnswers {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private SameAnswers() {}

  /** Scored points: ids, versions, bit-exact scores, payloads, vectors and order values as REST answers them. */
  static void assertScored(JsonNode rest, List<ScoredPoint> grpc) {
    assertEquals(rest.size(), grpc.size(), () -> "REST " + rest + "\ngRPC " + grpc);
    for (int i = 0; i < grpc.size(); i++) {
      JsonNode r = rest.get(i);
      ScoredPoint g = grpc.get(i);
      assertEquals(Float.floatToIntBits(r.get("score").floatValue()), Float.floatToIntBits(g.getScore()),
          "score of " + r.get("id") + ": " + r.get("score") + " vs " + g.getScore());
      assertEquals(r.get("version").asLong(), g.getVersion());
      assertOrderValue(r.get("order_value"), g.hasOrderValue() ? g.getOrderValue() : null);
      assertRecord(r, g.getId(), g.getPayloadMap(), g.hasVectors() ? g.getVectors() : null);
    }
  }

  static void assertRecords(JsonNode rest, List<Points.RetrievedPoint> grpc) {
    assertEquals(rest.size(), grpc.size(), () -> "REST " + rest + "\ngRPC " + grpc);
    for (int i = 0; i < grpc.size(); i++) {
      Points.RetrievedPoint g = grpc.get(i);
      assertOrderValue(rest.get(i).get("order_value"), g.hasOrderValue() ? g.getOrderValue() : null);
      assertRecord(rest.get(i), g.getId(), g.getPayloadMap(), g.hasVectors() ? g.getVectors() : null);
    }
  }

  static void assertGroups(JsonNode rest, Points.GroupsResult grpc) {
    assertEquals(rest.size(), grpc.getGroupsCount(), () -> "REST " + rest + "\ngRPC " + grpc);
    for (int i = 0; i < rest.size(); i++) {
      JsonNode r = rest.get(i);
      Points.PointGroup g = grpc.getGroups(i);
      assertEquals(r.get("id").asText(), switch (g.getId().getKindCase()) {
        case STRING_VALUE -> g.getId().getStringValue();
        case UNSIGNED_VALUE -> Long.toString(g.getId().getUnsignedValue());
        default -> Long.toString(g.getId().getIntegerValue());
      });
      assertScored(r.get("hits"), g.getHitsList());
      assertEquals(r.has("lookup"), g.hasLookup());
      if (g.hasLookup()) {
        assertRecord(r.get("lookup"), g.getLookup().getId(), g.getLookup().getPayloadMap(), null);
      }
    }
  }

  /** Facet hits: the same values (a keyword, an integer or a boolean) with the same counts, in the same order. */
  static void assertFacetHits(JsonNode rest, List<Points.FacetHit> grpc) {
    assertEquals(rest.size(), grpc.size(), () -> "REST " + rest + "\ngRPC " + grpc);
    for (int i = 0; i < grpc.size(); i++) {
      JsonNode r = rest.get(i);
      Points.FacetValue v = grpc.get(i).getValue();
      JsonNode value = switch (v.getVariantCase()) {
        case STRING_VALUE -> F.textNode(v.getStringValue());
        case INTEGER_VALUE -> F.numberNode(v.getIntegerValue());
        case BOOL_VALUE -> F.booleanNode(v.getBoolValue());
        default -> F.nullNode();
      };
      assertTrue(r.get("value").equals(SAME_NUMBER, value), () -> "facet value " + r.get("value") + " vs " + v);
      assertEquals(r.get("count").asLong(), grpc.get(i).getCount());
    }
  }

  static void assertRecord(JsonNode rest, PointId id, Map<String, JsonWithInt.Value> payload, Points.VectorsOutput vectors) {
    assertEquals(rest.get("id").asText(), id.hasUuid() ? id.getUuid() : Long.toUnsignedString(id.getNum()));
    JsonNode restPayload = rest.get("payload") == null || rest.get("payload").isNull() ? F.objectNode() : rest.get("payload");
    assertTrue(restPayload.equals(SAME_NUMBER, Values.json(payload)), () -> "payload " + restPayload + " vs " + payload);
    JsonNode restVector = rest.get("vector");
    if (vectors == null || restVector == null || restVector.isNull()) {
      assertEquals(restVector == null || restVector.isNull(), vectors == null, () -> "vectors " + restVector + " vs " + vectors);
      return;
    }
    assertTrue(restVector.equals(SAME_FLOAT, json(vectors)), () -> "vectors " + restVector + " vs " + json(vectors));
  }

  /** REST's {@code order_value} (absent, null, an integer or a float) and gRPC's. */
  private static void assertOrderValue(JsonNode rest, Points.OrderValue grpc) {
    boolean none = rest == null || rest.isNull();
    assertEquals(none, grpc == null, () -> "order value " + rest + " vs " + grpc);
    if (!none) {
      JsonNode value = grpc.hasInt() ? F.numberNode(grpc.getInt()) : F.numberNode(grpc.getFloat());
      assertTrue(rest.equals(SAME_NUMBER, value), () -> "order value " + rest + " vs " + grpc);
    }
  }

  /** Numbers equal as integers, or as doubles (a payload's 12.5 and 12.5). */
  static final Comparator<JsonNode> SAME_NUMBER = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return a.isIntegralNumber() && b.isIntegralNumber() ? Long.compare(a.longValue(), b.longValue())
          : Double.compare(a.doubleValue(), b.doubleValue());
    }
    return a.equals(b) ? 0 : 1;
  };

  /** Numbers equal as f32, as vectors are. */
  static final Comparator<JsonNode> SAME_FLOAT = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return Float.compare(a.floatValue(), b.floatValue());
    }
    return a.equals(b) ? 0 : 1;
  };

  /** The vectors of a gRPC answer in REST's JSON form, read from the dense, sparse and multi_dense variants. */
  static JsonNode json(Points.VectorsOutput v) {
    if (v.hasVector()) {
      return json(v.getVector());
    }
    ObjectNode out = F.objectNode();
    v.getVectors().getVectorsMap().forEach((name, vector) -> out.set(name, json(vector)));
    return out;
  }

  /** A vector in Qdrant 1.15's output form, as REST shows it. */
  private static JsonNode json(Points.VectorOutput v) {
    if (v.hasIndices()) {
      ObjectNode s = F.objectNode();
      v.getIndices().getDataList().forEach(s.putArray("indices")::add);
      s.set("values", floatsJson(v.getDataList()));
      return s;
    }
    if (v.hasVectorsCount()) {
      var rows = F.arrayNode();
      int dim = v.getDataCount() / v.getVectorsCount();
      for (int r = 0; r < v.getVectorsCount(); r++) {
        rows.add(floatsJson(v.getDataList().subList(r * dim, (r + 1) * dim)));
      }
      return rows;
    }
    return floatsJson(v.getDataList());
  }

  private static JsonNode floatsJson(List<Float> values) {
    var a = F.arrayNode();
    values.forEach(a::add);
    return a;
  }
}
