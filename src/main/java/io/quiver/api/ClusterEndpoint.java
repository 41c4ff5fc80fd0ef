package io.quiver.api;

import io.quiver.request.Access;
import io.quiver.cluster.Peer;
import io.quiver.cluster.Peers;
import io.quiver.cluster.SendFailures;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /cluster} in Qdrant's {@code ClusterStatus} shape. Single-node mode answers {@code
 * {"status": "disabled"}}. In cluster mode the peers are the live Quiver nodes with their REST URIs.
 * Quiver has no Raft consensus (membership is Hazelcast's, and collections are not replicated), so
 * {@code raft_info} says so truthfully: term and commit 0, no pending operations, no leader and no
 * role, not a voter; {@code consensus_thread_status} is {@code stopped}. {@code
 * message_send_failures} counts this node's failed cluster-lock messages by peer.
 */
final class ClusterEndpoint implements Endpoint {
  private final Peers peers;
  private final SendFailures failures;

  ClusterEndpoint(Peers peers, SendFailures failures) {
    this.peers = peers;
    this.failures = failures;
  }

  @Override
  public List<Route> routes() {
    return List.of(Route.get("/cluster", Access.READ, req -> peers.clustered()
        ? peers.live().map(this::enabled)
        : io.vertx.core.Future.succeededFuture(Map.of("status", "disabled"))));
  }

  private Map<String, Object> enabled(List<Peer> live) {
    Map<String, Object> peerMap = new LinkedHashMap<>();
    for (Peer p : live) {
      peerMap.put(Long.toString(p.peerId()), Map.of("uri", p.uri() == null ? "" : p.uri()));
    }
    Map<String, Object> raft = new LinkedHashMap<>();
    raft.put("term", 0);
    raft.put("commit", 0);
    raft.put("pending_operations", 0);
    raft.put("leader", null);
    raft.put("role", null);
    raft.put("is_voter", false);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", "enabled");
    out.put("peer_id", peers.selfId());
    out.put("peers", peerMap);
    out.put("raft_info", raft);
    out.put("consensus_thread_status", Map.of("consensus_thread_status", "stopped"));
    out.put("message_send_failures", failures.snapshot());
    return out;
  }
}
