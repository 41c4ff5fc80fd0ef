package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.request.AliasRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A change of the cluster's metadata, proposed to Raft and applied by every peer in log order. Its
 * wire and log form is JSON ({@code {"op": "<name>", ...}}): the names are part of the persisted
 * format, so an operation is only ever added, never renamed. Everything an operation needs is in
 * it (the proposer decides shard placement), so applying it is deterministic.
 */
public sealed interface MetaOp {
  /** A new collection: its normalised config, its shards (auto sharding) and where they live. */
  record CreateCollection(String name, ObjectNode config, List<ShardMeta> shards) implements MetaOp {
    public CreateCollection {
      config = config.deepCopy();
      shards = List.copyOf(shards);
    }
  }

  /** A validated diff of a collection's config ({@code PATCH /collections/{name}}). */
  record UpdateCollection(String name, ObjectNode diff) implements MetaOp {
    public UpdateCollection {
      diff = diff.deepCopy();
    }
  }

  record DeleteCollection(String name) implements MetaOp {}

  /** A payload index, in the persisted form of {@code payload_index.json} ({@code {"data_type", "params"?}}). */
  record CreateIndex(String collection, String field, JsonNode index) implements MetaOp {
    public CreateIndex {
      index = index.deepCopy();
    }
  }

  record DeleteIndex(String collection, String field) implements MetaOp {}

  /** Alias actions, applied in order, all or none. */
  record ChangeAliases(List<AliasRequest.Action> actions) implements MetaOp {
    public ChangeAliases {
      actions = List.copyOf(actions);
    }
  }

  /**
   * A shard key of a collection with custom sharding, and its shards: their placement as the proposer
   * decided it; their ids are given when it is applied (the collection's next free ids, in order).
   */
  record CreateShardKey(String collection, JsonNode key, List<ShardMeta> shards) implements MetaOp {
    public CreateShardKey {
      key = ShardMeta.normalKey(key);
      shards = List.copyOf(shards);
    }
  }

  record DropShardKey(String collection, JsonNode key) implements MetaOp {
    public DropShardKey {
      key = ShardMeta.normalKey(key);
    }
  }

  /** A peer joins, or tells its new addresses after a restart. */
  record PutPeer(PeerMeta peer) implements MetaOp {}

  /** A peer leaves; with {@code force} even while it holds shards (their replicas there are dropped). */
  record RemovePeer(long id, boolean force) implements MetaOp {}

  /**
   * Puts the replica of {@code shard} on {@code peer} in {@code state} (adding it when absent, except
   * as Dead: a replica that is gone stays gone; removing it when {@code state} is null), if it is
   * now in {@code from} (null: any) and the shard is in primary term {@code term} (0: any). The
   * last Active replica is never deactivated.
   */
  record SetReplicaState(String collection, int shard, long peer, ReplicaState state, ReplicaState from, long term) implements MetaOp {}

  /** Starts filling a replica of {@code shard} on {@code to} (made Partial) from {@code from}: a copy ({@code sync}) or a move. */
  record StartTransfer(String collection, int shard, long from, long to, boolean sync, String method) implements MetaOp {}

  /** Ends a transfer before it finished: the receiver's replica is Dead (a copy) or removed (a move), the source's as it was. */
  record AbortTransfer(String collection, int shard, long from, long to) implements MetaOp {}

  // ---- JSON form ----

  JsonNodeFactory F = JsonNodeFactory.instance;

