package io.quiver.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * gRPC next to REST on one node, same data, same run: search throughput and median latency at
 * {@code hnsw_ef} 16 and 128 with one client and with four in flight, through the raw blocking stub
 * (one channel, calls multiplexed on it) and through Qdrant's official Java client ({@code
 * searchAsync(...).get()}), against REST through {@link SearchBench}'s minimal HTTP/1.1 client; then
 * upsert throughput in batches of 100 and 1,000 points with {@code wait=true}. Requests are built
 * before timing on both edges; the ratios are gRPC over REST (above 1: gRPC is faster or, for
 * latency, slower).
 *
 * <p>Data: {@link SearchBench}'s ({@code N} points of 128 dimensions from 100 gaussian clusters, its
 * seed and queries, Cosine, payload {@code bucket = id % 10}), loaded through gRPC in batches of
 * 1,000, then the node is restarted (as SearchBench does) so both edges search the same committed
 * segments. Search rows come from {@link SearchBench#compare} (interleaved rounds, median
 * throughput, median latency, whole-process CPU per request: client and node share this process).
 * Upserts alternate REST and gRPC runs on a fresh collection each; medians of {@value #UPSERT_RUNS}.
 *
 * <p>Run: {@code ./quiver bench GrpcBench [N=100000] [Q=200] [seconds per measurement=3] [upsert points=min(N, 10000)]}
 */
public final class GrpcBench {
  static final int DIM = 128;
  static final int THREADS = 4;
  static final int[] EFS = {16, 128};
  static final int[] BATCHES = {100, 1000};
  static final int UPSERT_RUNS = 3;
  static final String BENCH = "bench";
  static final String UPSERTS = "upserts";

  private GrpcBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int nq = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 3;
    int upserts = args.length > 3 ? Integer.parseInt(args[3]) : Math.min(n, 10_000);

    System.out.printf("gRPC vs REST benchmark: N=%d points, D=%d dims (SearchBench's clusters and seed %d), %d queries, Cosine, k=%d; "
        + "%.1f s per measurement; upserts of %d points; %d cores%n", n, DIM, SearchBench.SEED, nq, SearchBench.K, seconds, upserts,
        Runtime.getRuntime().availableProcessors());
    System.out.printf("load average (1 min) at the start: %.2f (other processes share these cores)%n", SearchBench.loadAverage());

    float[][] centres = SearchBench.centres(DIM);
    float[][] data = SearchBench.mixture(n, DIM, new Random(SearchBench.SEED), centres);
    float[][] queries = SearchBench.mixture(nq, DIM, new Random(SearchBench.SEED + 1), centres);
    float[][] unit = Stream.of(data).map(SearchBench::normalized).toArray(float[][]::new);
    long[][] truth = new long[nq][];
    IntStream.range(0, nq).parallel().forEach(q -> truth[q] = SearchBench.bruteForce(unit, SearchBench.normalized(queries[q]), false));

    Path root = Files.createTempDirectory("quiver-grpcbench");
    Path storage = root.resolve("storage");
    Map<String, String> env = Map.of("QDRANT__LOG_LEVEL", "WARN");
    try {
      double loadSeconds;
      try (TestNode node = TestNode.start(storage, env); Grpc grpc = Grpc.connect(node)) {
        grpc.create(BENCH);
        get(grpc.client.createPayloadIndexAsync(BENCH, "bucket", PayloadSchemaType.Integer, null, true, null, null));
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i += 1000) {
          grpc.upsert(upsert(BENCH, data, i, Math.min(n, i + 1000)));
        }
        loadSeconds = (System.nanoTime() - t0) / 1e9;
      }
      System.out.printf("loaded %d points through gRPC (batches of 1000, wait=true, fsync=always) in %.1f s (%.0f points/s)%n",
          n, loadSeconds, n / loadSeconds);

      try (TestNode node = TestNode.start(storage, env); Grpc grpc = Grpc.connect(node)) {
        long count = get(grpc.client.countAsync(BENCH));
        if (count != n) {
          throw new IllegalStateException("points_count " + count + ", expected " + n);
        }
        String[] vectorJson = Stream.of(queries).map(SearchBench::json).toArray(String[]::new);
        var threads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
          Thread t = new Thread(r, SearchBench.CLIENT_THREAD + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
        try {
          long tWarm = System.nanoTime();
          SearchBench.compare(List.of(SearchBench.rest(node, vectorJson, 64, false, false), stub(grpc, queries, 64),
              client(grpc, queries, 64)), null, nq, THREADS, seconds, pool);
          SearchBench.log("warm-up in %.1f s", (System.nanoTime() - tWarm) / 1e9);
          searchTable(node, grpc, queries, vectorJson, truth, seconds, pool);
        } finally {
          pool.shutdownNow();
        }
        upsertTable(node, grpc, data, upserts);
      }
      System.out.printf("load average (1 min) at the end: %.2f%n", SearchBench.loadAverage());
    } finally {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  // ---- search ----

  private static void searchTable(TestNode node, Grpc grpc, float[][] queries, String[] vectorJson, long[][] truth, double seconds,
      ExecutorService pool) throws Exception {
    int nq = queries.length;
    System.out.println();
    System.out.println("search: throughput in queries/s and median latency in ms; REST through a minimal HTTP/1.1 client, gRPC through"
        + " the blocking stub (stub) and the official client (client); ratios gRPC stub / REST; cpu = whole-process CPU ms per request");
    System.out.printf("%-4s %-3s %7s | %8s %8s %8s %6s | %7s %7s %7s %6s | %6s %6s%n", "ef", "in", "recall", "rest", "stub", "client",
        "ratio", "rest", "stub", "client", "ratio", "cpu-r", "cpu-s");
    for (int ef : EFS) {
      for (int inFlight : new int[] {1, THREADS}) {
        List<SearchBench.Target> targets = List.of(SearchBench.rest(node, vectorJson, ef, false, false), stub(grpc, queries, ef),
            client(grpc, queries, ef));
        List<SearchBench.Run> runs = SearchBench.compare(targets, inFlight == 1 ? List.of(truth, truth, truth) : null, nq, inFlight,
            seconds, pool);
        SearchBench.Run rest = runs.get(0);
        SearchBench.Run stub = runs.get(1);
        SearchBench.Run client = runs.get(2);
        String same = "";
        if (inFlight == 1) {
          int agree = Math.min(SearchBench.sameResults(rest.ids(), stub.ids()), SearchBench.sameResults(rest.ids(), client.ids()));
          same = agree == nq ? "" : "  (" + (nq - agree) + " queries answered differently)";
        }
        System.out.printf("%-4d %-3d %7s | %8.0f %8.0f %8.0f %5.2fx | %7.3f %7.3f %7.3f %5.2fx | %6.3f %6.3f%s%n", ef, inFlight,
            inFlight == 1 ? String.format("%.4f", rest.recall()) : "", rest.qps(), stub.qps(), client.qps(), stub.qps() / rest.qps(),
            rest.p50ms(), stub.p50ms(), client.p50ms(), stub.p50ms() / rest.p50ms(), rest.cpuMs(), stub.cpuMs(), same);
      }
    }
  }

  /** The blocking stub's {@code Search}, messages built beforehand. */
  static SearchBench.Target stub(Grpc grpc, float[][] queries, int ef) {
    Points.SearchPoints[] requests = searches(queries, ef);
    return new SearchBench.Target() {
      @Override
      public Object search(int q) {
        return grpc.points.search(requests[q]).getResultList();
      }

      @Override
      public long[] ids(Object result) {
        return hitIds(result);
      }
    };
  }

  /** The official client's {@code searchAsync(...).get()}, messages built beforehand. */
  static SearchBench.Target client(Grpc grpc, float[][] queries, int ef) {
    Points.SearchPoints[] requests = searches(queries, ef);
    return new SearchBench.Target() {
      @Override
      public Object search(int q) throws Exception {
        return grpc.client.searchAsync(requests[q]).get();
      }

      @Override
      public long[] ids(Object result) {
        return hitIds(result);
      }
    };
  }

  private static Points.SearchPoints[] searches(float[][] queries, int ef) {
    Points.SearchPoints[] out = new Points.SearchPoints[queries.length];
    for (int q = 0; q < queries.length; q++) {
      var b = Points.SearchPoints.newBuilder().setCollectionName(BENCH).setLimit(SearchBench.K)
          .setParams(Points.SearchParams.newBuilder().setHnswEf(ef));
      for (float x : queries[q]) {
        b.addVector(x);
      }
      out[q] = b.build();
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static long[] hitIds(Object hits) {
    return ((List<Points.ScoredPoint>) hits).stream().mapToLong(p -> p.getId().getNum()).toArray();
  }

  // ---- upserts ----

  private static void upsertTable(TestNode node, Grpc grpc, float[][] data, int total) throws Exception {
    System.out.println();
    System.out.printf("upserts: %d points of %d dims with a payload, wait=true, fsync=always, one client, a fresh collection per run;"
        + " medians of %d runs (points/s); REST runs and gRPC runs alternate%n", total, DIM, UPSERT_RUNS);
    System.out.printf("%-6s %9s %9s %7s%n", "batch", "rest", "grpc", "ratio");
    RawHttp http = SearchBench.raw(node);
    for (int batch : BATCHES) {
      List<String> bodies = new ArrayList<>();
      List<Points.UpsertPoints> messages = new ArrayList<>();
      for (int i = 0; i < total; i += batch) {
        int end = Math.min(total, i + batch);
        List<Point> points = new ArrayList<>();
        for (int j = i; j < end; j++) {
          ObjectNode payload = Json.MAPPER.createObjectNode().put("bucket", j % 10);
          points.add(new Point(PointId.of(j), Map.of("", data[j]), Map.of(), payload));
        }
        bodies.add(BenchData.upsertBody(points));
        messages.add(upsert(UPSERTS, data, i, end));
      }
      List<Double> rest = new ArrayList<>();
      List<Double> grpcRates = new ArrayList<>();
      for (int run = 0; run < UPSERT_RUNS; run++) {
        grpc.create(UPSERTS);
        long t0 = System.nanoTime();
        for (String body : bodies) {
          RawHttp.Response r = http.send("PUT", "/collections/" + UPSERTS + "/points?wait=true", body);
          if (r.status() != 200) {
            throw new IllegalStateException(r.status() + ": " + r.body());
          }
        }
        rest.add(total / ((System.nanoTime() - t0) / 1e9));
        grpc.drop(UPSERTS);

        grpc.create(UPSERTS);
        t0 = System.nanoTime();
        for (Points.UpsertPoints m : messages) {
          grpc.upsert(m);
        }
        grpcRates.add(total / ((System.nanoTime() - t0) / 1e9));
        grpc.drop(UPSERTS);
      }
      double r = BenchData.median(rest);
      double g = BenchData.median(grpcRates);
      System.out.printf("%-6d %9.0f %9.0f %6.2fx%n", batch, r, g, g / r);
    }
  }

  /** Points {@code [from, to)} as one {@code Upsert} with {@code wait=true}. */
  static Points.UpsertPoints upsert(String collection, float[][] data, int from, int to) {
    var b = Points.UpsertPoints.newBuilder().setCollectionName(collection).setWait(true);
    for (int j = from; j < to; j++) {
      b.addPoints(Points.PointStruct.newBuilder().setId(PointIdFactory.id(j)).setVectors(VectorsFactory.vectors(data[j]))
          .putPayload("bucket", ValueFactory.value(j % 10)));
    }
    return b.build();
  }

  // ---- the gRPC side ----

  /** A channel to the node's gRPC port, its blocking points stub, and the official client on the same port. */
  record Grpc(ManagedChannel channel, PointsGrpc.PointsBlockingStub points, QdrantClient client) implements AutoCloseable {
    static Grpc connect(TestNode node) {
      int port = node.deployment.grpc().actualPort();
      ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(64 << 20).build();
      // no version check: in the shaded jar the client reads Quiver's manifest, not its own, for its version
      return new Grpc(channel, PointsGrpc.newBlockingStub(channel),
          new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", port, false, false).build()));
    }

    void create(String collection) throws Exception {
      get(client.createCollectionAsync(collection, VectorParams.newBuilder().setSize(DIM).setDistance(Distance.Cosine).build()));
    }

    void drop(String collection) throws Exception {
      get(client.deleteCollectionAsync(collection));
    }

    void upsert(Points.UpsertPoints message) {
      var done = points.upsert(message);
      if (done.getResult().getStatus() != Points.UpdateStatus.Completed) {
        throw new IllegalStateException("upsert " + done.getResult().getStatus());
      }
    }

    @Override
    public void close() throws InterruptedException {
      client.close();
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static <T> T get(com.google.common.util.concurrent.ListenableFuture<T> future) throws Exception {
    return future.get(120, TimeUnit.SECONDS);
  }
}
