package io.quiver.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.engine.Distance;
import io.quiver.engine.Fields;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterParser;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.storage.StorageClient;
import io.quiver.request.StorageOp;
import io.quiver.storage.collection.StorageLayout;
import io.quiver.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.store.FSDirectory;

/**
 * Dense search quality and speed, same data, same index, same run: recall@10 against brute-force
 * ground truth and throughput of REST ({@code POST /points/search} on a full node) against the
 * engine's own search called in-process ({@link VectorSearch#search} on an {@link IndexSearcher} over
 * the same committed Lucene index, no HTTP, no JSON), for several {@code hnsw_ef} and exact search,
 * with one client and with four in flight; then filtered search ({@code bucket == 3}, 10% of points),
 * with HNSW and as an exact scan. A first table splits the REST cost into layers (HTTP alone, the
 * event-bus hop to the storage service, the search itself) with latency and CPU per request. REST
 * goes through a minimal blocking HTTP/1.1 client ({@link RawHttp}) so that, on a small shared
 * machine, the client's own CPU is not billed to the server; the layer table also shows the JDK client.
 *
 * <p>Data: {@code N} points of {@code D} dimensions drawn from 100 gaussian clusters (fixed seed),
 * payload {@code bucket = id % 10}, distance Cosine, and {@code Q} queries drawn from the same mixture.
 * The collection is loaded through REST, the node is restarted (so its searcher and the in-process
 * one open the same commit), then both are measured row by row, interleaved. Latencies are medians.
 *
 * <p>Run: {@code ./quiver bench SearchBench [N=100000] [D=128] [Q=200] [seconds per measurement=3]}
 */
public final class SearchBench {
  static final int K = 10;
  static final int CLUSTERS = 100;
  static final double SPREAD = 0.5;
  static final long SEED = 42;
  static final int[] EFS = {16, 32, 64, 128, 256};
  static final int[] FILTERED_EFS = {64, 128};
  static final int BUCKET = 3;
  static final String FILTER = "{\"must\":[{\"key\":\"bucket\",\"match\":{\"value\":" + BUCKET + "}}]}";
  static final int ROUNDS = 3;
  static final String CLIENT_THREAD = "bench-client-";
  static final HttpClient HTTP11 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  static final double RECALL_GOAL = 0.95;
  static final double RATIO_GOAL = 0.5;
  static final double FILTER_LATENCY_GOAL = 2.0;

  /**
   * The HTTP clients REST is measured through: the main tables use {@link RawHttp} (minimal, blocking,
   * keep-alive), whose CPU is small next to the server's, as a client on another machine would be; the
   * layer table also shows the JDK client, over cleartext HTTP/2 (the test node's) and HTTP/1.1.
   */
  enum Client {
    RAW("raw/1.1"),
    NODE("jdk/h2c"),
    HTTP11("jdk/1.1");

    final String label;

    Client(String label) {
      this.label = label;
    }
  }

  private static volatile RawHttp rawHttp;

  static RawHttp raw(TestNode node) {
    RawHttp r = rawHttp;
    if (r == null) {
      synchronized (SearchBench.class) {
        if (rawHttp == null) {
          rawHttp = new RawHttp("127.0.0.1", node.port());
        }
        r = rawHttp;
      }
    }
    return r;
  }

  /** One search of query {@code q}; returns what {@link Target#ids} decodes. */
  interface Target {
    Object search(int q) throws Exception;

    long[] ids(Object result) throws Exception;
  }

  /** One measured configuration: recall over all queries, closed-loop throughput and latencies. */
  record Run(double recall, double qps, double p50ms, double cpuMs, double clientCpuMs, long[][] ids) {}

  /** One row of the unfiltered table, for the goal check: ef (null for exact), REST recall, REST/in-process ratios. */
  record Row(Integer ef, double recall, double ratio1, double ratioN) {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int dim = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int nq = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 3;
    int threads = 4;

