package io.quiver.api;

import io.quiver.request.Access;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;

/**
 * One row of the router's table: method, path in OpenAPI form ({@code /collections/{name}}), access
 * class and handler. The handler's result is rendered in Qdrant's envelope unless it is a {@link
 * PlainText}.
 */
public record Route(HttpMethod method, String path, Access access, Handler handler, Classifier classifier) {
  public Route(HttpMethod method, String path, Access access, Handler handler) {
    this(method, path, access, handler, null);
  }

  /**
   * Refines the access class from the request itself, for routes whose effect depends on the body
   * (a batch of deletes is a delete). It may only return {@code access} or a weaker class.
   */
  @FunctionalInterface
  public interface Classifier {
    Access classify(ApiRequest request);
  }

  /** This route with a classifier. */
  public Route classifiedBy(Classifier c) {
    return new Route(method, path, access, handler, c);
  }

  /** The access class of this request. */
  public Access accessOf(ApiRequest request) {
    return classifier == null ? access : classifier.classify(request);
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
