package io.quiver.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.examples.BusClientExample;
import io.quiver.testing.ClusterNodes;
import io.quiver.testing.JarProcess;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes as separate processes on 127.0.0.1 forming one cluster, and a plain Vert.x client
 * that joins it: membership, per-node and cluster-wide locks, the public event-bus API, a killed
 * node leaving the others serving and rejoining with its peer id.
 */
@Timeout(300)
class ClusterIT {
  /** Hazelcast's failure detection shortened for the test; the node's own defaults are 1 s / 10 s. */
  static final String[] JVM = {"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "-Dhazelcast.heartbeat.interval.seconds=1", "-Dhazelcast.max.no.heartbeat.seconds=6"};

  @TempDir Path dir;
  ClusterNodes cluster;
  BusClientExample client;

  @BeforeEach
  void cluster() {
    cluster = new ClusterNodes(dir, JVM);
  }

  @AfterEach
  void stopAll() throws Exception {
    if (client != null) {
      client.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    cluster.close();
  }

  JarProcess node(int index, int[] p2p) throws Exception {
    return node(index, p2p, Map.of());
  }

  JarProcess node(int index, int[] p2p, Map<String, String> extra) throws Exception {
    return cluster.start(index, p2p, extra);
  }

  static JsonNode json(HttpResponse<String> r) throws IOException {
    return Json.MAPPER.readTree(r.body());
  }

  static long peerId(Path storage) throws IOException {
    return Long.parseLong(Files.readString(storage.resolve("peer_id")).trim());
  }

  /** Polls GET /cluster until the peers satisfy {@code ok}; returns the last answer. */
  static JsonNode awaitCluster(JarProcess node, Predicate<JsonNode> ok) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = json(node.send("GET", "/cluster", null)).get("result");
      if (ok.test(last.get("peers"))) {
        return last;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("cluster view never settled: " + last);
  }

  static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static void ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
  }

  static final String VECTORS = "{\"vectors\": {\"size\": 3, \"distance\": \"Dot\"}}";
  static final String POINTS = "{\"points\": [{\"id\": 1, \"vector\": [1, 0, 0], \"payload\": {\"n\": \"x\"}},"
      + " {\"id\": 2, \"vector\": [0, 1, 0], \"payload\": {\"n\": \"y\"}}]}";

  @Test
  void threeNodesFormOneClusterWithPerNodeAdministration() throws Exception {
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    JarProcess a = node(0, p2p);
    // the others join the cluster the first one formed
    var bStart = CompletableFuture.supplyAsync(() -> uncheck(() -> node(1, p2p)));
    JarProcess c = node(2, p2p);
    JarProcess b = bStart.get(180, TimeUnit.SECONDS);
    JarProcess[] nodes = {a, b, c};
    long[] ids = {peerId(dir.resolve("node0")), peerId(dir.resolve("node1")), peerId(dir.resolve("node2"))};

    // each node lists all three, with their p2p URIs, in Qdrant's ClusterStatus shape
    for (int i = 0; i < 3; i++) {
      JsonNode status = awaitCluster(nodes[i], peers -> peers.size() == 3);
      assertEquals("enabled", status.get("status").asText());
      assertEquals(ids[i], status.get("peer_id").asLong());
      for (int j = 0; j < 3; j++) {
        assertEquals("http://127.0.0.1:" + p2p[j] + "/", status.at("/peers/" + ids[j] + "/uri").asText(), status.toString());
      }
      assertTrue(status.get("raft_info").has("term") && status.has("consensus_thread_status") && status.has("message_send_failures"));
    }

    // a collection made on one node is the cluster's (Raft): every node has it; its one shard lives on h
    ok(a.send("PUT", "/collections/docs", "{\"vectors\": {\"size\": 3, \"distance\": \"Dot\"}, \"shard_number\": 1}"));
    for (JarProcess n : nodes) {
      ShardedClusterIT.awaitCollection(n, "docs", true);
      ok(n.send("PUT", "/collections/docs/points?wait=true", POINTS));
    }
    int hi = -1;
    for (int i = 0; i < 3; i++) {
      if (json(nodes[i].send("GET", "/collections/docs/cluster", null)).at("/result/local_shards").size() == 1) {
        hi = i;
      }
    }
    assertTrue(hi >= 0, "some node holds the shard");
    JarProcess h = nodes[hi];
    int oi = (hi + 1) % 3;
    JarProcess o = nodes[oi];

    // a lock on h refuses writes that h would store, whichever node they enter, with h's message
    ok(h.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup of h\"}"));
    for (JarProcess entry : List.of(h, o)) {
      var refused = entry.send("PUT", "/collections/docs/points?wait=true", POINTS);
      assertEquals(403, refused.statusCode(), refused.body());
      assertEquals("Storage locked: backup of h", json(refused).at("/status/error").asText());
    }
    ok(o.send("PUT", "/collections/other", VECTORS));
    assertFalse(json(o.send("GET", "/locks", null)).at("/result/write").asBoolean());

    // a plain Vert.x member: write permission of every node, a search, a lock, over the bus
    client = get(BusClientExample.join("127.0.0.1", JarProcess.freePort(), List.of("127.0.0.1:" + p2p[0], "127.0.0.1:" + p2p[1])));
    List<Peer> seen = awaitNodes(client, 3);
    assertEquals(3, seen.size(), seen.toString());
    for (int i = 0; i < 3; i++) {
      var permission = get(client.writePermission(ids[i]));
      assertEquals(i != hi, permission.getBoolean("allowed"), permission.toString());
      if (i == hi) {
        assertEquals("Storage locked: backup of h", permission.getString("error_message"));
      }
    }
    var search = new JsonObject().put("vector", new JsonArray(List.of(0, 1, 0))).put("limit", 1).put("with_payload", true);
    JsonArray hits = (JsonArray) get(client.storage(ids[oi], "search_points", "docs", search));
    assertEquals(2, hits.getJsonObject(0).getInteger("id"));
    assertEquals("y", hits.getJsonObject(0).getJsonObject("payload").getString("n"));
    JsonObject collections = (JsonObject) get(client.storage(ids[(hi + 2) % 3], "list_collections", null, null));
    assertEquals(2, collections.getJsonArray("collections").size());
    // an upsert over the bus honours the lock of the node it enters, and of the node that stores it
    var upsert = new JsonObject(POINTS);
    for (long id : new long[] {ids[hi], ids[oi]}) {
      var lockedBus = client.storage(id, "upsert_points", "docs", upsert).toCompletionStage().toCompletableFuture();
      var err = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> lockedBus.get(60, TimeUnit.SECONDS));
      assertTrue(err.getCause().getMessage().contains("Storage locked: backup of h"), err.toString());
    }
    assertEquals(true, get(client.setLock(ids[hi], false, null)).getBoolean("write"));
    get(client.storage(ids[oi], "upsert_points", "docs", upsert));
    ok(h.send("PUT", "/collections/docs/points?wait=true", POINTS));

