package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collection of several shards answers every read as a collection of one shard holding the same
 * points: the same random points (dense Cosine, Euclid and Dot vectors, a max_sim multivector, a
 * sparse vector, payloads with keyword, integer and float indexes, arrays and missing fields) are
 * written to collections of 1, 3 and 4 shards, with the same writes spanning shards (batches,
 * deletes and payload changes by filter and by id, vector updates) and the same refused writes
 * (which must change nothing anywhere); then hundreds of random reads (retrieve, scroll by id and by
 * order_by, count, facets, exact queries of every kind with filters, thresholds, offsets and
 * prefetch trees with fusion, formulas, MMR and order_by, groups with lookups, the distance matrix)
 * must answer identically, but for the points' versions (WAL sequence numbers, which are per
 * shard). HNSW searches must find at least as much of the exact answer with several shards. The
 * seed is fixed; {@code -Dtests.seed=N} replays another.
 */
@Timeout(180)
class ShardedEquivalenceTest {
  private static final long SEED = Long.getLong("tests.seed", 0x5ad5L);
  private static final String[] COLORS = {"red", "green", "blue", "black", "white"};
  private static final String[] TAGS = {"a", "b", "c", "d", "e", "f"};
  private static final String[] NAMES = {"one", "three", "four"};
  private static final String[] DENSE = {"c", "e", "d"};
  private static final int[] DIMS = {6, 4, 5};
  private static final String CONFIG = "{\"vectors\": {\"c\": {\"size\": 6, \"distance\": \"Cosine\"}, "
      + "\"e\": {\"size\": 4, \"distance\": \"Euclid\"}, \"d\": {\"size\": 5, \"distance\": \"Dot\"}, "
      + "\"m\": {\"size\": 3, \"distance\": \"Cosine\", \"multivector_config\": {\"comparator\": \"max_sim\"}}}, "
      + "\"sparse_vectors\": {\"s\": {}}, \"shard_number\": %d}";

