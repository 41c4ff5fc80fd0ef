package io.quiver.engine.wal;

/**
 * When {@link WriteAheadLog#appendDurable} makes a frame durable. Not persisted anywhere, but only
 * ever append new constants so that ordinals stay stable should that change.
 */
public enum FsyncPolicy {
  /** {@code appendDurable} returns only after the frame has been fsynced. */
  ALWAYS,
  /**
   * {@code appendDurable} returns at once; a background thread fsyncs every {@link
   * WalOptions#fsyncIntervalMillis()} ms, so a crash loses at most about that much acknowledged work.
   */
  EVERY_MILLIS
}
