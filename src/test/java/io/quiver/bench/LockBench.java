package io.quiver.bench;

import io.quiver.lock.LockClient;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cost of the write-permission query that guards every write: its median round trip over the
 * local event bus (acquire + release, as the router does), and its share of the median latency of a
 * small upsert through REST, both measured in the same run on the same node.
 *
 * <p>Run: {@code ./quiver bench LockBench [samples]}
 */
public final class LockBench {
  public static void main(String[] args) throws Exception {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    try (TestNode node = TestNode.start(Files.createTempDirectory("quiver-lockbench").resolve("storage"))) {
      var lock = new LockClient(node.vertx, node.addresses());
      List<Double> permit = new ArrayList<>();
      for (int i = 0; i < samples + 500; i++) {
        long t0 = System.nanoTime();
        long p = lock.acquire().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        lock.release(p);
        if (i >= 500) {
          permit.add((System.nanoTime() - t0) / 1e3);
        }
      }
      node.send("PUT", "/collections/bench", "{\"vectors\": {\"size\": 128, \"distance\": \"Dot\"}}");
      var points = BenchData.points(samples + 200, 128, 7);
      List<Double> upsert = new ArrayList<>();
      for (int i = 0; i < points.size(); i++) {
        String body = BenchData.upsertBody(points.subList(i, i + 1));
        long t0 = System.nanoTime();
        var r = node.send("PUT", "/collections/bench/points?wait=true", body);
        if (r.status() != 200) {
          throw new IllegalStateException(r.body());
        }
        if (i >= 200) {
          upsert.add((System.nanoTime() - t0) / 1e3);
        }
      }
      double p = BenchData.median(permit);
      double u = BenchData.median(upsert);
      System.out.printf("write-permission round trip: median %.1f us over %d samples%n", p, samples);
      System.out.printf("upsert of 1 point (128 dims, wait=true) via REST: median %.1f us over %d samples%n", u, samples);
      System.out.printf("permission share of upsert latency: %.2f%%%n", 100 * p / u);
    }
  }
}
