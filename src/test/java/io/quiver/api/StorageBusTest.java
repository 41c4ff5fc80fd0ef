package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The public JSON storage address of a node, over the event bus only. */
@Timeout(60)
class StorageBusTest {
  @TempDir Path dir;

  static Object call(TestNode node, JsonObject message) throws Exception {
    return node.vertx.eventBus().<JsonObject>request(node.addresses().storageJson(), message)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).body().getValue("result");
  }

  static ReplyException failure(TestNode node, JsonObject message) {
    var e = assertThrows(ExecutionException.class, () -> call(node, message));
    return assertInstanceOf(ReplyException.class, e.getCause());
  }

  static JsonObject op(String op, String collection, JsonObject body) {
    return new JsonObject().put("op", op).put("collection", collection).put("body", body);
  }

  @Test
  void createUpsertSearchAndTheLock() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      assertEquals(true, call(node, op("create_collection", "c", new JsonObject("{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"))));
      JsonObject upsert = new JsonObject("{\"points\": [{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"k\": \"a\"}},"
          + " {\"id\": 2, \"vector\": [0, 1]}]}");
      JsonObject updated = (JsonObject) call(node, op("UPSERT_POINTS", "c", upsert).put("params", new JsonObject().put("wait", "true")));
      assertEquals("completed", updated.getString("status"));

      JsonArray hits = (JsonArray) call(node, op("search_points", "c",
          new JsonObject().put("vector", new JsonArray().add(1).add(0)).put("limit", 1).put("with_payload", true)));
      assertEquals(1, hits.size());
      assertEquals(1, hits.getJsonObject(0).getInteger("id"));
      assertEquals("a", hits.getJsonObject(0).getJsonObject("payload").getString("k"));
      JsonObject listed = (JsonObject) call(node, op("list_collections", null, null));
      assertEquals("c", listed.getJsonArray("collections").getJsonObject(0).getString("name"));

      // writes over the bus honour the node's lock; reads and deletes go on
      node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}");
      ReplyException locked = failure(node, op("upsert_points", "c", upsert));
      assertEquals(403, locked.failureCode());
      assertEquals("Storage locked: backup", locked.getMessage());
      assertEquals(403, failure(node, op("batch_update", "c",
          new JsonObject("{\"operations\": [{\"upsert\": {\"points\": [{\"id\": 3, \"vector\": [1, 1]}]}}]}"))).failureCode());
      call(node, op("batch_update", "c", new JsonObject("{\"operations\": [{\"delete\": {\"points\": [2]}}]}"))
          .put("params", new JsonObject().put("wait", true)));
      JsonObject count = (JsonObject) call(node, op("count_points", "c", new JsonObject()));
      assertEquals(1, count.getInteger("count"));
      node.send("POST", "/locks", "{\"write\": false}");
      call(node, op("upsert_points", "c", upsert));
    }
  }

  @Test
  void badMessagesGetClearErrors() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      ReplyException unknown = failure(node, new JsonObject().put("op", "drop_everything"));
      assertEquals(400, unknown.failureCode());
      assertTrue(unknown.getMessage().startsWith("Bad request: unknown op `drop_everything`"), unknown.getMessage());
      assertEquals(400, failure(node, new JsonObject().put("collection", "c")).failureCode());
      assertEquals(400, failure(node, op("search_points", "c", null).put("params", "wait")).failureCode());
      ReplyException missing = failure(node, op("get_collection", "nope", null));
      assertEquals(404, missing.failureCode());
      assertEquals("Not found: Collection `nope` doesn't exist!", missing.getMessage());
    }
  }
}
