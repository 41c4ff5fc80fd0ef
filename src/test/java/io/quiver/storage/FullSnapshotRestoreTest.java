package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.config.ConfigLoader;
import io.quiver.config.QuiverConfig;
import io.quiver.storage.EngineStorageService;
import io.quiver.testing.TestNode;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full snapshot taken on one node restores into another node's storage at start-up
 * ({@code --storage-snapshot}): every collection with its points, payload indexes and aliases;
 * existing collections are kept unless forced.
 */
@Timeout(180)
class FullSnapshotRestoreTest {
  @TempDir Path dir;

  @Test
  void aFullSnapshotRestoresEveryCollectionAndAlias() throws Exception {
    Path file;
    String one;
    String two;
    try (TestNode a = TestNode.start(dir.resolve("a"))) {
      ok(a.send("PUT", "/collections/one", "{\"vectors\": {\"size\": 3, \"distance\": \"Cosine\"}}"));
      ok(a.send("PUT", "/collections/one/index?wait=true", "{\"field_name\": \"k\", \"field_schema\": \"keyword\"}"));
      ok(a.send("PUT", "/collections/two", "{\"sparse_vectors\": {\"s\": {}}}"));
      StringBuilder points = new StringBuilder();
      for (int i = 1; i <= 50; i++) {
        points.append(i == 1 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": [1, ").append(i)
            .append(", 2], \"payload\": {\"k\": \"v").append(i % 3).append("\"}}");
      }
      ok(a.send("PUT", "/collections/one/points?wait=true", "{\"points\": [" + points + "]}"));
      ok(a.send("PUT", "/collections/two/points?wait=true",
          "{\"points\": [{\"id\": 7, \"vector\": {\"s\": {\"indices\": [1, 5], \"values\": [0.5, 2]}}, \"payload\": {\"x\": 1}}]}"));
      ok(a.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"one\", \"alias_name\": \"first\"}}]}"));
      one = contents(a, "one");
      two = contents(a, "two");
      var created = a.send("POST", "/snapshots?wait=true", null);
      ok(created);
      file = dir.resolve("a/snapshots").resolve(created.result().get("name").asText());
    }

    Path b = dir.resolve("b");
    assertEquals(List.of("one", "two"), restore(b, file, false));
    try (TestNode node = TestNode.start(b)) {
      assertEquals(one, contents(node, "one"));
      assertEquals(two, contents(node, "two"));
      assertEquals("one", node.get("/aliases").result().get("aliases").get(0).get("collection_name").asText());
      assertEquals("keyword", node.get("/collections/one").result().at("/payload_schema/k/data_type").asText());
      assertEquals(17, node.send("POST", "/collections/first/points/count",
          "{\"exact\": true, \"filter\": {\"must\": [{\"key\": \"k\", \"match\": {\"value\": \"v1\"}}]}}").result().get("count").asInt());
      ok(node.send("POST", "/collections/two/points/delete?wait=true", "{\"points\": [7]}"));
    }

    // an existing collection is kept, unless forced
    assertEquals(List.of(), restore(b, file, false));
    try (TestNode node = TestNode.start(b)) {
      assertEquals(0, node.send("POST", "/collections/two/points/count", "{\"exact\": true}").result().get("count").asInt());
    }
    assertEquals(List.of("one", "two"), restore(b, file, true));
    try (TestNode node = TestNode.start(b)) {
      assertEquals(two, contents(node, "two"));
    }

    // not a full snapshot: refused, storage untouched
    Path bogus = Files.writeString(dir.resolve("bogus.snapshot"), "not a tar archive");
    assertThrows(RuntimeException.class, () -> restore(b, bogus, true));
    try (TestNode node = TestNode.start(b)) {
      assertEquals(one, contents(node, "one"));
    }
  }

  private List<String> restore(Path storage, Path file, boolean force) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Map<String, String> env = Map.of("QDRANT__STORAGE__STORAGE_PATH", storage.toString(),
          "QDRANT__STORAGE__SNAPSHOTS_PATH", storage.resolve("snapshots").toString());
      Path conf = Files.createDirectories(storage.resolveSibling(storage.getFileName() + "-conf"));
      QuiverConfig config = ConfigLoader.load(vertx, conf, null, env).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      try (var service = EngineStorageService.open(config)) {
        return service.restoreFullSnapshot(file, force);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static String contents(TestNode node, String collection) throws Exception {
    var r = node.send("POST", "/collections/" + collection + "/points/scroll",
        "{\"limit\": 1000, \"with_payload\": true, \"with_vector\": true}");
    ok(r);
    assertTrue(r.result().get("points").size() > 0);
    return r.result().get("points").toString();
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
