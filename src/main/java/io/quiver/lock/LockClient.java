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

  /** A permit for one write, or a failed future with a 403 {@link ApiException} when locked. */
  public Future<Long> acquire() {
    return bus.<JsonObject>request(addresses.lockPermission(), QUERY).compose(reply -> {
      JsonObject body = reply.body();
      return body.getBoolean("allowed", false)
          ? Future.succeededFuture(body.getLong("permit"))
          : Future.failedFuture(ApiException.forbidden(body.getString("error_message")));
    });
  }

  public void release(long permit) {
    bus.send(addresses.lockRelease(), new JsonObject().put("permit", permit));
  }

  /** Current state, plus {@code rejected_writes} and {@code writes_in_flight}. */
  public Future<JsonObject> get() {
    return bus.<JsonObject>request(addresses.lockGet(), QUERY).map(m -> m.body());
  }

  /** Sets the state; the previous one comes back once in-flight writes have finished. */
  public Future<LockState> set(LockState state) {
    return bus.<JsonObject>request(addresses.lockSet(), state.toJson()).map(m -> LockState.fromJson(m.body()));
  }
}
