package io.quiver.api;

import io.quiver.json.Json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.testing.TestNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property-based robustness over every operation of the REST contract: requests generated from the
 * spec's own schemas, then mutated (fields dropped, added or of the wrong type, extreme numbers, odd
 * strings, deep nesting, truncated or non-JSON bodies, odd path parameters), are thrown at a real
 * node holding fixtures. Properties: no 5xx (a deliberate 501 "Not implemented" for a missing feature
 * aside), the node keeps answering, and a refused request (4xx) leaves the stored data exactly as it
 * was: collections, their configs, points with payloads and vectors, aliases, payload schema, lock.
 *
 * <p>Seeded and reproducible: the seed is printed; rerun with {@code -Dquiver.fuzz.seed=N}, and
 * {@code -Dquiver.fuzz.tries=N} for a longer run. The build uses a fixed seed, so that a build
 * passes or fails for its code alone; explore with {@code -Dquiver.fuzz.seed=random}, and keep any
 * seed that finds something as a case of its own.
 */
@Timeout(600)
class RouteFuzzTest {
  static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** The seed of the build's run (the one that found the strict-mode rate limit case). */
  static final long BUILD_SEED = 31095122388070L;
  /** The longest request line the server reads (Vert.x's default); longer ones get 414. */
  static final int MAX_URI = 4000;

  @TempDir Path dir;

  private JsonNode spec;
  private Random random;