    System.out.printf("search benchmark: N=%d points, D=%d dims, %d gaussian clusters (spread %.2f), seed %d, "
        + "%d queries from the same mixture, Cosine, k=%d%n", n, dim, CLUSTERS, SPREAD, SEED, nq, K);
    System.out.printf("payload bucket = id %% 10 (indexed integer), filter bucket == %d keeps 10%%; %.1f s per measurement "
        + "(%d interleaved rounds) after %.1f s warm-up; %d cores%n", BUCKET, seconds, ROUNDS, seconds / 3, Runtime.getRuntime().availableProcessors());
    System.out.printf("goals: recall@10 >= %.2f at REST throughput >= %.1fx in-process at the same recall; "
        + "filtered latency <= %.0fx unfiltered%n", RECALL_GOAL, RATIO_GOAL, FILTER_LATENCY_GOAL);

    System.out.printf("load average (1 min) at the start: %.2f (other processes share these cores)%n", loadAverage());

    long t0 = System.nanoTime();
    float[][] data = mixture(n, dim, new Random(SEED), centres(dim));
    float[][] queries = mixture(nq, dim, new Random(SEED + 1), centres(dim));
    float[][] unit = Stream.of(data).map(SearchBench::normalized).toArray(float[][]::new);
    float[][] unitQ = Stream.of(queries).map(SearchBench::normalized).toArray(float[][]::new);
    long[][] truth = new long[nq][];
    long[][] truthFiltered = new long[nq][];
    IntStream.range(0, nq).parallel().forEach(q -> {
      truth[q] = bruteForce(unit, unitQ[q], false);
      truthFiltered[q] = bruteForce(unit, unitQ[q], true);
    });
    log("data and exact ground truth in %.1f s", (System.nanoTime() - t0) / 1e9);

