package io.quiver.storage.strict;

import io.quiver.error.ApiException;
import java.util.Locale;

/** Qdrant's token bucket: {@code perMinute} capacity, refilled continuously, starting full. Thread-safe. */
final class RateLimiter {
  private final double capacity;
  private final double perSecond;
  private double tokens;
  private long last = System.nanoTime();

  RateLimiter(long perMinute) {
    capacity = perMinute;
    perSecond = perMinute / 60.0;
    tokens = perMinute;
  }

  /** Takes {@code cost} tokens, or fails with 429 and the seconds to wait ({@code kind}: "Read" or "Write"). */
  synchronized void consume(long cost, String kind) {
    if (cost > capacity) {
      throw ApiException.rateLimited(kind + " rate limit exceeded, request larger than rate limiter capacity, please try to split your request", null);
    }
    long now = System.nanoTime();
    tokens = Math.min(capacity, tokens + perSecond * (now - last) / 1e9);
    last = now;
    if (tokens >= cost) {
      tokens -= cost;
      return;
    }
    double wait = (cost - tokens) / perSecond;
    int retryAfter = (int) Math.ceil(wait);
    throw ApiException.rateLimited(String.format(Locale.ROOT,
        "%s rate limit exceeded: Operation requires %d tokens but only %.1f were available. Retry after %ds",
        kind, cost, tokens, retryAfter), Math.max(1, retryAfter));
  }
}
