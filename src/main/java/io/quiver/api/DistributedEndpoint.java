package io.quiver.api;

import static io.quiver.request.Access.ADMIN;
import static io.quiver.request.Access.READ;

import io.quiver.error.ApiException;
import io.quiver.storage.StorageClient;
import io.quiver.request.CollectionRequest;
import io.quiver.request.StorageOp;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Qdrant's distributed operations, answered as a Qdrant node without distributed mode answers them,
 * because that is what a Quiver node is for its collections (each node serves its own shards):
 * {@code GET /collections/{name}/cluster} shows the local shards; moving or replicating
 * shards, removing peers and recovering from consensus are refused with Qdrant's "Distributed mode
 * disabled"; shard keys (custom sharding) are storage operations like any other.
 */
final class DistributedEndpoint implements Endpoint {
  private final StorageClient storage;
  private final long peerId;
  private final io.quiver.cluster.Peers peers;

  DistributedEndpoint(StorageClient storage, long peerId) {
    this(storage, peerId, io.quiver.cluster.Peers.single(peerId, null));
  }

  DistributedEndpoint(StorageClient storage, long peerId, io.quiver.cluster.Peers peers) {
    this.storage = storage;
    this.peerId = peerId;
    this.peers = peers;
  }

  @Override
  public List<Route> routes() {
    String c = "/collections/{collection_name}";
    return List.of(
        Route.get(c + "/cluster", READ, this::clusterInfo),
        Route.post(c + "/cluster", ADMIN, req -> peers.consensus() != null
            ? Future.fromCompletionStage(io.quiver.cluster.ShardTransfers.handle(peers.consensus(), req.path("collection_name"), req.bodyTreeOrNull()))
            : refuseIfExists(req, "Distributed mode disabled")),
        Route.op(HttpMethod.PUT, c + "/shards", StorageOp.CREATE_SHARD_KEY, req -> storage.send(req.parsed())),
        Route.op(HttpMethod.POST, c + "/shards/delete", StorageOp.DELETE_SHARD_KEY, req -> storage.send(req.parsed())),
        Route.post("/cluster/recover", ADMIN, req -> {
          if (peers.consensus() != null) {
            throw ApiException.badRequest("Recovering the Raft state by request is not supported by this version: a peer resumes "
                + "its Raft state from disk and catches up from the leader's log or snapshot by itself; its Dead replicas recover "
                + "by themselves (see GET /collections/{name}/cluster)");
          }
          throw ApiException.badRequest("Distributed mode disabled.");
        }),
        Route.delete("/cluster/peer/{peer_id}", ADMIN, this::removePeer));
  }

  /** {@code DELETE /cluster/peer/{id}?force&timeout}: as Qdrant, refused while the peer holds shards unless forced. */
  private Future<Object> removePeer(ApiRequest req) {
    long id = parsePeerId(req.path("peer_id"));
    io.quiver.cluster.Consensus consensus = peers.consensus();
    if (consensus == null) {
      throw ApiException.badRequest("Distributed mode disabled.");
    }
    boolean force = "true".equalsIgnoreCase(req.query("force"));
    long timeout = 30;
    if (req.query("timeout") != null) {
      try {
        timeout = Math.max(1, Long.parseLong(req.query("timeout")));
      } catch (NumberFormatException e) {
        throw ApiException.badRequest("Format error in query params: timeout: invalid digit found in string");
      }
    }
    return Future.fromCompletionStage(consensus.removePeer(id, force, java.time.Duration.ofSeconds(timeout))).map(v -> true);
  }

  /** Fails with 404 when the collection (or alias) does not exist, else with 400 {@code refusal}. */
  private Future<Object> refuseIfExists(ApiRequest req, String refusal) {
    String name = req.path("collection_name");
    return storage.send(new CollectionRequest.Exists(name)).map(answer -> {
      if (!Boolean.TRUE.equals(((Map<?, ?>) answer).get("exists"))) {
        throw ApiException.collectionNotFound(name);
      }
      throw ApiException.badRequest(refusal);
    });
  }

  private Future<Object> clusterInfo(ApiRequest req) {
    return storage.send(new CollectionRequest.Cluster(req.path("collection_name"))).map(answer -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("peer_id", peerId);
      ((Map<?, ?>) answer).forEach((k, v) -> out.put((String) k, v));
      return out;
    });
  }

  private static long parsePeerId(String raw) {
    try {
      return Long.parseUnsignedLong(raw);
    } catch (NumberFormatException e) {
      throw ApiException.formatError("peer_id: expected an unsigned 64-bit integer, got `" + raw + "`");
    }
  }
}
