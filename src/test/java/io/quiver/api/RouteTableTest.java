package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.request.Access;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import io.vertx.core.http.HttpMethod;
import java.util.HashSet;
import java.util.List;
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

  /**
   * {@link RouteTable} finds for every request the route Vert.x Web's router found when each row was
   * its own route: the first row in order whose path pattern matches and whose method is the
   * request's; 405 when only other methods match. Tried with every row's path, its parameters
   * replaced by plain names, by every literal segment of the table (a collection named {@code
   * aliases}) and by percent-encoded names, with and without a trailing slash, in every method.
   */
  @Test
  void lookupChoosesAsTheRouterDid() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      List<Route> routes = node.deployment.router().routes();
      var table = new RouteTable(routes);
      List<java.util.regex.Pattern> patterns = routes.stream()
          .map(r -> java.util.regex.Pattern.compile(r.path().replaceAll("\\{[a-z_]+}", "[^/]+") + (r.path().equals("/") ? "" : "/?")))
          .toList();
      Set<String> values = new java.util.TreeSet<>(List.of("c1", "a%2Fb", "my%20coll"));
      for (Route r : routes) {
        for (String segment : r.path().split("/")) {
          if (!segment.isEmpty() && !segment.startsWith("{")) {
            values.add(segment);
          }
        }
      }
      int checked = 0;
      for (Route r : routes) {
        for (String value : values) {
          String path = r.path().replaceAll("\\{[a-z_]+}", value);
          for (String p : path.equals("/") ? List.of(path) : List.of(path, path + "/")) {
            for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE)) {
              Route expected = null;
              boolean pathMatched = false;
              for (int i = 0; i < routes.size() && expected == null; i++) {
                if (patterns.get(i).matcher(p).matches()) {
                  pathMatched = true;
                  if (routes.get(i).method().equals(method)) {
                    expected = routes.get(i);
                  }
                }
              }
              Object found = table.find(method, p);
              if (expected == null) {
                assertEquals(new RouteTable.Miss(pathMatched), found, method + " " + p);
              } else {
                RouteTable.Match match = assertInstanceOf(RouteTable.Match.class, found, method + " " + p);
                assertEquals(expected, match.route(), method + " " + p);
                if (r == expected && r.path().contains("{")) {
                  String decoded = java.net.URLDecoder.decode(value, java.nio.charset.StandardCharsets.UTF_8);
                  assertTrue(match.params().values().stream().allMatch(decoded::equals), method + " " + p + " " + match.params());
                }
              }
              checked++;
            }
          }
        }
      }
      assertTrue(checked > 1000, "checked " + checked);
      assertEquals(new RouteTable.Miss(false), table.find(HttpMethod.GET, "/collections//points"));
      assertEquals(new RouteTable.Miss(false), table.find(HttpMethod.GET, "/no/such/path"));
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
