package io.quiver.storage;

import io.quiver.bus.Addresses;
import io.quiver.bus.LocalCodec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.quiver.request.Request;

/** The only sender on the local storage address: sends a parsed request, returns the result object. */
public final class StorageClient {
  /** Long enough for a large batch with wait=true; a stuck engine still answers the client. */
  public static final long TIMEOUT_MS = 120_000;

  private static final String CODEC = new LocalCodec<>(Request.class).name();
  private static final DeliveryOptions OPTIONS = new DeliveryOptions().setCodecName(CODEC).setSendTimeout(TIMEOUT_MS);
  private final EventBus bus;
  private final String address;

  public StorageClient(Vertx vertx, Addresses addresses) {
    this.bus = vertx.eventBus();
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
    return bus.request(address, request, OPTIONS).map(m -> m.body());
  }

  /** As {@link #send(Request)}, waiting up to {@code timeoutMs} (snapshots of large collections). */
  public Future<Object> send(Request request, long timeoutMs) {
    return bus.request(address, request, new DeliveryOptions(OPTIONS).setSendTimeout(timeoutMs)).map(m -> m.body());
  }
}
