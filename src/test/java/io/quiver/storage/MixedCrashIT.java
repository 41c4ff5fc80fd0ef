package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.testing.JarProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL at random moments of a mixed write load, five times in a row on the same store. Each
 * writer owns its own points and runs every kind of point write (upserts, payload set / overwrite /
 * delete, vector updates, deletes by id and by filter) against an oracle model of its points; one
 * more writer creates and deletes collections and aliases. After each restart the store must be
 * readable and hold exactly the acknowledged state, except that the one operation each writer had in
 * flight at the kill may be there or not, but whole: never half of a batch.
 */
@Timeout(600)
class MixedCrashIT {
  static final JsonNodeFactory F = JsonNodeFactory.instance;
  static final int WRITERS = 3;
  static final int IDS_PER_WRITER = 60;
  static final int ROUNDS = 5;

  @TempDir Path dir;

  /** The first failure a writer thread met; the test fails with it. */
  private final java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();

  /** A writer's points: id -> {"vector": [...], "payload": {...}}. */
  static final class Model {
    final int writer;
    TreeMap<Integer, ObjectNode> points = new TreeMap<>();
    /** What the operation in flight at the kill would make of the points, or null. */
    volatile UnaryOperator<TreeMap<Integer, ObjectNode>> inFlight;

    Model(int writer) {
      this.writer = writer;
    }
  }

