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
 * <p>Under custom sharding the set of shards changes at run time ({@link #addShards}, {@link
 * #dropShards}): the layout, the local shards and the endpoints are replaced at once, so an
 * operation sees either the old set or the new one; shards dropped are closed and deleted once
 * the operations that may still use them (the leases taken before) are done. An operation on some
 * shard keys only works on a {@link #view} of the collection restricted to them.
 *
 * <p>In a cluster the shards held here change too, whatever the sharding ({@link #addLocalShard},
 * {@link #dropLocalShard}): a shard held here is reached through its local endpoint, one given up
 * through its remote one from then on. A collection may hold none of its shards.
 *
 * <p>Thread-safety: operations run under a {@link #lease}; dropping waits for the leases taken, so
 * a collection is never deleted under a running operation. A lease may be released by another
 * thread than the one that took it (asynchronous operations). Shard changes are serialised with
 * the collection's other metadata changes (they hold its monitor).
 */
public final class Collection implements Closeable {
  public static final String CONFIG = StorageLayout.CONFIG;
  public static final String PAYLOAD_INDEX = StorageLayout.PAYLOAD_INDEX;
  /** Present while the collection is being opened: a crash during load leaves it behind. */
  static final String LOADING_MARK = StorageLayout.LOADING_MARK;

  public final String name;
  public final Path dir;
  /** The collection itself, or for a {@link #view} the collection it shows part of. */
  private final Collection root;
  private final ObjectMapper mapper;
  private final ShardOpener opener;
  private final Object leases = new Object();
  /** Leases taken and not yet closed, by the epoch they were taken in (see {@link #awaitEarlierLeases}). */
  private final Map<Long, Integer> leasesByEpoch = new java.util.HashMap<>();
  private long epoch;
  private int inFlight;
  private volatile Parts parts;
  private volatile ObjectNode config;
  private volatile CollectionSchema schema;
  private volatile boolean dropped;
  /** Shards given up by {@link #dropLocalShard} whose engine shard is not closed and deleted yet; guarded by this. */
  private final Set<Integer> retiring = new java.util.HashSet<>();

  /**
   * The shards as one consistent set: the layout, the shards held here, the endpoints of all of them
   * (a shard of a key answers its hits with the key), the router of automatic sharding and one per
   * shard key (over that key's shards), and the keys a view is restricted to (null: all).
   */
  private record Parts(ShardLayout layout, Map<Integer, Shard> local, Map<Integer, ShardEndpoint> endpoints, ShardRouter router,
      Map<Object, ShardRouter> keyRouters) {
    static Parts of(ShardLayout layout, Map<Integer, Shard> local, Map<Integer, ShardEndpoint> endpoints) {
      Map<Object, ShardRouter> byKey = new java.util.LinkedHashMap<>();
      for (Object key : layout.shardKeys()) {
        byKey.put(key, ShardRouter.of(layout.shardsOf(key)));
      }
      ShardRouter router = layout.custom() || layout.shardIds().isEmpty() ? null : ShardRouter.of(layout.shardIds());
      return new Parts(layout, Collections.unmodifiableMap(new TreeMap<>(local)), Collections.unmodifiableMap(new TreeMap<>(endpoints)),
          router, Collections.unmodifiableMap(byKey));
    }

    /** The same parts restricted to the shards of {@code keys}. */
    Parts only(List<Object> keys) {
      Set<Integer> ids = new java.util.TreeSet<>();
      keys.forEach(k -> ids.addAll(layout.shardsOf(k)));
      Map<Integer, Object> k = new TreeMap<>(layout.keys());
      k.keySet().retainAll(ids);
      List<Integer> mine = layout.localIds() == null ? null : layout.localIds().stream().filter(ids::contains).toList();
      ShardLayout restricted = new ShardLayout(layout.method(), List.copyOf(ids), mine, k, layout.nextId());
      Map<Integer, Shard> l = new TreeMap<>(local);
      l.keySet().retainAll(ids);
      Map<Integer, ShardEndpoint> e = new TreeMap<>(endpoints);
      e.keySet().retainAll(ids);
      return of(restricted, l, e);
    }
  }

  private Collection(String name, Path dir, ObjectNode config, CollectionSchema schema, ShardLayout layout, Map<Integer, Shard> local,
      ObjectMapper mapper, ShardOpener opener) {
    this.name = name;
    this.dir = dir;
    this.root = this;
    this.config = config;
    this.schema = schema;
    this.mapper = mapper;
    this.opener = opener;
    this.parts = Parts.of(layout, local, endpoints(layout, local, layout.shardIds()));
  }

  /** A view of {@code root} showing only {@code parts}. */
  private Collection(Collection root, Parts parts) {
    this.name = root.name;
    this.dir = root.dir;
    this.root = root;
    this.mapper = root.mapper;
    this.opener = root.opener;
    this.parts = parts;
  }

  /** The endpoints of shards {@code ids} of the layout: local ones from {@code local}, the others remote (when there are others). */
  private Map<Integer, ShardEndpoint> endpoints(ShardLayout layout, Map<Integer, Shard> local, List<Integer> ids) {
    Map<Integer, ShardEndpoint> e = new TreeMap<>();
    for (int id : ids) {
      Shard shard = local.get(id);
      ShardEndpoint endpoint = shard != null ? opener.endpoint(this, id, shard) : opener.remote(this, id);
      if (endpoint != null) {
        Object key = layout.keyOf(id);
        e.put(id, key == null ? endpoint : new KeyedEndpoint(endpoint, key));
      }
    }
    return e;
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
    return root.config;
  }

  public CollectionSchema schema() {
    return root.schema;
  }

  /** The collection's shards (of a view: those it shows). */
  public ShardLayout layout() {
    return parts.layout();
  }

  /** Whether this is the whole collection rather than a {@link #view} of some of its shard keys. */
  public boolean whole() {
    return root == this;
  }

  /** The shards this node holds, by id (ascending). */
  public Map<Integer, Shard> localShards() {
    return parts.local();
  }

  /** The endpoints of the collection's shards, by id (ascending). */
  public Map<Integer, ShardEndpoint> endpoints() {
    return parts.endpoints();
  }

  /**
   * The router of the collection's points: automatic sharding's over all shards, or under custom
   * sharding that of the one key a view shows; 400 (Qdrant's wording) when there is none.
   */
  public ShardRouter router() {
    Parts p = parts;
    if (p.router() != null) {
      return p.router();
    }
    if (p.keyRouters().size() == 1) {
      return p.keyRouters().values().iterator().next();
    }
    throw ApiException.wrongInput("No shards found for shard key");
  }

  /** The shard that holds {@code id} under automatic sharding, or in the one key a view shows. */
  public ShardEndpoint endpointOf(PointId id) {
    return endpointsOf(id).get(0);
  }

  /**
   * The shards that may hold {@code id}: the one automatic sharding routes it to, or under custom
   * sharding the one of each key shown (the same id may be a point of several keys). Empty when
   * the collection has no shards yet.
   */
  public List<ShardEndpoint> endpointsOf(PointId id) {
    Parts p = parts;
    List<ShardRouter> routers = p.router() != null ? List.of(p.router()) : List.copyOf(p.keyRouters().values());
    if (routers.isEmpty()) {
      throw ApiException.wrongInput("No shards found for shard key");
    }
    List<ShardEndpoint> out = new ArrayList<>(routers.size());
    for (ShardRouter r : routers) {
      int shard = r.shardOf(id);
      ShardEndpoint e = p.endpoints().get(shard);
      if (e == null) {
        throw ApiException.unavailable("Service unavailable: shard " + shard + " of collection " + name + " is not reachable");
      }
      out.add(e);
    }
    return out;
  }

  /** Whether the collection is one shard, held here: the whole of a query can run on it. */
  public boolean singleShard() {
    Parts p = parts;
    return p.layout().shardIds().size() == 1 && p.endpoints().size() == 1;
  }

  /**
   * The collection restricted to the shards of {@code keys} (custom sharding), for one operation: it
   * shares the collection's config, schema and leases, and does not follow later shard changes.
   * Every key must exist (the caller words the failure).
   */
  public Collection view(List<Object> keys) {
    return new Collection(root, parts.only(keys));
  }

  /**
   * The collection whose reads are answered with Qdrant's read {@code consistency} (a number,
   * {@code majority}, {@code quorum}, {@code all}; null: one replica), for one operation. A view, as
   * {@link #view}.
   */
  public Collection consistent(String consistency) {
    if (consistency == null) {
      return this;
    }
    Parts p = parts;
    Map<Integer, ShardEndpoint> e = new TreeMap<>();
    p.endpoints().forEach((id, endpoint) -> e.put(id, endpoint.consistent(consistency)));
    return new Collection(root, new Parts(p.layout(), p.local(), Collections.unmodifiableMap(e), p.router(), p.keyRouters()));
  }

  /**
   * Adds the shards {@code ids} of a new shard key (custom sharding): opens those held here (all of
   * them when {@code localIds} is null, else those among it), records the layout, then shows them to
   * later operations. Fails with nothing changed (new shard directories removed) when a shard does
   * not open or the layout is not written.
   */
  public synchronized void addShards(Object key, List<Integer> ids, Set<Integer> localIds) throws IOException {
    requireRoot();
    Parts p = parts;
    List<Integer> mine = ids.stream().filter(id -> p.layout().localIds() == null || localIds == null || localIds.contains(id)).toList();
    ShardLayout next = p.layout().withKey(key, ids, mine);
    Map<Integer, Shard> opened = new TreeMap<>();
    try {
      for (int id : next.local()) {
        if (ids.contains(id)) {
          opened.put(id, opener.open(ShardLayout.shardDir(dir, id), schema));
        }
      }
      next.write(dir, mapper);
    } catch (IOException | RuntimeException e) {
      for (var s : opened.entrySet()) {
        try {
          s.getValue().abandon();
          AtomicFiles.deleteTree(ShardLayout.shardDir(dir, s.getKey()));
        } catch (IOException | RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
      }
      throw e;
    }
    Map<Integer, Shard> local = new TreeMap<>(p.local());
    local.putAll(opened);
    Map<Integer, ShardEndpoint> endpoints = new TreeMap<>(p.endpoints());
    endpoints.putAll(endpoints(next, local, ids));
    parts = Parts.of(next, local, endpoints);
  }

  /**
   * Drops the shards of a shard key and their points: records the layout without them, hides them
   * from later operations, waits for the operations that may still use them, then closes and deletes
   * the local ones. False when the key has no shards here.
   */
  public boolean dropShards(Object key) throws IOException {
    requireRoot();
    Map<Integer, Shard> gone = new TreeMap<>();
    synchronized (this) {
      Parts p = parts;
      List<Integer> ids = p.layout().shardsOf(key);
      if (ids.isEmpty()) {
        return false;
      }
      ShardLayout next = p.layout().withoutKey(key);
      next.write(dir, mapper);
      Map<Integer, Shard> local = new TreeMap<>(p.local());
      Map<Integer, ShardEndpoint> endpoints = new TreeMap<>(p.endpoints());
      for (int id : ids) {
        Shard s = local.remove(id);
        if (s != null) {
          gone.put(id, s);
        }
        endpoints.remove(id);
      }
      parts = Parts.of(next, local, endpoints);
    }
    awaitEarlierLeases();
    IOException failure = null;
    for (var e : gone.entrySet()) {
      try {
        e.getValue().abandon();
        AtomicFiles.deleteTree(ShardLayout.shardDir(dir, e.getKey()));
      } catch (IOException ex) {
        failure = failure == null ? ex : failure;
      }
    }
    if (failure != null) {
      throw failure;
    }
    return true;
  }

  /**
   * Starts holding shard {@code id} of the layout here (a replica placed on this node): creates an
   * empty engine shard in its directory (removing whatever was left there first), records the layout
   * with the shard among the local ones, then shows it to later operations through its local
   * endpoint. The caller fills it (a copy from another replica). When every shard is local (a layout
   * without local ids) it already is.
   *
   * <p>Fails with nothing changed (the shard's directory removed, the layout as it was) when the
   * shard does not open or the layout is not written; {@link IllegalArgumentException} when the
   * layout has no shard {@code id}, {@link IllegalStateException} on a {@link #view}. Thread-safety:
   * serialised with the other shard changes; waits while a {@link #dropLocalShard} of the same shard
   * has not deleted it yet (so not to be called under a lease of this collection).
   *
   * @return true when added, false when it was local already
   */
  public synchronized boolean addLocalShard(int id) throws IOException {
    requireRoot();
    awaitRetired(id);
    Parts p = parts;
    if (!p.layout().shardIds().contains(id)) {
      throw new IllegalArgumentException("collection " + name + " has no shard " + id + " (its shards: " + p.layout().shardIds() + ")");
    }
    if (p.layout().local().contains(id)) {
      return false;
    }
    List<Integer> mine = new ArrayList<>(p.layout().local());
    mine.add(id);
    ShardLayout next = p.layout().withLocal(mine);
    Path shardDir = ShardLayout.shardDir(dir, id);
    AtomicFiles.deleteTree(shardDir);
    Shard shard = null;
    try {
      shard = opener.open(shardDir, schema);
      next.write(dir, mapper);
    } catch (IOException | RuntimeException e) {
      if (shard != null) {
        try {
          shard.abandon();
        } catch (IOException | RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
      }
      try {
        AtomicFiles.deleteTree(shardDir);
      } catch (IOException | RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
    Map<Integer, Shard> local = new TreeMap<>(p.local());
    local.put(id, shard);
    Map<Integer, ShardEndpoint> endpoints = new TreeMap<>(p.endpoints());
    endpoints.putAll(endpoints(next, local, List.of(id)));
    parts = Parts.of(next, local, endpoints);
    return true;
  }

  /**
   * Stops holding shard {@code id} here (its replica moved to other peers): records the layout
   * without it among the local shards, shows it to later operations through its remote endpoint
   * (none on a single node), waits for the operations that may still use the local one, then closes
   * it without committing and deletes its directory. The shard stays in the collection. When every
   * shard is local (a layout without local ids) the others stay local.
   *
   * <p>Fails with nothing changed when the layout is not written; when the shard does not close or
   * its directory is not deleted, it is no longer held all the same (a leftover directory is removed
   * by the next {@link #addLocalShard}). {@link IllegalStateException} on a {@link #view}.
   * Thread-safety: serialised with the other shard changes, except the wait and the deletion, which
   * run outside the collection's monitor; not to be called under a lease of this collection (the
   * wait would not end).
   *
   * @return true when dropped, false when the shard is not held here (or not in the layout)
   */
  public boolean dropLocalShard(int id) throws IOException {
    requireRoot();
    Shard gone;
    synchronized (this) {
      Parts p = parts;
      if (!p.layout().local().contains(id)) {
        return false;
      }
      List<Integer> mine = new ArrayList<>(p.layout().local());
      mine.remove(Integer.valueOf(id));
      ShardLayout next = p.layout().withLocal(mine);
      next.write(dir, mapper);
      Map<Integer, Shard> local = new TreeMap<>(p.local());
      gone = local.remove(id);
      Map<Integer, ShardEndpoint> endpoints = new TreeMap<>(p.endpoints());
      endpoints.remove(id);
      endpoints.putAll(endpoints(next, local, List.of(id)));
      parts = Parts.of(next, local, endpoints);
      retiring.add(id);
    }
    try {
      awaitEarlierLeases();
      if (gone != null) {
        gone.abandon();
      }
      AtomicFiles.deleteTree(ShardLayout.shardDir(dir, id));
    } finally {
      synchronized (this) {
        retiring.remove(id);
        notifyAll();
      }
    }
    return true;
  }

  /** Waits (holding this monitor, which the wait releases) until shard {@code id} is not being dropped. */
  private void awaitRetired(int id) throws java.io.InterruptedIOException {
    while (retiring.contains(id)) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while shard " + id + " of collection " + name + " is being dropped");
      }
    }
  }

  private void requireRoot() {
    if (root != this) {
      throw new IllegalStateException("a view of collection " + name + " cannot change its shards");
    }
  }

  /** Persists and applies a new config (atomic file write first, so a crash keeps either version). */
  public void updateConfig(ObjectNode next) throws IOException {
    requireRoot();
    AtomicFiles.write(dir.resolve(CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next));
    config = next;
    setSchema(CollectionConfigs.schema(next, schema.payload()));
  }

  public void updatePayloadSchema(PayloadSchema next) throws IOException {
    requireRoot();
    AtomicFiles.write(dir.resolve(PAYLOAD_INDEX), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next.toJson()));
    setSchema(schema.withPayload(next));
  }

  private void setSchema(CollectionSchema next) {
    schema = next;
    parts.local().values().forEach(s -> s.setSchema(next));
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
    if (root != this) {
      return root.lease();
    }
    long taken;
    synchronized (leases) {
      if (dropped) {
        throw ApiException.collectionNotFound(name);
      }
      inFlight++;
      taken = epoch;
      leasesByEpoch.merge(taken, 1, Integer::sum);
    }
    return new Lease() {
      private boolean closed;

      @Override
      public void close() {
        synchronized (leases) {
          if (!closed) {
            closed = true;
            inFlight--;
            leasesByEpoch.computeIfPresent(taken, (k, n) -> n == 1 ? null : n - 1);
            leases.notifyAll();
          }
        }
      }
    };
  }

  /** Waits until every lease taken before this call is closed (later ones do not hold it up). */
  private void awaitEarlierLeases() {
    synchronized (leases) {
      long before = epoch++;
      boolean interrupted = false;
      while (leasesByEpoch.keySet().stream().anyMatch(e -> e <= before)) {
        try {
          leases.wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @FunctionalInterface
  public interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** Marks the collection dropped and waits for the leases taken before. Returns false if it was already. */
  private boolean retire() {
    requireRoot();
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
      for (Shard s : parts.local().values()) {
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
      for (Shard s : parts.local().values()) {
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