    Path root = Files.createTempDirectory("quiver-searchbench");
    Path storage = root.resolve("storage");
    Map<String, String> env = Map.of("QDRANT__LOG_LEVEL", "WARN");
    try {
      int liveSegments;
      long tLoad = System.nanoTime();
      try (TestNode node = TestNode.start(storage, env)) {
        check(node.send("PUT", "/collections/bench", "{\"vectors\":{\"size\":" + dim + ",\"distance\":\"Cosine\"}}"));
        check(node.send("PUT", "/collections/bench/index?wait=true", "{\"field_name\":\"bucket\",\"field_schema\":\"integer\"}"));
        for (int i = 0; i < n; i += 1000) {
          List<Point> batch = new ArrayList<>();
          for (int j = i; j < Math.min(n, i + 1000); j++) {
            ObjectNode payload = Json.MAPPER.createObjectNode().put("bucket", j % 10);
            batch.add(new Point(PointId.of(j), Map.of("", data[j]), Map.of(), payload));
          }
          check(node.send("PUT", "/collections/bench/points?wait=true", BenchData.upsertBody(batch)));
        }
        liveSegments = check(node.get("/collections/bench")).result().path("segments_count").asInt();
      }
      double loadSeconds = (System.nanoTime() - tLoad) / 1e9;

      Path collection = StorageLayout.collections(storage).resolve("bench");
      try (TestNode node = TestNode.start(storage, env);
          DirectoryReader reader = DirectoryReader.open(FSDirectory.open(collection.resolve("shards/0/index")))) {
        JsonNode info = check(node.get("/collections/bench")).result();
        if (info.path("points_count").asInt() != n) {
          throw new IllegalStateException("points_count " + info.path("points_count") + ", expected " + n);
        }
        System.out.printf("loaded %d points via REST (batches of 1000, wait=true, fsync=always) in %.1f s (%.0f points/s); "
            + "segments: %d live after loading, %d after restart (REST), %d in-process%n",
            n, loadSeconds, n / loadSeconds, liveSegments, info.path("segments_count").asInt(), reader.leaves().size());

        IndexSearcher searcher = new IndexSearcher(reader);
        VectorSpec spec = new VectorSpec("", dim, Distance.COSINE, 16, 100, VectorSpec.Quantization.NONE);
        PayloadSchema payloadSchema = PayloadSchema.fromJson(Json.MAPPER.readTree(
            Files.readString(collection.resolve(StorageLayout.PAYLOAD_INDEX))));
        Filter filter = FilterParser.parse(Json.MAPPER.readTree(FILTER));
        float[][] prepared = Stream.of(queries).map(Distance.COSINE::prepare).toArray(float[][]::new);
        String[] vectorJson = Stream.of(queries).map(SearchBench::json).toArray(String[]::new);
        var counter = new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
          Thread t = new Thread(r, CLIENT_THREAD + counter.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
        try {
          long tWarm = System.nanoTime();
          compare(List.of(inProcess(searcher, spec, prepared, 64, false, null, payloadSchema),
              inProcess(searcher, spec, prepared, 64, false, filter, payloadSchema),
              rest(node, vectorJson, 64, false, false), rest(node, vectorJson, 64, false, true),
              rest(node, vectorJson, 64, false, false, Client.NODE), rest(node, vectorJson, 64, false, false, Client.HTTP11),
              bus(node, vectorJson, 64), call(node, Client.NODE, "GET", "/", null)),
              null, nq, 1, seconds, pool);
          log("warm-up in %.1f s", (System.nanoTime() - tWarm) / 1e9);

          System.out.println();
          System.out.println("where REST time goes: median latency and CPU per request in ms (whole process, and of it the"
              + " caller's threads: benchmark + HTTP client), 1 client; requests through a minimal blocking HTTP/1.1 client"
              + " (raw, used by the tables below) and the JDK client (h2c after upgrade, and HTTP/1.1); searches in-process, over the event bus to the storage"
              + " service (JSON tree in, JSON text out, no HTTP) and via REST");
          List<String> names = new ArrayList<>();
          List<Target> layers = new ArrayList<>();
          for (Client client : Client.values()) {
            names.add("GET /            " + client.label);
            layers.add(call(node, client, "GET", "/", null));
            names.add("GET /readyz      " + client.label);
            layers.add(call(node, client, "GET", "/readyz", null));
          }
          for (int ef : new int[] {16, 128}) {
            names.add("search ef=" + ef + " in-process");
            layers.add(inProcess(searcher, spec, prepared, ef, false, null, payloadSchema));
            names.add("search ef=" + ef + " event bus");
            layers.add(bus(node, vectorJson, ef));
            for (Client client : Client.values()) {
              names.add("search ef=" + ef + " " + client.label);
              layers.add(rest(node, vectorJson, ef, false, false, client));
            }
          }
          names.add("filtered ef=64 in-process");
          layers.add(inProcess(searcher, spec, prepared, 64, false, filter, payloadSchema));
          names.add("filtered ef=64 event bus");
          layers.add(bus(node, vectorJson, 64, true));
          for (Client client : Client.values()) {
            names.add("filtered ef=64 " + client.label);
            layers.add(rest(node, vectorJson, 64, false, true, client));
          }
          List<Run> layerRuns = compare(layers, null, nq, 1, seconds, pool);
          System.out.printf("%-28s %8s %8s %8s %8s%n", "request", "p50", "cpu/req", "caller", "node");
          for (int i = 0; i < layers.size(); i++) {
            Run r = layerRuns.get(i);
            System.out.printf("%-28s %8.3f %8.3f %8.3f %8.3f%n", names.get(i), r.p50ms(), r.cpuMs(), r.clientCpuMs(),
                r.cpuMs() - r.clientCpuMs());
          }

          System.out.println();
          System.out.println("unfiltered: recall@10 (in-process | REST), throughput in queries/s, median latency in ms,"
              + " 1 client and " + threads + " in flight");
          System.out.printf("%-7s %8s %8s | %9s %9s %6s %8s %8s | %9s %9s %6s%n", "ef", "rec-in", "rec-rest",
              "in-1 q/s", "rest-1", "ratio", "in-p50", "rest-p50", "in-" + threads, "rest-" + threads, "ratio");
          List<Row> rows = new ArrayList<>();
          List<Integer> efRows = new ArrayList<>();
          for (int ef : EFS) {
            efRows.add(ef);
          }
          efRows.add(null);
          for (Integer ef : efRows) {
            boolean exact = ef == null;
            Target in = inProcess(searcher, spec, prepared, ef, exact, null, payloadSchema);
            Target rest = rest(node, vectorJson, ef, exact, false);
            List<Run> one = compare(List.of(in, rest), List.of(truth, truth), nq, 1, seconds, pool);
            List<Run> many = compare(List.of(in, rest), null, nq, threads, seconds, pool);
            Run in1 = one.get(0);
            Run rest1 = one.get(1);
            Run inN = many.get(0);
            Run restN = many.get(1);
            int same = sameResults(in1.ids(), rest1.ids());
            System.out.printf("%-7s %8.4f %8.4f | %9.0f %9.0f %5.0f%% %8.3f %8.3f | %9.0f %9.0f %5.0f%%%s%n",
                exact ? "exact" : ef, in1.recall(), rest1.recall(), in1.qps(), rest1.qps(), 100 * rest1.qps() / in1.qps(),
                in1.p50ms(), rest1.p50ms(), inN.qps(), restN.qps(), 100 * restN.qps() / inN.qps(),
                same == nq ? "" : "  (" + (nq - same) + " queries answered differently)");
            rows.add(new Row(ef, rest1.recall(), rest1.qps() / in1.qps(), restN.qps() / inN.qps()));
          }

          System.out.println();
          System.out.println("filtered (bucket == " + BUCKET + ", 10% of points): recall@10 against filtered ground truth,"
              + " median latency in ms, 1 client; unfiltered measured alongside");
          System.out.printf("%-7s %8s %8s | %9s %9s %6s | %9s %9s %6s%n", "ef", "rec-in", "rec-rest",
              "rest-unf", "rest-flt", "ratio", "in-unf", "in-flt", "ratio");
          List<Double> filterRatios = new ArrayList<>();
          double[] unfiltered = null;
          for (int ef : FILTERED_EFS) {
            List<Run> runs = compare(List.of(inProcess(searcher, spec, prepared, ef, false, null, payloadSchema),
                inProcess(searcher, spec, prepared, ef, false, filter, payloadSchema),
                rest(node, vectorJson, ef, false, false), rest(node, vectorJson, ef, false, true)),
                List.of(truth, truthFiltered, truth, truthFiltered), nq, 1, seconds, pool);
            Run inU = runs.get(0);
            Run inF = runs.get(1);
            Run restU = runs.get(2);
            Run restF = runs.get(3);
            double ratio = restF.p50ms() / restU.p50ms();
            filterRatios.add(ratio);
            if (unfiltered == null) {
              unfiltered = new double[] {restU.p50ms(), inU.p50ms()};
            }
            System.out.printf("%-7d %8.4f %8.4f | %9.3f %9.3f %5.2fx | %9.3f %9.3f %5.2fx%n", ef, inF.recall(),
                restF.recall(), restU.p50ms(), restF.p50ms(), ratio, inU.p50ms(), inF.p50ms(), inF.p50ms() / inU.p50ms());
          }

          List<Run> exactF = compare(List.of(inProcess(searcher, spec, prepared, null, true, filter, payloadSchema),
              rest(node, vectorJson, null, true, true)), List.of(truthFiltered, truthFiltered), nq, 1, seconds, pool);
          System.out.printf("%-7s %8.4f %8.4f | %9s %9.3f %5.2fx | %9s %9.3f %5.2fx   (filtered exact scan against "
              + "unfiltered ef=%d)%n", "exact", exactF.get(0).recall(), exactF.get(1).recall(), "", exactF.get(1).p50ms(),
              exactF.get(1).p50ms() / unfiltered[0], "", exactF.get(0).p50ms(), exactF.get(0).p50ms() / unfiltered[1],
              FILTERED_EFS[0]);

          System.out.println();
          Row first = rows.stream().filter(r -> r.ef() != null && r.recall() >= RECALL_GOAL).findFirst().orElse(null);
          if (first == null) {
            System.out.printf("goal recall: FAIL, no hnsw_ef up to %d reaches recall@10 %.2f via REST%n",
                EFS[EFS.length - 1], RECALL_GOAL);
          } else {
            double r1 = first.ratio1();
            double rN = first.ratioN();
            System.out.printf("goal recall+throughput: %s, first ef reaching recall@10 >= %.2f is %s (recall %.4f); "
                + "REST/in-process throughput there %.2fx with 1 client, %.2fx with %d in flight (goal >= %.1fx)%n",
                r1 >= RATIO_GOAL && rN >= RATIO_GOAL ? "PASS" : "FAIL", RECALL_GOAL, first.ef(), first.recall(), r1, rN,
                threads, RATIO_GOAL);
          }
          double worst = filterRatios.stream().mapToDouble(Double::doubleValue).max().orElse(0);
          System.out.printf("goal filtered latency: %s, worst filtered/unfiltered median latency via REST %.2fx (goal <= %.0fx)%n",
              worst <= FILTER_LATENCY_GOAL ? "PASS" : "FAIL", worst, FILTER_LATENCY_GOAL);
          System.out.printf("load average (1 min) at the end: %.2f%n", loadAverage());
        } finally {
          pool.shutdownNow();
        }
      }
    } finally {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  // ---- targets ----

  /** The engine's search on the committed index, plus the id lookup the server does for each hit. */
  static Target inProcess(IndexSearcher searcher, VectorSpec spec, float[][] prepared, Integer ef, boolean exact,
      Filter filter, PayloadSchema payloadSchema) {
    return new Target() {
      @Override
      public Object search(int q) throws IOException {
        var query = filter == null ? null : FilterQueries.toQuery(filter, payloadSchema);
        List<VectorSearch.Hit> hits = VectorSearch.search(searcher, spec, prepared[q], query, K, ef, exact, null);
        long[] ids = new long[hits.size()];
        var leaves = searcher.getIndexReader().leaves();
        for (int i = 0; i < ids.length; i++) {
          int doc = hits.get(i).doc();
          LeafReaderContext ctx = leaves.get(ReaderUtil.subIndex(doc, leaves));
          SortedDocValues values = ctx.reader().getSortedDocValues(Fields.ID);
          if (values == null || !values.advanceExact(doc - ctx.docBase)) {
            throw new IOException("document without id");
          }
          ids[i] = ((PointId.Num) PointId.fromTerm(values.lookupOrd(values.ordValue()))).value();
        }
        return ids;
      }

      @Override
      public long[] ids(Object result) {
        return (long[]) result;
      }
    };
  }

  /** {@code POST /collections/bench/points/search}; bodies are built before timing, responses parsed after. */
  static Target rest(TestNode node, String[] vectorJson, Integer ef, boolean exact, boolean filtered) {
    return rest(node, vectorJson, ef, exact, filtered, Client.RAW);
  }

  /** @param client the HTTP client the requests go through */
  static Target rest(TestNode node, String[] vectorJson, Integer ef, boolean exact, boolean filtered, Client client) {
    String params = exact ? "{\"exact\":true}" : "{\"hnsw_ef\":" + ef + "}";
    String[] bodies = new String[vectorJson.length];
    for (int q = 0; q < bodies.length; q++) {
      bodies[q] = "{\"vector\":" + vectorJson[q] + ",\"limit\":" + K + ",\"params\":" + params
          + (filtered ? ",\"filter\":" + FILTER : "") + "}";
    }
    return new Target() {
      @Override
      public Object search(int q) throws Exception {
        return send(node, client, "POST", "/collections/bench/points/search", bodies[q]);
      }

      @Override
      public long[] ids(Object result) throws IOException {
        JsonNode hits = Json.MAPPER.readTree((String) result).get("result");
        long[] ids = new long[hits.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = hits.get(i).get("id").asLong();
        }
        return ids;
      }
    };
  }

  /**
   * The node's storage service without HTTP: the request body parsed (as the router does: a JSON
   * tree, then the typed request), sent over the node's event bus, the result serialized to JSON.
   */
  static Target bus(TestNode node, String[] vectorJson, int ef) throws IOException {
    return bus(node, vectorJson, ef, false);
  }

  static Target bus(TestNode node, String[] vectorJson, int ef, boolean filtered) throws IOException {
    var storage = new StorageClient(node.vertx, node.addresses());
    JsonNode[] bodies = new JsonNode[vectorJson.length];
    String[] texts = new String[vectorJson.length];
    for (int q = 0; q < bodies.length; q++) {
      texts[q] = "{\"vector\":" + vectorJson[q] + ",\"limit\":" + K + ",\"params\":{\"hnsw_ef\":" + ef + "}"
          + (filtered ? ",\"filter\":" + FILTER : "") + "}";
    }
    return new Target() {
      @Override
      public Object search(int q) throws Exception {
        JsonNode body = Json.MAPPER.readTree(texts[q]);
        Object result = storage.send(StorageOp.SEARCH_POINTS.parse("bench", body, Map.of()))
            .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        return Json.MAPPER.writeValueAsString(result);
      }

      @Override
      public long[] ids(Object result) throws IOException {
        JsonNode hits = Json.MAPPER.readTree((String) result);
        long[] ids = new long[hits.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = hits.get(i).get("id").asLong();
        }
        return ids;
      }
    };
  }

  /** Any request, for the fixed-cost baseline. */
  static Target call(TestNode node, Client client, String method, String path, String body) {
    return new Target() {
      @Override
      public Object search(int q) throws Exception {
        return send(node, client, method, path, body);
      }

      @Override
      public long[] ids(Object result) {
        return new long[0];
      }
    };
  }

  /** A request through the node's client, or through {@link #HTTP11}; returns the body of a 200. */
  static String send(TestNode node, Client client, String method, String path, String body) throws Exception {
    int status;
    String out;
    if (client == Client.RAW) {
      RawHttp.Response r = raw(node).send(method, path, body);
      status = r.status();
      out = r.body();
    } else if (client == Client.HTTP11) {
      var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
          .timeout(Duration.ofSeconds(120))
          .header("content-type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
          .build();
      HttpResponse<String> r = HTTP11.send(request, HttpResponse.BodyHandlers.ofString());
      status = r.statusCode();
      out = r.body();
    } else {
      var r = node.send(method, path, body);
      status = r.status();
      out = r.body();
    }
    if (status != 200) {
      throw new IllegalStateException(status + ": " + out);
    }
    return out;
  }

  /** CPU time so far of the client side: the benchmark's own threads and the JDK HTTP client's, by thread id. */
  static Map<Long, Long> clientThreadCpu() {
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<Long, Long> out = new java.util.HashMap<>();
    for (var info : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (info != null && (info.getThreadName().startsWith(CLIENT_THREAD) || info.getThreadName().startsWith("HttpClient-"))) {
        long ns = mx.getThreadCpuTime(info.getThreadId());
        if (ns >= 0) {
          out.put(info.getThreadId(), ns);
        }
      }
    }
    return out;
  }

  /** CPU time of this whole process (bench threads, HTTP client and the node), in ns. */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  // ---- measurement ----

  /**
   * Measures targets side by side: one pass over all queries for the recall of each target with a
   * ground truth (searches are deterministic, so recall does not depend on the number of clients), a
   * warm-up of {@code seconds / 3} each, then {@link #ROUNDS} rounds in which each target runs {@code
   * threads} closed-loop clients for {@code seconds / ROUNDS}, interleaved so that load from other
   * processes hits them alike. Throughput is the median over rounds, latency the median of all requests.
   */
  static List<Run> compare(List<Target> targets, List<long[][]> truths, int nq, int threads, double seconds,
      ExecutorService pool) throws Exception {
    int m = targets.size();
    long[][][] ids = new long[m][][];
    double[] recall = new double[m];
    for (int t = 0; t < m; t++) {
      long[][] truth = truths == null ? null : truths.get(t);
      if (truth != null) {
        ids[t] = new long[nq][];
        for (int q = 0; q < nq; q++) {
          ids[t][q] = targets.get(t).ids(targets.get(t).search(q));
          recall[t] += recall(ids[t][q], truth[q]) / nq;
        }
      } else {
        recall[t] = Double.NaN;
      }
    }
    for (Target target : targets) {
      loop(target, nq, threads, seconds / 3, pool);
    }
    List<List<Double>> qps = new ArrayList<>();
    List<List<Double>> latencies = new ArrayList<>();
    long[] cpu = new long[m];
    long[] clientCpu = new long[m];
    for (int t = 0; t < m; t++) {
      qps.add(new ArrayList<>());
      latencies.add(new ArrayList<>());
    }
    for (int round = 0; round < ROUNDS; round++) {
      for (int t = 0; t < m; t++) {
        Map<Long, Long> before = clientThreadCpu();
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        List<long[]> lat = loop(targets.get(t), nq, threads, seconds / ROUNDS, pool);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        cpu[t] += processCpuNanos() - c0;
        for (var e : clientThreadCpu().entrySet()) {
          clientCpu[t] += e.getValue() - before.getOrDefault(e.getKey(), 0L);
        }
        int count = 0;
        for (long[] l : lat) {
          count += l.length;
          for (long ns : l) {
            latencies.get(t).add(ns / 1e6);
          }
        }
        qps.get(t).add(count / elapsed);
      }
    }
    List<Run> out = new ArrayList<>();
    for (int t = 0; t < m; t++) {
      out.add(new Run(recall[t], BenchData.median(qps.get(t)), BenchData.median(latencies.get(t)),
          cpu[t] / 1e6 / latencies.get(t).size(), clientCpu[t] / 1e6 / latencies.get(t).size(), ids[t]));
    }
    return out;
  }

  /** Runs {@code threads} closed loops for {@code seconds}; returns each one's latencies in ns. */
  static List<long[]> loop(Target target, int nq, int threads, double seconds, ExecutorService pool) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<Future<long[]>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int start = t * nq / threads;
      futures.add(pool.submit(() -> {
        long[] lat = new long[1024];
        int count = 0;
        for (int i = start; System.nanoTime() < deadline; i++) {
          long s = System.nanoTime();
          target.search(i % nq);
          if (count == lat.length) {
            lat = java.util.Arrays.copyOf(lat, count * 2);
          }
          lat[count++] = System.nanoTime() - s;
        }
        return java.util.Arrays.copyOf(lat, count);
      }));
    }
    List<long[]> out = new ArrayList<>();
    for (Future<long[]> f : futures) {
      out.add(f.get());
    }
    return out;
  }

  static double recall(long[] got, long[] truth) {
    int hit = 0;
    for (long t : truth) {
      for (long g : got) {
        if (g == t) {
          hit++;
          break;
        }
      }
    }
    return (double) hit / truth.length;
  }

  /** Queries whose result ids (as sets) are the same in both. */
  static int sameResults(long[][] a, long[][] b) {
    int same = 0;
    for (int q = 0; q < a.length; q++) {
      if (a[q].length == b[q].length && recall(a[q], b[q]) == 1.0) {
        same++;
      }
    }
    return same;
  }

  // ---- data ----

  static float[][] centres(int dim) {
    Random r = new Random(SEED ^ 0x5eed);
    float[][] c = new float[CLUSTERS][dim];
    for (float[] v : c) {
      for (int d = 0; d < dim; d++) {
        v[d] = (float) r.nextGaussian();
      }
    }
    return c;
  }

  /** {@code count} vectors: a uniformly chosen centre plus gaussian noise of deviation {@link #SPREAD}. */
  static float[][] mixture(int count, int dim, Random r, float[][] centres) {
    float[][] out = new float[count][dim];
    for (float[] v : out) {
      float[] c = centres[r.nextInt(centres.length)];
      for (int d = 0; d < dim; d++) {
        v[d] = c[d] + (float) (SPREAD * r.nextGaussian());
      }
    }
    return out;
  }

  static float[] normalized(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / Math.sqrt(norm));
    }
    return out;
  }

