package io.quiver.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives back the heap that a large merge grew. A merge builds its graph on the heap (hundreds of
 * megabytes for a million vectors) and drops it when its segment is written; G1 keeps the heap it
 * grew while the node is busy, and under steady search load its concurrent cycles return that
 * garbage only bit by bit (tens of seconds at a million 128-d vectors, the node's resident memory
 * twice what it settles at meanwhile). Once a large merge's segment is searched and the shard is
 * settled (no merge running, no large indexing buffer), this asks for one collection, at most one
 * every {@link #MIN_INTERVAL_SECONDS} seconds for the whole process (a later merge's waits for the
 * interval's end, it is not dropped). Only when the JVM options ask for it
 * ({@code -Dquiver.heapReturn=true}, in {@code conf/jvm.options}; a JVM that embeds the engine keeps
 * its heap to itself), and they choose its kind: a full collection by default, which returns the
 * merge's heap at once for a pause that follows the live heap (tens of megabytes once settled: tens
 * of milliseconds, up to a couple of hundred on a loaded machine), once per settled merge;
 * {@code -XX:+ExplicitGCInvokesConcurrent} makes it a concurrent cycle (no pause, the heap back
 * later).
 */
final class HeapReturn {
  static final long MIN_INTERVAL_SECONDS = 10;
  private static final boolean ENABLED = Boolean.getBoolean("quiver.heapReturn");
  private static final AtomicLong last = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(MIN_INTERVAL_SECONDS));
  /** A collection was asked for and has not started yet. */
  private static final AtomicBoolean pending = new AtomicBoolean();

  private HeapReturn() {}

  /**
   * A merge of at least {@code indexing_threshold} ended, searches use its segment and the shard is
   * settled. The collection runs now, or, when one ran less than {@link #MIN_INTERVAL_SECONDS} ago,
   * once that interval has passed: large merges often end close together (a shard settling into
   * two segments), and the last one's heap must go back too. At most one collection waits; it
   * covers every merge that ends before it starts.
   */
  static void afterLargeMerge() {
    if (!ENABLED || !pending.compareAndSet(false, true)) {
      return;
    }
    long wait = last.get() + TimeUnit.SECONDS.toNanos(MIN_INTERVAL_SECONDS) - System.nanoTime();
    Thread.ofPlatform().name("quiver-heap-return").daemon(true).start(() -> {
      try {
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      } catch (InterruptedException e) {
        pending.set(false);
        return;
      }
      // a merge ending from here on asks for a collection of its own
      pending.set(false);
      last.set(System.nanoTime());
      System.gc();
    });
  }
}
