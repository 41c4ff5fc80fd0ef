package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One shard of a collection: its id, the peers holding a replica of it with each replica's state,
 * its shard key under custom sharding (a string or an integer, kept as given, or null under auto
 * sharding), and its primary term.
 *
 * <p>The shard's <b>primary</b> is its Active replica of the highest peer id (Qdrant's "leader" of
 * a replica set): it orders the shard's writes and forwards them to the other replicas. The {@code
 * term} grows by one whenever the primary changes, so that a replica can refuse what an earlier
 * primary still sends (fencing).
 */
public record ShardMeta(int id, List<Long> replicas, JsonNode key, Map<Long, ReplicaState> states, long term, List<Transfer> transfers) {
  /**
   * A transfer filling the Partial replica on peer {@code to} from peer {@code from}: {@code sync}
   * for a copy (replicate, recover), not for a move (the source's replica goes when the target is
   * Active); {@code method} as Qdrant names it.
   */
  public record Transfer(long from, long to, boolean sync, String method) {
    ObjectNode toJson() {
      return JsonNodeFactory.instance.objectNode().put("from", from).put("to", to).put("sync", sync).put("method", method);
    }

    static Transfer fromJson(JsonNode t) {
      return new Transfer(t.get("from").asLong(), t.get("to").asLong(), t.get("sync").asBoolean(), t.path("method").asText("stream_records"));
    }
  }

  public ShardMeta(int id, List<Long> replicas, JsonNode key, Map<Long, ReplicaState> states, long term) {
    this(id, replicas, key, states, term, List.of());
  }

  public ShardMeta {
    replicas = List.copyOf(replicas);
    key = normalKey(key);
    Map<Long, ReplicaState> s = new TreeMap<>();
    for (long p : replicas) {
      s.put(p, states == null ? ReplicaState.ACTIVE : states.getOrDefault(p, ReplicaState.ACTIVE));
    }
    states = Collections.unmodifiableMap(s);
    term = Math.max(term, 1);
    transfers = List.copyOf(transfers == null ? List.of() : transfers.stream().filter(t -> s.get(t.to()) == ReplicaState.PARTIAL).toList());
  }

  /** The transfer into {@code peer}'s replica, or null. */
  public Transfer transferTo(long peer) {
    return transfers.stream().filter(t -> t.to() == peer).findFirst().orElse(null);
  }

  /** This shard with {@code transfer} recorded (its target's replica Partial). */
  public ShardMeta withTransfer(Transfer transfer) {
    List<Transfer> next = new ArrayList<>(transfers.stream().filter(t -> t.to() != transfer.to()).toList());
    next.add(transfer);
    ShardMeta partial = with(transfer.to(), ReplicaState.PARTIAL);
    return new ShardMeta(id, partial.replicas, key, partial.states, partial.term, next);
  }

  /** A new shard: every replica Active, first term. */
  public ShardMeta(int id, List<Long> replicas, JsonNode key) {
    this(id, replicas, key, null, 1);
  }

  public ReplicaState state(long peer) {
    return states.get(peer);
  }

  /** The primary: the Active replica of the highest peer id, or -1 when no replica is Active. */
  public long primary() {
    long best = -1;
    for (var e : states.entrySet()) {
      if (e.getValue() == ReplicaState.ACTIVE && (best == -1 || Long.compareUnsigned(e.getKey(), best) > 0)) {
        best = e.getKey();
      }
    }
    return best;
  }

  /** The replica of the highest peer id whatever its state (where {@code ordering=strong} writes go), or -1. */
  public long highest() {
    long best = -1;
    for (long p : replicas) {
      if (best == -1 || Long.compareUnsigned(p, best) > 0) {
        best = p;
      }
    }
    return best;
  }

  /** The peers whose replicas are in {@code state}. */
  public List<Long> in(ReplicaState state) {
    return replicas.stream().filter(p -> states.get(p) == state).toList();
  }

