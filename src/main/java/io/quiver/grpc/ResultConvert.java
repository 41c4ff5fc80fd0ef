package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.Points.BatchResult;
import io.qdrant.client.grpc.Points.GroupsResult;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.VectorOutput;
import io.qdrant.client.grpc.Points.VectorsOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The storage's answers (the JSON REST puts under {@code result}, see {@link Values#tree}) as Qdrant's
 * gRPC messages, field for field as Qdrant's gRPC API fills them: a point's payload as a map (empty
 * when not asked for), its {@code version}, its vectors (only when asked for), {@code order_value}
 * after an {@code order_by}, its {@code shard_key} under custom sharding; group ids as unsigned
 * numbers when not negative.
 *
 * <p>Vectors fill {@code VectorOutput}'s {@code data}, {@code indices} and {@code vectors_count}, as
 * Qdrant 1.15 does (its {@code dense}, {@code sparse} and {@code multi_dense} variants came later).
 * Numbers are read from the JSON's float nodes as they are: a score or a vector is the same float
 * REST prints.
 */
final class ResultConvert {
  private ResultConvert() {}

  // ---- writes ----

  /** Qdrant's {@code UpdateResult}: the operation id and acknowledged or completed. */
  static UpdateResult updateResult(JsonNode r) {
    return UpdateResult.newBuilder().setOperationId(r.path("operation_id").asLong())
        .setStatus("completed".equals(r.path("status").asText()) ? Points.UpdateStatus.Completed : Points.UpdateStatus.Acknowledged)
        .build();
  }

  /** A write's response; Qdrant's carries an empty {@code usage} when hardware usage is not reported. */
  static Points.PointsOperationResponse operation(Object result, double seconds) {
    return Points.PointsOperationResponse.newBuilder().setResult(updateResult(Values.tree(result))).setTime(seconds)
        .setUsage(Points.Usage.getDefaultInstance()).build();
  }

  static Points.UpdateBatchResponse batch(Object result, double seconds) {
    var out = Points.UpdateBatchResponse.newBuilder().setTime(seconds);
    for (JsonNode r : Values.tree(result)) {
      out.addResult(updateResult(r));
    }
    return out.build();
  }

  // ---- points ----

  /** A list of scored points. */
  static List<ScoredPoint> scored(JsonNode points) {
    List<ScoredPoint> out = new ArrayList<>(points.size());
    for (JsonNode p : points) {
      out.add(scoredPoint(p));
    }
    return out;
  }

  /** Lists of scored points, one per request of a batch (each a list, or {@code {"points": [...]}}). */
  static List<BatchResult> batches(JsonNode lists) {
    List<BatchResult> out = new ArrayList<>(lists.size());
    for (JsonNode list : lists) {
      out.add(BatchResult.newBuilder().addAllResult(scored(list.isArray() ? list : list.path("points"))).build());
    }
    return out;
  }

  static ScoredPoint scoredPoint(JsonNode p) {
    var out = ScoredPoint.newBuilder().setId(Values.id(p.get("id"))).setScore(p.path("score").floatValue())
        .setVersion(p.path("version").asLong());
    payload(p.get("payload"), out::putPayload);
    JsonNode vector = p.get("vector");
    if (vector != null && !vector.isNull()) {
      out.setVectors(vectors(vector));
    }
    JsonNode order = p.get("order_value");
    if (order != null && !order.isNull()) {
      out.setOrderValue(orderValue(order));
    }
    JsonNode key = p.get("shard_key");
    if (key != null && !key.isNull()) {
      out.setShardKey(shardKey(key));
    }
    return out.build();
  }

  /** A shard key: a string, or an unsigned integer. */
  static io.qdrant.client.grpc.Collections.ShardKey shardKey(JsonNode key) {
    var k = io.qdrant.client.grpc.Collections.ShardKey.newBuilder();
    return (key.isIntegralNumber() ? k.setNumber(key.asLong()) : k.setKeyword(key.asText())).build();
  }

  static List<RetrievedPoint> retrieved(JsonNode records) {
    List<RetrievedPoint> out = new ArrayList<>(records.size());
    for (JsonNode r : records) {
      out.add(retrievedPoint(r));
    }
    return out;
  }

  static RetrievedPoint retrievedPoint(JsonNode r) {
    var out = RetrievedPoint.newBuilder().setId(Values.id(r.get("id")));
    payload(r.get("payload"), out::putPayload);
    JsonNode vector = r.get("vector");
    if (vector != null && !vector.isNull()) {
      out.setVectors(vectors(vector));
    }
    JsonNode order = r.get("order_value");
    if (order != null && !order.isNull()) {
      out.setOrderValue(orderValue(order));
    }
    JsonNode key = r.get("shard_key");
    if (key != null && !key.isNull()) {
      out.setShardKey(shardKey(key));
    }
    return out.build();
  }

