package io.quiver.cluster.meta;

import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Request;
import io.quiver.request.WriteParams;
import io.quiver.storage.EngineStorageService;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's local storage in step with the cluster's metadata: after every applied
 * operation, and after a snapshot replaced the state, the collections, configs, shard keys, shards
 * held here (those whose replicas name this peer), payload indexes and aliases on disk are made to
 * match it. Every step compares before it acts, so replaying operations that were applied before a
 * restart changes nothing.
 *
 * <p>The local storage is the node's copy: what the metadata says wins. A collection on disk that
 * the metadata does not know is dropped (with a warning), so a peer that rejoins after a collection
 * was deleted in its absence deletes it too.
 */
public final class LocalSync implements ClusterMeta.Listener {
  private static final Logger log = LoggerFactory.getLogger(LocalSync.class);
  private static final long STEP_SECONDS = 600;

  private final EngineStorageService local;
  private final Catalogue catalogue;
  private final long self;

  /** @param self this node's peer id: it holds the shards whose replicas name it */
  public LocalSync(EngineStorageService local, long self) {
    this.local = local;
    this.catalogue = local.catalogue();
    this.self = self;
  }

  /**
   * False while the node replays its Raft log at start: a replayed operation is history, and acting
   * on it could drop data written after it (a shard moved away and back, a collection deleted and
   * made again). The first {@link #reconcile} brings the storage to the state the replay ended in.
   */
  private volatile boolean ready;

  /**
   * Ends the replay: from now on every applied operation changes the local storage. Call before
   * reading the state for the first {@link #reconcile}, so that no operation falls in between.
   */
  public synchronized void live() {
    ready = true;
  }

  @Override
  public synchronized void applied(MetaOp op, MetaState before, MetaState after) {
    if (!ready) {
      return;
    }
    switch (op) {
      case MetaOp.PutPeer p -> { }
      case MetaOp.RemovePeer r -> { }
      case MetaOp.ChangeAliases a -> aliases(after);
      default -> {
        Set<String> touched = new HashSet<>(before.collections().keySet());
        touched.addAll(after.collections().keySet());
        for (String name : touched) {
          if (!String.valueOf(before.collections().get(name)).equals(String.valueOf(after.collections().get(name)))) {
            collection(name, after.collections().get(name));
          }
        }
        if (!before.aliases().equals(after.aliases())) {
          aliases(after);
        }
      }
    }
  }

  /**
   * A snapshot replaced the state: while the node starts, that is the snapshot it resumes from, with
   * the log's later entries still to replay (the first {@link #reconcile} after the replay follows
   * it); later, a snapshot the leader installed, which the storage follows at once.
   */
  @Override
  public synchronized void restored(MetaState state) {
    if (ready) {
      reconcile(state);
    }
  }

  /** Makes the whole local storage match {@code state}. */
  public synchronized void reconcile(MetaState state) {
    Set<String> names = new HashSet<>(catalogue.names());
    names.addAll(state.collections().keySet());
    for (String name : names) {
      collection(name, state.collections().get(name));
    }
    aliases(state);
  }

