package io.quiver.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.MetaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionConfigParser;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Request;
import io.quiver.request.WriteParams;
import io.quiver.storage.StorageService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The storage service of a node in cluster mode. Metadata changes (collections, their configs and
 * payload indexes, aliases) are proposals to the cluster's Raft group: the answer comes once the
 * change is committed and applied on this node, whose local storage {@link
 * io.quiver.cluster.meta.LocalSync} keeps in step with the replicated state. Everything else runs
 * on the local storage.
 */
public final class ClusterStorageService implements StorageService {
  /** Qdrant's default wait for a metadata operation to be committed. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private final StorageService local;
  private final Consensus consensus;
  private final Runnable onClose;

  public ClusterStorageService(StorageService local, Consensus consensus) {
    this(local, consensus, () -> { });
  }

  /** @param onClose runs first on {@link #close()} (the node stops answering cluster messages) */
  public ClusterStorageService(StorageService local, Consensus consensus, Runnable onClose) {
    this(local, consensus, onClose, null);
  }

  /**
   * @param peersApplied asks a peer for the metadata index it has applied (null: do not wait for
   *     the other peers)
   */
  public ClusterStorageService(StorageService local, Consensus consensus, Runnable onClose, AppliedIndex peersApplied) {
    this.local = local;
    this.consensus = consensus;
    this.onClose = onClose;
    this.peersApplied = peersApplied;
  }

  /** The metadata index a peer has applied, asked over the cluster; fails when the peer does not answer. */
  @FunctionalInterface
  public interface AppliedIndex {
    CompletionStage<Long> of(long peer);
  }

  private final AppliedIndex peersApplied;
  private volatile TransferProgress progress = (collection, shard) -> null;

  /** The progress of the transfer into this node's replica of a shard, in Qdrant's words, or null. */
  @FunctionalInterface
  public interface TransferProgress {
    String of(String collection, int shard);
  }

  /** Shows the transfers' progress through {@code progress}. */
  public ClusterStorageService withProgress(TransferProgress progress) {
    this.progress = progress;
    return this;
  }
  /** How long a change that makes or removes collections waits for the other peers to apply it. */
  static final Duration SYNC_WAIT = Duration.ofSeconds(10);

  public Consensus consensus() {
    return consensus;
  }