  @TempDir static Path dir;
  static TestNode node;
  static final List<JsonNode> ids = new ArrayList<>();
  static int nextId = 1;
  static int refusals;
  /** The ids reads pick from. */
  static List<JsonNode> current = ids;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    int[] shards = {1, 3, 4};
    for (int i = 0; i < NAMES.length; i++) {
      ok(node.send("PUT", "/collections/" + NAMES[i], String.format(CONFIG, shards[i])));
      for (String[] index : new String[][] {{"color", "keyword"}, {"n", "integer"}, {"price", "float"}, {"tags", "keyword"}}) {
        ok(node.send("PUT", "/collections/" + NAMES[i] + "/index?wait=true",
            "{\"field_name\": \"" + index[0] + "\", \"field_schema\": \"" + index[1] + "\"}"));
      }
    }
    ok(node.send("PUT", "/collections/look", "{\"vectors\": {\"c\": {\"size\": 6, \"distance\": \"Cosine\"}}, \"shard_number\": 2}"));
    Random r = new Random(SEED);
    ArrayNode lookPoints = Json.MAPPER.createArrayNode();
    for (int i = 0; i < 60; i++) {
      ObjectNode p = lookPoints.addObject().put("id", i);
      p.putObject("vector").set("c", dense(r, 6));
      p.putObject("payload").put("name", "look-" + i);
    }
    ok(node.send("PUT", "/collections/look/points?wait=true", Json.MAPPER.createObjectNode().set("points", lookPoints).toString()));
    for (int batch = 0; batch < 8; batch++) {
      ArrayNode points = Json.MAPPER.createArrayNode();
      for (int i = 0; i < 50; i++) {
        points.add(point(r));
      }
      writeAll("PUT", "/points?wait=true", Json.MAPPER.createObjectNode().set("points", points));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- writes ----

  @Test
  void writesSpanningShardsAndRefusedWritesLeaveTheSamePoints() throws Exception {
    Random r = random(1);
    for (int round = 0; round < 12; round++) {
      ArrayNode operations = Json.MAPPER.createArrayNode();
      for (int n = 1 + r.nextInt(4); n > 0; n--) {
        operations.add(operation(r));
      }
      writeAll("POST", "/points/batch?wait=true", Json.MAPPER.createObjectNode().set("operations", operations));
      sameEverywhere("scroll after batch " + operations, "POST", "/points/scroll",
          "{\"limit\": 10000, \"with_payload\": true, \"with_vector\": true}");
    }
    String before = node.send("POST", "/collections/one/points/scroll", "{\"limit\": 10000, \"with_payload\": true, \"with_vector\": true}")
        .result().toString();
    // a bad point at the end of a batch: nothing of the batch is applied, anywhere
    ArrayNode points = Json.MAPPER.createArrayNode();
    for (int i = 0; i < 20; i++) {
      points.add(point(r));
    }
    ((ObjectNode) points.get(19).get("vector")).set("c", dense(r, 5));
    refusedEverywhere("PUT", "/points?wait=true", Json.MAPPER.createObjectNode().set("points", points).toString(), 400);
    // a later step naming a point that does not exist refuses the earlier ones too
    refusedEverywhere("POST", "/points/batch?wait=true", "{\"operations\": [{\"upsert\": {\"points\": [" + point(r) + "]}}, "
        + "{\"set_payload\": {\"payload\": {\"x\": 1}, \"points\": [" + ids.get(0) + ", 999999]}}]}", 404);
    refusedEverywhere("PUT", "/points/vectors?wait=true", "{\"points\": [{\"id\": " + ids.get(1) + ", \"vector\": {\"e\": "
        + dense(r, 4) + "}}, {\"id\": 999998, \"vector\": {\"e\": " + dense(r, 4) + "}}]}", 404);
    refusedEverywhere("POST", "/points/payload?wait=true", "{\"payload\": {\"x\": 1}, \"points\": [999997]}", 404);
    refusedEverywhere("PUT", "/points/vectors?wait=true", "{\"points\": [{\"id\": " + ids.get(2) + ", \"vector\": {\"zz\": "
        + dense(r, 4) + "}}]}", 400);
    for (String name : NAMES) {
      assertEquals(before, node.send("POST", "/collections/" + name + "/points/scroll",
          "{\"limit\": 10000, \"with_payload\": true, \"with_vector\": true}").result().toString(), name + " changed");
    }
  }

  // ---- reads ----

  @Test
  void pointReadsAnswerAlike() throws Exception {
    Random r = random(2);
    current = existingIds();
    for (int i = 0; i < 60; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode();
      ArrayNode want = body.putArray("ids");
      for (int n = 1 + r.nextInt(8); n > 0; n--) {
        want.add(r.nextInt(10) == 0 ? Json.MAPPER.getNodeFactory().numberNode(900_000 + r.nextInt(100)) : pick(r, current));
      }
      selection(r, body);
      sameEverywhere("retrieve", "POST", "/points", body.toString());
    }
    for (int i = 0; i < 10; i++) {
      sameEverywhere("get", "GET", "/points/" + pick(r, current).asText(), null);
    }
    for (int i = 0; i < 60; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode().put("limit", 1 + r.nextInt(40));
      if (r.nextBoolean()) {
        body.set("filter", filter(r));
      }
      if (r.nextInt(3) == 0) {
        ObjectNode order = body.putObject("order_by").put("key", r.nextBoolean() ? "n" : "price");
        order.put("direction", r.nextBoolean() ? "asc" : "desc");
        if (r.nextBoolean()) {
          order.put("start_from", r.nextInt(40));
        }
      } else if (r.nextBoolean()) {
        body.set("offset", pick(r, current));
      }
      selection(r, body);
      sameEverywhere("scroll", "POST", "/points/scroll", body.toString());
    }
    // a whole scroll, page by page
    JsonNode offset = null;
    int pages = 0;
    do {
      ObjectNode body = Json.MAPPER.createObjectNode().put("limit", 37);
      if (offset != null) {
        body.set("offset", offset);
      }
      offset = sameEverywhere("scroll pages", "POST", "/points/scroll", body.toString()).get("next_page_offset");
      pages++;
    } while (offset != null && !offset.isNull());
    assertTrue(pages > 5);
    for (int i = 0; i < 40; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode().put("exact", true);
      if (r.nextInt(4) > 0) {
        body.set("filter", filter(r));
      }
      sameEverywhere("count", "POST", "/points/count", body.toString());
    }
    for (int i = 0; i < 40; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode().put("key", pick(r, List.of("color", "tags", "n"))).put("limit", 1 + r.nextInt(8));
      if (r.nextBoolean()) {
        body.set("filter", filter(r));
      }
      sameEverywhere("facet", "POST", "/facet", body.toString());
    }
    for (int i = 0; i < 12; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode().put("sample", 10_000).put("limit", 1 + r.nextInt(4))
          .put("using", pick(r, List.of(DENSE)));
      if (r.nextBoolean()) {
        body.set("filter", filter(r));
      }
      sameEverywhere("matrix", "POST", "/points/search/matrix/" + (r.nextBoolean() ? "pairs" : "offsets"), body.toString());
    }
    JsonNode info = node.get("/collections/one").result();
    for (String name : NAMES) {
      JsonNode other = node.get("/collections/" + name).result();
      assertEquals(info.get("points_count"), other.get("points_count"), name);
      assertEquals(info.get("indexed_vectors_count"), other.get("indexed_vectors_count"), name);
      assertEquals(info.get("payload_schema"), other.get("payload_schema"), name);
      JsonNode cluster = node.get("/collections/" + name + "/cluster").result();
      long sum = 0;
      for (JsonNode s : cluster.get("local_shards")) {
        assertEquals("Active", s.get("state").asText());
        sum += s.get("points_count").asLong();
      }
      assertEquals(cluster.get("local_shards").size(), cluster.get("shard_count").asInt());
      assertEquals(info.get("points_count").asLong(), sum, name);
    }
    assertEquals(4, node.get("/collections/four/cluster").result().get("shard_count").asInt());
  }

  @Test
  void exactQueriesAnswerAlike() throws Exception {
    Random r = random(3);
    current = existingIds();
    int found = 0;
    for (int i = 0; i < 300; i++) {
      ObjectNode body = query(r, 0);
      body.put("limit", 1 + r.nextInt(15));
      if (r.nextBoolean()) {
        body.put("offset", r.nextInt(5));
      }
      selection(r, body);
      JsonNode result = sameEverywhere("query", "POST", "/points/query", body.toString());
      found += result == null || result.get("points").isEmpty() ? 0 : 1;
    }
    assertTrue(found > 150, "only " + found + " queries found points; " + refusals + " refused");
    for (int i = 0; i < 40; i++) {
      ObjectNode body = query(r, 1);
      body.put("group_by", pick(r, List.of("color", "n", "tags"))).put("group_size", 1 + r.nextInt(3)).put("limit", 1 + r.nextInt(5));
      if (r.nextInt(3) == 0) {
        body.putObject("with_lookup").put("collection", "look").put("with_payload", true).put("with_vectors", r.nextBoolean());
      }
      selection(r, body);
      sameEverywhere("groups", "POST", "/points/query/groups", body.toString());
    }
    for (int i = 0; i < 20; i++) {
      int d = r.nextInt(3);
      ObjectNode body = Json.MAPPER.createObjectNode().put("limit", 1 + r.nextInt(10));
      body.putObject("vector").put("name", DENSE[d]).set("vector", dense(r, DIMS[d]));
      body.putObject("params").put("exact", true);
      if (r.nextBoolean()) {
        body.set("filter", filter(r));
      }
      sameEverywhere("search", "POST", "/points/search", body.toString());
      ObjectNode rec = Json.MAPPER.createObjectNode().put("limit", 1 + r.nextInt(10)).put("using", DENSE[d]);
      rec.putArray("positive").add(pick(r, current)).add(pick(r, current));
      rec.putArray("negative").add(pick(r, current));
      rec.put("strategy", pick(r, List.of("average_vector", "best_score", "sum_scores")));
      rec.putObject("params").put("exact", true);
      sameEverywhere("recommend", "POST", "/points/recommend", rec.toString());
    }
    // a random sample: as many points, all of them matching
    for (int i = 0; i < 10; i++) {
      ObjectNode body = Json.MAPPER.createObjectNode().put("limit", 1 + r.nextInt(30));
      body.putObject("query").put("sample", "random");
      JsonNode filter = filter(r);
      body.set("filter", filter);
      int count = node.send("POST", "/collections/one/points/count", "{\"exact\": true, \"filter\": " + filter + "}").result()
          .get("count").asInt();
      for (String name : NAMES) {
        JsonNode points = node.send("POST", "/collections/" + name + "/points/query", body.toString()).result().get("points");
        assertEquals(Math.min(count, body.get("limit").asInt()), points.size(), name + " " + body);
        Set<String> distinct = new HashSet<>();
        points.forEach(p -> distinct.add(p.get("id").toString()));
        assertEquals(points.size(), distinct.size());
      }
    }
  }

  @Test
  void approximateSearchFindsAtLeastAsMuch() throws Exception {
    Random r = random(4);
    double[] recall = new double[NAMES.length];
    for (int i = 0; i < 40; i++) {
      int d = r.nextInt(3);
      ObjectNode body = Json.MAPPER.createObjectNode().put("limit", 10).put("using", DENSE[d]);
      body.set("query", dense(r, DIMS[d]));
      body.putObject("params").put("hnsw_ef", 16);
      ObjectNode exact = body.deepCopy();
      ((ObjectNode) exact.get("params")).put("exact", true);
      Set<String> truth = idsOf(node.send("POST", "/collections/one/points/query", exact.toString()).result().get("points"));
      for (int c = 0; c < NAMES.length; c++) {
        Set<String> got = idsOf(node.send("POST", "/collections/" + NAMES[c] + "/points/query", body.toString()).result().get("points"));
        got.retainAll(truth);
        recall[c] += got.size() / (double) Math.max(1, truth.size());
      }
    }
    for (int c = 1; c < NAMES.length; c++) {
      assertTrue(recall[c] >= recall[0] - 1e-9, NAMES[c] + " recall " + recall[c] / 40 + " < " + recall[0] / 40);
    }
  }

  /** The ids of the points there are now (the writes test may have run first). */
  private static List<JsonNode> existingIds() throws Exception {
    List<JsonNode> out = new ArrayList<>();
    node.send("POST", "/collections/one/points/scroll", "{\"limit\": 100000}").result().get("points").forEach(p -> out.add(p.get("id")));
    return out;
  }

  private static Set<String> idsOf(JsonNode points) {
    Set<String> out = new HashSet<>();
    points.forEach(p -> out.add(p.get("id").toString()));
    return out;
  }

  // ---- random requests ----

  /** A query body: a leaf, or (depth permitting) a stage over prefetches. */
  private static ObjectNode query(Random r, int depth) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.putObject("params").put("exact", true);
    if (r.nextInt(3) == 0) {
      body.set("filter", filter(r));
    }
    if (depth < 2 && r.nextInt(3) == 0) {
      ArrayNode prefetch = body.putArray("prefetch");
      for (int n = 1 + r.nextInt(3); n > 0; n--) {
        ObjectNode child = query(r, depth + 1);
        child.put("limit", 1 + r.nextInt(25));
        prefetch.add(child);
      }
      switch (r.nextInt(7)) {
        case 0 -> body.putObject("query").put("fusion", "rrf");
        case 1 -> body.putObject("query").put("fusion", "dbsf");
        case 2 -> {
          int d = r.nextInt(3);
          body.put("using", DENSE[d]).set("query", dense(r, DIMS[d]));
        }
        case 3 -> body.putObject("query").putObject("order_by").put("key", "n").put("direction", r.nextBoolean() ? "asc" : "desc");
        case 4 -> body.putObject("query").putObject("formula").putArray("sum").add("$score")
            .add(Json.MAPPER.createObjectNode().set("mult", Json.MAPPER.createArrayNode().add(0.01).add("n")));
        case 5 -> {
          int d = r.nextInt(3);
          body.put("using", DENSE[d]).putObject("query").<ObjectNode>set("nearest", dense(r, DIMS[d]))
              .putObject("mmr").put("diversity", r.nextFloat()).put("candidates_limit", 5 + r.nextInt(20));
        }
        default -> body.putObject("query").put("fusion", "rrf");
      }
      if (body.path("query").has("formula")) {
        ((ObjectNode) body.get("query")).putObject("defaults").put("n", 0);
      }
      return body;
    }
    switch (r.nextInt(10)) {
      case 0, 1, 2 -> {
        int d = r.nextInt(3);
        body.put("using", DENSE[d]).set("query", r.nextInt(4) == 0 ? pick(r, current) : dense(r, DIMS[d]));
        if (r.nextInt(4) == 0) {
          body.put("score_threshold", DENSE[d].equals("e") ? 1.5 + r.nextFloat() * 2 : r.nextFloat() * 0.5);
        }
      }
      case 3 -> {
        body.put("using", "s").putObject("query").set("nearest", sparse(r));
      }
      case 4 -> {
        ArrayNode rows = Json.MAPPER.createArrayNode();
        for (int n = 1 + r.nextInt(3); n > 0; n--) {
          rows.add(dense(r, 3));
        }
        body.put("using", "m").set("query", rows);
      }
      case 5 -> {
        int d = r.nextInt(4);
        body.put("using", d == 3 ? "s" : DENSE[d]);
        ObjectNode rec = body.putObject("query").putObject("recommend");
        rec.putArray("positive").add(pick(r, current));
        if (r.nextBoolean()) {
          rec.putArray("negative").add(pick(r, current));
        }
        rec.put("strategy", pick(r, List.of("average_vector", "best_score", "sum_scores")));
      }
      case 6 -> {
        int d = r.nextInt(3);
        body.put("using", DENSE[d]);
        ObjectNode discover = body.putObject("query").putObject("discover");
        discover.set("target", r.nextBoolean() ? pick(r, current) : dense(r, DIMS[d]));
        discover.putArray("context").addObject().<ObjectNode>set("positive", pick(r, current)).set("negative", pick(r, current));
      }
      case 7 -> {
        int d = r.nextInt(3);
        body.put("using", DENSE[d]);
        ArrayNode context = body.putObject("query").putArray("context");
        for (int n = 1 + r.nextInt(2); n > 0; n--) {
          context.addObject().<ObjectNode>set("positive", pick(r, current)).set("negative", pick(r, current));
        }
      }
      case 8 -> body.putObject("query").putObject("order_by").put("key", r.nextBoolean() ? "n" : "price")
          .put("direction", r.nextBoolean() ? "asc" : "desc");
      default -> {
        // no query: points in id order
      }
    }
    return body;
  }

