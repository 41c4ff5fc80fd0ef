package io.quiver.engine;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives back the heap that a large merge grew. A merge builds its graph on the heap (hundreds of
 * megabytes for a million vectors), and G1 keeps what it grew to while the node is busy: it returns
 * unused heap only after a collection that marks the old generation, which a node under steady
 * search load (young garbage only) may not run for hours. Once a large merge's segment is searched,
 * this asks for one concurrent cycle, at most one every {@link #MIN_INTERVAL_SECONDS} seconds for the
 * whole process (a later merge's cycle waits for the interval's end, it is not dropped). Only when
 * {@code System.gc()} starts a concurrent cycle ({@code -XX:+ExplicitGCInvokesConcurrent}, in
 * {@code conf/jvm.options}): never a stop-the-world collection that the node's options did not ask
 * for.
 */
final class HeapReturn {
  static final long MIN_INTERVAL_SECONDS = 30;
  private static final boolean CONCURRENT = explicitGcIsConcurrent();
  private static final AtomicLong last = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(MIN_INTERVAL_SECONDS));
  /** A cycle was asked for and has not started yet. */
  private static final AtomicBoolean pending = new AtomicBoolean();

  private HeapReturn() {}

  /**
   * A merge of at least {@code indexing_threshold} ended and searches use its segment. The cycle
   * starts now, or, when one ran less than {@link #MIN_INTERVAL_SECONDS} ago, once that interval
   * has passed: large merges often end close together (a shard settling into two segments), and
   * the last one's heap must go back too. At most one cycle waits; it covers every merge that ends
   * before it starts.
   */
  static void afterLargeMerge() {
    if (!CONCURRENT || !pending.compareAndSet(false, true)) {
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
      // a merge ending from here on asks for a cycle of its own
      pending.set(false);
      last.set(System.nanoTime());
      System.gc();
    });
  }

  private static boolean explicitGcIsConcurrent() {
    try {
      var diagnostics = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      return diagnostics != null && Boolean.parseBoolean(diagnostics.getVMOption("ExplicitGCInvokesConcurrent").getValue());
    } catch (RuntimeException | LinkageError e) {
      return false; // another JVM: leave its heap to it
    }
  }
}
