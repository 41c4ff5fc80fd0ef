package io.quiver.app;

import ch.qos.logback.classic.Level;
import io.quiver.api.HttpRouterVerticle;
import io.quiver.bus.Addresses;
import io.quiver.lock.LockVerticle;
import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageVerticle;
import io.quiver.storage.engine.EngineStorageService;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's entry point: reads the configuration once, then deploys in order the lock verticle,
 * a storage verticle and the HTTP router, failing fast with a clear log line if any fails.
 */
public final class DeploymentVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(DeploymentVerticle.class);

  /** Where the configuration comes from: the layered files' folder, {@code --config-path}, the environment. */
  public record Launch(Path confDir, String configPath, Map<String, String> env) {}

  private final Launch launch;
  private QuiverConfig config;
  private Node node;
  private HttpRouterVerticle router;

  public DeploymentVerticle(Launch launch) {
    this.launch = launch;
  }

  /** The running node's facts, once started. */
  public Node node() {
    return node;
  }

  /** The HTTP port actually bound (useful when the configured port is 0). */
  public int httpPort() {
    return router.actualPort();
  }

  @Override
  public Future<?> start() {
    long t0 = System.nanoTime();
    return ConfigLoader.load(vertx, launch.confDir(), launch.configPath(), launch.env())
        .compose(cfg -> {
          config = cfg;
          applyLogLevel(cfg.logLevel());
          log.info("Configuration read from {} in {} ms", cfg.sources(), ms(t0));
          return vertx.executeBlocking(() -> NodeIdentity.loadOrCreate(cfg.storage().storagePath()));
        })
        .compose(peerId -> {
          node = new Node(peerId, new Addresses(Long.toString(peerId)), config, System.currentTimeMillis());
          StorageClient.registerCodecs(vertx);
          log.info("Node {} with storage at {}", peerId, config.storage().storagePath().toAbsolutePath().normalize());
          return step("lock verticle", new LockVerticle(node.addresses()));
        })
        .compose(v -> deployStorage())
        .compose(v -> step("HTTP router verticle", router = new HttpRouterVerticle(node)))
        .onSuccess(v -> log.info("Quiver {} started in {} ms", Node.VERSION, ms(t0)))
        .onFailure(err -> log.error("Startup failed: {}", err.getMessage()));
  }

  private Future<Void> deployStorage() {
    var storage = new StorageVerticle(node.addresses(), "full engine",
        () -> EngineStorageService.open(config));
    return step("storage verticle", storage).onSuccess(v -> storage.loaded().onFailure(err ->
        log.error("Loading collections failed; the node stays unready", err)));
  }

  private Future<Void> step(String what, io.vertx.core.Deployable verticle) {
    long t0 = System.nanoTime();
    return vertx.deployVerticle(verticle)
        .<Void>map(id -> {
          log.info("Deployed {} in {} ms", what, ms(t0));
          return null;
        })
        .recover(err -> Future.failedFuture(new IllegalStateException("Cannot deploy " + what + ": " + err.getMessage(), err)));
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static void applyLogLevel(String level) {
    if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(Level.toLevel(level));
    }
  }
}
