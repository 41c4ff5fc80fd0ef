package io.quiver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.app.DeploymentVerticle;
import io.quiver.bus.Addresses;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A whole node in this JVM: deploys the {@link DeploymentVerticle} on 127.0.0.1, port 0, with its
 * storage in the given folder, and talks HTTP to it. Close it to stop what it started.
 */
public final class TestNode implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public final Vertx vertx;
  public final DeploymentVerticle deployment;
  public final Path storage;

  private TestNode(Vertx vertx, DeploymentVerticle deployment, Path storage) {
    this.vertx = vertx;
    this.deployment = deployment;
    this.storage = storage;
  }

  public static TestNode start(Path storage) throws Exception {
    return start(storage, Map.of());
  }

  /** @param env extra {@code QDRANT__...} variables, on top of host, port 0 and the storage path */
  public static TestNode start(Path storage, Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>();
    all.put("QDRANT__SERVICE__HOST", "127.0.0.1");
    all.put("QDRANT__SERVICE__HTTP_PORT", "0");
    all.put("QDRANT__SERVICE__GRPC_PORT", "0");
    all.put("QDRANT__STORAGE__STORAGE_PATH", storage.toString());
    all.put("QDRANT__STORAGE__SNAPSHOTS_PATH", storage.resolve("snapshots").toString());
    all.putAll(env);
    Path conf = Files.createDirectories(storage.resolveSibling(storage.getFileName() + "-conf"));
    Vertx vertx = Vertx.vertx();
    var deployment = new DeploymentVerticle(new DeploymentVerticle.Launch(conf, null, all));
    try {
      vertx.deployVerticle(deployment).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
    var node = new TestNode(vertx, deployment, storage);
    node.awaitReady();
    return node;
  }

  private void awaitReady() throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (get("/readyz").status() == 200) {
        return;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("node not ready within 60 s");
  }

  public Addresses addresses() {
    return deployment.node().addresses();
  }

  public int port() {
    return deployment.httpPort();
  }

  /** A response: status, raw body, and the body as JSON when it parses. */
  public record Response(int status, String body, Map<String, java.util.List<String>> headers) {
    public JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    public JsonNode result() {
      return json().get("result");
    }

    public String error() {
      return json().path("status").path("error").asText(null);
    }
  }

  public Response get(String path) throws IOException, InterruptedException {
    return send("GET", path, null);
  }

  public Response send(String method, String path, String body) throws IOException, InterruptedException {
    return send(method, path, body, Map.of());
  }

  /** A request with extra headers (API keys, for instance). */
  public Response send(String method, String path, String body, Map<String, String> headers)
      throws IOException, InterruptedException {
    var builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
        .timeout(Duration.ofSeconds(120))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(builder::header);
    HttpResponse<String> r = HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), r.body(), r.headers().map());
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
