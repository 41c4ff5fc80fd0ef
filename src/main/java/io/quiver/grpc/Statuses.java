package io.quiver.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quiver.error.ApiException;
import io.quiver.storage.RateLimitedReply;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * Qdrant's mapping of its errors onto gRPC status codes ({@code From<StorageError> for Status}):
 * bad input and validation are INVALID_ARGUMENT, a missing collection or point NOT_FOUND, the
 * write lock (and the disk write block) FAILED_PRECONDITION, a rate limit RESOURCE_EXHAUSTED with
 * {@code retry-after} metadata; the description is the message REST puts in its envelope.
 */
final class Statuses {
  static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);

  private Statuses() {}

  static StatusRuntimeException of(Throwable failure) {
    if (failure instanceof StatusRuntimeException s) {
      return s;
    }
    if (failure instanceof ApiException api) {
      return of(api.status(), api.getMessage(), api.retryAfterSeconds());
    }
    if (failure instanceof RateLimitedReply limited) {
      return of(limited.failureCode(), limited.getMessage(), limited.retryAfterSeconds());
    }
    if (failure instanceof ReplyException reply) {
      return switch (reply.failureType()) {
        case RECIPIENT_FAILURE -> of(reply.failureCode(), reply.getMessage(), null);
        case TIMEOUT -> Status.DEADLINE_EXCEEDED.withDescription("Timeout: the operation did not finish in time").asRuntimeException();
        case NO_HANDLERS -> Status.UNAVAILABLE.withDescription("Service unavailable: storage is not available right now, retry")
            .asRuntimeException();
        default -> Status.INTERNAL.withDescription("Service internal error: " + reply.failureType()).asRuntimeException();
      };
    }
    return Status.INTERNAL.withDescription("Service internal error: " + failure.getClass().getSimpleName()).asRuntimeException();
  }

  /** The status of an HTTP-like code with Qdrant's message. */
  static StatusRuntimeException of(int httpStatus, String message, Integer retryAfterSeconds) {
    Status status = switch (httpStatus) {
      case 400, 413, 422 -> Status.INVALID_ARGUMENT;
      case 401 -> Status.UNAUTHENTICATED;
      case 403 -> message != null && message.startsWith("Forbidden") ? Status.PERMISSION_DENIED : Status.FAILED_PRECONDITION;
      case 404 -> Status.NOT_FOUND;
      case 409 -> Status.ALREADY_EXISTS;
      case 429 -> Status.RESOURCE_EXHAUSTED;
      case 501 -> Status.UNIMPLEMENTED;
      case 503 -> Status.UNAVAILABLE;
      case 504 -> Status.DEADLINE_EXCEEDED;
      case 507 -> Status.FAILED_PRECONDITION;
      default -> httpStatus >= 400 && httpStatus < 500 ? Status.INVALID_ARGUMENT : Status.INTERNAL;
    };
    Metadata trailers = new Metadata();
    if (retryAfterSeconds != null) {
      trailers.put(RETRY_AFTER, Integer.toString(retryAfterSeconds));
    }
    return status.withDescription(message).asRuntimeException(trailers);
  }
}
