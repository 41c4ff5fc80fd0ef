package io.quiver.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy search endpoints answer exactly as the universal query they are translated into
 * (Qdrant's {@code recommend_into_core_search}: one execution path): for random requests on random
 * data, a search and its nearest query, a recommendation (every strategy, ids and vectors, {@code
 * lookup_from}) and its recommend query, a discovery and its discover query (or, without a target,
 * its context query), their batches and the search and recommend groups, return the same points in
 * the same order with bit-identical scores, payloads and vectors.
 *
 * <p>Collections: an unnamed Cosine vector; named Euclid and Dot vectors; sparse vectors with and
 * without the {@code idf} modifier; a max_sim multivector; and a lookup collection for {@code
 * lookup_from} and {@code with_lookup}. Payloads have keyword, integer and float fields, missing
 * fields and arrays; {@code color} (keyword) and {@code n} (integer) are indexed. Dense searches are
 * exact, so no HNSW graph can tell two runs apart. The seed is fixed; {@code -Dtests.seed=N} replays
 * another.
 */
@Timeout(120)
class LegacyQueryEquivalenceTest {
  private static final long SEED = Long.getLong("tests.seed", 0x1e9acL);
  private static final String[] COLORS = {"red", "green", "blue", "black", "white"};
  private static final String[] TAGS = {"a", "b", "c", "d", "e", "f"};
  /** The vector of the lookup collection that examples for a vector are read from with {@code lookup_from}. */
  private static final Map<String, String> LOOKUP_VECTOR = Map.of("e", "x", "d", "d", "s", "s", "si", "s");

  enum Kind { DENSE, SPARSE, MULTI }

  /** A vector of a collection; "" names the unnamed one. */
  record Vec(String name, Kind kind, int dim, String distance) {}

  /** A collection: its vectors and, per vector, the points that have one. */
  record Col(String name, int points, List<Vec> vectors, Map<String, List<Integer>> idsWith) {}

  /** A legacy request and the universal query it stands for. */
  record Pair(ObjectNode legacy, ObjectNode query) {}

  /** What the answers of a legacy endpoint and its query endpoint look like. */
  enum Shape { POINTS, BATCH, GROUPS }

  @TempDir static Path dir;
  static TestNode node;
  static final List<Col> cols = new ArrayList<>();
  static Col look;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    Random r = new Random(SEED);
    cols.add(create(r, "cos", "{\"vectors\": {\"size\": 8, \"distance\": \"Cosine\"}}", 300,
        List.of(new Vec("", Kind.DENSE, 8, "Cosine"))));
    cols.add(create(r, "named", "{\"vectors\": {\"e\": {\"size\": 4, \"distance\": \"Euclid\"}, "
        + "\"d\": {\"size\": 6, \"distance\": \"Dot\"}}}", 300,
        List.of(new Vec("e", Kind.DENSE, 4, "Euclid"), new Vec("d", Kind.DENSE, 6, "Dot"))));
    cols.add(create(r, "sparse", "{\"sparse_vectors\": {\"s\": {}, \"si\": {\"modifier\": \"idf\"}}}", 300,
        List.of(new Vec("s", Kind.SPARSE, 0, null), new Vec("si", Kind.SPARSE, 0, null))));
    cols.add(create(r, "multi", "{\"vectors\": {\"m\": {\"size\": 3, \"distance\": \"Cosine\", "
        + "\"multivector_config\": {\"comparator\": \"max_sim\"}}}}", 200, List.of(new Vec("m", Kind.MULTI, 3, "Cosine"))));
    look = create(r, "look", "{\"vectors\": {\"x\": {\"size\": 4, \"distance\": \"Euclid\"}, "
        + "\"d\": {\"size\": 6, \"distance\": \"Dot\"}}, \"sparse_vectors\": {\"s\": {}}}", 40,
        List.of(new Vec("x", Kind.DENSE, 4, "Euclid"), new Vec("d", Kind.DENSE, 6, "Dot"), new Vec("s", Kind.SPARSE, 0, null)));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- the equivalences ----

  @Test
  void searchIsANearestQuery() throws Exception {
    Random r = random(1);
    for (Col col : cols) {
      int[] counts = new int[2];
      for (int i = 0; i < 40; i++) {
        Pair p = search(r, col, false);
        same(col, "search", p, Shape.POINTS, counts);
      }
      assertMostlyFound(col, counts);
    }
  }

  @Test
  void recommendIsARecommendQuery() throws Exception {
    Random r = random(2);
    for (Col col : cols) {
      int[] counts = new int[2];
      for (int i = 0; i < 50; i++) {
        same(col, "recommend", recommend(r, col, false), Shape.POINTS, counts);
      }
      assertMostlyFound(col, counts);
    }
  }

  @Test
  void discoverIsADiscoverOrContextQuery() throws Exception {
    Random r = random(3);
    for (Col col : cols) {
      int[] counts = new int[2];
      for (int i = 0; i < 40; i++) {
        same(col, "discover", discover(r, col), Shape.POINTS, counts);
      }
      assertMostlyFound(col, counts);
    }
  }

  @Test
  void batchesAreQueryBatches() throws Exception {
    Random r = random(4);
    for (Col col : cols) {
      int[] counts = new int[2];
      for (String kind : List.of("search", "recommend", "discover")) {
        for (int i = 0; i < 5; i++) {
          ArrayNode legacy = Json.MAPPER.createArrayNode();
          ArrayNode query = Json.MAPPER.createArrayNode();
          for (int n = 1 + r.nextInt(4); n > 0; n--) {
            Pair p = switch (kind) {
              case "search" -> search(r, col, false);
              case "recommend" -> recommend(r, col, false);
              default -> discover(r, col);
            };
            legacy.add(p.legacy());
            query.add(p.query());
          }
          ObjectNode l = Json.MAPPER.createObjectNode();
          l.set("searches", legacy);
          ObjectNode q = Json.MAPPER.createObjectNode();
          q.set("searches", query);
          same(col, kind + "/batch", new Pair(l, q), Shape.BATCH, counts);
        }
      }
      assertMostlyFound(col, counts);
    }
  }

  @Test
  void groupsAreQueryGroups() throws Exception {
    Random r = random(5);
    for (Col col : cols) {
      int[] counts = new int[2];
      for (int i = 0; i < 30; i++) {
        boolean recommend = r.nextBoolean();
        Pair p = recommend ? recommend(r, col, true) : search(r, col, true);
        String groupBy = pick(r, List.of("color", "n", "tags"));
        int size = 1 + r.nextInt(4);
        int limit = 1 + r.nextInt(6);
        JsonNode lookup = r.nextInt(3) > 0 ? null : r.nextBoolean() ? Json.MAPPER.getNodeFactory().textNode(look.name())
            : Json.MAPPER.createObjectNode().put("collection", look.name()).put("with_payload", r.nextBoolean())
                .put("with_vectors", r.nextBoolean());
        for (ObjectNode body : List.of(p.legacy(), p.query())) {
          body.put("group_by", groupBy).put("group_size", size).put("limit", limit);
          if (lookup != null) {
            body.set("with_lookup", lookup);
          }
        }
        same(col, (recommend ? "recommend" : "search") + "/groups", p, Shape.GROUPS, counts);
      }
      assertMostlyFound(col, counts);
    }
  }

  // ---- comparing ----

  /**
   * Sends the legacy request to {@code /points/<endpoint>} and its query to the matching query
   * endpoint; both must succeed with the same answer, byte for byte once shaped alike.
   *
   * @param counts [compared, non-empty answers]
   */
  private static void same(Col col, String endpoint, Pair p, Shape shape, int[] counts) throws Exception {
    String base = "/collections/" + col.name() + "/points/";
    String queryEndpoint = switch (shape) {
      case POINTS -> "query";
      case BATCH -> "query/batch";
      case GROUPS -> "query/groups";
    };
    String what = "seed " + SEED + ", " + col.name() + " " + endpoint + "\nlegacy: " + p.legacy() + "\nquery:  " + p.query();
    TestNode.Response legacy = node.send("POST", base + endpoint, p.legacy().toString());
    TestNode.Response query = node.send("POST", base + queryEndpoint, p.query().toString());
    assertEquals(200, legacy.status(), what + "\n" + legacy.body());
    assertEquals(200, query.status(), what + "\n" + query.body());
    JsonNode want = legacy.result();
    JsonNode got = switch (shape) {
      case POINTS -> query.result().get("points");
      case BATCH -> {
        ArrayNode lists = Json.MAPPER.createArrayNode();
        query.result().forEach(one -> lists.add(one.get("points")));
        yield lists;
      }
      case GROUPS -> query.result();
    };
    assertEquals(want.toString(), got.toString(), what);
    counts[0]++;
    boolean found = switch (shape) {
      case POINTS -> !want.isEmpty();
      case BATCH -> java.util.stream.StreamSupport.stream(want.spliterator(), false).anyMatch(list -> !list.isEmpty());
      case GROUPS -> !want.get("groups").isEmpty();
    };
    if (found) {
      counts[1]++;
    }
  }

  /** Equal empty answers prove little: most requests must find something. */
  private static void assertMostlyFound(Col col, int[] counts) {
    assertTrue(counts[1] * 2 >= counts[0],
        "seed " + SEED + ", " + col.name() + ": only " + counts[1] + " of " + counts[0] + " answers found points");
  }

  // ---- random requests ----

  /** A search: the vector, or {@code {"name", "vector"}}; the query {@code query} (or {@code nearest}) with {@code using}. */
  private static Pair search(Random r, Col col, boolean groups) {
    Vec v = pick(r, col.vectors());
    Pair p = common(r, col, thresholdNear(r, v), groups);
    JsonNode vector;
    JsonNode queryVector;
    if (v.kind() == Kind.MULTI && r.nextBoolean()) {
      float[] row = floats(r, v.dim());
      vector = dense(row);
      // a dense vector searches a multivector as a multivector of one row
      queryVector = r.nextBoolean() ? dense(row) : Json.MAPPER.createArrayNode().add(dense(row));
    } else {
      vector = raw(r, v);
      queryVector = vector;
    }
    p.legacy().set("vector", v.name().isEmpty() ? vector : Json.MAPPER.createObjectNode().put("name", v.name()).set("vector", vector));
    p.query().set("query", r.nextBoolean() ? queryVector : Json.MAPPER.createObjectNode().set("nearest", queryVector));
    using(p, v);
    return p;
  }

  /** A recommendation: examples by id (here or in the lookup collection) and as vectors, positive and negative, any strategy. */
  private static Pair recommend(Random r, Col col, boolean groups) {
    Vec v = pick(r, col.vectors());
    boolean lookup = LOOKUP_VECTOR.containsKey(v.name()) && r.nextInt(3) == 0;
    String strategy = pick(r, java.util.Arrays.asList(null, "average_vector", "best_score", "sum_scores"));
    boolean average = strategy == null || strategy.equals("average_vector");
    int positives = average ? 1 + r.nextInt(3) : r.nextInt(4);
    int negatives = r.nextInt(3);
    if (positives + negatives == 0) {
      negatives = 1;
    }
    ArrayNode positive = examples(r, col, v, lookup, positives);
    ArrayNode negative = examples(r, col, v, lookup, negatives);
    Pair p = common(r, col, thresholdExamples(r), groups);
    ObjectNode recommend = Json.MAPPER.createObjectNode();
    for (ObjectNode body : List.of(p.legacy(), recommend)) {
      body.set("positive", positive);
      if (!negative.isEmpty() || r.nextBoolean()) {
        body.set("negative", negative);
      }
      if (strategy != null) {
        body.put("strategy", strategy);
      }
    }
    p.query().putObject("query").set("recommend", recommend);
    using(p, v);
    lookupFrom(r, p, v, lookup);
    return p;
  }

  /** A discovery: a target and context pairs (a discover query), or pairs alone (a context query). */
  private static Pair discover(Random r, Col col) {
    Vec v = pick(r, col.vectors());
    boolean lookup = LOOKUP_VECTOR.containsKey(v.name()) && r.nextInt(3) == 0;
    boolean withTarget = r.nextInt(3) > 0;
    int n = withTarget ? r.nextInt(3) : 1 + r.nextInt(3);
    ArrayNode context = Json.MAPPER.createArrayNode();
    for (int i = 0; i < n; i++) {
      context.addObject().<ObjectNode>set("positive", examples(r, col, v, lookup, 1).get(0))
          .set("negative", examples(r, col, v, lookup, 1).get(0));
    }
    // Qdrant's query takes one pair or a list of them
    JsonNode queryContext = context.size() == 1 && r.nextBoolean() ? context.get(0) : context;
    Pair p = common(r, col, thresholdExamples(r), false);
    if (!context.isEmpty() || r.nextBoolean()) {
      p.legacy().set("context", context);
    }
    if (withTarget) {
      JsonNode target = examples(r, col, v, lookup, 1).get(0);
      p.legacy().set("target", target);
      p.query().putObject("query").putObject("discover").<ObjectNode>set("target", target).set("context", queryContext);
    } else {
      p.query().putObject("query").set("context", queryContext);
    }
    using(p, v);
    lookupFrom(r, p, v, lookup);
    return p;
  }

  /**
   * The fields both forms share: limit, offset (not for groups), exact params, a filter, a score
   * threshold, what to return; in a legacy body and in a query body.
   */
  private static Pair common(Random r, Col col, double threshold, boolean groups) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    if (!groups) {
      o.put("limit", 1 + r.nextInt(15));
      if (r.nextBoolean()) {
        o.put("offset", r.nextInt(6));
      }
    }
    ObjectNode params = o.putObject("params").put("exact", true);
    if (r.nextInt(4) == 0) {
      params.put("hnsw_ef", 16 + r.nextInt(100));
    }
    if (r.nextInt(3) > 0) {
      o.set("filter", filter(r, col));
    }
    if (r.nextInt(4) == 0) {
      o.put("score_threshold", (float) threshold);
    }
    switch (r.nextInt(6)) {
      case 0 -> { }
      case 1 -> o.put("with_payload", true);
      case 2 -> o.put("with_payload", false);
      case 3 -> o.set("with_payload", Json.MAPPER.createArrayNode().add("color").add("n"));
      case 4 -> o.putObject("with_payload").putArray("include").add("price").add("tags");
      default -> o.putObject("with_payload").putArray("exclude").add("tags");
    }
    ObjectNode legacy = o.deepCopy();
    ObjectNode query = o.deepCopy();
    switch (r.nextInt(4)) {
      case 0 -> { }
      case 1 -> {
        // the legacy alias with_vectors
        legacy.put("with_vectors", true);
        query.put("with_vector", true);
      }
      case 2 -> {
        legacy.put("with_vector", false);
        query.put("with_vector", false);
      }
      default -> {
        Vec named = pick(r, col.vectors());
        JsonNode names = named.name().isEmpty() ? Json.MAPPER.getNodeFactory().booleanNode(true)
            : Json.MAPPER.createArrayNode().add(named.name());
        legacy.set("with_vector", names);
        query.set("with_vector", names);
      }
    }
    return new Pair(legacy, query);
  }

  /** {@code using} of a named vector: a search names it in its {@code vector} instead. */
  private static void using(Pair p, Vec v) {
    if (v.name().isEmpty()) {
      return;
    }
    if (!p.legacy().has("vector")) {
      p.legacy().put("using", v.name());
    }
    p.query().put("using", v.name());
  }

  /** {@code lookup_from} the lookup collection; its vector is left out when it is the one {@code using}. */
  private static void lookupFrom(Random r, Pair p, Vec v, boolean lookup) {
    if (!lookup) {
      return;
    }
    String vector = LOOKUP_VECTOR.get(v.name());
    ObjectNode from = Json.MAPPER.createObjectNode().put("collection", look.name());
    if (!vector.equals(v.name()) || r.nextBoolean()) {
      from.put("vector", vector);
    }
    p.legacy().set("lookup_from", from);
    p.query().set("lookup_from", from);
  }

  /** Examples for vector {@code v}: mostly point ids that have it (from the lookup collection with {@code lookup_from}), else vectors. */
  private static ArrayNode examples(Random r, Col col, Vec v, boolean lookup, int n) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (int i = 0; i < n; i++) {
      if (r.nextInt(3) > 0) {
        List<Integer> ids = lookup ? look.idsWith().get(LOOKUP_VECTOR.get(v.name())) : col.idsWith().get(v.name());
        out.add(pick(r, ids));
      } else {
        out.add(raw(r, v));
      }
    }
    return out;
  }

  /** A random filter over the payload: must, should, must_not and min_should of field, id and nested conditions. */
  private static ObjectNode filter(Random r, Col col) {
    ObjectNode f = Json.MAPPER.createObjectNode();
    int clauses = 0;
    for (String clause : List.of("must", "should", "must_not")) {
      int n = r.nextInt(clause.equals("must_not") ? 2 : 3);
      if (n > 0) {
        ArrayNode list = f.putArray(clause);
        for (int i = 0; i < n; i++) {
          list.add(condition(r, col, 0));
        }
        clauses++;
      }
    }
    if (r.nextInt(5) == 0 || clauses == 0) {
      ObjectNode min = f.putObject("min_should");
      ArrayNode list = min.putArray("conditions");
      int n = 2 + r.nextInt(2);
      for (int i = 0; i < n; i++) {
        list.add(condition(r, col, 0));
      }
      min.put("min_count", 1 + r.nextInt(2));
    }
    return f;
  }

  private static ObjectNode condition(Random r, Col col, int depth) {
    ObjectNode c = Json.MAPPER.createObjectNode();
    switch (r.nextInt(depth == 0 ? 10 : 9)) {
      case 0 -> c.put("key", "color").putObject("match").put("value", pick(r, List.of(COLORS)));
      case 1 -> c.put("key", "color").putObject("match").putArray("any").add(pick(r, List.of(COLORS))).add(pick(r, List.of(COLORS)));
      case 2 -> c.put("key", "color").putObject("match").putArray("except").add(pick(r, List.of(COLORS)));
      case 3 -> {
        int from = r.nextInt(10);
        c.put("key", "n").putObject("range").put("gte", from).put("lt", from + 1 + r.nextInt(6));
      }
      case 4 -> c.put("key", "n").putObject("match").put("value", r.nextInt(10));
      case 5 -> c.put("key", "price").putObject("range").put(r.nextBoolean() ? "lt" : "gte", r.nextInt(10000) / 100.0);
      case 6 -> c.put("key", "tags").putObject("match").put("value", pick(r, List.of(TAGS)));
      case 7 -> c.putObject("is_empty").put("key", "price");
      case 8 -> {
        ArrayNode ids = c.putArray("has_id");
        for (int i = 0; i < col.points() / 4; i++) {
          ids.add(r.nextInt(col.points()));
        }
      }
      default -> c.putArray(r.nextBoolean() ? "must_not" : "should").add(condition(r, col, depth + 1)).add(condition(r, col, depth + 1));
    }
    return c;
  }

  /** A score threshold around the scores a nearest search on {@code v} gives (a distance's is an upper bound). */
  private static double thresholdNear(Random r, Vec v) {
    double u = r.nextDouble();
    return switch (v.kind()) {
      case SPARSE -> u * 0.8;
      case MULTI -> u * 1.5;
      case DENSE -> switch (v.distance()) {
        case "Euclid" -> 1 + u * 1.5;
        case "Dot" -> u * 1.5 - 0.5;
        default -> u * 0.7 - 0.2;
      };
    };
  }

  /** A threshold around the scores of recommendations and discoveries. */
  private static double thresholdExamples(Random r) {
    return r.nextDouble() * 1.3 - 0.5;
  }

  // ---- data ----

  /** Creates a collection with its payload indexes and {@code n} random points (ids 0..n-1); some lack a named vector. */
  private static Col create(Random r, String name, String config, int n, List<Vec> vectors) throws Exception {
    ok(node.send("PUT", "/collections/" + name, config));
    for (String index : List.of("{\"field_name\": \"color\", \"field_schema\": \"keyword\"}",
        "{\"field_name\": \"n\", \"field_schema\": \"integer\"}")) {
      ok(node.send("PUT", "/collections/" + name + "/index?wait=true", index));
    }
    Map<String, List<Integer>> idsWith = new LinkedHashMap<>();
    vectors.forEach(v -> idsWith.put(v.name(), new ArrayList<>()));
    ArrayNode points = Json.MAPPER.createArrayNode();
    for (int id = 0; id < n; id++) {
      ObjectNode point = points.addObject().put("id", id);
      if (vectors.size() == 1 && vectors.get(0).name().isEmpty()) {
        point.set("vector", raw(r, vectors.get(0)));
        idsWith.get("").add(id);
      } else {
        ObjectNode named = point.putObject("vector");
        for (Vec v : vectors) {
          // a few points without the vector: the first ones always have every vector
          if (id < 10 || r.nextInt(7) > 0) {
            named.set(v.name(), v.kind() == Kind.MULTI ? multi(r, v.dim()) : raw(r, v));
            idsWith.get(v.name()).add(id);
          }
        }
      }
      point.set("payload", payload(r));
    }
    for (int from = 0; from < n; from += 100) {
      ArrayNode batch = Json.MAPPER.createArrayNode();
      for (int i = from; i < Math.min(n, from + 100); i++) {
        batch.add(points.get(i));
      }
      ok(node.send("PUT", "/collections/" + name + "/points?wait=true", Json.MAPPER.createObjectNode().set("points", batch).toString()));
    }
    return new Col(name, n, vectors, idsWith);
  }

  private static ObjectNode payload(Random r) {
    ObjectNode p = Json.MAPPER.createObjectNode();
    if (r.nextInt(7) > 0) {
      p.put("color", pick(r, List.of(COLORS)));
    }
    int k = r.nextInt(10);
    if (k == 0) {
      p.putArray("n").add(r.nextInt(10)).add(r.nextInt(10));
    } else if (k > 1) {
      p.put("n", r.nextInt(10));
    }
    if (r.nextInt(10) < 7) {
      p.put("price", r.nextInt(10000) / 100.0);
    }
    if (r.nextBoolean()) {
      ArrayNode tags = p.putArray("tags");
      for (String t : new TreeSet<>(List.of(pick(r, List.of(TAGS)), pick(r, List.of(TAGS))))) {
        tags.add(t);
      }
    }
    return p;
  }

  /** A vector for {@code v} as a request gives one: dense, sparse, or a multivector of one to three rows. */
  private static JsonNode raw(Random r, Vec v) {
    return switch (v.kind()) {
      case DENSE -> dense(floats(r, v.dim()));
      case MULTI -> multi(r, v.dim());
      case SPARSE -> {
        ObjectNode s = Json.MAPPER.createObjectNode();
        ArrayNode indices = s.putArray("indices");
        ArrayNode values = s.putArray("values");
        // indices in no particular order: both forms must sort them alike
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
          all.add(i);
        }
        java.util.Collections.shuffle(all, r);
        for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
          indices.add(all.get(i));
          values.add(r.nextFloat() * 1.2f - 0.2f);
        }
        yield s;
      }
    };
  }

  private static ArrayNode multi(Random r, int dim) {
    ArrayNode rows = Json.MAPPER.createArrayNode();
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      rows.add(dense(floats(r, dim)));
    }
    return rows;
  }

  private static float[] floats(Random r, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return v;
  }

  private static ArrayNode dense(float[] v) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (float f : v) {
      a.add(f);
    }
    return a;
  }

  private static <T> T pick(Random r, List<T> list) {
    return list.get(r.nextInt(list.size()));
  }

  private static Random random(int test) {
    return new Random(SEED * 31 + test);
  }

  private static void ok(TestNode.Response response) {
    assertEquals(200, response.status(), response.body());
  }
}
