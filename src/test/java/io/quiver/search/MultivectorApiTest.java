package io.quiver.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Multivectors (max_sim), datatypes and conditional updates, against oracles computed here. */
@Timeout(120)
class MultivectorApiTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static JsonNode ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
    return r.result();
  }

  static String json(float[][] m) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < m.length; i++) {
      b.append(i == 0 ? "[" : ",[");
      for (int j = 0; j < m[i].length; j++) {
        b.append(j == 0 ? "" : ",").append(m[i][j]);
      }
      b.append("]");
    }
    return b.append("]").toString();
  }

  /** max_sim with Qdrant's raw similarities: dot, or minus the squared euclidean distance. */
  static float maxSim(String distance, float[][] q, float[][] d) {
    float sum = 0;
    for (float[] a : q) {
      float best = Float.NEGATIVE_INFINITY;
      for (float[] b : d) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
          s += distance.equals("Dot") ? a[i] * b[i] : -(a[i] - b[i]) * (a[i] - b[i]);
        }
        best = Math.max(best, s);
      }
      sum += best;
    }
    return distance.equals("Dot") ? sum : (float) Math.sqrt(Math.abs(sum));
  }

  @Test
  void maxSimSearchMatchesTheOracle() throws Exception {
    for (String distance : List.of("Dot", "Euclid")) {
      String c = "/collections/mv" + distance;
      ok(node.send("PUT", c, "{\"vectors\": {\"colbert\": {\"size\": 3, \"distance\": \"" + distance
          + "\", \"multivector_config\": {\"comparator\": \"max_sim\"}}}}"));
      Random r = new Random(7);
      List<float[][]> docs = new ArrayList<>();
      StringBuilder points = new StringBuilder("{\"points\": [");
      for (int id = 0; id < 60; id++) {
        float[][] m = new float[1 + r.nextInt(4)][3];
        for (float[] row : m) {
          for (int i = 0; i < 3; i++) {
            row[i] = r.nextInt(9) / 4f - 1;
          }
        }
        docs.add(m);
        points.append(id == 0 ? "" : ",").append("{\"id\": ").append(id).append(", \"vector\": {\"colbert\": ")
            .append(json(m)).append("}}");
      }
      ok(node.send("PUT", c + "/points?wait=true", points.append("]}").toString()));
      float[][] q = {{0.5f, -0.25f, 1f}, {-1f, 0.75f, 0f}};
      JsonNode got = ok(node.send("POST", c + "/points/query", "{\"query\": " + json(q)
          + ", \"using\": \"colbert\", \"limit\": 10}")).get("points");
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < docs.size(); i++) {
        order.add(i);
      }
      boolean dot = distance.equals("Dot");
      order.sort(Comparator.<Integer>comparingDouble(i -> dot ? -maxSim(distance, q, docs.get(i)) : maxSim(distance, q, docs.get(i))));
      assertEquals(10, got.size());
      for (int i = 0; i < 10; i++) {
        assertEquals(maxSim(distance, q, docs.get(order.get(i))), got.get(i).get("score").floatValue(), 1e-4, distance + " rank " + i);
        int id = got.get(i).get("id").asInt();
        assertEquals(maxSim(distance, q, docs.get(id)), got.get(i).get("score").floatValue(), 1e-4);
      }
      // MMR compares the candidates with max_sim too; with no diversity it keeps the nearest order (ties may swap)
      JsonNode mmr = ok(node.send("POST", c + "/points/query", "{\"query\": {\"nearest\": " + json(q)
          + ", \"mmr\": {\"diversity\": 0.0, \"candidates_limit\": 20}}, \"using\": \"colbert\", \"limit\": 5}")).get("points");
      assertEquals(5, mmr.size());
      for (int i = 0; i < 5; i++) {
        assertEquals(got.get(i).get("score").floatValue(), mmr.get(i).get("score").floatValue(), distance + " mmr rank " + i);
      }
      JsonNode diverse = ok(node.send("POST", c + "/points/query", "{\"query\": {\"nearest\": " + json(q)
          + ", \"mmr\": {\"diversity\": 0.9}}, \"using\": \"colbert\", \"limit\": 5}")).get("points");
      assertEquals(5, diverse.size());
      JsonNode back = ok(node.send("GET", c + "/points/5", null));
      assertEquals(docs.get(5).length, back.at("/vector/colbert").size());
      assertEquals(docs.get(5)[0][2], back.at("/vector/colbert/0/2").floatValue(), 1e-6);
    }
  }

  @Test
  void malformedMultivectorsAreRefusedWithQdrantsMessages() throws Exception {
    ok(node.send("PUT", "/collections/mvbad", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\", "
        + "\"multivector_config\": {\"comparator\": \"max_sim\"}, \"datatype\": \"uint8\"}}"));
    var empty = node.send("PUT", "/collections/mvbad/points", "{\"points\": [{\"id\": 1, \"vector\": []}]}");
    assertEquals("Wrong input: Vector dimension error: expected dim: 2, got 0", empty.error());
    var ragged = node.send("PUT", "/collections/mvbad/points", "{\"points\": [{\"id\": 1, \"vector\": [[1, 2], [3]]}]}");
    assertEquals(422, ragged.status());
    assertTrue(ragged.error().contains("all vectors must have the same dimension, found vector with dimension 1"), ragged.error());
    ok(node.send("PUT", "/collections/mvbad/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [[300.7, -2], [1.9, 7.5]]}]}"));
    JsonNode back = ok(node.send("GET", "/collections/mvbad/points/1", null)).get("vector");
    assertEquals("[[255.0,0.0],[1.0,7.0]]", back.toString(), "uint8 truncates into 0..255");
  }

  /**
   * Dense float16 and uint8 vectors (stored in their own width) read back and score as the rounded
   * values, through the graph too: Qdrant's indexing_threshold of 1 KB makes a graph of a few points.
   */
  @Test
  void denseFloat16AndUint8VectorsReadBackAndScoreAsTheirRoundedValues() throws Exception {
    ok(node.send("PUT", "/collections/u8", "{\"vectors\": {\"size\": 3, \"distance\": \"Euclid\", \"datatype\": \"uint8\"},"
        + " \"optimizers_config\": {\"indexing_threshold\": 1}}"));
    ok(node.send("PUT", "/collections/f16", "{\"vectors\": {\"size\": 3, \"distance\": \"Dot\", \"datatype\": \"float16\"},"
        + " \"optimizers_config\": {\"indexing_threshold\": 1}}"));
    StringBuilder u8 = new StringBuilder("{\"points\": [{\"id\": 0, \"vector\": [300.7, -2, 1.9]}");
    StringBuilder f16 = new StringBuilder("{\"points\": [{\"id\": 0, \"vector\": [0.1, 1000.3, -2.0001]}");
    for (int i = 1; i < 400; i++) {
      u8.append(",{\"id\": ").append(i).append(", \"vector\": [").append(i % 256).append(", ").append(i % 7).append(", 9]}");
      f16.append(",{\"id\": ").append(i).append(", \"vector\": [0.5, ").append(i * 0.001).append(", 0]}");
    }
    ok(node.send("PUT", "/collections/u8/points?wait=true", u8.append("]}").toString()));
    ok(node.send("PUT", "/collections/f16/points?wait=true", f16.append("]}").toString()));
    for (String c : List.of("u8", "f16")) {
      long deadline = System.currentTimeMillis() + 30_000;
      while (!ok(node.send("GET", "/collections/" + c, null)).path("status").asText().equals("green")
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(400, ok(node.send("GET", "/collections/" + c, null)).path("indexed_vectors_count").asInt(), c + " indexed");
    }
    assertEquals("[255.0,0.0,1.0]", ok(node.send("GET", "/collections/u8/points/0", null)).get("vector").toString());
    // half precision: 0.1 -> 0.099975586, 1000.3 -> 1000.5, -2.0001 -> -2.0
    assertEquals("[0.099975586,1000.5,-2.0]", ok(node.send("GET", "/collections/f16/points/0", null)).get("vector").toString());
    // the nearest uint8 point to (255, 0, 1) is point 0 itself; then points 253 (253, 1, 9) and
    // 254 (254, 2, 9), both at a squared distance of 69, the lower id first
    JsonNode hits = ok(node.send("POST", "/collections/u8/points/search", "{\"vector\": [255, 0, 1], \"limit\": 2}"));
    assertEquals(0, hits.at("/0/id").asInt());
    assertEquals(0f, hits.at("/0/score").floatValue());
    assertEquals(253, hits.at("/1/id").asInt());
    assertEquals((float) Math.sqrt(69), hits.at("/1/score").floatValue(), 1e-5);
    // dot with (0, 1, 0): the largest second value, point 0's 1000.5
    hits = ok(node.send("POST", "/collections/f16/points/search", "{\"vector\": [0, 1, 0], \"limit\": 1}"));
    assertEquals(0, hits.at("/0/id").asInt());
    assertEquals(1000.5f, hits.at("/0/score").floatValue());
  }

  @Test
  void conditionalUpdatesTouchOnlyMatchingPoints() throws Exception {
    ok(node.send("PUT", "/collections/cond", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/cond/points?wait=true", "{\"points\": ["
        + "{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"version\": 3}},"
        + "{\"id\": 2, \"vector\": [0, 1], \"payload\": {\"version\": 7}}]}"));
    String filter = "\"update_filter\": {\"must\": [{\"key\": \"version\", \"range\": {\"lt\": 5}}]}";
    ok(node.send("PUT", "/collections/cond/points?wait=true", "{\"points\": ["
        + "{\"id\": 1, \"vector\": [1, 1], \"payload\": {\"version\": 4}},"
        + "{\"id\": 2, \"vector\": [1, 1], \"payload\": {\"version\": 8}},"
        + "{\"id\": 3, \"vector\": [1, 1], \"payload\": {\"version\": 1}}], " + filter + "}"));
    assertEquals(4, ok(node.send("GET", "/collections/cond/points/1", null)).at("/payload/version").asInt());
    assertEquals(7, ok(node.send("GET", "/collections/cond/points/2", null)).at("/payload/version").asInt());
    assertEquals(1, ok(node.send("GET", "/collections/cond/points/3", null)).at("/payload/version").asInt(), "new points are inserted");
    ok(node.send("PUT", "/collections/cond/points/vectors?wait=true", "{\"points\": ["
        + "{\"id\": 1, \"vector\": [5, 5]}, {\"id\": 2, \"vector\": [5, 5]}], " + filter + "}"));
    assertEquals(5f, ok(node.send("GET", "/collections/cond/points/1", null)).at("/vector/0").floatValue());
    assertEquals(0f, ok(node.send("GET", "/collections/cond/points/2", null)).at("/vector/0").floatValue());
    var bad = node.send("PUT", "/collections/cond/points", "{\"points\": [{\"id\": 9, \"vector\": [1, 1]}], "
        + "\"update_filter\": {\"must\": [{\"key\": \"version\"}]}}");
    assertEquals(422, bad.status(), bad.body());
    assertEquals(404, node.send("GET", "/collections/cond/points/9", null).status(), "a refused request changes nothing");
  }
}
