package io.quiver.cluster;

import io.quiver.cluster.meta.ClusterMeta;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.raft.MetaMachine;
import io.quiver.cluster.raft.RaftException;
import io.quiver.cluster.raft.RaftNode;
import io.quiver.error.ApiException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** {@link Consensus} on this node's member of the Ratis group ({@link RaftNode}). */
public final class RaftConsensus implements Consensus {
  private final RaftNode raft;
  private final ClusterMeta meta;

  RaftConsensus(RaftNode raft, ClusterMeta meta) {
    this.raft = raft;
    this.meta = meta;
  }

  /** The replicated machine Ratis drives: {@link ClusterMeta}'s state. */
  static MetaMachine machine(ClusterMeta meta) {
    return new MetaMachine() {
      @Override
      public byte[] apply(long index, byte[] operation) {
        return meta.apply(index, operation);
      }

      @Override
      public byte[] snapshot() {
        return meta.snapshot();
      }

      @Override
      public void restore(byte[] snapshot) {
        meta.restore(snapshot, meta.appliedIndex());
      }
    };
  }

  @Override
  public CompletionStage<Void> propose(MetaOp op, Duration timeout) {
    return raft.propose(op.toBytes(), timeout).handle((result, err) -> {
      if (err != null) {
        throw failure(err);
      }
      ClusterMeta.check(result);
      return null;
    });
  }

  /** A proposal that did not go through, as Qdrant answers it. */
  private static RuntimeException failure(Throwable err) {
    Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (e instanceof ApiException api) {
      return api;
    }
    if (e instanceof RaftException raftFailure) {
      return switch (raftFailure.kind()) {
        case TIMEOUT -> new ApiException(504, "Timeout: the operation was not committed by the cluster in time ("
            + raftFailure.getMessage() + "); it may still be applied when a majority of peers is reachable again");
        default -> new ApiException(503, "Service unavailable: consensus: " + raftFailure.getMessage());
      };
    }
    return new ApiException(500, "Service internal error: consensus: " + e);
  }

  @Override
  public CompletionStage<Void> removePeer(long peer, boolean force, Duration timeout) {
    return propose(new MetaOp.RemovePeer(peer, force), timeout).thenCompose(v -> raft.removePeer(peer)
        .exceptionally(e -> {
          throw failure(e);
        }));
  }

  @Override
  public ClusterMeta meta() {
    return meta;
  }

  @Override
  public RaftStatus status() {
    RaftNode.Info info = raft.info();
    return new RaftStatus(info.term(), info.commitIndex(), Math.max(0, info.commitIndex() - info.appliedIndex())
        + info.pendingOperations(), info.leaderId(), info.role() == null ? null : info.role().label(), info.voter(), null);
  }

  /** The Raft node (its peers, for joining nodes). */
  RaftNode raft() {
    return raft;
  }

  @Override
  public long selfId() {
    return raft.peerId();
  }

  @Override
  public String raftAddress() {
    return raft.address();
  }

  @Override
  public void close() {
    raft.close();
  }
}
