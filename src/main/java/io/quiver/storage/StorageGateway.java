package io.quiver.storage;

import io.quiver.bus.Addresses;
import io.quiver.lock.LockClient;
import io.quiver.request.Request;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Runs parsed requests the way every edge must: a request that adds data (its {@link
 * io.quiver.request.Access} needs write permission) first takes a permit from the node's write lock,
 * held until the storage has answered, so no edge is a way around a lock. Thread-safe.
 */
public final class StorageGateway {
  private final StorageClient storage;
  private final LockClient lock;

  public StorageGateway(Vertx vertx, Addresses addresses) {
    this.storage = new StorageClient(vertx, addresses);
    this.lock = new LockClient(vertx, addresses);
  }

  /** The request's result, or its failure ({@link io.quiver.error.ApiException}, or the bus's {@code ReplyException}). */
  public Future<Object> submit(Request request) {
    return submit(request, StorageClient.TIMEOUT_MS);
  }

  /** As {@link #submit(Request)}, waiting for the storage at most {@code timeoutMs}. */
  public Future<Object> submit(Request request, long timeoutMs) {
    if (!request.access().needsWritePermission()) {
      return storage.send(request, timeoutMs);
    }
    return lock.acquire().compose(permit -> storage.send(request, timeoutMs).andThen(ar -> lock.release(permit)));
  }
}
