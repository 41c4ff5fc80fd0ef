package io.quiver.cluster;

import static io.quiver.cluster.ShardedClusterIT.awaitCluster;
import static io.quiver.cluster.ShardedClusterIT.awaitCollection;
import static io.quiver.cluster.ShardedClusterIT.call;
import static io.quiver.cluster.ShardedClusterIT.hasLeaderOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.testing.ClusterNodes;
import io.quiver.testing.JarProcess;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qdrant's shard replica operations ({@code POST /collections/{name}/cluster}) on three nodes while
 * a writer goes on with an oracle of what was acknowledged: a shard moved to a peer that did not hold
 * it, replicated to a third peer (a copy onto an Active replica being a no-op), a replica dropped,
 * a transfer aborted while it runs and one restarted, the validation errors, and a peer removed only
 * when forced while it holds shards. In the end every acknowledged point is readable from every
 * node and the replicas of each shard hold as many points.
 */
@Timeout(420)
class TransferIT {
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir; // the nodes' logs stay when the test fails
  ClusterNodes cluster;

  JarProcess[] nodes;
  long[] ids;

  @BeforeEach
  void cluster() {
    cluster = new ClusterNodes(dir, ClusterIT.JVM);
  }

  @AfterEach
  void stopAll() throws Exception {
    cluster.close();
  }

  JarProcess node(int index, int[] p2p) throws Exception {
    // transfers paced so that an abort reaches one while it copies, on any machine
    return cluster.start(index, p2p, Map.of("QDRANT__STORAGE__PERFORMANCE__SHARD_TRANSFER_MAX_MB_PER_SEC", "1"));
  }

  /** Upserts, batch after batch, into the collections of {@link #targets} through random nodes; remembers what was acknowledged. */
  final class Writer {
    final Map<String, Set<Long>> acked = new ConcurrentHashMap<>();
    final Map<String, AtomicLong> next = new ConcurrentHashMap<>();
    final Map<String, Integer> dims = new ConcurrentHashMap<>();
    final List<String> targets = new java.util.concurrent.CopyOnWriteArrayList<>();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicReference<String> lastFailure = new AtomicReference<>();
    final AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<Void> running;

    void add(String collection, int dim, long firstId) {
      acked.putIfAbsent(collection, ConcurrentHashMap.newKeySet());
      next.put(collection, new AtomicLong(firstId));
      dims.put(collection, dim);
      targets.add(collection);
    }

    void start() {
      running = CompletableFuture.runAsync(() -> {
        Random rnd = new Random(7);
        int turn = 0;
        while (!stop.get()) {
          String c = targets.get(turn++ % targets.size());
          long first = next.get(c).getAndAdd(4);
          String body = pointsBody(rnd, first, 4, dims.get(c));
          JarProcess n = nodes[rnd.nextInt(nodes.length)];
          try {
            HttpResponse<String> r = n.send("PUT", "/collections/" + c + "/points?wait=true", body);
            if (r.statusCode() == 200) {
              for (long id = first; id < first + 4; id++) {
                acked.get(c).add(id);
              }
              continue;
            }
            lastFailure.set(r.statusCode() + " " + r.body());
          } catch (Exception e) {
            lastFailure.set(e.toString());
          }
          failed.incrementAndGet();
          sleep(50);
        }
      });
    }

    void stop() throws Exception {
      stop.set(true);
      running.get(120, TimeUnit.SECONDS);
    }

    int acked(String collection) {
      return acked.get(collection).size();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      acked.forEach((c, s) -> sb.append(c).append(": ").append(s.size()).append(" acked; "));
      return sb.append(failed.get()).append(" failed (last: ").append(lastFailure.get()).append(')').toString();
    }
  }

  static String pointsBody(Random rnd, long first, int n, int dim) {
    StringBuilder sb = new StringBuilder("{\"points\": [");
    for (long id = first; id < first + n; id++) {
      sb.append(id == first ? "" : ", ").append("{\"id\": ").append(id).append(", \"vector\": [");
      for (int d = 0; d < dim; d++) {
        sb.append(d == 0 ? "" : ",").append(rnd.nextFloat() * 2 - 1);
      }
      sb.append("], \"payload\": {\"i\": ").append(id).append("}}");
    }
    return sb.append("]}").toString();
  }

