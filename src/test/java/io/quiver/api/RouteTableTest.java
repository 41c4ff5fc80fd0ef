package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.request.Access;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's table is the only place routes come from, and every row is classified. Every route
 * must exist in Qdrant's OpenAPI contract, and every route that changes data must ask the lock
 * unless it only removes data or administers the node.
 */
@Timeout(60)
class RouteTableTest {
  @TempDir Path dir;

  @Test
  void everyRouteIsClassifiedAndInTheContract() throws Exception {
    JsonNode spec = Json.MAPPER.readTree(Files.readAllBytes(openapi()));
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      HttpRouterVerticle router = node.deployment.router();
      Set<String> seen = new HashSet<>();
      for (Route route : router.routes()) {
        assertNotNull(route.access(), route.key());
        assertTrue(seen.add(route.key()), "route listed twice: " + route.key());
        String method = route.method().name().toLowerCase(Locale.ROOT);
        if (EXTENSIONS.contains(route.key())) {
          assertEquals(Access.READ, route.access(), route.key());
          assertTrue(spec.path("paths").path(route.path()).isMissingNode(), "not an extension: " + route.key());
          continue;
        }
        JsonNode operation = spec.path("paths").path(openapiPath(route.path())).path(method);
        assertTrue(!operation.isMissingNode(), "not in the contract: " + route.key());
        if (route.access() == Access.READ && !method.equals("get")) {
          String id = operation.path("operationId").asText();
          assertTrue(READ_POSTS.contains(id), route.key() + " (" + id + ") changes data but is classified READ");
        }
      }
      assertEquals(Access.WRITE, router.routes().stream().filter(r -> r.path().endsWith("/points") && r.method().name().equals("PUT"))
          .findFirst().orElseThrow().access());
    }
  }

  /** Quiver's own routes, documented in the README as extensions: read-only, and on paths Qdrant does not use. */
  static final Set<String> EXTENSIONS = Set.of("GET /locks/history");

  /** POST operations of the contract that only read. */
  static final Set<String> READ_POSTS = Set.of("get_points", "scroll_points", "count_points", "search_points",
      "search_batch_points", "search_point_groups", "recommend_points", "recommend_batch_points", "recommend_point_groups",
      "discover_points", "discover_batch_points", "query_points", "query_batch_points", "query_points_groups",
      "facet", "search_matrix_pairs", "search_matrix_offsets");

  static String openapiPath(String path) {
    return path;
  }

  /** Qdrant's REST contract, kept with the tests. */
  static Path openapi() throws Exception {
    return Path.of(RouteTableTest.class.getResource("/qdrant-openapi-v1.15.5.json").toURI());
  }
}
