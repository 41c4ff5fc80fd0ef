package io.quiver.app;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a node: {@code java -jar quiver.jar [--config-path FILE] [--conf-dir DIR]}. */
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /** The code the process ends with after the shutdown hook; startup failures set 1. */
  private static volatile int exitCode;

  private Main() {}

  public static void main(String[] args) {
    String configPath = null;
    Path confDir = Path.of("conf");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config-path" -> configPath = value(args, ++i);
        case "--conf-dir" -> confDir = Path.of(value(args, ++i));
        default -> usage("unknown argument " + args[i]);
      }
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    var launch = new DeploymentVerticle.Launch(confDir, configPath, System.getenv());
    var deployment = new DeploymentVerticle(launch);
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

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      usage(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static void usage(String problem) {
    System.err.println("quiver: " + problem + "\nusage: quiver [--config-path FILE] [--conf-dir DIR]");
    System.exit(2);
  }
}
