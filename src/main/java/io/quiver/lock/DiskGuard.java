package io.quiver.lock;

import io.quiver.error.ApiException;
import io.vertx.core.json.JsonObject;

/**
 * The automatic write block of a full disk: a cause of refusal separate from the manual lock of
 * {@link WriteGate}, switched by the disk itself. It turns on when the free space on the storage
 * volume drops below {@code blockBelowBytes}, or at once when a write fails for lack of space; it
 * lifts by itself once the free space is back to at least {@code resumeAboveBytes} (the gap keeps
 * it from flapping). While it is on, writes and creates are refused with 507; reads and deletes
 * (which free space) go on. It never touches the manual lock.
 *
 * <p>Not thread-safe: the lock verticle calls it from its one event loop.
 */
public final class DiskGuard {
  private static final long MIB = 1024L * 1024;

  /** What a reading or a report changed. */
  public enum Change { NONE, BLOCKED, LIFTED }

  private final long blockBelowBytes;
  private final long resumeAboveBytes;
  private boolean blocked;
  private String cause;
  private long freeBytes = -1;
  private long rejected;

  /**
   * @param blockBelowBytes block when less than this is free; 0 blocks only when a write fails
   * @param resumeAboveBytes lift the block once at least this is free; not below {@code blockBelowBytes}
   */
  public DiskGuard(long blockBelowBytes, long resumeAboveBytes) {
    if (blockBelowBytes < 0 || resumeAboveBytes < blockBelowBytes) {
      throw new IllegalArgumentException("need 0 <= blockBelowBytes <= resumeAboveBytes, got "
          + blockBelowBytes + " and " + resumeAboveBytes);
    }
    this.blockBelowBytes = blockBelowBytes;
    this.resumeAboveBytes = resumeAboveBytes;
  }

  /** A new reading of the free space. */
  public Change probed(long usableBytes) {
    freeBytes = usableBytes;
    if (blocked && usableBytes >= resumeAboveBytes) {
      blocked = false;
      cause = null;
      return Change.LIFTED;
    }
    if (!blocked && usableBytes < blockBelowBytes) {
      blocked = true;
      cause = mib(usableBytes) + " free on the storage volume, below storage.disk_watermarks.block_below_mb ("
          + mib(blockBelowBytes) + ")";
      return Change.BLOCKED;
    }
    return Change.NONE;
  }

  /** A write failed for lack of space: blocks at once, until a reading shows room again. */
  public Change noSpace() {
    if (blocked) {
      return Change.NONE;
    }
    blocked = true;
    cause = "a write failed for lack of space";
    return Change.BLOCKED;
  }

  public boolean blocked() {
    return blocked;
  }

  /** Counts a write refused by the block. */
  public void rejected() {
    rejected++;
  }

  /** The error of a write refused while blocked (the 507 message), or null when not blocked. */
  public String refusal() {
    return blocked
        ? ApiException.INSUFFICIENT_STORAGE + "No space left on device: writes are blocked (" + cause
            + "); they resume by themselves once " + mib(resumeAboveBytes) + " are free"
        : null;
  }

  /** The public JSON form, as in {@code lock.get} replies under {@code "disk"}. */
  public JsonObject toJson() {
    return new JsonObject()
        .put("blocked", blocked)
        .put("error_message", refusal())
        .put("free_bytes", freeBytes)
        .put("block_below_bytes", blockBelowBytes)
        .put("resume_above_bytes", resumeAboveBytes)
        .put("rejected_writes", rejected);
  }

  /**
   * What {@code GET /locks} shows of the block, from the {@code disk} object of a {@code lock.get}
   * reply: {@code {"error_message", "free_bytes", "resume_above_bytes"}}, or null when it is off.
   */
  public static java.util.Map<String, Object> summary(JsonObject disk) {
    if (disk == null || !disk.getBoolean("blocked", false)) {
      return null;
    }
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("error_message", disk.getString("error_message"));
    m.put("free_bytes", disk.getLong("free_bytes"));
    m.put("resume_above_bytes", disk.getLong("resume_above_bytes"));
    return m;
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "unknown" : bytes % MIB == 0 ? bytes / MIB + " MiB" : String.format("%.1f MiB", bytes / (double) MIB);
  }
}