  private static void selection(Random r, ObjectNode body) {
    switch (r.nextInt(4)) {
      case 0 -> body.put("with_payload", true);
      case 1 -> body.putArray("with_payload").add("color").add("n");
      case 2 -> body.putObject("with_payload").putArray("exclude").add("tags");
      default -> body.put("with_payload", false);
    }
    switch (r.nextInt(3)) {
      case 0 -> body.put("with_vector", true);
      case 1 -> body.putArray("with_vector").add(pick(r, List.of(DENSE))).add("s");
      default -> body.put("with_vector", false);
    }
  }

  private static JsonNode filter(Random r) {
    ObjectNode f = Json.MAPPER.createObjectNode();
    ArrayNode must = f.putArray(r.nextInt(4) == 0 ? "should" : "must");
    for (int n = 1 + r.nextInt(2); n > 0; n--) {
      switch (r.nextInt(5)) {
        case 0 -> must.addObject().put("key", "color").putObject("match").put("value", pick(r, List.of(COLORS)));
        case 1 -> must.addObject().put("key", "n").putObject("range").put("gte", r.nextInt(30)).put("lt", 20 + r.nextInt(40));
        case 2 -> must.addObject().put("key", "price").putObject("range").put("lte", r.nextDouble() * 100);
        case 3 -> must.addObject().put("key", "tags").putObject("match").putArray("any").add(pick(r, List.of(TAGS)))
            .add(pick(r, List.of(TAGS)));
        default -> must.addObject().putObject("is_empty").put("key", "color");
      }
    }
    return f;
  }

