package io.quiver.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.json.Json;
import io.quiver.testing.ClusterNodes;
import io.quiver.testing.JarProcess;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What replication costs and how it behaves when a node goes: three nodes (separate processes) on
 * this machine, collections of 3 shards. Prints
 *
 * <ol>
 *   <li>upsert throughput and latency per request (median, p99) with {@code replication_factor} 1
 *       and 2, the same points, batches of 100 ({@code wait=true}) from several clients spread over
 *       the nodes (medians of rounds), and the ratio rf2/rf1;
 *   <li>failover: one client writes continuously through the surviving nodes while the node that
 *       is primary of the most shards (the highest peer id) is SIGKILLed; the longest gap between
 *       two acknowledged writes, the time from the kill to the first write sent after it that was
 *       acknowledged, and how many writes failed; then the time that node takes to come back;
 *   <li>catch-up: a node that is primary of none of its shards is SIGKILLed, {@code catchup}
 *       points are written meanwhile, and it is restarted: time from the restart until it answers
 *       and until all its replicas are Active again, the method of each recovery (its log's
 *       "recovered by" lines) and points per second; once as it chooses (WAL delta when possible),
 *       once started with {@code QDRANT__STORAGE__SHARD_TRANSFER_METHOD=stream_records};
 *   <li>a line of figures to quote.
 * </ol>
 *
 * <p>{@code ./quiver bench ReplicationBench [points=5000] [dim=64] [rounds=3] [clients=4]
 * [catchup=20000]}. All three nodes share this machine's cores (and disk: every write is fsynced),
 * so the figures measure overhead, not scale-out. The nodes run with Hazelcast's heartbeat timeout
 * at 6 s (as in ClusterBench); everything started is stopped and the temp directory removed, also
 * on failure or Ctrl-C ({@code QUIVER_BENCH_KEEP=1} keeps the directory, with the nodes' logs).
 */
public final class ReplicationBench {
  static final int BATCH = 100;
  static final Pattern RECOVERED = Pattern.compile(
      "Shard (\\d+) of collection (\\S+): recovered by (WAL delta|streaming records) from peer (\\d+) \\((\\d+) points or frames\\) in (\\d+) ms");

  private final Path dir;
  private final int[] p2p;
  private final JarProcess[] nodes = new JarProcess[3];
  private final long[] peerIds = new long[3];
  private final List<JarProcess> started = Collections.synchronizedList(new ArrayList<>());
  private final AtomicBoolean stopped = new AtomicBoolean();

  private ReplicationBench(Path dir) throws IOException {
    this.dir = dir;
    this.p2p = new int[] {JarProcess.freePort(), JarProcess.freePort(), JarProcess.freePort()};
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    int dim = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int clients = args.length > 3 ? Integer.parseInt(args[3]) : 4;
    int catchup = args.length > 4 ? Integer.parseInt(args[4]) : 20_000;
    System.setProperty("quiver.jar", "target/quiver.jar");
    ReplicationBench bench = new ReplicationBench(Files.createTempDirectory("quiver-replication-bench"));
    Thread hook = new Thread(bench::stopAll, "replication-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      bench.run(n, dim, rounds, clients, catchup);
    } finally {
      bench.stopAll();
      Runtime.getRuntime().removeShutdownHook(hook);
    }
  }

  /** Stops every node this bench started and removes its directory; safe to call twice. */
  private void stopAll() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    synchronized (started) {
      for (JarProcess p : started) {
        try {
          p.close();
        } catch (Exception e) {
          System.err.println("could not stop pid " + p.pid() + ": " + e);
        }
      }
    }
    if (System.getenv("QUIVER_BENCH_KEEP") != null) {
      System.err.println("kept the nodes' storage and logs in " + dir);
      return;
    }
    try (var walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("could not remove " + dir + ": " + e);
    }
  }

  private JarProcess start(int index, Map<String, String> extraEnv) throws Exception {
    Map<String, String> env = JarProcess.clusterEnv(index, p2p);
    env.putAll(extraEnv);
    JarProcess p = JarProcess.start(dir.resolve("node" + index), env, ClusterBench.JVM);
    started.add(p);
    nodes[index] = p;
    return p;
  }

  // ---------------------------------------------------------------------------------------------

  private void run(int n, int dim, int rounds, int clients, int catchup) throws Exception {
    for (int i = 0; i < 3; i++) {
      start(i, Map.of());
    }
    awaitPeers();
    for (int i = 0; i < 3; i++) {
      peerIds[i] = result(nodes[i], "GET", "/cluster", null).get("peer_id").asLong();
    }
    System.out.printf("3 nodes on one machine (%d cores, load average %.1f); peers %s; %d points x %d-d, batches of %d (wait=true), "
        + "%d clients spread over the nodes%n", Runtime.getRuntime().availableProcessors(), loadAverage(), peerList(), n, dim, BATCH, clients);

    // 1. throughput and latency, rf 1 vs rf 2
    List<String> bodies = bodies(BenchData.points(n, dim, 42), 0);
    Map<Integer, List<Double>> pps = new TreeMap<>();
    Map<Integer, List<Double>> p50 = new TreeMap<>();
    Map<Integer, List<Double>> p99 = new TreeMap<>();
    // warm-up (JIT, Lucene, connections), not measured
    for (int rf : new int[] {1, 2}) {
      createCollection("warmup" + rf, dim, rf);
      upsert(List.of(nodes), "warmup" + rf, bodies.subList(0, Math.min(bodies.size(), 20)), Math.min(n, 20 * BATCH), clients);
      ok(nodes[0].send("DELETE", "/collections/warmup" + rf, null));
    }
    String keep = null;
    for (int r = 0; r < rounds; r++) {
      for (int rf : r % 2 == 0 ? new int[] {1, 2} : new int[] {2, 1}) {
        String name = "rf" + rf + "_" + r;
        createCollection(name, dim, rf);
        Upserts u = upsert(List.of(nodes), name, bodies, n, clients);
        if (u.failed > 0) {
          throw new IllegalStateException(u.failed + " upserts failed with every node up: " + u.firstError);
        }
        pps.computeIfAbsent(rf, k -> new ArrayList<>()).add(u.pointsPerSecond);
        p50.computeIfAbsent(rf, k -> new ArrayList<>()).add(percentile(u.latenciesMs, 0.50));
        p99.computeIfAbsent(rf, k -> new ArrayList<>()).add(percentile(u.latenciesMs, 0.99));
        System.out.printf("  round %d rf%d: %7.0f points/s, p50 %6.1f ms, p99 %6.1f ms%n", r + 1, rf, u.pointsPerSecond,
            percentile(u.latenciesMs, 0.50), percentile(u.latenciesMs, 0.99));
        if (rf == 2 && r == rounds - 1) {
          keep = name; // parts 2 and 3 go on with it
        } else {
          ok(nodes[0].send("DELETE", "/collections/" + name, null));
        }
      }
    }
    double pps1 = BenchData.median(pps.get(1));
    double pps2 = BenchData.median(pps.get(2));
    System.out.printf("upsert, median of %d rounds: rf1 %7.0f points/s (p50 %.1f ms, p99 %.1f ms per request)%n", rounds, pps1,
        BenchData.median(p50.get(1)), BenchData.median(p99.get(1)));
    System.out.printf("                         rf2 %7.0f points/s (p50 %.1f ms, p99 %.1f ms per request)%n", pps2,
        BenchData.median(p50.get(2)), BenchData.median(p99.get(2)));
    System.out.printf("                         rf2/rf1 throughput %.2fx, p50 latency %.2fx%n", pps2 / pps1,
        BenchData.median(p50.get(2)) / BenchData.median(p50.get(1)));
    String coll = keep;

    // 2. failover: the primary of the most shards killed under a continuous writer
    Map<Integer, Map<Long, String>> placement = placement(nodes[0], coll);
    Map<Long, List<Integer>> primaries = primaries(placement);
    int victim = 0;
    for (int i = 1; i < 3; i++) {
      int mine = primaries.getOrDefault(peerIds[i], List.of()).size();
      int best = primaries.getOrDefault(peerIds[victim], List.of()).size();
      if (mine > best || (mine == best && Long.compareUnsigned(peerIds[i], peerIds[victim]) > 0)) {
        victim = i;
      }
    }
    long leader = result(nodes[0], "GET", "/cluster", null).at("/raft_info/leader").asLong(-1);
    System.out.printf("placement of %s: %s%n", coll, shown(placement));
    System.out.printf("failover: killing node%d, primary of shard(s) %s%s; 1 client writes batches of %d through the other two nodes in "
        + "turn (a failed write is retried after 50 ms)%n", victim, primaries.get(peerIds[victim]),
        leader == peerIds[victim] ? ", the Raft leader" : " (not the Raft leader)", BATCH);
    List<JarProcess> survivors = survivors(victim);
    Map<JarProcess, Long> logFrom = new LinkedHashMap<>();
    for (JarProcess p : survivors) {
      logFrom.put(p, Files.size(p.log));
    }
    Failover f = failover(survivors, coll, victim, dim);
    System.out.printf("failover: longest gap between acknowledged writes %.2f s; kill to first acknowledged write sent after it %.2f s; "
        + "%d writes failed, %d acknowledged in %.1f s%s%n", f.longestGapNs / 1e9, f.firstAckAfterKillNs / 1e9, f.failed, f.acked,
        f.durationNs / 1e9, f.errors.isEmpty() ? "" : "; failures: " + f.errors);
    for (var e : logFrom.entrySet()) { // what the survivors logged about the shards meanwhile
      String peer = "node" + List.of(nodes).indexOf(e.getKey());
      String text = Files.readString(e.getKey().log);
      for (String line : text.substring((int) Math.min(text.length(), e.getValue())).split("\n")) {
        if (line.contains(coll) && (line.contains("dead") || line.contains("Dead") || line.contains("primary"))) {
          System.out.println("    log of " + peer + ": " + brief(line.substring(Math.max(0, line.indexOf(' ') + 1))));
        }
      }
    }
    Catchup back = restart(victim, Map.of(), coll, "former primary");
    System.out.printf("failover: the killed primary back: answers after %.1f s, its replicas Active after %.1f s (%s)%n",
        back.readyNs / 1e9, back.activeNs / 1e9, back.methods());
    printLog(back);

    // 3. catch-up of a follower-only node: as it chooses, then forced to stream. Writes go on first,
    // as they would: a replica takes a WAL delta only once it holds frames of its shard's current
    // term, and the failover above began new terms.
    Upserts between = upsert(List.of(nodes), coll, bodies(BenchData.points(10 * BATCH, dim, 10), 3_000_000), 10 * BATCH, clients);
    if (between.failed > 0) {
      throw new IllegalStateException(between.failed + " upserts failed with every node up: " + between.firstError);
    }
    placement = placement(nodes[0], coll);
    primaries = primaries(placement);
    int follower = -1;
    for (int i = 0; i < 3; i++) {
      if (primaries.getOrDefault(peerIds[i], List.of()).isEmpty() && (follower < 0 || Long.compareUnsigned(peerIds[i], peerIds[follower]) < 0)) {
        follower = i;
      }
    }
    String why = "primary of none of its shards";
    if (follower < 0) {
      follower = 0;
      for (int i = 1; i < 3; i++) {
        if (primaries.getOrDefault(peerIds[i], List.of()).size() < primaries.getOrDefault(peerIds[follower], List.of()).size()) {
          follower = i;
        }
      }
      why = "no node is primary of none of its shards: the one with the fewest, " + primaries.get(peerIds[follower]);
    }
    System.out.printf("catch-up: %d points written with every node up, then placement %s; node%d (%s, replicas of shards %s) is "
        + "killed, %d points written while it is down%n", 10 * BATCH, shown(placement), follower, why, shardsOf(placement, peerIds[follower]),
        catchup);
    List<Catchup> results = new ArrayList<>();
    for (boolean stream : new boolean[] {false, true}) {
      String label = stream ? "stream_records forced" : "method of its choice";
      nodes[follower].kill();
      // the same ids both times, other vectors: the shards hold as many points in both cases
      Upserts down = upsert(survivors(follower), coll, bodies(BenchData.points(catchup, dim, stream ? 8 : 7), 1_000_000), catchup, clients);
      System.out.printf("catch-up (%s): %d points written while down in %.1f s (%.0f points/s, %d writes failed%s)%n", label, catchup,
          catchup / down.pointsPerSecond, down.pointsPerSecond, down.failed, down.failed == 0 ? "" : ": " + down.firstError);
      Catchup c = restart(follower, stream ? Map.of("QDRANT__STORAGE__SHARD_TRANSFER_METHOD", "stream_records") : Map.of(), coll, label);
      results.add(c);
      System.out.printf("catch-up (%s): answers %.1f s after the process start, all its replicas Active %.1f s after it; %s; "
          + "%.0f written points/s caught up (restart to Active)%n", label, c.readyNs / 1e9, c.activeNs / 1e9, c.methods(),
          catchup / (c.activeNs / 1e9));
      for (Recovery r : c.recoveries) {
        System.out.printf("    shard %d from %s: %s, %d %s in %d ms (%.0f/s)%n", r.shard, name(r.fromPeer), r.method, r.count,
            r.method.equals("WAL delta") ? "frames" : "points", r.ms, r.count * 1000.0 / Math.max(1, r.ms));
      }
      printLog(c);
      if (!c.mismatch.isEmpty()) {
        System.out.printf("    REPLICAS DIFFER after catch-up: %s%n", c.mismatch);
      }
    }

    // 4. figures to quote
    Catchup a = results.get(0);
    Catchup b = results.get(1);
    System.out.printf("%nsummary: upsert rf1 %.0f / rf2 %.0f points/s (%.2fx), p50 %.1f / %.1f ms, p99 %.1f / %.1f ms; failover: gap %.1f s, "
        + "%d failed writes; catch-up of %d points, restart to Active: by choice (%s) %.1f s (%.0f points/s), stream_records %.1f s (%.0f points/s); "
        + "start to answer %.1f / %.1f s%n", pps1, pps2, pps2 / pps1, BenchData.median(p50.get(1)), BenchData.median(p50.get(2)),
        BenchData.median(p99.get(1)), BenchData.median(p99.get(2)), f.longestGapNs / 1e9, f.failed, catchup, a.how(),
        a.activeNs / 1e9, catchup / (a.activeNs / 1e9), b.activeNs / 1e9, catchup / (b.activeNs / 1e9), a.readyNs / 1e9, b.readyNs / 1e9);
  }

  // ---- part 1 -----------------------------------------------------------------------------------

  record Upserts(double pointsPerSecond, List<Double> latenciesMs, int failed, String firstError) {}

  /**
   * Sends every body with {@code clients} clients, client {@code c} through {@code entries[c % size]}; a
   * failed batch is counted and sent again (after 50 ms) until it is acknowledged.
   */
  static Upserts upsert(List<JarProcess> entries, String coll, List<String> bodies, int points, int clients) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    String[] firstError = {null};
    List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
    long t0 = System.nanoTime();
    List<Future<?>> workers = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      JarProcess entry = entries.get(c % entries.size());
      workers.add(pool.submit(() -> {
        for (int i = next.getAndIncrement(); i < bodies.size(); i = next.getAndIncrement()) {
          while (true) {
            long s = System.nanoTime();
            String error;
            try {
              HttpResponse<String> r = entry.send("PUT", "/collections/" + coll + "/points?wait=true", bodies.get(i));
              if (r.statusCode() == 200) {
                latencies.add((System.nanoTime() - s) / 1e6);
                break;
              }
              error = r.statusCode() + " " + r.body();
            } catch (IOException e) {
              error = e.toString();
            }
            failed.incrementAndGet();
            synchronized (firstError) {
              if (firstError[0] == null) {
                firstError[0] = error;
              }
            }
            Thread.sleep(50);
          }
        }
        return null;
      }));
    }
    for (Future<?> w : workers) {
      w.get();
    }
    pool.shutdown();
    return new Upserts(points / ((System.nanoTime() - t0) / 1e9), new ArrayList<>(latencies), failed.get(), firstError[0]);
  }

  /** Upsert bodies of batches of {@link #BATCH} of {@code points}, their ids shifted by {@code idBase}. */
  static List<String> bodies(List<Point> points, long idBase) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < points.size(); i += BATCH) {
      List<Point> batch = new ArrayList<>();
      for (Point p : points.subList(i, Math.min(points.size(), i + BATCH))) {
        batch.add(idBase == 0 ? p : new Point(PointId.of(idBase + ((PointId.Num) p.id()).value()), p.dense(), p.sparse(), p.payload()));
      }
      out.add(BenchData.upsertBody(batch));
    }
    return out;
  }

  static double percentile(List<Double> xs, double q) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    return s.isEmpty() ? Double.NaN : s.get(Math.max(0, (int) Math.ceil(q * s.size()) - 1));
  }

  // ---- part 2 -----------------------------------------------------------------------------------

  record Failover(long longestGapNs, long firstAckAfterKillNs, int failed, int acked, long durationNs, Map<String, Integer> errors) {}

  /** One client writes through {@code survivors} in turn; node {@code victim} is SIGKILLed after 3 s. */
  private Failover failover(List<JarProcess> survivors, String coll, int victim, int dim) throws Exception {
    List<String> bodies = bodies(BenchData.points(2_000, dim, 9), 2_000_000);
    List<long[]> acks = new ArrayList<>(); // {sent, acknowledged}
    Map<String, Integer> errors = new TreeMap<>();
    int failed = 0;
    long t0 = System.nanoTime();
    AtomicLong killedAt = new AtomicLong(Long.MIN_VALUE); // nanoTime may be negative
    Thread killer = new Thread(() -> {
      try {
        Thread.sleep(3_000);
        long at = System.nanoTime();
        nodes[victim].kill(); // SIGKILL while a write is in flight
        killedAt.set(at);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "killer");
    killer.start();
    boolean anyFailure = false;
    long lastFailure = 0;
    long end = t0 + 120_000_000_000L;
    for (int i = 0; System.nanoTime() < end; i++) {
      long now = System.nanoTime();
      long kill = killedAt.get();
      if (kill != Long.MIN_VALUE && now - kill > 10_000_000_000L && (!anyFailure || now - lastFailure > 5_000_000_000L)) {
        break;
      }
      JarProcess entry = survivors.get(i % survivors.size());
      long s = System.nanoTime();
      String error = null;
      try {
        HttpResponse<String> r = entry.send("PUT", "/collections/" + coll + "/points?wait=true", bodies.get(i % bodies.size()));
        if (r.statusCode() != 200) {
          error = r.statusCode() + " " + brief(r.body().replaceAll(",?\"time\":[0-9.eE+-]+", "")); // failures grouped by message
        }
      } catch (IOException e) {
        error = e.getClass().getSimpleName();
      }
      if (error == null) {
        acks.add(new long[] {s, System.nanoTime()});
      } else {
        failed++;
        anyFailure = true;
        lastFailure = System.nanoTime();
        errors.merge(error, 1, Integer::sum);
        Thread.sleep(50);
      }
    }
    killer.join();
    long kill = killedAt.get();
    long gap = 0;
    long firstAfter = -1;
    for (int i = 0; i < acks.size(); i++) {
      if (i > 0) {
        gap = Math.max(gap, acks.get(i)[1] - acks.get(i - 1)[1]);
      }
      if (firstAfter < 0 && acks.get(i)[0] >= kill) {
        firstAfter = acks.get(i)[1] - kill;
      }
    }
    return new Failover(gap, firstAfter, failed, acks.size(), System.nanoTime() - t0, errors);
  }

  static String brief(String body) {
    String b = body.replaceAll("\\s+", " ");
    return b.length() > 400 ? b.substring(0, 400) + "..." : b;
  }

  // ---- part 3 -----------------------------------------------------------------------------------

  record Recovery(int shard, String method, long fromPeer, long count, long ms) {}

  record Catchup(long readyNs, long activeNs, List<Recovery> recoveries, List<String> mismatch, List<String> logLines) {
    String methods() {
      List<String> m = new ArrayList<>();
      recoveries.forEach(r -> m.add(r.method));
      return m.isEmpty() ? "no \"recovered by\" line in its log" : "recovered by " + String.join(", ", m);
    }

    /** The methods in short, for the summary. */
    String how() {
      List<String> m = new ArrayList<>();
      recoveries.forEach(r -> m.add(r.method.equals("WAL delta") ? "WAL delta" : "streaming"));
      return m.isEmpty() ? "?" : String.join("+", m);
    }
  }

  /** The restarted node's log lines about its recoveries but the "recovered by" ones (shown parsed). */
  static void printLog(Catchup c) {
    for (String line : c.logLines) {
      if (!RECOVERED.matcher(line).find()) {
        System.out.println("    log: " + line);
      }
      if (line.contains("is not in the cluster's metadata: deleting the local copy")) {
        System.out.println("    WARNING: at boot the node deleted its local copy of a collection the cluster's metadata holds: "
            + "its replicas were rebuilt from nothing");
      }
    }
  }

  /** Starts node {@code index} again and waits until each of its replicas of {@code coll} is Active, in its view and the others'. */
  private Catchup restart(int index, Map<String, String> env, String coll, String label) throws Exception {
    long t0 = System.nanoTime();
    JarProcess p = start(index, env);
    long ready = System.nanoTime() - t0;
    long deadline = System.nanoTime() + 600_000_000_000L;
    String last = "";
    while (true) {
      boolean all = true;
      for (JarProcess n : nodes) {
        try {
          Map<Integer, Map<Long, String>> pl = placement(n, coll);
          last = shown(pl);
          for (Map<Long, String> replicas : pl.values()) {
            String state = replicas.get(peerIds[index]);
            all &= state == null || state.equals("Active");
          }
        } catch (IOException | IllegalStateException notYet) {
          all = false;
        }
      }
      if (all) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(label + ": the replicas of peer " + peerIds[index] + " not Active 600 s after its restart: " + last
            + "\nits log:\n" + tail(p.log, 60));
      }
      Thread.sleep(100);
    }
    long active = System.nanoTime() - t0;
    List<Recovery> recoveries = new ArrayList<>();
    List<String> logLines = new ArrayList<>();
    for (String line : Files.readAllLines(p.log)) {
      int at = line.indexOf("Shard ");
      if (at >= 0 && line.contains(" of collection " + coll + ":") && line.contains("recover")) {
        logLines.add(line.substring(at));
      } else if (line.contains("Collection " + coll + " ")) { // e.g. LocalSync dropping or re-creating the local copy
        logLines.add(line.substring(line.indexOf("Collection " + coll + " ")));
      }
      Matcher m = RECOVERED.matcher(line);
      if (m.find() && m.group(2).equals(coll)) {
        recoveries.add(new Recovery(Integer.parseInt(m.group(1)), m.group(3), Long.parseUnsignedLong(m.group(4)), Long.parseLong(m.group(5)),
            Long.parseLong(m.group(6))));
      }
    }
    recoveries.sort(Comparator.comparingInt(Recovery::shard));
    return new Catchup(ready, active, recoveries, compareCounts(coll), logLines);
  }

  /** The shards whose replicas hold different numbers of points (no write runs now). */
  private List<String> compareCounts(String coll) throws Exception {
    Map<Integer, Map<Long, Long>> counts = new TreeMap<>();
    for (int i = 0; i < 3; i++) {
      for (JsonNode s : result(nodes[i], "GET", "/collections/" + coll + "/cluster", null).get("local_shards")) {
        counts.computeIfAbsent(s.get("shard_id").asInt(), k -> new TreeMap<>()).put(peerIds[i], s.path("points_count").asLong(-1));
      }
    }
    List<String> out = new ArrayList<>();
    counts.forEach((shard, byPeer) -> {
      if (byPeer.values().stream().distinct().count() > 1) {
        out.add("shard " + shard + " " + byPeer);
      }
    });
    return out;
  }

  static String tail(Path log, int lines) throws IOException {
    List<String> all = Files.readAllLines(log);
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  // ---- cluster views ----------------------------------------------------------------------------

  /** Each shard's replicas (peer id to state), as {@code node} sees them. */
  static Map<Integer, Map<Long, String>> placement(JarProcess node, String coll) throws Exception {
    return ClusterNodes.placement(result(node, "GET", "/collections/" + coll + "/cluster", null));
  }

  /** Peer id to the shards it is primary of: the Active replica on the highest peer id. */
  static Map<Long, List<Integer>> primaries(Map<Integer, Map<Long, String>> placement) {
    Map<Long, List<Integer>> out = new TreeMap<>();
    placement.forEach((shard, replicas) -> {
      long primary = -1;
      for (var e : replicas.entrySet()) {
        if (e.getValue().equals("Active") && (primary == -1 || Long.compareUnsigned(e.getKey(), primary) > 0)) {
          primary = e.getKey(); // peer ids are unsigned 64-bit, as the metadata compares them
        }
      }
      out.computeIfAbsent(primary, k -> new ArrayList<>()).add(shard);
    });
    return out;
  }

  static List<Integer> shardsOf(Map<Integer, Map<Long, String>> placement, long peer) {
    List<Integer> out = new ArrayList<>();
    placement.forEach((shard, replicas) -> {
      if (replicas.containsKey(peer)) {
        out.add(shard);
      }
    });
    return out;
  }

  String shown(Map<Integer, Map<Long, String>> placement) {
    Map<Long, List<Integer>> primaries = primaries(placement);
    StringBuilder sb = new StringBuilder();
    placement.forEach((shard, replicas) -> {
      sb.append(sb.length() == 0 ? "" : ", ").append("shard ").append(shard).append(" on ");
      List<String> rs = new ArrayList<>();
      replicas.forEach((peer, state) -> rs.add(name(peer) + (primaries.getOrDefault(peer, List.of()).contains(shard) ? "*" : "")
          + (state.equals("Active") ? "" : " " + state)));
      sb.append(String.join("+", rs));
    });
    return sb.append(" (* primary)").toString();
  }

  private String peerList() {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      out.put("node" + i, Long.toUnsignedString(peerIds[i]));
    }
    return out.toString();
  }

  /** {@code node<i>} for the peer id of node i (peer ids are unsigned 64-bit). */
  private String name(long peer) {
    for (int i = 0; i < 3; i++) {
      if (peerIds[i] == peer) {
        return "node" + i;
      }
    }
    return Long.toUnsignedString(peer);
  }

  private List<JarProcess> survivors(int victim) {
    List<JarProcess> out = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      if (i != victim) {
        out.add(nodes[i]);
      }
    }
    return out;
  }

  /** Waits until every node knows the three peers and a leader. */
  private void awaitPeers() throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    for (JarProcess p : nodes) {
      while (true) {
        JsonNode c = Json.MAPPER.readTree(p.send("GET", "/cluster", null).body()).path("result");
        if (c.path("peers").size() == 3 && c.at("/raft_info/leader").isNumber()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the cluster did not form: " + c);
        }
        Thread.sleep(100);
      }
    }
  }

  /** Creates {@code name} (3 shards, {@code rf} replicas each) and waits until every node sees all its replicas Active. */
  private void createCollection(String name, int dim, int rf) throws Exception {
    ok(nodes[0].send("PUT", "/collections/" + name,
        "{\"vectors\": {\"size\": " + dim + ", \"distance\": \"Cosine\"}, \"shard_number\": 3, \"replication_factor\": " + rf + "}"));
    long deadline = System.nanoTime() + 60_000_000_000L;
    for (JarProcess p : nodes) {
      while (true) {
        try {
          Map<Integer, Map<Long, String>> pl = placement(p, name);
          if (pl.size() == 3 && pl.values().stream().allMatch(r -> r.size() == rf && r.values().stream().allMatch("Active"::equals))) {
            break;
          }
        } catch (IllegalStateException notYet) {
          // not applied on this node yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(name + " not ready on :" + p.port);
        }
        Thread.sleep(50);
      }
    }
  }

  static JsonNode result(JarProcess node, String method, String path, String body) throws Exception {
    HttpResponse<String> r = node.send(method, path, body);
    ok(r);
    return Json.MAPPER.readTree(r.body()).get("result");
  }

  static void ok(HttpResponse<String> r) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(r.statusCode() + " " + r.body());
    }
  }

  static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
