package io.quiver.app;

import ch.qos.logback.classic.Level;
import io.quiver.api.HttpRouterVerticle;
import io.quiver.api.StorageBusVerticle;
import io.quiver.bus.Addresses;
import io.quiver.cluster.ClusterBoot;
import io.quiver.cluster.ClusterPeers;
import io.quiver.cluster.Peer;
import io.quiver.cluster.Peers;
import io.quiver.cluster.SendFailures;
import io.quiver.config.ConfigLoader;
import io.quiver.config.Node;
import io.quiver.config.QuiverConfig;
import io.quiver.grpc.GrpcVerticle;
import io.quiver.lock.DiskGuard;
import io.quiver.lock.DiskProbe;
import io.quiver.lock.LockVerticle;
import io.quiver.metrics.RequestStats;
import io.quiver.recovery.MetadataOnlyStorageService;
import io.quiver.storage.EngineStorageService;
import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageVerticle;
import io.quiver.storage.collection.StorageLayout;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.spi.cluster.ClusterManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
  private final ClusterManager clusterManager;
  private Peers peers;
  private QuiverConfig config;
  private Node node;
  private HttpRouterVerticle router;
  /** Calls over gRPC, by method and status code, for /metrics and telemetry. */
  private final RequestStats grpcStats = new RequestStats();
  private GrpcVerticle grpc;
  /** The deployments that serve clients (REST routers, gRPC), stopped first when the node stops. */
  private final List<String> httpDeployments = new java.util.concurrent.CopyOnWriteArrayList<>();

  public DeploymentVerticle(Launch launch) {
    this.launch = launch;
    this.clusterManager = null;
  }

  /**
   * A node whose configuration {@link Main} has already read (it needs it to decide whether to
   * start a clustered Vert.x).
   *
   * @param clusterManager the cluster manager of a clustered Vert.x, or null in single-node mode
   */
  public DeploymentVerticle(QuiverConfig config, ClusterManager clusterManager) {
    this.launch = null;
    this.config = config;
    this.clusterManager = clusterManager;
  }

  /** The running node's facts, once started. */
  public Node node() {
    return node;
  }

  /**
   * The first step of a graceful stop: the REST server stops accepting connections and lets the
   * requests in flight finish, while storage and lock still serve them; then the rest can close.
   */
  public Future<Void> stopServing() {
    List<String> ids = List.copyOf(httpDeployments);
    httpDeployments.clear();
    if (ids.isEmpty()) {
      return Future.succeededFuture();
    }
    // leave the peers map first, so that other nodes stop listing this one while it drains
    Future<Void> withdrawn = peers == null ? Future.succeededFuture() : peers.deregister()
        .timeout(3, java.util.concurrent.TimeUnit.SECONDS)
        .recover(err -> {
          log.warn("Could not withdraw from the cluster's peer map: {}", err.toString());
          return Future.succeededFuture();
        });
    return withdrawn.compose(v -> Future.all(ids.stream().map(vertx::undeploy).toList())).mapEmpty();
  }

  public HttpRouterVerticle router() {
    return router;
  }

  /** The HTTP port actually bound (useful when the configured port is 0). */
  public int httpPort() {
    return router.actualPort();
  }

  @Override
  public Future<?> start() {
    long t0 = System.nanoTime();
    Future<QuiverConfig> loaded = config != null
        ? Future.succeededFuture(config)
        : ConfigLoader.load(vertx, launch.confDir(), launch.configPath(), launch.env());
    return loaded
        .compose(cfg -> {
          config = cfg;
          applyLogLevel(cfg.logLevel());
          log.info("Configuration read from {} in {} ms", cfg.sources(), ms(t0));
          return vertx.executeBlocking(() -> NodeIdentity.loadOrCreate(cfg.storage().storagePath()));
        })
        .compose(peerId -> {
          node = new Node(peerId, new Addresses(Long.toString(peerId)), config, System.currentTimeMillis());
          peers = clusterManager == null ? Peers.single(peerId, null) : new ClusterPeers(vertx, clusterManager, peerId);
          StorageClient.registerCodecs(vertx);
          log.info("Node {} with storage at {}", peerId, config.storage().storagePath().toAbsolutePath().normalize());
          var marks = config.storage().diskWatermarks();
          return step("lock verticle", new LockVerticle(node.addresses(),
              new DiskGuard(marks.blockBelowBytes(), marks.resumeAboveBytes()),
              DiskProbe.of(config.storage().storagePath()), marks.checkIntervalMs()));
        })
        .compose(v -> deployStorage())
        .compose(v -> step("JSON storage bus verticle", new StorageBusVerticle(node.addresses())))
        .compose(v -> deployRouters())
        .compose(v -> deployGrpc())
        .compose(v -> registerPeer())
        .onSuccess(v -> log.info("Quiver {} started in {} ms", Node.VERSION, ms(t0)))
        .onFailure(err -> log.error("Startup failed: {}", err.getMessage()));
  }

  /**
   * {@code service.max_workers} router instances (0: one per core, as Qdrant's actix workers), each on
   * its own event loop, sharing the port: parsing and rendering requests spreads over the cores.
   */
  private Future<Void> deployRouters() {
    int configured = config.service().maxWorkers();
    int instances = configured > 0 ? configured : Runtime.getRuntime().availableProcessors();
    var stats = new RequestStats();
    var failures = new SendFailures();
    long t0 = System.nanoTime();
    return vertx.executeBlocking(() -> port(config.service()))
        .compose(port -> {
          List<HttpRouterVerticle> made = java.util.Collections.synchronizedList(new ArrayList<>());
          // instances of one deployment listening on one port share it, each on its own event loop
          return vertx.deployVerticle(() -> {
            var r = new HttpRouterVerticle(node, peers, stats, grpcStats, failures, port, made.isEmpty());
            made.add(r);
            return r;
          }, new DeploymentOptions().setInstances(instances)).map(id -> {
            httpDeployments.add(id);
            router = made.get(0);
            return id;
          });
        })
        .<Void>map(id -> {
          log.info("Deployed {} HTTP router verticle(s) in {} ms", instances, ms(t0));
          return null;
        })
        .recover(err -> Future.failedFuture(new IllegalStateException("Cannot deploy HTTP router verticle: " + err.getMessage(), err)));
  }

  /** Qdrant's gRPC API on {@code service.grpc_port}, unless that is null. */
  private Future<Void> deployGrpc() {
    if (config.service().grpcPort() == null) {
      log.info("gRPC API off (service.grpc_port is null)");
      return Future.succeededFuture();
    }
    grpc = new GrpcVerticle(node, grpcStats);
    return step("gRPC verticle", grpc, httpDeployments::add);
  }

  /** The gRPC verticle, or null when gRPC is off. */
  public GrpcVerticle grpc() {
    return grpc;
  }

  /** The configured REST port; for 0, a free one (the instances must agree on one port to share it). */
  private static int port(QuiverConfig.Service service) throws IOException {
    if (service.httpPort() != 0) {
      return service.httpPort();
    }
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(service.host()))) {
      return socket.getLocalPort();
    }
  }

  /** Publishes this node (peer id, REST URI, Vert.x node id) so that the others list it. */
  private Future<Void> registerPeer() {
    String host = config.service().host();
    if (host.equals("0.0.0.0") || host.equals("::")) {
      host = peers.advertisedHost() != null ? peers.advertisedHost() : "localhost";
    }
    String uri = (config.tls() == null ? "http://" : "https://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + router.actualPort();
    Peer self = new Peer(node.peerId(), uri, clusterManager == null ? null : clusterManager.getNodeId());
    return peers.register(self).onSuccess(v -> {
      if (peers.clustered()) {
        log.info("Node {} joined the cluster as Vert.x node {}, REST at {}", node.peerId(), self.nodeId(), uri);
      }
    });
  }

  /**
   * Deploys the full storage verticle, or the metadata-only one in recovery mode. With {@code
   * QDRANT_ALLOW_RECOVERY_MODE=true}, a load that fails (or that a previous process died in, as the
   * kernel's OOM killer leaves it) falls back to recovery mode without a restart.
   */
  private Future<Void> deployStorage() {
    var storage = config.storage();
    if (storage.recoveryModeOn()) {
      return deployRecovery(storage.recoveryMode());
    }
    if (storage.allowRecoveryModeFallback()) {
      List<String> interrupted;
      try {
        interrupted = StorageLayout.interruptedLoads(storage.storagePath());
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
      if (!interrupted.isEmpty()) {
        String why = "Collection `" + interrupted.get(0) + "` was being loaded when the node last stopped "
            + "(killed while loading, possibly out of memory)";
        log.error("{}; starting in recovery mode", why);
        return deployRecovery(why);
      }
    }
    var full = clusterManager == null
        ? new StorageVerticle(node.addresses(), "full engine", () -> EngineStorageService.open(config))
        : new StorageVerticle(node.addresses(), "full engine, cluster mode",
            () -> ClusterBoot.open(vertx, clusterManager, config, node.peerId(), ((ClusterPeers) peers)::consensus));
    return vertx.deployVerticle(full).compose(id -> {
      log.info("Deployed storage verticle (full engine); loading collections");
      // callbacks of the storage verticle run on its context; deploy from ours, the parent's
      full.loaded().onFailure(err -> context.runOnContext(ignored -> {
        if (!storage.allowRecoveryModeFallback()) {
          log.error("Loading collections failed; the node stays unready. Set QDRANT_ALLOW_RECOVERY_MODE=true to "
              + "fall back to recovery mode automatically.", err);
          return;
        }
        String why = err instanceof EngineStorageService.CollectionLoadException load
            ? "Failed to load collection `" + load.collection + "`: " + rootCause(load)
            : "Failed to load collections: " + rootCause(err);
        log.error("{}; falling back to recovery mode", why, err);
        vertx.undeploy(id).onComplete(undeployed -> context.runOnContext(v -> deployRecovery(why)
            .onFailure(e -> log.error("Could not deploy the recovery-mode storage verticle", e))));
      }));
      return Future.<Void>succeededFuture();
    });
  }

  private Future<Void> deployRecovery(String message) {
    log.warn("Node {} starts in RECOVERY MODE: {}", node.peerId(), message);
    var path = config.storage().storagePath();
    if (clusterManager != null) {
      // in a cluster the node keeps its place in the Raft group; its shards serve nothing
      return step("storage verticle (metadata only, recovery mode, cluster)",
          new StorageVerticle(node.addresses(), "metadata only, recovery mode, cluster", () -> ClusterBoot.openRecovery(vertx,
              clusterManager, config, node.peerId(), MetadataOnlyStorageService.open(path, message), ((ClusterPeers) peers)::consensus)));
    }
    return step("storage verticle (metadata only, recovery mode)",
        new StorageVerticle(node.addresses(), "metadata only, recovery mode", () -> MetadataOnlyStorageService.open(path, message)));
  }

  private static String rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c instanceof OutOfMemoryError ? "out of memory (" + c.getMessage() + ")" : c.toString();
  }

  private Future<Void> step(String what, io.vertx.core.Deployable verticle) {
    return step(what, verticle, id -> { });
  }

  private Future<Void> step(String what, io.vertx.core.Deployable verticle, java.util.function.Consumer<String> deployed) {
    long t0 = System.nanoTime();
    return vertx.deployVerticle(verticle)
        .<Void>map(id -> {
          deployed.accept(id);
          log.info("Deployed {} in {} ms", what, ms(t0));
          return null;
        })
        .recover(err -> Future.failedFuture(new IllegalStateException("Cannot deploy " + what + ": " + err.getMessage(), err)));
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static void applyLogLevel(String level) {
    if (LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(Level.toLevel(level));
    }
  }
}
