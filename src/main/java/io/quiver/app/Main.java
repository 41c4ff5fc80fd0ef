package io.quiver.app;

import io.quiver.config.QuiverConfig;
import io.quiver.config.ConfigLoader;
import io.quiver.cluster.ClusterSetup;
import io.quiver.storage.EngineStorageService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.spi.cluster.ClusterManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a node: {@code java -jar quiver.jar [--config-path FILE] [--conf-dir DIR] [--storage-snapshot
 * FILE [--force-snapshot]] [--uri URI] [--bootstrap URI]}. As in Qdrant, {@code --uri} is the p2p URI
 * other peers reach this one at and {@code --bootstrap} an existing peer's p2p URI to join through
 * (also {@code QDRANT_URI} and {@code QDRANT_BOOTSTRAP} in the environment; the command line wins). Reads the configuration once on a plain Vert.x; with {@code
 * cluster.enabled} it replaces that instance by a clustered one (Hazelcast), otherwise the node runs
 * on it and pays nothing for clustering. A storage snapshot is restored before anything serves.
 */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);
  /** Joining may wait for Hazelcast's join timeouts; a node that cannot form or join a cluster stops. */
  private static final long CLUSTER_START_SECONDS = 120;

  /** The code the process ends with after the shutdown hook; startup failures set 1. */
  private static volatile int exitCode;

  private Main() {}

  public static void main(String[] args) {
    String configPath = null;
    Path confDir = Path.of("conf");
    Path storageSnapshot = null;
    boolean forceSnapshot = false;
    String uri = System.getenv("QDRANT_URI");
    String bootstrap = System.getenv("QDRANT_BOOTSTRAP");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config-path" -> configPath = value(args, ++i);
        case "--conf-dir" -> confDir = Path.of(value(args, ++i));
        case "--storage-snapshot" -> storageSnapshot = Path.of(value(args, ++i));
        case "--force-snapshot" -> forceSnapshot = true;
        case "--uri" -> uri = value(args, ++i);
        case "--bootstrap" -> bootstrap = value(args, ++i);
        default -> usage("unknown argument " + args[i]);
      }
    }
    var options = new VertxOptions().setPreferNativeTransport(true);
    Vertx vertx = Vertx.vertx(options);
    log.info("Network I/O on {}", vertx.isNativeTransportEnabled() ? "the native transport (epoll)" : "Java NIO");
    QuiverConfig config = await(ConfigLoader.load(vertx, confDir, configPath, System.getenv()), 60, vertx)
        .withJoin(blankToNull(uri), blankToNull(bootstrap));
    DeploymentVerticle.applyLogLevel(config.logLevel());
    if (storageSnapshot != null) {
      restore(config, storageSnapshot, forceSnapshot, vertx);
    }
    ClusterManager clusterManager = null;
    if (config.cluster().enabled()) {
      await(vertx.close(), 30, null);
      log.info("Joining the cluster: Hazelcast on {}:{}, event bus on port {}, {}", config.cluster().p2pHost(),
          config.cluster().p2pPort(), config.cluster().busPort() == 0 ? "(any free)" : config.cluster().busPort(),
          config.cluster().kubernetesService() != null
              ? "members from the DNS of " + config.cluster().kubernetesService()
              : "members " + config.cluster().members());
      // the peers this node knew when it last ran: it finds the cluster even if its bootstrap peer is gone
      var known = io.quiver.cluster.ClusterBoot.knownPeers(config.storage().storagePath());
      var clustered = await(ClusterSetup.start(config.cluster(), known, options), CLUSTER_START_SECONDS, null);
      vertx = clustered.vertx();
      clusterManager = clustered.clusterManager();
    }
    run(vertx, new DeploymentVerticle(config, clusterManager));
  }

  private static void run(Vertx vertx, DeploymentVerticle deployment) {
    vertx.deployVerticle(deployment).onFailure(err -> {
      log.error("Quiver did not start: {}", err.getMessage());
      exitCode = 1;
      vertx.close().onComplete(v -> System.exit(1));
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Shutting down: closing verticles and storage");
      try {
        // REST first (requests in flight finish against live storage), then storage commits and closes
        deployment.stopServing().toCompletionStage().toCompletableFuture().get(22, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("REST server did not stop gracefully: {}", e.toString());
      }
      try {
        // in cluster mode this also leaves the cluster
        vertx.close().toCompletionStage().toCompletableFuture().get(25, TimeUnit.SECONDS);
        log.info("Shutdown complete");
      } catch (Exception e) {
        log.error("Shutdown did not complete cleanly: {}", e.toString());
        exitCode = Math.max(exitCode, 2);
      }
      // a clean stop on SIGTERM exits 0 rather than the JVM's 143, as Kubernetes expects
      Runtime.getRuntime().halt(exitCode);
    }, "quiver-shutdown"));
  }

  /**
   * Restores a full snapshot into the storage before anything serves it (as Qdrant's {@code
   * --storage-snapshot}); a snapshot that cannot be restored stops the start.
   */
  private static void restore(QuiverConfig config, Path file, boolean force, Vertx vertx) {
    if (!Files.isRegularFile(file)) {
      log.error("Quiver did not start: --storage-snapshot {} is not a file", file);
      vertx.close();
      System.exit(1);
    }
    try (var storage = EngineStorageService.open(config)) {
      var restored = storage.restoreFullSnapshot(file, force);
      log.info("Full snapshot {} restored: {} collection(s)", file, restored.size());
    } catch (Exception e) {
      log.error("Quiver did not start: the full snapshot {} could not be restored: {}", file, e.getMessage());
      vertx.close();
      System.exit(1);
    }
  }

  /** Waits for a start-up step; a failure ends the process with 1 and a clear log line. */
  private static <T> T await(Future<T> future, long seconds, Vertx toClose) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      log.error("Quiver did not start: {}", cause.getMessage() != null ? cause.getMessage() : cause.toString());
      if (toClose != null) {
        toClose.close();
      }
      System.exit(1);
      throw new IllegalStateException(cause);
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      usage(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static void usage(String problem) {
    System.err.println("quiver: " + problem + "\nusage: quiver [--config-path FILE] [--conf-dir DIR] [--storage-snapshot FILE [--force-snapshot]]"
        + " [--uri URI] [--bootstrap URI]");
    System.exit(2);
  }
}