  @Test
  void mutatedRequestsNeverFailTheServerNorChangeDataWhenRefused() throws Exception {
    String seedProperty = System.getProperty("quiver.fuzz.seed", Long.toString(BUILD_SEED));
    long seed = seedProperty.equals("random") ? System.nanoTime() : Long.parseLong(seedProperty);
    int tries = Integer.getInteger("quiver.fuzz.tries", 1500);
    System.out.println("RouteFuzzTest seed " + seed + " (rerun with -Dquiver.fuzz.seed=" + seed + ")");
    random = new Random(seed);
    spec = Json.MAPPER.readTree(Files.readAllBytes(Path.of(getClass().getResource("/qdrant-openapi-v1.15.5.json").toURI())));
    List<String[]> operations = new ArrayList<>();
    spec.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> operations.add(new String[] {p.getKey(), m})));
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      fixtures(node);
      String before = fingerprint(node);
      int accepted = 0;
      int refused = 0;
      for (int i = 0; i < tries; i++) {
        String[] op = operations.get(random.nextInt(operations.size()));
        JsonNode operation = spec.at("/paths/" + op[0].replace("~", "~0").replace("/", "~1") + "/" + op[1]);
        String method = op[1].toUpperCase();
        String path = path(op[0], operation);
        String body = body(operation);
        TestNode.Response r;
        try {
          r = send(node, method, path, body);
        } catch (java.io.IOException e) {
          if (path.length() <= MAX_URI) {
            throw new AssertionError("try " + i + " (seed " + seed + "): " + method + " " + abbreviate(path) + " " + abbreviate(body)
                + " failed", e);
          }
          // an over-long request line: the server answers 414 and closes the connection, which the
          // client may see as a reset; a refusal like any other
          r = new TestNode.Response(414, "", Map.of());
        }
        String what = "try " + i + " (seed " + seed + "): " + method + " " + abbreviate(path) + " " + abbreviate(body) + " -> "
            + r.status() + " " + abbreviate(r.body());
        if (r.status() >= 500 && !(r.status() == 501 && r.body().contains("Not implemented"))) {
          fail("server error on " + what);
        }
        assertEquals(200, node.get("/readyz").status(), "node still ready after " + what);
        if (r.status() >= 400) {
          refused++;
          String after = fingerprint(node);
          if (!after.equals(before)) {
            fail("refused request changed stored data: " + what + "\n" + difference(before, after));
          }
        } else {
          accepted++;
          restore(node);
          before = fingerprint(node);
        }
      }
      System.out.println("RouteFuzzTest: " + tries + " requests over " + operations.size() + " operations, " + accepted
          + " accepted, " + refused + " refused");
    }
  }

  // ---- fixtures and the fingerprint of everything stored ----

  private static final String[] COLLECTIONS = {"fz", "fz_sparse"};

  private static void fixtures(TestNode node) throws Exception {
    ok(node.send("PUT", "/collections/fz", "{\"vectors\": {\"d\": {\"size\": 4, \"distance\": \"Cosine\"},"
        + " \"e\": {\"size\": 2, \"distance\": \"Euclid\"}}, \"sparse_vectors\": {\"s\": {}}}"));
    ok(node.send("PUT", "/collections/fz/index?wait=true", "{\"field_name\": \"k\", \"field_schema\": \"keyword\"}"));
    ok(node.send("PUT", "/collections/fz/index?wait=true", "{\"field_name\": \"n\", \"field_schema\": \"integer\"}"));
    StringBuilder points = new StringBuilder("{\"points\": [");
    for (int i = 1; i <= 12; i++) {
      points.append(i == 1 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": {\"d\": [").append(i).append(", 1, 0, ")
          .append(i % 3).append("], \"e\": [").append(i).append(", 2], \"s\": {\"indices\": [").append(i).append("], \"values\": [0.5]}},")
          .append(" \"payload\": {\"k\": \"v").append(i % 4).append("\", \"n\": ").append(i).append(", \"tags\": [\"a\", \"b\"]}}");
    }
    points.append(", {\"id\": \"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\", \"vector\": {\"d\": [0, 0, 1, 0]}, \"payload\": {\"k\": \"u\"}}]}");
    ok(node.send("PUT", "/collections/fz/points?wait=true", points.toString()));
    ok(node.send("PUT", "/collections/fz_sparse", "{\"sparse_vectors\": {\"t\": {\"modifier\": \"idf\"}}}"));
    ok(node.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"fz\", \"alias_name\": \"fz_alias\"}}]}"));
  }

  /** After an accepted request: unlock, and bring back fixtures it deleted, so later requests still hit data. */
  private static void restore(TestNode node) throws Exception {
    if (node.get("/locks").result().path("write").asBoolean()) {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
    boolean missing = false;
    for (String c : COLLECTIONS) {
      TestNode.Response info = node.get("/collections/" + c);
      missing |= info.status() == 404;
      // strict mode with a read rate limit would refuse the fingerprint's own reads
      if (info.status() == 200 && info.result().path("config").path("strict_mode_config").path("enabled").asBoolean()) {
        ok(node.send("PATCH", "/collections/" + c, "{\"strict_mode_config\": {\"enabled\": false}}"));
      }
    }
    if (missing || node.send("POST", "/collections/fz/points/count", "{\"exact\": true}").result().path("count").asInt() < 5) {
      for (String c : COLLECTIONS) {
        node.send("DELETE", "/collections/" + c, null);
      }
      for (JsonNode c : node.get("/collections").result().path("collections")) {
        node.send("DELETE", "/collections/" + segment(c.get("name").asText()), null);
      }
      fixtures(node);
    }
  }

  private static String fingerprint(TestNode node) throws Exception {
    StringBuilder out = new StringBuilder();
    out.append(node.get("/locks").result());
    out.append(node.get("/aliases").result());
    List<String> names = new ArrayList<>();
    for (JsonNode c : node.get("/collections").result().path("collections")) {
      names.add(c.get("name").asText());
    }
    names.sort(null);
    for (String name : names) {
      JsonNode info = node.get("/collections/" + segment(name)).result();
      out.append('\n').append(name).append(' ').append(info.path("config")).append(info.path("payload_schema"))
          .append(info.path("points_count"));
      var scroll = node.send("POST", "/collections/" + segment(name) + "/points/scroll",
          "{\"limit\": 1000, \"with_payload\": true, \"with_vector\": true}");
      out.append(scroll.status() == 200 ? scroll.result().path("points") : scroll.body());
    }
    return out.toString();
  }

  // ---- generating and mutating requests ----

  private String path(String template, JsonNode operation) {
    StringBuilder out = new StringBuilder();
    for (String part : template.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      out.append('/');
      if (part.startsWith("{")) {
        out.append(segment(pathValue(part.substring(1, part.length() - 1))));
      } else {
        out.append(part);
      }
    }
    List<String> query = new ArrayList<>();
    for (JsonNode p : operation.path("parameters")) {
      if (p.path("in").asText().equals("query") && random.nextInt(3) == 0) {
        JsonNode value = random.nextInt(4) == 0 ? oddValue() : generate(p.path("schema"), 0);
        query.add(p.get("name").asText() + "=" + URLEncoder.encode(value.isTextual() ? value.asText() : value.toString(), StandardCharsets.UTF_8));
      }
    }
    return query.isEmpty() ? out.toString() : out + "?" + String.join("&", query);
  }

  private String pathValue(String name) {
    if (random.nextInt(5) == 0) {
      return pick("", " ", "..", "a/b", "%", "\u00e9\u4e2d", "x".repeat(300), "-1", "18446744073709551616", "null", "fz?x=1");
    }
    return switch (name) {
      case "collection_name" -> pick("fz", "fz", "fz", "fz_sparse", "fz_alias", "missing");
      case "field_name" -> pick("k", "n", "tags", "missing", "a.b[]");
      case "id" -> pick("1", "2", "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "999", "abc");
      case "shard_id" -> pick("0", "1", "-1");
      case "peer_id" -> pick("1", "0");
      default -> pick("snap", "x.snapshot");
    };
  }

  private String body(JsonNode operation) throws Exception {
    JsonNode schema = operation.at("/requestBody/content/application~1json/schema");
    int style = random.nextInt(20);
    if (schema.isMissingNode()) {
      return style < 16 ? null : pick("{}", "[]", "garbage");
    }
    JsonNode value = generate(schema, 0);
    if (style < 5) {
      return value.toString(); // as generated: mostly valid
    }
    if (style < 16) {
      for (int n = 1 + random.nextInt(3); n > 0; n--) {
        value = mutate(value);
      }
      return value.toString();
    }
    return switch (style) {
      case 16 -> value.toString().substring(0, value.toString().length() / 2); // truncated
      case 17 -> "";
      case 18 -> "[".repeat(2000) + "]".repeat(2000); // deep, over the parser's limit
      default -> pick("null", "1", "\"text\"", "{\"a\": 1, \"a\": 2}", "\u0000", "{\"points\": NaN}");
    };
  }

  /** A value for a schema: required fields always, optional ones sometimes; valid-looking values. */
  private JsonNode generate(JsonNode schema, int depth) {
    if (schema.has("$ref")) {
      return generate(spec.at(schema.get("$ref").asText().substring(1)), depth);
    }
    for (String choice : new String[] {"anyOf", "oneOf"}) {
      if (schema.has(choice)) {
        JsonNode options = schema.get(choice);
        return generate(options.get(random.nextInt(options.size())), depth);
      }
    }
    if (schema.has("allOf")) {
      return generate(schema.get("allOf").get(0), depth);
    }
    if (schema.has("enum")) {
      JsonNode values = schema.get("enum");
      return values.get(random.nextInt(values.size()));
    }
    if (depth > 6) {
      return F.nullNode();
    }
    String type = schema.path("type").asText(schema.has("properties") ? "object" : "");
    return switch (type) {
      case "object" -> {
        ObjectNode out = F.objectNode();
        var required = new java.util.HashSet<String>();
        schema.path("required").forEach(r -> required.add(r.asText()));
        Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields();
        while (props.hasNext()) {
          var prop = props.next();
          if (required.contains(prop.getKey()) || random.nextInt(4) == 0) {
            out.set(prop.getKey(), generate(prop.getValue(), depth + 1));
          }
        }
        yield out;
      }
      case "array" -> {
        ArrayNode out = F.arrayNode();
        int n = schema.has("minItems") ? schema.get("minItems").asInt() : random.nextInt(4);
        for (int i = 0; i < n + random.nextInt(2); i++) {
          out.add(generate(schema.path("items"), depth + 1));
        }
        yield out;
      }
      case "integer" -> F.numberNode(pick(0, 1, 2, 3, 4, 10, 100));
      case "number" -> F.numberNode(pick(0.0, 0.5, 1.0, -1.5, 2.0));
      case "boolean" -> F.booleanNode(random.nextBoolean());
      case "string" -> F.textNode(schema.has("format") && schema.get("format").asText().equals("uuid")
          ? "5c56c793-69f3-4fbf-87e6-c4bf54c28c26" : pick("k", "v1", "d", "s", "fz", "n", "2024-01-01T00:00:00Z", "word"));
      case "null" -> F.nullNode();
      default -> pick(F.numberNode(1), F.textNode("d"), F.objectNode(), F.arrayNode().add(1).add(0).add(0).add(0));
    };
  }

  /** One random change somewhere in the tree. */
  private JsonNode mutate(JsonNode value) {
    if (!value.isContainerNode() || value.isEmpty() || random.nextInt(4) == 0) {
      return oddValue();
    }
    if (value instanceof ObjectNode object) {
      List<String> keys = new ArrayList<>();
      object.fieldNames().forEachRemaining(keys::add);
      String key = keys.get(random.nextInt(keys.size()));
      switch (random.nextInt(4)) {
        case 0 -> object.remove(key);
        case 1 -> object.set(pick("unknown", "", "$", key + "_"), oddValue());
        default -> object.set(key, mutate(object.get(key)));
      }
      return object;
    }
    ArrayNode array = (ArrayNode) value;
    int i = random.nextInt(array.size());
    switch (random.nextInt(3)) {
      case 0 -> array.remove(i);
      case 1 -> array.add(oddValue());
      default -> array.set(i, mutate(array.get(i)));
    }
    return array;
  }

  private JsonNode oddValue() {
    return switch (random.nextInt(16)) {
      case 0 -> F.nullNode();
      case 1 -> F.numberNode(-1);
      case 2 -> F.numberNode(Long.MAX_VALUE);
      case 3 -> F.numberNode(new java.math.BigInteger("340282366920938463463374607431768211457"));
      case 4 -> F.numberNode(1e308);
      case 5 -> F.numberNode(-0.0);
      case 6 -> F.textNode("");
      case 7 -> F.textNode("x".repeat(10_000));
      case 8 -> F.textNode("NaN");
      case 9 -> F.textNode("\u0000\ud83d\ude00'\"\\");
      case 10 -> F.booleanNode(true);
      case 11 -> F.arrayNode();
      case 12 -> F.objectNode();
      case 13 -> {
        JsonNode deep = F.numberNode(1);
        for (int i = 0; i < 60; i++) {
          deep = random.nextBoolean() ? F.arrayNode().add(deep) : F.objectNode().set("must", deep);
        }
        yield deep;
      }
      case 14 -> F.numberNode(Integer.MIN_VALUE);
      default -> F.arrayNode().add(F.numberNode(1.5)).add(F.textNode("a")).add(F.nullNode());
    };
  }

  @SafeVarargs
  private <T> T pick(T... options) {
    return options[random.nextInt(options.length)];
  }

  /** HTTP/1.1, as Qdrant's official REST clients speak it. */
  private static final java.net.http.HttpClient HTTP11 = java.net.http.HttpClient.newBuilder()
      .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(java.time.Duration.ofSeconds(5)).build();

  private static TestNode.Response send(TestNode node, String method, String path, String body) throws Exception {
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.port() + path))
        .timeout(java.time.Duration.ofSeconds(120))
        .header("content-type", "application/json")
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body))
        .build();
    var r = HTTP11.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    return new TestNode.Response(r.statusCode(), r.body(), r.headers().map());
  }

  /** A value as one path segment (collection names may hold any character). */
  private static String segment(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The stretch around the first character where two fingerprints part. */
  private static String difference(String before, String after) {
    int at = 0;
    while (at < before.length() && at < after.length() && before.charAt(at) == after.charAt(at)) {
      at++;
    }
    int from = Math.max(0, at - 300);
    return "first difference at " + at + "\nbefore ..." + before.substring(from, Math.min(before.length(), at + 300))
        + "\nafter  ..." + after.substring(from, Math.min(after.length(), at + 300));
  }

  private static String abbreviate(String s) {
    return s == null ? "(no body)" : s.length() > 600 ? s.substring(0, 600) + "..." : s;
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
