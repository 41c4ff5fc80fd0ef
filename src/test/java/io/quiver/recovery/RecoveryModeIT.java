package io.quiver.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.testing.JarProcess;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Recovery mode end to end, with the real jar as a subprocess. */
@Timeout(300)
class RecoveryModeIT {
  @TempDir Path dir;

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.MAPPER.readTree(r.body());
  }

  static void fill(Path storage, String... names) throws Exception {
    try (var s = JarProcess.start(storage, Map.of())) {
      for (String name : names) {
        assertEquals(200, s.send("PUT", "/collections/" + name, "{\"vectors\": {\"size\": 3, \"distance\": \"Cosine\"}}").statusCode());
        var up = s.send("PUT", "/collections/" + name + "/points?wait=true",
            "{\"points\": [{\"id\": 1, \"vector\": [1, 2, 3], \"payload\": {\"n\": \"" + name + "\"}}, {\"id\": 2, \"vector\": [3, 2, 1]}]}");
        assertEquals(200, up.statusCode(), up.body());
      }
      assertEquals(0, s.terminate());
    }
  }

  @Test
  void recoveryModeAllowsDeletingAndRefusesTheRest() throws Exception {
    Path storage = dir.resolve("storage");
    fill(storage, "a", "b", "c");
    String message = "Node ran out of memory loading b";
    try (var s = JarProcess.start(storage, Map.of("QDRANT__STORAGE__RECOVERY_MODE", message))) {
      assertEquals(3, json(s.send("GET", "/collections", null)).at("/result/collections").size());
      JsonNode info = json(s.send("GET", "/collections/b", null)).get("result");
      assertEquals("grey", info.get("status").asText());
      assertEquals(3, info.at("/config/params/vectors/size").asInt());
      assertTrue(info.get("size_on_disk_bytes").asLong() > 0);
      assertTrue(json(s.send("GET", "/collections/b/exists", null)).at("/result/exists").asBoolean());
      assertEquals(200, s.send("GET", "/aliases", null).statusCode());
      assertEquals(200, s.send("GET", "/locks", null).statusCode());
      var ready = s.send("GET", "/readyz", null);
      assertEquals(200, ready.statusCode());
      assertTrue(ready.body().contains("recovery mode"), ready.body());
      assertTrue(json(s.send("GET", "/telemetry", null)).at("/result/app/features/recovery_mode").asBoolean());
      assertTrue(s.send("GET", "/metrics", null).body().contains("app_status_recovery_mode 1"));

      String[][] refused = {
          {"POST", "/collections/a/points/scroll", "{}"},
          {"POST", "/collections/a/points/count", "{}"},
          {"POST", "/collections/a/points", "{\"ids\": [1]}"},
          {"PUT", "/collections/a/points", "{\"points\": [{\"id\": 3, \"vector\": [1, 1, 1]}]}"},
          {"POST", "/collections/a/points/payload", "{\"payload\": {}, \"points\": [1]}"},
          {"PUT", "/collections/a/index", "{\"field_name\": \"n\", \"field_schema\": \"keyword\"}"},
          {"PUT", "/collections/new", "{\"vectors\": {\"size\": 3, \"distance\": \"Dot\"}}"}};
      for (String[] r : refused) {
        var resp = s.send(r[0], r[1], r[2]);
        assertEquals(503, resp.statusCode(), r[1] + " " + resp.body());
        assertEquals("Service in recovery mode: " + message, json(resp).at("/status/error").asText());
      }
      assertEquals(200, s.send("DELETE", "/collections/b", null).statusCode());
      assertEquals(0, s.terminate());
    }
    try (var s = JarProcess.start(storage, Map.of())) {
      assertEquals(2, json(s.send("GET", "/collections", null)).at("/result/collections").size());
      for (String name : new String[] {"a", "c"}) {
        JsonNode p = json(s.send("GET", "/collections/" + name + "/points/1", null)).get("result");
        assertEquals(name, p.at("/payload/n").asText());
        assertEquals(2, json(s.send("POST", "/collections/" + name + "/points/count", "{}")).at("/result/count").asInt());
      }
    }
  }

  @Test
  void fallsBackWhenACollectionCannotLoad() throws Exception {
    Path storage = dir.resolve("storage");
    fill(storage, "good", "broken");
    try (Stream<Path> files = Files.list(storage.resolve("collections/broken/shards/0/index"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("segments_")).toList()) {
        Files.write(f, new byte[] {1, 2, 3});
      }
    }
    try (var s = JarProcess.start(storage, Map.of("QDRANT_ALLOW_RECOVERY_MODE", "true"))) {
      String readyz = awaitRecovery(s);
      assertTrue(readyz.contains("broken"), readyz);
      assertEquals(503, s.send("POST", "/collections/good/points/count", "{}").statusCode());
      assertEquals(200, s.send("DELETE", "/collections/broken", null).statusCode());
      assertEquals(0, s.terminate());
    }
    try (var s = JarProcess.start(storage, Map.of("QDRANT_ALLOW_RECOVERY_MODE", "true"))) {
      assertEquals("all shards are ready", s.send("GET", "/readyz", null).body());
      assertEquals(2, json(s.send("POST", "/collections/good/points/count", "{}")).at("/result/count").asInt());
    }
  }

  @Test
  void aCrashDuringLoadIsRemembered() throws Exception {
    Path storage = dir.resolve("storage");
    fill(storage, "one", "two");
    // what a process killed while opening `two` leaves behind
    Files.writeString(storage.resolve("collections/two/.loading"), "1");
    try (var s = JarProcess.start(storage, Map.of("QDRANT_ALLOW_RECOVERY_MODE", "true"))) {
      String readyz = awaitRecovery(s);
      assertTrue(readyz.contains("`two`"), readyz);
    }
    // without the fallback switch, a normal start opens it and clears the mark
    try (var s = JarProcess.start(storage, Map.of())) {
      assertEquals(2, json(s.send("POST", "/collections/two/points/count", "{}")).at("/result/count").asInt());
      assertTrue(!Files.exists(storage.resolve("collections/two/.loading")));
    }
  }

  /** Readiness text once the node is in recovery mode (the fallback happens after the HTTP server is up). */
  static String awaitRecovery(JarProcess s) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < deadline) {
      var r = s.send("GET", "/readyz", null);
      if (r.statusCode() == 200 && r.body().contains("recovery mode")) {
        return r.body();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node did not reach recovery mode:\n" + Files.readString(s.log));
  }
}
