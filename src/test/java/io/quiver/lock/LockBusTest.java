package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.BusNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A whole node's lock verticle, over its public event-bus addresses only. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class LockBusTest {
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
  void permissionFollowsTheLock(VertxTestContext ctx) {
    permission()
        .compose(granted -> {
          ctx.verify(() -> {
            assertTrue(granted.getBoolean("allowed"));
            assertTrue(granted.getLong("permit") > 0, granted.encode());
          });
          release(granted.getLong("permit"));
          return setLock(true, "backup");
        })
        .compose(previous -> permission())
        .compose(refused -> {
          ctx.verify(() -> assertFalse(refused.getBoolean("allowed")));
          return setLock(false, null);
        })
        .compose(previous -> permission())
        .onComplete(ctx.succeeding(granted -> ctx.verify(() -> {
          assertTrue(granted.getBoolean("allowed"));
          release(granted.getLong("permit"));
          ctx.completeNow();
        })));
  }

  @Test
  void aRefusedPermissionCarriesTheMessageAndCounts(VertxTestContext ctx) {
    setLock(true, "backup")
        .compose(previous -> permission())
        .compose(refused -> {
          ctx.verify(() -> {
            assertFalse(refused.getBoolean("allowed"));
            assertEquals(403, refused.getInteger("code"));
            assertEquals("lock", refused.getString("cause"));
            assertEquals("Storage locked: backup", refused.getString("error_message"));
          });
          return lockState();
        })
        .onComplete(ctx.succeeding(state -> ctx.verify(() -> {
          assertTrue(state.getBoolean("write"));
          assertEquals("backup", state.getString("error_message"));
          assertEquals(1L, state.getLong("rejected_writes"));
          assertEquals(0, state.getInteger("writes_in_flight"));
          ctx.completeNow();
        })));
  }

  @Test
  void setAnswersThePreviousState(VertxTestContext ctx) {
    setLock(true, "backup")
        .compose(previous -> {
          ctx.verify(() -> assertEquals(new JsonObject().put("write", false).putNull("error_message"), previous));
          return setLock(true, "maintenance");
        })
        .compose(previous -> {
          ctx.verify(() -> assertEquals(new JsonObject().put("write", true).put("error_message", "backup"), previous));
          return setLock(false, null);
        })
        .compose(previous -> {
          ctx.verify(() -> assertEquals(new JsonObject().put("write", true).put("error_message", "maintenance"), previous));
          return lockState();
        })
        .onComplete(ctx.succeeding(state -> ctx.verify(() -> {
          assertFalse(state.getBoolean("write"));
          assertNull(state.getString("error_message"));
          ctx.completeNow();
        })));
  }

  @Test
  void aMalformedSetIsRefusedAndChangesNothing(VertxTestContext ctx) {
    node.requestFailure(node.addresses().lockSet(), new JsonObject().put("error_message", "backup"))
        .compose(refused -> {
          ctx.verify(() -> {
            assertEquals(400, refused.failureCode());
            assertEquals("Format error in JSON body: missing field `write`", refused.getMessage());
          });
          return lockState();
        })
        .onComplete(ctx.succeeding(state -> ctx.verify(() -> {
          assertFalse(state.getBoolean("write"));
          ctx.completeNow();
        })));
  }

  /**
   * Linearizability: a write asks for a permit before it starts and hands it back when done; the
   * answer to {@code lock.set} must wait for every permit granted before it, while permissions
   * asked after it are refused at once.
   */
  @Test
  void setAnswersOnlyOnceWritesHoldingPermitsHaveReleasedThem(VertxTestContext ctx) {
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    Future<Long> first = permit();
    Future<Long> second = permit();
    Promise<JsonObject> setAnswered = Promise.promise();
    Future.all(first, second)
        .compose(writesRunning -> {
          setLock(true, "backup").andThen(ar -> events.add("set answered")).onComplete(setAnswered);
          return permission();
        })
        .compose(refused -> {
          ctx.verify(() -> assertFalse(refused.getBoolean("allowed"), "a write asked for after the lock must be refused"));
          events.add("first released"); // noted before sending, so the answer cannot overtake the note
          release(first.result());
          return lockState();
        })
        .compose(state -> {
          ctx.verify(() -> {
            assertTrue(state.getBoolean("write"));
            assertEquals(1, state.getInteger("writes_in_flight"));
            assertFalse(setAnswered.future().isComplete(), "lock.set answered while a write still held its permit");
          });
          events.add("second released");
          release(second.result());
          return setAnswered.future();
        })
        .onComplete(ctx.succeeding(previous -> ctx.verify(() -> {
          assertEquals(List.of("first released", "second released", "set answered"), events);
          assertFalse(previous.getBoolean("write"));
          ctx.completeNow();
        })));
  }

  private Future<JsonObject> permission() {
    return node.request(node.addresses().lockPermission(), new JsonObject());
  }

  /** A granted permit, or a failed future if the lock refused it. */
  private Future<Long> permit() {
    return permission().map(granted -> {
      if (!granted.getBoolean("allowed")) {
        throw new AssertionError("permission refused: " + granted.encode());
      }
      return granted.getLong("permit");
    });
  }

  private void release(long permit) {
    node.send(node.addresses().lockRelease(), new JsonObject().put("permit", permit));
  }

  private Future<JsonObject> setLock(boolean write, String message) {
    return node.request(node.addresses().lockSet(), new JsonObject().put("write", write).put("error_message", message));
  }

  private Future<JsonObject> lockState() {
    return node.request(node.addresses().lockGet(), new JsonObject());
  }
}
