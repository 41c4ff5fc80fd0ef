package io.quiver.bench;

import io.quiver.engine.FileSizes;
import io.quiver.testing.JarProcess;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/**
 * Start-to-ready time and heap in use, normal start vs recovery mode, for the same data directory
 * at two sizes (default 256 MiB and 1 GiB). Each start runs the real jar as a subprocess; heap is
 * read from {@code /metrics} after a full GC requested with jcmd.
 *
 * <p>Run: {@code ./quiver bench RecoveryBench [smallMiB largeMiB]}
 */
public final class RecoveryBench {
  public static void main(String[] args) throws Exception {
    long small = args.length > 0 ? Long.parseLong(args[0]) : 256;
    long large = args.length > 1 ? Long.parseLong(args[1]) : 1024;
    Path root = Files.createTempDirectory("quiver-recoverybench");
    System.out.printf("%-10s %-10s %14s %12s%n", "data", "mode", "start->ready", "heap used");
    for (long mib : new long[] {small, large}) {
      Path storage = root.resolve("s" + mib).resolve("storage");
      fill(storage, mib);
      long bytes = FileSizes.sizeOf(storage);
      for (String mode : new String[] {"normal", "recovery"}) {
        Map<String, String> env = mode.equals("recovery")
            ? Map.of("QDRANT__STORAGE__RECOVERY_MODE", "benchmark") : Map.of();
        long t0 = System.nanoTime();
        try (var server = JarProcess.start(storage, env, "-Xmx4g")) {
          long ms = (System.nanoTime() - t0) / 1_000_000;
          new ProcessBuilder(Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd").toString(),
              Long.toString(server.pid()), "GC.run").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start().waitFor();
          long heap = server.send("GET", "/metrics", null).body().lines()
              .filter(l -> l.startsWith("quiver_jvm_heap_used_bytes ")).mapToLong(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElse(-1);
          System.out.printf("%7d MiB %-10s %11d ms %9.1f MiB%n", bytes >> 20, mode, ms, heap / 1048576.0);
          server.terminate();
        }
      }
    }
  }

  /** Bytes of the Lucene indexes: what stays once the WAL is truncated after a commit. */
  static long indexBytes(Path storage) throws Exception {
    long total = 0;
    Path collections = storage.resolve("collections");
    if (!Files.isDirectory(collections)) {
      return 0;
    }
    try (var cols = Files.list(collections)) {
      for (Path c : cols.toList()) {
        total += FileSizes.sizeOf(c.resolve("shards"));
        try (var shards = Files.list(c.resolve("shards"))) {
          for (Path s : shards.toList()) {
            total -= FileSizes.sizeOf(s.resolve("wal"));
          }
        }
      }
    }
    return total;
  }

  /** Four collections of points with 16-d vectors and ~8 KiB incompressible text payloads. */
  static void fill(Path storage, long mib) throws Exception {
    Random r = new Random(mib);
    long target = mib << 20;
    try (TestNode node = TestNode.start(storage, Map.of("QDRANT__STORAGE__WAL__FSYNC", "interval"))) {
      for (int c = 0; c < 4; c++) {
        node.send("PUT", "/collections/c" + c, "{\"vectors\": {\"size\": 16, \"distance\": \"Cosine\"}}");
      }
      int id = 0;
      while (indexBytes(storage) < target) {
        StringBuilder body = new StringBuilder("{\"points\":[");
        for (int i = 0; i < 500; i++, id++) {
          body.append(i == 0 ? "" : ",").append("{\"id\":").append(id).append(",\"vector\":[");
          for (int d = 0; d < 16; d++) {
            body.append(d == 0 ? "" : ",").append(r.nextFloat());
          }
          body.append("],\"payload\":{\"n\":").append(id).append(",\"text\":\"");
          for (int k = 0; k < 8000; k++) {
            body.append((char) ('a' + r.nextInt(26)));
          }
          body.append("\"}}");
        }
        body.append("]}");
        var resp = node.send("PUT", "/collections/c" + (id / 500 % 4) + "/points", body.toString());
        if (resp.status() != 200) {
          throw new IllegalStateException(resp.body());
        }
      }
    }
  }
}
