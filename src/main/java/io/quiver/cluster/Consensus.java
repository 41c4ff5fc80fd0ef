package io.quiver.cluster;

import io.quiver.cluster.meta.ClusterMeta;
import io.quiver.cluster.meta.MetaOp;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The cluster's metadata consensus as the rest of the node uses it: propose an operation, read the
 * replicated state and the Raft state. Implemented on Apache Ratis by {@link RaftConsensus}.
 */
public interface Consensus extends AutoCloseable {
  /**
   * Proposes {@code op}; completes once it is committed and applied on this node, or fails: with
   * the {@link io.quiver.error.ApiException} the state refused it with, or 503/504 when no quorum
   * accepted it within {@code timeout}.
   */
  CompletionStage<Void> propose(MetaOp op, Duration timeout);

  /**
   * Removes a peer from the cluster: from the metadata (refused while it holds shards, unless {@code
   * force}: then its replicas are dropped), then from the Raft group.
   */
  CompletionStage<Void> removePeer(long peer, boolean force, Duration timeout);

  /** The replicated state machine (its state, and who hears of changes). */
  ClusterMeta meta();

  /** The Raft state, for {@code GET /cluster}. */
  RaftStatus status();

  /** This peer's id. */
  long selfId();

  /** This peer's Raft server address ({@code host:port}). */
  String raftAddress();

  @Override
  void close();

  /**
   * Qdrant's {@code raft_info} and consensus thread status.
   *
   * @param leader the leader's peer id, or null when there is none
   * @param role Qdrant's role name ({@code Leader}, {@code Follower}, {@code Candidate}, {@code PreCandidate}), or null
   * @param error why the consensus is not working, or null when it is
   */
  record RaftStatus(long term, long commit, long pendingOperations, Long leader, String role, boolean isVoter, String error) {}
}
