package io.quiver.api;

import io.quiver.request.Access;
import io.quiver.config.Node;
import io.quiver.cluster.ClusterLocks;
import io.quiver.cluster.Peers;
import io.quiver.cluster.SendFailures;
import io.quiver.error.ApiException;
import io.quiver.lock.LockClient;
import io.quiver.metrics.RequestStats;
import io.quiver.storage.StorageClient;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves Qdrant's REST API. Every route comes from one table ({@link #routes()}), each row with its
 * {@link Access} class; the write-permission check happens here, once, for every {@code WRITE} and
 * {@code CREATE} row, so no handler checks the lock by itself and no new route can forget it.
 */
public final class HttpRouterVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HttpRouterVerticle.class);
  private static final String ROUTE_KEY = "quiver.route";
  /** The {@link ApiKeys.Grant} of a request, absent when no keys are configured. */
  static final String GRANT_KEY = "quiver.grant";

  private final Node node;
  private final Peers peers;
  private final SendFailures sendFailures;
  private final RequestStats stats;
  private final RequestStats grpcStats;
  private final int port;
  private final boolean reloadsTls;
  private List<Route> routes;
  private LockClient lock;
  private HttpServer server;
  private long reloadTimer = -1;

  public HttpRouterVerticle(Node node) {
    this(node, Peers.single(node.peerId(), null));
  }

  /** @param peers the cluster's Quiver nodes, for {@code GET /cluster} and {@code /locks?scope=cluster} */
  public HttpRouterVerticle(Node node, Peers peers) {
    this(node, peers, new RequestStats(), new RequestStats(), new SendFailures(), node.config().service().httpPort());
  }

  /**
   * One of the node's router instances ({@code service.max_workers} of them share {@code port}, each
   * on its own event loop); they share the request statistics (REST's, and gRPC's that /metrics and
   * telemetry show) and the cluster's send failures.
   */
  public HttpRouterVerticle(Node node, Peers peers, RequestStats stats, RequestStats grpcStats, SendFailures sendFailures, int port) {
    this(node, peers, stats, grpcStats, sendFailures, port, true);
  }

  /**
   * @param reloadsTls whether this instance re-reads the certificate every {@code tls.cert_ttl}: one
   *     instance does it for all, since the instances share one server
   */
  public HttpRouterVerticle(Node node, Peers peers, RequestStats stats, RequestStats grpcStats, SendFailures sendFailures, int port,
      boolean reloadsTls) {
    this.reloadsTls = reloadsTls;
    this.node = node;
    this.peers = peers;
    this.stats = stats;
    this.grpcStats = grpcStats;
    this.sendFailures = sendFailures;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    lock = new LockClient(vertx, node.addresses());
    var storage = new StorageClient(vertx, node.addresses());
    routes = new ArrayList<>();
    for (Endpoint e : List.of(
        new ServiceEndpoint(node, storage, lock, stats, grpcStats, peers),
        new LockEndpoint(lock, new ClusterLocks(vertx, peers, sendFailures)),
        new ClusterEndpoint(peers, sendFailures),
        new DistributedEndpoint(storage, node.peerId(), peers),
        new LockHistoryEndpoint(lock),
        new CollectionsEndpoint(storage),
        new PointsEndpoint(storage),
        new SnapshotsEndpoint(storage))) {
      routes.addAll(e.routes());
    }
    routes = List.copyOf(routes);
    var service = node.config().service();
    var options = new HttpServerOptions()
        .setHost(service.host())
        .setPort(port)
        .setCompressionSupported(true)
        .setDecompressionSupported(true)
        // no WebSockets here: without their compression the pipeline has no extension handler that
        // every request and response passes through
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false);
    var tls = node.config().tls();
    return vertx.createHttpServer(Https.apply(options, tls)).requestHandler(router()).listen().onSuccess(s -> {
      server = s;
      reloadTimer = reloadsTls ? Https.scheduleReload(vertx, s, tls) : -1;
      log.info("REST API listening on {}:{} ({})", service.host(), s.actualPort(), tls == null ? "TLS disabled" : "TLS enabled");
    });
  }

  /** The route table, for tests that check every route is classified. */
  public List<Route> routes() {
    return routes;
  }

  public int actualPort() {
    return server.actualPort();
  }

  private Router router() {
    var router = Router.router(vertx);
    var service = node.config().service();
    router.route().handler(this::measure);
    if (service.enableCors()) {
      router.route().handler(CorsHandler.create()
          .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE))
          .allowedHeaders(Set.of("content-type", "api-key", "authorization")));
    }
    // the dashboard's files hold no data and are public; the page sends its user's key with each API call
    new DashboardAssets(vertx).mount(router, ctx -> {
      ctx.put(ROUTE_KEY, "GET " + DashboardAssets.PATH);
      ctx.next();
    });
    var keys = new ApiKeys(service.apiKey(), service.readOnlyApiKey());
    if (keys.enabled()) {
      // before the body is read: a request without a valid key costs nothing more
      router.route().handler(ctx -> {
        try {
          ctx.put(GRANT_KEY, keys.check(ctx.request()));
          ctx.next();
        } catch (ApiKeys.Unauthorized e) {
          ctx.response().setStatusCode(401).putHeader("content-type", "text/plain; charset=utf-8")
              .putHeader("server", Node.SERVER_HEADER).end(e.getMessage());
        }
      });
    }
    long bodyLimit = service.maxRequestSizeMb() * 1024L * 1024L;
    // snapshot uploads are streamed to disk, without the JSON size limit (a second BodyHandler is a no-op)
    String uploads = node.config().storage().snapshotsPath().resolve("uploads_temp").toString();
    long keepFree = node.config().storage().diskWatermarks().blockBelowBytes();
    for (String path : SnapshotsEndpoint.UPLOAD_PATHS) {
      String vertxPath = new Route(HttpMethod.POST, path, Access.CREATE, null).vertxPath();
      router.post(vertxPath).handler(ctx -> {
        if (ctx.get(GRANT_KEY) == ApiKeys.Grant.READ_ONLY) { // refused before the upload reaches the disk
          ctx.fail(new ApiException(403, "Forbidden: Global manage access is required"));
          return;
        }
        String refusal = UploadSpace.refusal(Path.of(uploads), ctx.request().getHeader("content-length"), keepFree);
        if (refusal != null) {
          ctx.fail(ApiException.insufficientStorage(refusal));
        } else {
          ctx.next();
        }
      });
      router.post(vertxPath).handler(BodyHandler.create(uploads).setBodyLimit(-1).setDeleteUploadedFilesOnEnd(true));
    }
    // refuses a larger announced Content-Length at once, and stops keeping a chunked body past the limit
    router.route().handler(BodyHandler.create(false).setBodyLimit(bodyLimit));
    // one handler finds the route in the table's tree (see RouteTable); no match falls through to 404
    var table = new RouteTable(routes);
    router.route().handler(ctx -> {
      Object found = table.find(ctx.request().method(), ctx.normalizedPath());
      if (found instanceof RouteTable.Match match) {
        ctx.pathParams().putAll(match.params());
        dispatch(match.route(), ctx);
      } else if (((RouteTable.Miss) found).methodNotAllowed()) {
        ctx.fail(405);
      } else {
        ctx.next();
      }
    });
    var failures = new FailureHandler(bodyLimit);
    router.route().failureHandler(failures);
    router.errorHandler(404, failures);
    router.errorHandler(405, failures);
    router.errorHandler(413, failures);
    return router;
  }

  private void measure(RoutingContext ctx) {
    long started = System.nanoTime();
    ctx.put(Envelope.STARTED, started);
    ctx.addEndHandler(v -> {
      String key = ctx.get(ROUTE_KEY);
      stats.record(key == null ? "unmatched" : key, ctx.response().getStatusCode(), (System.nanoTime() - started) / 1000);
      if (log.isDebugEnabled()) {
        log.debug("{} {} -> {} in {} us", ctx.request().method(), ctx.request().uri(), ctx.response().getStatusCode(),
            (System.nanoTime() - started) / 1000);
      }
    });
    ctx.next();
  }

  /**
   * Checks the API key against the route's access class, parses a storage operation's request
   * once, asks the lock for a permit when the (parsed) request adds data, then runs the handler.
   */
  private void dispatch(Route route, RoutingContext ctx) {
    ctx.put(ROUTE_KEY, route.key());
    var request = new ApiRequest(ctx);
    if (ctx.get(GRANT_KEY) == ApiKeys.Grant.READ_ONLY && !route.access().readOnly()) {
      ctx.fail(new ApiException(403, "Forbidden: Global manage access is required"));
      return;
    }
    Access access = route.access();
    if (route.op() != null) {
      try {
        access = request.parse(route.op()).access();
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
    }
    Future<?> result = access.needsWritePermission()
        ? lock.acquire().compose(permit -> invoke(route, request).andThen(ar -> lock.release(permit)))
        : invoke(route, request);
    result.onSuccess(r -> render(ctx, r)).onFailure(ctx::fail);
  }

  private static Future<?> invoke(Route route, ApiRequest request) {
    try {
      return route.handler().handle(request);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static void render(RoutingContext ctx, Object result) {
    if (result instanceof Route.PlainText text) {
      ctx.response()
          .setStatusCode(text.status())
          .putHeader("content-type", text.contentType())
          .putHeader("server", Node.SERVER_HEADER)
          .end(text.body());
    } else if (result == Route.Accepted.INSTANCE) {
      Envelope.accepted(ctx);
    } else if (result instanceof Route.FileDownload file) {
      ctx.response()
          .putHeader("content-type", "application/octet-stream")
          .putHeader("content-disposition", "attachment; filename=\"" + file.name() + "\"")
          .putHeader("server", Node.SERVER_HEADER)
          .sendFile(file.path())
          .onFailure(ctx::fail);
    } else if (result instanceof Route.Bare bare) {
      Envelope.bare(ctx, bare.body());
    } else {
      Envelope.ok(ctx, result);
    }
  }

  /** How long a stopping node lets requests in flight finish; Kubernetes' default grace period is 30 s. */
  static final long SHUTDOWN_GRACE_SECONDS = 20;

  /** Stops accepting connections and lets requests in flight finish (graceful shutdown). */
  @Override
  public Future<?> stop() {
    if (reloadTimer >= 0) {
      vertx.cancelTimer(reloadTimer);
    }
    return server == null ? Future.succeededFuture() : server.shutdown(SHUTDOWN_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
  }
}
