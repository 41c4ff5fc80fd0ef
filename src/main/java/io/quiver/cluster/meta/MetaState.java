package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.FilterException;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.storage.collection.Catalogue;
import io.quiver.request.CollectionUpdate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cluster's metadata as Raft replicates it: peers, collections (config, payload indexes,
 * shards and their placement, shard keys) and aliases. Immutable: {@link #apply} returns the next
 * state, or fails with the {@link ApiException} Qdrant would answer and no change. Every peer applies
 * the same operations in the same order to the same state, so the transitions use nothing but
 * their inputs.
 */
public record MetaState(SortedMap<Long, PeerMeta> peers, SortedMap<String, CollectionMeta> collections,
    SortedMap<String, String> aliases) {
  public static final MetaState EMPTY = new MetaState(new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
  /** The snapshot format's version; a snapshot of another version is refused, not misread. */
  static final int FORMAT = 1;

  public MetaState {
    peers = Collections.unmodifiableSortedMap(new TreeMap<>(peers));
    collections = Collections.unmodifiableSortedMap(new TreeMap<>(collections));
    aliases = Collections.unmodifiableSortedMap(new TreeMap<>(aliases));
  }

  /**
   * A collection: its config as {@code GET /collections/{name}} shows it, its payload indexes in the
   * persisted form, and its shards, in id order.
   */
  public record CollectionMeta(String name, ObjectNode config, ObjectNode payloadIndex, List<ShardMeta> shards, int nextShardId) {
    public CollectionMeta {
      config = config.deepCopy();
      payloadIndex = payloadIndex.deepCopy();
      shards = List.copyOf(shards.stream().sorted(java.util.Comparator.comparingInt(ShardMeta::id)).toList());
      nextShardId = Math.max(nextShardId, shards.stream().mapToInt(s -> s.id() + 1).max().orElse(0));
    }

    /** @param shards the shards; the next shard id is above theirs */
    public CollectionMeta(String name, ObjectNode config, ObjectNode payloadIndex, List<ShardMeta> shards) {
      this(name, config, payloadIndex, shards, 0);
    }

    public boolean customSharding() {
      return "custom".equals(config.path("params").path("sharding_method").asText("auto"));
    }

    /** The shards this peer holds a replica of. */
    public List<ShardMeta> shardsOn(long peer) {
      return shards.stream().filter(s -> s.on(peer)).toList();
    }

    /** The shards of a shard key (custom sharding). */
    public List<ShardMeta> shardsOf(JsonNode key) {
      JsonNode k = ShardMeta.normalKey(key);
      return shards.stream().filter(s -> k.equals(s.key())).toList();
    }

    CollectionMeta withShards(List<ShardMeta> next) {
      return new CollectionMeta(name, config, payloadIndex, next, nextShardId);
    }
  }

  /** The collection a name or alias refers to, or null. */
  public CollectionMeta resolve(String nameOrAlias) {
    CollectionMeta c = collections.get(nameOrAlias);
    if (c == null && aliases.containsKey(nameOrAlias)) {
      c = collections.get(aliases.get(nameOrAlias));
    }
    return c;
  }

  /** The next state after {@code op}; throws the error Qdrant would answer, leaving this state as it is. */
  public MetaState apply(MetaOp op) {
    return switch (op) {
      case MetaOp.CreateCollection c -> {
        if (collections.containsKey(c.name())) {
          throw ApiException.conflict("Wrong input: Collection `" + c.name() + "` already exists!");
        }
        if (aliases.containsKey(c.name())) {
          throw ApiException.wrongInput("Alias with name `" + c.name() + "` already exists");
        }
        var next = new TreeMap<>(collections);
        next.put(c.name(), new CollectionMeta(c.name(), c.config(), JsonNodeFactory.instance.objectNode(), c.shards()));
        yield new MetaState(peers, next, aliases);
      }
      case MetaOp.UpdateCollection u -> {
        CollectionMeta c = existing(u.name());
        ObjectNode config = new CollectionUpdate(u.diff()).applyTo(c.config());
        yield with(new CollectionMeta(c.name(), config, c.payloadIndex(), c.shards(), c.nextShardId()));
      }
      case MetaOp.DeleteCollection d -> {
        CollectionMeta c = resolve(d.name());
        if (c == null) {
          throw ApiException.collectionNotFound(d.name());
        }
        var next = new TreeMap<>(collections);
        next.remove(c.name());
        var nextAliases = new TreeMap<>(aliases);
        nextAliases.values().removeIf(c.name()::equals);
        yield new MetaState(peers, next, nextAliases);
      }
      case MetaOp.CreateIndex i -> {
        CollectionMeta c = existing(i.collection());
        ObjectNode index = c.payloadIndex().deepCopy();
        index.set(i.field(), i.index());
        try {
          PayloadSchema.fromJson(index); // an index this version cannot read is refused before it is stored
        } catch (FilterException e) {
          throw ApiException.badRequest(e.getMessage());
        }
        yield with(new CollectionMeta(c.name(), c.config(), index, c.shards(), c.nextShardId()));
      }
      case MetaOp.DeleteIndex i -> {
        CollectionMeta c = existing(i.collection());
        ObjectNode index = c.payloadIndex().deepCopy();
        index.remove(i.field());
        yield with(new CollectionMeta(c.name(), c.config(), index, c.shards(), c.nextShardId()));
      }
      case MetaOp.ChangeAliases a -> new MetaState(peers, collections,
          Catalogue.aliasesAfter(aliases, collections::containsKey, a.actions()));
      case MetaOp.CreateShardKey k -> {
        CollectionMeta c = existing(k.collection());
        if (!c.customSharding()) {
          throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
        }
        if (!c.shardsOf(k.key()).isEmpty()) {
          throw ApiException.badRequest("Sharding key " + key(k.key()) + " already exists for collection " + c.name());
        }
        List<ShardMeta> shards = new ArrayList<>(c.shards());
        int id = c.nextShardId();
        for (ShardMeta s : k.shards()) {
          shards.add(new ShardMeta(id++, s.replicas(), k.key()));
        }
        yield with(new CollectionMeta(c.name(), c.config(), c.payloadIndex(), shards, id));
      }
      case MetaOp.DropShardKey k -> {
        CollectionMeta c = existing(k.collection());
        if (!c.customSharding()) {
          throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
        }
        if (c.shardsOf(k.key()).isEmpty()) {
          throw ApiException.badRequest("Sharding key " + key(k.key()) + " does not exist for collection " + c.name());
        }
        yield with(c.withShards(c.shards().stream().filter(s -> !k.key().equals(s.key())).toList()));
      }
      case MetaOp.SetReplicaState r -> {
        CollectionMeta c = existing(r.collection());
        ShardMeta shard = shard(c, r.shard());
        ReplicaState now = shard.state(r.peer());
        if (now == null && r.state() != null && r.from() != null) {
          throw ApiException.badRequest("Replica of shard " + r.shard() + " on peer " + r.peer() + " does not exist");
        }
        if (now == null && r.state() == null) {
          throw ApiException.badRequest("Replica of shard " + r.shard() + " on peer " + r.peer() + " does not exist");
        }
        if (now == null && r.state() == ReplicaState.DEAD) {
          yield this; // a replica dropped (or moved away) while a write missed it: marking it Dead would bring it back
        }
        if (r.from() != null && now != r.from()) {
          throw ApiException.badRequest("Replica of shard " + r.shard() + " on peer " + r.peer() + " is " + now.shown()
              + ", not " + r.from().shown());
        }
        if (r.term() > 0 && shard.term() != r.term()) {
          throw ApiException.badRequest("Shard " + r.shard() + " of collection " + c.name() + " is in primary term " + shard.term()
              + ", not " + r.term());
        }
        if (now == ReplicaState.ACTIVE && r.state() != ReplicaState.ACTIVE && shard.in(ReplicaState.ACTIVE).size() == 1) {
          throw ApiException.badRequest("Cannot deactivate the last active replica of shard " + r.shard() + " of collection " + c.name()
              + " (peer " + r.peer() + ")");
        }
        yield withShard(c, demoteTransfers(shard, shard.with(r.peer(), r.state())));
      }
      case MetaOp.StartTransfer t -> {
        CollectionMeta c = existing(t.collection());
        ShardMeta shard = shard(c, t.shard());
        if (!peers.isEmpty() && !peers.containsKey(t.to())) {
          throw ApiException.badRequest("Peer " + t.to() + " does not exist");
        }
        if (shard.state(t.from()) != ReplicaState.ACTIVE) {
          throw ApiException.badRequest("Shard " + t.shard() + " is not active on peer " + t.from());
        }
        if (shard.transferTo(t.to()) != null || shard.transfers().stream().anyMatch(x -> x.from() == t.from() && !x.sync())) {
          throw ApiException.badRequest("Shard " + t.shard() + " is already involved in transfer " + t.from() + " -> " + t.to());
        }
        if (shard.state(t.to()) == ReplicaState.ACTIVE) {
          if (t.sync()) {
            yield this; // a copy onto a peer that holds an Active replica has nothing to do
          }
          throw ApiException.badRequest("Shard " + t.shard() + " is already active on peer " + t.to());
        }
        yield withShard(c, shard.withTransfer(new ShardMeta.Transfer(t.from(), t.to(), t.sync(), t.method())));
      }
      case MetaOp.AbortTransfer t -> {
        CollectionMeta c = existing(t.collection());
        ShardMeta shard = shard(c, t.shard());
        ShardMeta.Transfer running = shard.transferTo(t.to());
        if (running == null || running.from() != t.from()) {
          throw ApiException.badRequest("Shard transfer " + t.from() + " -> " + t.to() + " for collection " + c.name() + " shard "
              + t.shard() + " does not exist");
        }
        // as Qdrant: the receiver of a copy is Dead (it recovers by itself), the receiver of a move is
        // removed (else it would recover into a copy); the source as it was
        yield withShard(c, shard.with(t.to(), running.sync() ? ReplicaState.DEAD : null));
      }
      case MetaOp.PutPeer p -> {
        var next = new TreeMap<>(peers);
        next.put(p.peer().id(), p.peer());
        yield new MetaState(next, collections, aliases);
      }
      case MetaOp.RemovePeer r -> {
        if (!peers.containsKey(r.id())) {
          throw ApiException.badRequest("Peer " + r.id() + " does not exist");
        }
        var nextCollections = new TreeMap<String, CollectionMeta>();
        for (CollectionMeta c : collections.values()) {
          if (!c.shardsOn(r.id()).isEmpty()) {
            if (!r.force()) {
              throw ApiException.badRequest("Cannot remove peer " + r.id() + " as there are shards on it");
            }
            List<ShardMeta> shards = new ArrayList<>();
            for (ShardMeta s : c.shards()) {
              shards.add(s.on(r.id()) ? s.with(r.id(), null) : s);
            }
            c = c.withShards(shards);
          }
          nextCollections.put(c.name(), c);
        }
        var next = new TreeMap<>(peers);
        next.remove(r.id());
        yield new MetaState(next, nextCollections, aliases);
      }
    };
  }

  /** A transfer fills a replica from one primary: when the primary changed, its Partial replicas are Dead (and start again). */
  private static ShardMeta demoteTransfers(ShardMeta before, ShardMeta next) {
    if (next.term() != before.term()) {
      for (long p : next.in(ReplicaState.PARTIAL)) {
        next = next.with(p, ReplicaState.DEAD);
      }
    }
    return next;
  }

  private static ShardMeta shard(CollectionMeta c, int id) {
    return c.shards().stream().filter(s -> s.id() == id).findFirst()
        .orElseThrow(() -> ApiException.badRequest("Shard " + id + " does not exist in collection " + c.name()));
  }

  private MetaState withShard(CollectionMeta c, ShardMeta next) {
    List<ShardMeta> shards = new ArrayList<>();
    for (ShardMeta s : c.shards()) {
      shards.add(s.id() == next.id() ? next : s);
    }
    return with(c.withShards(shards));
  }

  private static String key(JsonNode key) {
    return key.isTextual() ? key.textValue() : key.toString();
  }

  private CollectionMeta existing(String nameOrAlias) {
    CollectionMeta c = resolve(nameOrAlias);
    if (c == null) {
      throw ApiException.collectionNotFound(nameOrAlias);
    }
    return c;
  }

  private MetaState with(CollectionMeta c) {
    var next = new TreeMap<>(collections);
    next.put(c.name(), c);
    return new MetaState(peers, next, aliases);
  }

  // ---- snapshot form ----

  public byte[] toBytes() {
    ObjectNode o = JsonNodeFactory.instance.objectNode().put("format", FORMAT);
    ObjectNode p = o.putObject("peers");
    peers.forEach((id, peer) -> p.set(Long.toString(id), peer.toJson()));
    ObjectNode c = o.putObject("collections");
    collections.forEach((name, meta) -> {
      ObjectNode m = c.putObject(name);
      m.set("config", meta.config());
      m.set("payload_index", meta.payloadIndex());
      m.set("shards", ShardMeta.toJson(meta.shards()));
      m.put("next_shard_id", meta.nextShardId());
    });
    ObjectNode a = o.putObject("aliases");
    aliases.forEach(a::put);
    try {
      return Json.MAPPER.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static MetaState fromBytes(byte[] bytes) {
    JsonNode o;
    try {
      o = Json.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("corrupt metadata snapshot: " + e.getMessage(), e);
    }
    if (o.path("format").asInt() != FORMAT) {
      throw new IllegalArgumentException("metadata snapshot of format " + o.path("format") + ", this version reads " + FORMAT);
    }
    var peers = new TreeMap<Long, PeerMeta>();
    o.path("peers").forEach(p -> {
      PeerMeta peer = PeerMeta.fromJson(p);
      peers.put(peer.id(), peer);
    });
    var collections = new TreeMap<String, CollectionMeta>();
    for (Map.Entry<String, JsonNode> e : o.path("collections").properties()) {
      JsonNode m = e.getValue();
      collections.put(e.getKey(), new CollectionMeta(e.getKey(), (ObjectNode) m.get("config"), (ObjectNode) m.get("payload_index"),
          ShardMeta.fromJson(m.get("shards")), m.path("next_shard_id").asInt(0)));
    }
    var aliases = new TreeMap<String, String>();
    o.path("aliases").properties().forEach(e -> aliases.put(e.getKey(), e.getValue().asText()));
    return new MetaState(peers, collections, aliases);
  }
}
