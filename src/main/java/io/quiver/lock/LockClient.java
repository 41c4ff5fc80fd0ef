package io.quiver.lock;

import io.quiver.bus.Addresses;
import io.quiver.error.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;

/** The only sender on the lock addresses: a small facade over the event bus for the router. */
public final class LockClient {
  private static final JsonObject QUERY = new JsonObject();
  private final EventBus bus;
  private final Addresses addresses;

  public LockClient(Vertx vertx, Addresses addresses) {
    this.bus = vertx.eventBus();
    this.addresses = addresses;
  }

  /**
   * A permit for one write, or a failed future with an {@link ApiException}: 403 when the manual
   * lock is on, 507 when the automatic disk write block is.
   */
  public Future<Long> acquire() {
    return acquire(new io.vertx.core.eventbus.DeliveryOptions());
  }

  /** As {@link #acquire()}, failing when the lock verticle does not answer within {@code timeoutMs}. */
  public Future<Long> acquire(long timeoutMs) {
    return acquire(new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs));
  }

  private Future<Long> acquire(io.vertx.core.eventbus.DeliveryOptions options) {
    return bus.<JsonObject>request(addresses.lockPermission(), QUERY, options).compose(reply -> {
      JsonObject body = reply.body();
      return body.getBoolean("allowed", false)
          ? Future.succeededFuture(body.getLong("permit"))
          : Future.failedFuture(new ApiException(body.getInteger("code", 403), body.getString("error_message")));
    });
  }

  /** Tells the lock verticle that a write failed for lack of space: the disk write block turns on. */
  public void reportNoSpace(String message) {
    bus.send(addresses.lockDisk(), new JsonObject().put("error_message", message));
  }

  public void release(long permit) {
    bus.send(addresses.lockRelease(), new JsonObject().put("permit", permit));
  }

  /** Current state, plus {@code rejected_writes}, {@code writes_in_flight} and the disk block under {@code disk}. */
  public Future<JsonObject> get() {
    return bus.<JsonObject>request(addresses.lockGet(), QUERY).map(m -> m.body());
  }

  /** Sets the state; the previous one comes back once in-flight writes have finished. */
  public Future<LockState> set(LockState state) {
    return bus.<JsonObject>request(addresses.lockSet(), state.toJson()).map(m -> LockState.fromJson(m.body()));
  }

  /** {@link #set(LockState)}, naming who asked, for the lock's history. */
  public Future<LockState> set(LockState state, LockOrigin origin) {
    return bus.<JsonObject>request(addresses.lockSet(), state.toJson().put("origin", origin.toJson()))
        .map(m -> LockState.fromJson(m.body()));
  }

  /** The lock changes since start: {@code {"changes": [...], "forgotten": n}} ({@link LockHistory}). */
  public Future<JsonObject> history() {
    return bus.<JsonObject>request(addresses.lockHistory(), QUERY).map(m -> m.body());
  }
}