  /** Exact top-{@link #K} ids by cosine (dot of unit vectors, in double), ties by id; optionally bucket == 3 only. */
  static long[] bruteForce(float[][] unit, float[] q, boolean filtered) {
    long[] ids = new long[K];
    double[] scores = new double[K];
    int size = 0;
    for (int id = filtered ? BUCKET : 0; id < unit.length; id += filtered ? 10 : 1) {
      float[] v = unit[id];
      double s = 0;
      for (int d = 0; d < v.length; d++) {
        s += (double) q[d] * v[d];
      }
      if (size == K && s <= scores[K - 1]) {
        continue;
      }
      int i = size == K ? K - 1 : size++;
      while (i > 0 && scores[i - 1] < s) {
        scores[i] = scores[i - 1];
        ids[i] = ids[i - 1];
        i--;
      }
      scores[i] = s;
      ids[i] = id;
    }
    return java.util.Arrays.copyOf(ids, size);
  }

  static String json(float[] v) {
    StringBuilder sb = new StringBuilder(v.length * 12).append('[');
    for (int d = 0; d < v.length; d++) {
      sb.append(d == 0 ? "" : ",").append(v[d]);
    }
    return sb.append(']').toString();
  }

  static TestNode.Response check(TestNode.Response r) {
    if (r.status() != 200) {
      throw new IllegalStateException(r.status() + ": " + r.body());
    }
    return r;
  }

  static void log(String format, Object... args) {
    System.err.printf("[search-bench] " + format + "%n", args);
  }
}
