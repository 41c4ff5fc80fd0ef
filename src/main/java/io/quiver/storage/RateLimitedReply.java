package io.quiver.storage;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * A 429 failure that keeps its {@code Retry-After} seconds on the local event bus: the storage
 * verticle replies with it (Vert.x fails the request with a reply that is a {@link ReplyException}),
 * and the REST failure handler turns the seconds into the header.
 */
public final class RateLimitedReply extends ReplyException {
  private final int retryAfterSeconds;

  public RateLimitedReply(int status, String message, int retryAfterSeconds) {
    super(ReplyFailure.RECIPIENT_FAILURE, status, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