  @Test
  void killNineAtRandomMomentsOfAMixedLoad() throws Exception {
    long seed = Long.getLong("quiver.crash.seed", System.nanoTime());
    System.out.println("MixedCrashIT seed " + seed + " (rerun with -Dquiver.crash.seed=" + seed + ")");
    Random random = new Random(seed);
    Path storage = dir.resolve("storage");
    Model[] models = new Model[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
      models[w] = new Model(w);
    }
    TreeSet<String> sideCollections = new TreeSet<>();
    String[] sideInFlight = new String[1];
    try (var server = JarProcess.start(storage, Map.of())) {
      ok(server.send("PUT", "/collections/mixed",
          "{\"vectors\": {\"a\": {\"size\": 4, \"distance\": \"Dot\"}}}"));
      ok(server.send("PUT", "/collections/mixed/index?wait=true", "{\"field_name\": \"w\", \"field_schema\": \"integer\"}"));
    }
    int acknowledgedOps = 0;
    for (int round = 0; round < ROUNDS; round++) {
      try (var server = JarProcess.start(storage, Map.of())) {
        for (Model m : models) {
          verify(server, m);
        }
        verifySide(server, sideCollections, sideInFlight[0]);
        sideInFlight[0] = null;
        int[] counts = new int[WRITERS + 1];
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
          Model m = models[w];
          Random r = new Random(random.nextLong());
          int index = w;
          threads.add(new Thread(() -> counts[index] = writeLoop(server, m, r)));
        }
        Random sideRandom = new Random(random.nextLong());
        threads.add(new Thread(() -> counts[WRITERS] = sideLoop(server, sideCollections, sideInFlight, sideRandom)));
        threads.forEach(Thread::start);
        Thread.sleep(1500 + random.nextInt(2500));
        server.kill();
        for (Thread t : threads) {
          t.join(60_000);
        }
        if (failure.get() != null) {
          fail(failure.get());
        }
        for (int c : counts) {
          acknowledgedOps += c;
        }
        System.out.println("round " + round + ": acknowledged operations per writer (last: collections) "
            + java.util.Arrays.toString(counts));
      }
    }
    try (var server = JarProcess.start(storage, Map.of())) {
      for (Model m : models) {
        verify(server, m);
      }
      verifySide(server, sideCollections, sideInFlight[0]);
      var search = server.send("POST", "/collections/mixed/points/search",
          "{\"vector\": {\"name\": \"a\", \"vector\": [1, 0, 0, 0]}, \"limit\": 5}");
      ok(search);
    }
    assertTrue(acknowledgedOps > 50, "the writers got through: " + acknowledgedOps + " acknowledged operations");
  }

  /** Random point writes until the server dies; returns the number acknowledged. */
  private int writeLoop(JarProcess server, Model m, Random r) {
    int acknowledged = 0;
    int counter = 0;
    while (server.alive()) {
      counter++;
      List<Integer> ids = new ArrayList<>();
      int n = 1 + r.nextInt(5);
      for (int i = 0; i < n; i++) {
        ids.add(m.writer * 1000 + r.nextInt(IDS_PER_WRITER));
      }
      ids = new ArrayList<>(new TreeSet<>(ids));
      List<Integer> existing = ids.stream().filter(m.points::containsKey).toList();
      String path;
      String method = "POST";
      ObjectNode body = F.objectNode();
      UnaryOperator<TreeMap<Integer, ObjectNode>> effect;
      int kind = r.nextInt(7);
      int value = counter;
      if (kind == 0 || m.points.size() < 5) { // upsert a batch
        method = "PUT";
        path = "/collections/mixed/points?wait=true";
        ArrayNode points = body.putArray("points");
        Map<Integer, ObjectNode> written = new HashMap<>();
        for (int id : ids) {
          ObjectNode p = F.objectNode();
          p.putArray("a");
          for (int d = 0; d < 4; d++) {
            ((ArrayNode) p.get("a")).add((float) (r.nextInt(200) - 100) / 4);
          }
          ObjectNode state = F.objectNode();
          state.set("vector", p.get("a"));
          state.set("payload", F.objectNode().put("w", m.writer).put("v", value));
          written.put(id, state);
          points.addObject().put("id", id).set("vector", F.objectNode().set("a", p.get("a")));
          ((ObjectNode) points.get(points.size() - 1)).set("payload", state.get("payload"));
        }
        effect = s -> {
          s.putAll(written);
          return s;
        };
      } else if (kind == 1 && !existing.isEmpty()) { // set a payload key
        path = "/collections/mixed/points/payload?wait=true";
        body.set("payload", F.objectNode().put("s", value));
        ArrayNode points = body.putArray("points");
        existing.forEach(points::add);
        effect = s -> {
          for (int id : existing) {
            ((ObjectNode) s.get(id).get("payload")).put("s", value);
          }
          return s;
        };
      } else if (kind == 2 && !existing.isEmpty()) { // overwrite the payload
        method = "PUT";
        path = "/collections/mixed/points/payload?wait=true";
        body.set("payload", F.objectNode().put("w", m.writer).put("v", value).put("o", true));
        ArrayNode points = body.putArray("points");
        existing.forEach(points::add);
        effect = s -> {
          for (int id : existing) {
            s.get(id).set("payload", F.objectNode().put("w", m.writer).put("v", value).put("o", true));
          }
          return s;
        };
      } else if (kind == 3 && !existing.isEmpty()) { // delete a payload key
        path = "/collections/mixed/points/payload/delete?wait=true";
        body.putArray("keys").add("s");
        ArrayNode points = body.putArray("points");
        existing.forEach(points::add);
        effect = s -> {
          for (int id : existing) {
            ((ObjectNode) s.get(id).get("payload")).remove("s");
          }
          return s;
        };
      } else if (kind == 4 && !existing.isEmpty()) { // update vectors
        method = "PUT";
        path = "/collections/mixed/points/vectors?wait=true";
        ArrayNode points = body.putArray("points");
        Map<Integer, ArrayNode> vectors = new HashMap<>();
        for (int id : existing) {
          ArrayNode v = F.arrayNode();
          for (int d = 0; d < 4; d++) {
            v.add((float) (r.nextInt(200) - 100) / 4);
          }
          vectors.put(id, v);
          points.addObject().put("id", id).set("vector", F.objectNode().set("a", v));
        }
        effect = s -> {
          vectors.forEach((id, v) -> s.get(id).set("vector", v));
          return s;
        };
      } else if (kind == 5) { // delete by id
        path = "/collections/mixed/points/delete?wait=true";
        ArrayNode points = body.putArray("points");
        List<Integer> victims = ids;
        victims.forEach(points::add);
        effect = s -> {
          victims.forEach(s::remove);
          return s;
        };
      } else { // delete by filter: this writer's points with v below a bound
        path = "/collections/mixed/points/delete?wait=true";
        int bound = Math.max(1, value - 20 - r.nextInt(40));
        body.set("filter", Json.MAPPER.valueToTree(Map.of("must", List.of(
            Map.of("key", "w", "match", Map.of("value", m.writer)),
            Map.of("key", "v", "range", Map.of("lt", bound))))));
        effect = s -> {
          s.values().removeIf(p -> p.get("payload").path("v").asInt() < bound);
          return s;
        };
      }
      m.inFlight = effect;
      try {
        var resp = server.send(method, path, body.toString());
        if (resp.statusCode() == 200) {
          m.points = effect.apply(copy(m.points));
          acknowledged++;
        } else if (server.alive()) {
          failure.compareAndSet(null, "refused " + method + " " + path + " " + body + ": " + resp.statusCode() + " " + resp.body());
          return acknowledged;
        }
        m.inFlight = null;
      } catch (Exception connectionLost) {
        return acknowledged; // the kill: this operation stays in flight
      }
    }
    return acknowledged;
  }

  /** Creates and deletes small collections (and an alias to each) until the server dies. */
  private static int sideLoop(JarProcess server, TreeSet<String> collections, String[] inFlight, Random r) {
    int acknowledged = 0;
    while (server.alive()) {
      boolean create = collections.size() < 3 || r.nextBoolean();
      String name = create ? "side-" + r.nextInt(1_000_000) : collections.first();
      inFlight[0] = (create ? "+" : "-") + name;
      try {
        var resp = create
            ? server.send("PUT", "/collections/" + name, "{\"vectors\": {\"size\": 2, \"distance\": \"Euclid\"}}")
            : server.send("DELETE", "/collections/" + name, null);
        if (resp.statusCode() == 200) {
          if (create) {
            collections.add(name);
          } else {
            collections.remove(name);
          }
          acknowledged++;
        }
        inFlight[0] = null;
      } catch (Exception connectionLost) {
        return acknowledged;
      }
    }
    return acknowledged;
  }

  private static void verify(JarProcess server, Model m) throws Exception {
    TreeMap<Integer, ObjectNode> stored = scroll(server, m.writer);
    if (stored.equals(m.points)) {
      m.inFlight = null;
      return;
    }
    if (m.inFlight != null) {
      TreeMap<Integer, ObjectNode> applied = m.inFlight.apply(copy(m.points));
      if (stored.equals(applied)) {
        m.points = applied;
        m.inFlight = null;
        return;
      }
    }
    fail("writer " + m.writer + ": stored points differ from the acknowledged state (and from it plus the write in"
        + " flight)\nexpected " + m.points + "\nstored   " + stored);
  }

  private static void verifySide(JarProcess server, TreeSet<String> expected, String inFlight) throws Exception {
    var resp = server.send("GET", "/collections", null);
    ok(resp);
    TreeSet<String> stored = new TreeSet<>();
    for (JsonNode c : Json.MAPPER.readTree(resp.body()).at("/result/collections")) {
      if (c.get("name").asText().startsWith("side-")) {
        stored.add(c.get("name").asText());
      }
    }
    if (!stored.equals(expected) && inFlight != null) {
      TreeSet<String> applied = new TreeSet<>(expected);
      if (inFlight.startsWith("+")) {
        applied.add(inFlight.substring(1));
      } else {
        applied.remove(inFlight.substring(1));
      }
      if (stored.equals(applied)) {
        expected.clear();
        expected.addAll(applied);
      }
    }
    assertEquals(expected, stored, "collections after the crash");
    for (String name : stored) {
      ok(server.send("GET", "/collections/" + name, null));
    }
  }

  /** A writer's points as stored: vector "a" and payload. */
  private static TreeMap<Integer, ObjectNode> scroll(JarProcess server, int writer) throws Exception {
    TreeMap<Integer, ObjectNode> out = new TreeMap<>();
    String body = "{\"limit\": 1000, \"with_payload\": true, \"with_vector\": true, \"filter\": {\"must\": [{\"key\": \"w\","
        + " \"match\": {\"value\": " + writer + "}}]}}";
    var resp = server.send("POST", "/collections/mixed/points/scroll", body);
    ok(resp);
    for (JsonNode p : Json.MAPPER.readTree(resp.body()).at("/result/points")) {
      ObjectNode state = F.objectNode();
      ArrayNode v = F.arrayNode();
      p.at("/vector/a").forEach(x -> v.add(x.floatValue()));
      state.set("vector", v);
      state.set("payload", p.get("payload"));
      out.put(p.get("id").asInt(), state);
    }
    return out;
  }

  private static TreeMap<Integer, ObjectNode> copy(TreeMap<Integer, ObjectNode> points) {
    TreeMap<Integer, ObjectNode> out = new TreeMap<>();
    points.forEach((id, p) -> out.put(id, p.deepCopy()));
    return out;
  }

  private static void ok(java.net.http.HttpResponse<String> resp) {
    assertEquals(200, resp.statusCode(), resp.body());
  }
}
