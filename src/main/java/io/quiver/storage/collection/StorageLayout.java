package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The storage directory's layout, shared by the full engine and recovery mode:
 *
 * <pre>
 * &lt;storage&gt;/peer_id                               the node's id
 * &lt;storage&gt;/aliases.json                          {"alias": "collection"}
 * &lt;storage&gt;/collections/&lt;name&gt;/config.json         whole collection config (atomic writes)
 * &lt;storage&gt;/collections/&lt;name&gt;/payload_index.json  {"field": {"data_type": ..., "params": ...}}
 * &lt;storage&gt;/collections/&lt;name&gt;/.loading            present while the collection is being opened
 * &lt;storage&gt;/collections/&lt;name&gt;/shards/0/wal/       write-ahead log segments
 * &lt;storage&gt;/collections/&lt;name&gt;/shards/0/index/     Lucene index
 * </pre>
 */
public final class StorageLayout {
  public static final String CONFIG = "config.json";
  public static final String PAYLOAD_INDEX = "payload_index.json";
  public static final String LOADING_MARK = ".loading";

  private StorageLayout() {}

  public static Path collections(Path storage) {
    return storage.resolve("collections");
  }

  public static Path aliases(Path storage) {
    return storage.resolve("aliases.json");
  }

  /** Names of the collection directories that hold a config, sorted. */
  public static List<String> collectionNames(Path storage) throws IOException {
    Path root = collections(storage);
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(p -> Files.isRegularFile(p.resolve(CONFIG))).map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Collections whose loading mark was left behind: the process died while opening them. */
  public static List<String> interruptedLoads(Path storage) throws IOException {
    return collectionNames(storage).stream().filter(n -> Files.exists(collections(storage).resolve(n).resolve(LOADING_MARK))).toList();
  }

  public static Map<String, String> readAliases(Path storage, ObjectMapper mapper) throws IOException {
    Map<String, String> out = new TreeMap<>();
    Path file = aliases(storage);
    if (Files.exists(file)) {
      mapper.readTree(file.toFile()).fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return out;
  }

  public static void writeAliases(Path storage, Map<String, String> aliases, ObjectMapper mapper) throws IOException {
    ObjectNode json = mapper.createObjectNode();
    aliases.forEach(json::put);
    AtomicFiles.write(aliases(storage), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
  }

  public static ObjectNode readConfig(Path collectionDir, ObjectMapper mapper) throws IOException {
    return (ObjectNode) mapper.readTree(collectionDir.resolve(CONFIG).toFile());
  }

  /** The payload index file as stored, or an empty object. */
  public static ObjectNode readPayloadIndex(Path collectionDir, ObjectMapper mapper) throws IOException {
    Path file = collectionDir.resolve(PAYLOAD_INDEX);
    return Files.exists(file) ? (ObjectNode) mapper.readTree(file.toFile()) : mapper.createObjectNode();
  }

  /** Deletes a collection's directory for good: renamed aside first, so a crash never leaves half a collection. */
  public static void deleteCollectionDir(Path collectionDir) throws IOException {
    if (!Files.exists(collectionDir)) {
      return;
    }
    Path trash = collectionDir.resolveSibling("." + collectionDir.getFileName() + ".deleted-" + System.nanoTime());
    Files.move(collectionDir, trash, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    AtomicFiles.syncDir(collectionDir.getParent());
    AtomicFiles.deleteTree(trash);
  }
}
