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
  private final AtomicInteger turn;
  /** Qdrant's read consistency of this endpoint's reads (null: one replica). */
  private final String consistency;

  /** @param replica this node's replica of the shard, or null when it holds none */
  public ReplicatedShard(Replication replication, String collection, int id, Replica replica) {
    this(replication, collection, id, replica, null, new AtomicInteger());
  }

  private ReplicatedShard(Replication replication, String collection, int id, Replica replica, String consistency, AtomicInteger turn) {
    this.r = replication;
    this.collection = collection;
    this.id = id;
    this.replica = replica;
    this.consistency = consistency;
    this.turn = turn;
  }

  @Override
  public ShardEndpoint consistent(String consistency) {
    return new ReplicatedShard(r, collection, id, replica, consistency, turn);
  }

  /**
   * How many Active replicas a read asks, of {@code active}, and how many of their answers must
   * agree on a point, as Qdrant's replica set resolves reads: a factor asks that many and keeps what
   * all agree on; {@code quorum} asks a majority and keeps what all of them agree on; {@code all}
   * asks all and keeps what all agree on; {@code majority} asks all and keeps what a majority agrees on.
   */
  record Resolution(int ask, boolean majority) {
    static Resolution of(String consistency, int active) {
      if (consistency == null || active <= 1) {
        return new Resolution(1, false);
      }
      return switch (consistency) {
        case "majority" -> new Resolution(active, true);
        case "quorum" -> new Resolution(active / 2 + 1, false);
        case "all" -> new Resolution(active, false);
        default -> {
          int factor;
          try {
            factor = Integer.parseInt(consistency);
          } catch (NumberFormatException e) {
            factor = 1;
          }
          yield new Resolution(Math.max(1, Math.min(factor, active)), false);
        }
      };
    }

    /** How many of {@code answers} answers must hold an equal point. */
    int needed(int answers) {
      return majority ? answers / 2 + 1 : answers;
    }
  }

  /** Answers of several replicas made one, as Qdrant resolves them. */
  @FunctionalInterface
  interface Resolver<T> {
    T resolve(List<T> answers, Resolution how);
  }

  /** Points (hits, records) found equal in enough answers, in the order they first appear. */
  static List<Hit> resolveHits(List<List<Hit>> answers, Resolution how) {
    if (answers.size() == 1) {
      return answers.get(0);
    }
    // by point id: the distinct versions of the point the answers hold, and how many hold each
    java.util.Map<PointId, List<Hit>> versions = new java.util.LinkedHashMap<>();
    java.util.Map<PointId, List<Integer>> counts = new java.util.HashMap<>();
    for (List<Hit> a : answers) {
      java.util.Set<PointId> seen = new java.util.HashSet<>();
      for (Hit h : a) {
        if (!seen.add(h.id())) {
          continue;
        }
        List<Hit> vs = versions.computeIfAbsent(h.id(), k -> new ArrayList<>());
        List<Integer> ns = counts.computeIfAbsent(h.id(), k -> new ArrayList<>());
        int i = 0;
        while (i < vs.size() && !same(vs.get(i), h)) {
          i++;
        }
        if (i == vs.size()) {
          vs.add(h);
          ns.add(1);
        } else {
          ns.set(i, ns.get(i) + 1);
        }
      }
    }
    int needed = how.needed(answers.size());
    List<Hit> out = new ArrayList<>();
    versions.forEach((id, vs) -> {
      List<Integer> ns = counts.get(id);
      for (int i = 0; i < vs.size(); i++) {
        if (ns.get(i) >= needed) {
          out.add(vs.get(i));
          break;
        }
      }
    });
    return out;
  }

  /** Whether two answers hold the same point: id, score, order value, payload and vectors (numbers compared as floats, as stored). */
  static boolean same(Hit a, Hit b) {
    return a.id().equals(b.id()) && Float.compare(a.score(), b.score()) == 0
        && java.util.Objects.equals(a.orderValue() == null ? null : a.orderValue().doubleValue(),
            b.orderValue() == null ? null : b.orderValue().doubleValue())
        && same(a.payload(), b.payload()) && same(a.vector(), b.vector());
  }

  private static boolean same(com.fasterxml.jackson.databind.JsonNode a, com.fasterxml.jackson.databind.JsonNode b) {
    if (a == null || b == null || a.isNull() || b.isNull()) {
      return (a == null || a.isNull()) == (b == null || b.isNull());
    }
    if (a.isNumber() && b.isNumber()) {
      return a.isIntegralNumber() && b.isIntegralNumber() ? a.bigIntegerValue().equals(b.bigIntegerValue())
          : Float.compare(a.floatValue(), b.floatValue()) == 0;
    }
    if (a.isArray() && b.isArray()) {
      if (a.size() != b.size()) {
        return false;
      }
      for (int i = 0; i < a.size(); i++) {
        if (!same(a.get(i), b.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a.isObject() && b.isObject()) {
      if (a.size() != b.size()) {
        return false;
      }
      for (var e : a.properties()) {
        if (!same(e.getValue(), b.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  static long resolveCount(List<Long> answers, Resolution how) {
    List<Long> sorted = answers.stream().sorted().toList();
    return how.majority() ? sorted.get(sorted.size() / 2) : sorted.get(0);
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
    return read(op, null);
  }

  /** A read answered by as many Active replicas as the consistency asks, resolved by {@code resolver} (null: the first answer). */
  private <T> CompletionStage<T> read(Function<ShardEndpoint, CompletionStage<T>> op, Resolver<T> resolver) {
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
    Resolution how = Resolution.of(consistency, order.size());
    if (how.ask() <= 1 || resolver == null) {
      return attempt(order, 0, op);
    }
    // as many answers as asked, from distinct replicas; one that fails is replaced by the next
    List<T> answers = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(how.ask());
    List<CompletableFuture<Void>> lanes = new ArrayList<>();
    for (int i = 0; i < how.ask(); i++) {
      lanes.add(lane(order, i, next, op, answers).toCompletableFuture());
    }
    return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new)).thenApply(v -> {
      if (answers.size() < how.ask()) {
        throw new ApiException(503, "Service unavailable: read consistency " + consistency + " needs " + how.ask()
            + " answers of the replicas of shard " + id + " of collection `" + collection + "`, got " + answers.size());
      }
      return resolver.resolve(new ArrayList<>(answers), how);
    });
  }

  private <T> CompletionStage<Void> lane(List<ShardEndpoint> order, int i, java.util.concurrent.atomic.AtomicInteger next,
      Function<ShardEndpoint, CompletionStage<T>> op, List<T> answers) {
    return Shards.attempt(() -> op.apply(order.get(i))).handle((v, e) -> {
      if (e == null) {
        answers.add(v);
        return CompletableFuture.<Void>completedFuture(null);
      }
      int n = next.getAndIncrement();
      return n < order.size() ? lane(order, n, next, op, answers) : CompletableFuture.<Void>completedFuture(null);
    }).thenCompose(f -> f);
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
    return read(e -> e.search(call), ReplicatedShard::resolveHits);
  }

  @Override
  public CompletionStage<List<Hit>> rescore(Rescore call) {
    return read(e -> e.rescore(call), ReplicatedShard::resolveHits);
  }

  @Override
  public CompletionStage<List<Hit>> retrieve(Retrieve call) {
    return read(e -> e.retrieve(call), ReplicatedShard::resolveHits);
  }

  @Override
  public CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors) {
    return read(e -> e.vectors(ids, vectors));
  }

  @Override
  public CompletionStage<Page> scroll(Scroll call) {
    return read(e -> e.scroll(call), (pages, how) -> {
      List<List<Hit>> points = pages.stream().map(Page::points).toList();
      return new Page(resolveHits(points, how), pages.get(0).next());
    });
  }

  @Override
  public CompletionStage<Long> count(Filter filter) {
    return read(e -> e.count(filter), ReplicatedShard::resolveCount);
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
    return Shards.holdAll(holds).thenApply(taken -> () -> taken.forEach(Runnable::run));
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
      if (c instanceof RemoteShard.Unreachable) {
        // the primary is gone: its replica has missed writes from now on
        CompletionStage<Void> marked = r.propose(new MetaOp.SetReplicaState(collection, id, primary, ReplicaState.DEAD,
            ReplicaState.ACTIVE, s.term())).handle((x, err) -> (Void) null);
        return System.nanoTime() > deadline ? marked.thenCompose(x -> CompletableFuture.<WriteResult>failedFuture(visible(c)))
            : marked.thenCompose(x -> Replication.delay(100)).thenCompose(x -> write(call, deadline));
      }
      if (System.nanoTime() > deadline) {
        return CompletableFuture.<WriteResult>failedFuture(visible(c));
      }
      if (c instanceof ApiException a && a.status() == Replica.MISDIRECTED) {
        return Replication.delay(100).thenCompose(x -> write(call, deadline));
      }
      return CompletableFuture.<WriteResult>failedFuture(c);
    }).thenCompose(f -> f);
  }
}
