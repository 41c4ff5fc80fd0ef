package io.quiver.cluster;

import io.vertx.core.Future;
import java.util.List;

/**
 * The Quiver nodes of the cluster. A single node is its own cluster of one; in cluster mode the
 * nodes register in the public {@code quiver.peers} map and only those whose process is still a
 * cluster member are listed. Implementations are safe to call from any event loop.
 */
public interface Peers {
  /** True in cluster mode. */
  boolean clustered();

  /** This node's peer id. */
  long selfId();

  /** The host other members reach this node on, or null when there are none (single node). */
  default String advertisedHost() {
    return null;
  }

  /** The cluster's metadata consensus once this node has started it; null before, and on a single node. */
  default Consensus consensus() {
    return null;
  }

  /** The live nodes, this one first (always present, even before it has registered). */
  Future<List<Peer>> live();

  /** Publishes this node once its REST server listens. */
  Future<Void> register(Peer self);

  /** Withdraws this node (graceful stop); a killed node is filtered out by membership instead. */
  Future<Void> deregister();

  /** The node alone: single-node mode. */
  static Peers single(long peerId, String uri) {
    return new Peers() {
      private volatile Peer self = new Peer(peerId, uri, null);

      @Override
      public boolean clustered() {
        return false;
      }

      @Override
      public long selfId() {
        return peerId;
      }

      @Override
      public Future<List<Peer>> live() {
        return Future.succeededFuture(List.of(self));
      }

      @Override
      public Future<Void> register(Peer registered) {
        self = registered;
        return Future.succeededFuture();
      }

      @Override
      public Future<Void> deregister() {
        return Future.succeededFuture();
      }
    };
  }
}
