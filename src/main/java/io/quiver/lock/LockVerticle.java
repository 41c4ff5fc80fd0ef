package io.quiver.lock;

import io.quiver.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the node's write lock and answers the public lock addresses of {@link Addresses}. The lock
 * lives in memory only: a restart starts unlocked.
 *
 * <p>It also owns the automatic disk write block ({@link DiskGuard}): a probe of the free space
 * runs every {@code checkIntervalMs} on a worker thread, and storage reports writes that failed for
 * lack of space on {@link Addresses#lockDisk()}. A write is refused with 403 while the manual lock
 * is on, else with 507 while the disk block is on.
 */
public final class LockVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(LockVerticle.class);
  private final Addresses addresses;
  private final WriteGate gate = new WriteGate();
  private final DiskGuard disk;
  private final DiskProbe probe;
  private final long checkIntervalMs;
  private boolean probing;
  private boolean probeFailed;
  private final LockHistory history = new LockHistory();

  /** Without a disk watch: the disk block never turns on. */
  public LockVerticle(Addresses addresses) {
    this(addresses, new DiskGuard(0, 0), null, 0);
  }

  /**
   * @param probe reads the free space; null disables the disk watch (and reports of full disks)
   * @param checkIntervalMs how often the probe runs
   */
  public LockVerticle(Addresses addresses, DiskGuard disk, DiskProbe probe, long checkIntervalMs) {
    this.addresses = addresses;
    this.disk = disk;
    this.probe = probe;
    this.checkIntervalMs = checkIntervalMs;
  }

  @Override
  public Future<?> start() {
    var bus = vertx.eventBus();
    vertx.setPeriodic(WriteGate.PERMIT_TIMEOUT_MS / 4, id -> {
      int expired = gate.expire(System.currentTimeMillis());
      if (expired > 0) {
        log.warn("Forgot {} write permit(s) not returned within {} ms", expired, WriteGate.PERMIT_TIMEOUT_MS);
      }
    });
    if (probe != null) {
      checkDisk();
      vertx.setPeriodic(checkIntervalMs, id -> checkDisk());
    }
    return Future.all(
        bus.<Object>consumer(addresses.lockDisk(), this::noSpace).completion(),
        bus.<JsonObject>consumer(addresses.lockPermission(), this::permission).completion(),
        bus.<Object>consumer(addresses.lockRelease(), m -> {
          if (m.body() instanceof JsonObject release) {
            gate.release(release.getLong("permit", 0L));
          }
        }).completion(),
        bus.<JsonObject>consumer(addresses.lockGet(), m -> m.reply(stateJson())).completion(),
        bus.<Object>consumer(addresses.lockSet(), this::set).completion(),
        bus.<JsonObject>consumer(addresses.lockHistory(), m -> m.reply(history.toJson())).completion());
  }

  private void permission(Message<JsonObject> m) {
    if (!gate.state().write() && disk.blocked()) {
      disk.rejected();
      m.reply(new JsonObject().put("allowed", false).put("code", 507).put("cause", "disk")
          .put("error_message", disk.refusal()));
      return;
    }
    long permit = gate.tryAcquire(System.currentTimeMillis());
    m.reply(permit > 0
        ? new JsonObject().put("allowed", true).put("permit", permit)
        : new JsonObject().put("allowed", false).put("code", 403).put("cause", "lock")
            .put("error_message", gate.state().refusal()));
  }

  private void checkDisk() {
    if (probing) {
      return;
    }
    probing = true;
    vertx.executeBlocking(probe::usableBytes, false).onComplete(ar -> {
      probing = false;
      if (ar.failed()) {
        if (!probeFailed) {
          log.warn("Cannot read the free space of the storage volume: {}", ar.cause().toString());
        }
        probeFailed = true;
        return;
      }
      probeFailed = false;
      logChange(disk.probed(ar.result()));
    });
  }

  private void noSpace(Message<Object> m) {
    if (probe == null) {
      return; // no watch that could lift a block
    }
    DiskGuard.Change change = disk.noSpace();
    if (change != DiskGuard.Change.NONE) {
      log.warn("Storage reports a write that failed for lack of space: {}",
          m.body() instanceof JsonObject report ? report.getString("error_message") : "");
    }
    logChange(change);
  }

  private void logChange(DiskGuard.Change change) {
    switch (change) {
      case BLOCKED -> log.error("Automatic disk write block ON: {}", disk.refusal());
      case LIFTED -> log.info("Automatic disk write block lifted: {} bytes free on the storage volume",
          disk.toJson().getLong("free_bytes"));
      case NONE -> { }
    }
  }

  private void set(Message<Object> m) {
    if (!(m.body() instanceof JsonObject body)) {
      m.fail(400, "Format error in JSON body: expected a JSON object {\"write\", \"error_message\"}");
      return;
    }
    LockState next;
    try {
      next = LockState.fromJson(body);
    } catch (IllegalArgumentException e) {
      m.fail(400, "Format error in JSON body: " + e.getMessage());
      return;
    }
    history.record(new LockHistory.Change(System.currentTimeMillis(), gate.state(), next,
        LockOrigin.fromJson(body.getValue("origin"))));
    gate.set(next, previous -> {
      log.info("Write lock changed: {} -> {} (node-local, in memory only: a restart starts unlocked)",
          describe(previous), describe(next));
      m.reply(previous.toJson());
    });
  }

  private JsonObject stateJson() {
    return gate.state().toJson().put("rejected_writes", gate.rejected()).put("writes_in_flight", gate.inFlight())
        .put("disk", disk.toJson());
  }

  private static String describe(LockState s) {
    return s.write() ? "locked (" + (s.errorMessage() == null ? LockState.DEFAULT_MESSAGE : s.errorMessage()) + ")" : "unlocked";
  }
}
