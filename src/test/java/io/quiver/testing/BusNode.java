package io.quiver.testing;

import io.quiver.app.DeploymentVerticle;
import io.quiver.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A whole node deployed on a test's Vert.x (the one vertx-junit5 injects), reached over its public
 * event-bus addresses only: the bus-side counterpart of {@link TestNode}. It binds 127.0.0.1 on
 * HTTP port 0 and keeps its storage in the given folder; {@link #undeploy()} stops it, and so does
 * closing the Vert.x. Every method returns a future and never blocks, so tests compose them.
 */
public final class BusNode {
  /** How long {@link #awaitStatus} keeps asking before it gives up with the last answer. */
  private static final long AWAIT_MS = 30_000;
  private static final long POLL_MS = 20;

  private final Vertx vertx;
  private final DeploymentVerticle deployment;
  private final String deploymentId;

  private BusNode(Vertx vertx, DeploymentVerticle deployment, String deploymentId) {
    this.vertx = vertx;
    this.deployment = deployment;
    this.deploymentId = deploymentId;
  }

  /**
   * Deploys a node and completes once the deployment verticle has started; the storage may still be
   * loading then (see {@link #start}). Fails as the deployment does.
   *
   * @param env extra {@code QDRANT...} variables, on top of host, port 0 and the storage paths
   */
  public static Future<BusNode> deploy(Vertx vertx, Path storage, Map<String, String> env) {
    Map<String, String> all = new HashMap<>();
    all.put("QDRANT__SERVICE__HOST", "127.0.0.1");
    all.put("QDRANT__SERVICE__HTTP_PORT", "0");
    all.put("QDRANT__SERVICE__GRPC_PORT", "0");
    all.put("QDRANT__STORAGE__STORAGE_PATH", storage.toString());
    all.put("QDRANT__STORAGE__SNAPSHOTS_PATH", storage.resolve("snapshots").toString());
    all.putAll(env);
    // an empty folder of layered config files, so that only the environment configures the node
    Path conf = storage.resolveSibling(storage.getFileName() + "-conf");
    var deployment = new DeploymentVerticle(new DeploymentVerticle.Launch(conf, null, all));
    return vertx.fileSystem().mkdirs(conf.toString())
        .compose(v -> vertx.deployVerticle(deployment))
        .map(id -> new BusNode(vertx, deployment, id));
  }

  /** {@link #deploy}, then waits until the storage says it is ready (normal or recovery mode). */
  public static Future<BusNode> start(Vertx vertx, Path storage, Map<String, String> env) {
    return deploy(vertx, storage, env)
        .compose(node -> node.awaitStatus("ready", s -> s.getBoolean("ready", false)).map(node));
  }

  /** Undeploys the node and every verticle it deployed; its storage stays on disk. */
  public Future<Void> undeploy() {
    return vertx.undeploy(deploymentId);
  }

  public Addresses addresses() {
    return deployment.node().addresses();
  }

  /** A request on any address of the node; the reply's JSON body. */
  public Future<JsonObject> request(String address, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address, body).map(Message::body);
  }

  /** A fire-and-forget message (no reply) on any address of the node. */
  public void send(String address, JsonObject body) {
    vertx.eventBus().send(address, body);
  }

  /** A message for the public JSON storage address: {@code {"op", "collection", "body"}}. */
  public static JsonObject op(String op, String collection, JsonObject body) {
    return new JsonObject().put("op", op).put("collection", collection).put("body", body);
  }

  /** A request on the public JSON storage address; the {@code result} of its reply. */
  public Future<Object> storage(JsonObject message) {
    return request(addresses().storageJson(), message).map(reply -> reply.getValue("result"));
  }

  /**
   * A request that must fail: the {@link ReplyException} it failed with, or a failed future if it
   * succeeded or failed otherwise.
   */
  public Future<ReplyException> requestFailure(String address, JsonObject body) {
    return request(address, body).transform(ar -> {
      if (ar.succeeded()) {
        return Future.failedFuture(new AssertionError("expected " + body.encode() + " to fail, got " + ar.result()));
      }
      return ar.cause() instanceof ReplyException e
          ? Future.succeededFuture(e)
          : Future.failedFuture(new AssertionError("expected a ReplyException", ar.cause()));
    });
  }

  /** {@link #requestFailure} on the public JSON storage address. */
  public Future<ReplyException> storageFailure(JsonObject message) {
    return requestFailure(addresses().storageJson(), message);
  }

  /** The storage's {@code status} over the public JSON address: {@code {"ready", "mode", ...}}. */
  public Future<JsonObject> status() {
    return storage(new JsonObject().put("op", "status")).map(JsonObject.class::cast);
  }

  /**
   * Asks {@code status} until {@code until} holds and answers that status. The bus announces
   * neither the end of a load nor a fall-back to recovery mode, so asking again is the only way
   * to learn of them; failed answers (the storage address while one storage verticle replaces
   * another) are asked again too. Fails after {@value #AWAIT_MS} ms, with the last answer.
   *
   * @param what what the status should become, for the failure message
   */
  public Future<JsonObject> awaitStatus(String what, Predicate<JsonObject> until) {
    return awaitStatus(what, until, System.currentTimeMillis() + AWAIT_MS);
  }

  private Future<JsonObject> awaitStatus(String what, Predicate<JsonObject> until, long deadline) {
    return status().transform(ar -> {
      if (ar.succeeded() && until.test(ar.result())) {
        return Future.succeededFuture(ar.result());
      }
      if (System.currentTimeMillis() > deadline) {
        String last = ar.succeeded() ? ar.result().encode() : ar.cause().toString();
        return Future.failedFuture(new AssertionError("storage status never became " + what + "; last answer: " + last));
      }
      return vertx.timer(POLL_MS, TimeUnit.MILLISECONDS).compose(v -> awaitStatus(what, until, deadline));
    });
  }
}
