package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The shards a collection is made of, recorded in {@code <collection>/shards.json} (written
 * atomically, as {@code config.json}):
 *
 * <pre>{"format": "quiver-shards", "version": 1, "sharding_method": "custom", "shard_ids": [0, 1, 2],
 *  "local_shard_ids": [1], "shard_keys": {"0": "cats", "1": "cats", "2": 7}, "next_shard_id": 4}</pre>
 *
 * A collection without the file was created before collections had several shards: it is one shard,
 * {@code shards/0}, whatever its config's {@code shard_number} says. Without {@code
 * local_shard_ids} every shard is local (a single node); in a cluster it lists the shards this node
 * holds, the others living on other peers.
 *
 * <p>Under custom sharding ({@code sharding_method: custom}) every shard belongs to a shard key (a
 * string or a non-negative integer, kept as {@code String} or {@code Long}, and written as such so
 * an integer key stays one); the collection starts with none and gains and loses shards as keys are
 * created and dropped. Shard ids are never reused: {@code next_shard_id} is above every id the
 * collection ever had. Auto sharding has no keys and at least one shard. Immutable.
 *
 * @param shardIds every shard of the collection, ascending (not only the local ones)
 * @param localIds the shards held on this node, ascending, or null for all of them
 * @param keys the shard key of each shard (custom sharding; empty under auto sharding)
 * @param nextId the id the next shard created gets
 */
public record ShardLayout(String method, List<Integer> shardIds, List<Integer> localIds, Map<Integer, Object> keys, int nextId) {
  public static final String FILE = "shards.json";
  public static final String AUTO = "auto";
  public static final String CUSTOM = "custom";
  static final String FORMAT = "quiver-shards";
  static final int VERSION = 1;
  /** The layout of a collection written before shards.json existed. */
  public static final ShardLayout LEGACY = new ShardLayout(AUTO, List.of(0));

  public ShardLayout {
    shardIds = List.copyOf(new TreeSet<>(shardIds));
    keys = Collections.unmodifiableMap(new TreeMap<>(keys));
    if (shardIds.isEmpty() && !CUSTOM.equals(method)) {
      throw new IllegalArgumentException("a collection has at least one shard");
    }
    if (localIds != null) {
      localIds = List.copyOf(new TreeSet<>(localIds));
      if (!shardIds.containsAll(localIds)) {
        throw new IllegalArgumentException("local shards " + localIds + " are not all among the collection's " + shardIds);
      }
    }
    if (CUSTOM.equals(method) ? !keys.keySet().equals(new TreeSet<>(shardIds)) : !keys.isEmpty()) {
      throw new IllegalArgumentException("shard keys " + keys + " do not match the shards " + shardIds + " (" + method + " sharding)");
    }
    keys.values().forEach(ShardLayout::checkKey);
    nextId = Math.max(nextId, shardIds.isEmpty() ? 0 : shardIds.get(shardIds.size() - 1) + 1);
  }

  /** Every shard local, no keys. */
  public ShardLayout(String method, List<Integer> shardIds) {
    this(method, shardIds, null, Map.of(), 0);
  }

  /** A shard key as this layout keeps it: a {@code String} or a non-negative {@code Long}. */
  public static Object checkKey(Object key) {
    if (key instanceof String || key instanceof Long n && n >= 0) {
      return key;
    }
    throw new IllegalArgumentException("not a shard key: " + key);
  }

  /** A shard key from its JSON form (a string or a non-negative integer). */
  public static Object keyOf(JsonNode json) {
    return checkKey(json.isTextual() ? json.textValue() : (Object) json.longValue());
  }

  /** How Qdrant shows a shard key in a message: a string as it is, a number in digits. */
  public static String shown(Object key) {
    return String.valueOf(key);
  }

  public boolean custom() {
    return CUSTOM.equals(method);
  }

  /** The shards held here: {@link #localIds}, or all of them. */
  public List<Integer> local() {
    return localIds == null ? shardIds : localIds;
  }

  /** The same shards, of which these are local (null: all). */
  public ShardLayout withLocal(java.util.Collection<Integer> local) {
    return new ShardLayout(method, shardIds, local == null ? null : List.copyOf(local), keys, nextId);
  }

  /** The shard keys, in the order of their first shard. */
  public Set<Object> shardKeys() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(keys.values()));
  }

  /** The shards of a key, ascending (empty when it has none). */
  public List<Integer> shardsOf(Object key) {
    List<Integer> out = new ArrayList<>();
    keys.forEach((id, k) -> {
      if (k.equals(key)) {
        out.add(id);
      }
    });
    return out;
  }

  /** The key of a shard, or null (auto sharding). */
  public Object keyOf(int shardId) {
    return keys.get(shardId);
  }

  /**
   * The layout after the key's shards {@code ids} (new ids, at or above {@link #nextId}) were added,
   * of which {@code local} are held here (ignored when every shard is local).
   */
  public ShardLayout withKey(Object key, List<Integer> ids, java.util.Collection<Integer> local) {
    if (!custom()) {
      throw new IllegalStateException("shard keys need custom sharding");
    }
    for (int id : ids) {
      if (id < nextId || keys.containsKey(id)) {
        throw new IllegalArgumentException("shard id " + id + " was used before (next free id: " + nextId + ")");
      }
    }
    List<Integer> all = new ArrayList<>(shardIds);
    all.addAll(ids);
    Map<Integer, Object> k = new TreeMap<>(keys);
    ids.forEach(id -> k.put(id, checkKey(key)));
    List<Integer> mine = null;
    if (localIds != null) {
      mine = new ArrayList<>(localIds);
      mine.addAll(local);
    }
    int next = ids.stream().mapToInt(i -> i + 1).max().orElse(nextId);
    return new ShardLayout(method, all, mine, k, Math.max(nextId, next));
  }

  /** The layout without the key's shards. */
  public ShardLayout withoutKey(Object key) {
    List<Integer> gone = shardsOf(key);
    Map<Integer, Object> k = new TreeMap<>(keys);
    gone.forEach(k::remove);
    List<Integer> all = shardIds.stream().filter(id -> !gone.contains(id)).toList();
    List<Integer> mine = localIds == null ? null : localIds.stream().filter(id -> !gone.contains(id)).toList();
    return new ShardLayout(method, all, mine, k, nextId);
  }

  /** The layout of a new collection, from its config: {@code shard_number} shards (auto sharding), or none yet (custom). */
  public static ShardLayout forNew(ObjectNode config) {
    if (CUSTOM.equals(config.path("params").path("sharding_method").asText(AUTO))) {
      return new ShardLayout(CUSTOM, List.of());
    }
    int n = Math.max(1, config.path("params").path("shard_number").asInt(1));
    return new ShardLayout(AUTO, ShardRouter.range(n));
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
    Map<Integer, Object> keys = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : json.path("shard_keys").properties()) {
      keys.put(Integer.parseInt(e.getKey()), keyOf(e.getValue()));
    }
    return new ShardLayout(json.path("sharding_method").asText(AUTO), ids, local, keys, json.path("next_shard_id").asInt(0));
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
    if (custom()) {
      ObjectNode k = out.putObject("shard_keys");
      keys.forEach((id, key) -> {
        if (key instanceof Long n) {
          k.put(Integer.toString(id), n);
        } else {
          k.put(Integer.toString(id), (String) key);
        }
      });
      out.put("next_shard_id", nextId);
    }
    return out;
  }

  /** The directory of shard {@code id}. */
  public static Path shardDir(Path collectionDir, int id) {
    return collectionDir.resolve("shards").resolve(Integer.toString(id));
  }
}
