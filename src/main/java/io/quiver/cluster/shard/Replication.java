package io.quiver.cluster.shard;

import io.quiver.cluster.Consensus;
import io.quiver.cluster.meta.ClusterMeta;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.MetaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.Shard;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the replication of a node's shards shares: this peer's id, the cluster's metadata (replica
 * states and primary terms), the consensus that changes them, the transport to the other peers and
 * the point-in-time exports this node serves to replicas that recover from it.
 *
 * <p>The protocol (primary-backup, as Qdrant's replica sets and Elasticsearch's replication): a
 * shard's writes go to its primary ({@link ShardMeta#primary()}), which applies each write as one
 * WAL frame and forwards the frame, numbered by its sequence and stamped with the primary's term,
 * to every replica that takes writes ({@link Replica}). A write is acknowledged once every such
 * replica applied it or was marked Dead through consensus. A replica refuses frames of a term older
 * than one it knows, so a deposed primary cannot complete a write. A Dead replica catches up from
 * the primary by itself ({@link Recoveries}).
 */
public final class Replication {
  private static final Logger log = LoggerFactory.getLogger(Replication.class);
  /** How long a proposal of a replica state may take. */
  static final Duration PROPOSE_TIMEOUT = Duration.ofSeconds(10);
  /** How long a frame batch may wait for a replica. */
  static final long FRAMES_TIMEOUT_MS = 10_000;
  /** How long an unused export is kept open. */
  static final long EXPORT_IDLE_MS = 30_000;

  final Vertx vertx;
  final long self;
  final ClusterMeta meta;
  final ActionCodec codec = new ActionCodec(Json.MAPPER);
  private volatile Consensus consensus;
  private final Map<String, OpenExport> exports = new ConcurrentHashMap<>();
  private final Map<String, String> progress = new ConcurrentHashMap<>();
  private final AtomicLong exportIds = new AtomicLong();

  public Replication(Vertx vertx, long self, ClusterMeta meta) {
    this.vertx = vertx;
    this.self = self;
    this.meta = meta;
    meta.listen(new ClusterMeta.Listener() {
      @Override
      public void applied(MetaOp op, MetaState before, MetaState after) {
        interrupted(before, after);
      }

      @Override
      public void restored(MetaState state) {
        // a recovery that outlived a snapshot install proposes Active in a term that checks it
      }
    });
  }

  /** This node's replicas, by collection and shard id, so that a change of the metadata reaches a recovery running in one. */
  private final Map<String, Replica> replicas = new ConcurrentHashMap<>();

  void register(Replica replica) {
    replicas.put(replica.collection() + "/" + replica.id(), replica);
  }

  /**
   * A recovery fills its replica for one transfer: when the replica leaves Partial (an abort, a
   * restart, a new primary) while it runs, the recovery must not finish on whatever comes next.
   */
  private void interrupted(MetaState before, MetaState after) {
    for (MetaState.CollectionMeta c : before.collections().values()) {
      for (ShardMeta was : c.shardsOn(self)) {
        if (was.state(self) != io.quiver.cluster.meta.ReplicaState.PARTIAL) {
          continue;
        }
        MetaState.CollectionMeta now = after.collections().get(c.name());
        ShardMeta is = now == null ? null : now.shards().stream().filter(x -> x.id() == was.id()).findFirst().orElse(null);
        if (is == null || is.state(self) != io.quiver.cluster.meta.ReplicaState.PARTIAL) {
          Replica replica = replicas.get(c.name() + "/" + was.id());
          if (replica != null) {
            replica.interrupt();
          }
        }
      }
    }
  }

  private volatile String transferMethod;
  private volatile int outgoingLimit = 1;
  private volatile TransferThrottle throttle;

  /** {@code storage.performance.shard_transfer_max_mb_per_sec}: the pace of the pages this node's transfers pull (0: no limit). */
  public Replication transferRate(double mbPerSec) {
    this.throttle = new TransferThrottle(vertx, mbPerSec);
    return this;
  }

  /** Completes once the {@code bytes} a transfer just pulled fit the node's transfer rate. */
  CompletionStage<Void> pulled(long bytes) {
    TransferThrottle t = throttle;
    return t == null ? CompletableFuture.completedFuture(null) : t.taken(bytes);
  }

  /** {@code storage.performance.outgoing_shard_transfers_limit}: how many exports this node serves at once. */
  public Replication outgoingLimit(int limit) {
    this.outgoingLimit = limit;
    return this;
  }

  /** {@code storage.shard_transfer_method}: the method of recoveries (null: WAL delta when possible, else streaming records). */
  public Replication transferMethod(String method) {
    this.transferMethod = method;
    return this;
  }

