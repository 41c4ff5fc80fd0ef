package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collection's shards on disk: {@code shard_number} shards under {@code shards/<id>} with the
 * layout in {@code shards.json}; after a restart every point is found on the same shard; a
 * collection from before (one {@code shards/0}, no layout file) still opens as one shard whatever
 * its config says; snapshots hold and restore every shard.
 */
@Timeout(120)
class ShardLayoutTest {
  @TempDir Path dir;

  @Test
  void shardsSurviveARestartAndSnapshots() throws Exception {
    Path storage = dir.resolve("storage");
    String perShard;
    String all;
    try (TestNode node = TestNode.start(storage)) {
      ok(node.send("PUT", "/collections/multi", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"shard_number\": 3}"));
      ok(node.send("PUT", "/collections/multi/points?wait=true", points(200, 1).toString()));
      perShard = node.get("/collections/multi/cluster").result().get("local_shards").toString();
      all = scroll(node, "multi");
      JsonNode cluster = node.get("/collections/multi/cluster").result();
      assertEquals(3, cluster.get("shard_count").asInt());
      for (JsonNode s : cluster.get("local_shards")) {
        assertTrue(s.get("points_count").asLong() > 30, cluster.toString()); // spread over the shards
      }
      assertEquals(200, node.get("/collections/multi").result().get("points_count").asInt());
      // a shard snapshot for each shard held, none for another
      ok(node.send("POST", "/collections/multi/shards/2/snapshots", null));
      assertEquals(404, node.send("POST", "/collections/multi/shards/3/snapshots", null).status());
    }
    Path col = storage.resolve("collections").resolve("multi");
    assertTrue(Files.exists(col.resolve("shards.json")));
    for (int id = 0; id < 3; id++) {
      assertTrue(Files.isDirectory(col.resolve("shards").resolve(Integer.toString(id)).resolve("index")));
    }
    try (TestNode node = TestNode.start(storage)) {
      assertEquals(perShard, node.get("/collections/multi/cluster").result().get("local_shards").toString());
      assertEquals(all, scroll(node, "multi"));
      for (int id : new int[] {1, 77, 150, 200}) {
        assertEquals(200, node.get("/collections/multi/points/" + id).status());
      }
      // a collection snapshot holds every shard and restores them all
      String name = node.send("POST", "/collections/multi/snapshots", null).result().get("name").asText();
      Path file = storage.resolve("snapshots").resolve("multi").resolve(name);
      ok(node.send("PUT", "/collections/copy/snapshots/recover", "{\"location\": \"" + file.toUri() + "\"}"));
      assertEquals(all, scroll(node, "copy"));
      assertEquals(perShard, node.get("/collections/copy/cluster").result().get("local_shards").toString());
      // writes still go to the shards their points belong to
      ok(node.send("PUT", "/collections/copy/points?wait=true", points(20, 201).toString()));
      assertEquals(220, node.get("/collections/copy").result().get("points_count").asInt());
    }
  }

  @Test
  void aCollectionFromBeforeLayoutsIsOneShard() throws Exception {
    Path storage = dir.resolve("storage");
    String all;
    try (TestNode node = TestNode.start(storage)) {
      ok(node.send("PUT", "/collections/old", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"));
      ok(node.send("PUT", "/collections/old/points?wait=true", points(50, 1).toString()));
      all = scroll(node, "old");
    }
    // as written before shards.json existed: no layout file, a config that says more shards
    Path col = storage.resolve("collections").resolve("old");
    Files.delete(col.resolve("shards.json"));
    ObjectNode config = (ObjectNode) Json.MAPPER.readTree(col.resolve("config.json").toFile());
    ((ObjectNode) config.get("params")).put("shard_number", 3);
    Files.writeString(col.resolve("config.json"), config.toString());
    try (TestNode node = TestNode.start(storage)) {
      JsonNode cluster = node.get("/collections/old/cluster").result();
      assertEquals(1, cluster.get("shard_count").asInt(), cluster.toString());
      assertEquals(all, scroll(node, "old"));
      ok(node.send("PUT", "/collections/old/points?wait=true", points(10, 51).toString()));
      assertEquals(60, node.get("/collections/old").result().get("points_count").asInt());
      JsonNode hits = node.send("POST", "/collections/old/points/query", "{\"query\": [1, 0, 0, 0], \"limit\": 3}").result().get("points");
      assertEquals(3, hits.size());
    }
    assertFalse(Files.exists(col.resolve("shards").resolve("1")));
  }

  private static ObjectNode points(int n, int from) {
    Random r = new Random(from);
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode points = body.putArray("points");
    for (int i = from; i < from + n; i++) {
      ObjectNode p = points.addObject().put("id", i);
      ArrayNode v = p.putArray("vector");
      for (int d = 0; d < 4; d++) {
        v.add(r.nextFloat());
      }
      p.putObject("payload").put("n", i);
    }
    return body;
  }

  private static String scroll(TestNode node, String collection) throws Exception {
    return node.send("POST", "/collections/" + collection + "/points/scroll", "{\"limit\": 1000, \"with_payload\": true, \"with_vector\": true}")
        .result().toString();
  }

  private static void ok(TestNode.Response response) {
    assertEquals(200, response.status(), response.body());
  }
}
