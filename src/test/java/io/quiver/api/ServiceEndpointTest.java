package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ServiceEndpointTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"), java.util.Map.of("QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", "1"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void rootIsVersionInfoWithoutEnvelope() throws Exception {
    var r = node.get("/");
    assertEquals(200, r.status());
    assertEquals("qdrant - vector search engine", r.json().get("title").asText());
    assertEquals(40, r.json().get("commit").asText().length());
    assertTrue(r.headers().get("server").get(0).startsWith("quiver/"));
  }

  @Test
  void probes() throws Exception {
    assertEquals("healthz check passed", node.get("/healthz").body());
    assertEquals("healthz check passed", node.get("/livez").body());
    assertEquals("all shards are ready", node.get("/readyz").body());
  }

  @Test
  void metricsInPrometheusFormat() throws Exception {
    var r = node.get("/metrics");
    assertEquals(200, r.status());
    assertTrue(r.body().contains("app_info{name=\"qdrant\",version=\"1.15.5\"} 1"), r.body());
    assertTrue(r.body().contains("collections_total 0"), r.body());
    assertTrue(r.body().contains("quiver_write_locked 0"), r.body());
  }

  @Test
  void telemetryCountsRequests() throws Exception {
    node.get("/collections");
    var r = node.get("/telemetry?details_level=1").result();
    assertEquals("qdrant", r.path("app").path("name").asText());
    assertEquals(false, r.path("app").path("features").path("recovery_mode").asBoolean());
    var stat = r.path("requests").path("rest").path("responses").path("GET /collections").path("200");
    assertTrue(stat.path("count").asLong() >= 1, r.toString());
    assertTrue(stat.has("avg_duration_micros") && stat.has("last_responded"), stat.toString());
    assertTrue(r.path("collections").has("collections"));
    assertTrue(!node.get("/telemetry").result().path("collections").has("collections"));
  }

  @Test
  void errorsUseQdrantsEnvelope() throws Exception {
    var missing = node.get("/no/such/route");
    assertEquals(404, missing.status());
    assertTrue(missing.json().path("time").isNumber());
    assertTrue(missing.error().startsWith("Not found"), missing.body());

    var unparsable = node.send("POST", "/locks", "{not json");
    assertEquals(400, unparsable.status());
    assertTrue(unparsable.error().startsWith("Format error in JSON body: "), unparsable.body());

    var noWrite = node.send("POST", "/locks", "{\"error_message\": \"x\"}");
    assertEquals(400, noWrite.status());

    var big = node.send("POST", "/locks", "{\"write\": false, \"error_message\": \"" + "x".repeat(1_200_000) + "\"}");
    assertEquals(413, big.status());
    assertTrue(big.error().startsWith("Payload error: JSON payload ("), big.body());
  }

  @Test
  void lockRoundTripOverHttp() throws Exception {
    var previous = node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"maintenance\"}").result();
    assertEquals(false, previous.get("write").asBoolean());
    var now = node.get("/locks").result();
    assertEquals(true, now.get("write").asBoolean());
    assertEquals("maintenance", now.get("error_message").asText());
    var back = node.send("POST", "/locks", "{\"write\": false}").result();
    assertEquals("maintenance", back.get("error_message").asText());
    assertTrue(node.get("/locks").result().get("error_message").isNull());
  }
}
