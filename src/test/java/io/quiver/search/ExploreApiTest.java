package io.quiver.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * order_by, facets, discovery, grouped search and the distance matrix, each checked against an
 * oracle computed here from the points the test wrote (random data, fixed seed, some deletions).
 */
@Timeout(120)
class ExploreApiTest {
  static final ObjectMapper M = new ObjectMapper();
  static final int N = 400;
  static final int DIM = 6;

  @TempDir static Path dir;
  static TestNode node;
  /** Live points of collection {@code x}: id -> (vector, payload). */
  static final Map<Integer, float[]> vectors = new TreeMap<>();
  static final Map<Integer, ObjectNode> payloads = new TreeMap<>();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    ok(node.send("PUT", "/collections/x", "{\"vectors\": {\"size\": " + DIM + ", \"distance\": \"Euclid\"}}"));
    for (String index : List.of("{\"field_name\": \"price\", \"field_schema\": \"float\"}",
        "{\"field_name\": \"rank\", \"field_schema\": \"integer\"}",
        "{\"field_name\": \"day\", \"field_schema\": \"datetime\"}",
        "{\"field_name\": \"color\", \"field_schema\": \"keyword\"}",
        "{\"field_name\": \"flag\", \"field_schema\": \"bool\"}")) {
      ok(node.send("PUT", "/collections/x/index?wait=true", index));
    }
    Random r = new Random(42);
    String[] colors = {"red", "green", "blue", "black", "white"};
    ArrayNode points = M.createArrayNode();
    for (int id = 0; id < N; id++) {
      float[] v = new float[DIM];
      for (int d = 0; d < DIM; d++) {
        v[d] = r.nextInt(20) / 4f;
      }
      ObjectNode p = M.createObjectNode();
      if (r.nextInt(10) > 0) {
        p.put("price", r.nextInt(50) / 2.0);
      }
      if (r.nextInt(10) > 0) {
        ArrayNode ranks = p.putArray("rank");
        for (int i = r.nextInt(3); i >= 0; i--) {
          ranks.add(r.nextInt(30));
        }
      }
      p.put("day", String.format("2024-03-%02dT10:00:00Z", 1 + r.nextInt(28)));
      p.put("color", colors[r.nextInt(colors.length)]);
      p.put("flag", r.nextBoolean());
      vectors.put(id, v);
      payloads.put(id, p);
      ObjectNode point = points.addObject();
      point.put("id", id);
      ArrayNode vec = point.putArray("vector");
      for (float f : v) {
        vec.add(f);
      }
      point.set("payload", p);
    }
    ok(node.send("PUT", "/collections/x/points?wait=true", M.createObjectNode().set("points", points).toString()));
    // delete a tenth: they must never appear nor count
    ArrayNode gone = M.createArrayNode();
    for (int id = 0; id < N; id += 10) {
      gone.add(id);
      vectors.remove(id);
      payloads.remove(id);
    }
    ok(node.send("POST", "/collections/x/points/delete?wait=true", M.createObjectNode().set("points", gone).toString()));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static JsonNode ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
    return r.result();
  }

  static JsonNode post(String path, String body) throws Exception {
    return ok(node.send("POST", path, body));
  }

  /** Numeric values of a payload key (one level of arrays), datetimes as epoch micros. */
  static List<Double> numbers(ObjectNode p, String key) {
    List<Double> out = new ArrayList<>();
    JsonNode n = p.get(key);
    if (n == null) {
      return out;
    }
    for (JsonNode e : n.isArray() ? n : List.of(n)) {
      if (e.isNumber()) {
        out.add(e.asDouble());
      } else if (e.isTextual()) {
        out.add((double) java.time.Instant.parse(e.textValue()).toEpochMilli() * 1000);
      }
    }
    return out.stream().distinct().toList();
  }

  record Entry(int id, double value) {}

  List<Entry> orderOracle(String key, boolean desc, Double from, java.util.function.Predicate<ObjectNode> filter) {
    List<Entry> all = new ArrayList<>();
    payloads.forEach((id, p) -> {
      if (filter.test(p)) {
        numbers(p, key).forEach(v -> all.add(new Entry(id, v)));
      }
    });
    Comparator<Entry> asc = Comparator.comparingDouble(Entry::value).thenComparingInt(Entry::id);
    all.sort(desc ? asc.reversed() : asc);
    return all.stream().filter(e -> from == null || (desc ? e.value() <= from : e.value() >= from)).toList();
  }

  @Test
  void orderByMatchesOracleForEveryRangeIndex() throws Exception {
    for (String key : List.of("price", "rank", "day")) {
      for (boolean desc : new boolean[] {false, true}) {
        for (Double from : new Double[] {null, key.equals("day") ? 1.7096e15 : 10.0}) {
          String start = from == null ? "" : key.equals("day")
              ? ", \"start_from\": \"" + java.time.Instant.ofEpochMilli((long) (from / 1000)) + "\""
              : ", \"start_from\": " + from;
          var want = orderOracle(key, desc, from, p -> p.get("flag").asBoolean());
          JsonNode got = post("/collections/x/points/scroll", "{\"limit\": 1000, \"with_payload\": false, "
              + "\"filter\": {\"must\": [{\"key\": \"flag\", \"match\": {\"value\": true}}]}, "
              + "\"order_by\": {\"key\": \"" + key + "\", \"direction\": \"" + (desc ? "desc" : "asc") + "\"" + start + "}}");
          List<Entry> entries = new ArrayList<>();
          for (JsonNode p : got.get("points")) {
            entries.add(new Entry(p.get("id").asInt(), p.get("order_value").asDouble()));
          }
          assertEquals(want, entries, key + " desc=" + desc + " from=" + from);
          assertTrue(got.get("next_page_offset").isNull());
        }
      }
    }
  }

  @Test
  void orderByNeedsARangeIndexAndRefusesOffset() throws Exception {
    var noIndex = node.send("POST", "/collections/x/points/scroll", "{\"order_by\": \"color\"}");
    assertEquals(400, noIndex.status());
    assertTrue(noIndex.error().startsWith("Bad request: No range index for `order_by` key: `color`"), noIndex.error());
    var offset = node.send("POST", "/collections/x/points/scroll", "{\"order_by\": \"price\", \"offset\": 5}");
    assertEquals(400, offset.status());
    var limited = post("/collections/x/points/scroll", "{\"order_by\": \"price\", \"limit\": 7}");
    assertEquals(orderOracle("price", false, null, p -> true).subList(0, 7).stream().map(Entry::id).toList(),
        ids(limited.get("points")));
  }

  static List<Integer> ids(JsonNode points) {
    List<Integer> out = new ArrayList<>();
    points.forEach(p -> out.add(p.get("id").asInt()));
    return out;
  }

  @Test
  void facetsCountDistinctValuesPerPoint() throws Exception {
    for (String key : List.of("color", "rank", "flag")) {
      Map<String, Long> want = new HashMap<>();
      payloads.values().stream().filter(p -> p.path("price").asDouble(-1) >= 5).forEach(p -> {
        JsonNode n = p.get(key);
        if (n != null) {
          java.util.Set<String> seen = new java.util.HashSet<>();
          for (JsonNode e : n.isArray() ? n : List.of(n)) {
            seen.add(e.asText());
          }
          seen.forEach(s -> want.merge(s, 1L, Long::sum));
        }
      });
      JsonNode got = post("/collections/x/facet", "{\"key\": \"" + key + "\", \"limit\": 100, "
          + "\"filter\": {\"must\": [{\"key\": \"price\", \"range\": {\"gte\": 5}}]}}");
      Map<String, Long> counts = new HashMap<>();
      long previous = Long.MAX_VALUE;
      for (JsonNode h : got.get("hits")) {
        counts.put(h.get("value").asText(), h.get("count").asLong());
        assertTrue(h.get("count").asLong() <= previous, "sorted by count");
        previous = h.get("count").asLong();
      }
      assertEquals(want, counts, key);
    }
    assertEquals(2, post("/collections/x/facet", "{\"key\": \"color\", \"limit\": 2}").get("hits").size());
    var noIndex = node.send("POST", "/collections/x/facet", "{\"key\": \"day\"}");
    assertEquals(400, noIndex.status());
    assertTrue(noIndex.error().contains("No appropriate index for faceting: `day`"), noIndex.error());
  }

  /** Euclidean distance: what search returns. */
  static float dist(float[] a, float[] b) {
    return (float) Math.sqrt(-sim(a, b));
  }

  /** Qdrant's raw euclid similarity, which discovery combines: minus the squared distance. */
  static float sim(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return (float) -s;
  }

  @Test
  void discoveryAndContextScoresFollowQdrantsFormulas() throws Exception {
    float[] target = vectors.get(11);
    int[][] pairs = {{12, 13}, {14, 15}};
    String context = "[{\"positive\": 12, \"negative\": 13}, {\"positive\": 14, \"negative\": 15}]";
    JsonNode withTarget = post("/collections/x/points/discover", "{\"target\": 11, \"context\": " + context + ", \"limit\": 400}");
    JsonNode contextOnly = post("/collections/x/points/discover", "{\"context\": " + context + ", \"limit\": 400}");
    assertEquals(vectors.size() - 5, withTarget.size(), "examples are excluded");
    for (JsonNode p : withTarget) {
      float[] v = vectors.get(p.get("id").asInt());
      int rank = 0;
      for (int[] pair : pairs) {
        rank += Integer.signum(Float.compare(sim(vectors.get(pair[0]), v), sim(vectors.get(pair[1]), v)));
      }
      float t = sim(target, v);
      float want = rank + 0.5f * (t / (1 + Math.abs(t)) + 1);
      assertEquals(want, p.get("score").floatValue(), 1e-4, "discover score of " + p.get("id"));
    }
    double previous = Double.MAX_VALUE;
    for (JsonNode p : contextOnly) {
      float[] v = vectors.get(p.get("id").asInt());
      float want = 0;
      for (int[] pair : pairs) {
        float x = Math.min(sim(vectors.get(pair[0]), v) - sim(vectors.get(pair[1]), v) - Math.ulp(1f), 0f);
        want += x / (1 + Math.abs(x));
      }
      assertEquals(want, p.get("score").floatValue(), 1e-4, "context score of " + p.get("id"));
      assertTrue(p.get("score").asDouble() <= previous);
      previous = p.get("score").asDouble();
    }
    var none = node.send("POST", "/collections/x/points/discover", "{\"limit\": 3}");
    assertEquals(400, none.status());
    assertEquals("Bad request: target and/or context_pairs must be specified", none.error());
  }

  @Test
  void groupsHoldTheBestHitsOfEachValue() throws Exception {
    float[] q = vectors.get(21);
    StringBuilder vec = new StringBuilder("[");
    for (int i = 0; i < q.length; i++) {
      vec.append(i == 0 ? "" : ",").append(q[i]);
    }
    vec.append("]");
    JsonNode got = post("/collections/x/points/search/groups", "{\"vector\": " + vec + ", \"group_by\": \"rank\", "
        + "\"group_size\": 2, \"limit\": 4, \"params\": {\"exact\": true}, \"with_lookup\": \"x\"}");
    // oracle: points by distance (ties by id), each rank value collects its first two
    List<Integer> order = new ArrayList<>(vectors.keySet());
    order.sort(Comparator.<Integer>comparingDouble(id -> dist(q, vectors.get(id))).thenComparing(id -> id));
    Map<Long, List<Integer>> want = new LinkedHashMap<>();
    for (int id : order) {
      JsonNode ranks = payloads.get(id).get("rank");
      if (ranks == null) {
        continue;
      }
      java.util.Set<Long> seen = new java.util.LinkedHashSet<>();
      ranks.forEach(e -> seen.add(e.asLong()));
      for (long g : seen) {
        List<Integer> group = want.get(g);
        if (group == null && want.size() < 4) {
          want.put(g, group = new ArrayList<>());
        }
        if (group != null && group.size() < 2) {
          group.add(id);
        }
      }
    }
    Map<Long, List<Integer>> groups = new LinkedHashMap<>();
    for (JsonNode g : got.get("groups")) {
      groups.put(g.get("id").asLong(), ids(g.get("hits")));
      int lookupId = (int) g.get("id").asLong();
      if (vectors.containsKey(lookupId)) {
        assertEquals(lookupId, g.at("/lookup/id").asInt());
      } else {
        assertTrue(g.get("lookup") == null || g.get("lookup").isNull());
      }
    }
    // distances can tie: compare the scores of the hits rather than the exact ids
    assertEquals(want.keySet().size(), groups.size());
    var wantScores = new ArrayList<List<Float>>();
    want.values().forEach(l -> wantScores.add(l.stream().map(id -> dist(q, vectors.get(id))).toList()));
    var gotScores = new ArrayList<List<Float>>();
    for (JsonNode g : got.get("groups")) {
      List<Float> s = new ArrayList<>();
      g.get("hits").forEach(h -> s.add(h.get("score").floatValue()));
      gotScores.add(s);
    }
    for (int i = 0; i < wantScores.size(); i++) {
      assertEquals(wantScores.get(i).size(), gotScores.get(i).size());
      for (int j = 0; j < wantScores.get(i).size(); j++) {
        assertEquals(wantScores.get(i).get(j), gotScores.get(i).get(j), 1e-4);
      }
    }
  }

  @Test
  void distanceMatrixScoresTheSampleAgainstItself() throws Exception {
    JsonNode pairs = post("/collections/x/points/search/matrix/pairs", "{\"sample\": 20, \"limit\": 3, "
        + "\"filter\": {\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}}");
    JsonNode offsets = post("/collections/x/points/search/matrix/offsets", "{\"sample\": 20, \"limit\": 3, "
        + "\"filter\": {\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}}");
    assertEquals(60, pairs.get("pairs").size());
    assertEquals(20, offsets.get("ids").size());
    assertEquals(60, offsets.get("scores").size());
    for (JsonNode p : pairs.get("pairs")) {
      int a = p.get("a").asInt();
      int b = p.get("b").asInt();
      assertTrue(a != b);
      assertEquals("red", payloads.get(a).get("color").asText());
      assertEquals("red", payloads.get(b).get("color").asText());
      assertEquals(dist(vectors.get(a), vectors.get(b)), p.get("score").floatValue(), 1e-4);
    }
    List<Integer> sampled = ids(M.createArrayNode().addAll(
        java.util.stream.StreamSupport.stream(offsets.get("ids").spliterator(), false)
            .map(id -> (JsonNode) M.createObjectNode().set("id", id)).toList()));
    assertEquals(sampled.stream().sorted().toList(), sampled, "sample sorted by id");
  }
}
