package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import io.quiver.app.DeploymentVerticle;
import io.quiver.testing.GrpcCalls;
import io.quiver.testing.SelfSignedCert;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC over TLS with REST's settings ({@code service.enable_tls}, {@code tls.cert}, {@code tls.key},
 * client certificates with {@code service.verify_https_client_certificate} and {@code tls.ca_cert},
 * rotation every {@code tls.cert_ttl}), as {@code TlsTest} checks them for REST.
 */
@Timeout(180)
class GrpcTlsTest {
  @TempDir static Path dir;
  static SelfSignedCert selfSigned;
  Vertx vertx;
  DeploymentVerticle node;
  final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void makeCertificate() throws Exception {
    selfSigned = SelfSignedCert.create(dir.resolve("tls"), "grpc-test");
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      GrpcCalls.close(c);
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void grpcOverTlsWorksWithTheTrustedCertificateAndPlaintextDoesNot() throws Exception {
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", selfSigned.cert().toString(),
        "QDRANT__TLS__KEY", selfSigned.key().toString()));
    ManagedChannel trusting = tls(SslContextBuilder.forClient().trustManager(selfSigned.cert().toFile()));
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(trusting).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    assertEquals(0, CollectionsGrpc.newBlockingStub(trusting).list(ListCollectionsRequest.getDefaultInstance()).getCollectionsCount());
    // the official client over a channel that trusts the certificate
    try (QdrantClient client = new QdrantClient(QdrantGrpcClient.newBuilder(trusting, false).build())) {
      assertTrue(client.listCollectionsAsync().get(30, TimeUnit.SECONDS).isEmpty());
    }

    ManagedChannel plaintext = channel(ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort()).usePlaintext().build());
    assertRefused(() -> QdrantGrpc.newBlockingStub(plaintext).withDeadlineAfter(10, TimeUnit.SECONDS)
        .healthCheck(HealthCheckRequest.getDefaultInstance()));
    // a client that does not trust the self-signed certificate refuses the connection
    ManagedChannel doubting = tls(SslContextBuilder.forClient());
    assertRefused(() -> CollectionsGrpc.newBlockingStub(doubting).withDeadlineAfter(10, TimeUnit.SECONDS)
        .list(ListCollectionsRequest.getDefaultInstance()));
  }

  @Test
  void clientCertificatesSignedByTheCaAreRequiredWhenVerificationIsOn() throws Exception {
    Path certs = dir.resolve("mtls");
    SelfSignedCert ca = SelfSignedCert.authority(certs, "grpc-ca");
    SelfSignedCert.Issued server = ca.issue(certs, "grpc-server", true);
    // a client certificate names no host: the server checks who signed it, not where it comes from
    SelfSignedCert.Issued client = ca.issue(certs, "grpc-client", false);
    SelfSignedCert stranger = SelfSignedCert.create(certs, "stranger");
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", server.cert().toString(),
        "QDRANT__TLS__KEY", server.key().toString(), "QDRANT__SERVICE__VERIFY_HTTPS_CLIENT_CERTIFICATE", "true",
        "QDRANT__TLS__CA_CERT", ca.cert().toString()));

    ManagedChannel signed = tls(SslContextBuilder.forClient().trustManager(ca.cert().toFile())
        .keyManager(client.cert().toFile(), client.key().toFile()));
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(signed).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    assertEquals(0, CollectionsGrpc.newBlockingStub(signed).list(ListCollectionsRequest.getDefaultInstance()).getCollectionsCount());

    ManagedChannel anonymous = tls(SslContextBuilder.forClient().trustManager(ca.cert().toFile()));
    assertRefused(() -> QdrantGrpc.newBlockingStub(anonymous).withDeadlineAfter(10, TimeUnit.SECONDS)
        .healthCheck(HealthCheckRequest.getDefaultInstance()));
    ManagedChannel foreign = tls(SslContextBuilder.forClient().trustManager(ca.cert().toFile())
        .keyManager(stranger.cert().toFile(), stranger.key().toFile()));
    assertRefused(() -> CollectionsGrpc.newBlockingStub(foreign).withDeadlineAfter(10, TimeUnit.SECONDS)
        .list(ListCollectionsRequest.getDefaultInstance()));
    // the signed client still gets through afterwards
    assertEquals(0, CollectionsGrpc.newBlockingStub(signed).list(ListCollectionsRequest.getDefaultInstance()).getCollectionsCount());
  }

  @Test
  void aRotatedCertificateIsServedAfterCertTtl() throws Exception {
    Path live = Files.createDirectories(dir.resolve("live"));
    Files.copy(selfSigned.cert(), live.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(selfSigned.key(), live.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", live.resolve("cert.pem").toString(),
        "QDRANT__TLS__KEY", live.resolve("key.pem").toString(), "QDRANT__TLS__CERT_TTL", "1"));
    ManagedChannel first = tls(SslContextBuilder.forClient().trustManager(selfSigned.cert().toFile()));
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(first).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());

    SelfSignedCert next = SelfSignedCert.create(dir.resolve("tls"), "grpc-rotated");
    Files.copy(next.key(), live.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(next.cert(), live.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);
    // REST serves it within a second or two; 8 s leaves room for a busy machine
    long deadline = System.currentTimeMillis() + 8_000;
    StatusRuntimeException last = null;
    while (System.currentTimeMillis() < deadline) {
      // a new channel each time: a connection made before the rotation keeps its certificate
      ManagedChannel trustsNext = tls(SslContextBuilder.forClient().trustManager(next.cert().toFile()));
      try {
        assertEquals("1.15.5", QdrantGrpc.newBlockingStub(trustsNext).withDeadlineAfter(10, TimeUnit.SECONDS)
            .healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
        return;
      } catch (StatusRuntimeException notYet) {
        last = notYet;
        Thread.sleep(200);
      }
    }
    fail("the rotated certificate is not served on the gRPC port within 8 s of a 1 s cert_ttl: "
        + (last == null ? "" : last.getStatus()));
  }

  private void start(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    Path storage = Files.createTempDirectory(dir, "storage");
    all.put("QDRANT__SERVICE__HOST", "127.0.0.1");
    all.put("QDRANT__SERVICE__HTTP_PORT", "0");
    all.put("QDRANT__SERVICE__GRPC_PORT", "0");
    all.put("QDRANT__STORAGE__STORAGE_PATH", storage.toString());
    all.put("QDRANT__STORAGE__SNAPSHOTS_PATH", storage.resolve("snapshots").toString());
    vertx = Vertx.vertx();
    node = new DeploymentVerticle(new DeploymentVerticle.Launch(Files.createDirectories(dir.resolve("conf")), null, all));
    vertx.deployVerticle(node).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private int grpcPort() {
    return node.grpc().actualPort();
  }

  private ManagedChannel tls(SslContextBuilder ssl) throws Exception {
    return channel(NettyChannelBuilder.forAddress("127.0.0.1", grpcPort()).sslContext(GrpcSslContexts.configure(ssl).build()).build());
  }

  private ManagedChannel channel(ManagedChannel c) {
    channels.add(c);
    return c;
  }

  private static void assertRefused(Runnable call) {
    var e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
  }
}