  /** Makes the local collection {@code name} match {@code meta} (null: it must not exist). */
  private void collection(String name, MetaState.CollectionMeta meta) {
    Collection local = catalogue.names().contains(name) ? catalogue.resolve(name) : null;
    if (meta == null) {
      if (local != null) {
        log.info("Collection {} is not in the cluster's metadata: deleting the local copy", name);
        run(new CollectionRequest.Delete(name, null));
      }
      return;
    }
    if (local == null) {
      List<Integer> ids = meta.shards().stream().map(ShardMeta::id).toList();
      Set<Integer> mine = new java.util.TreeSet<>(meta.shardsOn(self).stream().map(ShardMeta::id).toList());
      Map<Integer, Object> keys = new java.util.TreeMap<>();
      meta.shards().stream().filter(s -> s.key() != null).forEach(s -> keys.put(s.id(), ShardMeta.storageKey(s.key())));
      ShardLayout layout = new ShardLayout(meta.customSharding() ? ShardLayout.CUSTOM : ShardLayout.AUTO, ids, null, keys,
          meta.nextShardId());
      try {
        this.local.createPart(name, meta.config(), layout, mine);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("collection " + name + " not created here", e);
      }
      local = catalogue.resolve(name);
    } else {
      if (meta.customSharding()) {
        shardKeys(local, meta);
      }
      localShards(local, meta);
    }
    if (!local.config().toString().equals(meta.config().toString())) {
      Collection col = local;
      try {
        synchronized (col) {
          col.updateConfig(meta.config());
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("collection " + name + ": config not written", e);
      }
    }
    indexes(name, local.schema().payload(), PayloadSchema.fromJson(meta.payloadIndex()));
  }

  /**
   * Makes the shard keys of a local collection (custom sharding) match the metadata: a key whose
   * shards are not the metadata's any more is dropped here, a key the metadata has is added with
   * the shards this node holds opened.
   */
  private void shardKeys(Collection col, MetaState.CollectionMeta meta) {
    Map<Object, List<Integer>> want = new java.util.LinkedHashMap<>();
    meta.shards().forEach(s -> want.computeIfAbsent(ShardMeta.storageKey(s.key()), k -> new ArrayList<>()).add(s.id()));
    ShardLayout have = col.layout();
    try {
      for (Object key : have.shardKeys()) {
        if (!have.shardsOf(key).equals(want.get(key))) {
          log.info("Collection {}: dropping shard key {} here", col.name, ShardLayout.shown(key));
          col.dropShards(key);
        }
      }
      Set<Integer> mine = new java.util.TreeSet<>(meta.shardsOn(self).stream().map(ShardMeta::id).toList());
      for (var e : want.entrySet()) {
        if (col.layout().shardsOf(e.getKey()).isEmpty()) {
          log.info("Collection {}: adding shard key {} (shards {}, {} here)", col.name, ShardLayout.shown(e.getKey()), e.getValue(),
              e.getValue().stream().filter(mine::contains).toList());
          col.addShards(e.getKey(), e.getValue(), mine);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("collection " + col.name + ": shard keys not applied here", e);
    }
  }

  /**
   * Makes the shards a local collection holds here match the metadata's replicas on this peer: a
   * shard placed on this peer is added (empty), one no longer placed here is dropped with its points.
   * Only shards of the local layout count (shard keys were put right before). A shard added is
   * empty: filling it (a copy from another replica) is the replication's part, and so is not
   * dropping a shard copied here when a restart replays an older placement.
   */
  private void localShards(Collection col, MetaState.CollectionMeta meta) {
    ShardLayout layout = col.layout();
    Set<Integer> want = new java.util.TreeSet<>();
    meta.shardsOn(self).forEach(s -> want.add(s.id()));
    want.retainAll(layout.shardIds());
    try {
      for (int id : layout.local()) {
        if (!want.contains(id)) {
          log.info("Collection {}: shard {} is no longer held by this peer: dropping it here", col.name, id);
          col.dropLocalShard(id);
        }
      }
      for (int id : want) {
        if (!layout.local().contains(id)) {
          log.info("Collection {}: shard {} is now held by this peer: adding it here", col.name, id);
          col.addLocalShard(id);
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("collection " + col.name + ": local shards not applied here", e);
    }
  }

  private void indexes(String name, PayloadSchema have, PayloadSchema want) {
    for (Map.Entry<String, FieldIndex> e : want.fields().entrySet()) {
      if (!e.getValue().equals(have.fields().get(e.getKey()))) {
        run(new CollectionRequest.CreateIndex(name, e.getKey(), e.getValue(), new WriteParams(true, WriteParams.Ordering.WEAK)));
      }
    }
    for (String field : have.fields().keySet()) {
      if (!want.fields().containsKey(field)) {
        run(new CollectionRequest.DeleteIndex(name, field, new WriteParams(true, WriteParams.Ordering.WEAK)));
      }
    }
  }

  private void aliases(MetaState state) {
    Map<String, String> have = catalogue.aliases();
    if (have.equals(state.aliases())) {
      return;
    }
    List<AliasRequest.Action> actions = new ArrayList<>();
    have.keySet().forEach(a -> actions.add(new AliasRequest.Delete(a)));
    state.aliases().forEach((alias, collection) -> {
      if (catalogue.names().contains(collection)) {
        actions.add(new AliasRequest.Create(collection, alias));
      }
    });
    run(new AliasRequest(actions, null));
  }

  private void run(Request request) {
    try {
      local.execute(request).toCompletableFuture().get(STEP_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while applying " + request, e);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("local storage refused " + request.getClass().getSimpleName() + " of "
          + request.collection() + ": " + cause.getMessage(), cause);
    }
  }
}
