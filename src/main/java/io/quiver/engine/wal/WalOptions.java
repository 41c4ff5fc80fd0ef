package io.quiver.engine.wal;

import java.util.Objects;

/**
 * Settings of a {@link WriteAheadLog}.
 *
 * @param fsync when {@link WriteAheadLog#appendDurable} fsyncs
 * @param fsyncIntervalMillis period of the background fsync under {@link FsyncPolicy#EVERY_MILLIS};
 *     must be positive there, is ignored (but must not be negative) under {@link FsyncPolicy#ALWAYS}
 * @param segmentBytes size at which the log rolls over to a new segment file
 */
public record WalOptions(FsyncPolicy fsync, long fsyncIntervalMillis, long segmentBytes) {
  public WalOptions {
    Objects.requireNonNull(fsync, "fsync");
    if (fsyncIntervalMillis < 0 || (fsync == FsyncPolicy.EVERY_MILLIS && fsyncIntervalMillis == 0)) {
      throw new IllegalArgumentException(
          "fsyncIntervalMillis must be positive for " + fsync + ": " + fsyncIntervalMillis);
    }
    if (segmentBytes <= 0) {
      throw new IllegalArgumentException("segmentBytes must be positive: " + segmentBytes);
    }
  }

  /** fsync on every durable append, 32 MiB segments. */
  public static WalOptions defaults() {
    return new WalOptions(FsyncPolicy.ALWAYS, 0, 32L << 20);
  }
}
