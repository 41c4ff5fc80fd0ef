package io.quiver.bench;

import io.quiver.engine.Point;
import io.quiver.json.Json;
import io.quiver.testing.JarProcess;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cost of routing and merging, and how long a peer takes to come back: three nodes (separate
 * processes) on this machine, a collection of 3 shards (one per peer) next to a collection of 1
 * shard (held by the node the requests enter), the same points in both. Prints upsert throughput,
 * search throughput at 1 and 4 requests in flight (medians of rounds), and the time a killed peer
 * takes to rejoin and catch up with metadata changes made while it was down.
 *
 * <p>{@code ./quiver bench ClusterBench [points=20000] [dim=64] [rounds=3] [seconds=5]}. All three
 * nodes share this machine's cores, so the figures measure overhead, not scale-out.
 */
public final class ClusterBench {
  static final String[] JVM = {"-Xmx768m", "-XX:+UseG1GC", "-Dhazelcast.max.no.heartbeat.seconds=6"};

  private ClusterBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int dim = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    System.setProperty("quiver.jar", "target/quiver.jar");
    Path dir = Files.createTempDirectory("quiver-cluster-bench");
    int[] p2p = {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
    List<JarProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        nodes.add(node(dir, i, p2p));
      }
      JarProcess a = nodes.get(0);
      awaitLeader(nodes);
      long self = Json.MAPPER.readTree(a.send("GET", "/cluster", null).body()).at("/result/peer_id").asLong();
      ok(a.send("PUT", "/collections/three", "{\"vectors\": {\"size\": " + dim + ", \"distance\": \"Cosine\"}, \"shard_number\": 3}"));
      ok(a.send("PUT", "/collections/one", "{\"vectors\": {\"size\": " + dim + ", \"distance\": \"Cosine\"}, \"shard_number\": 1}"));
      // "one" is placed by the proposer on the peer with the lowest id: enter through that peer
      JarProcess entry = entryOf(nodes, "one");
      System.out.printf("3 nodes on one machine (%d cores); %d points x %d-d; entry node %s (self %d)%n",
          Runtime.getRuntime().availableProcessors(), n, dim, entry == a ? "a" : "another", self);

      List<Point> points = BenchData.points(n, dim, 42);
      for (String c : List.of("one", "three")) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i += 500) {
          ok(entry.send("PUT", "/collections/" + c + "/points?wait=true", BenchData.upsertBody(points.subList(i, Math.min(n, i + 500)))));
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("upsert %-5s  %8.0f points/s (batches of 500, wait=true)%n", c, n / s);
      }

      Random rnd = new Random(7);
      List<String> queries = new ArrayList<>();
      for (int q = 0; q < 200; q++) {
        StringBuilder v = new StringBuilder("[");
        for (int d = 0; d < dim; d++) {
          v.append(d == 0 ? "" : ",").append((float) rnd.nextGaussian());
        }
        queries.add("{\"vector\": " + v + "], \"limit\": 10}");
      }
      for (int inFlight : new int[] {1, 4}) {
        Map<String, List<Double>> qps = new HashMap<>();
        for (int r = 0; r < rounds; r++) {
          for (String c : List.of("one", "three")) {
            qps.computeIfAbsent(c, k -> new ArrayList<>()).add(search(entry, c, queries, inFlight, seconds));
          }
        }
        double one = BenchData.median(qps.get("one"));
        double three = BenchData.median(qps.get("three"));
        System.out.printf("search, %d in flight: 1 shard %7.0f q/s, 3 shards on 3 nodes %7.0f q/s (%.2fx)%n", inFlight, one, three,
            three / one);
      }

      // a peer killed, metadata changed meanwhile, the peer back: time until it has caught up
      JarProcess victim = nodes.get(2) == entry ? nodes.get(1) : nodes.get(2);
      int vi = nodes.indexOf(victim);
      victim.kill();
      for (int i = 0; i < 20; i++) {
        ok(entry.send("PUT", "/collections/while_down_" + i, "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"));
      }
      long t0 = System.nanoTime();
      JarProcess back = node(dir, vi, p2p);
      nodes.set(vi, back); // stopped with the others
      long ready = System.nanoTime();
      while (!back.send("GET", "/collections/while_down_19/exists", null).body().contains("true")) {
        Thread.sleep(20);
      }
      long caughtUp = System.nanoTime();
      System.out.printf("rejoin: process start to ready %.1f s, to caught up with 20 changes %.1f s%n", (ready - t0) / 1e9,
          (caughtUp - t0) / 1e9);
    } finally {
      for (JarProcess p : nodes) {
        p.close();
      }
    }
  }

  static JarProcess node(Path dir, int index, int[] p2p) throws Exception {
    Map<String, String> env = JarProcess.clusterEnv(index, p2p);
    env.put("QDRANT__LOG_LEVEL", "WARN");
    return JarProcess.start(dir.resolve("node" + index), env, JVM);
  }

  static void awaitLeader(List<JarProcess> nodes) throws Exception {
    for (JarProcess p : nodes) {
      while (!Json.MAPPER.readTree(p.send("GET", "/cluster", null).body()).at("/result/raft_info/leader").isNumber()) {
        Thread.sleep(100);
      }
    }
  }

  /** The node that holds the one shard of {@code collection}. */
  static JarProcess entryOf(List<JarProcess> nodes, String collection) throws Exception {
    for (JarProcess p : nodes) {
      var info = Json.MAPPER.readTree(p.send("GET", "/collections/" + collection + "/cluster", null).body()).get("result");
      if (info.get("local_shards").size() > 0) {
        return p;
      }
    }
    throw new IllegalStateException("no node holds " + collection);
  }

  static void ok(HttpResponse<String> r) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(r.statusCode() + " " + r.body());
    }
  }

  /** Queries per second against {@code collection} with {@code inFlight} clients for {@code seconds}. */
  static double search(JarProcess node, String collection, List<String> queries, int inFlight, int seconds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(inFlight);
    AtomicInteger done = new AtomicInteger();
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    long t0 = System.nanoTime();
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < inFlight; w++) {
      int start = w;
      workers.add(pool.submit(() -> {
        int i = start;
        while (System.nanoTime() < end) {
          ok(node.send("POST", "/collections/" + collection + "/points/search", queries.get(i++ % queries.size())));
          done.incrementAndGet();
        }
        return null;
      }));
    }
    for (Future<?> f : workers) {
      f.get();
    }
    pool.shutdown();
    return done.get() / ((System.nanoTime() - t0) / 1e9);
  }
}
