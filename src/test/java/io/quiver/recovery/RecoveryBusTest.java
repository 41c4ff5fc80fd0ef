package io.quiver.recovery;

import static io.quiver.testing.BusNode.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.BusNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node restarted in recovery mode, asked over its public JSON storage address what it still does:
 * it lists and deletes collections, and refuses every data operation with 503.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
class RecoveryBusTest {
  private static final String WHY = "Out of memory on big";
  private static final JsonObject VECTORS = new JsonObject("{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");

  @TempDir Path dir;
  private Path storage;
  private BusNode node;

  /** A normal start fills collection {@code big}; the node is then restarted in recovery mode. */
  @BeforeEach
  void restartInRecoveryMode(Vertx vertx, VertxTestContext ctx) {
    storage = dir.resolve("storage");
    BusNode.start(vertx, storage, Map.of())
        .compose(normal -> fillBig(normal).compose(v -> normal.undeploy()))
        .compose(v -> BusNode.start(vertx, storage, Map.of("QDRANT__STORAGE__RECOVERY_MODE", WHY)))
        .onComplete(ctx.succeeding(recovering -> {
          node = recovering;
          ctx.completeNow();
        }));
  }

  private static Future<Void> fillBig(BusNode normal) {
    JsonObject point = new JsonObject("{\"points\": [{\"id\": 1, \"vector\": [1, 2]}]}");
    return normal.storage(op("create_collection", "big", VECTORS))
        .compose(created -> normal.storage(op("upsert_points", "big", point).put("params", new JsonObject().put("wait", "true"))))
        .mapEmpty();
  }

  @Test
  void statusNamesRecoveryModeAndCollectionsAreListed(VertxTestContext ctx) {
    node.status()
        .compose(status -> {
          ctx.verify(() -> {
            assertEquals("recovery", status.getString("mode"));
            assertEquals(WHY, status.getString("recovery_message"));
          });
          return node.storage(op("list_collections", null, null));
        })
        .onComplete(ctx.succeeding(listed -> ctx.verify(() -> {
          assertEquals(new JsonObject().put("name", "big"), ((JsonObject) listed).getJsonArray("collections").getJsonObject(0));
          ctx.completeNow();
        })));
  }

  @Test
  void dataOperationsAnswerServiceInRecoveryMode(VertxTestContext ctx) {
    Checkpoint refused = ctx.checkpoint(2);
    node.storageFailure(op("scroll_points", "big", new JsonObject())).onComplete(ctx.succeeding(e -> ctx.verify(() -> {
      assertEquals(503, e.failureCode());
      assertEquals("Service in recovery mode: " + WHY, e.getMessage());
      refused.flag();
    })));
    node.storageFailure(op("create_collection", "x", VECTORS)).onComplete(ctx.succeeding(e -> ctx.verify(() -> {
      assertEquals(503, e.failureCode());
      assertEquals("Service in recovery mode: " + WHY, e.getMessage());
      refused.flag();
    })));
  }

  @Test
  void collectionsAreDeletedForGood(Vertx vertx, VertxTestContext ctx) {
    node.storage(op("delete_collection", "big", null))
        .compose(deleted -> {
          ctx.verify(() -> assertEquals(true, deleted));
          return vertx.fileSystem().exists(storage.resolve("collections/big").toString());
        })
        .compose(folderLeft -> {
          ctx.verify(() -> assertFalse(folderLeft, "the collection's folder is still on disk"));
          return node.storage(op("list_collections", null, null));
        })
        .onComplete(ctx.succeeding(listed -> ctx.verify(() -> {
          assertTrue(((JsonObject) listed).getJsonArray("collections").isEmpty(), listed.toString());
          ctx.completeNow();
        })));
  }
}
