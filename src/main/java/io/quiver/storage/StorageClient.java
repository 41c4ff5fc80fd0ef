package io.quiver.storage;

import io.quiver.bus.Addresses;
import io.quiver.bus.LocalCodec;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.quiver.request.Request;

/** The only sender on the local storage address: sends a parsed request, returns the result object. */
public final class StorageClient {
  /** Long enough for a large batch with wait=true; a stuck engine still answers the client. */
  public static final long TIMEOUT_MS = 120_000;

  private static final String CODEC = new LocalCodec<>(Request.class).name();
  private static final DeliveryOptions OPTIONS = new DeliveryOptions().setCodecName(CODEC).setSendTimeout(TIMEOUT_MS);
  private final Vertx vertx;
  private final EventBus bus;
  private final String address;
  private final LocalMap<String, StorageVerticle.LocalEntry> locals;

  public StorageClient(Vertx vertx, Addresses addresses) {
    this.vertx = vertx;
    this.bus = vertx.eventBus();
    this.locals = StorageVerticle.locals(vertx);
    this.address = addresses.storage();
  }

  /** Registers the local codecs of the storage messages on a Vert.x instance; idempotent. */
  public static void registerCodecs(Vertx vertx) {
    try {
      vertx.eventBus().registerCodec(new LocalCodec<>(Request.class));
      vertx.eventBus().registerCodec(new LocalCodec<>(Object.class));
    } catch (IllegalStateException alreadyRegistered) {
      // another deployment on this Vert.x instance did it first
    }
  }

  public Future<Object> send(Request request) {
    return send(request, TIMEOUT_MS);
  }

  /**
   * As {@link #send(Request)}, waiting up to {@code timeoutMs} (snapshots of large collections).
   * When the storage verticle runs in this process (it always does for the node's own edges), the
   * request goes to it directly rather than through the bus: the same answer and failures (a
   * {@code ReplyException} with the status, a timeout after {@code timeoutMs}), without the bus's
   * delivery to the verticle's event loop and back, a third of a small search's cost outside Lucene.
   */
  public Future<Object> send(Request request, long timeoutMs) {
    StorageVerticle local = StorageVerticle.local(locals, address);
    if (local == null) {
      return bus.request(address, request, timeoutMs == TIMEOUT_MS ? OPTIONS : new DeliveryOptions(OPTIONS).setSendTimeout(timeoutMs))
          .map(m -> m.body());
    }
    Promise<Object> answer = ((ContextInternal) vertx.getOrCreateContext()).promise();
    long timer = vertx.setTimer(timeoutMs, id -> answer.tryFail(new ReplyException(ReplyFailure.TIMEOUT,
        "Timed out after waiting " + timeoutMs + "(ms) for a reply. address: " + address)));
    // completed on a storage thread, its listeners run on the caller's context, which cancels the timer
    answer.future().onComplete(ar -> vertx.cancelTimer(timer));
    local.call(request).whenComplete((result, err) -> {
      if (err == null) {
        answer.tryComplete(result);
      } else {
        answer.tryFail(StorageVerticle.unwrap(err));
      }
    });
    return answer.future();
  }
}
