package io.quiver.app;

import static io.quiver.testing.BusNode.op;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.quiver.storage.EngineStorageService;
import io.quiver.testing.BusNode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Which storage verticle the deployment verticle chooses, seen over the bus: the full engine on a
 * normal start, the metadata-only service of recovery mode when asked for, and, with {@code
 * QDRANT_ALLOW_RECOVERY_MODE=true}, recovery mode when the normal load fails. Each test deploys its
 * own node, since the configuration is what differs; the extension closes the Vert.x.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
class DeploymentVerticleTest {
  private static final Map<String, String> ALLOW_FALLBACK = Map.of("QDRANT_ALLOW_RECOVERY_MODE", "true");

  @TempDir Path dir;
  private BusNode node;
  private LoadFailureWatch loadFailures;

  @AfterEach
  void stopWatching() {
    if (loadFailures != null) {
      loadFailures.detach();
    }
  }

  @Test
  void aNormalStartDeploysTheFullEngine(Vertx vertx, VertxTestContext ctx) {
    BusNode.start(vertx, storage(), Map.of())
        .compose(BusNode::status)
        .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
          assertEquals("normal", status.getString("mode"));
          assertNull(status.getString("recovery_message"));
          ctx.completeNow();
        })));
  }

  @Test
  void theRecoveryModeSwitchDeploysTheMetadataOnlyService(Vertx vertx, VertxTestContext ctx) {
    BusNode.start(vertx, storage(), Map.of("QDRANT__STORAGE__RECOVERY_MODE", "restore from backup"))
        .compose(BusNode::status)
        .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
          assertEquals("recovery", status.getString("mode"));
          assertEquals("restore from backup", status.getString("recovery_message"));
          ctx.completeNow();
        })));
  }

  @Test
  void withTheFallbackSwitchAFailedLoadFallsBackToRecoveryMode(Vertx vertx, VertxTestContext ctx) throws IOException {
    corruptCollection("broken");
    deploy(vertx, ALLOW_FALLBACK)
        .compose(deployed -> node.awaitStatus("recovery mode", status -> "recovery".equals(status.getString("mode"))))
        .compose(status -> {
          ctx.verify(() -> assertTrue(status.getString("recovery_message").startsWith("Failed to load collection `broken`: "),
              status.getString("recovery_message")));
          return node.storage(op("list_collections", null, null));
        })
        .onComplete(ctx.succeeding(listed -> ctx.verify(() -> {
          assertEquals(new JsonObject().put("name", "broken"), ((JsonObject) listed).getJsonArray("collections").getJsonObject(0));
          ctx.completeNow();
        })));
  }

  @Test
  void withTheFallbackSwitchALoadThatKilledTheLastProcessStartsInRecoveryMode(Vertx vertx, VertxTestContext ctx) throws IOException {
    Path collection = Files.createDirectories(storage().resolve("collections/two"));
    Files.writeString(collection.resolve("config.json"), "{}");
    Files.writeString(collection.resolve(".loading"), "1"); // what a process killed while opening `two` leaves
    BusNode.start(vertx, storage(), ALLOW_FALLBACK)
        .compose(BusNode::status)
        .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
          assertEquals("recovery", status.getString("mode"));
          assertTrue(status.getString("recovery_message").startsWith("Collection `two` was being loaded"),
              status.getString("recovery_message"));
          ctx.completeNow();
        })));
  }

  /**
   * Without the switch a failed load does not fail the deployment: the node is deployed, stays
   * unready and serves no storage operation until it is restarted.
   */
  @Test
  void withoutTheFallbackSwitchAFailedLoadLeavesTheNodeUnready(Vertx vertx, VertxTestContext ctx) throws IOException {
    corruptCollection("broken");
    loadFailures = LoadFailureWatch.attach();
    deploy(vertx, Map.of())
        .compose(deployed -> loadFailures.logged())
        .compose(v -> node.status())
        .compose(status -> {
          ctx.verify(() -> {
            assertFalse(status.getBoolean("ready"), status.encode());
            assertNotEquals("recovery", status.getString("mode"));
          });
          return node.storageFailure(op("list_collections", null, null));
        })
        .onComplete(ctx.succeeding(refused -> ctx.verify(() -> {
          assertEquals(503, refused.failureCode());
          ctx.completeNow();
        })));
  }

  /** Deploys the node without waiting for its storage, and keeps it in {@link #node}. */
  private Future<BusNode> deploy(Vertx vertx, Map<String, String> env) {
    return BusNode.deploy(vertx, storage(), env).map(deployed -> node = deployed);
  }

  private Path storage() {
    return dir.resolve("storage");
  }

  /** A collection folder whose {@code config.json} does not parse: the full engine cannot load it. */
  private void corruptCollection(String name) throws IOException {
    Path collection = Files.createDirectories(storage().resolve("collections").resolve(name));
    Files.writeString(collection.resolve("config.json"), "{\"params\": {\"vectors\": ");
  }

  /**
   * Completes when the deployment verticle logs that the full engine failed to load a collection.
   * Without the fallback switch nothing else marks the end of that load, on the bus or elsewhere.
   */
  private static final class LoadFailureWatch extends AppenderBase<ILoggingEvent> {
    private final Logger logger = (Logger) LoggerFactory.getLogger(DeploymentVerticle.class);
    private final Promise<Void> logged = Promise.promise();

    static LoadFailureWatch attach() {
      var watch = new LoadFailureWatch();
      watch.setContext(watch.logger.getLoggerContext());
      watch.start();
      watch.logger.addAppender(watch);
      return watch;
    }

    @Override
    protected void append(ILoggingEvent event) {
      if (event.getThrowableProxy() != null
          && event.getThrowableProxy().getClassName().equals(EngineStorageService.CollectionLoadException.class.getName())) {
        logged.tryComplete();
      }
    }

    Future<Void> logged() {
      return logged.future();
    }

    void detach() {
      logger.detachAppender(this);
      stop();
    }
  }
}
