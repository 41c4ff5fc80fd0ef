package io.quiver.lock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The lock's state machine, free of Vert.x so it can be tested alone. Not thread-safe: the lock
 * verticle calls it from its one event loop.
 *
 * <p>Linearizability: a write asks for a permit before it starts and returns it when it has
 * finished. Setting the lock refuses every later request at once, and the caller is answered only
 * when every permit granted before the change has come back, so once the answer is out no write
 * can be applied.
 */
public final class WriteGate {
  /** A write may hold its permit at most this long before the gate stops waiting for it. */
  public static final long PERMIT_TIMEOUT_MS = 60_000;

  private LockState state = LockState.UNLOCKED;
  private long nextPermit = 1;
  private long rejected;
  private final Map<Long, Long> inFlight = new HashMap<>();
  private final List<Runnable> drainWaiters = new ArrayList<>();

  /** A granted permit (> 0), or 0 when writes are locked. */
  public long tryAcquire(long nowMs) {
    if (state.write()) {
      rejected++;
      return 0;
    }
    long permit = nextPermit++;
    inFlight.put(permit, nowMs);
    return permit;
  }

  public void release(long permit) {
    if (inFlight.remove(permit) != null && inFlight.isEmpty()) {
      List<Runnable> waiters = List.copyOf(drainWaiters);
      drainWaiters.clear();
      waiters.forEach(Runnable::run);
    }
  }

  /**
   * Sets the state and hands the previous one to {@code onDone} once no write granted earlier is
   * still running (at once when unlocking or when none is).
   */
  public void set(LockState next, Consumer<LockState> onDone) {
    LockState previous = state;
    state = next;
    if (!next.write() || inFlight.isEmpty()) {
      onDone.accept(previous);
    } else {
      drainWaiters.add(() -> onDone.accept(previous));
    }
  }

  /** Forgets permits older than {@link #PERMIT_TIMEOUT_MS}: a writer that died must not hold the lock hostage. */
  public int expire(long nowMs) {
    List<Long> stale = new ArrayList<>();
    inFlight.forEach((permit, since) -> {
      if (nowMs - since > PERMIT_TIMEOUT_MS) {
        stale.add(permit);
      }
    });
    stale.forEach(this::release);
    return stale.size();
  }

  public LockState state() {
    return state;
  }

  public long rejected() {
    return rejected;
  }

  public int inFlight() {
    return inFlight.size();
  }
}
