package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Deploys a whole node and talks to its lock verticle over the event bus only. */
@Timeout(60)
class LockBusTest {
  @TempDir Path dir;

  static JsonObject request(TestNode node, String address, JsonObject body) throws Exception {
    return node.vertx.eventBus().<JsonObject>request(address, body)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).body();
  }

  @Test
  void permissionFollowsTheLock() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      var a = node.addresses();
      JsonObject granted = request(node, a.lockPermission(), new JsonObject());
      assertTrue(granted.getBoolean("allowed"));
      node.vertx.eventBus().send(a.lockRelease(), new JsonObject().put("permit", granted.getLong("permit")));

      JsonObject previous = request(node, a.lockSet(), new JsonObject().put("write", true).put("error_message", "backup"));
      assertEquals(false, previous.getBoolean("write"));

      JsonObject refused = request(node, a.lockPermission(), new JsonObject());
      assertFalse(refused.getBoolean("allowed"));
      assertEquals("Storage locked: backup", refused.getString("error_message"));

      JsonObject state = request(node, a.lockGet(), new JsonObject());
      assertTrue(state.getBoolean("write"));
      assertEquals("backup", state.getString("error_message"));
      assertEquals(1L, state.getLong("rejected_writes"));

      request(node, a.lockSet(), new JsonObject().put("write", false));
      assertTrue(request(node, a.lockPermission(), new JsonObject()).getBoolean("allowed"));
    }
  }
}
