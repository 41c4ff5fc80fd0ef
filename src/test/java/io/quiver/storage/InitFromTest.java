package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code init_from} on collection creation: the new collection starts with every point and payload
 * index of the source, checked for compatibility first as Qdrant checks it; a refusal creates nothing.
 */
@Timeout(120)
class InitFromTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    ok(node.send("PUT", "/collections/src", """
        {"vectors": {"a": {"size": 3, "distance": "Cosine"}, "b": {"size": 2, "distance": "Euclid"}},
         "sparse_vectors": {"s": {}}}"""));
    ok(node.send("PUT", "/collections/src/index?wait=true", "{\"field_name\": \"k\", \"field_schema\": \"keyword\"}"));
    // more points than one copy page holds
    for (int batch = 0; batch < 3; batch++) {
      StringBuilder points = new StringBuilder();
      for (int i = batch * 1000; i < (batch == 2 ? 2234 : (batch + 1) * 1000); i++) {
        points.append(points.isEmpty() ? "" : ",").append("{\"id\": ").append(i + 1).append(", \"vector\": {\"a\": [1, ")
            .append(i % 10).append(", 2], \"b\": [").append(i).append(", 1]")
            .append(i % 2 == 0 ? ", \"s\": {\"indices\": [" + (i % 50) + "], \"values\": [0.5]}" : "")
            .append("}, \"payload\": {\"k\": \"v").append(i % 7).append("\", \"i\": ").append(i).append("}}");
      }
      ok(node.send("PUT", "/collections/src/points?wait=true", "{\"points\": [" + points + "]}"));
    }
    ok(node.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"src\", \"alias_name\": \"src_alias\"}}]}"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void aNewCollectionStartsWithTheSourcesPointsAndIndexes() throws Exception {
    ok(node.send("PUT", "/collections/copy", """
        {"vectors": {"a": {"size": 3, "distance": "Cosine"}, "b": {"size": 2, "distance": "Euclid"},
                     "c": {"size": 5, "distance": "Dot"}},
         "sparse_vectors": {"s": {}}, "init_from": {"collection": "src_alias"}}"""));
    assertEquals(2234, count("copy", null));
    assertEquals(count("src", "v3"), count("copy", "v3"));
    var info = node.get("/collections/copy").result();
    assertEquals("keyword", info.at("/payload_schema/k/data_type").asText());
    assertEquals(2234, info.at("/payload_schema/k/points").asInt());
    String retrieve = "{\"ids\": [1, 2, 1500, 2234], \"with_payload\": true, \"with_vector\": true}";
    assertEquals(node.send("POST", "/collections/src/points", retrieve).result().toString(),
        node.send("POST", "/collections/copy/points", retrieve).result().toString());
    // searches agree
    String search = "{\"vector\": {\"name\": \"a\", \"vector\": [1, 3, 2]}, \"limit\": 5, \"filter\": {\"must\": [{\"key\": \"k\", \"match\": {\"value\": \"v2\"}}]}}";
    assertEquals(ids(node.send("POST", "/collections/src/points/search", search)), ids(node.send("POST", "/collections/copy/points/search", search)));
    // the copy is independent of its source
    ok(node.send("POST", "/collections/src/points/delete?wait=true", "{\"points\": [1]}"));
    assertEquals(2234, count("copy", null));
    ok(node.send("PUT", "/collections/src/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": {\"a\": [1, 1, 2], \"b\": [0, 1]}, \"payload\": {\"k\": \"v0\", \"i\": 0}}]}"));
  }

  @Test
  void anIncompatibleOrMissingSourceCreatesNothing() throws Exception {
    refused("{\"vectors\": {\"a\": {\"size\": 4, \"distance\": \"Cosine\"}, \"b\": {\"size\": 2, \"distance\": \"Euclid\"}}, \"sparse_vectors\": {\"s\": {}}}",
        400, "Wrong input: Vectors configuration is not compatible: origin vector a size: 3, while other vector size: 4");
    refused("{\"vectors\": {\"a\": {\"size\": 3, \"distance\": \"Dot\"}, \"b\": {\"size\": 2, \"distance\": \"Euclid\"}}, \"sparse_vectors\": {\"s\": {}}}",
        400, "Wrong input: Vectors configuration is not compatible: origin vector a distance: Cosine, while other vector distance: Dot");
    refused("{\"vectors\": {\"a\": {\"size\": 3, \"distance\": \"Cosine\"}}, \"sparse_vectors\": {\"s\": {}}}",
        400, "Wrong input: Vectors configuration is not compatible: origin collection have vector b, while other collection does not");
    refused("{\"vectors\": {\"a\": {\"size\": 3, \"distance\": \"Cosine\"}, \"b\": {\"size\": 2, \"distance\": \"Euclid\"}}}",
        400, "Wrong input: Vectors configuration is not compatible: origin collection have vector s, while other collection does not");
    refused("{\"vectors\": {\"size\": 3, \"distance\": \"Cosine\"}}",
        400, "Wrong input: Vectors configuration is not compatible: origin collection have vectors [a, b], while other vectors []");
    var missing = node.send("PUT", "/collections/bad", "{\"vectors\": {\"size\": 3, \"distance\": \"Cosine\"}, \"init_from\": {\"collection\": \"nope\"}}");
    assertEquals(404, missing.status());
    assertEquals("Not found: Collection `nope` doesn't exist!", missing.error());
    assertEquals(404, node.get("/collections/bad").status());
  }

  private static void refused(String config, int status, String error) throws Exception {
    String body = config.substring(0, config.length() - 1) + ", \"init_from\": {\"collection\": \"src\"}}";
    var r = node.send("PUT", "/collections/bad", body);
    assertEquals(status, r.status(), r.body());
    assertEquals(error, r.error());
    assertEquals(404, node.get("/collections/bad").status(), "nothing was created");
  }

  private static int count(String collection, String k) throws Exception {
    String filter = k == null ? "" : ", \"filter\": {\"must\": [{\"key\": \"k\", \"match\": {\"value\": \"" + k + "\"}}]}";
    return node.send("POST", "/collections/" + collection + "/points/count", "{\"exact\": true" + filter + "}").result().get("count").asInt();
  }

  private static String ids(TestNode.Response r) {
    ok(r);
    StringBuilder out = new StringBuilder();
    r.result().forEach(h -> out.append(h.get("id")).append(' '));
    assertTrue(out.length() > 0);
    return out.toString();
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