  @Test
  void shardsMoveReplicateAbortAndDropUnderWrites() throws Exception {
    long t0 = System.nanoTime();
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    nodes = new JarProcess[3];
    var bStart = CompletableFuture.supplyAsync(() -> ClusterIT.uncheck(() -> node(1, p2p)));
    nodes[0] = node(0, p2p);
    nodes[2] = node(2, p2p);
    nodes[1] = bStart.get(180, TimeUnit.SECONDS);
    ids = new long[3];
    for (int i = 0; i < 3; i++) {
      ids[i] = awaitCluster(nodes[i], s -> hasLeaderOf(s, 3)).get("peer_id").asLong();
    }
    log(t0, "cluster up, nodes' storage and logs under " + dir);

    // ---- a collection of 2 shards, one replica each ----
    call(nodes[0], "PUT", "/collections/t1", "{\"vectors\": {\"size\": 8, \"distance\": \"Dot\"}, \"shard_number\": 2, \"replication_factor\": 1}");
    for (JarProcess n : nodes) {
      awaitCollection(n, "t1", true);
    }
    Writer writer = new Writer();
    writer.add("t1", 8, 1);
    writer.start();
    sleep(1000);

    validationErrors();

    Map<Integer, Map<Long, String>> p = placement("t1");
    assertEquals(2, p.size(), p.toString());
    p.values().forEach(r -> assertEquals(1, r.size(), p.toString()));
    long source = only(p.get(0));
    // the third peer below the target: the target stays primary when the third joins (no handover, see shard 1)
    long target = Math.max(otherThan(source, -1), otherThan(source, otherThan(source, -1)));
    long third = otherThan(source, target);

    // move_shard: the target has the shard with at least the points the source had, the source no longer has it
    long before = localCount(at(source), "t1", 0);
    transfer("t1", "move_shard", 0, source, target);
    awaitTransfersDone("t1");
    assertEquals(Map.of(target, "Active"), placement("t1").get(0));
    awaitLocal(at(source), "t1", 0, false);
    awaitLocal(at(target), "t1", 0, true);
    long after = localCount(at(target), "t1", 0);
    assertTrue(after >= before, "the moved shard has " + after + " points, the source had " + before);
    log(t0, "moved shard 0 of t1 from " + source + " to " + target + " (" + before + " -> " + after + " points); " + writer);

    // replicate_shard to a third peer: two Active replicas
    transfer("t1", "replicate_shard", 0, target, third);
    awaitTransfersDone("t1");
    assertEquals(Map.of(target, "Active", third, "Active"), placement("t1").get(0));
    awaitLocal(at(third), "t1", 0, true);
    log(t0, "replicated shard 0 of t1 to " + third + "; " + writer);

    // replicate_shard onto a peer that has an Active replica: nothing to do, no transfer
    transfer("t1", "replicate_shard", 0, target, third);
    for (JarProcess n : nodes) {
      assertEquals(0, call(n, "GET", "/collections/t1/cluster", null).get("shard_transfers").size());
    }
    assertEquals(Map.of(target, "Active", third, "Active"), placement("t1").get(0));

    // drop_replica: shard 1 copied to a second peer, then its first replica dropped. The copy goes to
    // a peer above it when there is one: the copy becomes the primary once Active, and the first
    // replica, the primary until then, is marked Dead if a write it had applied did not reach the copy
    long s1 = only(p.get(1));
    long s1Copy = Math.max(otherThan(s1, -1), otherThan(s1, otherThan(s1, -1)));
    transfer("t1", "replicate_shard", 1, s1, s1Copy);
    awaitTransfersDone("t1");
    assertEquals("Active", placement("t1").get(1).get(s1Copy));
    ok(nodes[0].send("POST", "/collections/t1/cluster", "{\"drop_replica\": {\"shard_id\": 1, \"peer_id\": " + s1 + "}}"));
    awaitPlacement("t1", 1, Map.of(s1Copy, "Active"));
    awaitLocal(at(s1), "t1", 1, false);
    // the last replica cannot go
    HttpResponse<String> last = nodes[1].send("POST", "/collections/t1/cluster", "{\"drop_replica\": {\"shard_id\": 1, \"peer_id\": " + s1Copy + "}}");
    assertEquals(400, last.statusCode(), last.body());
    log(t0, "dropped the replica of shard 1 of t1 on " + s1 + ", it lives on " + s1Copy + "; " + writer);

    // ---- a collection of 2 shards, two replicas each, big enough for a transfer to take a while ----
    call(nodes[1], "PUT", "/collections/t2", "{\"vectors\": {\"size\": 64, \"distance\": \"Cosine\"}, \"shard_number\": 2, \"replication_factor\": 2}");
    for (JarProcess n : nodes) {
      awaitCollection(n, "t2", true);
    }
    int preload = 12_000;
    Random rnd = new Random(11);
    writer.acked.put("t2", ConcurrentHashMap.newKeySet());
    for (int i = 0; i < preload; i += 1000) {
      call(nodes[(i / 1000) % 3], "PUT", "/collections/t2/points?wait=true", pointsBody(rnd, i + 1, 1000, 64));
      for (long id = i + 1; id <= i + 1000; id++) {
        writer.acked.get("t2").add(id);
      }
    }
    writer.add("t2", 64, preload + 1);
    awaitAllActive("t2");
    log(t0, "t2 loaded; " + writer);
    Map<Integer, Map<Long, String>> p2 = placement("t2");
    p2.values().forEach(r -> assertEquals(2, r.size(), p2.toString()));

    // abort_transfer while the copy runs: the receiver is Dead, the source as it was
    long from = p2.get(0).keySet().iterator().next();
    long to = missing(p2.get(0));
    long sourceCount = localCount(at(from), "t2", 0);
    transfer("t2", "replicate_shard", 0, from, to);
    String seen = awaitCopying(at(to), "t2", 0);
    HttpResponse<String> abort = nodes[2].send("POST", "/collections/t2/cluster",
        "{\"abort_transfer\": {\"shard_id\": 0, \"from_peer_id\": " + from + ", \"to_peer_id\": " + to + "}}");
    assertEquals(200, abort.statusCode(), "abort after the receiver showed '" + seen + "': " + abort.body());
    Map<Long, String> aborted = placement("t2").get(0);
    assertTrue("Dead".equals(aborted.get(to)) || "Partial".equals(aborted.get(to)) && transfersOf("t2").size() > 0
        || "Active".equals(aborted.get(to)), "right after the abort: " + aborted); // Dead, then it recovers by itself
    assertEquals("Active", aborted.get(from), aborted.toString());
    assertTrue(localCount(at(from), "t2", 0) >= sourceCount);
    log(t0, "aborted the transfer of shard 0 of t2 to " + to + " (seen: " + seen + "), right after: " + aborted + "; " + writer);
    // a Dead replica recovers by itself: in the end it is an Active third replica
    awaitAllActive("t2");
    assertEquals(3, placement("t2").get(0).size());

    // abort_transfer of a move while the copy runs: the receiver's replica is gone, the source as it was
    long from1 = p2.get(1).keySet().iterator().next();
    long to1 = missing(p2.get(1));
    transfer("t2", "move_shard", 1, from1, to1);
    String seenMove = awaitCopying(at(to1), "t2", 1);
    HttpResponse<String> abortMove = nodes[1].send("POST", "/collections/t2/cluster",
        "{\"abort_transfer\": {\"shard_id\": 1, \"from_peer_id\": " + from1 + ", \"to_peer_id\": " + to1 + "}}");
    assertEquals(200, abortMove.statusCode(), "abort after the receiver showed '" + seenMove + "': " + abortMove.body());
    assertEquals(p2.get(1), placement("t2").get(1));
    awaitLocal(at(to1), "t2", 1, false);
    log(t0, "aborted the move of shard 1 of t2 to " + to1 + " (seen: " + seenMove + "); " + writer);
    sleep(1000); // the receiver's interrupted recovery has ended

    // restart_transfer: the receiver starts over with the method asked for
    HttpResponse<String> none = nodes[0].send("POST", "/collections/t2/cluster",
        "{\"restart_transfer\": {\"shard_id\": 1, \"from_peer_id\": " + from1 + ", \"to_peer_id\": " + to1 + ", \"method\": \"stream_records\"}}");
    assertEquals(400, none.statusCode(), none.body());
    transfer("t2", "replicate_shard", 1, from1, to1);
    ok(nodes[0].send("POST", "/collections/t2/cluster",
        "{\"restart_transfer\": {\"shard_id\": 1, \"from_peer_id\": " + from1 + ", \"to_peer_id\": " + to1 + ", \"method\": \"stream_records\"}}"));
    awaitAllActive("t2");
    assertEquals(3, placement("t2").get(1).size());
    log(t0, "restarted the transfer of shard 1 of t2 to " + to1 + "; " + writer);

    // ---- the writer stops: everything acknowledged is everywhere ----
    sleep(1000);
    writer.stop();
    log(t0, "writer stopped; " + writer);
    assertTrue(writer.acked("t1") > 100, writer.toString());
    assertTrue(writer.acked("t2") > preload + 50, writer.toString());
    for (String c : List.of("t1", "t2")) {
      awaitAllActive(c);
      assertReplicasAgree(c);
      assertAllReadable(c, writer.acked.get(c), nodes);
    }

    // ---- a peer holding shards leaves only when forced ----
    int victim = -1;
    for (int i = 0; i < 3; i++) {
      if (ids[i] != s1Copy) { // shard 1 of t1 has its only replica there
        victim = i;
      }
    }
    JarProcess asker = nodes[(victim + 1) % 3];
    HttpResponse<String> refused = asker.send("DELETE", "/cluster/peer/" + ids[victim], null);
    assertEquals(400, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("there are shards on it"), refused.body());
    ok(asker.send("DELETE", "/cluster/peer/" + ids[victim] + "?force=true", null));
    JarProcess[] rest = {nodes[(victim + 1) % 3], nodes[(victim + 2) % 3]};
    for (JarProcess n : rest) {
      awaitCluster(n, s -> s.get("peers").size() == 2);
    }
    for (String c : List.of("t1", "t2")) {
      for (var e : placement(c, rest[0]).entrySet()) {
        assertFalse(e.getValue().containsKey(ids[victim]), c + ": " + e);
        assertFalse(e.getValue().isEmpty(), c + ": " + e);
      }
      assertAllReadable(c, writer.acked.get(c), rest);
    }
    log(t0, "peer " + ids[victim] + " removed by force; done");
  }

