package io.quiver.engine;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gives back the heap that a large merge grew. A merge builds its graph on the heap (hundreds of
 * megabytes for a million vectors), and G1 keeps what it grew to while the node is busy: it returns
 * unused heap only after a collection that marks the old generation, which a node under steady
 * search load (young garbage only) may not run for hours. Once a large merge's segment is searched,
 * this asks for one concurrent cycle, at most one every {@link #MIN_INTERVAL_SECONDS} seconds for the
 * whole process. Only when {@code System.gc()} starts a concurrent cycle
 * ({@code -XX:+ExplicitGCInvokesConcurrent}, in {@code conf/jvm.options}): never a stop-the-world
 * collection that the node's options did not ask for.
 */
final class HeapReturn {
  static final long MIN_INTERVAL_SECONDS = 30;
  private static final boolean CONCURRENT = explicitGcIsConcurrent();
  private static final AtomicLong last = new AtomicLong(System.nanoTime() - TimeUnit.SECONDS.toNanos(MIN_INTERVAL_SECONDS));

  private HeapReturn() {}

  /** A merge of at least {@code indexing_threshold} ended and searches use its segment; nothing merges now. */
  static void afterLargeMerge() {
    if (!CONCURRENT) {
      return;
    }
    long now = System.nanoTime();
    long previous = last.get();
    if (now - previous < TimeUnit.SECONDS.toNanos(MIN_INTERVAL_SECONDS) || !last.compareAndSet(previous, now)) {
      return;
    }
    Thread.ofPlatform().name("quiver-heap-return").daemon(true).start(System::gc);
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