  /** The method a Dead replica recovers by; {@code prefix}: its frames are a prefix of the primary's. */
  String recoveryMethod(boolean prefix) {
    String m = transferMethod;
    if (m != null) {
      return m;
    }
    return prefix ? "wal_delta" : "stream_records";
  }

  /** The consensus, once it runs (replica states cannot change before). */
  public void started(Consensus consensus) {
    this.consensus = consensus;
  }

  /** The shard's metadata now; 404 when the collection is gone, 503 when the shard is unknown. */
  ShardMeta shard(String collection, int id) {
    MetaState.CollectionMeta c = meta.state().collections().get(collection);
    if (c == null) {
      throw ApiException.collectionNotFound(collection);
    }
    for (ShardMeta s : c.shards()) {
      if (s.id() == id) {
        return s;
      }
    }
    throw new ApiException(503, "Service unavailable: shard " + id + " of collection `" + collection + "` is not in the cluster's metadata");
  }

  /** The collection's {@code write_consistency_factor} (1 by default). */
  int writeConsistencyFactor(String collection) {
    MetaState.CollectionMeta c = meta.state().collections().get(collection);
    return c == null ? 1 : Math.max(1, c.config().path("params").path("write_consistency_factor").asInt(1));
  }

  CompletionStage<Void> propose(MetaOp op) {
    Consensus c = consensus;
    if (c == null) {
      return CompletableFuture.failedFuture(new ApiException(503, "Service unavailable: this peer has not joined the cluster's consensus yet"));
    }
    return c.propose(op, PROPOSE_TIMEOUT);
  }

  RemoteShard remote(String collection, int shard, long peer) {
    return new RemoteShard(vertx, collection, shard, () -> peer, this::track);
  }

  /** Calls in flight to each peer: they fail at once when the peer leaves the cluster, instead of at their timeout. */
  private final Map<Long, Map<CompletableFuture<?>, ApiException>> inFlight = new ConcurrentHashMap<>();

  private void track(long peer, CompletableFuture<?> call, ApiException why) {
    Map<CompletableFuture<?>, ApiException> calls = inFlight.computeIfAbsent(peer, p -> new ConcurrentHashMap<>());
    calls.put(call, why);
    call.whenComplete((v, e) -> calls.remove(call));
  }

  /** The cluster's membership lost {@code peer} (its process died, or it was cut off): its calls in flight fail now. */
  public void peerLeft(long peer) {
    Map<CompletableFuture<?>, ApiException> calls = inFlight.get(peer);
    if (calls != null && !calls.isEmpty()) {
      log.info("Peer {} left the cluster: failing {} call(s) waiting for it", peer, calls.size());
      calls.forEach((call, why) -> call.completeExceptionally(why));
    }
  }

  static CompletionStage<Void> delay(long ms) {
    return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS));
  }


  /** The progress of the transfer into this node's replica of a shard, in Qdrant's words, or null. */
  public String progress(String collection, int shard) {
    return progress.get(collection + "/" + shard);
  }

  void progress(String collection, int shard, String comment) {
    if (comment == null) {
      progress.remove(collection + "/" + shard);
    } else {
      progress.put(collection + "/" + shard, comment);
    }
  }

  // ---- exports served to recovering replicas ----

  private static final class OpenExport {
    final Shard.Export export;
    volatile long lastUse = System.currentTimeMillis();

    OpenExport(Shard.Export export) {
      this.export = export;
    }
  }

  /** Registers an export; closes the ones left unused for long. */
  String register(Shard.Export export) {
    reap();
    if (exports.size() >= outgoingLimit) {
      close(export);
      throw new ApiException(503, "Service unavailable: peer " + self + " already serves " + exports.size()
          + " shard transfer(s), its storage.performance.outgoing_shard_transfers_limit");
    }
    String id = self + "-" + exportIds.incrementAndGet();
    exports.put(id, new OpenExport(export));
    return id;
  }

  Shard.Export export(String id) {
    OpenExport e = exports.get(id);
    if (e == null) {
      throw ApiException.badRequest("Transfer export " + id + " is not open on peer " + self);
    }
    e.lastUse = System.currentTimeMillis();
    return e.export;
  }

  void closeExport(String id) {
    OpenExport e = exports.remove(id);
    if (e != null) {
      close(e.export);
    }
  }

  private void reap() {
    long now = System.currentTimeMillis();
    exports.entrySet().removeIf(e -> {
      if (now - e.getValue().lastUse > EXPORT_IDLE_MS) {
        close(e.getValue().export);
        return true;
      }
      return false;
    });
  }

  private static void close(Shard.Export export) {
    try {
      export.close();
    } catch (Exception e) {
      log.warn("Closing a transfer export failed", e);
    }
  }

  /** Closes every open export. */
  public void close() {
    exports.values().forEach(e -> close(e.export));
    exports.clear();
  }
}