  // ---- the steps ----

  private void validationErrors() throws Exception {
    JarProcess n = nodes[0];
    String path = "/collections/t1/cluster";
    HttpResponse<String> self = n.send("POST", path, "{\"move_shard\": {\"shard_id\": 0, \"from_peer_id\": " + ids[0] + ", \"to_peer_id\": " + ids[0] + "}}");
    assertEquals(422, self.statusCode(), self.body());
    assertTrue(error(self).contains("cannot transfer shard to itself"), self.body());
    HttpResponse<String> method = n.send("POST", path, "{\"move_shard\": {\"shard_id\": 0, \"from_peer_id\": " + ids[0] + ", \"to_peer_id\": "
        + ids[1] + ", \"method\": \"teleport\"}}");
    assertEquals(400, method.statusCode(), method.body());
    assertTrue(error(method).contains("unknown variant `teleport`"), method.body());
    HttpResponse<String> op = n.send("POST", path, "{\"teleport_shard\": {\"shard_id\": 0}}");
    assertEquals(400, op.statusCode(), op.body());
    HttpResponse<String> shard = n.send("POST", path, "{\"replicate_shard\": {\"shard_id\": 7, \"from_peer_id\": " + ids[0] + ", \"to_peer_id\": "
        + ids[1] + "}}");
    assertEquals(400, shard.statusCode(), shard.body());
    assertTrue(error(shard).contains("Shard 7 does not exist"), shard.body());
    HttpResponse<String> peer = n.send("POST", path, "{\"replicate_shard\": {\"shard_id\": 0, \"from_peer_id\": " + ids[0] + ", \"to_peer_id\": 12345}}");
    assertEquals(400, peer.statusCode(), peer.body());
    HttpResponse<String> collection = n.send("POST", "/collections/nope/cluster", "{\"move_shard\": {\"shard_id\": 0, \"from_peer_id\": " + ids[0]
        + ", \"to_peer_id\": " + ids[1] + "}}");
    assertEquals(404, collection.statusCode(), collection.body());
    HttpResponse<String> abort = n.send("POST", path, "{\"abort_transfer\": {\"shard_id\": 0, \"from_peer_id\": " + ids[0] + ", \"to_peer_id\": "
        + ids[1] + "}}");
    assertEquals(400, abort.statusCode(), abort.body());
  }

