package io.quiver.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The universal query API ({@code /points/query}, {@code /query/batch}, {@code /query/groups}):
 * every query kind, prefetch, fusion, formulas and the error cases, each checked against an oracle
 * computed here from the points the test wrote (random data, fixed seed, some deletions).
 */
@Timeout(120)
class QueryApiTest {
  static final ObjectMapper M = new ObjectMapper();
  static final int N = 300;
  static final String[] COLORS = {"red", "green", "blue", "black", "white"};

  @TempDir static Path dir;
  static TestNode node;
  /** Live points: id -> dense vector "d" (Dot, 4), "e" (Euclid, 3), payload. */
  static final Map<Integer, float[]> d = new TreeMap<>();
  static final Map<Integer, float[]> e = new TreeMap<>();
  static final Map<Integer, ObjectNode> payloads = new TreeMap<>();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    ok(node.send("PUT", "/collections/q", "{\"vectors\": {\"d\": {\"size\": 4, \"distance\": \"Dot\"}, "
        + "\"e\": {\"size\": 3, \"distance\": \"Euclid\"}}, \"sparse_vectors\": {\"s\": {}}}"));
    for (String index : List.of("{\"field_name\": \"price\", \"field_schema\": \"float\"}",
        "{\"field_name\": \"color\", \"field_schema\": \"keyword\"}")) {
      ok(node.send("PUT", "/collections/q/index?wait=true", index));
    }
    Random r = new Random(7);
    ArrayNode points = M.createArrayNode();
    for (int id = 0; id < N; id++) {
      float[] dv = new float[4];
      for (int i = 0; i < dv.length; i++) {
        dv[i] = r.nextFloat() * 2 - 1;
      }
      float[] ev = new float[3];
      for (int i = 0; i < ev.length; i++) {
        ev[i] = r.nextFloat() * 10;
      }
      ObjectNode p = M.createObjectNode();
      if (r.nextInt(5) > 0) {
        p.put("price", r.nextInt(100) / 4.0);
      }
      p.put("n", r.nextInt(21));
      p.put("color", COLORS[r.nextInt(COLORS.length)]);
      p.putObject("loc").put("lon", r.nextDouble() * 20 - 10).put("lat", r.nextDouble() * 20 - 10);
      d.put(id, dv);
      e.put(id, ev);
      payloads.put(id, p);
      ObjectNode point = points.addObject();
      point.put("id", id);
      ObjectNode vector = point.putObject("vector");
      vector.set("d", floats(dv));
      vector.set("e", floats(ev));
      if (id % 3 != 0) {
        vector.putObject("s").set("indices", M.createArrayNode().add(id % 7).add(10 + id % 5));
        ((ObjectNode) vector.get("s")).set("values", M.createArrayNode().add(1 + id % 4).add(0.5));
      }
      point.set("payload", p);
    }
    ok(node.send("PUT", "/collections/q/points?wait=true", M.createObjectNode().set("points", points).toString()));
    ArrayNode gone = M.createArrayNode();
    for (int id = 5; id < N; id += 25) {
      gone.add(id);
      d.remove(id);
      e.remove(id);
      payloads.remove(id);
    }
    ok(node.send("POST", "/collections/q/points/delete?wait=true", M.createObjectNode().set("points", gone).toString()));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- helpers ----

  static ArrayNode floats(float[] v) {
    ArrayNode a = M.createArrayNode();
    for (float f : v) {
      a.add(f);
    }
    return a;
  }

