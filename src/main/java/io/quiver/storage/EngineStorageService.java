package io.quiver.storage;

import io.quiver.config.QuiverConfig;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.NoSpace;
import io.quiver.engine.Shard;
import io.quiver.engine.StorageIo;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.Access;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionRequest;
import io.quiver.request.NodeRequest;
import io.quiver.request.PointRead;
import io.quiver.request.PointWrite;
import io.quiver.request.QueryOperation;
import io.quiver.request.Request;
import io.quiver.request.SnapshotRequest;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.CollectionService;
import io.quiver.storage.collection.ShardKeys;
import io.quiver.storage.collection.ShardLayout;
import io.quiver.storage.collection.StorageLayout;
import io.quiver.storage.collection.Shards;
import io.quiver.storage.point.PointReads;
import io.quiver.storage.query.LocalShard;
import io.quiver.storage.point.PointWrites;
import io.quiver.storage.query.DistanceMatrix;
import io.quiver.storage.query.QueryService;
import io.quiver.storage.snapshot.SnapshotOps;
import io.quiver.storage.strict.StrictMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full storage engine behind the storage verticle: collections of Lucene shards with write-ahead
 * logs. It dispatches each typed {@link Request} to its room ({@link CollectionService}, {@link
 * PointWrites}, {@link PointReads}, {@link QueryService}, {@link DistanceMatrix}, {@link
 * SnapshotOps}) after {@link StrictMode} has checked it. Reads and searches run on a bounded pool
 * sized for the machine; writes on their own bounded pool (they wait on fsync), applied per shard in
 * WAL order. A full queue answers 503.
 */
public final class EngineStorageService implements StorageService {
  private static final Logger log = LoggerFactory.getLogger(EngineStorageService.class);
  private static final int QUEUE = 4096;

  private final Catalogue catalogue;
  private final CollectionService collections;
  private final QueryService queries;
  private final SnapshotOps snapshots;
  private final StrictMode strictMode = new StrictMode();
  private final ActionCodec codec = new ActionCodec(Json.MAPPER);
  private final DocMapper docs = new DocMapper(Json.MAPPER);
  private final Shard.Options shardOptions;
  private final StorageIo storageIo;
  private volatile Consumer<String> noSpaceListener = message -> { };
  private final Collection.ShardOpener opener;
  private final ExecutorService reads;
  private final ExecutorService writes;
  private final ScheduledExecutorService maintenance;

  /**
   * The shards of a collection that other nodes hold, as endpoints this node's coordinator reaches
   * them through (the cluster layer provides it; a single node has none).
   */
  @FunctionalInterface
  public interface RemoteShards {
    /** The endpoint of shard {@code id} of {@code collection}, held by another node. */
    io.quiver.storage.collection.ShardEndpoint endpoint(String collection, int id);

    /**
     * The endpoint of shard {@code id} of {@code collection}, of which this node holds a replica
     * ({@code shard}, reached locally through {@code local}); by default the local one.
     */
    default io.quiver.storage.collection.ShardEndpoint local(Collection collection, int id, Shard shard,
        io.quiver.storage.collection.ShardEndpoint local) {
      return local;
    }
  }

  private EngineStorageService(QuiverConfig config, StorageIo io, RemoteShards remote) throws IOException {
    this.storageIo = io;
    var s = config.storage();
    int cores = Runtime.getRuntime().availableProcessors();
    int readThreads = s.maxSearchThreads() > 0 ? s.maxSearchThreads() : cores;
    reads = pool("quiver-read", readThreads);
    writes = pool("quiver-write", Math.max(4, cores * 2));
    maintenance = Executors.newSingleThreadScheduledExecutor(daemon("quiver-maintenance"));
    shardOptions = new Shard.Options(
        new WalOptions(s.walFsync() == QuiverConfig.FsyncMode.ALWAYS ? FsyncPolicy.ALWAYS : FsyncPolicy.EVERY_MILLIS,
            s.walFsyncIntervalMs(), s.walCapacityMb() * 1024L * 1024L),
        s.commitIntervalSec() * 1000L, 1000);
    catalogue = new Catalogue(s.storagePath(), Json.MAPPER);
    Collection.ShardOpener local = LocalShard.opener(this::openShard, this::onPool);
    opener = remote == null ? local : new Collection.ShardOpener() {
      @Override
      public Shard open(Path dir, CollectionSchema schema) throws IOException {
        return local.open(dir, schema);
      }

      @Override
      public io.quiver.storage.collection.ShardEndpoint endpoint(Collection collection, int id, Shard shard) {
        return remote.local(collection, id, shard, local.endpoint(collection, id, shard));
      }

      @Override
      public io.quiver.storage.collection.ShardEndpoint remote(Collection collection, int id) {
        return remote.endpoint(collection.name, id);
      }
    };
    collections = new CollectionService(catalogue, opener);
    queries = new QueryService(catalogue);
    snapshots = new SnapshotOps(catalogue, Json.MAPPER, s.storagePath(), s.snapshotsPath(), opener);
  }