  @FunctionalInterface
  private interface PayloadSink {
    void put(String key, io.qdrant.client.grpc.JsonWithInt.Value value);
  }

  private static void payload(JsonNode payload, PayloadSink sink) {
    if (payload != null && payload.isObject()) {
      for (Map.Entry<String, JsonNode> e : payload.properties()) {
        sink.put(e.getKey(), Values.value(e.getValue()));
      }
    }
  }

  private static Points.OrderValue orderValue(JsonNode v) {
    return v.isIntegralNumber() ? Points.OrderValue.newBuilder().setInt(v.longValue()).build()
        : Points.OrderValue.newBuilder().setFloat(v.doubleValue()).build();
  }

  /** A point's vectors as REST renders them: an array (the unnamed one), or an object of named ones. */
  static VectorsOutput vectors(JsonNode v) {
    if (v.isArray()) {
      return VectorsOutput.newBuilder().setVector(vector(v)).build();
    }
    var named = Points.NamedVectorsOutput.newBuilder();
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      named.putVectors(e.getKey(), vector(e.getValue()));
    }
    return VectorsOutput.newBuilder().setVectors(named).build();
  }

  /** One vector: numbers (dense), rows (multi, flattened with their count) or {@code {"indices", "values"}} (sparse). */
  private static VectorOutput vector(JsonNode v) {
    var out = VectorOutput.newBuilder();
    if (v.isObject()) {
      var indices = Points.SparseIndices.newBuilder();
      for (JsonNode i : v.path("indices")) {
        indices.addData(i.intValue());
      }
      for (JsonNode x : v.path("values")) {
        out.addData(x.floatValue());
      }
      return out.setIndices(indices).build();
    }
    if (!v.isEmpty() && v.get(0).isArray()) {
      for (JsonNode row : v) {
        for (JsonNode x : row) {
          out.addData(x.floatValue());
        }
      }
      return out.setVectorsCount(v.size()).build();
    }
    for (JsonNode x : v) {
      out.addData(x.floatValue());
    }
    return out.build();
  }

  // ---- groups, facets, matrices ----

  static GroupsResult groups(Object result) {
    var out = GroupsResult.newBuilder();
    for (JsonNode g : Values.tree(result).path("groups")) {
      var group = Points.PointGroup.newBuilder().setId(groupId(g.get("id"))).addAllHits(scored(g.path("hits")));
      JsonNode lookup = g.get("lookup");
      if (lookup != null && !lookup.isNull()) {
        group.setLookup(retrievedPoint(lookup));
      }
      out.addGroups(group);
    }
    return out.build();
  }

  /** A group's id: a string, or a number (unsigned when not negative, as Qdrant's {@code GroupId}). */
  private static Points.GroupId groupId(JsonNode id) {
    var out = Points.GroupId.newBuilder();
    if (id.isTextual()) {
      return out.setStringValue(id.textValue()).build();
    }
    if (id.isIntegralNumber() && id.canConvertToLong() && id.longValue() < 0) {
      return out.setIntegerValue(id.longValue()).build();
    }
    return out.setUnsignedValue(id.bigIntegerValue().longValue()).build();
  }

  static List<Points.FacetHit> facetHits(Object result) {
    List<Points.FacetHit> out = new ArrayList<>();
    for (JsonNode h : Values.tree(result).path("hits")) {
      JsonNode v = h.get("value");
      var value = Points.FacetValue.newBuilder();
      if (v.isBoolean()) {
        value.setBoolValue(v.booleanValue());
      } else if (v.isIntegralNumber()) {
        value.setIntegerValue(v.longValue());
      } else {
        value.setStringValue(v.asText());
      }
      out.add(Points.FacetHit.newBuilder().setValue(value).setCount(h.path("count").asLong()).build());
    }
    return out;
  }

  static Points.SearchMatrixPairs pairs(Object result) {
    var out = Points.SearchMatrixPairs.newBuilder();
    for (JsonNode p : Values.tree(result).path("pairs")) {
      out.addPairs(Points.SearchMatrixPair.newBuilder().setA(Values.id(p.get("a"))).setB(Values.id(p.get("b")))
          .setScore(p.path("score").floatValue()));
    }
    return out.build();
  }

  static Points.SearchMatrixOffsets offsets(Object result) {
    JsonNode r = Values.tree(result);
    var out = Points.SearchMatrixOffsets.newBuilder();
    r.path("offsets_row").forEach(x -> out.addOffsetsRow(x.longValue()));
    r.path("offsets_col").forEach(x -> out.addOffsetsCol(x.longValue()));
    r.path("scores").forEach(x -> out.addScores(x.floatValue()));
    r.path("ids").forEach(x -> out.addIds(Values.id(x)));
    return out.build();
  }
}
