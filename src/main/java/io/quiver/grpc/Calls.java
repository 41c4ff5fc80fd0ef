package io.quiver.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quiver.api.ApiKeys;
import io.quiver.request.Request;
import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageGateway;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way of every storage RPC, the same as REST's: the message is mapped onto the typed request
 * (Qdrant's wording when it does not fit), a read-only key may only read, writes take a permit from
 * the write lock ({@link StorageGateway}), the storage answers within the call's deadline, and the
 * result is rendered into the RPC's response with the seconds it took. Thread-safe.
 */
final class Calls {
  private static final Logger log = LoggerFactory.getLogger(Calls.class);

  private final StorageGateway gateway;

  Calls(StorageGateway gateway) {
    this.gateway = gateway;
  }

  /** Maps the message onto a request; throws an {@link io.quiver.error.ApiException} when it does not fit. */
  @FunctionalInterface
  interface Parse {
    Request request();
  }

  /** Renders the storage's result ({@code seconds}: the time spent) into the RPC's response. */
  @FunctionalInterface
  interface Render<R> {
    R response(Object result, double seconds) throws Exception;
  }

  <R> void unary(StreamObserver<R> observer, Parse parse, Render<R> render) {
    long t0 = System.nanoTime();
    Request request;
    try {
      request = parse.request();
    } catch (RuntimeException e) {
      observer.onError(Statuses.of(e));
      return;
    }
    if (GrpcAuth.GRANT.get() == ApiKeys.Grant.READ_ONLY && !request.access().readOnly()) {
      observer.onError(Status.PERMISSION_DENIED.withDescription("Forbidden: Global manage access is required").asRuntimeException());
      return;
    }
    gateway.submit(request, timeoutMs(Context.current().getDeadline())).onComplete(ar -> {
      if (ar.failed()) {
        observer.onError(Statuses.of(ar.cause()));
        return;
      }
      R response;
      try {
        response = render.response(ar.result(), (System.nanoTime() - t0) / 1e9);
      } catch (Exception e) {
        log.error("Cannot render the result of {}", request.getClass().getSimpleName(), e);
        observer.onError(Statuses.of(e));
        return;
      }
      observer.onNext(response);
      observer.onCompleted();
    });
  }

  /** How long the storage may take: the call's deadline, at most the storage client's own bound. */
  private static long timeoutMs(Deadline deadline) {
    if (deadline == null) {
      return StorageClient.TIMEOUT_MS;
    }
    return Math.max(1, Math.min(StorageClient.TIMEOUT_MS, deadline.timeRemaining(TimeUnit.MILLISECONDS)));
  }
}
