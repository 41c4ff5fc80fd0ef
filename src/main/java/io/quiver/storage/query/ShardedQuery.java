package io.quiver.storage.query;

import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.query.Fusion;
import io.quiver.engine.query.Mmr;
import io.quiver.engine.query.Plan;
import io.quiver.request.Stage;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.ShardEndpoint.Hit;
import io.quiver.storage.collection.Shards;
import io.quiver.storage.point.PointReads;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a planned query over a collection of several shards, so that it answers as one shard holding
 * all the points would. A stage without prefetches runs on every shard with its limit, and the
 * shards' hits merge in the stage's order (score in the distance's direction, order value, or id;
 * ties by point id), cut at the limit. A stage with prefetches first runs them, so that it sees
 * their merged (global) candidates, then scores those where they live ({@link ShardEndpoint#rescore})
 * and merges again; fusion, MMR, sampling and the offset happen here, once. The {@link Plan} is
 * read only here, for each stage's kind, limit and direction: the shards are sent the stages.
 */
final class ShardedQuery {
  private final Collection col;
  private final QueryPlanner.Resolution resolution;
  /** Which shard holds each point found so far. */
  private final Map<PointId, ShardEndpoint> owners = new ConcurrentHashMap<>();

  private ShardedQuery(Collection col, QueryPlanner.Resolution resolution) {
    this.col = col;
    this.resolution = resolution;
  }

  /**
   * The hits of the query, best first: at the root as many as its limit ({@code plan}'s, limit +
   * offset), MMR re-ranking to {@code rootLimit}.
   */
  static CompletionStage<List<Hit>> run(Collection col, QueryPlanner.Resolution resolution, Plan plan, int rootLimit) {
    var q = new ShardedQuery(col, resolution);
    return q.stage(resolution.root(), plan, null, rootLimit);
  }

  private CompletionStage<List<Hit>> stage(Stage s, Plan p, Filter ancestors, Integer rootLimit) {
    if (s.prefetch().isEmpty()) {
      return leaf(s, p, QueryPlanner.and(ancestors, rootLimit != null ? resolution.rootFilter() : null), rootLimit);
    }
    Filter inherited = QueryPlanner.and(ancestors, p.filter());
    List<CompletionStage<List<Hit>>> children = new ArrayList<>();
    for (int i = 0; i < s.prefetch().size(); i++) {
      children.add(stage(s.prefetch().get(i), p.prefetch().get(i), inherited, null));
    }
    return Shards.all(children).thenCompose(sources -> combine(s, p, sources, rootLimit));
  }

  /** A stage without prefetches: every shard runs it; the hits merge. */
  private CompletionStage<List<Hit>> leaf(Stage s, Plan p, Filter filter, Integer rootLimit) {
    var call = new ShardEndpoint.Search(s, filter, QueryPlanner.byPosition(s, resolution.examples()), p.limit(), 1, null, 0,
        WithPayload.NONE, WithVector.NONE);
    CompletionStage<List<Hit>> merged = switch (p.scoring()) {
      case Plan.SampleScoring x -> sample(s, filter, call, p.limit());
      case Plan.MmrScoring m -> fanOut(call, bestFirst(m.nearest()), m.candidates());
      case null -> fanOut(call, Comparator.comparing(Hit::id), p.limit());
      case Plan.VectorScoring v -> fanOut(call, bestFirst(v), p.limit());
      case Plan.OrderScoring o -> fanOut(call, PointReads.orderValues(o.descending()), p.limit());
      case Plan.FusionScoring f -> throw new IllegalStateException("fusion without prefetches");
      case Plan.FormulaScoring f -> throw new IllegalStateException("formula without prefetches");
    };
    if (p.scoring() instanceof Plan.MmrScoring m && rootLimit != null) {
      return merged.thenCompose(candidates -> mmr(m, candidates, rootLimit));
    }
    return merged;
  }

  private CompletionStage<List<Hit>> fanOut(ShardEndpoint.Search call, Comparator<Hit> order, int limit) {
    List<CompletionStage<List<Hit>>> calls = new ArrayList<>();
    for (ShardEndpoint e : col.endpoints().values()) {
      calls.add(Shards.attempt(() -> e.search(call)).thenApply(hits -> owned(e, hits)));
    }
    return Shards.all(calls).thenApply(lists -> merge(lists, order, limit));
  }

  private List<Hit> owned(ShardEndpoint e, List<Hit> hits) {
    hits.forEach(h -> owners.put(h.id(), e));
    return hits;
  }

  private static List<Hit> merge(List<List<Hit>> lists, Comparator<Hit> order, int limit) {
    List<Hit> all = new ArrayList<>();
    lists.forEach(all::addAll);
    all.sort(order);
    return all.size() > limit ? new ArrayList<>(all.subList(0, limit)) : all;
  }

  /** The order of a vector stage's hits: score in the direction of its distance (custom scores: higher), then point id. */
  private Comparator<Hit> bestFirst(Plan.VectorScoring v) {
    CollectionSchema schema = col.schema();
    boolean higher = v.dense() == null || schema.dense().get(v.using()).distance().higherIsBetter();
    return bestFirst(higher);
  }

  private static Comparator<Hit> bestFirst(boolean higherIsBetter) {
    Comparator<Hit> byScore = Comparator.comparingDouble(Hit::score);
    return (higherIsBetter ? byScore.reversed() : byScore).thenComparing(Hit::id);
  }

  /**
   * A uniform sample of {@code limit} points of the whole collection: each shard samples up to
   * {@code limit} of its matching points and counts them; the draws are shared out between the
   * shards in proportion to what is left of each (as drawing without replacement from all).
   */
  private CompletionStage<List<Hit>> sample(Stage s, Filter filter, ShardEndpoint.Search call, int limit) {
    Filter matching = QueryPlanner.and(s.filter(), filter);
    List<CompletionStage<List<Hit>>> samples = new ArrayList<>();
    List<CompletionStage<Long>> counts = new ArrayList<>();
    for (ShardEndpoint e : col.endpoints().values()) {
      samples.add(Shards.attempt(() -> e.search(call)).thenApply(hits -> owned(e, hits)));
      counts.add(Shards.attempt(() -> e.count(matching)));
    }
    return Shards.all(samples).thenCombine(Shards.all(counts), (lists, sizes) -> {
      long[] left = new long[lists.size()];
      long total = 0;
      for (int i = 0; i < left.length; i++) {
        left[i] = sizes.get(i);
        total += left[i];
      }
      int[] taken = new int[left.length];
      List<Hit> out = new ArrayList<>();
      var random = ThreadLocalRandom.current();
      while (out.size() < limit && total > 0) {
        long draw = random.nextLong(total);
        int i = 0;
        while (draw >= left[i]) {
          draw -= left[i++];
        }
        if (taken[i] < lists.get(i).size()) {
          out.add(lists.get(i).get(taken[i]));
        }
        taken[i]++;
        left[i]--;
        total--;
      }
      return out;
    });
  }

  /** A stage with prefetches, once their merged candidates are known. */
  private CompletionStage<List<Hit>> combine(Stage s, Plan p, List<List<Hit>> sources, Integer rootLimit) {
    return switch (p.scoring()) {
      case Plan.VectorScoring v -> rescore(s, p, sources, bestFirst(v), p.limit());
      case Plan.MmrScoring m -> rootLimit != null
          ? rescore(s, p, sources, bestFirst(m.nearest()), m.candidates()).thenCompose(c -> mmr(m, c, rootLimit))
          : mmr(m, distinct(sources), p.limit());
      case Plan.OrderScoring o -> rescore(s, p, sources, PointReads.orderValues(o.descending()), p.limit());
      case Plan.FormulaScoring f -> rescore(s, p, sources, bestFirst(true), p.limit());
      case Plan.FusionScoring f -> CompletableFuture.completedFuture(
          Fusion.fuse(sources, Hit::id, Hit::score, Hit::withScore, f, p.threshold(), p.limit()));
      case Plan.SampleScoring x -> {
        List<Hit> candidates = new ArrayList<>();
        distinct(sources).forEach(h -> candidates.add(new Hit(h.id(), 0f, null, 0, null, null)));
        Collections.shuffle(candidates, ThreadLocalRandom.current());
        yield CompletableFuture.completedFuture(candidates.size() > p.limit() ? candidates.subList(0, p.limit()) : candidates);
      }
      case null -> throw new IllegalStateException("prefetches without a query");
    };
  }

  /** Each candidate once, in the order first seen. */
  private static List<Hit> distinct(List<List<Hit>> sources) {
    Map<PointId, Hit> out = new LinkedHashMap<>();
    sources.forEach(l -> l.forEach(h -> out.putIfAbsent(h.id(), h)));
    return new ArrayList<>(out.values());
  }

  /** The candidates scored by the stage's own query on the shards that hold them; merged. */
  private CompletionStage<List<Hit>> rescore(Stage s, Plan p, List<List<Hit>> sources, Comparator<Hit> order, int limit) {
    Map<ShardEndpoint, List<List<Hit>>> byShard = new LinkedHashMap<>();
    for (int i = 0; i < sources.size(); i++) {
      for (Hit h : sources.get(i)) {
        List<List<Hit>> lists = byShard.computeIfAbsent(owner(h.id()), e -> {
          List<List<Hit>> empty = new ArrayList<>();
          for (int k = 0; k < sources.size(); k++) {
            empty.add(new ArrayList<>());
          }
          return empty;
        });
        lists.get(i).add(h);
      }
    }
    ShardEndpoint.Examples examples = resolution.examples().get(s);
    Stage own = new Stage(List.of(), s.query(), s.using(), s.filter(), s.params(), s.scoreThreshold(), s.limit(), s.lookupFrom());
    List<CompletionStage<List<Hit>>> calls = new ArrayList<>();
    byShard.forEach((e, lists) -> calls.add(Shards.attempt(() -> e.rescore(new ShardEndpoint.Rescore(own, examples, lists, p.limit())))
        .thenApply(hits -> owned(e, hits))));
    return Shards.all(calls).thenApply(lists -> merge(lists, order, limit));
  }

  private ShardEndpoint owner(PointId id) {
    ShardEndpoint e = owners.get(id);
    return e != null ? e : col.endpointOf(id);
  }

  /** MMR over the candidates (in the order given), with their vectors read where they live. */
  private CompletionStage<List<Hit>> mmr(Plan.MmrScoring m, List<Hit> candidates, int limit) {
    String using = m.nearest().using();
    Map<ShardEndpoint, List<PointId>> byShard = new LinkedHashMap<>();
    candidates.forEach(h -> byShard.computeIfAbsent(owner(h.id()), e -> new ArrayList<>()).add(h.id()));
    List<CompletionStage<List<Point>>> calls = new ArrayList<>();
    byShard.forEach((e, ids) -> calls.add(Shards.attempt(() -> e.vectors(ids, Set.of(using)))));
    return Shards.all(calls).thenApply(lists -> {
      Map<PointId, Point> points = new java.util.HashMap<>();
      lists.forEach(l -> l.forEach(pt -> points.put(pt.id(), pt)));
      List<Hit> having = new ArrayList<>();
      List<Object> vectors = new ArrayList<>();
      java.util.Set<PointId> seen = new java.util.HashSet<>();
      for (Hit h : candidates) {
        Point pt = points.get(h.id());
        if (pt == null || !seen.add(h.id())) {
          continue;
        }
        Object v = m.distance() != null ? pt.dense().get(using) : pt.sparse().get(using);
        if (v != null) {
          having.add(h);
          vectors.add(v);
        }
      }
      return Mmr.select(m, having, vectors, limit);
    });
  }
}