    // scope=cluster locks every node, each answering its previous state
    JsonNode all = json(b.send("POST", "/locks?scope=cluster", "{\"write\": true, \"error_message\": \"cluster backup\"}")).get("result");
    assertEquals(3, all.get("peers").size(), all.toString());
    assertEquals(0, all.get("not_answered").size(), all.toString());
    all.get("peers").forEach(p -> assertFalse(p.get("write").asBoolean()));
    for (JarProcess n : nodes) {
      assertEquals(403, n.send("PUT", "/collections/docs/points?wait=true", POINTS).statusCode());
    }
    for (long id : ids) {
      assertFalse(get(client.writePermission(id)).getBoolean("allowed"));
    }
    JsonNode locks = json(c.send("GET", "/locks?scope=cluster", null)).get("result");
    locks.get("peers").forEach(p -> assertEquals("cluster backup", p.get("error_message").asText()));
    ok(a.send("POST", "/locks?scope=cluster", "{\"write\": false}"));
    ok(c.send("PUT", "/collections/docs/points?wait=true", POINTS));

    // a killed node (one not holding the shard) leaves the others serving; restarted, it rejoins
    // with the same peer id
    int vi = (hi + 2) % 3;
    nodes[vi].kill();
    ok(h.send("PUT", "/collections/docs/points?wait=true", POINTS));
    assertEquals(2, json(o.send("POST", "/collections/docs/points/count", "{}")).at("/result/count").asInt());
    // the Raft group keeps listing it (a member that is down), the cluster lock reaches the live ones
    assertTrue(awaitCluster(h, peers -> peers.size() == 3).get("peers").has(Long.toString(ids[vi])));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode partial;
    do {
      partial = json(h.send("POST", "/locks?scope=cluster&timeout=5", "{\"write\": false}")).get("result");
    } while (partial.get("peers").size() != 2 && System.nanoTime() < deadline);
    assertEquals(2, partial.get("peers").size(), partial.toString());

