package io.quiver.grpc;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.quiver.api.ApiKeys;
import io.quiver.config.Node;
import io.quiver.config.QuiverConfig;
import io.quiver.metrics.RequestStats;
import io.quiver.storage.StorageGateway;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Qdrant's gRPC API on {@code service.grpc_port} (default 6334): {@code qdrant.Qdrant},
 * {@code qdrant.Collections}, {@code qdrant.Points}, {@code qdrant.Snapshots}, {@code
 * grpc.health.v1.Health} (Qdrant's definition) and server reflection, served by grpc-java with the generated bases of the
 * official Java client ({@code io.qdrant:client}). Each RPC maps its message onto the typed request
 * model and takes REST's way from there ({@link Calls}): API keys, the write lock, strict mode, the
 * same storage. TLS with the REST settings ({@code service.enable_tls}, {@code tls.*}, client
 * certificates with {@code service.verify_https_client_certificate}, reloaded every {@code
 * tls.cert_ttl}); messages larger than {@code service.max_request_size_mb} are refused.
 *
 * <p>grpc-java (its Netty shaded) rather than Vert.x's gRPC server: Vert.x's gRPC modules do not
 * resolve at the Vert.x version this project pins, and grpc-java is what the message classes were
 * generated for. Handlers never block: they hand the request to the event bus and answer from its reply.
 */
public final class GrpcVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(GrpcVerticle.class);
  /** How long a stopping node lets calls in flight finish. */
  static final long SHUTDOWN_GRACE_SECONDS = 20;

  private final Node node;
  private final RequestStats stats;
  private ScheduledExecutorService reloader;
  private Server server;

  /** @param stats where every call's method, status and duration are recorded */
  public GrpcVerticle(Node node, RequestStats stats) {
    this.node = node;
    this.stats = stats;
  }

  /** The port the server listens on (useful when configured as 0). */
  public int actualPort() {
    return server.getPort();
  }

  @Override
  public Future<?> start() {
    var service = node.config().service();
    var calls = new Calls(new StorageGateway(vertx, node.addresses()));
    // the last is outermost: the key is checked before the message is decoded
    var interceptors = List.of(new DecodeGuard(), new GrpcAuth(new ApiKeys(service.apiKey(), service.readOnlyApiKey())));
    List<ServerServiceDefinition> services = List.of(
        new QdrantService().bindService(),
        new CollectionsService(calls, node).bindService(),
        new PointsService(calls).bindService(),
        new SnapshotsService(calls).bindService(),
        new HealthService().bindService(),
        ProtoReflectionService.newInstance().bindService());
    Set<String> methods = new HashSet<>();
    services.forEach(s -> s.getMethods().forEach(m -> methods.add(m.getMethodDescriptor().getFullMethodName())));
    return vertx.executeBlocking(() -> {
      var builder = NettyServerBuilder.forAddress(new InetSocketAddress(service.host(), service.grpcPort()))
          .maxInboundMessageSize(service.maxRequestSizeMb() * 1024 * 1024)
          .addStreamTracerFactory(new CallTracer(stats, methods))
          .directExecutor();
      for (ServerServiceDefinition s : services) {
        // messages decoded inside the call, where DecodeGuard can answer a bad one cleanly
        builder.addService(ServerInterceptors.intercept(DecodeGuard.decodedInCall(s), interceptors));
      }
      if (node.config().tls() != null) {
        builder.sslContext(tls(node.config().tls()));
      }
      server = builder.build().start();
      return server.getPort();
    }).onSuccess(port -> log.info("gRPC API listening on {}:{} ({})", service.host(), port,
        node.config().tls() == null ? "TLS disabled" : "TLS enabled"));
  }

  /**
   * The server's TLS: key and certificate (and, with client certificates, the CA) read now and again
   * every {@code tls.cert_ttl} seconds, as REST re-reads them; a reload that fails keeps what was loaded.
   */
  private io.grpc.netty.shaded.io.netty.handler.ssl.SslContext tls(QuiverConfig.Tls tls) throws IOException, GeneralSecurityException {
    var keys = new AdvancedTlsX509KeyManager();
    keys.updateIdentityCredentialsFromFile(tls.key().toFile(), tls.cert().toFile());
    SslContextBuilder ssl = GrpcSslContexts.configure(SslContextBuilder.forServer(keys));
    AdvancedTlsX509TrustManager trust = null;
    if (tls.caCert() != null) {
      trust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
      trust.updateTrustCredentialsFromFile(tls.caCert().toFile());
      ssl.trustManager(trust).clientAuth(ClientAuth.REQUIRE);
    }
    if (tls.certTtlSec() > 0) {
      AdvancedTlsX509TrustManager clients = trust;
      reloader = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "quiver-grpc-tls-reload");
        t.setDaemon(true);
        return t;
      });
      reloader.scheduleWithFixedDelay(() -> {
        try {
          keys.updateIdentityCredentialsFromFile(tls.key().toFile(), tls.cert().toFile());
          if (clients != null) {
            clients.updateTrustCredentialsFromFile(tls.caCert().toFile());
          }
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
          log.error("Failed to reload the TLS certificate {} for gRPC, keeping the current one: {}", tls.cert(), e.toString());
        }
      }, tls.certTtlSec(), tls.certTtlSec(), TimeUnit.SECONDS);
    }
    return ssl.build();
  }

  /** Stops taking calls and lets those in flight finish, within a grace period. */
  @Override
  public Future<?> stop() {
    Server s = server;
    return vertx.executeBlocking(() -> {
      if (reloader != null) {
        reloader.shutdownNow();
      }
      if (s != null) {
        s.shutdown();
        if (!s.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
          s.shutdownNow();
        }
      }
      return null;
    });
  }
}
