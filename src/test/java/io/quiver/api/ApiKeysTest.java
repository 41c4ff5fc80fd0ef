package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** API keys as Qdrant: full key, read-only key, header or bearer token, open health endpoints. */
@Timeout(60)
class ApiKeysTest {
  @TempDir static Path dir;
  static TestNode node;
  static final Map<String, String> FULL = Map.of("api-key", "full-secret");
  static final Map<String, String> READ_ONLY = Map.of("authorization", "Bearer read-secret");

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"),
        Map.of("QDRANT__SERVICE__API_KEY", "full-secret", "QDRANT__SERVICE__READ_ONLY_API_KEY", "read-secret"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void missingOrWrongKeysAreRefusedWithQdrantsWording() throws Exception {
    var missing = node.send("GET", "/collections", null);
    assertEquals(401, missing.status());
    assertEquals("Must provide an API key or an Authorization bearer token", missing.body());
    var wrong = node.send("PUT", "/collections/x", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}", Map.of("api-key", "nope"));
    assertEquals(401, wrong.status());
    assertEquals("Invalid API key or JWT", wrong.body());
    assertEquals(404, node.send("GET", "/collections/x", null, FULL).status(), "a refused request changes nothing");
    for (String open : new String[] {"/healthz", "/livez", "/readyz"}) {
      assertEquals(200, node.send("GET", open, null).status(), open + " stays open for probes");
    }
  }

  @Test
  void readOnlyKeyReadsButNeverWrites() throws Exception {
    assertEquals(200, node.send("PUT", "/collections/ro", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}", FULL).status());
    assertEquals(200, node.send("PUT", "/collections/ro/points?wait=true",
        "{\"points\": [{\"id\": 1, \"vector\": [1, 0]}]}", FULL).status());
    assertEquals(200, node.send("GET", "/collections/ro", null, READ_ONLY).status());
    assertEquals(200, node.send("POST", "/collections/ro/points/search", "{\"vector\": [1, 0], \"limit\": 1}", READ_ONLY).status());
    assertEquals(200, node.send("GET", "/locks", null, READ_ONLY).status());
    for (String[] write : new String[][] {
        {"PUT", "/collections/ro/points", "{\"points\": [{\"id\": 2, \"vector\": [0, 1]}]}"},
        {"POST", "/collections/ro/points/delete", "{\"points\": [1]}"},
        {"DELETE", "/collections/ro", null},
        {"POST", "/locks", "{\"write\": true}"},
        {"PUT", "/collections/other", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"}}) {
      var r = node.send(write[0], write[1], write[2], READ_ONLY);
      assertEquals(403, r.status(), write[0] + " " + write[1]);
      assertEquals("Forbidden: Global manage access is required", r.error());
    }
    assertEquals(1, node.send("POST", "/collections/ro/points/count", "{}", FULL).result().get("count").asInt());
    assertEquals(false, node.send("GET", "/locks", null, FULL).result().get("write").asBoolean());
  }
}