  default byte[] toBytes() {
    try {
      return Json.MAPPER.writeValueAsBytes(toJson());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  default ObjectNode toJson() {
    ObjectNode o = F.objectNode();
    switch (this) {
      case CreateCollection c -> {
        o.put("op", "create_collection").put("name", c.name()).set("config", c.config());
        o.set("shards", ShardMeta.toJson(c.shards()));
      }
      case UpdateCollection u -> o.put("op", "update_collection").put("name", u.name()).set("diff", u.diff());
      case DeleteCollection d -> o.put("op", "delete_collection").put("name", d.name());
      case CreateIndex i -> o.put("op", "create_index").put("collection", i.collection()).put("field", i.field()).set("index", i.index());
      case DeleteIndex i -> o.put("op", "delete_index").put("collection", i.collection()).put("field", i.field());
      case ChangeAliases a -> {
        o.put("op", "change_aliases");
        ArrayNode actions = o.putArray("actions");
        for (AliasRequest.Action action : a.actions()) {
          switch (action) {
            case AliasRequest.Create c -> actions.addObject().putObject("create_alias")
                .put("collection_name", c.collection()).put("alias_name", c.alias());
            case AliasRequest.Delete d -> actions.addObject().putObject("delete_alias").put("alias_name", d.alias());
            case AliasRequest.Rename r -> actions.addObject().putObject("rename_alias")
                .put("old_alias_name", r.oldAlias()).put("new_alias_name", r.newAlias());
          }
        }
      }
      case CreateShardKey k -> {
        o.put("op", "create_shard_key").put("collection", k.collection()).set("key", k.key());
        o.set("shards", ShardMeta.toJson(k.shards()));
      }
      case DropShardKey k -> o.put("op", "drop_shard_key").put("collection", k.collection()).set("key", k.key());
      case PutPeer p -> o.put("op", "put_peer").set("peer", p.peer().toJson());
      case RemovePeer r -> o.put("op", "remove_peer").put("id", r.id()).put("force", r.force());
      case StartTransfer t -> o.put("op", "start_transfer").put("collection", t.collection()).put("shard", t.shard())
          .put("from", t.from()).put("to", t.to()).put("sync", t.sync()).put("method", t.method());
      case AbortTransfer t -> o.put("op", "abort_transfer").put("collection", t.collection()).put("shard", t.shard())
          .put("from", t.from()).put("to", t.to());
      case SetReplicaState r -> {
        o.put("op", "set_replica_state").put("collection", r.collection()).put("shard", r.shard()).put("peer", r.peer())
            .put("term", r.term());
        if (r.state() != null) {
          o.put("state", r.state().shown());
        }
        if (r.from() != null) {
          o.put("from", r.from().shown());
        }
      }
    }
    return o;
  }

  static MetaOp fromBytes(byte[] bytes) {
    try {
      return fromJson(Json.MAPPER.readTree(bytes));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a metadata operation: " + e.getMessage(), e);
    }
  }

  static MetaOp fromJson(JsonNode o) {
    String op = o.path("op").asText();
    return switch (op) {
      case "create_collection" -> new CreateCollection(o.get("name").asText(), (ObjectNode) o.get("config"), ShardMeta.fromJson(o.get("shards")));
      case "update_collection" -> new UpdateCollection(o.get("name").asText(), (ObjectNode) o.get("diff"));
      case "delete_collection" -> new DeleteCollection(o.get("name").asText());
      case "create_index" -> new CreateIndex(o.get("collection").asText(), o.get("field").asText(), o.get("index"));
      case "delete_index" -> new DeleteIndex(o.get("collection").asText(), o.get("field").asText());
      case "change_aliases" -> {
        List<AliasRequest.Action> actions = new ArrayList<>();
        for (JsonNode a : o.get("actions")) {
          if (a.has("create_alias")) {
            JsonNode c = a.get("create_alias");
            actions.add(new AliasRequest.Create(c.get("collection_name").asText(), c.get("alias_name").asText()));
          } else if (a.has("delete_alias")) {
            actions.add(new AliasRequest.Delete(a.get("delete_alias").get("alias_name").asText()));
          } else {
            JsonNode r = a.get("rename_alias");
            actions.add(new AliasRequest.Rename(r.get("old_alias_name").asText(), r.get("new_alias_name").asText()));
          }
        }
        yield new ChangeAliases(actions);
      }
      case "create_shard_key" -> new CreateShardKey(o.get("collection").asText(), o.get("key"), ShardMeta.fromJson(o.get("shards")));
      case "drop_shard_key" -> new DropShardKey(o.get("collection").asText(), o.get("key"));
      case "put_peer" -> new PutPeer(PeerMeta.fromJson(o.get("peer")));
      case "remove_peer" -> new RemovePeer(o.get("id").asLong(), o.path("force").asBoolean(false));
      case "start_transfer" -> new StartTransfer(o.get("collection").asText(), o.get("shard").asInt(), o.get("from").asLong(),
          o.get("to").asLong(), o.get("sync").asBoolean(), o.path("method").asText("stream_records"));
      case "abort_transfer" -> new AbortTransfer(o.get("collection").asText(), o.get("shard").asInt(), o.get("from").asLong(),
          o.get("to").asLong());
      case "set_replica_state" -> new SetReplicaState(o.get("collection").asText(), o.get("shard").asInt(), o.get("peer").asLong(),
          o.hasNonNull("state") ? ReplicaState.parse(o.get("state").asText()) : null,
          o.hasNonNull("from") ? ReplicaState.parse(o.get("from").asText()) : null, o.path("term").asLong(0));
      default -> throw new IllegalArgumentException("unknown metadata operation '" + op + "'");
    };
  }
}
