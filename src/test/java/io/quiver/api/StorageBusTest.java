package io.quiver.api;

import static io.quiver.testing.BusNode.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.BusNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The public JSON storage address of a whole node, over the event bus only. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class StorageBusTest {
  private static final JsonObject VECTORS = new JsonObject("{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
  private static final JsonObject TWO_POINTS = new JsonObject("{\"points\": [{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"k\": \"a\"}},"
      + " {\"id\": 2, \"vector\": [0, 1]}]}");
  private static final JsonObject WAIT = new JsonObject().put("wait", "true");

  @TempDir Path dir;
  private BusNode node;

  @BeforeEach
  void deployNode(Vertx vertx, VertxTestContext ctx) {
    BusNode.start(vertx, dir.resolve("storage"), Map.of()).onComplete(ctx.succeeding(started -> {
      node = started;
      ctx.completeNow();
    }));
  }

  @Test
  void createUpsertWithWaitSearchAndList(VertxTestContext ctx) {
    node.storage(op("create_collection", "c", VECTORS))
        .compose(created -> {
          ctx.verify(() -> assertEquals(true, created));
          // op names are accepted in any case
          return node.storage(op("UPSERT_POINTS", "c", TWO_POINTS).put("params", WAIT));
        })
        .compose(updated -> {
          ctx.verify(() -> assertEquals("completed", ((JsonObject) updated).getString("status")));
          return node.storage(op("search_points", "c",
              new JsonObject().put("vector", new JsonArray().add(1).add(0)).put("limit", 1).put("with_payload", true)));
        })
        .compose(found -> {
          JsonArray hits = (JsonArray) found;
          ctx.verify(() -> {
            assertEquals(1, hits.size());
            assertEquals(1, hits.getJsonObject(0).getInteger("id"));
            assertEquals("a", hits.getJsonObject(0).getJsonObject("payload").getString("k"));
          });
          return node.storage(op("list_collections", null, null));
        })
        .onComplete(ctx.succeeding(listed -> ctx.verify(() -> {
          assertEquals("c", ((JsonObject) listed).getJsonArray("collections").getJsonObject(0).getString("name"));
          ctx.completeNow();
        })));
  }

  @Test
  void writesHonourTheLockAndDeletesGoOn(VertxTestContext ctx) {
    JsonObject upsertInABatch = new JsonObject("{\"operations\": [{\"upsert\": {\"points\": [{\"id\": 3, \"vector\": [1, 1]}]}}]}");
    JsonObject deleteInABatch = new JsonObject("{\"operations\": [{\"delete\": {\"points\": [2]}}]}");
    node.storage(op("create_collection", "c", VECTORS))
        .compose(created -> node.storage(op("upsert_points", "c", TWO_POINTS).put("params", WAIT)))
        .compose(upserted -> setLock(true, "backup"))
        .compose(previous -> node.storageFailure(op("upsert_points", "c", TWO_POINTS)))
        .compose(locked -> {
          ctx.verify(() -> {
            assertEquals(403, locked.failureCode());
            assertEquals("Storage locked: backup", locked.getMessage());
          });
          return node.storageFailure(op("batch_update", "c", upsertInABatch));
        })
        .compose(locked -> {
          ctx.verify(() -> assertEquals(403, locked.failureCode()));
          return node.storage(op("batch_update", "c", deleteInABatch).put("params", new JsonObject().put("wait", true)));
        })
        .compose(deleted -> node.storage(op("count_points", "c", new JsonObject())))
        .compose(count -> {
          ctx.verify(() -> assertEquals(1, ((JsonObject) count).getInteger("count")));
          return setLock(false, null);
        })
        .compose(previous -> node.storage(op("upsert_points", "c", TWO_POINTS)))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  void badMessagesGetClearErrors(VertxTestContext ctx) {
    Checkpoint refused = ctx.checkpoint(4);
    expectFailure(ctx, refused, new JsonObject().put("op", "drop_everything"), e -> {
      assertEquals(400, e.failureCode());
      assertTrue(e.getMessage().startsWith("Bad request: unknown op `drop_everything`"), e.getMessage());
    });
    expectFailure(ctx, refused, new JsonObject().put("collection", "c"), e -> assertEquals(400, e.failureCode()));
    expectFailure(ctx, refused, op("search_points", "c", null).put("params", "wait"), e -> assertEquals(400, e.failureCode()));
    expectFailure(ctx, refused, op("get_collection", "nope", null), e -> {
      assertEquals(404, e.failureCode());
      assertEquals("Not found: Collection `nope` doesn't exist!", e.getMessage());
    });
  }

  /** Sends a message that must fail, checks the failure and flags {@code refused}. */
  private void expectFailure(VertxTestContext ctx, Checkpoint refused, JsonObject message, Consumer<ReplyException> check) {
    node.storageFailure(message).onComplete(ctx.succeeding(e -> ctx.verify(() -> {
      check.accept(e);
      refused.flag();
    })));
  }

  /** The node's write lock, set over its public {@code lock.set} address; answers the previous state. */
  private Future<JsonObject> setLock(boolean write, String message) {
    return node.request(node.addresses().lockSet(), new JsonObject().put("write", write).put("error_message", message));
  }
}
