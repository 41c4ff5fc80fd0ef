package io.quiver.cluster.shard;

import java.util.concurrent.atomic.AtomicLong;

/** This process's replication counters, for {@code /metrics}: they only grow. */
public final class ReplicationMetrics {
  /** Replicas this node had marked Dead because they missed a write or a primary's term began without them. */
  public static final AtomicLong MARKED_DEAD = new AtomicLong();
  /** Transfers into this node's replicas that ended with the replica Active. */
  public static final AtomicLong TRANSFERS_DONE = new AtomicLong();
  /** Transfers into this node's replicas that failed (the replica stays Dead and tries again). */
  public static final AtomicLong TRANSFERS_FAILED = new AtomicLong();
  /** Points copied into this node's replicas by transfers. */
  public static final AtomicLong POINTS_RECEIVED = new AtomicLong();
  /** Frames this node forwarded to replicas as a primary. */
  public static final AtomicLong FRAMES_FORWARDED = new AtomicLong();

  private ReplicationMetrics() {}
}
