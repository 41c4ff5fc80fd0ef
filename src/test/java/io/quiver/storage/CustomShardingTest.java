package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.json.Json;
import io.quiver.storage.collection.HashRing;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Custom sharding on one node: a collection starts without shards, shard keys (strings and
 * integers) add and drop theirs at run time, writes name their key and go to its shards by the
 * hash ring over them, reads select keys or read all, hits and records carry their key, and
 * everything (integer keys too) survives a restart and a snapshot; errors as Qdrant words them.
 */
@Timeout(180)
class CustomShardingTest {
  private static final String VECTORS = "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}";
  @TempDir Path dir;

  @Test
  void keysComeAndGoAndSurviveARestart() throws Exception {
    Path storage = dir.resolve("storage");
    try (TestNode node = TestNode.start(storage)) {
      ok(node.send("PUT", "/collections/c", VECTORS + ", \"shard_number\": 2, \"sharding_method\": \"custom\"}"));
      JsonNode info = node.get("/collections/c").result();
      assertEquals("custom", info.at("/config/params/sharding_method").asText());
      assertEquals(2, info.at("/config/params/shard_number").asInt());
      assertEquals(0, info.get("points_count").asInt());
      assertEquals(0, node.get("/collections/c/cluster").result().get("shard_count").asInt());
      // reads of a collection without shards answer nothing; writes have nowhere to go
      assertEquals(0, search(node, "{\"vector\": [1, 0, 0, 0], \"limit\": 5}").size());
      assertEquals(0, count(node, null));
      assertError(node.send("PUT", "/collections/c/points?wait=true", points(List.of(1), null).toString()), 400,
          "Wrong input: No shards found for shard key");

      ok(node.send("PUT", "/collections/c/shards", "{\"shard_key\": \"cats\"}"));
      ok(node.send("PUT", "/collections/c/shards", "{\"shard_key\": 7, \"shards_number\": 1}"));
      assertError(node.send("PUT", "/collections/c/shards", "{\"shard_key\": \"cats\"}"), 400,
          "Bad request: Sharding key cats already exists for collection c");
      assertError(node.send("PUT", "/collections/c/shards", "{\"shard_key\": \"x\", \"placement\": []}"), 400,
          "Bad request: Sharding key x placement cannot be empty. If you want to use random placement, do not specify placement");

      // a write without its key, or with a key that does not exist, fails
      assertError(node.send("PUT", "/collections/c/points?wait=true", points(List.of(1), null).toString()), 400,
          "Wrong input: No shards found for shard key");
      assertError(node.send("PUT", "/collections/c/points?wait=true", points(List.of(1), "\"dogs\"").toString()), 400,
          "Wrong input: Shard key dogs not found");
      List<Integer> cats = range(1, 40);
      List<Integer> sevens = range(31, 50); // ids 31..40 are points of both keys
      ok(node.send("PUT", "/collections/c/points?wait=true", points(cats, "\"cats\"").toString()));
      ok(node.send("PUT", "/collections/c/points?wait=true", points(sevens, "7").toString()));

      assertEquals(60, count(node, null));
      assertEquals(40, count(node, "\"cats\""));
      assertEquals(20, count(node, "7"));
      assertEquals(60, count(node, "[\"cats\", 7]"));
      assertError(node.send("POST", "/collections/c/points/count", "{\"exact\": true, \"shard_key\": \"dogs\"}"), 400,
          "Bad request: Shard key dogs not found");

      // within a key, a point is on the shard the hash ring over the key's shards names
      JsonNode cluster = node.get("/collections/c/cluster").result();
      assertEquals(3, cluster.get("shard_count").asInt(), cluster.toString());
      List<Integer> catShards = new ArrayList<>();
      for (JsonNode s : cluster.get("local_shards")) {
        if (s.get("shard_key").isTextual()) {
          catShards.add(s.get("shard_id").asInt());
        } else {
          assertTrue(s.get("shard_key").isIntegralNumber(), cluster.toString());
          assertEquals(7, s.get("shard_key").asInt());
          assertEquals(20, s.get("points_count").asInt());
        }
      }
      assertEquals(List.of(0, 1), catShards);
      HashRing ring = HashRing.of(catShards);
      long onFirst = cats.stream().filter(id -> ring.shardOf(PointId.of(id)) == 0).count();
      assertEquals(onFirst, shard(cluster, 0).get("points_count").asLong());
      assertEquals(40 - onFirst, shard(cluster, 1).get("points_count").asLong());

      // hits and records carry their key; a selector reads only its keys
      JsonNode hits = search(node, "{\"vector\": [1, 1, 1, 1], \"limit\": 100, \"shard_key\": 7}");
      assertEquals(20, hits.size());
      for (JsonNode h : hits) {
        assertTrue(h.get("shard_key").isIntegralNumber() && h.get("shard_key").asInt() == 7, h.toString());
      }
      hits = node.send("POST", "/collections/c/points/query", "{\"query\": [1, 1, 1, 1], \"limit\": 100, \"with_payload\": true}")
          .result().get("points");
      assertEquals(60, hits.size());
      Set<String> keys = new TreeSet<>();
      hits.forEach(h -> keys.add(h.get("shard_key").toString()));
      assertEquals(Set.of("\"cats\"", "7"), keys);
      JsonNode page = node.send("POST", "/collections/c/points/scroll", "{\"limit\": 100, \"shard_key\": \"cats\"}").result();
      assertEquals(40, page.get("points").size());
      page.get("points").forEach(p -> assertEquals("cats", p.get("shard_key").asText()));
      JsonNode records = node.send("POST", "/collections/c/points", "{\"ids\": [1, 45], \"shard_key\": [\"cats\", 7]}").result();
      assertEquals(2, records.size(), records.toString());
      assertEquals("cats", records.get(0).get("shard_key").asText());
      assertEquals(7, records.get(1).get("shard_key").asInt());
      assertEquals(200, node.get("/collections/c/points/45").status());

      // a write names its key: deleting id 35 under 7 leaves the cats' point 35
      ok(node.send("POST", "/collections/c/points/delete?wait=true", "{\"points\": [35], \"shard_key\": 7}"));
      assertEquals(19, count(node, "7"));
      assertEquals(40, count(node, "\"cats\""));

      // dropping a key drops its shards and points; ids are not reused
      ok(node.send("POST", "/collections/c/shards/delete", "{\"shard_key\": \"cats\"}"));
      assertError(node.send("POST", "/collections/c/shards/delete", "{\"shard_key\": \"cats\"}"), 400,
          "Bad request: Sharding key cats does not exist for collection c");
      assertEquals(19, count(node, null));
      assertFalse(Files.exists(storage.resolve("collections/c/shards/0")));
      assertFalse(Files.exists(storage.resolve("collections/c/shards/1")));
      ok(node.send("PUT", "/collections/c/shards", "{\"shard_key\": \"birds\", \"shards_number\": 1}"));
      ok(node.send("PUT", "/collections/c/points?wait=true", points(range(100, 104), "\"birds\"").toString()));
      assertEquals(24, count(node, null));
      assertEquals(3, shardOfKey(node.get("/collections/c/cluster").result(), "\"birds\""));
    }
    try (TestNode node = TestNode.start(storage)) {
      JsonNode cluster = node.get("/collections/c/cluster").result();
      assertEquals(2, cluster.get("shard_count").asInt(), cluster.toString());
      assertEquals(2, shardOfKey(cluster, "7"), "an integer key stays an integer: " + cluster);
      assertEquals(19, count(node, "7"));
      assertEquals(5, count(node, "\"birds\""));
      JsonNode hits = search(node, "{\"vector\": [1, 1, 1, 1], \"limit\": 1, \"shard_key\": 7}");
      assertTrue(hits.get(0).get("shard_key").isIntegralNumber(), hits.toString());
      ok(node.send("PUT", "/collections/c/shards", "{\"shard_key\": \"cats\"}"));
      assertEquals(List.of(4, 5), shardsOfKey(node.get("/collections/c/cluster").result(), "\"cats\""));

      // a collection snapshot holds the shards and the keys
      String name = node.send("POST", "/collections/c/snapshots", null).result().get("name").asText();
      Path file = storage.resolve("snapshots").resolve("c").resolve(name);
      ok(node.send("PUT", "/collections/copy/snapshots/recover", "{\"location\": \"" + file.toUri() + "\"}"));
      assertEquals(19, node.send("POST", "/collections/copy/points/count", "{\"exact\": true, \"shard_key\": 7}").result()
          .get("count").asInt());
      assertEquals(2, shardOfKey(node.get("/collections/copy/cluster").result(), "7"));
    }
  }

