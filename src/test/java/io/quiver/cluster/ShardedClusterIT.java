package io.quiver.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.testing.ClusterNodes;
import io.quiver.testing.JarProcess;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes as separate processes forming one Raft group: metadata through consensus (a leader,
 * the same commit everywhere, changes made while a peer is down reaching it when it returns, a
 * leader killed with SIGKILL replaced while changes go on), and a collection sharded over the three
 * answering every read as a one-shard collection with the same points does.
 */
@Timeout(420)
class ShardedClusterIT {
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  @TempDir Path dir;
  ClusterNodes cluster;

  @BeforeEach
  void cluster() {
    cluster = new ClusterNodes(dir, ClusterIT.JVM);
  }

  @AfterEach
  void stopAll() throws Exception {
    cluster.close();
  }

  JarProcess node(int index, int[] p2p) throws Exception {
    return cluster.start(index, p2p);
  }

  JarProcess node(int index, int[] p2p, Map<String, String> extra) throws Exception {
    return cluster.start(index, p2p, extra);
  }

  static JsonNode result(HttpResponse<String> r) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    return Json.MAPPER.readTree(r.body()).get("result");
  }

  static JsonNode call(JarProcess n, String method, String path, Object body) throws Exception {
    return result(n.send(method, path, body == null ? null : body instanceof String s ? s : Json.MAPPER.writeValueAsString(body)));
  }

  /** Polls {@code GET /cluster} until {@code ok}; returns the answer. */
  static JsonNode awaitCluster(JarProcess n, Predicate<JsonNode> ok) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      try {
        last = call(n, "GET", "/cluster", null);
        if (ok.test(last)) {
          return last;
        }
      } catch (Exception | AssertionError notYet) {
        // not answering yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("cluster state never settled: " + last);
  }

  static boolean hasLeaderOf(JsonNode status, int peers) {
    return status.at("/raft_info/leader").isNumber() && status.get("peers").size() == peers
        && "working".equals(status.at("/consensus_thread_status/consensus_thread_status").asText());
  }

  static void awaitCollection(JarProcess n, String name, boolean exists) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (call(n, "GET", "/collections/" + name + "/exists", null).get("exists").asBoolean() == exists) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("collection " + name + (exists ? " never appeared" : " never went away") + " on :" + n.port);
  }

  @Test
  void threePeersShareMetadataThroughRaftAndSurviveALeaderKill() throws Exception {
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    JarProcess a = node(0, p2p);
    var bStart = CompletableFuture.supplyAsync(() -> ClusterIT.uncheck(() -> node(1, p2p)));
    JarProcess c = node(2, p2p);
    JarProcess b = bStart.get(180, TimeUnit.SECONDS);
    JarProcess[] nodes = {a, b, c};

    JsonNode status = awaitCluster(a, s -> hasLeaderOf(s, 3));
    long leader = status.at("/raft_info/leader").asLong();
    for (JarProcess n : nodes) {
      JsonNode s = awaitCluster(n, st -> hasLeaderOf(st, 3) && st.at("/raft_info/leader").asLong() == leader);
      assertEquals(status.get("peers").size(), s.get("peers").size());
      s.get("peers").forEach(p -> assertTrue(p.get("uri").asText().startsWith("http://127.0.0.1:"), s.toString()));
    }

    // a collection made on one peer exists on all, with its aliases and indexes
    call(b, "PUT", "/collections/docs", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"shard_number\": 3}");
    call(c, "POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"docs\", \"alias_name\": \"d\"}}]}");
    call(a, "PUT", "/collections/docs/index?wait=true", "{\"field_name\": \"city\", \"field_schema\": \"keyword\"}");
    for (JarProcess n : nodes) {
      awaitCollection(n, "d", true);
      JsonNode info = call(n, "GET", "/collections/docs", null);
      assertEquals(3, info.at("/config/params/shard_number").asInt());
      assertEquals("keyword", info.at("/payload_schema/city/data_type").asText(), info.toString());
    }
    var dup = a.send("PUT", "/collections/docs", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}");
    assertEquals(409, dup.statusCode(), dup.body());

    // changes made while a peer is down reach it when it returns
    long cId = call(c, "GET", "/cluster", null).get("peer_id").asLong();
    c.kill();
    call(a, "PUT", "/collections/later", "{\"vectors\": {\"size\": 2, \"distance\": \"Cosine\"}}");
    call(b, "DELETE", "/collections/docs", null);
    JarProcess c2 = node(2, p2p);
    nodes[2] = c2;
    awaitCollection(c2, "later", true);
    awaitCollection(c2, "docs", false);
    assertEquals(cId, call(c2, "GET", "/cluster", null).get("peer_id").asLong());

    // the leader killed: the other two elect one and take changes
    JsonNode before = awaitCluster(a, s -> hasLeaderOf(s, 3));
    long oldLeader = before.at("/raft_info/leader").asLong();
    int victim = -1;
    for (int i = 0; i < 3; i++) {
      if (call(nodes[i], "GET", "/cluster", null).get("peer_id").asLong() == oldLeader) {
        victim = i;
      }
    }
    nodes[victim].kill();
    JarProcess survivor = nodes[(victim + 1) % 3];
    JsonNode after = awaitCluster(survivor, s -> s.at("/raft_info/leader").isNumber() && s.at("/raft_info/leader").asLong() != oldLeader);
    assertNotEquals(oldLeader, after.at("/raft_info/leader").asLong());
    call(survivor, "PUT", "/collections/after_kill", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
    awaitCollection(nodes[(victim + 2) % 3], "after_kill", true);
  }

  /** Random points with payloads for a collection of 8-d cosine vectors. */
  static ArrayNode points(Random rnd, int from, int n) {
    ArrayNode out = F.arrayNode();
    String[] cities = {"Berlin", "London", "Paris", "Rome"};
    for (int i = from; i < from + n; i++) {
      ObjectNode p = out.addObject().put("id", i);
      ArrayNode v = p.putArray("vector");
      for (int d = 0; d < 8; d++) {
        v.add(rnd.nextFloat() * 2 - 1);
      }
      p.putObject("payload").put("n", rnd.nextInt(50)).put("city", cities[rnd.nextInt(cities.length)]);
    }
    return out;
  }

  static String vector(Random rnd) {
    StringBuilder sb = new StringBuilder("[");
    for (int d = 0; d < 8; d++) {
      sb.append(d == 0 ? "" : ",").append(rnd.nextFloat() * 2 - 1);
    }
    return sb.append(']').toString();
  }

  @Test
  void aShardedCollectionAnswersAsOneShard() throws Exception {
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    JarProcess a = node(0, p2p);
    var bStart = CompletableFuture.supplyAsync(() -> ClusterIT.uncheck(() -> node(1, p2p)));
    JarProcess c = node(2, p2p);
    JarProcess b = bStart.get(180, TimeUnit.SECONDS);
    JarProcess[] nodes = {a, b, c};
    for (JarProcess n : nodes) {
      awaitCluster(n, s -> hasLeaderOf(s, 3));
    }
    String config = "{\"vectors\": {\"size\": 8, \"distance\": \"Cosine\"}, \"shard_number\": %d}";
    call(a, "PUT", "/collections/sharded", String.format(config, 6));
    call(a, "PUT", "/collections/single", String.format(config, 1));
    for (String name : List.of("sharded", "single")) {
      call(b, "PUT", "/collections/" + name + "/index?wait=true", "{\"field_name\": \"n\", \"field_schema\": \"integer\"}");
      call(b, "PUT", "/collections/" + name + "/index?wait=true", "{\"field_name\": \"city\", \"field_schema\": \"keyword\"}");
    }
    Random rnd = new Random(42);
    for (int batch = 0; batch < 4; batch++) {
      ArrayNode pts = points(rnd, batch * 100, 100);
      for (String name : List.of("sharded", "single")) {
        call(nodes[batch % 3], "PUT", "/collections/" + name + "/points?wait=true", F.objectNode().set("points", pts));
      }
    }

    // the shards are spread: two per peer, and together they hold every point
    int total = 0;
    for (JarProcess n : nodes) {
      JsonNode info = call(n, "GET", "/collections/sharded/cluster", null);
      assertEquals(6, info.get("shard_count").asInt(), info.toString());
      assertEquals(2, info.get("local_shards").size(), info.toString());
      assertEquals(4, info.get("remote_shards").size(), info.toString());
      for (JsonNode s : info.get("local_shards")) {
        total += s.get("points_count").asInt();
      }
      assertEquals(400, call(n, "GET", "/collections/sharded", null).get("points_count").asInt());
    }
    assertEquals(400, total);

    List<String[]> reads = new ArrayList<>();
    String filter = "{\"must\": [{\"key\": \"city\", \"match\": {\"value\": \"Paris\"}}]}";
    reads.add(new String[] {"/points", "{\"ids\": [1, 77, 150, 399, 1000], \"with_payload\": true, \"with_vector\": true}"});
    reads.add(new String[] {"/points/scroll", "{\"limit\": 17, \"offset\": 120, \"with_payload\": true}"});
    reads.add(new String[] {"/points/scroll", "{\"limit\": 25, \"filter\": " + filter + "}"});
    reads.add(new String[] {"/points/scroll", "{\"limit\": 30, \"order_by\": {\"key\": \"n\", \"direction\": \"desc\"}}"});
    reads.add(new String[] {"/points/count", "{\"filter\": " + filter + ", \"exact\": true}"});
    reads.add(new String[] {"/facet", "{\"key\": \"city\", \"exact\": true}"});
    for (int i = 0; i < 6; i++) {
      String v = vector(rnd);
      reads.add(new String[] {"/points/search", "{\"vector\": " + v + ", \"limit\": 10, \"params\": {\"exact\": true}, \"with_payload\": true}"});
      reads.add(new String[] {"/points/search", "{\"vector\": " + v + ", \"limit\": 5, \"offset\": 3, \"filter\": " + filter
          + ", \"params\": {\"exact\": true}, \"score_threshold\": 0.1}"});
      reads.add(new String[] {"/points/query", "{\"prefetch\": [{\"query\": " + v + ", \"limit\": 30, \"params\": {\"exact\": true}},"
          + " {\"query\": " + vector(rnd) + ", \"limit\": 30, \"params\": {\"exact\": true}}], \"query\": {\"fusion\": \"rrf\"}, \"limit\": 10}"});
      reads.add(new String[] {"/points/query", "{\"prefetch\": {\"query\": " + v + ", \"limit\": 50, \"params\": {\"exact\": true}},"
          + " \"query\": " + vector(rnd) + ", \"params\": {\"exact\": true}, \"limit\": 7}"});
      reads.add(new String[] {"/points/query", "{\"prefetch\": {\"query\": " + v + ", \"limit\": 40, \"params\": {\"exact\": true}},"
          + " \"query\": {\"formula\": {\"sum\": [\"$score\", {\"mult\": [0.01, \"n\"]}]}}, \"limit\": 8}"});
      reads.add(new String[] {"/points/query/groups", "{\"query\": " + v + ", \"group_by\": \"city\", \"limit\": 3, \"group_size\": 2,"
          + " \"params\": {\"exact\": true}}"});
      reads.add(new String[] {"/points/recommend", "{\"positive\": [" + (i * 31) + ", " + (i * 7 + 1) + "], \"negative\": [" + (300 + i)
          + "], \"limit\": 6, \"params\": {\"exact\": true}}"});
      reads.add(new String[] {"/points/discover", "{\"target\": " + (i * 13) + ", \"context\": [{\"positive\": " + (i + 100)
          + ", \"negative\": " + (i + 200) + "}], \"limit\": 5, \"params\": {\"exact\": true}}"});
      reads.add(new String[] {"/points/query", "{\"query\": {\"nearest\": " + v + ", \"mmr\": {\"diversity\": 0.5, \"candidates_limit\": 40}},"
          + " \"params\": {\"exact\": true}, \"limit\": 6}"});
    }
    for (String[] read : reads) {
      for (JarProcess n : nodes) {
        JsonNode one = call(n, "POST", "/collections/single" + read[0], read[1]);
        JsonNode many = call(n, "POST", "/collections/sharded" + read[0], read[1]);
        assertEquals(one, many, read[0] + " " + read[1] + " on :" + n.port);
      }
    }

    // a write spanning shards with one bad point changes nothing anywhere
    ArrayNode bad = points(rnd, 1000, 20);
    ((ObjectNode) bad.get(13)).putArray("vector").add(1).add(2);
    var refused = b.send("PUT", "/collections/sharded/points?wait=true", Json.MAPPER.writeValueAsString(F.objectNode().set("points", bad)));
    assertEquals(400, refused.statusCode(), refused.body());
    assertEquals(400, call(c, "POST", "/collections/sharded/points/count", "{\"exact\": true}").get("count").asInt());

    // a write lock on one peer refuses writes that would store anything there, whichever peer they enter,
    // before any shard changes; searches and deletes go on
    call(c, "POST", "/locks", "{\"write\": true, \"error_message\": \"c is full\"}");
    var locked = a.send("PUT", "/collections/sharded/points?wait=true",
        Json.MAPPER.writeValueAsString(F.objectNode().set("points", points(rnd, 2000, 30))));
    assertEquals(403, locked.statusCode(), locked.body());
    assertEquals("Storage locked: c is full", Json.MAPPER.readTree(locked.body()).at("/status/error").asText());
    assertEquals(400, call(b, "POST", "/collections/sharded/points/count", "{\"exact\": true}").get("count").asInt());
    call(a, "POST", "/collections/sharded/points/search", "{\"vector\": " + vector(rnd) + ", \"limit\": 3}");
    call(a, "POST", "/collections/sharded/points/delete?wait=true", "{\"points\": [0]}");
    call(a, "POST", "/collections/single/points/delete?wait=true", "{\"points\": [0]}");
    call(c, "POST", "/locks", "{\"write\": false}");
    call(a, "PUT", "/collections/sharded/points?wait=true", F.objectNode().set("points", points(new Random(5), 2000, 30)));
    call(a, "PUT", "/collections/single/points?wait=true", F.objectNode().set("points", points(new Random(5), 2000, 30)));

    // deletes by filter reach every shard
    call(a, "POST", "/collections/sharded/points/delete?wait=true", "{\"filter\": " + filter + "}");
    call(a, "POST", "/collections/single/points/delete?wait=true", "{\"filter\": " + filter + "}");
    assertEquals(call(a, "POST", "/collections/single/points/count", "{\"exact\": true}"),
        call(c, "POST", "/collections/sharded/points/count", "{\"exact\": true}"));
    assertTrue(Files.exists(dir.resolve("node0")));

    customShardKeysAcrossPeers(nodes);

    // a peer restarted in recovery mode keeps its place: its shards answer 503 naming them and the
    // peer, never a partial result; a collection deleted there is deleted everywhere
    long cId = call(c, "GET", "/cluster", null).get("peer_id").asLong();
    c.kill();
    JarProcess recovering = node(2, p2p, Map.of("QDRANT__STORAGE__RECOVERY_MODE", "c is being repaired"));
    awaitCluster(recovering, s -> hasLeaderOf(s, 3));
    var partial = a.send("POST", "/collections/sharded/points/count", "{\"exact\": true}");
    assertEquals(503, partial.statusCode(), partial.body());
    assertTrue(partial.body().contains("peer " + cId), partial.body());
    var refusedHere = recovering.send("POST", "/collections/sharded/points/count", "{\"exact\": true}");
    assertTrue(refusedHere.body().contains("c is being repaired"), refusedHere.body());
    call(recovering, "DELETE", "/collections/sharded", null);
    awaitCollection(a, "sharded", false);
    awaitCollection(b, "sharded", false);
    awaitCollection(recovering, "sharded", false);
  }

  /**
   * Custom sharding over the running peers: keys placed on chosen peers (a string and an integer
   * key), writes by key entering any peer, reads by key selector or of all keys from any peer, the
   * key's shards shown with their key, and a key dropped everywhere.
   */
  private void customShardKeysAcrossPeers(JarProcess[] nodes) throws Exception {
    JarProcess a = nodes[0];
    JarProcess b = nodes[1];
    JarProcess c = nodes[2];
    long aId = call(a, "GET", "/cluster", null).get("peer_id").asLong();
    long cId = call(c, "GET", "/cluster", null).get("peer_id").asLong();
    call(b, "PUT", "/collections/keyed", "{\"vectors\": {\"size\": 8, \"distance\": \"Cosine\"}, \"sharding_method\": \"custom\"}");
    for (JarProcess n : nodes) {
      awaitCollection(n, "keyed", true);
    }
    call(a, "PUT", "/collections/keyed/shards", "{\"shard_key\": \"eu\", \"placement\": [" + Long.toUnsignedString(aId) + "]}");
    call(c, "PUT", "/collections/keyed/shards", "{\"shard_key\": 7, \"shards_number\": 2, \"placement\": [" + Long.toUnsignedString(cId) + "]}");
    Random rnd = new Random(7);
    call(c, "PUT", "/collections/keyed/points?wait=true", F.objectNode().<ObjectNode>set("points", points(rnd, 0, 30)).put("shard_key", "eu"));
    call(a, "PUT", "/collections/keyed/points?wait=true", F.objectNode().<ObjectNode>set("points", points(rnd, 20, 40)).put("shard_key", 7));
    var unknown = b.send("PUT", "/collections/keyed/points?wait=true",
        Json.MAPPER.writeValueAsString(F.objectNode().<ObjectNode>set("points", points(rnd, 0, 1)).put("shard_key", "us")));
    assertEquals(400, unknown.statusCode(), unknown.body());
    assertEquals("Wrong input: Shard key us not found", Json.MAPPER.readTree(unknown.body()).at("/status/error").asText());
    for (JarProcess n : nodes) {
      assertEquals(70, call(n, "POST", "/collections/keyed/points/count", "{\"exact\": true}").get("count").asInt());
      assertEquals(30, call(n, "POST", "/collections/keyed/points/count", "{\"exact\": true, \"shard_key\": \"eu\"}").get("count").asInt());
      JsonNode hits = call(n, "POST", "/collections/keyed/points/search", "{\"vector\": " + vector(rnd) + ", \"limit\": 100, \"shard_key\": 7}");
      assertEquals(40, hits.size());
      hits.forEach(h -> assertTrue(h.get("shard_key").isIntegralNumber() && h.get("shard_key").asInt() == 7, h.toString()));
      JsonNode all = call(n, "POST", "/collections/keyed/points/query", "{\"query\": " + vector(rnd) + ", \"limit\": 100}").get("points");
      assertEquals(70, all.size());
    }
    // the shards are where the placement put them, shown with their key
    JsonNode onC = call(c, "GET", "/collections/keyed/cluster", null);
    assertEquals(3, onC.get("shard_count").asInt(), onC.toString());
    assertEquals(2, onC.get("local_shards").size(), onC.toString());
    int sevens = 0;
    for (JsonNode s : onC.get("local_shards")) {
      assertEquals(7, s.get("shard_key").asInt(), onC.toString());
      assertTrue(s.get("shard_key").isIntegralNumber(), onC.toString());
      sevens += s.get("points_count").asInt();
    }
    assertEquals(40, sevens);
    JsonNode onA = call(a, "GET", "/collections/keyed/cluster", null);
    assertEquals("eu", onA.at("/local_shards/0/shard_key").asText(), onA.toString());
    assertEquals(0, call(b, "GET", "/collections/keyed/cluster", null).get("local_shards").size());

    call(b, "POST", "/collections/keyed/shards/delete", "{\"shard_key\": \"eu\"}");
    for (JarProcess n : nodes) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (call(n, "GET", "/collections/keyed/cluster", null).get("shard_count").asInt() != 2 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertEquals(40, call(n, "POST", "/collections/keyed/points/count", "{\"exact\": true}").get("count").asInt());
    }
    assertEquals(0, call(a, "GET", "/collections/keyed/cluster", null).get("local_shards").size());
  }
}