  @Override
  public CompletionStage<Object> execute(Request request) {
    if ("recovery".equals(local.mode()) && !(request instanceof CollectionRequest.Delete)) {
      // recovery mode lists, describes and deletes; it refuses the rest itself, with its message
      return local.execute(request);
    }
    try {
      return switch (request) {
        case CollectionRequest.Create c -> create(c);
        case CollectionRequest.Update u -> propose(new MetaOp.UpdateCollection(u.collection(), u.update().diff()), u.timeoutSeconds(), true);
        case CollectionRequest.Delete d -> propose(new MetaOp.DeleteCollection(d.collection()), d.timeoutSeconds(), true);
        case CollectionRequest.CreateIndex i -> propose(new MetaOp.CreateIndex(i.collection(), PayloadSchema.normalized(i.field()),
            PayloadSchema.EMPTY.with(i.field(), i.index()).toJson().properties().iterator().next().getValue()), null, updateResult(i.write()));
        case CollectionRequest.DeleteIndex i -> propose(new MetaOp.DeleteIndex(i.collection(), PayloadSchema.normalized(i.field())), null,
            updateResult(i.write()));
        case AliasRequest a -> propose(new MetaOp.ChangeAliases(a.actions()), a.timeoutSeconds(), true);
        case CollectionRequest.CreateShardKey k -> createShardKey(k);
        case CollectionRequest.DropShardKey k -> dropShardKey(k);
        case CollectionRequest.Cluster c -> local.execute(request).thenApply(answer -> clusterInfo(c.collection(), answer));
        case io.quiver.request.SnapshotRequest.Recover r -> throw ApiException.badRequest("Recovering from a snapshot is not "
            + "supported in cluster mode yet: the cluster's metadata would not know what it restores. Recover on a single node, "
            + "then start a cluster from that node");
        default -> local.execute(request);
      };
    } catch (ApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Qdrant's {@code CollectionClusterInfo} of this peer: the shards it holds with their points, the
   * others with the peer that holds them.
   */
  @SuppressWarnings("unchecked")
  private Object clusterInfo(String name, Object answer) {
    if (!(answer instanceof Map<?, ?> info)) {
      return answer;
    }
    MetaState.CollectionMeta meta = consensus.meta().state().resolve(name);
    if (meta == null) {
      return answer;
    }
    long self = consensus.selfId();
    java.util.Set<Integer> mine = new java.util.HashSet<>();
    meta.shardsOn(self).forEach(s -> mine.add(s.id()));
    Map<String, Object> out = new LinkedHashMap<>((Map<String, Object>) info);
    out.put("peer_id", self);
    List<Object> local = new ArrayList<>();
    Map<Integer, ShardMeta> byId = new java.util.HashMap<>();
    meta.shards().forEach(s -> byId.put(s.id(), s));
    for (Object s : (List<Object>) info.get("local_shards")) {
      if (s instanceof Map<?, ?> shard && mine.contains(((Number) shard.get("shard_id")).intValue())) {
        Map<String, Object> l = new LinkedHashMap<>((Map<String, Object>) shard);
        l.put("state", byId.get(((Number) shard.get("shard_id")).intValue()).state(self).shown());
        local.add(l);
      }
    }
    List<Object> remote = new ArrayList<>();
    for (ShardMeta s : meta.shards()) {
      for (long peer : s.replicas()) {
        if (peer != self) {
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("shard_id", s.id());
          if (s.key() != null) {
            r.put("shard_key", s.key());
          }
          r.put("peer_id", peer);
          r.put("state", s.state(peer).shown());
          remote.add(r);
        }
      }
    }
    out.put("local_shards", local);
    out.put("remote_shards", remote);
    out.put("shard_transfers", io.quiver.cluster.ShardTransfers.shown(meta, (shard, to) -> to == self ? progress.of(meta.name(), shard) : null));
    return out;
  }

  /** Qdrant's UpdateResult of a payload index change in a cluster: no local operation id. */
  private static Map<String, Object> updateResult(WriteParams write) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("operation_id", null);
    out.put("status", write.waitForResult() ? "completed" : "acknowledged");
    return out;
  }

  private CompletionStage<Object> create(CollectionRequest.Create c) {
    if (c.initFrom() != null) {
      throw ApiException.badRequest("init_from is not supported in cluster mode: create the collection, then copy its points");
    }
    MetaState state = consensus.meta().state();
    List<Long> peers = new ArrayList<>(state.peers().keySet());
    if (peers.isEmpty()) {
      throw new ApiException(503, "Service unavailable: the cluster has no peers yet");
    }
    boolean custom = "custom".equals(c.config().path("params").path("sharding_method").asText("auto"));
    // auto sharding: one shard per peer by default; custom sharding: shard_number is per key, one by default
    ObjectNode config = CollectionConfigParser.withDefaultShardNumber(c.config(), custom ? 1 : peers.size());
    List<ShardMeta> shards = custom ? List.of() : placement(config.path("params").path("shard_number").asInt(1),
        replicationFactor(config), 0, peers, null);
    return propose(new MetaOp.CreateCollection(c.collection(), config, shards), c.timeoutSeconds(), true);
  }

  /**
   * A shard key's shards, as Qdrant's cluster API checks and places them: {@code shards_number} of
   * them (default: the collection's {@code shard_number}) on the peers of {@code placement} (default:
   * every peer), each with {@code replication_factor} replicas (at most one per peer of the pool) on
   * the peers of the pool that hold the fewest shards of the collection.
   */
  private CompletionStage<Object> createShardKey(CollectionRequest.CreateShardKey k) {
    MetaState state = consensus.meta().state();
    MetaState.CollectionMeta meta = existing(state, k.collection());
    if (!meta.customSharding()) {
      throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
    }
    com.fasterxml.jackson.databind.JsonNode key = ShardMeta.metaKey(k.key());
    String shown = io.quiver.storage.collection.ShardLayout.shown(k.key());
    if (!meta.shardsOf(key).isEmpty()) {
      throw ApiException.badRequest("Sharding key " + shown + " already exists for collection " + meta.name());
    }
    List<Long> pool;
    if (k.placement() != null) {
      if (k.placement().isEmpty()) {
        throw ApiException.badRequest("Sharding key " + shown
            + " placement cannot be empty. If you want to use random placement, do not specify placement");
      }
      for (long peer : k.placement()) {
        if (!state.peers().containsKey(peer)) {
          throw ApiException.badRequest("Peer " + Long.toUnsignedString(peer) + " does not exist");
        }
      }
      pool = k.placement().stream().distinct().toList();
    } else {
      pool = new ArrayList<>(state.peers().keySet());
    }
    int n = k.shardsNumber() != null ? k.shardsNumber() : Math.max(1, meta.config().path("params").path("shard_number").asInt(1));
    Map<Long, Integer> held = new LinkedHashMap<>();
    pool.forEach(p -> held.put(p, meta.shardsOn(p).size()));
    List<ShardMeta> shards = new ArrayList<>(n);
    int rf = Math.min(replicationFactor(meta.config()), pool.size());
    for (int i = 0; i < n; i++) {
      List<Long> replicas = new ArrayList<>();
      for (int r = 0; r < rf; r++) {
        long peer = -1;
        for (long p : pool) {
          if (!replicas.contains(p) && (peer == -1 || held.get(p) < held.get(peer))) {
            peer = p;
          }
        }
        held.merge(peer, 1, Integer::sum);
        replicas.add(peer);
      }
      shards.add(new ShardMeta(meta.nextShardId() + i, replicas, key));
    }
    return propose(new MetaOp.CreateShardKey(meta.name(), key, shards), k.timeoutSeconds(), true);
  }

  private CompletionStage<Object> dropShardKey(CollectionRequest.DropShardKey k) {
    MetaState.CollectionMeta meta = existing(consensus.meta().state(), k.collection());
    if (!meta.customSharding()) {
      throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
    }
    com.fasterxml.jackson.databind.JsonNode key = ShardMeta.metaKey(k.key());
    if (meta.shardsOf(key).isEmpty()) {
      throw ApiException.badRequest("Sharding key " + io.quiver.storage.collection.ShardLayout.shown(k.key())
          + " does not exist for collection " + meta.name());
    }
    return propose(new MetaOp.DropShardKey(meta.name(), key), k.timeoutSeconds(), true);
  }

  private static MetaState.CollectionMeta existing(MetaState state, String nameOrAlias) {
    MetaState.CollectionMeta meta = state.resolve(nameOrAlias);
    if (meta == null) {
      throw ApiException.collectionNotFound(nameOrAlias);
    }
    return meta;
  }

  /**
   * Shards {@code first..first+n-1} spread over the peers in turn, in peer id order (as Qdrant's
   * distribution proposal: each next shard goes to the peer holding the fewest of this collection),
   * each with {@code rf} replicas on distinct peers (at most as many as there are peers): shard
   * {@code i} on peers {@code i, i+1, ...}, so that the replicas of a lost peer's shards are spread
   * over the others.
   */
  static List<ShardMeta> placement(int n, int rf, int first, List<Long> peers, com.fasterxml.jackson.databind.JsonNode key) {
    List<ShardMeta> out = new ArrayList<>(n);
    int copies = Math.max(1, Math.min(rf, peers.size()));
    for (int i = 0; i < n; i++) {
      List<Long> replicas = new ArrayList<>(copies);
      for (int r = 0; r < copies; r++) {
        replicas.add(peers.get((i + r) % peers.size()));
      }
      out.add(new ShardMeta(first + i, replicas, key));
    }
    return out;
  }

  static int replicationFactor(ObjectNode config) {
    return Math.max(1, config.path("params").path("replication_factor").asInt(1));
  }

  private CompletionStage<Object> propose(MetaOp op, Integer timeoutSeconds, Object answer) {
    Duration timeout = timeoutSeconds == null ? DEFAULT_TIMEOUT : Duration.ofSeconds(Math.max(1, timeoutSeconds));
    CompletionStage<Void> committed = consensus.propose(op, timeout);
    boolean reshapes = op instanceof MetaOp.CreateCollection || op instanceof MetaOp.DeleteCollection
        || op instanceof MetaOp.ChangeAliases || op instanceof MetaOp.CreateShardKey || op instanceof MetaOp.DropShardKey;
    if (reshapes && peersApplied != null) {
      // as Qdrant, a collection made (or dropped) is there on every live peer when the answer comes,
      // so that a request entering any peer right after finds it
      committed = committed.thenCompose(v -> allApplied(consensus.meta().appliedIndex(),
          System.nanoTime() + Math.min(timeout.toNanos(), SYNC_WAIT.toNanos())));
    }
    return committed.thenApply(v -> answer);
  }

  /** Completes once every other peer has applied {@code index}, or at the deadline (a peer that is down does not hold it up). */
  private CompletionStage<Void> allApplied(long index, long deadline) {
    List<CompletableFuture<Void>> waits = new ArrayList<>();
    long self = consensus.selfId();
    for (long peer : consensus.meta().state().peers().keySet()) {
      if (peer != self) {
        waits.add(applied(peer, index, deadline));
      }
    }
    return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new));
  }

  private CompletableFuture<Void> applied(long peer, long index, long deadline) {
    return peersApplied.of(peer).toCompletableFuture().handle((at, err) -> at != null && at >= index)
        .thenCompose(done -> {
          if (done || System.nanoTime() > deadline) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(50, java.util.concurrent.TimeUnit.MILLISECONDS))
              .thenCompose(v -> applied(peer, index, deadline));
        });
  }

  @Override
  public void onNoSpace(Consumer<String> listener) {
    local.onNoSpace(listener);
  }

  @Override
  public String mode() {
    return local.mode();
  }

  @Override
  public void close() {
    onClose.run();
    consensus.close();
    local.close();
  }
}