  @Test
  void autoShardingRefusesKeys() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      ok(node.send("PUT", "/collections/a", VECTORS + "}"));
      assertError(node.send("PUT", "/collections/a/shards", "{\"shard_key\": \"k\"}"), 400,
          "Bad request: Shard Key cannot be created with Auto sharding method");
      assertError(node.send("PUT", "/collections/a/points?wait=true", points(List.of(1), "\"k\"").toString()), 400,
          "Wrong input: Shard key k not found");
      assertError(node.send("POST", "/collections/a/points/scroll", "{\"shard_key\": 3}"), 400, "Bad request: Shard key 3 not found");
      ok(node.send("PUT", "/collections/a/points?wait=true", points(List.of(1), null).toString()));
      JsonNode hits = search(node, "{\"vector\": [1, 1, 1, 1], \"limit\": 1}", "a");
      assertFalse(hits.get(0).has("shard_key"), hits.toString());
    }
  }

  private static JsonNode shard(JsonNode cluster, int id) {
    for (JsonNode s : cluster.get("local_shards")) {
      if (s.get("shard_id").asInt() == id) {
        return s;
      }
    }
    throw new AssertionError("no shard " + id + " in " + cluster);
  }

  private static int shardOfKey(JsonNode cluster, String key) {
    List<Integer> ids = shardsOfKey(cluster, key);
    assertEquals(1, ids.size(), cluster.toString());
    return ids.get(0);
  }

  private static List<Integer> shardsOfKey(JsonNode cluster, String key) {
    List<Integer> out = new ArrayList<>();
    for (JsonNode s : cluster.get("local_shards")) {
      if (s.get("shard_key").toString().equals(key)) {
        out.add(s.get("shard_id").asInt());
      }
    }
    return out;
  }

  private static List<Integer> range(int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      out.add(i);
    }
    return out;
  }

  private static JsonNode search(TestNode node, String body) throws Exception {
    return search(node, body, "c");
  }

  private static JsonNode search(TestNode node, String body, String collection) throws Exception {
    var r = node.send("POST", "/collections/" + collection + "/points/search", body);
    ok(r);
    return r.result();
  }

  private static long count(TestNode node, String key) throws Exception {
    var r = node.send("POST", "/collections/c/points/count", "{\"exact\": true" + (key == null ? "" : ", \"shard_key\": " + key) + "}");
    ok(r);
    return r.result().get("count").asLong();
  }

  private static ObjectNode points(List<Integer> ids, String key) throws Exception {
    Random r = new Random(ids.get(0));
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode points = body.putArray("points");
    for (int id : ids) {
      ObjectNode p = points.addObject().put("id", id);
      ArrayNode v = p.putArray("vector");
      for (int d = 0; d < 4; d++) {
        v.add(r.nextFloat());
      }
      p.putObject("payload").put("n", id);
    }
    if (key != null) {
      body.set("shard_key", Json.MAPPER.readTree(key));
    }
    return body;
  }

  private static void assertError(TestNode.Response r, int status, String message) {
    assertEquals(status, r.status(), r.body());
    assertEquals(message, r.error());
  }

  private static void ok(TestNode.Response response) {
    assertEquals(200, response.status(), response.body());
  }
}
