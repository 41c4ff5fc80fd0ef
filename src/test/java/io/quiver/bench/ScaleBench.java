package io.quiver.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;
import io.quiver.json.Json;
import io.quiver.testing.JarProcess;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene103.Lucene103Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.IntField;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.Field;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.VectorUtil;

/**
 * Quiver at scale next to its own engine at its best: the same clustered vectors (fixed seed),
 * held-out queries with exact ground truth, Euclidean distance, top 10.
 * <ul>
 *   <li><b>in-process Lucene</b>: the vectors indexed by 2 threads into a plain Lucene index (HNSW m
 *       16, beam 100, as Quiver's defaults), force-merged into one segment; searched by 2 threads;
 *   <li><b>Quiver</b>: the server jar as its own process with its default settings (the JVM options
 *       of {@code conf/jvm.options}), loaded through REST (batches of 1,000, {@code wait=true}, 2
 *       clients) and left to settle until {@code green}; searched through REST (8 connections kept
 *       busy by 2 client threads, as wrk drives a server: {@link HttpLoad}) and gRPC (8 calls in
 *       flight on one channel, each answer sending the next from the channel's network thread).
 * </ul>
 * It prints, per {@code hnsw_ef}, recall@10 and queries/s of the three, then the best throughput of
 * each at recall >= 0.95 and >= 0.99 with the ratio to in-process; the time from the first upsert to
 * {@code green} next to in-process build plus merge; the node's resident memory after the ingest and
 * under search load next to the raw vector bytes; and the median latency of searches filtered to 10%
 * and 1% of the points next to unfiltered ones (payload {@code b10 = id % 10}, {@code b100 = id % 100},
 * both indexed), at the same {@code hnsw_ef} and at the lowest {@code hnsw_ef} of each reaching recall
 * 0.95 and 0.99.
 *
 * <p>Run: {@code ./quiver bench ScaleBench [N=100000] [D=128] [Q=1000] [seconds per measurement=5]
 * [quantization=none|scalar|binary[:oversampling]] [ef,ef,...] [default_segment_number=0]
 * [datatype=float32|float16]}; a quantized collection searches with rescoring and oversampling 2
 * unless given ({@code binary:4}); {@code default_segment_number} is the collection's optimizer
 * setting (0: auto, one segment per shard unless {@code max_segment_size} splits it); {@code
 * datatype} the vectors' (float16: stored in two bytes per dimension; recall still against the
 * float32 data's exact neighbours, raw bytes still those of float32). {@code SCALEBENCH_SERVER_OPTS}
 * adds JVM options to the node's (a profiler).
 */
public final class ScaleBench {
  static final int K = 10;
  static final long SEED = 42;
  static final int[] EFS = {16, 32, 64, 128, 256, 512, 1024, 2048};
  static final int FILTER_EF = 64;
  static final int LUCENE_THREADS = 2;
  static final int CONNECTIONS = 8;
  /** The REST load's client threads, each driving its share of the {@link #CONNECTIONS} (as wrk's 2 threads). */
  static final int CLIENT_THREADS = 2;
  static final int BATCH = 1000;
  static final double WARM_UP_SECONDS = 15;
  static final double[] GOALS = {0.95, 0.99};

  private ScaleBench() {}

  /**
   * One search configuration's outcome: recall over all queries, closed-loop queries/s, median
   * latency, and CPU per query (ms) of the node process and of this (client) process.
   */
  record Result(double recall, double qps, double p50ms, double serverCpuMs, double clientCpuMs, double serverSysShare) {}

  /** The node's process id, for its CPU time; 0 before it starts. */
  static volatile long serverPid;

  /** A way to search: query index and ef in, result ids out. */
  interface Searcher {
    long[] search(int q, int ef, String filter) throws Exception;

