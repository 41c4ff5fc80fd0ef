package io.quiver.api;

import io.quiver.config.Node;
import io.quiver.error.ApiException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Serves the operations dashboard: static files under {@code dashboard/} on the classpath, at
 * {@code GET /dashboard/...}. The files are public, like Qdrant's web UI: they hold no data, and
 * every API call the page makes carries the key its user typed. They are mounted before the API
 * key check for that reason, and only for GET.
 *
 * <p>Files are read from the jar once, off the event loop, then kept in memory with a strong ETag;
 * responses say {@code no-cache} so a browser revalidates (a cheap 304) and never runs the page of
 * an older build after an upgrade.
 */
final class DashboardAssets {
  static final String PATH = "/dashboard";
  private static final String ROOT = "dashboard/";
  /** Plain relative names only: no "..", no hidden files, nothing a traversal could use. */
  private static final Pattern SAFE = Pattern.compile("([a-z0-9_-]+/)*[a-z0-9_-]+\\.[a-z0-9]+");
  private static final Map<String, String> TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8",
      "svg", "image/svg+xml",
      "png", "image/png",
      "ico", "image/x-icon",
      "json", "application/json");
  /** The page talks to this node only; nothing inline, no frames. */
  private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private record Asset(Buffer body, String type, String etag) {}

  private final Vertx vertx;
  private final Map<String, Asset> cache = new ConcurrentHashMap<>();

  DashboardAssets(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Adds {@code GET /dashboard} (a redirect to the folder, so relative URLs resolve) and {@code GET /dashboard/*}. */
  void mount(Router router, io.vertx.core.Handler<RoutingContext> before) {
    router.getWithRegex("^" + PATH + "(/.*)?$").handler(before).handler(this::serve);
  }

  private void serve(RoutingContext ctx) {
    String path = ctx.request().path();
    if (path.equals(PATH)) {
      ctx.redirect(PATH + "/");
      return;
    }
    String name = path.substring(PATH.length() + 1);
    if (name.isEmpty()) {
      name = "index.html";
    }
    int dot = name.lastIndexOf('.');
    String type = dot < 0 ? null : TYPES.get(name.substring(dot + 1));
    if (type == null || !SAFE.matcher(name).matches()) {
      ctx.fail(new ApiException(404, "Not found: " + ctx.request().path()));
      return;
    }
    Asset cached = cache.get(name);
    if (cached != null) {
      send(ctx, cached);
      return;
    }
    String resource = ROOT + name;
    vertx.<Asset>executeBlocking(() -> load(resource, type), false).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else if (ar.result() == null) {
        ctx.fail(new ApiException(404, "Not found: " + ctx.request().path()));
      } else {
        cache.putIfAbsent(resource.substring(ROOT.length()), ar.result());
        send(ctx, ar.result());
      }
    });
  }

  private static Asset load(String resource, String type) throws IOException {
    try (InputStream in = DashboardAssets.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        return null;
      }
      byte[] bytes = in.readAllBytes();
      return new Asset(Buffer.buffer(bytes), type, "\"" + sha256(bytes) + "\"");
    }
  }

  private static void send(RoutingContext ctx, Asset asset) {
    var response = ctx.response()
        .putHeader("cache-control", "no-cache")
        .putHeader("etag", asset.etag())
        .putHeader("x-content-type-options", "nosniff")
        .putHeader("referrer-policy", "no-referrer")
        .putHeader("server", Node.SERVER_HEADER);
    if (asset.type().startsWith("text/html")) {
      response.putHeader("content-security-policy", CSP);
    }
    if (asset.etag().equals(ctx.request().getHeader("if-none-match"))) {
      response.setStatusCode(304).end();
    } else {
      response.putHeader("content-type", asset.type()).end(asset.body());
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
