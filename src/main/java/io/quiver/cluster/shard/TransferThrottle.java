package io.quiver.cluster.shard;

import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Paces the pages that shard transfers pull into this node to at most a number of bytes per second,
 * shared by all of them ({@code storage.performance.shard_transfer_max_mb_per_sec}; 0: no limit), so
 * that a recovery leaves the disk and the network to searches and writes. A page is taken whole; the
 * next one waits until the bytes taken so far fit the rate.
 */
final class TransferThrottle {
  private final Vertx vertx;
  private final double bytesPerNano;
  /** When the bytes taken so far will have been paid for at the rate. */
  private long paidUntil;

  /** @param mbPerSec at most this many MiB per second; 0: no limit */
  TransferThrottle(Vertx vertx, double mbPerSec) {
    this.vertx = vertx;
    this.bytesPerNano = mbPerSec * (1 << 20) / 1e9;
    this.paidUntil = System.nanoTime();
  }

  /** Completes once {@code bytes} more, just taken, fit the rate (at once without a limit). */
  CompletionStage<Void> taken(long bytes) {
    long waitNanos = reserve(bytes, System.nanoTime());
    if (waitNanos <= 0) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)), id -> done.complete(null));
    return done;
  }

  /** Books {@code bytes} taken at {@code now}; answers how long the caller waits before it takes more. */
  synchronized long reserve(long bytes, long now) {
    if (bytesPerNano <= 0) {
      return 0;
    }
    long start = paidUntil - now < 0 ? now : paidUntil; // an idle throttle saves up no burst
    paidUntil = start + (long) (bytes / bytesPerNano);
    return paidUntil - now;
  }
}
