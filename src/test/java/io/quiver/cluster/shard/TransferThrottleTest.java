package io.quiver.cluster.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TransferThrottleTest {
  private static final long MIB = 1 << 20;
  private static final long SECOND = 1_000_000_000L;

  @Test
  void withoutALimitNothingWaits() {
    TransferThrottle t = new TransferThrottle(null, 0);
    assertEquals(0, t.reserve(100 * MIB, 0));
    assertEquals(0, t.reserve(100 * MIB, 1));
  }

  @Test
  void pagesWaitUntilTheirBytesFitTheRate() {
    TransferThrottle t = new TransferThrottle(null, 2); // 2 MiB/s
    long now = System.nanoTime();
    assertEquals(SECOND / 2, t.reserve(MIB, now), 1000); // one MiB: half a second before the next page
    assertEquals(SECOND, t.reserve(MIB, now), 1000); // a second page taken at once pays after the first
    // a page taken after the wait: paid from where the last one ended
    assertEquals(SECOND / 2, t.reserve(MIB, now + SECOND), 1000);
  }

  @Test
  void anIdleThrottleSavesUpNoBurst() {
    TransferThrottle t = new TransferThrottle(null, 1);
    long now = System.nanoTime();
    t.reserve(MIB, now);
    long later = now + 60 * SECOND; // a minute without pages
    assertEquals(SECOND, t.reserve(MIB, later), 1000);
    assertEquals(2 * SECOND, t.reserve(MIB, later), 1000);
  }

  @Test
  void transfersShareTheNodesRate() {
    TransferThrottle t = new TransferThrottle(null, 4);
    long now = System.nanoTime();
    long[] waits = {t.reserve(MIB, now), t.reserve(MIB, now), t.reserve(MIB, now), t.reserve(MIB, now)};
    assertEquals(SECOND, waits[3], 1000); // four pages of two transfers: one second at 4 MiB/s
  }
}
