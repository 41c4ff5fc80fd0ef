package io.quiver.lock;

import io.quiver.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the node's write lock and answers the public lock addresses of {@link Addresses}. The lock
 * lives in memory only: a restart starts unlocked.
 */
public final class LockVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(LockVerticle.class);
  private final Addresses addresses;
  private final WriteGate gate = new WriteGate();

  public LockVerticle(Addresses addresses) {
    this.addresses = addresses;
  }

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    vertx.setPeriodic(WriteGate.PERMIT_TIMEOUT_MS / 4, id -> {
      int expired = gate.expire(System.currentTimeMillis());
      if (expired > 0) {
        log.warn("Forgot {} write permit(s) not returned within {} ms", expired, WriteGate.PERMIT_TIMEOUT_MS);
      }
    });
    return Future.all(
        bus.<JsonObject>consumer(addresses.lockPermission(), this::permission).completion(),
        bus.<JsonObject>consumer(addresses.lockRelease(), m -> gate.release(m.body().getLong("permit", 0L))).completion(),
        bus.<JsonObject>consumer(addresses.lockGet(), m -> m.reply(stateJson())).completion(),
        bus.<JsonObject>consumer(addresses.lockSet(), this::set).completion());
  }

  private void permission(Message<JsonObject> m) {
    long permit = gate.tryAcquire(System.currentTimeMillis());
    m.reply(permit > 0
        ? new JsonObject().put("allowed", true).put("permit", permit)
        : new JsonObject().put("allowed", false).put("error_message", gate.state().refusal()));
  }

  private void set(Message<JsonObject> m) {
    LockState next;
    try {
      next = LockState.fromJson(m.body());
    } catch (IllegalArgumentException e) {
      m.fail(400, "Format error in JSON body: " + e.getMessage());
      return;
    }
    gate.set(next, previous -> {
      log.info("Write lock changed: {} -> {} (node-local, in memory only: a restart starts unlocked)",
          describe(previous), describe(next));
      m.reply(previous.toJson());
    });
  }

  private JsonObject stateJson() {
    return gate.state().toJson().put("rejected_writes", gate.rejected()).put("writes_in_flight", gate.inFlight());
  }

  private static String describe(LockState s) {
    return s.write() ? "locked (" + (s.errorMessage() == null ? LockState.DEFAULT_MESSAGE : s.errorMessage()) + ")" : "unlocked";
  }
}
