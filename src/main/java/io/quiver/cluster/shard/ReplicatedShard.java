package io.quiver.cluster.shard;

import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.ReplicaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.error.ApiException;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.Shards;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A shard of a collection in cluster mode, as this node's coordinator reaches it: its replicas,
 * wherever they are. Reads go to one Active replica (this node's own when it has one, else the
 * others in turn), and to the next one when a replica does not answer. Writes go to the shard's
 * primary; when the primary does not answer it is marked Dead (never the last Active replica) and
 * the write goes to the next primary. A write that reached a replica that is no longer primary is
 * sent again once the metadata has moved on.
 */
public final class ReplicatedShard implements ShardEndpoint {
  /** How long a write keeps looking for the shard's primary. */
  private static final long WRITE_RETRY_NANOS = 20_000_000_000L;

  private final Replication r;
  private final String collection;
  private final int id;
  private final Replica replica;
  private final AtomicInteger turn = new AtomicInteger();

  /** @param replica this node's replica of the shard, or null when it holds none */
  public ReplicatedShard(Replication replication, String collection, int id, Replica replica) {
    this.r = replication;
    this.collection = collection;
    this.id = id;
    this.replica = replica;
  }

  @Override
  public int id() {
    return id;
  }

  /** This node's replica, or null. */
  public Replica replica() {
    return replica;
  }

  /** This node's replica, even Dead or Partial (the cluster info shows its own points), or this shard when none is here. */
  @Override
  public ShardEndpoint own() {
    return replica != null ? replica.local() : this;
  }

  private <T> CompletionStage<T> read(Function<ShardEndpoint, CompletionStage<T>> op) {
    ShardMeta s;
    try {
      s = r.shard(collection, id);
    } catch (ApiException e) {
      return CompletableFuture.failedFuture(e);
    }
    List<ShardEndpoint> order = new ArrayList<>();
    if (replica != null && s.state(r.self) == ReplicaState.ACTIVE) {
      order.add(replica.local());
    }
    List<Long> others = new ArrayList<>(s.in(ReplicaState.ACTIVE));
    others.remove(r.self);
    if (!others.isEmpty()) {
      java.util.Collections.rotate(others, Math.floorMod(turn.getAndIncrement(), others.size()));
    }
    others.forEach(p -> order.add(r.remote(collection, id, p)));
    if (order.isEmpty()) {
      return CompletableFuture.failedFuture(new ApiException(503, "Service unavailable: no active replica of shard " + id
          + " of collection `" + collection + "`"));
    }
    return attempt(order, 0, op);
  }

  private <T> CompletionStage<T> attempt(List<ShardEndpoint> order, int i, Function<ShardEndpoint, CompletionStage<T>> op) {
    return Shards.attempt(() -> op.apply(order.get(i))).handle((v, e) -> {
      if (e == null) {
        return CompletableFuture.completedFuture(v);
      }
      Throwable c = Shards.cause(e);
      boolean retry = c instanceof RemoteShard.Unreachable || (c instanceof ApiException a && (a.status() == 503 || a.status() == Replica.MISDIRECTED));
      return retry && i + 1 < order.size() ? attempt(order, i + 1, op) : CompletableFuture.<T>failedFuture(visible(c));
    }).thenCompose(f -> f);
  }

  /** A failure as the client sees it: the internal status of a misdirected call becomes 503. */
  private static Throwable visible(Throwable c) {
    return c instanceof ApiException a && a.status() == Replica.MISDIRECTED ? new ApiException(503, a.getMessage()) : c;
  }

  @Override
  public CompletionStage<List<Hit>> search(Search call) {
    return read(e -> e.search(call));
  }

  @Override
  public CompletionStage<List<Hit>> rescore(Rescore call) {
    return read(e -> e.rescore(call));
  }

  @Override
  public CompletionStage<List<Hit>> retrieve(Retrieve call) {
    return read(e -> e.retrieve(call));
  }

