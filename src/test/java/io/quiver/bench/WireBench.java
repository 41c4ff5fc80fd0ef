package io.quiver.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.request.Request;
import io.quiver.request.RequestJson;
import io.quiver.request.StorageOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The cost of the wire form ({@code RequestJson}) that requests cross nodes in: write and read of
 * an upsert of 1000 points of 128-d dense vectors with small payloads, and of a query with a
 * prefetch tree (a formula over a fusion of two prefetches, one with a filter). Prints the median
 * over rounds of requests/s and MB/s (of wire bytes) for writing, reading, and both.
 *
 * <p>Run: {@code ./quiver bench WireBench [seconds per measurement]}
 */
public final class WireBench {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
    Request upsert = StorageOp.UPSERT_POINTS.parse("c", upsertBody(1000, 128, new Random(7)), Map.of("wait", "true"));
    Request query = StorageOp.QUERY_POINTS.parse("c", queryBody(new Random(7)), Map.of("timeout", "5"));
    for (var c : List.of(new Case("upsert 1000 x 128-d + payloads", upsert), new Case("query with a prefetch tree", query))) {
      byte[] wire = RequestJson.write(c.request());
      System.out.printf("%s: %,d bytes on the wire%n", c.name(), wire.length);
      report("  write", wire.length, measure(seconds, () -> RequestJson.write(c.request())));
      report("  read", wire.length, measure(seconds, () -> RequestJson.read(wire)));
      report("  write+read", wire.length, measure(seconds, () -> RequestJson.read(RequestJson.write(c.request()))));
    }
  }

  private record Case(String name, Request request) {}

  private static void report(String what, int bytes, double perSecond) {
    System.out.printf("%-12s %,10.0f requests/s  %8.1f MB/s%n", what, perSecond, perSecond * bytes / 1e6);
  }

  /** Requests per second: the median of rounds of about 1/5 of {@code seconds}, after a warm-up as long. */
  private static double measure(double seconds, Runnable op) {
    long roundNanos = (long) (seconds * 1e9 / 5);
    run(op, roundNanos * 2);
    List<Double> rates = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      rates.add(run(op, roundNanos));
    }
    return BenchData.median(rates);
  }

  private static double run(Runnable op, long nanos) {
    long start = System.nanoTime();
    long n = 0;
    long elapsed;
    do {
      op.run();
      n++;
      elapsed = System.nanoTime() - start;
    } while (elapsed < nanos);
    return n * 1e9 / elapsed;
  }

  private static JsonNode upsertBody(int points, int dim, Random r) throws Exception {
    ObjectNode body = F.objectNode();
    ArrayNode list = body.putArray("points");
    for (int i = 0; i < points; i++) {
      ObjectNode p = list.addObject().put("id", i);
      ArrayNode v = p.putArray("vector");
      for (int d = 0; d < dim; d++) {
        v.add(r.nextFloat() * 2 - 1);
      }
      p.putObject("payload").put("city", List.of("Paris", "Lyon", "Nice").get(i % 3)).put("price", r.nextInt(1000))
          .put("rating", r.nextInt(50) / 10.0).putArray("tags").add("a").add("b");
    }
    return reread(body);
  }

  private static JsonNode queryBody(Random r) throws Exception {
    ObjectNode body = F.objectNode();
    ArrayNode prefetch = body.putArray("prefetch");
    ObjectNode fused = prefetch.addObject();
    ArrayNode inner = fused.putArray("prefetch");
    ObjectNode dense = inner.addObject().put("limit", 100);
    ArrayNode v = dense.putArray("query");
    for (int d = 0; d < 128; d++) {
      v.add(r.nextFloat() * 2 - 1);
    }
    dense.putObject("filter").putArray("must").addObject().put("key", "city").putObject("match").put("value", "Paris");
    ObjectNode sparse = inner.addObject().put("using", "text").put("limit", 100);
    ObjectNode sv = sparse.putObject("query");
    ArrayNode ix = sv.putArray("indices");
    ArrayNode vs = sv.putArray("values");
    for (int i = 0; i < 16; i++) {
      ix.add(i * 97);
      vs.add(r.nextFloat());
    }
    fused.put("limit", 50).putObject("query").put("fusion", "rrf");
    ObjectNode formula = body.putObject("query");
    formula.putObject("formula").putArray("sum").add("$score").addObject().putArray("mult").add(0.5).add("rating");
    formula.putObject("defaults").put("rating", 0);
    body.put("limit", 10).put("with_payload", true);
    return reread(body);
  }

  private static JsonNode reread(JsonNode json) throws Exception {
    return Json.MAPPER.readTree(Json.MAPPER.writeValueAsBytes(json));
  }
}