  static JsonNode ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
    return r.result();
  }

  static JsonNode query(String body) throws Exception {
    return ok(node.send("POST", "/collections/q/points/query", body)).get("points");
  }

  static TestNode.Response fail(String body) throws Exception {
    return node.send("POST", "/collections/q/points/query", body);
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static double dist(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return Math.sqrt(s);
  }

  static double sigmoid(double x) {
    return 0.5 * (x / (1 + Math.abs(x)) + 1);
  }

  record Scored(int id, double score) {}

  /** Live points passing {@code filter}, scored, best (highest) first, ties by id. */
  static List<Scored> rank(ToDoubleFunction<Integer> score, Predicate<Integer> filter) {
    List<Scored> out = new ArrayList<>();
    for (int id : payloads.keySet()) {
      if (filter.test(id)) {
        out.add(new Scored(id, score.applyAsDouble(id)));
      }
    }
    out.sort(Comparator.comparingDouble(Scored::score).reversed().thenComparingInt(Scored::id));
    return out;
  }

  static List<Scored> top(List<Scored> all, int n) {
    return all.subList(0, Math.min(n, all.size()));
  }

  /** Same scores position by position; ids equal unless two scores tie within the tolerance. */
  static void assertRanking(List<Scored> want, JsonNode got, String what) {
    assertTop(want, want.size(), got, what);
  }

  /** The first {@code n} of {@code all}, as {@link #assertRanking}; a tie at the cut may bring in any of the tied. */
  static void assertTop(List<Scored> all, int n, JsonNode got, String what) {
    List<Scored> want = top(all, n);
    assertEquals(want.size(), got.size(), what + ": " + got);
    Map<Integer, Double> byId = new HashMap<>();
    all.forEach(s -> byId.put(s.id(), s.score()));
    for (int i = 0; i < want.size(); i++) {
      double score = got.get(i).get("score").asDouble();
      assertEquals(want.get(i).score(), score, 1e-4, what + " score at " + i);
      int id = got.get(i).get("id").asInt();
      if (id != want.get(i).id()) {
        assertTrue(byId.containsKey(id) && Math.abs(byId.get(id) - score) < 1e-4, what + ": unexpected id " + id + " at " + i);
      }
    }
  }

  static String vec(float[] v) {
    return floats(v).toString();
  }

  static final float[] A = {0.3f, -0.7f, 0.5f, 0.1f};
  static final float[] B = {-0.2f, 0.4f, 0.9f, -0.6f};

  static boolean is(int id, String color) {
    return payloads.get(id).get("color").asText().equals(color);
  }

  // ---- nearest ----

  @Test
  void nearestByVectorIdAndSparse() throws Exception {
    var want = top(rank(id -> dot(A, d.get(id)), id -> true), 10);
    assertRanking(want, query("{\"query\": " + vec(A) + ", \"using\": \"d\"}"), "plain vector");
    assertRanking(want, query("{\"query\": {\"nearest\": " + vec(A) + "}, \"using\": \"d\", \"params\": {\"exact\": true}}"), "nearest");
    var red = top(rank(id -> dot(A, d.get(id)), id -> is(id, "red")), 7);
    assertRanking(red, query("{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 7, "
        + "\"filter\": {\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}}"), "filtered");
    // euclid: distances, smallest first
    float[] q = {5, 5, 5};
    var euclid = top(rank(id -> -dist(q, e.get(id)), id -> true), 5);
    JsonNode got = query("{\"query\": [5, 5, 5], \"using\": \"e\", \"limit\": 5}");
    assertRanking(euclid.stream().map(s -> new Scored(s.id(), -s.score())).toList(), got, "euclid");
    // by id: the point's own vector, the point excluded
    var byId = top(rank(id -> dot(d.get(12), d.get(id)), id -> id != 12), 10);
    assertRanking(byId, query("{\"query\": 12, \"using\": \"d\"}"), "by id");
    // sparse: dot over shared indices, only points sharing one
    JsonNode sparse = query("{\"query\": {\"indices\": [3], \"values\": [2.0]}, \"using\": \"s\", \"limit\": 100}");
    for (JsonNode p : sparse) {
      int id = p.get("id").asInt();
      assertTrue(id % 3 != 0 && id % 7 == 3, "shares index 3: " + id);
      assertEquals(2.0 * (1 + id % 4), p.get("score").asDouble(), 1e-5);
    }
    assertEquals(payloads.keySet().stream().filter(id -> id % 3 != 0 && id % 7 == 3).count(), sparse.size());
  }

  @Test
  void offsetThresholdAndPayloads() throws Exception {
    var all = rank(id -> dot(A, d.get(id)), id -> true);
    JsonNode page = query("{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 5, \"offset\": 10, \"with_payload\": [\"color\"]}");
    assertRanking(all.subList(10, 15), page, "offset");
    for (JsonNode p : page) {
      assertEquals(M.createObjectNode().put("color", payloads.get(p.get("id").asInt()).get("color").asText()), p.get("payload"));
      assertTrue(p.get("vector").isNull());
      assertTrue(p.get("version").asLong() > 0);
    }
    double threshold = all.get(19).score();
    JsonNode above = query("{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 100, \"score_threshold\": " + threshold + "}");
    // strictly better than the threshold, as Qdrant (the 20th point itself is not returned)
    long strictlyAbove = all.stream().filter(s -> s.score() > threshold + 1e-6).count();
    assertTrue(above.size() >= strictlyAbove && above.size() < all.stream().filter(s -> s.score() >= threshold - 1e-6).count(),
        above.size() + " points above " + threshold);
    above.forEach(p -> assertTrue(p.get("score").asDouble() > threshold - 1e-6));
    // no query: points in id order, score 0
    JsonNode scroll = query("{\"limit\": 4, \"offset\": 2}");
    List<Integer> ids = new ArrayList<>(payloads.keySet());
    assertEquals(ids.subList(2, 6), ids(scroll));
    scroll.forEach(p -> assertEquals(0.0, p.get("score").asDouble()));
    // a huge limit is fine
    assertEquals(payloads.size(), query("{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 18446744073709551615}").size());
  }

  static List<Integer> ids(JsonNode points) {
    List<Integer> out = new ArrayList<>();
    points.forEach(p -> out.add(p.get("id").asInt()));
    return out;
  }

  // ---- recommend, discover, context ----

  @Test
  void recommendStrategies() throws Exception {
    int[] pos = {1, 2, 3};
    int[] neg = {4};
    Set<Integer> examples = Set.of(1, 2, 3, 4);
    float[] avg = new float[4];
    for (int i = 0; i < 4; i++) {
      float p = 0;
      for (int id : pos) {
        p += d.get(id)[i];
      }
      p /= pos.length;
      avg[i] = p + p - d.get(4)[i];
    }
    String body = "\"positive\": [1, 2, 3], \"negative\": [4]";
    var average = top(rank(id -> dot(avg, d.get(id)), id -> !examples.contains(id)), 10);
    assertRanking(average, query("{\"query\": {\"recommend\": {" + body + "}}, \"using\": \"d\"}"), "average_vector");
    var best = top(rank(id -> {
      double maxPos = Double.NEGATIVE_INFINITY;
      for (int p : pos) {
        maxPos = Math.max(maxPos, dot(d.get(p), d.get(id)));
      }
      double maxNeg = dot(d.get(neg[0]), d.get(id));
      return maxPos > maxNeg ? sigmoid(maxPos) : -sigmoid(maxNeg);
    }, id -> !examples.contains(id)), 10);
    assertRanking(best, query("{\"query\": {\"recommend\": {" + body + ", \"strategy\": \"best_score\"}}, \"using\": \"d\"}"), "best_score");
    var sum = top(rank(id -> {
      double s = 0;
      for (int p : pos) {
        s += dot(d.get(p), d.get(id));
      }
      return s - dot(d.get(neg[0]), d.get(id));
    }, id -> !examples.contains(id)), 10);
    assertRanking(sum, query("{\"query\": {\"recommend\": {" + body + ", \"strategy\": \"sum_scores\"}}, \"using\": \"d\"}"), "sum_scores");
    // vectors as examples: nothing excluded
    var byVector = top(rank(id -> dot(A, d.get(id)) * 2 - dot(B, d.get(id)), id -> true), 10);
    assertRanking(byVector, query("{\"query\": {\"recommend\": {\"positive\": [" + vec(A) + "], \"negative\": [" + vec(B)
        + "]}}, \"using\": \"d\"}"), "vector examples");
  }

  @Test
  void discoverAndContext() throws Exception {
    Set<Integer> examples = Set.of(11, 12, 13);
    var discover = top(rank(id -> {
      float[] v = d.get(id);
      int rank = Integer.signum(Double.compare(dot(d.get(12), v), dot(d.get(13), v)));
      return rank + sigmoid(dot(d.get(11), v));
    }, id -> !examples.contains(id)), 10);
    assertRanking(discover, query("{\"query\": {\"discover\": {\"target\": 11, \"context\": {\"positive\": 12, \"negative\": 13}}}, "
        + "\"using\": \"d\"}"), "discover");
    var context = top(rank(id -> {
      float[] v = d.get(id);
      double x = Math.min((float) dot(d.get(12), v) - (float) dot(d.get(13), v) - Math.ulp(1f), 0f);
      return x / (1 + Math.abs(x));
    }, id -> id != 12 && id != 13), 10);
    JsonNode got = query("{\"query\": {\"context\": [{\"positive\": 12, \"negative\": 13}]}, \"using\": \"d\"}");
    // context scores tie at 0 for every point on the positive side: compare scores only
    for (int i = 0; i < context.size(); i++) {
      assertEquals(context.get(i).score(), got.get(i).get("score").asDouble(), 1e-4);
    }
  }

  // ---- order_by and sample ----

  @Test
  void orderByCarriesOrderValues() throws Exception {
    JsonNode got = query("{\"query\": {\"order_by\": {\"key\": \"price\", \"direction\": \"desc\"}}, \"limit\": 20}");
    List<Scored> want = new ArrayList<>();
    payloads.forEach((id, p) -> {
      if (p.has("price")) {
        want.add(new Scored(id, p.get("price").asDouble()));
      }
    });
    want.sort(Comparator.comparingDouble(Scored::score).thenComparingInt(Scored::id).reversed());
    for (int i = 0; i < 20; i++) {
      assertEquals(want.get(i).id(), got.get(i).get("id").asInt());
      assertEquals(want.get(i).score(), got.get(i).get("order_value").asDouble());
      assertEquals(0.0, got.get(i).get("score").asDouble());
    }
    // rescoring prefetch candidates: the same order among them
    JsonNode within = query("{\"prefetch\": {\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 30}, "
        + "\"query\": {\"order_by\": \"price\"}, \"limit\": 30}");
    Set<Integer> candidates = new HashSet<>(ids(top(rank(id -> dot(A, d.get(id)), id -> true), 30)));
    List<Scored> ordered = want.stream().filter(s -> candidates.contains(s.id()))
        .sorted(Comparator.comparingDouble(Scored::score).thenComparingInt(Scored::id)).toList();
    assertEquals(ids(ordered), ids(within));
  }

  static List<Integer> ids(List<Scored> list) {
    return list.stream().map(Scored::id).toList();
  }

  @Test
  void sampleIsRandomWithinTheFilter() throws Exception {
    Set<String> orders = new HashSet<>();
    long blue = payloads.keySet().stream().filter(id -> is(id, "blue")).count();
    for (int i = 0; i < 5; i++) {
      JsonNode got = query("{\"query\": {\"sample\": \"random\"}, \"limit\": 15, "
          + "\"filter\": {\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"blue\"}}]}}");
      assertEquals(Math.min(15, blue), got.size());
      assertEquals(got.size(), new HashSet<>(ids(got)).size());
      got.forEach(p -> assertTrue(is(p.get("id").asInt(), "blue")));
      orders.add(ids(got).toString());
    }
    assertTrue(orders.size() > 1, "random order");
    // over prefetch candidates: a permutation of them
    JsonNode some = query("{\"prefetch\": {\"limit\": 6}, \"query\": {\"sample\": \"random\"}}");
    assertEquals(new HashSet<>(new ArrayList<>(payloads.keySet()).subList(0, 6)), new HashSet<>(ids(some)));
  }

  // ---- prefetch, fusion ----

  @Test
  void prefetchRestrictsTheRescoring() throws Exception {
    // the best 30 red points by A, rescored by B: root filter applies to prefetches, prefetch filter to its own
    JsonNode got = query("{\"prefetch\": {\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 30, "
        + "\"filter\": {\"must\": [{\"key\": \"price\", \"range\": {\"gte\": 5}}]}}, "
        + "\"query\": " + vec(B) + ", \"using\": \"d\", \"limit\": 8, "
        + "\"filter\": {\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}}");
    Predicate<Integer> red = id -> is(id, "red") && payloads.get(id).path("price").asDouble(-1) >= 5;
    Set<Integer> candidates = new HashSet<>(ids(top(rank(id -> dot(A, d.get(id)), red), 30)));
    assertTop(rank(id -> dot(B, d.get(id)), candidates::contains), 8, got, "rescored");
    // nested prefetches, scores of the middle stage thresholded
    JsonNode nested = query("{\"prefetch\": {\"prefetch\": {\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 50}, "
        + "\"query\": " + vec(B) + ", \"using\": \"d\", \"limit\": 20, \"score_threshold\": 0.2}, "
        + "\"query\": [5, 5, 5], \"using\": \"e\", \"limit\": 100}");
    Set<Integer> first = new HashSet<>(ids(top(rank(id -> dot(A, d.get(id)), id -> true), 50)));
    Set<Integer> second = new HashSet<>(ids(top(rank(id -> dot(B, d.get(id)), id -> first.contains(id) && dot(B, d.get(id)) >= 0.2), 20)));
    float[] q = {5, 5, 5};
    var want = rank(id -> -dist(q, e.get(id)), second::contains).stream().map(s -> new Scored(s.id(), -s.score())).toList();
    assertRanking(want, nested, "nested");
  }

  @Test
  void reciprocalRankFusion() throws Exception {
    var a = top(rank(id -> dot(A, d.get(id)), id -> true), 20);
    var b = top(rank(id -> dot(B, d.get(id)), id -> true), 20);
    for (int k : new int[] {2, 5}) {
      Map<Integer, Double> fused = new LinkedHashMap<>();
      for (var list : List.of(a, b)) {
        for (int i = 0; i < list.size(); i++) {
          fused.merge(list.get(i).id(), 1.0 / (i + k), Double::sum);
        }
      }
      List<Scored> want = new ArrayList<>();
      fused.forEach((id, s) -> want.add(new Scored(id, s)));
      want.sort(Comparator.comparingDouble(Scored::score).reversed().thenComparingInt(Scored::id));
      String fusion = k == 2 ? "{\"fusion\": \"rrf\"}" : "{\"rrf\": {\"k\": 5}}";
      JsonNode got = query("{\"prefetch\": [{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 20}, "
          + "{\"query\": " + vec(B) + ", \"using\": \"d\", \"limit\": 20}], \"query\": " + fusion + ", \"limit\": 15}");
      assertTop(want, 15, got, "rrf k=" + k);
    }
  }

  @Test
  void distributionBasedScoreFusion() throws Exception {
    var a = top(rank(id -> dot(A, d.get(id)), id -> true), 20);
    float[] q = {5, 5, 5};
    var b = top(rank(id -> -dist(q, e.get(id)), id -> true), 20).stream().map(s -> new Scored(s.id(), -s.score())).toList();
    Map<Integer, Double> fused = new LinkedHashMap<>();
    for (var list : List.of(a, b)) {
      double mean = list.stream().mapToDouble(Scored::score).average().orElseThrow();
      double var = list.stream().mapToDouble(s -> (s.score() - mean) * (s.score() - mean)).sum() / (list.size() - 1);
      double lo = mean - 3 * Math.sqrt(var);
      double hi = mean + 3 * Math.sqrt(var);
      list.forEach(s -> fused.merge(s.id(), (s.score() - lo) / (hi - lo), Double::sum));
    }
    List<Scored> want = new ArrayList<>();
    fused.forEach((id, s) -> want.add(new Scored(id, s)));
    want.sort(Comparator.comparingDouble(Scored::score).reversed().thenComparingInt(Scored::id));
    JsonNode got = query("{\"prefetch\": [{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 20}, "
        + "{\"query\": [5, 5, 5], \"using\": \"e\", \"limit\": 20}], \"query\": {\"fusion\": \"dbsf\"}, \"limit\": 12}");
    assertTop(want, 12, got, "dbsf");
    // a single candidate normalises to 0.5
    JsonNode one = query("{\"prefetch\": [{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 1}], \"query\": {\"fusion\": \"dbsf\"}}");
    assertEquals(0.5, one.get(0).get("score").asDouble());
  }

  // ---- formula ----

  static double haversine(double lat1, double lon1, double lat2, double lon2) {
    double dPhi = Math.toRadians(lat2 - lat1);
    double dLambda = Math.toRadians(lon2 - lon1);
    double a = Math.pow(Math.sin(dPhi / 2), 2)
        + Math.cos(Math.toRadians(lat1)) * Math.cos(Math.toRadians(lat2)) * Math.pow(Math.sin(dLambda / 2), 2);
    return 6371008.8 * 2 * Math.asin(Math.sqrt(a));
  }

  @Test
  void formulaRescoresWithPayloadConditionsAndDecays() throws Exception {
    String formula = "{\"sum\": [\"$score\", {\"mult\": [0.5, \"price\"]}, "
        + "{\"mult\": [0.25, {\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}, "
        + "{\"gauss_decay\": {\"x\": \"n\", \"target\": 10, \"scale\": 5}}, "
        + "{\"exp_decay\": {\"x\": {\"geo_distance\": {\"origin\": {\"lon\": 0, \"lat\": 0}, \"to\": \"loc\"}}, \"scale\": 1000000, \"midpoint\": 0.25}}, "
        + "{\"lin_decay\": {\"x\": \"$score[1]\", \"scale\": 2}}, "
        + "{\"div\": {\"left\": 1, \"right\": {\"sum\": [\"n\", -10]}, \"by_zero_default\": 7}}]}";
    JsonNode got = query("{\"prefetch\": [{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 40}, "
        + "{\"query\": " + vec(B) + ", \"using\": \"d\", \"limit\": 40}], "
        + "\"query\": {\"formula\": " + formula + ", \"defaults\": {\"price\": 1.0, \"$score[1]\": -3}}, \"limit\": 25}");
    var a = top(rank(id -> dot(A, d.get(id)), id -> true), 40);
    var b = top(rank(id -> dot(B, d.get(id)), id -> true), 40);
    Map<Integer, Double> sa = new HashMap<>();
    a.forEach(s -> sa.put(s.id(), s.score()));
    Map<Integer, Double> sb = new HashMap<>();
    b.forEach(s -> sb.put(s.id(), s.score()));
    Set<Integer> candidates = new HashSet<>(sa.keySet());
    candidates.addAll(sb.keySet());
    var want = top(rank(id -> {
      ObjectNode p = payloads.get(id);
      double n = p.get("n").asInt();
      double geo = haversine(0, 0, p.get("loc").get("lat").asDouble(), p.get("loc").get("lon").asDouble());
      double score1 = sb.getOrDefault(id, -3.0);
      return sa.getOrDefault(id, 0.0)
          + 0.5 * p.path("price").asDouble(1.0)
          + (is(id, "red") ? 0.25 : 0)
          + Math.exp(Math.log(0.5) / 25 * (n - 10) * (n - 10))
          + Math.exp(Math.log(0.25) / 1e6 * geo)
          + Math.max(0, -(0.5 / 2) * Math.abs(score1) + 1)
          + (n == 10 ? 7 : 1 / (n - 10));
    }, candidates::contains), 25);
    assertRanking(want, got, "formula");
    // datetime, pow, sqrt, ln, log10, exp, abs, neg on constants
    JsonNode constants = query("{\"prefetch\": {\"limit\": 1}, \"query\": {\"formula\": {\"sum\": ["
        + "{\"datetime\": \"1970-01-02T00:00:00Z\"}, {\"pow\": {\"base\": 2, \"exponent\": 3}}, {\"sqrt\": 16}, "
        + "{\"ln\": 1}, {\"log10\": 100}, {\"exp\": 0}, {\"abs\": -2}, {\"neg\": 5}]}}}");
    assertEquals(86400 + 8 + 4 + 0 + 2 + 1 + 2 - 5, constants.get(0).get("score").asDouble(), 1e-3);
  }

  @Test
  void formulaErrorsAreQdrants() throws Exception {
    String prefetch = "\"prefetch\": {\"limit\": 3}, ";
    var noValue = fail("{" + prefetch + "\"query\": {\"formula\": \"nope\"}}");
    assertEquals(400, noValue.status());
    assertEquals("Wrong input: Expected number value for nope in the payload and/or in the formula defaults. "
        + "Error: No value found in a payload nor defaults", noValue.error());
    var notNumber = fail("{" + prefetch + "\"query\": {\"formula\": \"color\"}}");
    assertEquals("Wrong input: Expected number value for color in the payload and/or in the formula defaults. "
        + "Error: Value is not a number", notNumber.error());
    var divZero = fail("{" + prefetch + "\"query\": {\"formula\": {\"div\": {\"left\": 1, \"right\": 0}}}}");
    assertEquals("Wrong input: The expression 1/0 = inf produced a non-finite number", divZero.error());
    var scale = fail("{" + prefetch + "\"query\": {\"formula\": {\"exp_decay\": {\"x\": 1, \"scale\": 0}}}}");
    assertEquals("Wrong input: Validation failed: Decay scale should be non-zero positive, got 0.", scale.error());
    var midpoint = fail("{" + prefetch + "\"query\": {\"formula\": {\"lin_decay\": {\"x\": 1, \"midpoint\": 1.5}}}}");
    assertEquals("Wrong input: Validation failed: Linear decay midpoint should be in the range [0.0, 1.0], got 1.5.", midpoint.error());
    var reserved = fail("{" + prefetch + "\"query\": {\"formula\": \"$price\"}}");
    assertEquals(400, reserved.status()); // Qdrant answers 500; the request is what is wrong
    assertEquals("Bad request: Invalid reserved word: $price", reserved.error());
    var leaf = fail("{\"query\": {\"formula\": 1}}");
    assertEquals("Bad request: cannot apply Formula without prefetches", leaf.error());
  }

  // ---- MMR ----

  @Test
  void maximalMarginalRelevance() throws Exception {
    var candidates = top(rank(id -> dot(A, d.get(id)), id -> true), 30);
    // diversity 0: relevance only
    JsonNode plain = query("{\"query\": {\"nearest\": " + vec(A) + ", \"mmr\": {\"diversity\": 0, \"candidates_limit\": 30}}, "
        + "\"using\": \"d\", \"limit\": 8}");
    assertTop(candidates, 8, plain, "diversity 0");
    // diversity 0.6: greedy oracle; scores stay the relevance
    float lambda = 1f - 0.6f;
    List<Scored> left = new ArrayList<>(candidates);
    List<Scored> chosen = new ArrayList<>();
    chosen.add(left.remove(0));
    while (chosen.size() < 8) {
      Scored best = null;
      double bestScore = Double.NEGATIVE_INFINITY;
      for (Scored c : left) {
        double maxSim = chosen.stream().mapToDouble(s -> dot(d.get(s.id()), d.get(c.id()))).max().orElseThrow();
        double score = lambda * c.score() - (1 - lambda) * maxSim;
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      left.remove(best);
      chosen.add(best);
    }
    JsonNode diverse = query("{\"query\": {\"nearest\": " + vec(A) + ", \"mmr\": {\"diversity\": 0.6, \"candidates_limit\": 30}}, "
        + "\"using\": \"d\", \"limit\": 8}");
    assertEquals(ids(chosen), ids(diverse));
    assertNotEquals(ids(top(candidates, 8)), ids(diverse));
    for (int i = 0; i < chosen.size(); i++) {
      assertEquals(chosen.get(i).score(), diverse.get(i).get("score").asDouble(), 1e-4);
    }
    var invalid = fail("{\"query\": {\"nearest\": " + vec(A) + ", \"mmr\": {\"diversity\": 2}}, \"using\": \"d\"}");
    assertEquals(422, invalid.status());
    assertEquals("Validation error in JSON body: [internal.query.mmr.diversity: value 2.0 invalid, must be from 0.0 to 1.0]", invalid.error());
  }

  // ---- batch and groups ----

  @Test
  void batchAnswersEachQuery() throws Exception {
    String one = "{\"query\": " + vec(A) + ", \"using\": \"d\", \"limit\": 4}";
    String two = "{\"query\": {\"order_by\": \"price\"}, \"limit\": 3}";
    JsonNode got = ok(node.send("POST", "/collections/q/points/query/batch", "{\"searches\": [" + one + ", " + two + "]}"));
    assertEquals(2, got.size());
    assertEquals(query(one), got.get(0).get("points"));
    assertEquals(query(two), got.get(1).get("points"));
    var invalid = node.send("POST", "/collections/q/points/query/batch", "{\"searches\": [" + one + ", {\"limit\": 0}]}");
    assertEquals(422, invalid.status());
    assertEquals("Validation error in JSON body: [searches[1].internal.limit: value 0 invalid, must be 1 or larger]", invalid.error());
  }

  @Test
  void groupsHoldTheBestHitsOfEachValue() throws Exception {
    JsonNode got = ok(node.send("POST", "/collections/q/points/query/groups", "{\"query\": " + vec(A) + ", \"using\": \"d\", "
        + "\"group_by\": \"color\", \"group_size\": 2, \"limit\": 3, \"with_payload\": true, \"with_lookup\": \"q\"}"));
    Map<String, List<Scored>> want = new LinkedHashMap<>();
    for (Scored s : rank(id -> dot(A, d.get(id)), id -> true)) {
      String color = payloads.get(s.id()).get("color").asText();
      List<Scored> group = want.get(color);
      if (group == null && want.size() < 3) {
        want.put(color, group = new ArrayList<>());
      }
      if (group != null && group.size() < 2) {
        group.add(s);
      }
    }
    JsonNode groups = got.get("groups");
    assertEquals(3, groups.size());
    int i = 0;
    for (var entry : want.entrySet()) {
      JsonNode g = groups.get(i++);
      assertEquals(entry.getKey(), g.get("id").asText());
      assertRanking(entry.getValue(), g.get("hits"), "group " + entry.getKey());
      g.get("hits").forEach(h -> assertEquals(entry.getKey(), h.at("/payload/color").asText()));
      assertFalse(g.has("lookup"), "no point has a color for id");
    }
    // defaults: 10 groups of 3 at most; over rrf of prefetches
    JsonNode fused = ok(node.send("POST", "/collections/q/points/query/groups", "{\"prefetch\": [{\"query\": " + vec(A)
        + ", \"using\": \"d\"}, {\"query\": " + vec(B) + ", \"using\": \"d\"}], \"query\": {\"fusion\": \"rrf\"}, \"group_by\": \"n\"}"));
    assertTrue(fused.get("groups").size() <= 10);
    fused.get("groups").forEach(g -> assertTrue(g.get("hits").size() <= 3 && g.get("id").isIntegralNumber()));
  }

  // ---- errors ----

  @Test
  void requestErrorsAreQdrants() throws Exception {
    assertEquals("Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query.",
        fail("{\"prefetch\": [{\"query\": {\"recommend\": {\"positive\": [1]}}, \"using\": \"d\"}]}").error());
    assertEquals("Bad request: A query is needed to use the score_threshold. Can't have score_threshold without defining a query.",
        fail("{\"score_threshold\": 10}").error());
    assertEquals("Bad request: Can't use score_threshold with an order_by query.",
        fail("{\"score_threshold\": 10, \"query\": {\"order_by\": {\"key\": \"price\"}}}").error());
    var zero = fail("{\"query\": {\"recommend\": {\"positive\": [1]}}, \"using\": \"d\", \"limit\": 0}");
    assertEquals(422, zero.status());
    assertEquals("Validation error in JSON body: [internal.limit: value 0 invalid, must be 1 or larger]", zero.error());
    var prefetchZero = fail("{\"prefetch\": {\"limit\": 0}, \"query\": " + vec(A) + ", \"using\": \"d\"}");
    assertEquals("Validation error in JSON body: [internal.prefetch[0].limit: value 0 invalid, must be 1 or larger]", prefetchZero.error());
    assertEquals("Bad request: Fusion queries cannot be combined with the 'using' field.",
        fail("{\"prefetch\": {\"limit\": 3}, \"query\": {\"fusion\": \"rrf\"}, \"using\": \"d\"}").error());
    assertEquals("Bad request: cannot apply Fusion without prefetches", fail("{\"query\": {\"fusion\": \"dbsf\"}}").error());
    var missing = fail("{\"query\": 5, \"using\": \"d\"}");
    assertEquals(404, missing.status());
    assertEquals("Not found: No point with id 5 found", missing.error());
    var noCollection = fail("{\"query\": {\"recommend\": {\"positive\": [1]}}, \"using\": \"d\", \"lookup_from\": {\"collection\": \"nope\"}}");
    assertEquals(404, noCollection.status());
    assertEquals("Not found: Collection nope not found", noCollection.error());
    assertEquals("Wrong input: Not existing vector name error: x",
        fail("{\"query\": " + vec(A) + ", \"using\": \"x\"}").error());
    assertEquals("Wrong input: Vector dimension error: expected dim: 4, got 3",
        fail("{\"query\": [1, 2, 3], \"using\": \"d\"}").error());
    assertEquals("Bad request: No range index for `order_by` key: `n`. Please create one to use `order_by`. Check "
        + "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions",
        fail("{\"query\": {\"order_by\": \"n\"}}").error());
    var noPositive = fail("{\"query\": {\"recommend\": {\"negative\": [1]}}, \"using\": \"d\"}");
    assertEquals("Wrong input: Positive vectors should not be empty with `average` strategy", noPositive.error());
  }
}
