package io.quiver.api;

import io.quiver.request.Access;
import io.quiver.request.StorageOp;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;

/**
 * One row of the router's table: method, path in OpenAPI form ({@code /collections/{name}}), access
 * class and handler. A row that carries a storage operation ({@code op}) takes its access class
 * from it, and the router parses the request with it before the handler runs ({@link
 * ApiRequest#parsed()}); the lock is then asked for the parsed request's class (a batch of deletes
 * is a delete). The handler's result is rendered in Qdrant's envelope unless it is a {@link
 * PlainText}.
 */
public record Route(HttpMethod method, String path, Access access, Handler handler, StorageOp op) {
  public Route(HttpMethod method, String path, Access access, Handler handler) {
    this(method, path, access, handler, null);
  }

  @FunctionalInterface
  public interface Handler {
    Future<?> handle(ApiRequest request);
  }

  /** A response that is not wrapped in the JSON envelope (health checks, Prometheus metrics). */
  public record PlainText(int status, String contentType, String body) {
    public static PlainText ok(String body) {
      return new PlainText(200, "text/plain; charset=utf-8", body);
    }
  }

  /** 202 {@code {"status": "accepted", "time": ...}}: the operation goes on in the background. */
  public enum Accepted { INSTANCE }

  /** A file streamed as {@code application/octet-stream} (snapshot downloads). */
  public record FileDownload(String path, String name) {}

  /** A JSON response sent as is, without the envelope (Qdrant's {@code GET /}). */
  public record Bare(Object body) {}

  /** A row for a storage operation: access from the operation, the parsed request handed to {@code handler}. */
  public static Route op(HttpMethod method, String path, StorageOp op, Handler handler) {
    return new Route(method, path, op.access(), handler, op);
  }

  public static Route get(String path, Access access, Handler handler) {
    return new Route(HttpMethod.GET, path, access, handler);
  }

  public static Route post(String path, Access access, Handler handler) {
    return new Route(HttpMethod.POST, path, access, handler);
  }

  public static Route put(String path, Access access, Handler handler) {
    return new Route(HttpMethod.PUT, path, access, handler);
  }

  public static Route patch(String path, Access access, Handler handler) {
    return new Route(HttpMethod.PATCH, path, access, handler);
  }

  public static Route delete(String path, Access access, Handler handler) {
    return new Route(HttpMethod.DELETE, path, access, handler);
  }

  /** The Vert.x Web form of the path: {@code {name}} becomes {@code :name}. */
  public String vertxPath() {
    return path.replaceAll("\\{([a-z_]+)}", ":$1");
  }

  /** The key of this route in telemetry: {@code "GET /collections/{name}"}. */
  public String key() {
    return method.name() + " " + path;
  }
}
