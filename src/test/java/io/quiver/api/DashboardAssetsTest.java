package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's files are public even with API keys set, served with their content types and
 * revalidation headers; the API behind them keeps asking for the key. The lock history records who
 * changed the lock, without key material.
 */
@Timeout(60)
class DashboardAssetsTest {
  @TempDir static Path dir;
  static TestNode node;
  static final Map<String, String> FULL = Map.of("api-key", "full-secret");

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"),
        Map.of("QDRANT__SERVICE__API_KEY", "full-secret", "QDRANT__SERVICE__READ_ONLY_API_KEY", "read-secret"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static String header(TestNode.Response r, String name) {
    var values = r.headers().get(name);
    return values == null ? null : values.get(0);
  }

  @Test
  void filesArePublicWithTheirTypesAndRevalidation() throws Exception {
    var redirect = node.get("/dashboard");
    assertEquals(302, redirect.status());
    assertEquals("/dashboard/", header(redirect, "location"));

    var index = node.get("/dashboard/");
    assertEquals(200, index.status(), "no key needed for the page");
    assertEquals("text/html; charset=utf-8", header(index, "content-type"));
    assertEquals("no-cache", header(index, "cache-control"));
    assertTrue(header(index, "content-security-policy").contains("default-src 'self'"));
    assertTrue(index.body().contains("<script type=\"module\" src=\"app.js\">"));

    for (var file : Map.of("/dashboard/app.js", "text/javascript; charset=utf-8", "/dashboard/style.css",
        "text/css; charset=utf-8", "/dashboard/views/lock.js", "text/javascript; charset=utf-8",
        "/dashboard/favicon.svg", "image/svg+xml").entrySet()) {
      var r = node.get(file.getKey());
      assertEquals(200, r.status(), file.getKey());
      assertEquals(file.getValue(), header(r, "content-type"), file.getKey());
      assertEquals("nosniff", header(r, "x-content-type-options"));
      String etag = header(r, "etag");
      assertEquals(304, node.send("GET", file.getKey(), null, Map.of("if-none-match", etag)).status(), file.getKey());
    }
  }

  @Test
  void onlyTheDashboardsOwnFilesAreServed() throws Exception {
    for (String path : new String[] {"/dashboard/nope.js", "/dashboard/README", "/dashboard/.hidden.js",
        "/dashboard/%2e%2e/logback.xml", "/dashboard/..%2flogback.xml", "/dashboard/views/../../logback.xml"}) {
      var r = node.get(path);
      assertTrue(r.status() == 404 || r.status() == 401, path + " -> " + r.status() + " " + r.body());
      assertTrue(!r.body().contains("<configuration"), path + " leaked a classpath file");
    }
    assertEquals(404, node.get("/dashboard/nope.js").status());
    assertEquals(401, node.send("POST", "/dashboard/app.js", "{}").status(), "only GET is public");
  }

  @Test
  void theApiStillNeedsTheKey() throws Exception {
    assertEquals(401, node.get("/collections").status());
    assertEquals(401, node.get("/locks/history").status());
    assertEquals(200, node.send("GET", "/collections", null, FULL).status());
  }

  @Test
  void theLockHistoryNamesWhoChangedTheLock() throws Exception {
    assertEquals(200, node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}", FULL).status());
    assertEquals(200, node.send("POST", "/locks", "{\"write\": false}", FULL).status());
    var r = node.send("GET", "/locks/history", null, Map.of("api-key", "read-secret"));
    assertEquals(200, r.status(), r.body());
    assertTrue(!r.body().contains("secret"), "no key material: " + r.body());
    JsonNode changes = r.result().get("changes");
    assertEquals(2, changes.size());
    JsonNode lock = changes.get(0);
    assertTrue(lock.get("write").asBoolean());
    assertEquals("backup", lock.get("error_message").asText());
    assertTrue(!lock.get("previous").get("write").asBoolean());
    assertEquals("127.0.0.1", lock.get("client").asText());
    assertEquals("read-write", lock.get("api_key").asText());
    assertTrue(lock.get("time").asText().endsWith("Z"));
    assertTrue(!changes.get(1).get("write").asBoolean());
    assertEquals(0, r.result().get("forgotten").asInt());
    var locks = node.send("GET", "/locks", null, FULL).result();
    assertEquals(2, locks.size(), "GET /locks keeps Qdrant's exact shape: " + locks);
  }
}