  /** This shard with {@code peer}'s replica in {@code state} (added when absent, removed when null); the term grows if the primary changes. */
  public ShardMeta with(long peer, ReplicaState state) {
    Transfer ending = states.get(peer) == ReplicaState.PARTIAL && state != ReplicaState.PARTIAL ? transferTo(peer) : null;
    ShardMeta out = set(peer, state);
    if (ending != null && state == ReplicaState.ACTIVE && !ending.sync() && ending.from() != peer && out.states.containsKey(ending.from())) {
      out = out.set(ending.from(), null); // a move ends with the source's replica gone
    }
    if (state == ReplicaState.PARTIAL && out.transferTo(peer) == null) {
      List<Transfer> next = new ArrayList<>(out.transfers);
      next.add(new Transfer(out.primary(), peer, true, "stream_records")); // a recovery, from the primary
      out = new ShardMeta(id, out.replicas, key, out.states, out.term, next);
    }
    return out;
  }

  private ShardMeta set(long peer, ReplicaState state) {
    List<Long> peers = new ArrayList<>(replicas);
    Map<Long, ReplicaState> next = new TreeMap<>(states);
    if (state == null) {
      peers.remove(peer);
      next.remove(peer);
    } else {
      if (!peers.contains(peer)) {
        peers.add(peer);
      }
      next.put(peer, state);
    }
    ShardMeta out = new ShardMeta(id, peers, key, next, term, transfers);
    return out.primary() == primary() ? out : new ShardMeta(id, peers, key, next, term + 1, transfers);
  }

  /** A shard key as the metadata keeps it: a string, or an integer as a long (so 7 equals 7 whatever its width), or null. */
  public static JsonNode normalKey(JsonNode key) {
    if (key == null || key.isNull()) {
      return null;
    }
    return key.isTextual() ? key.deepCopy() : com.fasterxml.jackson.databind.node.LongNode.valueOf(key.asLong());
  }

  /** A shard key of the metadata as the storage keeps it: {@code String} or {@code Long}. */
  public static Object storageKey(JsonNode key) {
    return key.isTextual() ? key.textValue() : (Object) key.asLong();
  }

  /** A shard key of the storage ({@code String} or {@code Long}) as the metadata keeps it. */
  public static JsonNode metaKey(Object key) {
    return key instanceof Long n ? com.fasterxml.jackson.databind.node.LongNode.valueOf(n)
        : com.fasterxml.jackson.databind.node.TextNode.valueOf((String) key);
  }

  public boolean on(long peer) {
    return replicas.contains(peer);
  }

  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode().put("id", id);
    ArrayNode peers = o.putArray("replicas");
    replicas.forEach(peers::add);
    if (key != null) {
      o.set("key", key);
    }
    if (states.values().stream().anyMatch(st -> st != ReplicaState.ACTIVE)) {
      ObjectNode st = o.putObject("states");
      states.forEach((p, v) -> st.put(Long.toString(p), v.shown()));
    }
    if (term > 1) {
      o.put("term", term);
    }
    if (!transfers.isEmpty()) {
      ArrayNode t = o.putArray("transfers");
      transfers.forEach(x -> t.add(x.toJson()));
    }
    return o;
  }

  static ArrayNode toJson(List<ShardMeta> shards) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    shards.forEach(s -> a.add(s.toJson()));
    return a;
  }

  static List<ShardMeta> fromJson(JsonNode a) {
    List<ShardMeta> out = new ArrayList<>();
    if (a != null) {
      for (JsonNode s : a) {
        List<Long> peers = new ArrayList<>();
        s.path("replicas").forEach(p -> peers.add(p.asLong()));
        Map<Long, ReplicaState> states = new TreeMap<>();
        s.path("states").properties().forEach(e -> states.put(Long.parseLong(e.getKey()), ReplicaState.parse(e.getValue().asText())));
        List<Transfer> transfers = new ArrayList<>();
        s.path("transfers").forEach(t -> transfers.add(Transfer.fromJson(t)));
        out.add(new ShardMeta(s.get("id").asInt(), peers, s.get("key"), states, s.path("term").asLong(1), transfers));
      }
    }
    return out;
  }
}
