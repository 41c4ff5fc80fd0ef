package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.app.DeploymentVerticle;
import io.quiver.testing.SelfSignedCert;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS on the REST port with PEM files, as Qdrant's {@code service.enable_tls} and {@code tls.*}. */
@Timeout(180)
class TlsTest {
  @TempDir static Path dir;
  static SelfSignedCert cert;
  Vertx vertx;
  DeploymentVerticle node;

  @BeforeAll
  static void makeCertificate() throws Exception {
    cert = SelfSignedCert.create(dir.resolve("tls"), "quiver-test");
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void httpsWorksWithTheTrustedCertificateAndPlainHttpDoesNot() throws Exception {
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", cert.cert().toString(),
        "QDRANT__TLS__KEY", cert.key().toString()));
    HttpClient trusting = client(cert.clientContext(false));
    var created = send(trusting, "https", "PUT", "/collections/tls", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
    assertEquals(200, created.statusCode(), created.body());
    var listed = send(trusting, "https", "GET", "/collections", null);
    assertTrue(listed.body().contains("\"tls\""), listed.body());

    // ALPN: a client that prefers HTTP/2 gets it, one that speaks only HTTP/1.1 gets that
    HttpClient h2 = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_2)
        .sslContext(cert.clientContext(false)).build();
    var overH2 = send(h2, "https", "POST", "/collections/tls/points/count", "{\"exact\": true}");
    assertEquals(200, overH2.statusCode(), overH2.body());
    assertEquals(HttpClient.Version.HTTP_2, overH2.version());
    assertEquals(HttpClient.Version.HTTP_1_1, listed.version());

    HttpClient plain = client(null);
    assertThrows(IOException.class, () -> send(plain, "http", "GET", "/collections", null));
    // a client that does not trust the self-signed certificate refuses the connection
    assertThrows(IOException.class, () -> send(plain, "https", "GET", "/collections", null));
  }

  @Test
  void clientCertificatesAreRequiredWhenVerificationIsOn() throws Exception {
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", cert.cert().toString(),
        "QDRANT__TLS__KEY", cert.key().toString(), "QDRANT__SERVICE__VERIFY_HTTPS_CLIENT_CERTIFICATE", "true",
        "QDRANT__TLS__CA_CERT", cert.cert().toString()));
    assertEquals(200, send(client(cert.clientContext(true)), "https", "GET", "/collections", null).statusCode());
    assertThrows(IOException.class, () -> send(client(cert.clientContext(false)), "https", "GET", "/collections", null));
  }

  @Test
  void aRotatedCertificateIsServedAfterCertTtl() throws Exception {
    Path live = Files.createDirectories(dir.resolve("live"));
    Files.copy(cert.cert(), live.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(cert.key(), live.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
    start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true", "QDRANT__TLS__CERT", live.resolve("cert.pem").toString(),
        "QDRANT__TLS__KEY", live.resolve("key.pem").toString(), "QDRANT__TLS__CERT_TTL", "1"));
    assertEquals(200, send(client(cert.clientContext(false)), "https", "GET", "/", null).statusCode());

    SelfSignedCert next = SelfSignedCert.create(dir.resolve("tls"), "quiver-rotated");
    Files.copy(next.key(), live.resolve("key.pem"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(next.cert(), live.resolve("cert.pem"), StandardCopyOption.REPLACE_EXISTING);
    HttpClient trustsNext = client(next.clientContext(false));
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      try {
        assertEquals(200, send(trustsNext, "https", "GET", "/", null).statusCode());
        break;
      } catch (IOException notYet) {
        if (System.currentTimeMillis() > deadline) {
          throw new AssertionError("the rotated certificate was not served within 60 s", notYet);
        }
        Thread.sleep(200);
      }
    }
    // the reloaded options still offer HTTP/2
    HttpClient h2 = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_2)
        .sslContext(next.clientContext(false)).build();
    assertEquals(HttpClient.Version.HTTP_2, send(h2, "https", "GET", "/", null).version());
  }

  @Test
  void enablingTlsWithoutReadableFilesStopsStartupNamingTheKey() throws Exception {
    var missing = assertThrows(ExecutionException.class, () -> start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true")));
    assertEquals("Invalid configuration value for `tls.cert`: got 'null', expected a readable PEM file, since "
        + "service.enable_tls is true (set by defaults)", missing.getCause().getMessage());
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Path nowhere = dir.resolve("no-such-key.pem");
    var unreadable = assertThrows(ExecutionException.class, () -> start(Map.of("QDRANT__SERVICE__ENABLE_TLS", "true",
        "QDRANT__TLS__CERT", cert.cert().toString(), "QDRANT__TLS__KEY", nowhere.toString())));
    assertEquals("Invalid configuration value for `tls.key`: got '" + nowhere + "', expected a readable PEM file, since "
        + "service.enable_tls is true (set by environment variable QDRANT__TLS__KEY)", unreadable.getCause().getMessage());
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

  private static HttpClient client(SSLContext ssl) {
    var b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).version(HttpClient.Version.HTTP_1_1);
    if (ssl != null) {
      b.sslContext(ssl);
    }
    return b.build();
  }

  private HttpResponse<String> send(HttpClient client, String scheme, String method, String path, String body)
      throws IOException, InterruptedException {
    var request = HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + node.httpPort() + path))
        .timeout(Duration.ofSeconds(30))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
