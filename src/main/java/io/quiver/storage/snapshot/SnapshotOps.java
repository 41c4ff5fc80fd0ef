package io.quiver.storage.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Shard;
import io.quiver.error.ApiException;
import io.quiver.request.AliasRequest;
import io.quiver.request.Names;
import io.quiver.request.SnapshotRequest;
import io.quiver.storage.collection.AtomicFiles;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.CollectionConfigs;
import io.quiver.storage.collection.ShardLayout;
import io.quiver.storage.collection.StorageLayout;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collection, shard and full-storage snapshots.
 *
 * <p>A collection snapshot is a tar archive: {@code quiver-snapshot.json} first (format, version,
 * kind, collection, WAL points), then {@code config.json}, {@code payload_index.json}, {@code
 * shards.json} (the shard layout; absent in snapshots of the one-shard layout from before) and, for
 * each shard held here, the files of one Lucene commit under {@code shards/<id>/index/} (a shard
 * snapshot: that shard's only). Each shard is consistent: it commits and hard-links the commit's
 * files while its writes are held off for that moment only, then the archive is written while
 * writes continue. It holds no paths of the node, so any node can restore it.
 *
 * <p>Recovery is atomic: the archive (downloaded, uploaded or local) is checked against the
 * checksum, unpacked into a temporary directory on the storage volume, opened once to prove it
 * whole, and only then swapped in under the collection's name. Any failure before the swap leaves
 * the existing collection untouched.
 *
 * <p>Files: collection snapshots in {@code <snapshots>/<collection>/}, shard snapshots in {@code
 * <snapshots>/<collection>/shards/<id>/}, full snapshots in {@code <snapshots>/}. Temporary work
 * happens in {@code <storage>/snapshots_temp/} (same volume as the collections, for hard links and
 * atomic renames), emptied at start. Thread-safe.
 */
public final class SnapshotOps {
  private static final Logger log = LoggerFactory.getLogger(SnapshotOps.class);
  static final String MANIFEST = "quiver-snapshot.json";
  static final String FORMAT = "quiver-snapshot";
  static final int VERSION = 1;
  private static final String SHARDS_PREFIX = "shards/";
  private static final String INDEX_DIR = "/index/";
  private static final long PROGRESS_BYTES = 256L << 20;

  private final Catalogue catalogue;
  private final ObjectMapper mapper;
  private final Path snapshots;
  private final Path temp;
  private final long peerId;
  private final Collection.ShardOpener opener;
  private final HttpClient http = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NORMAL)
      .connectTimeout(Duration.ofSeconds(30))
      .build();

  public SnapshotOps(Catalogue catalogue, ObjectMapper mapper, Path storage, Path snapshots, Collection.ShardOpener opener) throws IOException {
    this.catalogue = catalogue;
    this.mapper = mapper;
    this.snapshots = snapshots.toAbsolutePath().normalize();
    this.temp = storage.toAbsolutePath().normalize().resolve("snapshots_temp");
    this.opener = opener;
    this.peerId = readPeerId(storage);
    AtomicFiles.deleteTree(temp);
    Files.createDirectories(temp);
  }

  private static long readPeerId(Path storage) {
    try {
      return Long.parseLong(Files.readString(storage.resolve("peer_id")).trim());
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  // ---- paths ----

  Path collectionDir(String collection) {
    return snapshots.resolve(collection);
  }

  Path shardDir(Collection col, Integer shardId) {
    return collectionDir(col.name).resolve("shards").resolve(Integer.toString(shardNumber(col, shardId)));
  }

  /** A shard of the collection held on this node; 404 for any other. */
  private static int shardNumber(Collection col, Integer id) {
    if (id == null || !col.localShards().containsKey(id)) {
      throw ApiException.notFound("Shard " + id + " does not exist");
    }
    return id;
  }

  /**
   * Runs a snapshot request: lists answer the snapshots' descriptions, creation the new one's,
   * deletion and recovery a boolean, a file request {@code {"path", "name"}} of the local file.
   */
  public Object handle(SnapshotRequest req) throws IOException {
    boolean full = req.collection() == null;
    return switch (req) {
      case SnapshotRequest.ListAll l -> full ? listFull() : list(l.collection(), l.shardId());
      case SnapshotRequest.Create c -> full ? createFull() : create(c.collection(), c.shardId());
      case SnapshotRequest.Delete d -> full ? deleteFull(d.name()) : delete(d.collection(), d.shardId(), d.name());
      case SnapshotRequest.File f -> download(full ? fullFile(f.name()) : file(f.collection(), f.shardId(), f.name()));
      case SnapshotRequest.Recover r -> recover(r.collection(), r.shardId(), r.source());
    };
  }

  private static Map<String, Object> download(Path file) {
    return Map.of("path", file.toString(), "name", file.getFileName().toString());
  }

  // ---- collection and shard snapshots ----

  List<Map<String, Object>> list(String collection, Integer shardId) throws IOException {
    Collection col = catalogue.resolve(collection);
    return SnapshotFiles.list(shardId == null ? collectionDir(col.name) : shardDir(col, shardId));
  }

  Map<String, Object> create(String collection, Integer shardId) throws IOException {
    Collection col = catalogue.resolve(collection);
    Path dir = shardId == null ? collectionDir(col.name) : shardDir(col, shardId);
    Files.createDirectories(dir);
    String name = SnapshotFiles.newName(dir, col.name + "-" + (shardId == null ? "" : "shard-" + shardId + "-") + peerId);
    return write(col, dir.resolve(name), shardId);
  }

  Path file(String collection, Integer shardId, String name) {
    Collection col = catalogue.resolve(collection);
    return SnapshotFiles.existing(shardId == null ? collectionDir(col.name) : shardDir(col, shardId), name);
  }

  boolean delete(String collection, Integer shardId, String name) throws IOException {
    Collection col = catalogue.resolve(collection);
    return SnapshotFiles.delete(shardId == null ? collectionDir(col.name) : shardDir(col, shardId), name);
  }

  /** Writes a snapshot of {@code col} (of its shard {@code shardId} only, when not null) to {@code target} (via a temporary file) and its checksum sidecar. */
  private Map<String, Object> write(Collection col, Path target, Integer shardId) throws IOException {
    String kind = shardId == null ? "collection" : "shard";
    long t0 = System.nanoTime();
    Path staging = temp.resolve("snapshot-" + UUID.randomUUID());
    Path partial = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Map<Integer, Long> seqs = new java.util.TreeMap<>();
      ObjectNode[] config = new ObjectNode[1];
      byte[][] payloadIndex = new byte[1][];
      long held = System.nanoTime();
      col.use(() -> {
        synchronized (col) { // no config or payload-index change between the files and the commits
          for (var e : col.localShards().entrySet()) {
            if (shardId == null || shardId.equals(e.getKey())) {
              seqs.put(e.getKey(), e.getValue().snapshotInto(staging.resolve(Integer.toString(e.getKey()))));
            }
          }
          config[0] = col.config();
          payloadIndex[0] = Files.readAllBytes(col.dir.resolve(Collection.PAYLOAD_INDEX));
        }
        return null;
      });
      held = (System.nanoTime() - held) / 1_000_000;
      Map<Integer, List<Path>> files = new java.util.TreeMap<>();
      long total = 0;
      int count = 0;
      for (int id : seqs.keySet()) {
        try (Stream<Path> s = Files.list(staging.resolve(Integer.toString(id)))) {
          files.put(id, s.sorted().toList());
        }
        for (Path f : files.get(id)) {
          total += Files.size(f);
          count++;
        }
      }
      log.info("Creating {} snapshot {} of collection {} at WAL sequences {} ({} files, {} bytes; writes held for {} ms)",
          kind, target.getFileName(), col.name, seqs, count, total, held);
      MessageDigest digest = SnapshotFiles.sha256();
      try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16), digest)) {
        var tar = new Tar.Writer(out);
        ObjectNode manifest = mapper.createObjectNode()
            .put("format", FORMAT).put("version", VERSION).put("kind", kind)
            .put("collection", col.name).put("wal_sequence", seqs.values().stream().mapToLong(Long::longValue).max().orElse(0))
            .put("files", count).put("bytes", total);
        ObjectNode perShard = manifest.putObject("shards");
        seqs.forEach((id, seq) -> perShard.put(Integer.toString(id), seq));
        tar.add(MANIFEST, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
        tar.add(Collection.CONFIG, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(config[0]));
        tar.add(Collection.PAYLOAD_INDEX, payloadIndex[0]);
        if (shardId == null) {
          tar.add(ShardLayout.FILE, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(col.layout().toJson(mapper)));
        }
        long done = 0;
        long nextReport = PROGRESS_BYTES;
        for (var e : files.entrySet()) {
          for (Path f : e.getValue()) {
            tar.add(SHARDS_PREFIX + e.getKey() + INDEX_DIR + f.getFileName(), f);
            done += Files.size(f);
            if (done >= nextReport) {
              log.info("Snapshot {}: {} of {} MiB written", target.getFileName(), done >> 20, total >> 20);
              nextReport = done + PROGRESS_BYTES;
            }
          }
        }
        tar.finish();
      }
      try (var ch = java.nio.channels.FileChannel.open(partial, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      String checksum = SnapshotFiles.hex(digest);
      AtomicFiles.write(SnapshotFiles.checksumFile(target), checksum.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.syncDir(target.getParent());
      log.info("Created snapshot {} ({} bytes) in {} ms", target.getFileName(), Files.size(target), (System.nanoTime() - t0) / 1_000_000);
      return SnapshotFiles.describe(target);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    } finally {
      AtomicFiles.deleteTree(staging);
    }
  }

  // ---- recovery ----

  /**
   * Recovers {@code collection} (created if missing) from a collection snapshot; with {@code
   * shardId}, recovers the existing collection's shard, keeping its config.
   */
  boolean recover(String collection, Integer shardId, SnapshotRequest.Source source) throws IOException {
    Names.check(collection);
    priority(source.priority());
    Collection existing = null;
    if (shardId != null) {
      existing = catalogue.resolve(collection);
      shardNumber(existing, shardId);
      if (!existing.singleShard()) {
        throw ApiException.badRequest("recovering a shard snapshot into a collection of several shards is not supported by this"
            + " server yet: recover a collection snapshot");
      }
      collection = existing.name;
    }
    Path downloaded = null;
    Path work = temp.resolve("recover-" + UUID.randomUUID());
    try {
      Path file;
      if (source.uploadedFile() != null) {
        file = Path.of(source.uploadedFile());
      } else {
        Fetched f = fetch(source.location(), shardId == null ? null : shardDir(existing, shardId), source.apiKey());
        file = f.path();
        downloaded = f.temporary() ? f.path() : null;
      }
      if (source.checksum() != null) {
        String actual = SnapshotFiles.sha256Of(file);
        if (!actual.equalsIgnoreCase(source.checksum().trim())) {
          throw ApiException.wrongInput("Snapshot checksum mismatch: expected " + source.checksum() + ", got " + actual);
        }
      }
      long t0 = System.nanoTime();
      log.info("Recovering collection {} from snapshot {} ({} bytes)", collection, file.getFileName(), Files.size(file));
      ObjectNode config = unpack(file, work);
      if (existing != null) {
        requireCompatible(existing.config(), config);
        AtomicFiles.write(work.resolve(Collection.CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(existing.config()));
        config = existing.config();
        // a shard snapshot of the one shard: it becomes shard `shardId` of the existing layout
        Path only = onlyShard(work);
        Path into = ShardLayout.shardDir(work, shardId);
        if (only != null && !only.equals(into)) {
          Files.move(only, into);
        }
        existing.layout().write(work, mapper);
      }
      ShardLayout layout = ShardLayout.read(work, mapper);
      for (int id : layout.local()) {
        if (!Files.isDirectory(ShardLayout.shardDir(work, id).resolve("index"))) {
          throw invalid("it has no index for shard " + id);
        }
      }
      CollectionSchema schema;
      try {
        schema = CollectionConfigs.schema(config, Collection.readPayloadSchema(work, mapper));
      } catch (RuntimeException e) {
        throw invalid("its configuration is not valid: " + e.getMessage());
      }
      for (int id : layout.local()) {
        Shard.rebaseOnEmptyWal(ShardLayout.shardDir(work, id), schema);
      }
      try (Collection probe = Collection.open(collection, work, mapper, opener)) {
        long points = 0;
        for (Shard shard : probe.localShards().values()) {
          points += shard.read(Shard.Reader::numDocs);
        }
        log.info("Snapshot for collection {} unpacked and verified: {} points in {} shard(s)", collection, points, layout.shardIds().size());
      } catch (IOException | RuntimeException e) {
        if (e instanceof ApiException a) {
          throw a;
        }
        throw invalid("its index cannot be opened: " + e);
      }
      catalogue.replace(collection, work, temp.resolve("replaced-" + UUID.randomUUID()), opener);
      log.info("Recovered collection {} from snapshot {} in {} ms", collection, file.getFileName(), (System.nanoTime() - t0) / 1_000_000);
      return true;
    } finally {
      AtomicFiles.deleteTree(work);
      if (downloaded != null) {
        Files.deleteIfExists(downloaded);
      }
    }
  }

  private static void priority(String p) {
    if (p != null && !List.of("no_sync", "snapshot", "replica").contains(p)) {
      throw ApiException.formatError("priority: unknown variant `" + p + "`, expected one of `no_sync`, `snapshot`, `replica`");
    }
  }

  private void requireCompatible(ObjectNode current, ObjectNode snapshot) {
    JsonNode a = current.path("params");
    JsonNode b = snapshot.path("params");
    if (!a.path("vectors").equals(b.path("vectors")) || !a.path("sparse_vectors").equals(b.path("sparse_vectors"))) {
      throw ApiException.wrongInput("Snapshot is not compatible with existing collection: Collection vectors: "
          + a.path("vectors") + " Snapshot Vectors: " + b.path("vectors"));
    }
  }

  private static ApiException invalid(String why) {
    return ApiException.wrongInput("Snapshot is not a valid Quiver snapshot: " + why);
  }

  /**
   * Unpacks a Quiver snapshot into {@code work}, checking every entry, and returns its config.
   * Anything else (Qdrant's own snapshot format included) is refused with a clear message.
   */
  private ObjectNode unpack(Path file, Path work) throws IOException {
    Files.createDirectories(work);
    Map<String, Boolean> seen = new LinkedHashMap<>();
    ObjectNode[] manifest = new ObjectNode[1];
    try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      Tar.read(in, (name, size, body) -> {
        if (manifest[0] == null) {
          if (!name.equals(MANIFEST)) {
            throw invalid("it has no " + MANIFEST + " (snapshots taken by Qdrant itself, whose archives hold segment"
                + " directories, cannot be read by Quiver; only snapshots taken by Quiver can be recovered)");
          }
          if (size > (1 << 20)) {
            throw invalid("its manifest is too large");
          }
          manifest[0] = readObject(body.readAllBytes(), MANIFEST);
          checkManifest(manifest[0], "collection", "shard");
          return;
        }
        if (seen.put(name, true) != null) {
          throw invalid("entry " + name + " appears twice");
        }
        Path target;
        Integer shard = indexShard(name);
        if (name.equals(Collection.CONFIG) || name.equals(Collection.PAYLOAD_INDEX) || name.equals(ShardLayout.FILE)) {
          target = work.resolve(name);
        } else if (shard != null) {
          target = work.resolve(name);
          Files.createDirectories(target.getParent());
        } else {
          throw invalid("unexpected entry " + name);
        }
        Files.copy(body, target);
      });
    } catch (Tar.InvalidArchive e) {
      throw invalid("it is not a tar archive this node can read (" + e.getMessage() + ")");
    }
    if (manifest[0] == null || !seen.containsKey(Collection.CONFIG)) {
      throw invalid("it has no " + (manifest[0] == null ? MANIFEST : Collection.CONFIG));
    }
    if (!seen.containsKey(Collection.PAYLOAD_INDEX)) {
      AtomicFiles.write(work.resolve(Collection.PAYLOAD_INDEX), "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    return readObject(Files.readAllBytes(work.resolve(Collection.CONFIG)), Collection.CONFIG);
  }

  /** The shard of an index file entry {@code shards/<id>/index/<file>}, or null when it is not one. */
  private static Integer indexShard(String name) {
    if (!name.startsWith(SHARDS_PREFIX)) {
      return null;
    }
    int slash = name.indexOf('/', SHARDS_PREFIX.length());
    if (slash < 0 || !name.startsWith(INDEX_DIR, slash) || name.length() == slash + INDEX_DIR.length()
        || name.indexOf('/', slash + INDEX_DIR.length()) >= 0) {
      return null;
    }
    try {
      int id = Integer.parseInt(name.substring(SHARDS_PREFIX.length(), slash));
      return id >= 0 && Integer.toString(id).equals(name.substring(SHARDS_PREFIX.length(), slash)) ? id : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The one shard directory of an unpacked shard snapshot, or null when there are several or none. */
  private static Path onlyShard(Path work) throws IOException {
    Path shards = work.resolve("shards");
    if (!Files.isDirectory(shards)) {
      return null;
    }
    try (Stream<Path> s = Files.list(shards)) {
      List<Path> all = s.toList();
      return all.size() == 1 ? all.get(0) : null;
    }
  }

  private ObjectNode readObject(byte[] bytes, String what) {
    try {
      if (mapper.readTree(bytes) instanceof ObjectNode o) {
        return o;
      }
    } catch (IOException e) {
      // falls through
    }
    throw invalid(what + " is not a JSON object");
  }

  /** Refuses a manifest of another format, version, or of a kind other than {@code kinds}. */
  private static void checkManifest(ObjectNode m, String... kinds) {
    if (!FORMAT.equals(m.path("format").asText())) {
      throw invalid("unknown format " + m.path("format"));
    }
    if (m.path("version").asInt(-1) != VERSION) {
      throw invalid("format version " + m.path("version") + " is not supported (this node reads version " + VERSION + ")");
    }
    String kind = m.path("kind").asText();
    if (!List.of(kinds).contains(kind)) {
      throw invalid("it is a " + kind + " snapshot, not a " + String.join(" or ", kinds) + " snapshot");
    }
  }

  private record Fetched(Path path, boolean temporary) {}

  /**
   * Resolves a snapshot location as Qdrant does: {@code file://} URIs (absolute, or on localhost),
   * {@code http(s)://} URLs (downloaded to a temporary file), and for shards a bare file name in the
   * shard's snapshot directory.
   */
  private Fetched fetch(String location, Path shardSnapshots, String apiKey) throws IOException {
    if (location == null) {
      throw ApiException.formatError("missing field `location`");
    }
    URI uri = null;
    try {
      uri = new URI(location);
    } catch (URISyntaxException e) {
      // not a URL
    }
    if (uri == null || uri.getScheme() == null) {
      if (shardSnapshots != null) {
        Path p = SnapshotFiles.resolveSafe(shardSnapshots, location);
        if (p == null || !Files.isRegularFile(p)) {
          throw ApiException.badRequest("Snapshot file \"" + location + "\" does not exist");
        }
        return new Fetched(p, false);
      }
      throw ApiException.formatError("location: relative URL without a base");
    }
    switch (uri.getScheme().toLowerCase(java.util.Locale.ROOT)) {
      case "file" -> {
        String host = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
        if ((host != null && !host.isEmpty() && !host.equals("localhost")) || uri.getPath() == null || !uri.getPath().startsWith("/")) {
          throw ApiException.badRequest("Invalid snapshot URI, file path must be absolute or on localhost");
        }
        Path p = Path.of(uri.getPath());
        if (!Files.exists(p)) {
          throw ApiException.badRequest("Snapshot file \"" + uri.getPath() + "\" does not exist");
        }
        if (!Files.isRegularFile(p)) {
          throw ApiException.badRequest("Snapshot file \"" + uri.getPath() + "\" is not a file");
        }
        return new Fetched(p, false);
      }
      case "http", "https" -> {
        return new Fetched(download(uri, apiKey), true);
      }
      default -> throw ApiException.badRequest("URL " + location + " with schema " + uri.getScheme() + " is not supported");
    }
  }

  private Path download(URI uri, String apiKey) throws IOException {
    Path target = temp.resolve("download-" + UUID.randomUUID() + ".snapshot");
    var request = HttpRequest.newBuilder(uri).GET().timeout(Duration.ofHours(6));
    if (apiKey != null) {
      request.header("api-key", apiKey);
    }
    log.info("Downloading snapshot from {}", uri);
    HttpResponse<Path> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofFile(target));
    } catch (IOException e) {
      Files.deleteIfExists(target);
      throw ApiException.wrongInput("Failed to download snapshot from " + uri + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      Files.deleteIfExists(target);
      throw ApiException.unavailable("Service unavailable: interrupted while downloading the snapshot");
    }
    if (response.statusCode() / 100 != 2) {
      Files.deleteIfExists(target);
      throw ApiException.wrongInput("Failed to download snapshot from " + uri + ": status - " + response.statusCode());
    }
    return target;
  }

  // ---- full snapshots ----

  List<Map<String, Object>> listFull() throws IOException {
    return SnapshotFiles.list(snapshots);
  }

  Path fullFile(String name) {
    return SnapshotFiles.existing(snapshots, name);
  }

  boolean deleteFull(String name) throws IOException {
    return SnapshotFiles.delete(snapshots, name);
  }

  /**
   * A snapshot of every collection (each a collection snapshot inside, under {@code
   * collections/<name>.snapshot}) with the aliases. As Qdrant's, restored at start-up ({@code
   * --storage-snapshot}, {@link #restoreFull}), not through the API; its collection snapshots can
   * also be recovered one by one.
   */
  Map<String, Object> createFull() throws IOException {
    Files.createDirectories(snapshots);
    String name = SnapshotFiles.newName(snapshots, "full-snapshot-" + peerId);
    Path target = snapshots.resolve(name);
    Path partial = snapshots.resolve(name + ".tmp");
    Path staging = temp.resolve("full-" + UUID.randomUUID());
    Files.createDirectories(staging);
    try {
      List<String> names = new ArrayList<>();
      for (String c : catalogue.names()) {
        Collection col;
        try {
          col = catalogue.resolve(c);
        } catch (ApiException gone) {
          continue;
        }
        try {
          write(col, staging.resolve(c + SnapshotFiles.SUFFIX), null);
        } catch (ApiException deleted) {
          if (deleted.status() != 404) {
            throw deleted;
          }
          continue; // deleted meanwhile
        }
        names.add(c);
      }
      MessageDigest digest = SnapshotFiles.sha256();
      try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16), digest)) {
        var tar = new Tar.Writer(out);
        ObjectNode manifest = mapper.createObjectNode().put("format", FORMAT).put("version", VERSION).put("kind", "full");
        names.forEach(manifest.putArray("collections")::add);
        ObjectNode aliases = manifest.putObject("aliases");
        catalogue.aliases().forEach(aliases::put);
        tar.add(MANIFEST, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest));
        for (String c : names) {
          tar.add("collections/" + c + SnapshotFiles.SUFFIX, staging.resolve(c + SnapshotFiles.SUFFIX));
        }
        tar.finish();
      }
      AtomicFiles.write(SnapshotFiles.checksumFile(target), SnapshotFiles.hex(digest).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      AtomicFiles.syncDir(snapshots);
      log.info("Created full snapshot {} of {} collection(s)", name, names.size());
      return SnapshotFiles.describe(target);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    } finally {
      AtomicFiles.deleteTree(staging);
    }
  }

  /**
   * Restores a full snapshot into this storage, before the node serves: each collection in it is
   * recovered as from its collection snapshot (all or nothing per collection), then its aliases are
   * set. A collection that exists already is kept, and named in the log, unless {@code force}.
   *
   * @return the names of the collections restored
   */
  public List<String> restoreFull(Path file, boolean force) throws IOException {
    Path work = temp.resolve("restore-" + UUID.randomUUID());
    Files.createDirectories(work);
    try {
      ObjectNode[] manifest = new ObjectNode[1];
      Set<String> unpacked = new LinkedHashSet<>();
      try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
        Tar.read(in, (name, size, body) -> {
          if (manifest[0] == null) {
            if (!name.equals(MANIFEST) || size > (1 << 20)) {
              throw invalid("it has no " + MANIFEST + "; only full snapshots taken by Quiver can be restored");
            }
            manifest[0] = readObject(body.readAllBytes(), MANIFEST);
            checkManifest(manifest[0], "full");
            return;
          }
          String prefix = "collections/";
          if (!name.startsWith(prefix) || !name.endsWith(SnapshotFiles.SUFFIX)) {
            throw invalid("unexpected entry " + name);
          }
          String collection = name.substring(prefix.length(), name.length() - SnapshotFiles.SUFFIX.length());
          Names.check(collection);
          if (!unpacked.add(collection)) {
            throw invalid("entry " + name + " appears twice");
          }
          Files.copy(body, work.resolve(collection + SnapshotFiles.SUFFIX));
        });
      } catch (Tar.InvalidArchive e) {
        throw invalid(e.getMessage());
      }
      if (manifest[0] == null) {
        throw invalid("it is empty");
      }
      List<String> restored = new ArrayList<>();
      for (String collection : unpacked) {
        if (catalogue.exists(collection) && !force) {
          log.warn("Full snapshot {}: collection {} exists already and is kept (--force-snapshot replaces it)",
              file.getFileName(), collection);
          continue;
        }
        recover(collection, null, new SnapshotRequest.Source(null, work.resolve(collection + SnapshotFiles.SUFFIX).toString(), null, null, null));
        restored.add(collection);
      }
      List<AliasRequest.Action> actions = new ArrayList<>();
      Map<String, String> current = catalogue.aliases();
      manifest[0].path("aliases").properties().forEach(e -> {
        String alias = e.getKey();
        String target = e.getValue().asText();
        boolean free = !current.containsKey(alias) || force;
        if (free && restored.contains(target) && !catalogue.exists(alias)) {
          if (current.containsKey(alias)) {
            actions.add(new AliasRequest.Delete(alias));
          }
          actions.add(new AliasRequest.Create(target, alias));
        }
      });
      if (!actions.isEmpty()) {
        catalogue.updateAliases(actions);
      }
      log.info("Restored full snapshot {}: {} collection(s) {}, {} alias action(s)", file.getFileName(), restored.size(), restored,
          actions.size());
      return restored;
    } finally {
      AtomicFiles.deleteTree(work);
    }
  }
}
