package io.quiver.recovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.engine.FileSizes;
import io.quiver.error.ApiException;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Names;
import io.quiver.request.NodeRequest;
import io.quiver.request.Request;
import io.quiver.storage.StorageService;
import io.quiver.storage.collection.StorageLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery mode's storage: collection metadata only. It reads {@code config.json}, {@code
 * payload_index.json} and the aliases, and never opens a WAL or a Lucene index, so its memory and
 * start time do not grow with the data. It lists and describes collections (with their size on
 * disk) and deletes them for good; every other collection operation answers 503 with the recovery
 * message.
 */
public final class MetadataOnlyStorageService implements StorageService {
  private static final Logger log = LoggerFactory.getLogger(MetadataOnlyStorageService.class);
  private final Path storage;
  private final String message;
  private final ObjectMapper mapper = Json.MAPPER;
  /** One thread: metadata operations are few and small, and deletes must not race. */
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "quiver-recovery");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, ObjectNode> configs = new TreeMap<>();
  private final Map<String, ObjectNode> payloadIndexes = new TreeMap<>();
  private Map<String, String> aliases;

  private MetadataOnlyStorageService(Path storage, String message) {
    this.storage = storage;
    this.message = message;
  }

  public static MetadataOnlyStorageService open(Path storage, String message) throws IOException {
    var s = new MetadataOnlyStorageService(storage, message);
    for (String name : StorageLayout.collectionNames(storage)) {
      Path dir = StorageLayout.collections(storage).resolve(name);
      try {
        s.configs.put(name, StorageLayout.readConfig(dir, s.mapper));
        s.payloadIndexes.put(name, StorageLayout.readPayloadIndex(dir, s.mapper));
      } catch (IOException | RuntimeException e) {
        log.warn("Collection {}: unreadable metadata ({}); it is listed and can be deleted", name, e.toString());
        s.configs.put(name, null);
        s.payloadIndexes.put(name, s.mapper.createObjectNode());
      }
    }
    s.aliases = StorageLayout.readAliases(storage, s.mapper);
    log.warn("RECOVERY MODE: {}. Only collection metadata is loaded ({} collections); delete the collection that "
        + "cannot load, then restart without recovery mode.", message, s.configs.size());
    return s;
  }

  @Override
  public CompletionStage<Object> execute(Request c) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return handle(c);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, worker);
  }

  private Object handle(Request c) throws IOException {
    return switch (c) {
      case NodeRequest.Status s -> Map.of("ready", true, "mode", mode(), "recovery_message", message);
      case NodeRequest.ListCollections l -> Map.of("collections", configs.keySet().stream().map(n -> Map.of("name", n)).toList());
      case NodeRequest.Telemetry t -> telemetry();
      case NodeRequest.ListAliases a -> aliasList(null);
      case CollectionRequest.Exists e -> {
        Names.check(e.collection());
        yield Map.of("exists", resolve(e.collection()) != null);
      }
      case CollectionRequest.Get g -> info(g.collection());
      case CollectionRequest.Cluster k -> cluster(k.collection());
      case CollectionRequest.Aliases a -> aliasList(existing(a.collection()));
      case CollectionRequest.Delete d -> delete(d.collection());
      default -> throw ApiException.unavailable("Service in recovery mode: " + message);
    };
  }

  private String resolve(String nameOrAlias) {
    if (configs.containsKey(nameOrAlias)) {
      return nameOrAlias;
    }
    String target = aliases.get(nameOrAlias);
    return target != null && configs.containsKey(target) ? target : null;
  }

  private String existing(String nameOrAlias) {
    Names.check(nameOrAlias);
    String name = resolve(nameOrAlias);
    if (name == null) {
      throw ApiException.collectionNotFound(nameOrAlias);
    }
    return name;
  }

  /** The shards of the collection's layout, their points unknown (0) as no shard is loaded. */
  private Map<String, Object> cluster(String nameOrAlias) throws IOException {
    String name = existing(nameOrAlias);
    var layout = io.quiver.storage.collection.ShardLayout.read(StorageLayout.collections(storage).resolve(name), mapper);
    List<Object> shards = new java.util.ArrayList<>();
    for (int id : layout.local()) {
      Map<String, Object> shard = new java.util.LinkedHashMap<>();
      shard.put("shard_id", id);
      if (layout.keyOf(id) != null) {
        shard.put("shard_key", layout.keyOf(id));
      }
      shard.put("points_count", 0);
      shard.put("state", "Active");
      shards.add(shard);
    }
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put("shard_count", layout.shardIds().size());
    out.put("local_shards", shards);
    out.put("remote_shards", List.of());
    out.put("shard_transfers", List.of());
    return out;
  }

  private ObjectNode info(String nameOrAlias) throws IOException {
    String name = existing(nameOrAlias);
    ObjectNode config = configs.get(name);
    if (config == null) {
      throw new ApiException(500, "Service in recovery mode: the config of collection `" + name + "` is unreadable; it can only be deleted");
    }
    ObjectNode out = mapper.createObjectNode();
    out.put("status", "grey");
    out.put("optimizer_status", "ok");
    out.putNull("indexed_vectors_count");
    out.putNull("points_count");
    out.put("segments_count", 0);
    out.set("config", config);
    ObjectNode schema = out.putObject("payload_schema");
    payloadIndexes.get(name).fields().forEachRemaining(e -> {
      if (e.getValue() instanceof ObjectNode index) {
        schema.set(e.getKey(), index.deepCopy().put("points", 0));
      }
    });
    out.put("size_on_disk_bytes", FileSizes.sizeOf(StorageLayout.collections(storage).resolve(name)));
    return out;
  }

  private boolean delete(String name) throws IOException {
    Names.check(name);
    if (!configs.containsKey(name)) {
      return false;
    }
    Map<String, String> next = new TreeMap<>(aliases);
    if (next.values().removeIf(name::equals)) {
      StorageLayout.writeAliases(storage, next, mapper);
      aliases = next;
    }
    StorageLayout.deleteCollectionDir(StorageLayout.collections(storage).resolve(name));
    configs.remove(name);
    payloadIndexes.remove(name);
    log.warn("RECOVERY MODE: deleted collection {} and its data for good", name);
    return true;
  }

  private Object aliasList(String collection) {
    ObjectNode out = mapper.createObjectNode();
    ArrayNode list = out.putArray("aliases");
    aliases.forEach((alias, target) -> {
      if (collection == null || collection.equals(target)) {
        list.addObject().put("alias_name", alias).put("collection_name", target);
      }
    });
    return out;
  }

  private List<Map<String, Object>> telemetry() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : configs.keySet()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", name);
      m.put("points", 0L);
      if (configs.get(name) != null) {
        m.put("config", configs.get(name));
      }
      out.add(m);
    }
    return out;
  }

  @Override
  public String mode() {
    return "recovery";
  }

  @Override
  public void close() {
    worker.shutdown();
  }
}
