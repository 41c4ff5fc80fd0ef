package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class WriteGateTest {
  @Test
  void lockWaitsForWritesInFlightAndRefusesNewOnes() {
    var gate = new WriteGate();
    long a = gate.tryAcquire(0);
    long b = gate.tryAcquire(0);
    assertTrue(a > 0 && b > 0);
    AtomicReference<LockState> answered = new AtomicReference<>();
    gate.set(new LockState(true, "maintenance"), answered::set);
    assertNull(answered.get(), "must not answer while writes are in flight");
    assertEquals(0, gate.tryAcquire(0), "no write may start once the lock is set");
    gate.release(a);
    assertNull(answered.get());
    gate.release(b);
    assertEquals(LockState.UNLOCKED, answered.get());
    assertEquals(1, gate.rejected());
    assertEquals("Storage locked: maintenance", gate.state().refusal());
  }

  @Test
  void unlockAnswersAtOnceAndStalePermitsExpire() {
    var gate = new WriteGate();
    gate.set(new LockState(true, null), s -> {});
    AtomicReference<LockState> prev = new AtomicReference<>();
    gate.set(LockState.UNLOCKED, prev::set);
    assertEquals(new LockState(true, null), prev.get());
    gate.tryAcquire(0);
    AtomicReference<LockState> answered = new AtomicReference<>();
    gate.set(new LockState(true, null), answered::set);
    assertNull(answered.get());
    assertEquals(1, gate.expire(WriteGate.PERMIT_TIMEOUT_MS + 1));
    assertEquals(LockState.UNLOCKED, answered.get());
    assertEquals("Storage locked: Write operations are forbidden", gate.state().refusal());
  }
}