  /**
   * Restores a full snapshot taken by Quiver into this storage (the start-up option {@code
   * --storage-snapshot}); existing collections are kept unless {@code force}.
   *
   * @return the collections restored
   */
  public List<String> restoreFullSnapshot(Path file, boolean force) throws IOException {
    return snapshots.restoreFull(file, force);
  }

  /** The collections on this node's disk (the cluster layer keeps them in step with the cluster's metadata). */
  public Catalogue catalogue() {
    return catalogue;
  }

  /**
   * Creates this node's part of a cluster's collection: its config, all its shard ids, of which it
   * holds {@code localIds} (the others are reached through {@link RemoteShards}). 409 when it exists.
   */
  public void createPart(String name, com.fasterxml.jackson.databind.node.ObjectNode config, ShardLayout layout,
      java.util.Set<Integer> localIds) throws IOException {
    catalogue.create(name, config, layout, localIds, opener);
  }

  /** Opens every collection of the storage directory; fails (closing what it opened) if one cannot load. */
  public static EngineStorageService open(QuiverConfig config) throws IOException {
    return open(config, StorageIo.REAL);
  }

  /** As {@link #open(QuiverConfig)}, with the shards' files reached through {@code io} (a test seam). */
  public static EngineStorageService open(QuiverConfig config, StorageIo io) throws IOException {
    return open(config, io, null);
  }

