package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A collection on disk: {@code <dir>/config.json} (the whole config), {@code
 * <dir>/payload_index.json} (payload indexes), {@code <dir>/shards.json} (its {@link ShardLayout})
 * and one directory per local shard, {@code <dir>/shards/<id>}. The JSON files are what recovery
 * mode reads; they are written atomically.
 *
 * <p>A point lives in the shard its {@link #router} names. The coordinator code (point writes and
 * reads, queries) reaches the shards through their {@link ShardEndpoint}s, never directly; the node's
 * own chores (schema changes, payload indexes, snapshots, strict-mode sizes) work on the {@link
 * #localShards} it holds.
 *
 * <p>Thread-safety: operations run under a {@link #lease}; dropping waits for the leases taken, so
 * a collection is never deleted under a running operation. A lease may be released by another
 * thread than the one that took it (asynchronous operations).
 */
public final class Collection implements Closeable {
  public static final String CONFIG = StorageLayout.CONFIG;
  public static final String PAYLOAD_INDEX = StorageLayout.PAYLOAD_INDEX;
  /** Present while the collection is being opened: a crash during load leaves it behind. */
  static final String LOADING_MARK = StorageLayout.LOADING_MARK;

  public final String name;
  public final Path dir;
  public final ShardLayout layout;
  public final ShardRouter router;
  private final Map<Integer, Shard> local;
  private final Map<Integer, ShardEndpoint> endpoints;
  private final ObjectMapper mapper;
  private final Object leases = new Object();
  private int inFlight;
  private volatile ObjectNode config;
  private volatile CollectionSchema schema;
  private volatile boolean dropped;

  private Collection(String name, Path dir, ObjectNode config, CollectionSchema schema, ShardLayout layout, Map<Integer, Shard> local,
      ObjectMapper mapper, ShardOpener opener) {
    this.name = name;
    this.dir = dir;
    this.config = config;
    this.schema = schema;
    this.layout = layout;
    this.router = ShardRouter.of(layout.shardIds());
    this.local = Collections.unmodifiableMap(new TreeMap<>(local));
    this.mapper = mapper;
    Map<Integer, ShardEndpoint> e = new TreeMap<>();
    this.local.forEach((id, shard) -> e.put(id, opener.endpoint(this, id, shard)));
    for (int id : layout.shardIds()) {
      if (!this.local.containsKey(id)) {
        ShardEndpoint remote = opener.remote(this, id);
        if (remote != null) {
          e.put(id, remote);
        }
      }
    }
    this.endpoints = Collections.unmodifiableMap(e);
  }

  /** Opens the engine shards of a collection and makes the endpoints through which its coordinator reaches them. */
  public interface ShardOpener {
    Shard open(Path dir, CollectionSchema schema) throws IOException;

    /** The endpoint of a local shard of {@code collection}. */
    ShardEndpoint endpoint(Collection collection, int id, Shard shard);

    /** The endpoint of a shard of {@code collection} held by another node, or null when there are no others (a single node). */
    default ShardEndpoint remote(Collection collection, int id) {
      return null;
    }
  }

  /** Writes the config files of a new collection ({@link ShardLayout#forNew its layout} from the config), then opens all its shards. */
  public static Collection create(String name, Path dir, ObjectNode config, ObjectMapper mapper, ShardOpener opener) throws IOException {
    return create(name, dir, config, ShardLayout.forNew(config), null, mapper, opener);
  }

  /**
   * Writes the config files of a new collection, then opens it.
   *
   * @param localIds the shards this node holds (null: all of them)
   */
  public static Collection create(String name, Path dir, ObjectNode config, ShardLayout layout, Set<Integer> localIds,
      ObjectMapper mapper, ShardOpener opener) throws IOException {
    Files.createDirectories(dir);
    AtomicFiles.write(dir.resolve(PAYLOAD_INDEX), mapper.writeValueAsBytes(mapper.createObjectNode()));
    if (localIds != null) {
      layout = layout.withLocal(localIds);
    }
    layout.write(dir, mapper);
    AtomicFiles.write(dir.resolve(CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
    return open(name, dir, localIds, mapper, opener);
  }

  /** Opens an existing collection with all its shards. */
  public static Collection open(String name, Path dir, ObjectMapper mapper, ShardOpener opener) throws IOException {
    return open(name, dir, null, mapper, opener);
  }

  /**
   * Opens an existing collection, marking it as loading on disk until its shards are open.
   *
   * @param localIds the shards this node holds (null: every shard of its layout)
   */
  public static Collection open(String name, Path dir, Set<Integer> localIds, ObjectMapper mapper, ShardOpener opener)
      throws IOException {
    ObjectNode config = StorageLayout.readConfig(dir, mapper);
    PayloadSchema payload = readPayloadSchema(dir, mapper);
    ShardLayout layout = ShardLayout.read(dir, mapper);
    List<Integer> ids = localIds == null ? layout.local() : layout.shardIds().stream().filter(localIds::contains).toList();
    if (localIds != null && !layout.shardIds().containsAll(localIds)) {
      throw new IllegalArgumentException("collection " + name + " has no shards " + localIds + " (its shards: " + layout.shardIds() + ")");
    }
    Path mark = dir.resolve(LOADING_MARK);
    try {
      Files.writeString(mark, Long.toString(System.currentTimeMillis()));
    } catch (IOException e) {
      if (!io.quiver.engine.NoSpace.causedBy(e)) {
        throw e;
      }
      // The mark only helps to diagnose a load that kills the process; a full disk must not stop the load.
      Files.deleteIfExists(mark);
    }
    CollectionSchema schema = CollectionConfigs.schema(config, payload);
    Map<Integer, Shard> shards = new LinkedHashMap<>();
    try {
      for (int id : ids) {
        shards.put(id, opener.open(ShardLayout.shardDir(dir, id), schema));
      }
    } catch (IOException | RuntimeException e) {
      for (Shard s : shards.values()) {
        try {
          s.close();
        } catch (IOException | RuntimeException closing) {
          e.addSuppressed(closing);
        }
      }
      throw e;
    }
    Files.deleteIfExists(mark);
    return new Collection(name, dir, config, schema, layout, shards, mapper, opener);
  }

  public static PayloadSchema readPayloadSchema(Path dir, ObjectMapper mapper) throws IOException {
    return PayloadSchema.fromJson(StorageLayout.readPayloadIndex(dir, mapper));
  }

  public ObjectNode config() {
    return config;
  }

  public CollectionSchema schema() {
    return schema;
  }

  /** The shards this node holds, by id (ascending). */
  public Map<Integer, Shard> localShards() {
    return local;
  }

  /** The endpoints of the collection's shards, by id (ascending). */
  public Map<Integer, ShardEndpoint> endpoints() {
    return endpoints;
  }

  /** The endpoint of the shard that holds {@code id}. */
  public ShardEndpoint endpointOf(PointId id) {
    ShardEndpoint e = endpoints.get(router.shardOf(id));
    if (e == null) {
      throw ApiException.unavailable("Service unavailable: shard " + router.shardOf(id) + " of collection " + name + " is not reachable");
    }
    return e;
  }

  /** Whether the collection is one shard, held here: the whole of a query can run on it. */
  public boolean singleShard() {
    return layout.shardIds().size() == 1 && endpoints.size() == 1;
  }

  /** Persists and applies a new config (atomic file write first, so a crash keeps either version). */
  public void updateConfig(ObjectNode next) throws IOException {
    AtomicFiles.write(dir.resolve(CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next));
    config = next;
    setSchema(CollectionConfigs.schema(next, schema.payload()));
  }

  public void updatePayloadSchema(PayloadSchema next) throws IOException {
    AtomicFiles.write(dir.resolve(PAYLOAD_INDEX), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next.toJson()));
    setSchema(schema.withPayload(next));
  }

  private void setSchema(CollectionSchema next) {
    schema = next;
    local.values().forEach(s -> s.setSchema(next));
  }

  /** Runs {@code op} unless the collection is being or has been dropped. */
  public <T> T use(IoSupplier<T> op) throws IOException {
    try (Lease ignored = lease()) {
      return op.get();
    }
  }

  /** A hold on the collection: it is not dropped until every lease is closed. Close exactly once, from any thread. */
  public interface Lease extends AutoCloseable {
    @Override
    void close();
  }

  /** Takes a lease; 404 when the collection is being or has been dropped. */
  public Lease lease() {
    synchronized (leases) {
      if (dropped) {
        throw ApiException.collectionNotFound(name);
      }
      inFlight++;
    }
    return new Lease() {
      private boolean closed;

      @Override
      public void close() {
        synchronized (leases) {
          if (!closed) {
            closed = true;
            inFlight--;
            leases.notifyAll();
          }
        }
      }
    };
  }

  @FunctionalInterface
  public interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** Marks the collection dropped and waits for the leases taken before. Returns false if it was already. */
  private boolean retire() {
    synchronized (leases) {
      if (dropped) {
        return false;
      }
      dropped = true;
      boolean interrupted = false;
      while (inFlight > 0) {
        try {
          leases.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      return true;
    }
  }

  /** Waits for running operations, closes the shards without committing and deletes the directory. */
  public void drop() throws IOException {
    if (retire()) {
      IOException failure = null;
      for (Shard s : local.values()) {
        try {
          s.abandon();
        } catch (IOException e) {
          failure = failure == null ? e : failure;
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
    StorageLayout.deleteCollectionDir(dir);
  }

  @Override
  public void close() throws IOException {
    if (retire()) {
      List<Exception> failures = new ArrayList<>();
      for (Shard s : local.values()) {
        try {
          s.close();
        } catch (IOException | RuntimeException e) {
          failures.add(e);
        }
      }
      if (!failures.isEmpty()) {
        IOException e = new IOException("closing collection " + name + " failed", failures.get(0));
        failures.stream().skip(1).forEach(e::addSuppressed);
        throw e;
      }
    }
  }
}
