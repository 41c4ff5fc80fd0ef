package io.quiver.cluster;

import io.quiver.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@link Peers} over the cluster: the public {@link Addresses#PEERS_MAP} shared map, filtered by
 * the cluster manager's live membership so that a killed node disappears once the cluster has
 * noticed (Hazelcast's heartbeat timeout), and reappears with the same peer id when it restarts.
 */
public final class ClusterPeers implements Peers {
  private final Vertx vertx;
  private final ClusterManager clusterManager;
  private final long selfId;
  private volatile Peer self;
  private volatile Consensus consensus;

  public ClusterPeers(Vertx vertx, ClusterManager clusterManager, long selfId) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
    this.selfId = selfId;
    this.self = new Peer(selfId, null, clusterManager.getNodeId());
  }

  @Override
  public Consensus consensus() {
    return consensus;
  }

  /** Set once the storage has started the node's consensus. */
  public void consensus(Consensus started) {
    this.consensus = started;
  }

  @Override
  public boolean clustered() {
    return true;
  }

  @Override
  public long selfId() {
    return selfId;
  }

  /** The event bus's advertised host. */
  @Override
  public String advertisedHost() {
    var info = clusterManager instanceof io.vertx.spi.cluster.hazelcast.HazelcastClusterManager hz ? hz.getNodeInfo() : null;
    return info != null ? info.host() : clusterManager.clusterHost();
  }

  private Future<AsyncMap<String, JsonObject>> map() {
    return vertx.sharedData().getAsyncMap(Addresses.PEERS_MAP);
  }

  @Override
  public Future<List<Peer>> live() {
    Set<String> members = new HashSet<>(clusterManager.getNodes());
    return map().compose(AsyncMap::entries).map(entries -> {
      List<Peer> out = new ArrayList<>();
      Peer me = self;
      out.add(me);
      for (Object value : entries.values()) {
        Peer p = Peer.fromJson(value);
        if (p != null && p.peerId() != selfId && members.contains(p.nodeId())) {
          out.add(p);
        }
      }
      out.subList(1, out.size()).sort(Comparator.comparingLong(Peer::peerId));
      return out;
    });
  }

  @Override
  public Future<Void> register(Peer registered) {
    self = registered;
    return map().compose(m -> m.put(Long.toString(selfId), registered.toJson()));
  }

  @Override
  public Future<Void> deregister() {
    return map().compose(m -> m.remove(Long.toString(selfId))).mapEmpty();
  }
}