  /** A random step of a batch: every kind, by id and by filter. */
  private static JsonNode operation(Random r) {
    ObjectNode op = Json.MAPPER.createObjectNode();
    switch (r.nextInt(8)) {
      case 0 -> {
        ArrayNode points = op.putObject("upsert").putArray("points");
        for (int n = 1 + r.nextInt(12); n > 0; n--) {
          points.add(r.nextInt(3) == 0 ? point(r, pick(r, ids)) : point(r));
        }
      }
      case 1 -> op.putObject("delete").set("filter", filter(r));
      case 2 -> op.putObject("delete").putArray("points").add(pick(r, ids)).add(900_123);
      case 3 -> op.putObject("set_payload").<ObjectNode>set("filter", filter(r)).putObject("payload").put("flag", r.nextInt(5));
      case 4 -> op.putObject("overwrite_payload").<ObjectNode>set("filter", filter(r)).putObject("payload")
          .put("color", pick(r, List.of(COLORS))).put("n", r.nextInt(50));
      case 5 -> op.putObject("delete_payload").<ObjectNode>set("filter", filter(r)).putArray("keys").add("price");
      case 6 -> op.putObject("delete_vectors").<ObjectNode>set("filter", filter(r)).putArray("vector").add(pick(r, List.of(DENSE)));
      default -> op.putObject("clear_payload").set("filter", filter(r));
    }
    return op;
  }

