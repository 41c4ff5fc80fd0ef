package io.quiver.api;

import io.quiver.cluster.Consensus;
import io.quiver.cluster.Peer;
import io.quiver.cluster.Peers;
import io.quiver.cluster.SendFailures;
import io.quiver.cluster.meta.PeerMeta;
import io.quiver.request.Access;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /cluster} in Qdrant's {@code ClusterStatus} shape. Single-node mode answers {@code
 * {"status": "disabled"}}. In cluster mode the peers are those of the Raft group's metadata, each
 * with its p2p URI, and {@code raft_info} is the real Raft state of this peer (term, commit index,
 * operations committed but not yet applied here, leader, role, voter); {@code
 * consensus_thread_status} is {@code working} while this peer takes part in consensus, {@code
 * stopped_with_err} when it cannot. Before the consensus has started (the node is still joining),
 * the peers are the live Quiver nodes and the Raft state is empty. {@code message_send_failures}
 * counts this node's failed messages to other peers.
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
    return List.of(Route.get("/cluster", Access.READ, req -> {
      if (!peers.clustered()) {
        return Future.succeededFuture(Map.of("status", "disabled"));
      }
      Consensus consensus = peers.consensus();
      return consensus != null ? Future.succeededFuture(enabled(consensus)) : peers.live().map(this::joining);
    }));
  }

  private Map<String, Object> enabled(Consensus consensus) {
    Map<String, Object> peerMap = new LinkedHashMap<>();
    for (PeerMeta p : consensus.meta().state().peers().values()) {
      peerMap.put(Long.toString(p.id()), Map.of("uri", p.uri() == null ? "" : p.uri()));
    }
    Consensus.RaftStatus s = consensus.status();
    Map<String, Object> raft = new LinkedHashMap<>();
    raft.put("term", s.term());
    raft.put("commit", s.commit());
    raft.put("pending_operations", s.pendingOperations());
    raft.put("leader", s.leader());
    raft.put("role", s.role());
    raft.put("is_voter", s.isVoter());
    Map<String, Object> thread = new LinkedHashMap<>();
    if (s.error() == null) {
      thread.put("consensus_thread_status", "working");
      thread.put("last_update", Instant.now().toString());
    } else {
      thread.put("consensus_thread_status", "stopped_with_err");
      thread.put("err", s.error());
    }
    return status(peerMap, raft, thread);
  }

  private Map<String, Object> joining(List<Peer> live) {
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
    return status(peerMap, raft, Map.of("consensus_thread_status", "stopped"));
  }

  private Map<String, Object> status(Map<String, Object> peerMap, Map<String, Object> raft, Map<String, Object> thread) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", "enabled");
    out.put("peer_id", peers.selfId());
    out.put("peers", peerMap);
    out.put("raft_info", raft);
    out.put("consensus_thread_status", thread);
    out.put("message_send_failures", failures.snapshot());
    return out;
  }
}
