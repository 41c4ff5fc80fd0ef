package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The shards a collection is made of, recorded in {@code <collection>/shards.json} when it is
 * created (written atomically, as {@code config.json}):
 *
 * <pre>{"format": "quiver-shards", "version": 1, "sharding_method": "auto", "shard_ids": [0, 1, 2],
 *  "local_shard_ids": [1]}</pre>
 *
 * A collection without the file was created before collections had several shards: it is one shard,
 * {@code shards/0}, whatever its config's {@code shard_number} says. Without {@code
 * local_shard_ids} every shard is local (a single node); in a cluster it lists the shards this node
 * holds, the others living on other peers. Immutable.
 *
 * @param shardIds every shard of the collection, ascending (not only the local ones)
 * @param localIds the shards held on this node, ascending, or null for all of them
 */
public record ShardLayout(String method, List<Integer> shardIds, List<Integer> localIds) {
  public static final String FILE = "shards.json";
  static final String FORMAT = "quiver-shards";
  static final int VERSION = 1;
  /** The layout of a collection written before shards.json existed. */
  public static final ShardLayout LEGACY = new ShardLayout("auto", List.of(0));

  public ShardLayout {
    shardIds = List.copyOf(new TreeSet<>(shardIds));
    if (shardIds.isEmpty()) {
      throw new IllegalArgumentException("a collection has at least one shard");
    }
    if (localIds != null) {
      localIds = List.copyOf(new TreeSet<>(localIds));
      if (!shardIds.containsAll(localIds)) {
        throw new IllegalArgumentException("local shards " + localIds + " are not all among the collection's " + shardIds);
      }
    }
  }

  /** Every shard local. */
  public ShardLayout(String method, List<Integer> shardIds) {
    this(method, shardIds, null);
  }

  /** The shards held here: {@link #localIds}, or all of them. */
  public List<Integer> local() {
    return localIds == null ? shardIds : localIds;
  }

  /** The same shards, of which these are local (null: all). */
  public ShardLayout withLocal(java.util.Collection<Integer> local) {
    return new ShardLayout(method, shardIds, local == null ? null : List.copyOf(local));
  }

  /** The layout of a new collection: {@code shard_number} shards (auto sharding), from its config. */
  public static ShardLayout forNew(ObjectNode config) {
    int n = Math.max(1, config.path("params").path("shard_number").asInt(1));
    return new ShardLayout("auto", ShardRouter.range(n));
  }

  /** The layout recorded in {@code collectionDir}, or {@link #LEGACY} when there is none. */
  public static ShardLayout read(Path collectionDir, ObjectMapper mapper) throws IOException {
    Path file = collectionDir.resolve(FILE);
    if (!Files.exists(file)) {
      return LEGACY;
    }
    JsonNode json = mapper.readTree(file.toFile());
    if (!FORMAT.equals(json.path("format").asText()) || json.path("version").asInt(-1) != VERSION) {
      throw new IOException(file + ": not a shard layout of version " + VERSION);
    }
    List<Integer> ids = new ArrayList<>();
    json.path("shard_ids").forEach(n -> ids.add(n.asInt()));
    List<Integer> local = null;
    if (json.has("local_shard_ids")) {
      local = new ArrayList<>();
      for (JsonNode n : json.get("local_shard_ids")) {
        local.add(n.asInt());
      }
    }
    return new ShardLayout(json.path("sharding_method").asText("auto"), ids, local);
  }

  public void write(Path collectionDir, ObjectMapper mapper) throws IOException {
    AtomicFiles.write(collectionDir.resolve(FILE), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(toJson(mapper)));
  }

  public ObjectNode toJson(ObjectMapper mapper) {
    ObjectNode out = mapper.createObjectNode().put("format", FORMAT).put("version", VERSION).put("sharding_method", method);
    ArrayNode ids = out.putArray("shard_ids");
    shardIds.forEach(ids::add);
    if (localIds != null) {
      ArrayNode local = out.putArray("local_shard_ids");
      localIds.forEach(local::add);
    }
    return out;
  }

  /** The directory of shard {@code id}. */
  public static Path shardDir(Path collectionDir, int id) {
    return collectionDir.resolve("shards").resolve(Integer.toString(id));
  }
}