    /**
     * Closed-loop load of {@code concurrency} searches at once for {@code seconds}: each thread's
     * latencies (ns). By default a thread per search in flight, each calling {@link #search}.
     */
    default List<long[]> load(int ef, String filter, int nq, int concurrency, double seconds, ExecutorService pool)
        throws Exception {
      SearchBench.Target target = new SearchBench.Target() {
        @Override
        public Object search(int q) throws Exception {
          return Searcher.this.search(q, ef, filter);
        }

        @Override
        public long[] ids(Object result) {
          return (long[]) result;
        }
      };
      return SearchBench.loop(target, nq, concurrency, seconds, pool);
    }
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int dim = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    int nq = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    double seconds = args.length > 3 ? Double.parseDouble(args[3]) : 5;
    String[] quantizationArg = (args.length > 4 ? args[4] : "none").split(":");
    String quantization = quantizationArg[0];
    double oversampling = quantizationArg.length > 1 ? Double.parseDouble(quantizationArg[1]) : 2;
    int[] efs = args.length > 5 ? Arrays.stream(args[5].split(",")).mapToInt(Integer::parseInt).toArray() : EFS;
    int segmentNumber = args.length > 6 ? Integer.parseInt(args[6]) : 0;
    String datatype = args.length > 7 ? args[7] : "float32";
    Locale.setDefault(Locale.ROOT);

    System.out.printf("scale benchmark: N=%d points, D=%d, %d gaussian clusters, seed %d, %d held-out queries, Euclid, "
        + "top %d; datatype %s; quantization %s (oversampling %s); default_segment_number %s; %.0f s per measurement; %d cores; "
        + "load average %.2f%n", n, dim,
        SearchBench.CLUSTERS, SEED, nq, K, datatype, quantization, oversampling, segmentNumber == 0 ? "auto" : segmentNumber, seconds,
        Runtime.getRuntime().availableProcessors(),
        SearchBench.loadAverage());
    long t0 = System.nanoTime();
    float[][] centres = SearchBench.centres(dim);
    float[][] data = SearchBench.mixture(n, dim, new Random(SEED), centres);
    float[][] queries = SearchBench.mixture(nq, dim, new Random(SEED + 1), centres);
    long[][] truth = new long[nq][];
    long[][] truth10 = new long[nq][];
    long[][] truth1 = new long[nq][];
    IntStream.range(0, nq).parallel().forEach(q -> {
      truth[q] = exact(data, queries[q], 1, 0);
      truth10[q] = exact(data, queries[q], 10, 3);
      truth1[q] = exact(data, queries[q], 100, 7);
    });
    log("data and exact ground truth in %.1f s", (System.nanoTime() - t0) / 1e9);