    JarProcess back = node(vi, p2p);
    assertEquals(ids[vi], peerId(dir.resolve("node" + vi)));
    JsonNode status = awaitCluster(h, peers -> peers.size() == 3);
    assertEquals("http://127.0.0.1:" + p2p[vi] + "/", status.at("/peers/" + ids[vi] + "/uri").asText());
    assertEquals(ids[vi], json(back.send("GET", "/cluster", null)).at("/result/peer_id").asLong());
    assertEquals(2, json(back.send("POST", "/collections/docs/points/count", "{}")).at("/result/count").asInt());
    assertTrue(get(client.writePermission(ids[vi])).getBoolean("allowed"));
  }

  @Test
  void withP2pTlsTheEventBusTakesOnlyCertifiedPeers() throws Exception {
    // one self-signed certificate serves as every node's certificate and as the cluster's CA
    var cert = io.quiver.testing.SelfSignedCert.create(dir.resolve("tls"), "quiver-cluster");
    Map<String, String> tls = Map.of("QDRANT__CLUSTER__P2P__ENABLE_TLS", "true", "QDRANT__TLS__CERT", cert.cert().toString(),
        "QDRANT__TLS__KEY", cert.key().toString(), "QDRANT__TLS__CA_CERT", cert.cert().toString());
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort()};
    var bStart = CompletableFuture.supplyAsync(() -> uncheck(() -> node(1, p2p, tls)));
    JarProcess a = node(0, p2p, tls);
    JarProcess b = bStart.get(180, TimeUnit.SECONDS);
    long[] ids = {peerId(dir.resolve("node0")), peerId(dir.resolve("node1"))};
    awaitCluster(a, peers -> peers.size() == 2);

    // node to node over the TLS event bus: a cluster-wide lock reaches both
    JsonNode all = json(a.send("POST", "/locks?scope=cluster", "{\"write\": true, \"error_message\": \"tls\"}")).get("result");
    assertEquals(2, all.get("peers").size(), all.toString());
    assertEquals(0, all.get("not_answered").size(), all.toString());
    assertEquals(403, b.send("PUT", "/collections/docs", VECTORS).statusCode());
    ok(b.send("POST", "/locks?scope=cluster", "{\"write\": false}"));
    ok(b.send("PUT", "/collections/docs", VECTORS));

    // a member with the cluster's certificate is answered; one without is not
    client = get(BusClientExample.join("127.0.0.1", JarProcess.freePort(), List.of("127.0.0.1:" + p2p[0]),
        new io.quiver.config.QuiverConfig.P2pTls(cert.cert(), cert.key(), cert.cert())));
    assertEquals(2, awaitNodes(client, 2).size());
    assertTrue(get(client.writePermission(ids[1], 10_000)).getBoolean("allowed"));
    BusClientExample plain = get(BusClientExample.join("127.0.0.1", JarProcess.freePort(), List.of("127.0.0.1:" + p2p[0])));
    try {
      assertEquals(2, awaitNodes(plain, 2).size(), "membership (Hazelcast) is not what TLS guards");
      var refused = plain.writePermission(ids[1], 5_000).toCompletionStage().toCompletableFuture();
      assertThrows(Exception.class, () -> refused.get(60, TimeUnit.SECONDS));
    } finally {
      plain.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  static List<Peer> awaitNodes(BusClientExample client, int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<Peer> seen = List.of();
    while (System.nanoTime() < deadline) {
      seen = get(client.nodes());
      if (seen.size() == n) {
        return seen;
      }
      Thread.sleep(250);
    }
    return seen;
  }

  interface Step<T> {
    T run() throws Exception;
  }

  static <T> T uncheck(Step<T> step) {
    try {
      return step.run();
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
