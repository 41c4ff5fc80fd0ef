package io.quiver.api;

import io.quiver.json.Json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.cluster.Peer;
import io.quiver.cluster.Peers;
import io.quiver.cluster.SendFailures;
import io.quiver.testing.TestNode;
import io.vertx.core.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /cluster} and {@code /locks?scope=...} on a single node, and the enabled shape against the contract. */
@Timeout(60)
class ClusterApiTest {
  @TempDir Path dir;

  @Test
  void singleNodeIsDisabledAndItsClusterScopeIsItself() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      var cluster = node.get("/cluster");
      assertEquals(200, cluster.status());
      assertEquals("disabled", cluster.result().get("status").asText());

      String id = Long.toString(node.deployment.node().peerId());
      JsonNode set = node.send("POST", "/locks?scope=cluster", "{\"write\": true, \"error_message\": \"all\"}").result();
      assertEquals("cluster", set.get("scope").asText());
      assertFalse(set.at("/peers/" + id + "/write").asBoolean(), set.toString());
      assertEquals("http://127.0.0.1:" + node.port(), set.at("/peers/" + id + "/uri").asText());
      assertEquals(0, set.get("not_answered").size());
      JsonNode got = node.get("/locks?scope=cluster").result();
      assertTrue(got.at("/peers/" + id + "/write").asBoolean());
      assertEquals("all", got.at("/peers/" + id + "/error_message").asText());
      // the default scope keeps Qdrant's LocksOption shape
      JsonNode plain = node.get("/locks?scope=node").result();
      assertEquals(2, plain.size());
      assertTrue(plain.get("write").asBoolean());

      var bad = node.get("/locks?scope=galaxy");
      assertEquals(400, bad.status());
      assertEquals("Bad request: scope must be `node` or `cluster`, got `galaxy`", bad.error());
      assertEquals(400, node.send("POST", "/locks?scope=cluster&timeout=0", "{\"write\": false}").status());
      assertEquals(400, node.send("POST", "/locks?scope=cluster", "{\"write\": 1}").status());
      assertTrue(node.get("/locks").result().get("write").asBoolean(), "a refused request changes nothing");
    }
  }

  @Test
  void enabledStatusHasEveryFieldTheContractRequires() throws Exception {
    Peers peers = new Peers() {
      @Override
      public boolean clustered() {
        return true;
      }

      @Override
      public long selfId() {
        return 7;
      }

      @Override
      public Future<List<Peer>> live() {
        return Future.succeededFuture(List.of(new Peer(7, "http://10.0.0.7:6333", "n7"), new Peer(9, "http://10.0.0.9:6333", "n9")));
      }

      @Override
      public Future<Void> register(Peer self) {
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> deregister() {
        return Future.succeededFuture();
      }
    };
    var failures = new SendFailures();
    failures.failed("http://10.0.0.9:6333", "no answer within 5000 ms");
    Object result = new ClusterEndpoint(peers, failures).routes().get(0).handler().handle(null)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    JsonNode status = Json.MAPPER.valueToTree(result);

    JsonNode schemas = Json.MAPPER.readTree(Files.readAllBytes(RouteTableTest.openapi())).at("/components/schemas");
    JsonNode enabled = schemas.at("/ClusterStatus/oneOf/1");
    assertRequired(enabled, status);
    assertEquals("enabled", status.get("status").asText());
    assertEquals(7, status.get("peer_id").asLong());
    assertEquals("http://10.0.0.9:6333", status.at("/peers/9/uri").asText());
    assertRequired(schemas.get("RaftInfo"), status.get("raft_info"));
    assertTrue(status.at("/raft_info/role").isNull());
    assertEquals("stopped", status.at("/consensus_thread_status/consensus_thread_status").asText());
    JsonNode failure = status.at("/message_send_failures/http:~1~110.0.0.9:6333");
    assertRequired(schemas.get("MessageSendErrors"), failure);
    assertEquals(1, failure.get("count").asInt());
  }

  static void assertRequired(JsonNode schema, JsonNode value) {
    for (Iterator<JsonNode> it = schema.get("required").elements(); it.hasNext(); ) {
      String field = it.next().asText();
      assertTrue(value.has(field), "missing `" + field + "` in " + value);
    }
  }

  @Test
  void distributedOperationsAnswerAsANodeWithoutDistributedMode() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      assertEquals(200, node.send("PUT", "/collections/d", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}").status());
      assertEquals(200, node.send("PUT", "/collections/d/points?wait=true",
          "{\"points\": [{\"id\": 1, \"vector\": [1, 2]}, {\"id\": 2, \"vector\": [2, 1]}]}").status());
      JsonNode info = node.get("/collections/d/cluster").result();
      assertEquals(node.deployment.node().peerId(), info.get("peer_id").asLong());
      assertEquals(1, info.get("shard_count").asInt());
      assertEquals("[{\"shard_id\":0,\"points_count\":2,\"state\":\"Active\"}]", info.get("local_shards").toString());
      assertEquals(0, info.get("remote_shards").size());
      assertEquals(0, info.get("shard_transfers").size());
      assertEquals(404, node.get("/collections/nope/cluster").status());

      var move = node.send("POST", "/collections/d/cluster",
          "{\"move_shard\": {\"shard_id\": 0, \"from_peer_id\": 1, \"to_peer_id\": 2}}");
      assertEquals(400, move.status());
      assertEquals("Bad request: Distributed mode disabled", move.error());
      var key = node.send("PUT", "/collections/d/shards", "{\"shard_key\": \"eu\"}");
      assertEquals(400, key.status());
      assertEquals("Bad request: Shard Key cannot be created with Auto sharding method", key.error());
      var drop = node.send("POST", "/collections/d/shards/delete", "{\"shard_key\": 7}");
      assertEquals("Bad request: Shard Key cannot be created with Auto sharding method", drop.error());
      assertEquals(404, node.send("PUT", "/collections/nope/shards", "{\"shard_key\": \"eu\"}").status());
      assertEquals(400, node.send("PUT", "/collections/d/shards", "{}").status());
      assertEquals("Bad request: Distributed mode disabled.", node.send("POST", "/cluster/recover", null).error());
      assertEquals("Bad request: Distributed mode disabled.", node.send("DELETE", "/cluster/peer/5", null).error());
      assertEquals(2, node.send("POST", "/collections/d/points/count", "{\"exact\": true}").result().get("count").asInt());
    }
  }
}
