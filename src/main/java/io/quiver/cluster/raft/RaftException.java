package io.quiver.cluster.raft;

/**
 * A Raft operation that did not complete. {@link #kind()} tells the caller what to do; the message
 * is for people. Thrown (as the cause of a failed stage) by {@link RaftNode}.
 */
public final class RaftException extends RuntimeException {

  /** Why the operation failed. */
  public enum Kind {
    /**
     * Not committed within the timeout: no leader was elected, or no quorum of peers answered.
     * The outcome is unknown: the operation may still be committed and applied later, once a
     * quorum is back (at most once).
     */
    TIMEOUT,
    /** This node is not a voting member of the group (it never joined, or was removed). */
    NOT_MEMBER,
    /** The node was closed before the operation completed. */
    CLOSED,
    /** The group refused the operation (e.g. a membership change rejected by the leader). */
    REJECTED,
    /** Applying the operation failed on the leader: a bug in the {@link MetaMachine}. */
    APPLY_FAILED
  }

  private final Kind kind;

  public RaftException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public RaftException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
