package io.quiver.cluster.raft;

/**
 * The replicated state that a {@link RaftNode} keeps in step on every peer: Quiver's cluster
 * metadata. The Raft layer knows nothing of what the bytes mean.
 *
 * <p>Thread-safety: the node calls these methods one at a time, from its state-machine thread,
 * in log order; an implementation needs no locking of its own against them, only against its
 * own readers.
 */
public interface MetaMachine {

  /**
   * Applies a committed operation. Must be deterministic: every peer applies the same operations
   * in the same order and must reach the same state and return the same bytes. Must not throw:
   * an operation that is invalid for the current state is answered with result bytes that say so
   * (a throw leaves this peer's state behind the others' and fails the proposer).
   *
   * @param index the operation's Raft log index, strictly increasing across calls
   * @param operation the bytes given to {@link RaftNode#propose}
   * @return the result handed to the proposer, never null (an empty array is fine)
   */
  byte[] apply(long index, byte[] operation);

  /** The whole state, serialised, for a Raft snapshot; reflects every operation applied so far. */
  byte[] snapshot();

  /**
   * Replaces the whole state with a snapshot's: on start from a snapshot, or when the leader
   * installs one on a peer that fell behind its log. Operations after the snapshot follow through
   * {@link #apply}.
   */
  void restore(byte[] snapshot);
}
