package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One shard of a collection: its id, the peers holding a replica of it (one in this version; the
 * list is where replication adds more) and its shard key under custom sharding (a string or an
 * integer, kept as given, or null under auto sharding).
 */
public record ShardMeta(int id, List<Long> replicas, JsonNode key) {
  public ShardMeta {
    replicas = List.copyOf(replicas);
    key = normalKey(key);
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
        out.add(new ShardMeta(s.get("id").asInt(), peers, s.get("key")));
      }
    }
    return out;
  }
}