  @Override
  public CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors) {
    return read(e -> e.vectors(ids, vectors));
  }

  @Override
  public CompletionStage<Page> scroll(Scroll call) {
    return read(e -> e.scroll(call));
  }

  @Override
  public CompletionStage<Long> count(Filter filter) {
    return read(e -> e.count(filter));
  }

  @Override
  public CompletionStage<List<Facets.Hit>> facet(JsonPath key, Filter filter, int limit) {
    return read(e -> e.facet(key, filter, limit));
  }

  @Override
  public CompletionStage<VectorSample> sample(Filter filter, String using, int n) {
    return read(e -> e.sample(filter, using, n));
  }

  @Override
  public CompletionStage<Stats> stats() {
    return read(ShardEndpoint::stats);
  }

  /**
   * The write permission of every other node whose replica takes writes: a locked or disk-blocked
   * one refuses the write before any replica changes. A node that does not answer holds nothing
   * up: its replica misses the write and is marked Dead.
   */
  @Override
  public CompletionStage<Runnable> reserve() {
    ShardMeta s;
    try {
      s = r.shard(collection, id);
    } catch (ApiException e) {
      return CompletableFuture.failedFuture(e);
    }
    List<CompletableFuture<Runnable>> holds = new ArrayList<>();
    for (long peer : s.replicas()) {
      if (peer != r.self && s.state(peer).takesWrites()) {
        holds.add(r.remote(collection, id, peer).reserve().toCompletableFuture()
            .exceptionally(e -> {
              if (Shards.cause(e) instanceof RemoteShard.Unreachable) {
                return () -> { };
              }
              throw e instanceof java.util.concurrent.CompletionException ce ? ce : new java.util.concurrent.CompletionException(e);
            }));
      }
    }
    return CompletableFuture.allOf(holds.toArray(CompletableFuture[]::new)).handle((v, err) -> {
      List<Runnable> taken = new ArrayList<>();
      Throwable first = null;
      for (CompletableFuture<Runnable> h : holds) {
        if (h.isCompletedExceptionally()) {
          first = first == null ? Shards.cause(h.handle((x, e) -> e).join()) : first;
        } else {
          taken.add(h.join());
        }
      }
      if (first != null) {
        taken.forEach(Runnable::run);
        throw first instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(first);
      }
      return () -> taken.forEach(Runnable::run);
    });
  }

  @Override
  public CompletionStage<WriteResult> write(Write call) {
    return write(call, System.nanoTime() + WRITE_RETRY_NANOS);
  }

  private CompletionStage<WriteResult> write(Write call, long deadline) {
    ShardMeta s;
    try {
      s = r.shard(collection, id);
    } catch (ApiException e) {
      return CompletableFuture.failedFuture(e);
    }
    long primary = s.primary();
    if (primary == -1) {
      return CompletableFuture.failedFuture(new ApiException(503, "Service unavailable: no active replica of shard " + id
          + " of collection `" + collection + "`"));
    }
    CompletionStage<WriteResult> sent = primary == r.self && replica != null ? replica.primaryWrite(call)
        : r.remote(collection, id, primary).write(call);
    return sent.handle((v, e) -> {
      if (e == null) {
        return CompletableFuture.completedFuture(v);
      }
      Throwable c = Shards.cause(e);
      if (System.nanoTime() > deadline) {
        return CompletableFuture.<WriteResult>failedFuture(visible(c));
      }
      if (c instanceof RemoteShard.Unreachable) {
        // the primary is gone: its replica has missed writes from now on
        return r.propose(new MetaOp.SetReplicaState(collection, id, primary, ReplicaState.DEAD, ReplicaState.ACTIVE, s.term()))
            .handle((x, err) -> (Void) null)
            .thenCompose(x -> Replication.delay(100))
            .thenCompose(x -> write(call, deadline));
      }
      if (c instanceof ApiException a && a.status() == Replica.MISDIRECTED) {
        return Replication.delay(100).thenCompose(x -> write(call, deadline));
      }
      return CompletableFuture.<WriteResult>failedFuture(c);
    }).thenCompose(f -> f);
  }
}
