package io.quiver.bench;

import io.quiver.json.Json;
import io.quiver.engine.Action;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Distance;
import io.quiver.engine.Fields;
import io.quiver.engine.Point;
import io.quiver.engine.Shard;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.store.FSDirectory;

/**
 * Upsert throughput, same data, same run: REST ({@code PUT /points?wait=true}, one client) against
 * in-process indexing (Lucene IndexWriter alone, and the engine's shard with its WAL), for batches
 * of 100 and 1,000 points of 128 dimensions with payloads. Each write is made visible before the
 * next (NRT refresh), as wait=true does. Prints medians of 5 runs.
 *
 * <p>Run: {@code ./quiver bench UpsertBench [points]}
 */
public final class UpsertBench {
  public static void main(String[] args) throws Exception {
    int total = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int dim = 128;
    List<Point> points = BenchData.points(total, dim, 42);
    var schema = new CollectionSchema(Map.of("", new VectorSpec("", dim, Distance.DOT, 16, 100, VectorSpec.Quantization.NONE)),
        Map.of(), PayloadSchema.EMPTY);
    Path root = Files.createTempDirectory("quiver-bench");
    System.out.printf("upsert benchmark: %d points, %d dims, fsync=always, medians of 5 runs (points/s)%n", total, dim);
    System.out.printf("%-8s %14s %14s %14s %10s%n", "batch", "lucene", "shard+wal", "rest", "rest/lucene");
    try (TestNode node = TestNode.start(root.resolve("node"))) {
      for (int batch : new int[] {100, 1000}) {
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < total; i += batch) {
          bodies.add(BenchData.upsertBody(points.subList(i, Math.min(total, i + batch))));
        }
        List<Double> lucene = new ArrayList<>();
        List<Double> shard = new ArrayList<>();
        List<Double> rest = new ArrayList<>();
        for (int run = 0; run < 5; run++) {
          lucene.add(lucene(root.resolve("l" + batch + "-" + run), points, batch, schema));
          shard.add(shard(root.resolve("s" + batch + "-" + run), points, batch, schema));
          rest.add(rest(node, "b" + batch + "r" + run, bodies, total));
        }
        double l = BenchData.median(lucene);
        System.out.printf("%-8d %14.0f %14.0f %14.0f %9.0f%%%n", batch, l, BenchData.median(shard), BenchData.median(rest),
            100 * BenchData.median(rest) / l);
      }
    }
  }

  static double lucene(Path dir, List<Point> points, int batch, CollectionSchema schema) throws Exception {
    var docs = new DocMapper(Json.MAPPER);
    try (var writer = new IndexWriter(FSDirectory.open(dir), new IndexWriterConfig().setRAMBufferSizeMB(128));
        var searchers = new SearcherManager(writer, null)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < points.size(); i += batch) {
        for (Point p : points.subList(i, Math.min(points.size(), i + batch))) {
          writer.updateDocument(new Term(Fields.ID, p.id().term()), docs.toDocument(p, schema, 1));
        }
        searchers.maybeRefreshBlocking();
      }
      return points.size() / ((System.nanoTime() - t0) / 1e9);
    }
  }

  static double shard(Path dir, List<Point> points, int batch, CollectionSchema schema) throws Exception {
    var scheduler = Executors.newSingleThreadScheduledExecutor();
    var options = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 32L << 20), 3_600_000, 3_600_000);
    try (Shard shard = Shard.open(dir, schema, options, new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < points.size(); i += batch) {
        List<Action> actions = new ArrayList<>();
        points.subList(i, Math.min(points.size(), i + batch)).forEach(p -> actions.add(new Action.Put(p)));
        shard.write(view -> actions, true);
      }
      return points.size() / ((System.nanoTime() - t0) / 1e9);
    } finally {
      scheduler.shutdownNow();
    }
  }

  static double rest(TestNode node, String collection, List<String> bodies, int total) throws Exception {
    node.send("PUT", "/collections/" + collection, "{\"vectors\": {\"size\": 128, \"distance\": \"Dot\"}}");
    long t0 = System.nanoTime();
    for (String body : bodies) {
      var r = node.send("PUT", "/collections/" + collection + "/points?wait=true", body);
      if (r.status() != 200) {
        throw new IllegalStateException(r.body());
      }
    }
    double rate = total / ((System.nanoTime() - t0) / 1e9);
    node.send("DELETE", "/collections/" + collection, null);
    return rate;
  }
}
