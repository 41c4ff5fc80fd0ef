package io.quiver.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.MetaState;
import io.quiver.cluster.meta.ReplicaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.error.ApiException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Qdrant's shard replica operations on {@code POST /collections/{name}/cluster}: {@code
 * move_shard}, {@code replicate_shard}, {@code abort_transfer}, {@code restart_transfer} and
 * {@code drop_replica}, checked here and proposed to the cluster's consensus. The answer comes once
 * the change is committed; the copying itself goes on in the background (see {@code
 * cluster.shard.Recoveries}) and shows in the collection's {@code shard_transfers}.
 *
 * <p>Every method copies the same way: a point-in-time export of the shard's primary streamed to
 * the receiver while the primary forwards every newer write to it. {@code from_peer_id} must hold
 * an Active replica; the primary serves the copy.
 */
public final class ShardTransfers {
  private static final List<String> METHODS = List.of("stream_records", "snapshot", "wal_delta");
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private ShardTransfers() {}

  /** Applies one operation of Qdrant's {@code ClusterOperations}; answers {@code true}. */
  public static CompletionStage<Object> handle(Consensus consensus, String collection, JsonNode body) {
    if (body == null || !body.isObject() || body.size() != 1) {
      throw ApiException.badRequest("Format error in JSON body: expected exactly one cluster operation");
    }
    String op = body.fieldNames().next();
    JsonNode args = body.get(op);
    MetaState state = consensus.meta().state();
    MetaState.CollectionMeta meta = state.resolve(collection);
    if (meta == null) {
      throw ApiException.collectionNotFound(collection);
    }
    MetaOp then = null; // a second proposal, once the first is committed
    MetaOp proposal = switch (op) {
      case "move_shard", "replicate_shard" -> {
        int shard = uint(args, op, "shard_id");
        long from = peer(args, op, "from_peer_id");
        long to = peer(args, op, "to_peer_id");
        String method = method(args, op, false);
        if (from == to) {
          throw new ApiException(422, "Validation error in JSON body: [" + op + ".to_peer_id: cannot transfer shard to itself]");
        }
        ShardMeta s = shard(meta, shard);
        knownPeer(state, from);
        knownPeer(state, to);
        if (s.state(from) == null) {
          throw ApiException.badRequest("Shard " + shard + " does not exist on peer " + from);
        }
        yield new MetaOp.StartTransfer(meta.name(), shard, from, to, op.equals("replicate_shard"), method);
      }
      case "restart_transfer" -> {
        int shard = uint(args, op, "shard_id");
        long from = peer(args, op, "from_peer_id");
        long to = peer(args, op, "to_peer_id");
        String method = method(args, op, true);
        ShardMeta.Transfer running = shard(meta, shard).transferTo(to);
        if (running == null || running.from() != from) {
          throw ApiException.badRequest("Shard transfer " + from + " -> " + to + " for collection " + meta.name() + " shard " + shard
              + " does not exist");
        }
        // the receiver starts over: abort (Dead), then start again with the method asked for
        then = new MetaOp.StartTransfer(meta.name(), shard, from, to, running.sync(), method);
        yield new MetaOp.AbortTransfer(meta.name(), shard, from, to);
      }
      case "abort_transfer" -> new MetaOp.AbortTransfer(meta.name(), uint(args, op, "shard_id"), peer(args, op, "from_peer_id"),
          peer(args, op, "to_peer_id"));
      case "drop_replica" -> {
        int shard = uint(args, op, "shard_id");
        long peer = peer(args, op, "peer_id");
        ShardMeta s = shard(meta, shard);
        if (s.state(peer) == null) {
          throw ApiException.badRequest("Shard " + shard + " does not exist on peer " + peer);
        }
        if (s.replicas().size() == 1) {
          throw ApiException.badRequest("Shard " + shard + " must have at least one replica");
        }
        yield new MetaOp.SetReplicaState(meta.name(), shard, peer, null, null, 0);
      }
      case "create_sharding_key", "drop_sharding_key" -> throw ApiException.badRequest("Use PUT /collections/" + collection
          + "/shards and POST /collections/" + collection + "/shards/delete for shard keys");
      case "start_resharding", "abort_resharding" -> throw ApiException.badRequest("Resharding is not supported by this version");
      default -> throw ApiException.badRequest("Format error in JSON body: unknown variant `" + op + "`, expected one of `move_shard`, "
          + "`replicate_shard`, `abort_transfer`, `drop_replica`, `create_sharding_key`, `drop_sharding_key`, `restart_transfer`, "
          + "`start_resharding`, `abort_resharding`");
    };
    CompletionStage<Void> done = consensus.propose(proposal, TIMEOUT);
    if (then != null) {
      MetaOp next = then;
      done = done.thenCompose(v -> consensus.propose(next, TIMEOUT));
    }
    return done.thenApply(v -> (Object) Boolean.TRUE);
  }

  /** The collection's transfers in Qdrant's {@code ShardTransferInfo} form. */
  public static List<Map<String, Object>> shown(MetaState.CollectionMeta meta, java.util.function.BiFunction<Integer, Long, String> comment) {
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    for (ShardMeta s : meta.shards()) {
      for (ShardMeta.Transfer t : s.transfers()) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("shard_id", s.id());
        m.put("from", t.from());
        m.put("to", t.to());
        m.put("sync", t.sync());
        m.put("method", t.method());
        String c = comment.apply(s.id(), t.to());
        if (c != null) {
          m.put("comment", c);
        }
        out.add(m);
      }
    }
    return out;
  }

  private static ShardMeta shard(MetaState.CollectionMeta meta, int id) {
    return meta.shards().stream().filter(s -> s.id() == id).findFirst()
        .orElseThrow(() -> ApiException.badRequest("Shard " + id + " does not exist"));
  }

  private static void knownPeer(MetaState state, long peer) {
    if (!state.peers().containsKey(peer)) {
      throw ApiException.badRequest("Peer " + peer + " does not exist");
    }
  }

  private static int uint(JsonNode args, String op, String field) {
    JsonNode v = args == null ? null : args.get(field);
    if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > 0xFFFF_FFFFL) {
      throw missingOrBad(op, field, v);
    }
    return (int) v.asLong();
  }

  private static long peer(JsonNode args, String op, String field) {
    JsonNode v = args == null ? null : args.get(field);
    if (v == null || !v.isIntegralNumber() || (v.canConvertToLong() && v.asLong() < 0)) {
      throw missingOrBad(op, field, v);
    }
    return v.canConvertToLong() ? v.asLong() : v.bigIntegerValue().longValue();
  }

  private static String method(JsonNode args, String op, boolean required) {
    JsonNode v = args == null ? null : args.get("method");
    if (v == null || v.isNull()) {
      if (required) {
        throw missingOrBad(op, "method", v);
      }
      return "stream_records";
    }
    if (v.isTextual() && v.asText().equals("resharding_stream_records")) {
      throw ApiException.badRequest("Resharding transfers are not supported by this version");
    }
    if (!v.isTextual() || !METHODS.contains(v.asText())) {
      throw ApiException.badRequest("Format error in JSON body: " + op + ".method: unknown variant `" + v.asText()
          + "`, expected one of `stream_records`, `snapshot`, `wal_delta`, `resharding_stream_records`");
    }
    return v.asText();
  }

  private static ApiException missingOrBad(String op, String field, JsonNode v) {
    return ApiException.badRequest("Format error in JSON body: " + op + "." + field
        + (v == null ? ": missing field `" + field + "`" : ": invalid value " + v));
  }
}
