package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.lock.DiskGuard.Change;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class DiskGuardTest {
  static final long MIB = 1 << 20;

  @Test
  void blocksBelowTheLowWatermarkAndLiftsOnlyAboveTheHighOne() {
    var guard = new DiskGuard(100 * MIB, 200 * MIB);
    assertEquals(Change.NONE, guard.probed(150 * MIB));
    assertFalse(guard.blocked());
    assertNull(guard.refusal());
    assertEquals(Change.BLOCKED, guard.probed(99 * MIB));
    assertTrue(guard.refusal().startsWith("Insufficient storage: No space left on device: writes are blocked (99 MiB free"),
        guard.refusal());
    assertEquals(Change.NONE, guard.probed(150 * MIB), "between the watermarks: stays on");
    assertTrue(guard.blocked());
    assertEquals(Change.LIFTED, guard.probed(200 * MIB));
    assertFalse(guard.blocked());
    assertEquals(200 * MIB, guard.toJson().getLong("free_bytes"));
  }

  @Test
  void aFailedWriteBlocksAtOnceUntilAReadingShowsRoom() {
    var guard = new DiskGuard(100 * MIB, 200 * MIB);
    guard.probed(150 * MIB);
    assertEquals(Change.BLOCKED, guard.noSpace());
    assertEquals(Change.NONE, guard.noSpace());
    assertTrue(guard.refusal().contains("a write failed for lack of space"), guard.refusal());
    guard.rejected();
    assertEquals(1, guard.toJson().getLong("rejected_writes"));
    assertEquals(Change.NONE, guard.probed(199 * MIB));
    assertEquals(Change.LIFTED, guard.probed(300 * MIB));
  }

  @Test
  void watermarksOfZeroBlockOnlyOnFailedWrites() {
    var guard = new DiskGuard(0, 0);
    assertEquals(Change.NONE, guard.probed(0));
    assertEquals(Change.BLOCKED, guard.noSpace());
    assertEquals(Change.LIFTED, guard.probed(0));
    assertThrows(IllegalArgumentException.class, () -> new DiskGuard(2, 1));
  }
}
