package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** strict_mode_config enforced over REST: limits answer 400 with Qdrant's help text, rate limits 429 with Retry-After. */
@Timeout(120)
class StrictModeApiTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @BeforeEach
  void fresh() throws Exception {
    node.send("DELETE", "/collections/s", null);
    ok(node.send("PUT", "/collections/s", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    StringBuilder points = new StringBuilder();
    for (int i = 1; i <= 10; i++) {
      points.append(i == 1 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": [1, ").append(i)
          .append("], \"payload\": {\"city\": \"").append(i % 2 == 0 ? "Berlin" : "Paris").append("\"}}");
    }
    ok(node.send("PUT", "/collections/s/points?wait=true", "{\"points\": [" + points + "]}"));
  }

  @Test
  void limitsAnswerWithQdrantsHelp() throws Exception {
    strict("{\"enabled\": true, \"max_query_limit\": 3, \"unindexed_filtering_retrieve\": false, \"upsert_max_batchsize\": 2}");
    ok(node.send("POST", "/collections/s/points/search", "{\"vector\": [1, 1], \"limit\": 3}"));
    var tooMany = node.send("POST", "/collections/s/points/search", "{\"vector\": [1, 1], \"limit\": 4}");
    assertEquals(400, tooMany.status());
    assertEquals("Bad request: Limit exceeded 4 > 3 for \"limit\". Help: Reduce the \"limit\" parameter to or below 3.", tooMany.error());

    String filtered = "{\"filter\": {\"must\": [{\"key\": \"city\", \"match\": {\"value\": \"Berlin\"}}]}, \"limit\": 3}";
    var unindexed = node.send("POST", "/collections/s/points/scroll", filtered);
    assertEquals(400, unindexed.status());
    assertTrue(unindexed.error().startsWith("Bad request: Index required but not found for \"city\" of one of the following types: [keyword]"),
        unindexed.error());
    ok(node.send("PUT", "/collections/s/index?wait=true", "{\"field_name\": \"city\", \"field_schema\": \"keyword\"}"));
    assertEquals(3, node.send("POST", "/collections/s/points/scroll", filtered).result().get("points").size());

    var batch = node.send("PUT", "/collections/s/points?wait=true",
        "{\"points\": [{\"id\": 20, \"vector\": [1, 1]}, {\"id\": 21, \"vector\": [1, 1]}, {\"id\": 22, \"vector\": [1, 1]}]}");
    assertEquals(400, batch.status());
    assertTrue(batch.error().contains("Limit exceeded 3 > 2 for \"upsert limit\""), batch.error());
    assertEquals(10, node.send("POST", "/collections/s/points/count", "{\"exact\": true}").result().get("count").asInt());

    strict("{\"enabled\": false}");
    ok(node.send("POST", "/collections/s/points/search", "{\"vector\": [1, 1], \"limit\": 4}"));
  }

  @Test
  void rateLimitsAnswer429WithRetryAfter() throws Exception {
    strict("{\"enabled\": true, \"write_rate_limit\": 2, \"read_rate_limit\": 3}");
    ok(node.send("PUT", "/collections/s/points", "{\"points\": [{\"id\": 30, \"vector\": [1, 1]}]}"));
    ok(node.send("PUT", "/collections/s/points", "{\"points\": [{\"id\": 31, \"vector\": [1, 1]}]}"));
    var limited = node.send("PUT", "/collections/s/points", "{\"points\": [{\"id\": 32, \"vector\": [1, 1]}]}");
    assertEquals(429, limited.status(), limited.body());
    assertTrue(limited.error().startsWith("Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens but only"),
        limited.error());
    int retryAfter = Integer.parseInt(limited.headers().get("retry-after").get(0));
    assertTrue(retryAfter >= 1 && retryAfter <= 30, "Retry-After " + retryAfter);

    var tooLarge = node.send("POST", "/collections/s/points", "{\"ids\": [1, 2, 3, 4]}");
    assertEquals(429, tooLarge.status());
    assertTrue(tooLarge.error().endsWith("request larger than rate limiter capacity, please try to split your request"), tooLarge.error());
    assertTrue(!tooLarge.headers().containsKey("retry-after"));

    // a config change makes the limiters afresh
    strict("{\"write_rate_limit\": 5}");
    ok(node.send("PUT", "/collections/s/points", "{\"points\": [{\"id\": 32, \"vector\": [1, 1]}]}"));
  }

  private static void strict(String config) throws Exception {
    ok(node.send("PATCH", "/collections/s", "{\"strict_mode_config\": " + config + "}"));
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