  private static JsonNode point(Random r) {
    JsonNode id = r.nextInt(10) == 0 ? Json.MAPPER.getNodeFactory().textNode(new java.util.UUID(r.nextLong(), r.nextLong()).toString())
        : Json.MAPPER.getNodeFactory().numberNode(nextId++ * 3 + r.nextInt(3));
    ids.add(id);
    return point(r, id);
  }

  private static JsonNode point(Random r, JsonNode id) {
    ObjectNode p = Json.MAPPER.createObjectNode();
    p.set("id", id);
    ObjectNode vector = p.putObject("vector");
    for (int d = 0; d < DENSE.length; d++) {
      if (r.nextInt(8) > 0) {
        vector.set(DENSE[d], dense(r, DIMS[d]));
      }
    }
    if (r.nextInt(5) > 0) {
      ArrayNode rows = vector.putArray("m");
      for (int n = 1 + r.nextInt(3); n > 0; n--) {
        rows.add(dense(r, 3));
      }
    }
    if (r.nextInt(5) > 0) {
      vector.set("s", sparse(r));
    }
    ObjectNode payload = p.putObject("payload");
    if (r.nextInt(10) > 0) {
      payload.put("color", pick(r, List.of(COLORS)));
    }
    if (r.nextInt(10) > 0) {
      payload.put("n", r.nextInt(60));
    }
    if (r.nextInt(5) > 0) {
      payload.put("price", Math.round(r.nextDouble() * 10_000) / 100.0);
    }
    ArrayNode tags = payload.putArray("tags");
    for (int n = r.nextInt(4); n > 0; n--) {
      tags.add(pick(r, List.of(TAGS)));
    }
    return p;
  }

