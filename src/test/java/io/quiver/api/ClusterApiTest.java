package io.quiver.api;

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
}