    Path root = Files.createTempDirectory("quiver-scalebench");
    ExecutorService pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "bench-client");
      t.setDaemon(true);
      return t;
    });
    try {
      // ---- in-process Lucene
      long tb = System.nanoTime();
      Path luceneDir = root.resolve("lucene");
      double buildSeconds;
      double mergeSeconds;
      try (var dir = FSDirectory.open(luceneDir);
          var writer = new IndexWriter(dir, new IndexWriterConfig().setRAMBufferSizeMB(128).setCodec(new Lucene103Codec() {
            final KnnVectorsFormat format = new Lucene99HnswVectorsFormat(16, 100, LUCENE_THREADS, null);

            @Override
            public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
              return format;
            }
          }))) {
        List<Future<?>> adders = new ArrayList<>();
        for (int t = 0; t < LUCENE_THREADS; t++) {
          int from = t;
          adders.add(pool.submit(() -> {
            for (int i = from; i < n; i += LUCENE_THREADS) {
              Document doc = new Document();
              doc.add(new KnnFloatVectorField("v", data[i], VectorSimilarityFunction.EUCLIDEAN));
              doc.add(new NumericDocValuesField("id", i));
              doc.add(new IntField("b10", i % 10, Field.Store.NO));
              doc.add(new IntField("b100", i % 100, Field.Store.NO));
              writer.addDocument(doc);
            }
            return null;
          }));
        }
        for (Future<?> f : adders) {
          f.get();
        }
        writer.commit();
        buildSeconds = (System.nanoTime() - tb) / 1e9;
        long tm = System.nanoTime();
        writer.forceMerge(1);
        writer.commit();
        mergeSeconds = (System.nanoTime() - tm) / 1e9;
      }
      log("in-process Lucene: built by %d threads in %.1f s, force-merged to one segment in %.1f s: %.1f s",
          LUCENE_THREADS, buildSeconds, mergeSeconds, buildSeconds + mergeSeconds);

      // ---- Quiver
      int grpcPort = JarProcess.freePort();
      List<String> jvm = new ArrayList<>(jvmOptions());
      String extra = System.getenv("SCALEBENCH_SERVER_OPTS"); // a profiler, say
      if (extra != null && !extra.isBlank()) {
        jvm.addAll(List.of(extra.trim().split("\\s+")));
      }
      Path storage = root.resolve("storage");
      try (var reader = DirectoryReader.open(FSDirectory.open(luceneDir));
          var node = JarProcess.start(storage, Map.of("QDRANT__LOG_LEVEL", "WARN",
              "QDRANT__SERVICE__GRPC_PORT", Integer.toString(grpcPort)), jvm.toArray(String[]::new))) {
        log("node: pid %d, JVM options %s (conf/jvm.options); resident when idle and empty %s", node.pid(), jvm, mb(rss(node.pid())));
        serverPid = node.pid();
        String quant = switch (quantization) {
          case "scalar" -> ",\"quantization_config\":{\"scalar\":{\"type\":\"int8\",\"always_ram\":true}}";
          case "binary" -> ",\"quantization_config\":{\"binary\":{\"always_ram\":true}}";
          default -> "";
        };
        ok(node.send("PUT", "/collections/bench", "{\"vectors\":{\"size\":" + dim + ",\"distance\":\"Euclid\",\"datatype\":\""
            + datatype + "\"}" + quant
            + ",\"optimizers_config\":{\"default_segment_number\":" + segmentNumber + "}}"));
        ok(node.send("PUT", "/collections/bench/index?wait=true", "{\"field_name\":\"b10\",\"field_schema\":\"integer\"}"));
        ok(node.send("PUT", "/collections/bench/index?wait=true", "{\"field_name\":\"b100\",\"field_schema\":\"integer\"}"));
        RawHttp http = new RawHttp("127.0.0.1", node.port);
        long ti = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> uploaders = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
          uploaders.add(pool.submit(() -> {
            for (int from = next.getAndAdd(BATCH); from < n; from = next.getAndAdd(BATCH)) {
              var r = http.send("PUT", "/collections/bench/points?wait=true", upsertBody(data, from, Math.min(n, from + BATCH)));
              if (r.status() != 200) {
                throw new IllegalStateException("upsert: " + r.status() + " " + r.body());
              }
            }
            return null;
          }));
        }
        for (Future<?> f : uploaders) {
          f.get();
        }
        double ingestSeconds = (System.nanoTime() - ti) / 1e9;
        JsonNode info = info(node);
        log("ingest: %d points acknowledged in %.1f s (%.0f points/s); then status %s, %d segments", n, ingestSeconds,
            n / ingestSeconds, info.path("status").asText(), info.path("segments_count").asInt());
        while (!"green".equals(info.path("status").asText())) {
          Thread.sleep(200);
          info = info(node);
        }
        double greenSeconds = (System.nanoTime() - ti) / 1e9;
        if (info.path("points_count").asLong() != n) {
          throw new IllegalStateException("points_count " + info.path("points_count"));
        }
        long rssIngest = rss(node.pid());
        String ingestSplit = split(node.pid());
        log("green %.1f s after the first upsert, %d segments; resident memory %s (%s)", greenSeconds,
            info.path("segments_count").asInt(), mb(rssIngest), ingestSplit);

        IndexSearcher lucene = new IndexSearcher(reader);
        Searcher inProcess = (q, ef, filter) -> luceneSearch(lucene, queries[q], ef, filter);
        String[] vectorJson = Arrays.stream(queries).map(SearchBench::json).toArray(String[]::new);
        String params = quant.isEmpty() ? "" : ",\"quantization\":{\"rescore\":true,\"oversampling\":" + oversampling + "}";
        // requests prepared once per query, hnsw_ef and filter, answers read as bytes: the client's CPU stays small (as wrk's)
        Map<String, byte[][]> prepared = new java.util.concurrent.ConcurrentHashMap<>();
        Searcher rest = new Searcher() {
          private byte[] request(int q, int ef, String filter) {
            byte[][] bodies = prepared.computeIfAbsent(ef + " " + filter, key -> new byte[nq][]);
            byte[] request = bodies[q];
            if (request == null) {
              request = http.request("POST", "/collections/bench/points/search", "{\"vector\":" + vectorJson[q] + ",\"limit\":" + K
                  + ",\"params\":{\"hnsw_ef\":" + ef + params + "}" + (filter == null ? "" : ",\"filter\":" + filter) + "}");
              bodies[q] = request;
            }
            return request;
          }

          @Override
          public long[] search(int q, int ef, String filter) throws Exception {
            RawHttp.Raw r = http.exchange(request(q, ef, filter));
            if (r.status() != 200) {
              throw new IllegalStateException("search: " + r.status() + " " + r.text());
            }
            return ids(r);
          }

          /** As wrk: {@link #CLIENT_THREADS} threads keep the connections busy (one search in flight on each). */
          @Override
          public List<long[]> load(int ef, String filter, int nq1, int concurrency, double secs, ExecutorService pool1)
              throws Exception {
            return HttpLoad.run("127.0.0.1", node.port, q -> request(q, ef, filter), nq1, Math.min(CLIENT_THREADS, concurrency),
                concurrency, secs, pool1);
          }
        };
        // answers handled on the channel's network thread: the client adds no thread of its own
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().directExecutor().build();
        try {
          var stub = PointsGrpc.newBlockingStub(channel);
          var async = PointsGrpc.newStub(channel);
          Map<Integer, Points.SearchPoints[]> messages = new java.util.concurrent.ConcurrentHashMap<>();
          IntFunction<Points.SearchPoints[]> messagesOf = ef -> messages.computeIfAbsent(ef, e -> {
            var params1 = Points.SearchParams.newBuilder().setHnswEf(e);
            if (!quant.isEmpty()) {
              params1.setQuantization(Points.QuantizationSearchParams.newBuilder().setRescore(true).setOversampling(oversampling));
            }
            Points.SearchPoints[] out = new Points.SearchPoints[nq];
            for (int q = 0; q < nq; q++) {
              var b = Points.SearchPoints.newBuilder().setCollectionName("bench").setLimit(K).setParams(params1);
              for (float x : queries[q]) {
                b.addVector(x);
              }
              out[q] = b.build();
            }
            return out;
          });
          Searcher grpc = new Searcher() {
            @Override
            public long[] search(int q, int ef, String filter) {
              return stub.search(messagesOf.apply(ef)[q]).getResultList().stream().mapToLong(p -> p.getId().getNum()).toArray();
            }

            /** {@code concurrency} calls in flight on the channel, each answer sending the next (no client thread). */
            @Override
            public List<long[]> load(int ef, String filter, int nq1, int concurrency, double secs, ExecutorService pool1)
                throws Exception {
              return new GrpcLoop(async, messagesOf.apply(ef), nq1, concurrency, secs).run();
            }
          };

          // ---- unfiltered: recall and throughput per ef
          AtomicLong rssPeak = new AtomicLong(rssIngest);
          var peakSplit = new java.util.concurrent.atomic.AtomicReference<>(ingestSplit); // of the peak so far
          Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
              long now = rss(node.pid());
              if (now > rssPeak.get()) {
                rssPeak.set(now);
                peakSplit.set(split(node.pid()));
              }
              try {
                Thread.sleep(250);
              } catch (InterruptedException e) {
                return;
              }
            }
          });
          // warm-up: the node's JIT compiles its search path (the first seconds cost it 2-3x the CPU)
          measure(inProcess, 64, null, truth, LUCENE_THREADS, 3, pool);
          measure(rest, 64, null, truth, CONNECTIONS, WARM_UP_SECONDS, pool);
          measure(grpc, 64, null, truth, CONNECTIONS, WARM_UP_SECONDS, pool);
          log("searches go to %d segments", info(node).path("segments_count").asInt());
          System.out.printf("%n%6s | %-22s | %-22s %6s | %-22s %6s | CPU ms per query: in-process, REST node "
              + "(kernel's share) + client, gRPC node (kernel's share) + client%n", "ef", "in-process (2 threads)", "REST (8 connections)", "ratio", "gRPC (8 in flight)", "ratio");
          List<Result[]> rows = new ArrayList<>();
          for (int ef : efs) {
            Result l = measure(inProcess, ef, null, truth, LUCENE_THREADS, seconds, pool);
            Result r = measure(rest, ef, null, truth, CONNECTIONS, seconds, pool);
            Result g = measure(grpc, ef, null, truth, CONNECTIONS, seconds, pool);
            rows.add(new Result[] {l, r, g});
            System.out.printf("%6d | %-22s | %-22s %5.2fx | %-22s %5.2fx | %.3f, %.3f (%.0f%%) + %.3f, %.3f (%.0f%%) + %.3f%n",
                ef, cell(l), cell(r), r.qps() / l.qps(), cell(g), g.qps() / l.qps(), l.clientCpuMs(), r.serverCpuMs(),
                100 * r.serverSysShare(), r.clientCpuMs(), g.serverCpuMs(), 100 * g.serverSysShare(), g.clientCpuMs());
          }
          sampler.interrupt();
          String split = split(node.pid());
          System.out.println();
          for (double goal : GOALS) {
            Result l = best(rows, 0, goal);
            Result r = best(rows, 1, goal);
            Result g = best(rows, 2, goal);
            System.out.printf("recall >= %.2f: in-process %s, REST %s (%s), gRPC %s (%s)%n", goal, qps(l), qps(r),
                ratio(r, l), qps(g), ratio(g, l));
          }
          long raw = (long) n * dim * 4;
          long rssSearch = rssPeak.get();
          System.out.printf("time to searchable: Quiver %.1f s from the first upsert to green (ingest %.1f s) vs in-process "
              + "build + merge %.1f s (%.2fx)%n", greenSeconds, ingestSeconds, buildSeconds + mergeSeconds,
              greenSeconds / (buildSeconds + mergeSeconds));
          System.out.printf("memory: raw vectors %s; node resident after ingest %s (%.2fx), under search load up to %s (%.2fx: "
              + "%s; at its end %s)%n", mb(raw), mb(rssIngest), (double) rssIngest / raw, mb(rssSearch), (double) rssSearch / raw,
              peakSplit.get(), split);

          // ---- filtered vs unfiltered latency, one client: at the same hnsw_ef, then at equal recall
          String f10 = "{\"must\":[{\"key\":\"b10\",\"match\":{\"value\":3}}]}";
          String f1 = "{\"must\":[{\"key\":\"b100\",\"match\":{\"value\":7}}]}";
          Result u = measure(rest, FILTER_EF, null, truth, 1, seconds, pool);
          Result m10 = measure(rest, FILTER_EF, f10, truth10, 1, seconds, pool);
          Result m1 = measure(rest, FILTER_EF, f1, truth1, 1, seconds, pool);
          System.out.printf("filtered (REST, 1 client, hnsw_ef %d), median latency: unfiltered %.2f ms (recall %.3f), "
              + "10%% %.2f ms (%.2fx, recall %.3f), 1%% %.2f ms (%.2fx, recall %.3f)%n", FILTER_EF, u.p50ms(), u.recall(),
              m10.p50ms(), m10.p50ms() / u.p50ms(), m10.recall(), m1.p50ms(), m1.p50ms() / u.p50ms(), m1.recall());
          for (double goal : GOALS) {
            Reached ru = reach(rest, null, truth, goal, seconds, pool);
            Reached r10 = reach(rest, f10, truth10, goal, seconds, pool);
            Reached r1 = reach(rest, f1, truth1, goal, seconds, pool);
            System.out.printf("filtered at recall >= %.2f (REST, 1 client), median latency: unfiltered %s, 10%% %s (%s), "
                + "1%% %s (%s)%n", goal, ru, r10, r10.ratio(ru), r1, r1.ratio(ru));
          }
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
          node.terminate(); // gracefully: a profiler given in SCALEBENCH_SERVER_OPTS writes its recording
        }
      }
    } finally {
      pool.shutdownNow();
      try (var files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The lowest {@link #EFS} whose recall reaches a goal, with its latency; null result when none does. */
  record Reached(int ef, Result result) {
    @Override
    public String toString() {
      return result == null ? "not reached" : String.format("%.2f ms (ef %d, recall %.3f)", result.p50ms(), ef, result.recall());
    }

    String ratio(Reached base) {
      return result == null || base.result == null ? "-" : String.format("%.2fx", result.p50ms() / base.result.p50ms());
    }
  }

  static Reached reach(Searcher s, String filter, long[][] truth, double goal, double seconds, ExecutorService pool)
      throws Exception {
    for (int ef : EFS) {
      double recall = recall(s, ef, filter, truth);
      if (recall >= goal) {
        return new Reached(ef, timed(s, ef, filter, recall, truth.length, 1, seconds, pool));
      }
    }
    return new Reached(0, null);
  }

  /** Mean recall@10 over all queries, one pass. */
  static double recall(Searcher s, int ef, String filter, long[][] truth) throws Exception {
    double sum = 0;
    for (int q = 0; q < truth.length; q++) {
      sum += SearchBench.recall(s.search(q, ef, filter), truth[q]);
    }
    return sum / truth.length;
  }

  /** Recall over all queries (one pass), then closed-loop throughput with {@code threads} for {@code seconds}. */
  static Result measure(Searcher s, int ef, String filter, long[][] truth, int threads, double seconds, ExecutorService pool)
      throws Exception {
    return timed(s, ef, filter, recall(s, ef, filter, truth), truth.length, threads, seconds, pool);
  }

  /** Closed-loop throughput over {@code nq} queries whose recall is already known. */
  static Result timed(Searcher s, int ef, String filter, double recall, int nq, int threads, double seconds, ExecutorService pool)
      throws Exception {
    long server0 = cpuNanos(serverPid);
    long sys0 = sysNanos(serverPid);
    long client0 = ownCpuNanos();
    long total = 0;
    List<Long> all = new ArrayList<>();
    for (long[] lat : s.load(ef, filter, nq, threads, seconds, pool)) {
      total += lat.length;
      for (long l : lat) {
        all.add(l);
      }
    }
    all.sort(null);
    long serverNanos = cpuNanos(serverPid) - server0;
    double sysShare = serverNanos <= 0 ? 0 : (double) (sysNanos(serverPid) - sys0) / serverNanos;
    double server = serverNanos / 1e6 / Math.max(1, total);
    double client = (ownCpuNanos() - client0) / 1e6 / Math.max(1, total);
    return new Result(recall, total / seconds, all.isEmpty() ? 0 : all.get(all.size() / 2) / 1e6, server, client, sysShare);
  }

  private static final byte[] ID_KEY = "\"id\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * The integer ids of a search answer's points, in order, read from its bytes: every {@code "id":}
   * key of the body (the bench asks for neither payloads nor vectors, so no other object has one).
   */
  static long[] ids(RawHttp.Raw r) {
    byte[] b = r.bytes();
    long[] ids = new long[K];
    int count = 0;
    for (int i = r.from(); i + ID_KEY.length < r.to(); i++) {
      if (b[i] == '"' && Arrays.equals(b, i, i + ID_KEY.length, ID_KEY, 0, ID_KEY.length)) {
        long id = 0;
        int j = i + ID_KEY.length;
        for (; b[j] >= '0' && b[j] <= '9'; j++) {
          id = id * 10 + (b[j] - '0');
        }
        if (count == ids.length) {
          ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        i = j;
      }
    }
    return Arrays.copyOf(ids, count);
  }

  /** CPU time of a process so far, from {@code /proc/<pid>/stat} (user + system, in clock ticks of 10 ms). */
  static long cpuNanos(long pid) {
    long[] t = cpuTicks(pid);
    return (t[0] + t[1]) * 10_000_000L;
  }

  /** The kernel's part of {@link #cpuNanos}: system calls (sockets, thread wake-ups) and page faults. */
  static long sysNanos(long pid) {
    return cpuTicks(pid)[1] * 10_000_000L;
  }

  /** {user, system} clock ticks of a process; zeros when there is none. */
  private static long[] cpuTicks(long pid) {
    if (pid == 0) {
      return new long[2];
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    } catch (IOException | RuntimeException e) {
      return new long[2];
    }
  }

  static long ownCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** The highest throughput of column {@code col} among rows with recall >= goal; null if none reaches it. */
  static Result best(List<Result[]> rows, int col, double goal) {
    Result best = null;
    for (Result[] row : rows) {
      if (row[col].recall() >= goal && (best == null || row[col].qps() > best.qps())) {
        best = row[col];
      }
    }
    return best;
  }

  static long[] luceneSearch(IndexSearcher searcher, float[] q, int ef, String filter) throws IOException {
    Query f = filter == null ? null : filter.contains("b100")
        ? IntField.newExactQuery("b100", 7) : IntField.newExactQuery("b10", 3);
    TopDocs top = searcher.search(new KnnFloatVectorQuery("v", q, Math.max(K, ef), f), Math.max(K, ef));
    int size = Math.min(K, top.scoreDocs.length);
    long[] ids = new long[size];
    var leaves = searcher.getIndexReader().leaves();
    for (int i = 0; i < size; i++) {
      ScoreDoc sd = top.scoreDocs[i];
      LeafReaderContext ctx = leaves.get(ReaderUtil.subIndex(sd.doc, leaves));
      NumericDocValues id = ctx.reader().getNumericDocValues("id");
      id.advanceExact(sd.doc - ctx.docBase);
      ids[i] = id.longValue();
    }
    return ids;
  }

  /** Exact top {@link #K} by Euclidean distance among ids {@code id % mod == rest}. */
  static long[] exact(float[][] data, float[] q, int mod, int rest) {
    long[] ids = new long[K];
    float[] dist = new float[K];
    int size = 0;
    for (int id = rest; id < data.length; id += mod) {
      float d = VectorUtil.squareDistance(q, data[id]);
      if (size == K && d >= dist[K - 1]) {
        continue;
      }
      int i = size == K ? K - 1 : size++;
      while (i > 0 && dist[i - 1] > d) {
        dist[i] = dist[i - 1];
        ids[i] = ids[i - 1];
        i--;
      }
      dist[i] = d;
      ids[i] = id;
    }
    return Arrays.copyOf(ids, size);
  }

  static String upsertBody(float[][] data, int from, int to) {
    StringBuilder sb = new StringBuilder((to - from) * data[0].length * 12).append("{\"points\":[");
    for (int i = from; i < to; i++) {
      sb.append(i == from ? "" : ",").append("{\"id\":").append(i).append(",\"vector\":[");
      float[] v = data[i];
      for (int d = 0; d < v.length; d++) {
        sb.append(d == 0 ? "" : ",").append(v[d]);
      }
      sb.append("],\"payload\":{\"b10\":").append(i % 10).append(",\"b100\":").append(i % 100).append("}}");
    }
    return sb.append("]}").toString();
  }

  /** The server's default JVM options: those of {@code conf/jvm.options}, comments and blank lines left out. */
  static List<String> jvmOptions() throws IOException {
    Path file = Path.of("conf/jvm.options");
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
  }

  static JsonNode info(JarProcess node) throws Exception {
    return Json.MAPPER.readTree(ok(node.send("GET", "/collections/bench", null)).body()).get("result");
  }

  static HttpResponse<String> ok(HttpResponse<String> r) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(r.statusCode() + ": " + r.body());
    }
    return r;
  }

  /** Resident memory of a process, from {@code /proc}; 0 where there is none. */
  static long rss(long pid) {
    return rss(pid, "VmRSS:");
  }

  /** One resident figure of {@code /proc/<pid>/status}: {@code VmRSS:}, {@code RssAnon:} or {@code RssFile:}. */
  static long rss(long pid, String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return 0;
  }

  /**
   * Closed-loop gRPC load on one channel: a number of calls in flight, each answer sending the next
   * from the channel's own thread until the deadline; no client thread of its own.
   */
  private static final class GrpcLoop {
    private final PointsGrpc.PointsStub stub;
    private final Points.SearchPoints[] requests;
    private final int nq;
    private final long deadline;
    private final AtomicInteger next = new AtomicInteger();
    private final List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long[] latencies = new long[4096];
    private int count;
    private final int concurrency;
    private final java.util.concurrent.CountDownLatch done;

    GrpcLoop(PointsGrpc.PointsStub stub, Points.SearchPoints[] requests, int nq, int concurrency, double seconds) {
      this.stub = stub;
      this.concurrency = concurrency;
      this.done = new java.util.concurrent.CountDownLatch(concurrency);
      this.requests = requests;
      this.nq = nq;
      this.deadline = System.nanoTime() + (long) (seconds * 1e9);
    }

    /** Runs its calls at once until the deadline: the latencies (ns). */
    List<long[]> run() throws InterruptedException {
      for (int c = 0; c < concurrency; c++) {
        call();
      }
      done.await();
      if (!failures.isEmpty()) {
        throw new IllegalStateException("gRPC search failed", failures.get(0));
      }
      synchronized (this) {
        return List.of(Arrays.copyOf(latencies, count));
      }
    }

    private void call() {
      long sent = System.nanoTime();
      stub.search(requests[next.getAndIncrement() % nq], new io.grpc.stub.StreamObserver<>() {
        @Override
        public void onNext(Points.SearchResponse value) {}

        @Override
        public void onError(Throwable t) {
          failures.add(t);
          done.countDown();
        }

        @Override
        public void onCompleted() {
          long now = System.nanoTime();
          record(now - sent);
          if (now < deadline) {
            call();
          } else {
            done.countDown();
          }
        }
      });
    }

    private synchronized void record(long latency) {
      if (count == latencies.length) {
        latencies = Arrays.copyOf(latencies, count * 2);
      }
      latencies[count++] = latency;
    }
  }

  /** A process's resident memory split into anonymous (heap, JVM) and file-backed (mapped index files). */
  static String split(long pid) {
    return "anonymous " + mb(rss(pid, "RssAnon:")) + ", files " + mb(rss(pid, "RssFile:"));
  }

  static String cell(Result r) {
    return String.format("%.3f @ %7.0f q/s", r.recall(), r.qps());
  }

  static String qps(Result r) {
    return r == null ? "not reached" : String.format("%.0f q/s (recall %.3f)", r.qps(), r.recall());
  }

  static String ratio(Result a, Result b) {
    return a == null || b == null ? "-" : String.format("%.2fx", a.qps() / b.qps());
  }

  static String mb(long bytes) {
    return String.format("%.0f MB", bytes / 1e6);
  }

  static void log(String format, Object... args) {
    System.out.printf("[%tT] %s%n", System.currentTimeMillis(), String.format(format, args));
  }
}