  private static ArrayNode dense(Random r, int dim) {
    ArrayNode a = Json.MAPPER.createArrayNode();
    for (int i = 0; i < dim; i++) {
      a.add((float) r.nextGaussian());
    }
    return a;
  }

  private static ObjectNode sparse(Random r) {
    ObjectNode s = Json.MAPPER.createObjectNode();
    ArrayNode indices = s.putArray("indices");
    ArrayNode values = s.putArray("values");
    Set<Integer> used = new java.util.TreeSet<>();
    for (int n = 1 + r.nextInt(6); n > 0; n--) {
      used.add(r.nextInt(30));
    }
    for (int i : used) {
      indices.add(i);
      values.add((float) (r.nextDouble() * 2 - 0.5));
    }
    return s;
  }

  // ---- comparing ----

  /**
   * Sends the request to every collection; all must answer alike but for versions (a refusal with
   * the same status and message: a query may name a point deleted by now). Returns the one-shard
   * answer, or null for a refusal.
   */
  private static JsonNode sameEverywhere(String what, String method, String path, String body) throws Exception {
    JsonNode want = null;
    TestNode.Response first = null;
    for (String name : NAMES) {
      TestNode.Response response = node.send(method, "/collections/" + name + path, body);
      if (first == null) {
        first = response;
        refusals += response.status() == 200 ? 0 : 1;
      }
      assertEquals(first.status(), response.status(), seed(what, name, body) + "\n" + response.body());
      if (response.status() != 200) {
        assertEquals(first.error(), response.error(), seed(what, name, body));
        continue;
      }
      JsonNode got = withoutVersions(response.result());
      if (want == null) {
        want = got;
      } else {
        assertEquals(want.toString(), got.toString(), seed(what, name, body));
      }
    }
    return want;
  }

  /** The write applied to every collection (answers differ only in operation ids). */
  private static void writeAll(String method, String path, JsonNode body) throws Exception {
    for (String name : NAMES) {
      ok(node.send(method, "/collections/" + name + path, body.toString()));
    }
  }

  private static void refusedEverywhere(String method, String path, String body, int status) throws Exception {
    String error = null;
    for (String name : NAMES) {
      TestNode.Response response = node.send(method, "/collections/" + name + path, body);
      assertEquals(status, response.status(), seed("refused write", name, body) + "\n" + response.body());
      if (error == null) {
        error = response.error();
      } else {
        assertEquals(error, response.error(), seed("refused write", name, body));
      }
    }
  }

  private static JsonNode withoutVersions(JsonNode n) {
    if (n instanceof ObjectNode o) {
      o.remove("version");
      o.forEach(ShardedEquivalenceTest::withoutVersions);
    } else if (n instanceof ArrayNode a) {
      a.forEach(ShardedEquivalenceTest::withoutVersions);
    }
    return n;
  }

  private static String seed(String what, String name, String body) {
    return "seed " + SEED + ", " + what + " on " + name + ": " + body;
  }

  private static void ok(TestNode.Response response) {
    assertEquals(200, response.status(), response.body());
  }

  private static Random random(int test) {
    return new Random(SEED * 31 + test);
  }

  private static <T> T pick(Random r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }
}
