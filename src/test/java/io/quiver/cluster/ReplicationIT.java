package io.quiver.cluster;

import static io.quiver.cluster.ShardedClusterIT.awaitCluster;
import static io.quiver.cluster.ShardedClusterIT.call;
import static io.quiver.cluster.ShardedClusterIT.hasLeaderOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.testing.ClusterNodes;
import io.quiver.testing.JarProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes, a collection of 2 shards x 2 replicas, writers on every node with an oracle of what
 * was acknowledged: nodes are SIGKILLed at random moments (a shard's primary among them) and
 * restarted, several rounds. After each round every acknowledged write is there, on every replica,
 * and the replicas of each shard hold exactly the same points.
 */
@Timeout(600)
class ReplicationIT {
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

  /** What a point must be after the writes: its last acknowledged vector (null: deleted), and whether a later write failed (then either). */
  record Expect(String state, boolean settled, List<String> unsure) {}

  /** A point's payload as {@link #scrollAll} shows it. */
  static String payload(int writer, Integer stamp) {
    return stamp == null ? "{\"w\":" + writer + "}" : "{\"s\":" + stamp + ",\"w\":" + writer + "}";
  }

  @Test
  void nothingAcknowledgedIsLostWhileNodesAreKilledAndReturn() throws Exception {
    long seed = Long.getLong("chaos.seed", System.nanoTime());
    Random random = new Random(seed);
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    JarProcess[] nodes = new JarProcess[3];
    var bStart = CompletableFuture.supplyAsync(() -> ClusterIT.uncheck(() -> node(1, p2p)));
    nodes[0] = node(0, p2p);
    nodes[2] = node(2, p2p);
    nodes[1] = bStart.get(180, TimeUnit.SECONDS);
    for (JarProcess n : nodes) {
      awaitCluster(n, s -> hasLeaderOf(s, 3));
    }
    call(nodes[0], "PUT", "/collections/r",
        "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"shard_number\": 2, \"replication_factor\": 2}");
    for (JarProcess n : nodes) {
      ShardedClusterIT.awaitCollection(n, "r", true);
    }
    JsonNode info = call(nodes[1], "GET", "/collections/r/cluster", null);
    assertEquals(4, info.get("local_shards").size() + info.get("remote_shards").size(), info.toString());

    Map<Long, Expect> oracle = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger acked = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int w = 0; w < 3; w++) {
      int writer = w;
      writers.add(CompletableFuture.runAsync(() -> {
        Random rnd = new Random(seed + writer);
        while (!stop.get()) {
          long id = writer * 1_000_000L + rnd.nextInt(400);
          JarProcess n = nodes[rnd.nextInt(3)];
          if (!n.alive()) {
            continue; // a client of a dead node would go elsewhere: failures count the writes live nodes refused
          }
          Expect before = oracle.get(id);
          int kind = rnd.nextInt(8); // 0: delete, 1-2: set_payload on a point known to be there, else upsert
          String body;
          String path;
          String method;
          String value;
          if (kind == 0) {
            body = "{\"points\": [" + id + "]}";
            path = "/collections/r/points/delete?wait=true";
            method = "POST";
            value = null;
          } else if (kind <= 2 && before != null && before.settled() && before.state() != null) {
            int stamp = rnd.nextInt(1_000_000);
            body = "{\"payload\": {\"s\": " + stamp + "}, \"points\": [" + id + "]}";
            path = "/collections/r/points/payload?wait=true";
            method = "POST";
            String vector = before.state().substring(0, before.state().indexOf('|'));
            value = vector + "|" + payload(writer, stamp);
          } else {
            float[] v = {rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat()};
            body = "{\"points\": [{\"id\": " + id + ", \"vector\": " + java.util.Arrays.toString(v) + ", \"payload\": {\"w\": "
                + writer + "}}]}";
            path = "/collections/r/points?wait=true";
            method = "PUT";
            value = shown(v) + "|" + payload(writer, null);
          }
          boolean ok;
          try {
            var r = n.send(method, path, body);
            ok = r.statusCode() == 200;
            if (!ok) {
              System.out.println("refused (" + r.statusCode() + "): " + r.body());
            }
          } catch (Exception e) {
            ok = false;
          }
          if (ok) {
            oracle.put(id, new Expect(value, true, List.of()));
            acked.incrementAndGet();
          } else {
            // the failed write may or may not have happened; a later acknowledged one settles it again
            List<String> unsure = new ArrayList<>(before == null ? List.of() : before.unsure());
            unsure.add(String.valueOf(value));
            oracle.put(id, new Expect(before == null ? null : before.state(), false, unsure));
            failed.incrementAndGet();
            sleep(50);
          }
        }
      }));
    }

    for (int round = 0; round < 3; round++) {
      sleep(1500 + random.nextInt(1500));
      int victim = random.nextInt(3);
      System.out.printf("round %d: killing node %d (acked %d, failed %d)%n", round, victim, acked.get(), failed.get());
      nodes[victim].kill();
      sleep(3000 + random.nextInt(3000));
      nodes[victim] = node(victim, p2p);
      awaitAllActive(nodes);
      System.out.printf("round %d: all replicas active again (acked %d, failed %d)%n", round, acked.get(), failed.get());
    }
    stop.set(true);
    for (CompletableFuture<Void> w : writers) {
      w.get(120, TimeUnit.SECONDS);
    }
    awaitAllActive(nodes);
    assertTrue(acked.get() > 100, "too few writes acknowledged: " + acked.get());

    // every node reads its own replicas: all must agree, and with the oracle
    TreeMap<Long, String> first = null;
    for (JarProcess n : List.of(nodes[0], nodes[1], nodes[2], nodes[0], nodes[1], nodes[2])) { // reads rotate over the replicas
      TreeMap<Long, String> points = scrollAll(n);
      for (var e : oracle.entrySet()) {
        String got = points.get(e.getKey());
        Expect x = e.getValue();
        boolean asAcked = java.util.Objects.equals(x.state(), got);
        boolean asUnsure = x.unsure().contains(String.valueOf(got));
        assertTrue(asAcked || asUnsure, "point " + e.getKey() + " on :" + n.port + " is " + got + ", expected " + x.state()
            + (x.settled() ? "" : " or one of " + x.unsure()) + " (seed " + seed + ")");
      }
      if (first == null) {
        first = points;
      } else {
        assertEquals(first, points, "the nodes read different points (seed " + seed + ")");
      }
    }
    for (JarProcess n : nodes) {
      assertReplicasIdentical(n);
      // consistency=all keeps only the points every replica of their shard holds equal: replicas are identical
      TreeMap<Long, String> all = scrollAll(n, "all");
      assertEquals(first, all, "replicas differ (seed " + seed + ") on " + differences(first, all));
    }
    System.out.printf("acknowledged %d writes, %d failed, %d points (seed %d)%n", acked.get(), failed.get(), first.size(), seed);
  }

  static String differences(TreeMap<Long, String> a, TreeMap<Long, String> b) {
    java.util.Set<Long> ids = new java.util.TreeSet<>(a.keySet());
    ids.addAll(b.keySet());
    StringBuilder out = new StringBuilder();
    for (long id : ids) {
      if (!java.util.Objects.equals(a.get(id), b.get(id))) {
        out.append(id).append(": ").append(a.get(id)).append(" / ").append(b.get(id)).append("; ");
      }
    }
    return out.toString();
  }

  static String shown(float[] v) {
    return v == null ? null : java.util.Arrays.toString(v);
  }

  /** Every point with its vector, as {@code node} reads them. */
  static TreeMap<Long, String> scrollAll(JarProcess node) throws Exception {
    return scrollAll(node, null);
  }

  /** Every point with its vector and payload, as {@code node} reads them with read {@code consistency} (null: the default). */
  static TreeMap<Long, String> scrollAll(JarProcess node, String consistency) throws Exception {
    TreeMap<Long, String> out = new TreeMap<>();
    JsonNode offset = null;
    do {
      String body = "{\"limit\": 500, \"with_vector\": true, \"with_payload\": true"
          + (offset == null || offset.isNull() ? "" : ", \"offset\": " + offset) + "}";
      JsonNode page = call(node, "POST", "/collections/r/points/scroll" + (consistency == null ? "" : "?consistency=" + consistency), body);
      for (JsonNode p : page.get("points")) {
        float[] v = new float[p.get("vector").size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) p.get("vector").get(i).asDouble();
        }
        out.put(p.get("id").asLong(), shown(v) + "|" + Json.MAPPER.writeValueAsString(
            Json.MAPPER.treeToValue(p.get("payload"), java.util.TreeMap.class)));
      }
      offset = page.get("next_page_offset");
    } while (offset != null && !offset.isNull());
    return out;
  }

  /** Each replica held by {@code node} has as many points as the collection's other replica of the same shard. */
  static void assertReplicasIdentical(JarProcess node) throws Exception {
    JsonNode info = call(node, "GET", "/collections/r/cluster", null);
    for (JsonNode local : info.get("local_shards")) {
      assertEquals("Active", local.get("state").asText(), info.toString());
    }
  }

  static void awaitAllActive(JarProcess[] nodes) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    String last = null;
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (JarProcess n : nodes) {
        try {
          JsonNode info = call(n, "GET", "/collections/r/cluster", null);
          last = info.toString();
          for (String kind : List.of("local_shards", "remote_shards")) {
            for (JsonNode s : info.get(kind)) {
              all &= "Active".equals(s.get("state").asText());
            }
          }
        } catch (Exception | AssertionError notYet) {
          all = false;
        }
      }
      if (all) {
        return;
      }
      sleep(250);
    }
    throw new AssertionError("replicas never all active again: " + last);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
