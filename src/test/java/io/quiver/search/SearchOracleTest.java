package io.quiver.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterMatcher;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.filter.RandomFilters;
import io.quiver.testing.TestNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Search, recommendation and sparse search through the REST API of a whole node, checked against a
 * brute-force oracle over what the test wrote, with Qdrant's (v1.15) formulas:
 *
 * <ul>
 *   <li>Cosine vectors are normalised on the way in and scored by dot product; Dot is the raw dot
 *       product; Euclid is the euclidean distance and Manhattan the sum of absolute differences,
 *       both smaller-is-better.
 *   <li>{@code score_threshold} keeps a point when its score is strictly better than the threshold
 *       (Qdrant's {@code Distance::check_threshold}: {@code score > t}, or {@code score < t} for the
 *       distances).
 *   <li>Sparse vectors score the dot product over shared indices, and only points sharing an index
 *       are hits; the {@code idf} modifier weighs the query by {@code ln((N - n + 0.5) / (n + 0.5) + 1)}.
 *   <li>Recommendation: {@code average_vector} searches near {@code 2 avg(pos) - avg(neg)};
 *       {@code best_score} and {@code sum_scores} combine the raw metric similarities (euclid as
 *       minus the squared distance) to each example; example ids are never results.
 * </ul>
 *
 * Exact search must match the oracle (ties may reorder: returned scores are compared by position
 * and each against the point's own exact score); approximate search must return exact scores of
 * real candidates with a high recall.
 */
@Timeout(300)
class SearchOracleTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  @TempDir
  static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- the oracle ----

  enum Dist {
    COSINE("Cosine"), DOT("Dot"), EUCLID("Euclid"), MANHATTAN("Manhattan");

    final String json;

    Dist(String json) {
      this.json = json;
    }

    boolean higherIsBetter() {
      return this == COSINE || this == DOT;
    }

    /** Qdrant's preprocessing: cosine vectors normalised in f32 (its cosine_preprocess). */
    float[] prepare(float[] v) {
      if (this != COSINE) {
        return v;
      }
      float len = 0;
      for (float x : v) {
        len += x * x;
      }
      if (len == 0 || Math.abs(len - 1f) <= 1e-6f) {
        return v;
      }
      float norm = (float) Math.sqrt(len);
      float[] out = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = v[i] / norm;
      }
      return out;
    }

    /** The score of a nearest-neighbour search (after Qdrant's postprocessing). */
    double score(float[] q, float[] v) {
      double s = 0;
      for (int i = 0; i < q.length; i++) {
        switch (this) {
          case COSINE, DOT -> s += (double) q[i] * v[i];
          case EUCLID -> s += ((double) q[i] - v[i]) * ((double) q[i] - v[i]);
          case MANHATTAN -> s += Math.abs((double) q[i] - v[i]);
        }
      }
      return this == EUCLID ? Math.sqrt(s) : s;
    }

    /** Qdrant's raw metric similarity (higher is better), what recommendation strategies combine. */
    double similarity(float[] q, float[] v) {
      return switch (this) {
        case COSINE, DOT -> score(q, v);
        case EUCLID -> {
          double d = score(q, v);
          yield -d * d;
        }
        case MANHATTAN -> -score(q, v);
      };
    }

    /** Qdrant's score_threshold test. */
    boolean passes(double score, double threshold) {
      return higherIsBetter() ? score > threshold : score < threshold;
    }
  }

  /** A point as the test wrote it: vectors in their stored (prepared) form. */
  static final class Pt {
    final JsonNode id;
    final Map<String, float[]> dense = new HashMap<>();
    Map<Long, Float> sparse;
    JsonNode payload = F.objectNode();

    Pt(JsonNode id) {
      this.id = id;
    }

    String key() {
      return id.asText();
    }
  }

  /** One ranked candidate of the oracle. */
  record Scored(String key, double score) {}

  /** The candidates that score (score not NaN), best first. */
  static List<Scored> rank(Collection<Pt> points, ToDoubleFunction<Pt> score, boolean higherIsBetter) {
    List<Scored> out = new ArrayList<>();
    for (Pt p : points) {
      double s = score.applyAsDouble(p);
      if (!Double.isNaN(s)) {
        out.add(new Scored(p.key(), s));
      }
    }
    out.sort((a, b) -> higherIsBetter ? Double.compare(b.score(), a.score()) : Double.compare(a.score(), b.score()));
    return out;
  }

  static double tolerance(double a, double b) {
    return 1e-5 + 1e-4 * Math.max(Math.abs(a), Math.abs(b));
  }

  static boolean close(double a, double b) {
    return Math.abs(a - b) <= tolerance(a, b);
  }

  /**
   * An exact search result: the page [offset, offset + limit) of the ranking, up to ties. Each
   * returned score is the point's own exact score and the score at its position in the ranking.
   */
  static void checkExact(String what, List<Scored> ranking, JsonNode result, int offset, int limit) {
    Map<String, Double> exact = new HashMap<>();
    ranking.forEach(s -> exact.put(s.key(), s.score()));
    int from = Math.min(offset, ranking.size());
    int to = (int) Math.min((long) offset + limit, ranking.size());
    assertNotNull(result, what);
    assertEquals(to - from, result.size(), () -> what + ": result size; expected " + ranking.subList(from, to) + ", got " + result);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < result.size(); i++) {
      JsonNode p = result.get(i);
      String key = p.get("id").asText();
      float got = (float) p.get("score").asDouble();
      int at = i;
      assertTrue(seen.add(key), () -> what + ": point " + key + " twice in " + result);
      Double own = exact.get(key);
      assertNotNull(own, () -> what + ": point " + key + " is not a candidate (deleted, filtered out, without the vector, or below the threshold); got " + result);
      assertTrue(close(own, got), () -> what + ": score of " + key + " is " + got + ", expected " + own);
      Scored expected = ranking.get(from + at);
      assertTrue(close(expected.score(), got), () -> what + ": at position " + (from + at) + " got " + key + " with " + got
          + ", expected a point scoring " + expected + "; expected page " + ranking.subList(from, to) + ", got " + result);
    }
  }

  /**
   * An approximate search result: real candidates, no duplicates, exact scores, best first, at most
   * {@code limit}. Returns its recall: the share of the wanted points returned (tie-aware: a point
   * counts when its score is as good as the limit-th of the ranking).
   */
  static double checkApprox(String what, List<Scored> ranking, JsonNode result, int limit, boolean higherIsBetter) {
    Map<String, Double> exact = new HashMap<>();
    ranking.forEach(s -> exact.put(s.key(), s.score()));
    int want = Math.min(limit, ranking.size());
    assertTrue(result.size() <= want, () -> what + ": " + result.size() + " results for " + want + " candidates/limit");
    Set<String> seen = new HashSet<>();
    double previous = Double.NaN;
    int good = 0;
    double kth = want == 0 ? 0 : ranking.get(want - 1).score();
    for (JsonNode p : result) {
      String key = p.get("id").asText();
      float got = (float) p.get("score").asDouble();
      assertTrue(seen.add(key), () -> what + ": point " + key + " twice in " + result);
      Double own = exact.get(key);
      assertNotNull(own, () -> what + ": point " + key + " is not a candidate; got " + result);
      assertTrue(close(own, got), () -> what + ": score of " + key + " is " + got + ", expected " + own);
      if (!Double.isNaN(previous)) {
        double prev = previous;
        assertTrue(higherIsBetter ? got <= prev + tolerance(got, prev) : got >= prev - tolerance(got, prev),
            () -> what + ": not sorted best first: " + result);
      }
      previous = got;
      if (higherIsBetter ? own >= kth - tolerance(own, kth) : own <= kth + tolerance(own, kth)) {
        good++;
      }
    }
    return want == 0 ? 1.0 : (double) good / want;
  }

  /**
   * A threshold strictly between two neighbouring distinct scores of the ranking (far from both),
   * and how many points pass it; null when the ranking has no such gap.
   */
  static double[] midThreshold(List<Scored> ranking, Random r) {
    for (int attempt = 0; attempt < 20 && ranking.size() > 1; attempt++) {
      int j = r.nextInt(ranking.size() - 1);
      double a = ranking.get(j).score();
      double b = ranking.get(j + 1).score();
      if (Math.abs(a - b) > 4 * tolerance(a, b)) {
        return new double[] {(a + b) / 2, j + 1};
      }
    }
    return null;
  }

  /**
   * A threshold equal to a returned score (the same float): Qdrant keeps only the points that score
   * strictly better. Searches {@code body} (limit 10) without and then with that threshold.
   */
  static void checkThresholdAtAScore(String path, ObjectNode body, boolean higherIsBetter, Random r) throws Exception {
    ObjectNode plain = body.deepCopy().put("limit", 10);
    plain.remove("offset");
    plain.remove("score_threshold");
    JsonNode top = ok("POST", path, plain);
    if (top.size() < 2) {
      return;
    }
    float boundary = (float) top.get(1 + r.nextInt(top.size() - 1)).get("score").asDouble();
    int better = 0;
    for (JsonNode p : top) {
      float s = (float) p.get("score").asDouble();
      better += (higherIsBetter ? s > boundary : s < boundary) ? 1 : 0;
    }
    ObjectNode thresholded = plain.deepCopy().put("score_threshold", boundary);
    JsonNode result = ok("POST", path, thresholded);
    int expected = better;
    assertEquals(expected, result.size(), () -> path + ": a threshold equal to a score keeps the strictly better ones: "
        + thresholded + " -> " + result + "; without the threshold " + top);
  }

  // ---- REST ----

  static TestNode.Response call(String method, String path, JsonNode body) throws Exception {
    return node.send(method, path, body == null ? null : body.toString());
  }

  static JsonNode ok(String method, String path, JsonNode body) throws Exception {
    TestNode.Response r = call(method, path, body);
    assertEquals(200, r.status(), () -> method + " " + path + " " + abbreviate(body) + " -> " + r.body());
    return r.result();
  }

  static String abbreviate(JsonNode body) {
    String s = String.valueOf(body);
    return s.length() > 3000 ? s.substring(0, 3000) + "..." : s;
  }

  static void recreate(String name, String config) throws Exception {
    call("DELETE", "/collections/" + name, null);
    ok("PUT", "/collections/" + name, Json.MAPPER.readTree(config));
  }

  static void upsert(String collection, List<ObjectNode> points) throws Exception {
    for (int i = 0; i < points.size(); i += 300) {
      ObjectNode body = F.objectNode();
      body.putArray("points").addAll(points.subList(i, Math.min(points.size(), i + 300)));
      JsonNode r = ok("PUT", "/collections/" + collection + "/points?wait=true", body);
      assertEquals("completed", r.get("status").asText());
    }
  }

  static ArrayNode array(float[] v) {
    ArrayNode a = F.arrayNode();
    for (float x : v) {
      a.add(x);
    }
    return a;
  }

  static ObjectNode sparseJson(Map<Long, Float> v) {
    ObjectNode o = F.objectNode();
    ArrayNode ix = o.putArray("indices");
    ArrayNode vs = o.putArray("values");
    v.forEach((i, x) -> {
      ix.add(i);
      vs.add(x);
    });
    return o;
  }

  static float[] gaussian(Random r, int dim, double scale) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  static ObjectNode searchBody(String using, float[] q, int limit, int offset, boolean exact) {
    ObjectNode b = F.objectNode();
    if (using.isEmpty()) {
      b.set("vector", array(q));
    } else {
      b.putObject("vector").put("name", using).set("vector", array(q));
    }
    b.put("limit", limit);
    if (offset > 0) {
      b.put("offset", offset);
    }
    if (exact) {
      b.putObject("params").put("exact", true);
    }
    return b;
  }

  static JsonNode search(String collection, JsonNode body) throws Exception {
    return ok("POST", "/collections/" + collection + "/points/search", body);
  }

  // ---- dense collections: named vectors `a` (the collection's distance, 12 dims) and `b` (the next distance, 6 dims) ----

  static final int POINTS = 800;

  static final class DenseModel {
    final String name;
    final Map<String, Dist> dist = new HashMap<>();
    final Map<String, Integer> dim = new HashMap<>();
    final Map<String, Pt> points = new LinkedHashMap<>();

    DenseModel(Dist d) {
      name = "dense_" + d.json.toLowerCase();
      dist.put("a", d);
      dim.put("a", 12);
      dist.put("b", Dist.values()[(d.ordinal() + 1) % 4]);
      dim.put("b", 6);
    }

    List<Scored> rank(String using, float[] query, Predicate<Pt> filter) {
      Dist d = dist.get(using);
      float[] q = d.prepare(query);
      return SearchOracleTest.rank(points.values(),
          p -> p.dense.containsKey(using) && filter.test(p) ? d.score(q, p.dense.get(using)) : Double.NaN, d.higherIsBetter());
    }

    float[] query(Random r, String using) {
      if (r.nextInt(4) == 0) {
        List<Pt> with = points.values().stream().filter(p -> p.dense.containsKey(using)).toList();
        return with.get(r.nextInt(with.size())).dense.get(using).clone();
      }
      return gaussian(r, dim.get(using), 0.5 + r.nextDouble() * 2);
    }
  }

  private static final Map<Dist, DenseModel> DENSE = new EnumMap<>(Dist.class);

  /** The collection of a distance, made once: some points lack a vector, some share one, one is zero. */
  static synchronized DenseModel dense(Dist d) throws Exception {
    DenseModel m = DENSE.get(d);
    if (m != null) {
      return m;
    }
    long start = System.nanoTime();
    m = new DenseModel(d);
    recreate(m.name, "{\"vectors\": {\"a\": {\"size\": 12, \"distance\": \"" + d.json + "\"}, \"b\": {\"size\": 6, \"distance\": \""
        + m.dist.get("b").json + "\"}}}");
    Random r = new Random(42 + d.ordinal());
    List<ObjectNode> writes = new ArrayList<>();
    List<Pt> withA = new ArrayList<>();
    for (int i = 0; i < POINTS; i++) {
      JsonNode id = i % 7 == 3 ? F.textNode(new UUID(r.nextLong(), r.nextLong()).toString()) : F.numberNode(i + 1L);
      Pt p = new Pt(id);
      ObjectNode vectors = F.objectNode();
      for (String name : List.of("a", "b")) {
        boolean zero = name.equals("a") && i == 5;
        if (r.nextDouble() < (name.equals("a") ? 0.9 : 0.6) || zero) {
          float[] raw = gaussian(r, m.dim.get(name), 0.2 + r.nextDouble() * 2.8);
          if (zero) {
            raw = new float[12];
          } else if (name.equals("a") && i % 60 == 59 && !withA.isEmpty()) {
            raw = withA.get(r.nextInt(withA.size())).dense.get("a").clone(); // a tie
          }
          vectors.set(name, array(raw));
          p.dense.put(name, m.dist.get(name).prepare(raw));
        }
      }
      if (p.dense.containsKey("a")) {
        withA.add(p);
      }
      p.payload = F.objectNode().put("g", i % 10);
      m.points.put(p.key(), p);
      ObjectNode w = F.objectNode();
      w.set("id", id);
      w.set("vector", vectors);
      w.set("payload", p.payload);
      writes.add(w);
    }
    upsert(m.name, writes);
    System.out.printf("%s: %d points written in %d ms%n", m.name, POINTS, (System.nanoTime() - start) / 1_000_000);
    DENSE.put(d, m);
    return m;
  }

  @Test
  void denseSearchMatchesTheOracle() throws Exception {
    for (Dist d : Dist.values()) {
      DenseModel m = dense(d);
      Random r = new Random(100 + d.ordinal());
      double recall = 0;
      int searches = 0;
      for (int n = 0; n < 40; n++) {
        String using = n % 4 == 3 ? "b" : "a";
        Dist dist = m.dist.get(using);
        float[] q = m.query(r, using);
        List<Scored> ranking = m.rank(using, q, p -> true);
        int limit = 1 + r.nextInt(n % 5 == 0 ? 200 : 30);
        int offset = n % 3 == 0 ? r.nextInt(25) : 0;
        String what = m.name + " query " + n + " on " + using + " (" + dist + ")";

        ObjectNode exact = searchBody(using, q, limit, offset, true);
        checkExact(what + " exact " + exact, ranking, search(m.name, exact), offset, limit);

        ObjectNode approx = searchBody(using, q, limit, 0, false);
        if (n % 2 == 1) {
          approx.putObject("params").put("hnsw_ef", limit + r.nextInt(16)); // a narrow beam: really approximate
        }
        recall += checkApprox(what + " approximate " + approx, ranking, search(m.name, approx), limit, dist.higherIsBetter());
        searches++;

        double[] t = midThreshold(ranking, r);
        if (t != null) {
          List<Scored> passing = ranking.subList(0, (int) t[1]);
          assertTrue(dist.passes(passing.getLast().score(), t[0]) && !dist.passes(ranking.get(passing.size()).score(), t[0]));
          ObjectNode thresholded = searchBody(using, q, limit, offset, true).put("score_threshold", t[0]);
          checkExact(what + " exact " + thresholded, passing, search(m.name, thresholded), offset, limit);
          ObjectNode approxThresholded = searchBody(using, q, limit, 0, false).put("score_threshold", t[0]);
          recall += checkApprox(what + " approximate " + approxThresholded, passing, search(m.name, approxThresholded), limit,
              dist.higherIsBetter());
          searches++;
        }
      }
      System.out.printf("%s: mean recall of approximate search %.4f over %d searches%n", m.name, recall / searches, searches);
      assertTrue(recall / searches >= 0.9, m.name + ": mean recall " + recall / searches);

      // a threshold equal to a score: Qdrant keeps only strictly better scores
      for (int n = 0; n < 6; n++) {
        String using = n % 2 == 0 ? "a" : "b";
        checkThresholdAtAScore("/collections/" + m.name + "/points/search", searchBody(using, m.query(r, using), 10, 0, n % 3 != 2),
            m.dist.get(using).higherIsBetter(), r);
      }

      // a zero query vector: every point scores 0 for cosine and dot (all tied), its norm for the distances
      for (boolean exact : List.of(true, false)) {
        float[] zero = new float[12];
        ObjectNode body = searchBody("a", zero, 15, 0, exact);
        List<Scored> ranking = m.rank("a", zero, p -> true);
        JsonNode result = search(m.name, body);
        if (exact) {
          checkExact(m.name + " " + body, ranking, result, 0, 15);
        } else {
          assertEquals(1.0, checkApprox(m.name + " " + body, ranking, result, 15, d.higherIsBetter()), 0.1, () -> body + " -> " + result);
        }
      }

      // payloads and stored vectors come with the results; a batch answers like its searches one by one
      float[] some = m.query(r, "a");
      ObjectNode full = searchBody("a", some, 5, 0, true).put("with_payload", true);
      full.putArray("with_vector").add("a");
      for (JsonNode p : search(m.name, full)) {
        Pt pt = m.points.get(p.get("id").asText());
        assertEquals(pt.payload, p.get("payload"), () -> full + " -> " + p);
        float[] stored = pt.dense.get("a");
        JsonNode got = p.at("/vector/a");
        assertEquals(stored.length, got.size(), () -> full + " -> " + p);
        for (int i = 0; i < stored.length; i++) {
          assertTrue(close(stored[i], got.get(i).asDouble()), () -> "stored vector (normalised for cosine): " + full + " -> " + p);
        }
        assertTrue(p.get("vector").size() == 1, () -> "only vector a: " + p);
      }
      ObjectNode batch = F.objectNode();
      ArrayNode searchesInBatch = batch.putArray("searches");
      List<ObjectNode> singles = new ArrayList<>();
      for (int n = 0; n < 3; n++) {
        String using = n == 1 ? "b" : "a";
        ObjectNode one = searchBody(using, m.query(r, using), 1 + r.nextInt(10), n == 2 ? 0 : n, n != 2);
        searchesInBatch.add(one);
        singles.add(one);
      }
      JsonNode batched = ok("POST", "/collections/" + m.name + "/points/search/batch", batch);
      assertEquals(3, batched.size());
      for (int n = 0; n < 3; n++) {
        ObjectNode one = singles.get(n);
        float[] q = new float[one.at("/vector/vector").size()];
        for (int i = 0; i < q.length; i++) {
          q[i] = (float) one.at("/vector/vector").get(i).asDouble();
        }
        String using = one.at("/vector/name").asText();
        List<Scored> ranking = m.rank(using, q, p -> true);
        if (n != 2) {
          checkExact(m.name + " batch " + batch, ranking, batched.get(n), n, one.get("limit").asInt());
        } else {
          checkApprox(m.name + " batch " + batch, ranking, batched.get(n), one.get("limit").asInt(), m.dist.get(using).higherIsBetter());
        }
      }

      // the universal query API finds the same
      for (int n = 0; n < 6; n++) {
        String using = n % 2 == 0 ? "a" : "b";
        float[] q = m.query(r, using);
        int limit = 1 + r.nextInt(20);
        ObjectNode body = F.objectNode();
        body.set("query", array(q));
        body.put("using", using).put("limit", limit).putObject("params").put("exact", true);
        JsonNode result = ok("POST", "/collections/" + m.name + "/points/query", body).get("points");
        checkExact(m.name + " query API " + body, m.rank(using, q, p -> true), result, 0, limit);
      }
    }
  }

  // ---- recommendation ----

  @Test
  void recommendationMatchesTheOracle() throws Exception {
    for (Dist d : Dist.values()) {
      DenseModel m = dense(d);
      Random r = new Random(200 + d.ordinal());
      List<Pt> withA = m.points.values().stream().filter(p -> p.dense.containsKey("a")).toList();
      double recall = 0;
      int searches = 0;
      for (String strategy : List.of("average_vector", "best_score", "sum_scores")) {
        for (int n = 0; n < 16; n++) {
          int positives = strategy.equals("average_vector") || r.nextInt(6) > 0 ? 1 + r.nextInt(3) : 0;
          int negatives = positives == 0 ? 1 + r.nextInt(2) : r.nextInt(3);
          List<Example> examples = new ArrayList<>();
          Set<String> exampleKeys = new HashSet<>();
          while (examples.size() < positives + negatives) {
            if (r.nextInt(4) == 0) {
              examples.add(new Example(null, gaussian(r, 12, 0.2 + r.nextDouble() * 3))); // a vector, not an id
            } else {
              Pt p = withA.get(r.nextInt(withA.size()));
              if (exampleKeys.add(p.key())) {
                examples.add(new Example(p, null));
              }
            }
          }
          boolean averaging = strategy.equals("average_vector");
          List<float[]> pos = examples.subList(0, positives).stream().map(e -> e.vector(d, averaging)).toList();
          List<float[]> neg = examples.subList(positives, examples.size()).stream().map(e -> e.vector(d, averaging)).toList();
          int below = r.nextInt(3) == 0 ? 1 + r.nextInt(9) : 10;
          Predicate<Pt> candidate = p -> !exampleKeys.contains(p.key()) && p.payload.get("g").asInt() < below;

          List<Scored> ranking;
          boolean higherIsBetter;
          if (strategy.equals("average_vector")) {
            float[] avg = average(pos);
            if (!neg.isEmpty()) {
              float[] avgNeg = average(neg);
              for (int i = 0; i < avg.length; i++) {
                avg[i] = avg[i] + avg[i] - avgNeg[i];
              }
            }
            ranking = m.rank("a", avg, candidate);
            higherIsBetter = d.higherIsBetter();
          } else {
            boolean best = strategy.equals("best_score");
            ranking = rank(m.points.values(), p -> {
              if (!p.dense.containsKey("a") || !candidate.test(p)) {
                return Double.NaN;
              }
              float[] v = p.dense.get("a");
              return best ? bestScore(d, pos, neg, v) : sumScores(d, pos, neg, v);
            }, true);
            higherIsBetter = true;
          }

          int limit = 1 + r.nextInt(30);
          int offset = n % 4 == 0 ? r.nextInt(10) : 0;
          ObjectNode body = F.objectNode();
          ArrayNode p = body.putArray("positive");
          examples.subList(0, positives).forEach(e -> p.add(e.json()));
          ArrayNode ng = body.putArray("negative");
          examples.subList(positives, examples.size()).forEach(e -> ng.add(e.json()));
          body.put("strategy", strategy).put("using", "a").put("limit", limit);
          if (offset > 0) {
            body.put("offset", offset);
          }
          if (below < 10) {
            body.set("filter", Json.MAPPER.readTree("{\"must\": [{\"key\": \"g\", \"range\": {\"lt\": " + below + "}}]}"));
          }
          String what = m.name + " recommend " + strategy + " " + n;
          ObjectNode exact = body.deepCopy();
          exact.putObject("params").put("exact", true);
          checkExact(what + " " + exact, ranking, ok("POST", "/collections/" + m.name + "/points/recommend", exact), offset, limit);
          if (strategy.equals("average_vector")) {
            ObjectNode approx = body.deepCopy();
            approx.remove("offset");
            recall += checkApprox(what + " approximate " + approx, ranking,
                ok("POST", "/collections/" + m.name + "/points/recommend", approx), limit, higherIsBetter);
            searches++;
          }
          // Qdrant checks the threshold of every strategy with the distance's order; for best_score and
          // sum_scores over a distance that order is the reverse of theirs (a Qdrant quirk): not tested
          double[] t = midThreshold(ranking, r);
          if (strategy.equals("average_vector") || d.higherIsBetter()) {
            checkThresholdAtAScore("/collections/" + m.name + "/points/recommend", exact, higherIsBetter, r);
          }
          if (t != null && (strategy.equals("average_vector") || d.higherIsBetter())) {
            List<Scored> passing = ranking.subList(0, (int) t[1]);
            ObjectNode thresholded = exact.deepCopy().put("score_threshold", t[0]);
            checkExact(what + " " + thresholded, passing, ok("POST", "/collections/" + m.name + "/points/recommend", thresholded),
                offset, limit);
          }
        }
      }
      assertTrue(recall / searches >= 0.9, m.name + ": mean recall of average_vector recommendations " + recall / searches);
    }
  }

  /** A recommendation example: a point (by id) or a vector. */
  record Example(Pt point, float[] raw) {
    /**
     * As Qdrant uses it: average_vector averages the vectors as given (a point's stored vector, an
     * example vector unnormalised), the scoring strategies preprocess example vectors (normalise
     * them for cosine).
     */
    float[] vector(Dist d, boolean averaging) {
      return raw == null ? point.dense.get("a") : averaging ? raw : d.prepare(raw);
    }

    JsonNode json() {
      return raw == null ? point.id : array(raw);
    }
  }

  static float[] average(List<float[]> vs) {
    float[] out = new float[vs.get(0).length];
    for (float[] v : vs) {
      for (int i = 0; i < out.length; i++) {
        out[i] += v[i];
      }
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= vs.size();
    }
    return out;
  }

  static double scaledSigmoid(double x) {
    return 0.5 * (x / (1 + Math.abs(x)) + 1);
  }

  /** Qdrant's RecoBestScoreQuery::score_by. */
  static double bestScore(Dist d, List<float[]> pos, List<float[]> neg, float[] v) {
    double maxPos = Double.NEGATIVE_INFINITY;
    for (float[] p : pos) {
      maxPos = Math.max(maxPos, d.similarity(p, v));
    }
    double maxNeg = Double.NEGATIVE_INFINITY;
    for (float[] n : neg) {
      maxNeg = Math.max(maxNeg, d.similarity(n, v));
    }
    return maxPos > maxNeg ? scaledSigmoid(maxPos) : -scaledSigmoid(maxNeg);
  }

  /** Qdrant's RecoSumScoresQuery::score_by. */
  static double sumScores(Dist d, List<float[]> pos, List<float[]> neg, float[] v) {
    double s = 0;
    for (float[] p : pos) {
      s += d.similarity(p, v);
    }
    for (float[] n : neg) {
      s -= d.similarity(n, v);
    }
    return s;
  }

  // ---- filtered search ----

  static final int FILTERS = 100;

  @Test
  void filteredSearchMatchesTheOracle() throws Exception {
    String name = "filtered";
    recreate(name, "{\"vectors\": {\"size\": 8, \"distance\": \"Dot\"}, \"sparse_vectors\": {\"img\": {}}}");
    Random r = new Random(20240601);
    RandomFilters gen = new RandomFilters(new Random(20240602));
    Map<String, Pt> points = new LinkedHashMap<>();
    Map<String, PointId> ids = new HashMap<>();
    Map<String, Set<String>> vectorNames = new HashMap<>();
    List<ObjectNode> writes = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      RandomFilters.RandomPoint rp = gen.point(i);
      Pt p = new Pt(rp.id().toJson());
      ObjectNode vectors = F.objectNode();
      if (rp.vectors().contains("")) {
        float[] v = gaussian(r, 8, 1);
        vectors.set("", array(v));
        p.dense.put("", v);
      }
      if (rp.vectors().contains("img")) {
        p.sparse = randomSparse(r, 6, 40);
        vectors.set("img", sparseJson(p.sparse));
      }
      String body = Json.MAPPER.writeValueAsString(rp.payload());
      p.payload = Json.MAPPER.readTree(body); // as the server reads it
      points.put(p.key(), p);
      ids.put(p.key(), rp.id());
      vectorNames.put(p.key(), rp.vectors());
      ObjectNode w = F.objectNode();
      w.set("id", p.id);
      w.set("vector", vectors);
      w.set("payload", rp.payload());
      writes.add(w);
    }
    upsert(name, writes);

    List<RandomFilters.IndexRequest> current = List.of();
    List<List<RandomFilters.IndexRequest>> sets = new ArrayList<>();
    sets.add(List.of());
    sets.addAll(RandomFilters.INDEX_SETS);
    double recall = 0;
    int searches = 0;
    for (List<RandomFilters.IndexRequest> indexes : sets) {
      for (RandomFilters.IndexRequest old : current) {
        ok("DELETE", "/collections/" + name + "/index/" + URLEncoder.encode(old.field(), StandardCharsets.UTF_8) + "?wait=true", null);
      }
      for (RandomFilters.IndexRequest index : indexes) {
        ok("PUT", "/collections/" + name + "/index?wait=true", index.body());
      }
      current = indexes;
      PayloadSchema schema = RandomFilters.schemaOf(indexes);
      int none = 0;
      int all = 0;
      for (int n = 0; n < FILTERS; n++) {
        Filter filter = gen.filter();
        ObjectNode filterJson = RandomFilters.toJson(filter);
        Filter parsed = RandomFilters.parse(filterJson);
        // the JSON means the generated filter (`any: []` of integers comes back as an empty keyword list, the same)
        assertEquals(filterJson, RandomFilters.toJson(parsed), () -> "the filter JSON does not round-trip: " + filter);
        Predicate<Pt> matches = p -> FilterMatcher.matches(parsed, ids.get(p.key()), p.payload, vectorNames.get(p.key()), schema);
        Map<String, Boolean> matched = new HashMap<>();
        points.values().forEach(p -> matched.put(p.key(), matches.test(p)));
        long count = matched.values().stream().filter(b -> b).count();
        none += count == 0 ? 1 : 0;
        all += count == points.size() ? 1 : 0;

        float[] q = gaussian(r, 8, 1);
        List<Scored> ranking = rank(points.values(),
            p -> p.dense.containsKey("") && matched.get(p.key()) ? Dist.DOT.score(q, p.dense.get("")) : Double.NaN, true);
        int limit = 1 + r.nextInt(40);
        String what = name + " with indexes " + indexes + ", filter " + n;
        ObjectNode exact = searchBody("", q, limit, 0, true);
        exact.set("filter", filterJson);
        checkExact(what + " exact " + exact, ranking, search(name, exact), 0, limit);
        ObjectNode approx = searchBody("", q, limit, 0, false);
        approx.set("filter", filterJson);
        double rec = checkApprox(what + " approximate " + approx, ranking, search(name, approx), limit, true);
        if (!ranking.isEmpty()) {
          recall += rec;
          searches++;
        }
        if (n % 3 == 0) {
          Map<Long, Float> sq = randomSparse(r, 4, 40);
          List<Scored> sparseRanking = rank(points.values(),
              p -> p.sparse != null && matched.get(p.key()) ? sparseScore(sq, p.sparse, Map.of()) : Double.NaN, true);
          ObjectNode sparse = sparseBody("img", sq, limit);
          sparse.set("filter", filterJson);
          checkExact(what + " sparse " + sparse, sparseRanking, search(name, sparse), 0, limit);
        }
      }
      System.out.printf("%s, indexes %s: %d filters match nothing, %d everything%n", name, indexes, none, all);
      assertTrue(FILTERS - none - all > FILTERS / 4, "too few filters select some but not all points");
    }
    System.out.printf("%s: mean recall of filtered approximate search %.4f over %d searches%n", name, recall / searches, searches);
    assertTrue(recall / searches >= 0.9, "mean recall of filtered approximate search " + recall / searches);
  }

  // ---- sparse vectors ----

  /** Indices skewed to small ones, with now and then one beyond 2^31. */
  static Map<Long, Float> randomSparse(Random r, int maxNonZero, int vocabulary) {
    Map<Long, Float> v = new TreeMap<>();
    int n = 1 + r.nextInt(maxNonZero);
    while (v.size() < n) {
      long index;
      if (r.nextInt(40) == 0) {
        long[] far = {2147483647L, 2147483648L, 4294967295L, 1_000_000L};
        index = far[r.nextInt(far.length)];
      } else {
        double u = r.nextDouble();
        index = (long) (vocabulary * u * u);
      }
      float x = 0;
      while (x == 0) {
        x = (float) (r.nextGaussian() * 2);
      }
      v.put(index, x);
    }
    return v;
  }

  /** Dot product over shared indices, the query weighted by {@code weights} (idf); NaN without a shared index. */
  static double sparseScore(Map<Long, Float> q, Map<Long, Float> v, Map<Long, Double> weights) {
    double s = 0;
    boolean shared = false;
    for (var e : q.entrySet()) {
      Float x = v.get(e.getKey());
      if (x != null) {
        shared = true;
        s += e.getValue() * weights.getOrDefault(e.getKey(), 1.0) * x;
      }
    }
    return shared ? s : Double.NaN;
  }

  static ObjectNode sparseBody(String using, Map<Long, Float> q, int limit) {
    ObjectNode b = F.objectNode();
    b.putObject("vector").put("name", using).set("vector", sparseJson(q));
    b.put("limit", limit);
    return b;
  }

  /** Qdrant's idf of each query index over the points that have the sparse vector. */
  static Map<Long, Double> idf(Map<Long, Float> q, Collection<Pt> points) {
    long n = points.stream().filter(p -> p.sparse != null).count();
    Map<Long, Double> out = new HashMap<>();
    for (long index : q.keySet()) {
      long df = points.stream().filter(p -> p.sparse != null && p.sparse.containsKey(index)).count();
      out.put(index, Math.log((n - df + 0.5) / (df + 0.5) + 1));
    }
    return out;
  }

  @Test
  void sparseSearchMatchesTheOracle() throws Exception {
    for (boolean withIdf : List.of(false, true)) {
      String name = withIdf ? "sparse_idf" : "sparse";
      recreate(name, "{\"sparse_vectors\": {\"text\": " + (withIdf ? "{\"modifier\": \"idf\"}" : "{}") + "}}");
      Random r = new Random(withIdf ? 301 : 300);
      Map<String, Pt> points = new LinkedHashMap<>();
      List<ObjectNode> writes = new ArrayList<>();
      for (int i = 0; i < 800; i++) {
        Pt p = new Pt(F.numberNode(i + 1L));
        writes.add(sparsePoint(r, p));
        points.put(p.key(), p);
      }
      upsert(name, writes);
      check(name, points, r, withIdf, 30);

      // new sparse vectors for some points, none for others, and some points deleted
      List<Pt> all = new ArrayList<>(points.values());
      List<ObjectNode> updates = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        updates.add(sparsePoint(r, all.get(r.nextInt(all.size()))));
      }
      upsert(name, updates);
      ArrayNode deleted = F.arrayNode();
      for (int i = 0; i < 40; i++) {
        Pt p = all.get(r.nextInt(all.size()));
        deleted.add(p.id);
        points.remove(p.key());
      }
      ObjectNode delete = F.objectNode();
      delete.set("points", deleted);
      ok("POST", "/collections/" + name + "/points/delete?wait=true", delete);
      check(name, points, r, withIdf, 30);
    }
  }

  private static ObjectNode sparsePoint(Random r, Pt p) {
    ObjectNode vectors = F.objectNode();
    p.sparse = null;
    if (r.nextDouble() < 0.88) {
      p.sparse = randomSparse(r, 10, 300);
      vectors.set("text", sparseJson(p.sparse));
    }
    p.payload = F.objectNode().put("grp", r.nextInt(4));
    ObjectNode w = F.objectNode();
    w.set("id", p.id);
    w.set("vector", vectors);
    w.set("payload", p.payload);
    return w;
  }

  private static void check(String name, Map<String, Pt> points, Random r, boolean withIdf, int queries) throws Exception {
    for (int n = 0; n < queries; n++) {
      Map<Long, Float> q = randomSparse(r, 6, 300);
      if (r.nextInt(10) == 0) {
        q.put(5000L + r.nextInt(100), 1f); // an index no point has
      }
      Map<Long, Double> weights = withIdf ? idf(q, points.values()) : Map.of();
      int group = r.nextInt(3) == 0 ? r.nextInt(4) : -1;
      List<Scored> ranking = rank(points.values(), p -> p.sparse != null && (group < 0 || p.payload.get("grp").asInt() == group)
          ? sparseScore(q, p.sparse, weights) : Double.NaN, true);
      int limit = 1 + r.nextInt(n % 5 == 0 ? 400 : 30);
      int offset = n % 3 == 0 ? r.nextInt(20) : 0;
      ObjectNode body = sparseBody("text", q, limit);
      if (offset > 0) {
        body.put("offset", offset);
      }
      if (group >= 0) {
        body.set("filter", Json.MAPPER.readTree("{\"must\": {\"key\": \"grp\", \"match\": {\"value\": " + group + "}}}"));
      }
      checkExact(name + " query " + n + " " + body, ranking, search(name, body), offset, limit);
      double[] t = midThreshold(ranking, r);
      if (t != null) {
        ObjectNode thresholded = body.deepCopy().put("score_threshold", t[0]);
        checkExact(name + " query " + n + " " + thresholded, ranking.subList(0, (int) t[1]), search(name, thresholded), offset, limit);
      }
      if (n % 3 == 1) {
        checkThresholdAtAScore("/collections/" + name + "/points/search", body, true, r);
      }
    }
  }

  // ---- edge cases ----

  @Test
  void emptyCollectionAnswersNothing() throws Exception {
    recreate("empty", "{\"vectors\": {\"size\": 4, \"distance\": \"Cosine\"}, \"sparse_vectors\": {\"s\": {\"modifier\": \"idf\"}}}");
    float[] q = {1, 2, 3, 4};
    for (boolean exact : List.of(true, false)) {
      assertEquals(0, search("empty", searchBody("", q, 10, 0, exact)).size());
      ObjectNode filtered = searchBody("", q, 10, 3, exact).put("score_threshold", -5);
      filtered.set("filter", Json.MAPPER.readTree("{\"must\": {\"key\": \"x\", \"match\": {\"value\": 1}}}"));
      assertEquals(0, search("empty", filtered).size());
    }
    assertEquals(0, search("empty", sparseBody("s", Map.of(1L, 1f, 7L, 2f), 10)).size());
    ObjectNode query = F.objectNode();
    query.set("query", array(q));
    assertEquals(0, ok("POST", "/collections/empty/points/query", query).get("points").size());
  }

  @Test
  void deletesUpdatesAndLimitsAreFollowed() throws Exception {
    String name = "edge";
    recreate(name, "{\"vectors\": {\"size\": 8, \"distance\": \"Euclid\"}}");
    Random r = new Random(500);
    Map<String, Pt> points = new LinkedHashMap<>();
    List<ObjectNode> writes = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      writes.add(densePoint(r, new Pt(F.numberNode(i + 1L)), i % 5, points));
    }
    upsert(name, writes);
    checkEdge(name, points, r, "after insert");
    List<String> keys = new ArrayList<>(points.keySet());

    // deleted by id
    ArrayNode ids = F.arrayNode();
    Set<String> gone = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      String key = keys.get(r.nextInt(keys.size()));
      if (gone.add(key)) {
        ids.add(points.remove(key).id);
      }
    }
    ObjectNode delete = F.objectNode();
    delete.set("points", ids);
    ok("POST", "/collections/" + name + "/points/delete?wait=true", delete);
    checkEdge(name, points, r, "after deletes by id");

    // deleted by filter
    ok("POST", "/collections/" + name + "/points/delete?wait=true",
        Json.MAPPER.readTree("{\"filter\": {\"must\": [{\"key\": \"g\", \"match\": {\"value\": 3}}]}}"));
    points.values().removeIf(p -> p.payload.get("g").asInt() == 3);
    checkEdge(name, points, r, "after deletes by filter");

    // new vectors: upserted again, and through the vectors endpoint
    List<Pt> live = new ArrayList<>(points.values());
    List<ObjectNode> again = new ArrayList<>();
    List<Pt> moved = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Pt p = live.get(r.nextInt(live.size()));
      again.add(densePoint(r, p, 7, points));
      moved.add(p);
    }
    upsert(name, again);
    ObjectNode update = F.objectNode();
    ArrayNode updates = update.putArray("points");
    for (int i = 0; i < 20; i++) {
      Pt p = live.get(r.nextInt(live.size()));
      float[] v = gaussian(r, 8, 1);
      p.dense.put("", v);
      updates.addObject().setAll(Map.of("id", p.id, "vector", array(v)));
      moved.add(p);
    }
    ok("PUT", "/collections/" + name + "/points/vectors?wait=true", update);
    checkEdge(name, points, r, "after updates");
    for (Pt p : moved.subList(0, 10)) {
      JsonNode top = search(name, searchBody("", p.dense.get(""), 1, 0, true));
      assertEquals(0.0, top.get(0).get("score").asDouble(), 1e-6, () -> "the new vector of " + p.key() + " is searched: " + top);
    }

    // vectors deleted: the points stay, out of reach of search
    ObjectNode deleteVectors = F.objectNode();
    ArrayNode without = deleteVectors.putArray("points");
    for (int i = 0; i < 20; i++) {
      Pt p = live.get(r.nextInt(live.size()));
      if (p.dense.remove("") != null) {
        without.add(p.id);
      }
    }
    deleteVectors.putArray("vector").add("");
    ok("POST", "/collections/" + name + "/points/vectors/delete?wait=true", deleteVectors);
    checkEdge(name, points, r, "after vector deletes");

    // some deleted points come back
    List<ObjectNode> back = new ArrayList<>();
    for (String key : new ArrayList<>(gone).subList(0, 10)) {
      back.add(densePoint(r, new Pt(F.numberNode(Long.parseLong(key))), 1, points));
    }
    upsert(name, back);
    checkEdge(name, points, r, "after re-inserts");

    // filters that match nothing, filters on ids (deleted ones among them)
    float[] q = gaussian(r, 8, 1);
    for (String f : List.of("{\"must\": [{\"key\": \"g\", \"match\": {\"value\": 99}}]}",
        "{\"must\": [{\"key\": \"g\", \"match\": {\"value\": 3}}]}",
        "{\"must\": [{\"has_id\": []}]}")) {
      for (boolean exact : List.of(true, false)) {
        ObjectNode body = searchBody("", q, 10, 0, exact);
        body.set("filter", Json.MAPPER.readTree(f));
        JsonNode result = search(name, body);
        assertEquals(0, result.size(), () -> body + " -> " + result);
      }
    }
    List<String> chosen = new ArrayList<>(keys.subList(0, 40));
    ArrayNode chosenIds = F.arrayNode();
    chosen.forEach(k -> chosenIds.add(Long.parseLong(k)));
    for (boolean exact : List.of(true, false)) {
      ObjectNode byIds = searchBody("", q, 100, 0, exact);
      byIds.set("filter", F.objectNode().set("must", F.arrayNode().add(F.objectNode().set("has_id", chosenIds))));
      List<Scored> ranking = rank(points.values(),
          p -> chosen.contains(p.key()) && p.dense.containsKey("") ? Dist.EUCLID.score(q, p.dense.get("")) : Double.NaN, false);
      checkExact(name + " " + byIds, ranking, search(name, byIds), 0, 100);
    }
  }

  private static ObjectNode densePoint(Random r, Pt p, int group, Map<String, Pt> points) {
    float[] v = gaussian(r, 8, 1);
    p.dense.put("", v);
    p.payload = F.objectNode().put("g", group);
    points.put(p.key(), p);
    ObjectNode w = F.objectNode();
    w.set("id", p.id);
    w.set("vector", array(v));
    w.set("payload", p.payload);
    return w;
  }

  /** Every point by a limit beyond the collection, a page past its end, and a few top-k searches. */
  private static void checkEdge(String name, Map<String, Pt> points, Random r, String when) throws Exception {
    for (int n = 0; n < 8; n++) {
      float[] q = gaussian(r, 8, 1);
      List<Scored> ranking = rank(points.values(),
          p -> p.dense.containsKey("") ? Dist.EUCLID.score(q, p.dense.get("")) : Double.NaN, false);
      int limit = n < 2 ? 10_000 : 1 + r.nextInt(20);
      String what = name + " " + when + ", query " + n;
      checkExact(what + " exact, limit " + limit, ranking, search(name, searchBody("", q, limit, 0, true)), 0, limit);
      double recall = checkApprox(what + " approximate, limit " + limit, ranking, search(name, searchBody("", q, limit, 0, false)),
          limit, false);
      assertTrue(recall >= (n < 2 ? 1.0 : 0.7), what + ": recall " + recall + " of approximate search, limit " + limit);
    }
    assertEquals(0, search(name, searchBody("", gaussian(r, 8, 1), 10, points.size() + 1, true)).size());
    assertEquals(0, search(name, searchBody("", gaussian(r, 8, 1), 10, points.size() + 1, false)).size());
  }
}