  private void transfer(String collection, String op, int shard, long from, long to) throws Exception {
    ok(nodes[(int) Math.floorMod(from + to, 3L)].send("POST", "/collections/" + collection + "/cluster",
        "{\"" + op + "\": {\"shard_id\": " + shard + ", \"from_peer_id\": " + from + ", \"to_peer_id\": " + to + "}}"));
  }

  /** Polls the receiver until it shows the copy of the transfer going on; answers its comment (or what it showed last). */
  private String awaitCopying(JarProcess receiver, String collection, int shard) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    String last = null;
    while (System.nanoTime() < deadline) {
      for (JsonNode t : call(receiver, "GET", "/collections/" + collection + "/cluster", null).get("shard_transfers")) {
        if (t.get("shard_id").asInt() == shard) {
          last = t.path("comment").asText("(no comment)");
          if (last.startsWith("Transferring records (") && !last.startsWith("Transferring records (0/")) {
            return last;
          }
        }
      }
      Thread.sleep(20);
    }
    return last;
  }

  // ---- the cluster's view ----

  /** Shard id -> (peer -> replica state), as node 0 shows it. */
  private Map<Integer, Map<Long, String>> placement(String collection) throws Exception {
    return placement(collection, nodes[0]);
  }

  private static Map<Integer, Map<Long, String>> placement(String collection, JarProcess n) throws Exception {
    return ClusterNodes.placement(call(n, "GET", "/collections/" + collection + "/cluster", null));
  }

  private List<JsonNode> transfersOf(String collection) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    call(nodes[0], "GET", "/collections/" + collection + "/cluster", null).get("shard_transfers").forEach(out::add);
    return out;
  }

  /** The local replica's point count on {@code n}, or -1 when it holds none. */
  private static long localCount(JarProcess n, String collection, int shard) throws Exception {
    for (JsonNode s : call(n, "GET", "/collections/" + collection + "/cluster", null).get("local_shards")) {
      if (s.get("shard_id").asInt() == shard) {
        return s.get("points_count").asLong();
      }
    }
    return -1;
  }

  private JarProcess at(long peer) {
    for (int i = 0; i < 3; i++) {
      if (ids[i] == peer) {
        return nodes[i];
      }
    }
    throw new AssertionError("no node of peer " + peer);
  }

  private long otherThan(long a, long b) {
    for (long id : ids) {
      if (id != a && id != b) {
        return id;
      }
    }
    throw new AssertionError();
  }

  private long missing(Map<Long, String> replicas) {
    for (long id : ids) {
      if (!replicas.containsKey(id)) {
        return id;
      }
    }
    throw new AssertionError("every peer holds " + replicas);
  }

  private static long only(Map<Long, String> replicas) {
    assertEquals(1, replicas.size(), replicas.toString());
    return replicas.keySet().iterator().next();
  }

  // ---- waiting ----

  private void await(String what, Predicate<JarProcess> ok, JarProcess... on) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (JarProcess n : on) {
        try {
          all &= ok.test(n);
        } catch (RuntimeException | AssertionError notYet) {
          all = false;
        }
      }
      if (all) {
        return;
      }
      Thread.sleep(200);
    }
    StringBuilder state = new StringBuilder();
    for (JarProcess n : on) {
      for (String c : List.of("t1", "t2")) {
        state.append("\n  :").append(n.port).append(' ').append(c).append(' ').append(n.send("GET", "/collections/" + c + "/cluster", null).body());
      }
    }
    throw new AssertionError(what + " never happened:" + state);
  }

  private void awaitTransfersDone(String collection) throws Exception {
    await(collection + " without transfers, all replicas Active", n -> allActive(n, collection), nodes);
  }

  private void awaitAllActive(String collection) throws Exception {
    awaitTransfersDone(collection);
  }

  private static boolean allActive(JarProcess n, String collection) {
    JsonNode info = ClusterIT.uncheck(() -> call(n, "GET", "/collections/" + collection + "/cluster", null));
    if (info.get("shard_transfers").size() > 0) {
      return false;
    }
    for (String kind : List.of("local_shards", "remote_shards")) {
      for (JsonNode s : info.get(kind)) {
        if (!"Active".equals(s.get("state").asText())) {
          return false;
        }
      }
    }
    return true;
  }

  private void awaitPlacement(String collection, int shard, Map<Long, String> want) throws Exception {
    await(collection + " shard " + shard + " on " + want,
        n -> want.equals(ClusterIT.uncheck(() -> placement(collection, n)).get(shard)), nodes);
  }

  private void awaitLocal(JarProcess n, String collection, int shard, boolean held) throws Exception {
    await("shard " + shard + " of " + collection + (held ? " held" : " gone") + " on :" + n.port,
        x -> ClusterIT.uncheck(() -> localCount(x, collection, shard) >= 0) == held, n);
  }

  // ---- the final checks ----

  /** Every holder of a shard counts as many points in it. */
  private void assertReplicasAgree(String collection) throws Exception {
    Map<Integer, Map<Long, Long>> counts = new TreeMap<>();
    for (int i = 0; i < 3; i++) {
      for (JsonNode s : call(nodes[i], "GET", "/collections/" + collection + "/cluster", null).get("local_shards")) {
        assertEquals("Active", s.get("state").asText(), s.toString());
        counts.computeIfAbsent(s.get("shard_id").asInt(), k -> new TreeMap<>()).put(ids[i], s.get("points_count").asLong());
      }
    }
    long total = 0;
    for (var e : counts.entrySet()) {
      assertEquals(1, e.getValue().values().stream().distinct().count(), collection + " shard " + e.getKey() + ": " + e.getValue());
      total += e.getValue().values().iterator().next();
    }
    for (JarProcess n : nodes) {
      assertEquals(total, call(n, "POST", "/collections/" + collection + "/points/count", "{\"exact\": true}").get("count").asLong(),
          collection + " " + counts);
    }
    System.out.printf("%s: replicas agree %s%n", collection, counts);
  }

  private static void assertAllReadable(String collection, Set<Long> acked, JarProcess... on) throws Exception {
    List<Long> all = new ArrayList<>(new java.util.TreeSet<>(acked));
    for (JarProcess n : on) {
      for (int i = 0; i < all.size(); i += 2000) {
        List<Long> chunk = all.subList(i, Math.min(all.size(), i + 2000));
        JsonNode got = call(n, "POST", "/collections/" + collection + "/points",
            "{\"ids\": " + chunk + ", \"with_payload\": false, \"with_vector\": false}");
        if (got.size() != chunk.size()) {
          Set<Long> missing = new java.util.TreeSet<>(chunk);
          got.forEach(x -> missing.remove(x.get("id").asLong()));
          throw new AssertionError(collection + " on :" + n.port + ": " + missing.size() + " acknowledged points missing, e.g. "
              + missing.stream().limit(20).toList());
        }
      }
    }
  }

  private static String error(HttpResponse<String> r) throws Exception {
    JsonNode e = Json.MAPPER.readTree(r.body()).at("/status/error");
    assertNotNull(e, r.body());
    return e.asText();
  }

  private static void ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
  }

  private static void log(long t0, String what) {
    System.out.printf("[%5.1fs] %s%n", (System.nanoTime() - t0) / 1e9, what);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