  /** As {@link #open(QuiverConfig)}, for a node of a cluster: the shards other nodes hold are reached through {@code remote}. */
  public static EngineStorageService open(QuiverConfig config, StorageIo io, RemoteShards remote) throws IOException {
    var service = new EngineStorageService(config, io, remote);
    try {
      for (String name : StorageLayout.collectionNames(config.storage().storagePath())) {
        long t0 = System.nanoTime();
        try {
          service.catalogue.put(Collection.open(name, service.catalogue.root().resolve(name), Json.MAPPER, service.opener));
        } catch (IOException | RuntimeException e) {
          throw new CollectionLoadException(name, e);
        }
        log.info("Loaded collection {} in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
      }
      return service;
    } catch (IOException | RuntimeException | Error e) {
      service.close();
      throw e;
    }
  }

  /** Loading one collection failed: names it, for the recovery-mode fallback. */
  public static final class CollectionLoadException extends IOException {
    public final String collection;

    CollectionLoadException(String collection, Throwable cause) {
      super("Failed to load collection `" + collection + "`: " + cause, cause);
      this.collection = collection;
    }
  }

  private Shard openShard(Path dir, CollectionSchema schema) throws IOException {
    Shard shard = Shard.open(dir, schema, shardOptions, codec, docs, maintenance, storageIo);
    shard.onNoSpace(message -> noSpaceListener.accept(message));
    return shard;
  }

  @Override
  public void onNoSpace(Consumer<String> listener) {
    noSpaceListener = listener;
  }

  /**
   * Runs a shard's work for the coordinator: at once when the caller is a thread of the storage's
   * pools (it never waits for a thread of the pool it occupies), else on the read pool.
   */
  private void onPool(Runnable task) {
    if (Thread.currentThread() instanceof PoolThread) {
      task.run();
    } else {
      reads.execute(task);
    }
  }

  /** A thread of the storage's pools. */
  private static final class PoolThread extends Thread {
    PoolThread(Runnable r, String name) {
      super(r, name);
    }
  }

  @Override
  public CompletionStage<Object> execute(Request request) {
    CompletableFuture<Object> result;
    try {
      result = CompletableFuture.supplyAsync(() -> {
        try {
          return handle(request);
        } catch (ApiException e) {
          throw e;
        } catch (IOException | RuntimeException e) {
          throw noSpaceOr(e);
        }
      }, request.access() == Access.READ ? reads : writes);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(ApiException.unavailable("Service overloaded: too many requests in the queue"));
    }
    // an operation that answers later (its shards answer asynchronously) completes with its answer
    return result.thenCompose(answer -> answer instanceof CompletionStage<?> later
        ? later.handle((value, failure) -> {
          if (failure == null) {
            return (Object) value;
          }
          Throwable cause = Shards.cause(failure);
          if (cause instanceof ApiException a) {
            throw a;
          }
          if (cause instanceof java.io.UncheckedIOException u) {
            throw noSpaceOr(u.getCause());
          }
          throw noSpaceOr(cause instanceof Exception x ? x : new RuntimeException(cause));
        })
        : CompletableFuture.completedFuture(answer));
  }

  private Object handle(Request request) throws IOException {
    return switch (request) {
      case NodeRequest.Status s -> Map.of("ready", true, "mode", mode());
      case NodeRequest.ListCollections l -> collections.list();
      case NodeRequest.ListAliases l -> collections.aliases(null);
      case NodeRequest.Telemetry t -> collections.telemetry();
      case CollectionRequest.Exists e -> collections.exists(e.collection());
      case CollectionRequest.Create c -> collections.create(c);
      case CollectionRequest.Delete d -> collections.delete(d.collection());
      case AliasRequest a -> {
        catalogue.updateAliases(a.actions());
        yield true;
      }
      case SnapshotRequest s -> snapshots.handle(s);
      // not under a lease: dropping a key waits for the operations that hold one
      case CollectionRequest.CreateShardKey k -> collections.createShardKey(catalogue.resolve(k.collection()), k);
      case CollectionRequest.DropShardKey k -> collections.dropShardKey(catalogue.resolve(k.collection()), k);
      default -> onCollection(catalogue.resolve(request.collection()), request);
    };
  }

  /**
   * A request on one existing collection: strict mode first, then the operation, while the
   * collection cannot be dropped (until the operation's answer, for those that answer later).
   */
  private static String consistency(io.quiver.request.ReadParams read) {
    return read == null ? null : read.consistency();
  }

  private Object onCollection(Collection col, Request request) throws IOException {
    Collection.Lease lease = col.lease();
    Object answer;
    try {
      strictMode.check(col, request);
      answer = switch (request) {
        case CollectionRequest.Get g -> collections.info(col);
        case CollectionRequest.Cluster c -> cluster(col);
        case CollectionRequest.Aliases a -> collections.aliases(col.name);
        case CollectionRequest.Update u -> collections.update(col, u);
        case CollectionRequest.CreateIndex c -> collections.createIndex(col, c);
        case CollectionRequest.DeleteIndex d -> collections.deleteIndex(col, d);
        case PointWrite w -> PointWrites.applyByKey(col, w);
        case PointRead.Retrieve r -> PointReads.retrieve(ShardKeys.forRead(col, r.shardKey()).consistent(consistency(r.read())), r);
        case PointRead.GetOne g -> PointReads.getOne(col, g);
        case PointRead.Scroll s -> PointReads.scroll(ShardKeys.forRead(col, s.shardKey()).consistent(consistency(s.read())), s);
        case PointRead.Count c -> PointReads.count(ShardKeys.forRead(col, c.shardKey()).consistent(consistency(c.read())), c);
        case PointRead.Facet f -> PointReads.facet(ShardKeys.forRead(col, f.shardKey()).consistent(consistency(f.read())), f);
        case PointRead.Matrix m -> DistanceMatrix.of(ShardKeys.forRead(col, m.shardKey()).consistent(consistency(m.read())), m);
        case QueryOperation.Queries q -> queries.run(col.consistent(consistency(q.read())), q);
        case QueryOperation.Groups g -> queries.groups(col.consistent(consistency(g.read())), g);
        default -> throw new IllegalStateException("not a collection request: " + request);
      };
    } catch (IOException | RuntimeException e) {
      lease.close();
      throw e;
    }
    if (answer instanceof CompletionStage<?> later) {
      return later.whenComplete((r, e) -> lease.close());
    }
    lease.close();
    return answer;
  }

  /** Qdrant's CollectionClusterInfo of a collection but the peer id: its shards (with their keys), all held here and active. */
  private CompletionStage<Map<String, Object>> cluster(Collection col) {
    return collections.shardPoints(col).thenApply(shards -> {
      java.util.List<Object> local = new java.util.ArrayList<>();
      for (Map<String, Object> s : shards) {
        Map<String, Object> shard = new java.util.LinkedHashMap<>(s);
        shard.put("state", "Active");
        local.add(shard);
      }
      Map<String, Object> out = new java.util.LinkedHashMap<>();
      out.put("shard_count", col.layout().shardIds().size());
      out.put("local_shards", local);
      out.put("remote_shards", List.of());
      out.put("shard_transfers", List.of());
      return out;
    });
  }

  /**
   * A failure caused by a full disk becomes 507 (the storage verticle then turns the automatic
   * disk write block on); anything else passes unchanged.
   */
  private static RuntimeException noSpaceOr(Exception e) {
    if (NoSpace.causedBy(e)) {
      log.warn("An operation failed for lack of disk space and was not applied: {}", e.toString());
      return ApiException.insufficientStorage(NoSpace.message(e)
          + ": the operation was not applied; writes are blocked until the disk has room again");
    }
    return e instanceof IOException failure ? new UncheckedIOException(failure) : (RuntimeException) e;
  }

  @Override
  public String mode() {
    return "normal";
  }

  private static ExecutorService pool(String name, int threads) {
    return new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), daemon(name));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new PoolThread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    reads.shutdown();
    writes.shutdown();
    try {
      writes.awaitTermination(30, TimeUnit.SECONDS);
      reads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Collection col : catalogue.closeAll()) {
      try {
        col.close();
      } catch (IOException | RuntimeException e) {
        log.error("Closing collection {} failed; its WAL will be replayed at next start", col.name, e);
      }
    }
    maintenance.shutdownNow();
  }
}
