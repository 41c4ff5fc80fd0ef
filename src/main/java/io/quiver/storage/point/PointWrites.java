package io.quiver.storage.point;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterMatcher;
import io.quiver.error.ApiException;
import io.quiver.request.PointOperation;
import io.quiver.request.PointVectors;
import io.quiver.request.PointWrite;
import io.quiver.request.PointsSelector;
import io.quiver.storage.collection.Collection;
import io.quiver.request.PointStruct;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.ShardKeys;
import io.quiver.storage.collection.Shards;
import java.io.IOException;
import java.util.HashSet;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a {@link PointWrite} to a collection: every step is checked against the collection (vector
 * names, kinds and dimensions) before any runs, then the steps are applied one after another to a
 * {@link Changes} under the shard's write lock and logged as one WAL frame. A step that fails leaves
 * no trace of the whole write.
 */
public final class PointWrites {
  private PointWrites() {}

  /** One step, checked against the collection and ready to apply. */
  @FunctionalInterface
  private interface Step {
    void apply(Changes changes) throws IOException;
  }

  /**
   * Applies the write to the shards its {@code shard_key} selectors name ({@link ShardKeys#forWrite}):
   * under automatic sharding the whole collection; under custom sharding each key's shards, the
   * answer being the first key's. Every selector is checked before anything is applied. A batch
   * whose steps name different keys is applied step by step, as Qdrant applies a batch.
   */
  public static CompletionStage<Object> applyByKey(Collection col, PointWrite write) throws IOException {
    List<List<Collection>> targets = new ArrayList<>();
    for (PointOperation op : write.operations()) {
      targets.add(ShardKeys.forWrite(col, op.shardKey()));
    }
    if (!col.layout().custom()) {
      return apply(col, write);
    }
    boolean oneSelector = write.operations().stream().map(PointOperation::shardKey).distinct().count() <= 1;
    if (oneSelector) {
      return toEach(targets.isEmpty() ? List.of() : targets.get(0), write);
    }
    CompletionStage<List<Object>> chain = CompletableFuture.completedFuture(new ArrayList<>());
    for (int i = 0; i < write.operations().size(); i++) {
      PointWrite step = new PointWrite(write.collection(), List.of(write.operations().get(i)), false, write.write());
      List<Collection> views = targets.get(i);
      chain = chain.thenCompose(done -> Shards.attempt(() -> toEach(views, step)).thenApply(r -> {
        done.add(r);
        return done;
      }));
    }
    return chain.thenApply(results -> write.batch() ? results : results.get(0));
  }

  /** The write applied to each view (one per key) at once; the first one's answer. */
  private static CompletionStage<Object> toEach(List<Collection> views, PointWrite write) throws IOException {
    if (views.isEmpty()) {
      throw ApiException.wrongInput("Empty shard keys selection");
    }
    List<CompletionStage<Object>> calls = new ArrayList<>();
    for (Collection view : views) {
      calls.add(Shards.attempt(() -> apply(view, write)));
    }
    return Shards.all(calls).thenApply(results -> results.get(0));
  }

  /**
   * Applies the write; answers one UpdateResult, or a list of them (one per step) for a batch. The
   * whole write is checked against the collection first (vectors, names, dimensions; points named by
   * id that must exist), so a refused write changes nothing on any shard; then each shard applies
   * its part (points by id to the shard that holds them, filters to every shard) as one write.
   */
  public static CompletionStage<Object> apply(Collection col, PointWrite write) throws IOException {
    boolean wait = write.write().waitForResult();
    Map<Integer, List<PointOperation>> parts;
    if (col.singleShard()) {
      parts = Map.of(col.endpoints().keySet().iterator().next(), write.operations()); // the shard checks it whole
    } else {
      CollectionSchema schema = col.schema();
      for (PointOperation op : write.operations()) {
        step(op, schema); // checks the vectors of every step before any shard applies anything
      }
      parts = split(col, write.operations());
    }
    return checkExisting(col, write.operations(), parts.size())
        .thenCompose(v -> write.access().needsWritePermission() ? reserve(col, parts.keySet()) : CompletableFuture.completedFuture(List.<Runnable>of()))
        .thenCompose(holds -> send(col, write, parts, wait).whenComplete((r, e) -> holds.forEach(Runnable::run)));
  }

  /**
   * The write permission of every node that stores a part of the write, or the first refusal (the
   * holds taken are released): a node that is write-locked or out of disk refuses the whole write.
   */
  private static CompletionStage<List<Runnable>> reserve(Collection col, java.util.Set<Integer> targets) {
    List<CompletableFuture<Runnable>> holds = new ArrayList<>();
    for (int id : targets) {
      ShardEndpoint e = col.endpoints().get(id);
      holds.add(e == null ? CompletableFuture.completedFuture(() -> { }) : Shards.attempt(e::reserve).toCompletableFuture());
    }
    return Shards.holdAll(holds);
  }

  private static CompletionStage<Object> send(Collection col, PointWrite write, Map<Integer, List<PointOperation>> parts, boolean wait) {
    {
      List<CompletionStage<ShardEndpoint.WriteResult>> calls = new ArrayList<>();
      List<Integer> targets = new ArrayList<>(parts.keySet());
      for (int id : targets) {
        ShardEndpoint e = col.endpoints().get(id);
        calls.add(e == null ? CompletableFuture.failedFuture(ApiException.unavailable("Service unavailable: shard " + id
            + " of collection " + col.name + " is not reachable")) : Shards.attempt(() -> e.write(new ShardEndpoint.Write(parts.get(id), wait, ordering(write.write())))));
      }
      return settle(calls).thenApply(results -> {
        long seq = 0;
        boolean completed = true;
        for (ShardEndpoint.WriteResult r : results) {
          seq = Math.max(seq, r.operationId());
          completed &= r.completed();
        }
        Map<String, Object> one = updateResult(seq, completed);
        return write.batch() ? java.util.Collections.nCopies(write.operations().size(), one) : one;
      });
    }
  }

  /**
   * Every result, or Qdrant's failure when some shards failed: the first failure itself when all
   * did, else {@code Wrong input: N out of M shards failed to apply operation. First error captured: ...}.
   */
  private static <T> CompletionStage<List<T>> settle(List<CompletionStage<T>> calls) {
    List<CompletableFuture<T>> futures = calls.stream().map(CompletionStage::toCompletableFuture).toList();
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).handle((v, e) -> {
      List<T> out = new ArrayList<>();
      Throwable first = null;
      int failed = 0;
      for (CompletableFuture<T> f : futures) {
        try {
          out.add(f.join());
        } catch (RuntimeException failure) {
          failed++;
          first = first == null ? Shards.cause(failure) : first;
        }
      }
      if (failed == 0) {
        return out;
      }
      if (failed == futures.size()) {
        throw first instanceof RuntimeException r ? r : new java.util.concurrent.CompletionException(first);
      }
      String captured = Shards.message(first);
      if (first instanceof ApiException a && a.status() == 404 && captured.startsWith("Not found: ")) {
        captured = captured.substring("Not found: ".length());
      }
      throw ApiException.wrongInput(failed + " out of " + futures.size() + " shards failed to apply operation. First error captured: "
          + captured);
    });
  }

  /**
   * Each shard's part of the operations, in order: points and ids to the shard that holds them,
   * filters to every shard. A write that names no point goes to the first shard (it answers the
   * operation id).
   */
  static Map<Integer, List<PointOperation>> split(Collection col, List<PointOperation> operations) {
    Map<Integer, List<PointOperation>> parts = new TreeMap<>();
    for (PointOperation op : operations) {
      switch (op) {
        case PointOperation.Upsert u -> byShard(col, u.points(), PointStruct::id)
            .forEach((shard, points) -> add(parts, shard, new PointOperation.Upsert(points, u.updateFilter(), u.shardKey())));
        case PointOperation.UpdateVectors u -> byShard(col, u.points(), PointVectors::id)
            .forEach((shard, points) -> add(parts, shard, new PointOperation.UpdateVectors(points, u.updateFilter(), u.shardKey())));
        default -> {
          PointsSelector selector = selector(op);
          if (selector.ids() == null) {
            col.endpoints().keySet().forEach(shard -> add(parts, shard, op));
          } else {
            byShard(col, selector.ids(), id -> id)
                .forEach((shard, ids) -> add(parts, shard, withSelector(op, PointsSelector.ids(ids))));
          }
        }
      }
    }
    if (parts.isEmpty()) {
      parts.put(col.endpoints().keySet().iterator().next(), operations);
    }
    return parts;
  }

  private static void add(Map<Integer, List<PointOperation>> parts, int shard, PointOperation op) {
    parts.computeIfAbsent(shard, s -> new ArrayList<>()).add(op);
  }

  private static <T> Map<Integer, List<T>> byShard(Collection col, List<T> items, java.util.function.Function<T, PointId> id) {
    Map<Integer, List<T>> out = new TreeMap<>();
    for (T item : items) {
      out.computeIfAbsent(col.router().shardOf(id.apply(item)), s -> new ArrayList<>()).add(item);
    }
    return out;
  }

  private static PointsSelector selector(PointOperation op) {
    return switch (op) {
      case PointOperation.Delete d -> d.selector();
      case PointOperation.SetPayload s -> s.selector();
      case PointOperation.DeletePayload d -> d.selector();
      case PointOperation.ClearPayload c -> c.selector();
      case PointOperation.DeleteVectors d -> d.selector();
      case PointOperation.Upsert u -> throw new IllegalArgumentException("no selector");
      case PointOperation.UpdateVectors u -> throw new IllegalArgumentException("no selector");
    };
  }

  private static PointOperation withSelector(PointOperation op, PointsSelector selector) {
    return switch (op) {
      case PointOperation.Delete d -> new PointOperation.Delete(selector, d.shardKey());
      case PointOperation.SetPayload s -> new PointOperation.SetPayload(s.payload(), selector, s.key(), s.overwrite(), s.shardKey());
      case PointOperation.DeletePayload d -> new PointOperation.DeletePayload(d.keys(), selector, d.shardKey());
      case PointOperation.ClearPayload c -> new PointOperation.ClearPayload(selector, c.shardKey());
      case PointOperation.DeleteVectors d -> new PointOperation.DeleteVectors(selector, d.vectors(), d.shardKey());
      default -> throw new IllegalArgumentException("no selector");
    };
  }

  /**
   * A write over several shards is refused whole, as one shard refuses it, when a step names by id a
   * point that must exist and does not (updating vectors, changing a payload): 404 {@code No point
   * with id N found}, checked against the points as the earlier steps leave them (upserted, deleted
   * by id). After a step that deletes by filter the check stops: the shards check the rest.
   */
  private static CompletionStage<Void> checkExisting(Collection col, List<PointOperation> operations, int shards) {
    if (shards <= 1) {
      return CompletableFuture.completedFuture(null);
    }
    List<PointId> named = new ArrayList<>();
    for (PointOperation op : operations) {
      mustExist(op).forEach(named::add);
    }
    if (named.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return PointReads.points(col, named, Set.of()).thenAccept(found -> {
      Set<PointId> present = new HashSet<>(found.keySet());
      for (PointOperation op : operations) {
        for (PointId id : mustExist(op)) {
          if (!present.contains(id)) {
            throw ApiException.notFound("No point with id " + id + " found");
          }
        }
        switch (op) {
          case PointOperation.Upsert u -> u.points().forEach(p -> present.add(p.id()));
          case PointOperation.Delete d -> {
            if (d.selector().ids() == null) {
              return;
            }
            d.selector().ids().forEach(present::remove);
          }
          default -> {
            // the others keep points where they are
          }
        }
      }
    });
  }

  /** The ids a step names that must exist when it runs. */
  private static List<PointId> mustExist(PointOperation op) {
    return switch (op) {
      case PointOperation.UpdateVectors u -> u.points().stream().map(PointVectors::id).toList();
      case PointOperation.Upsert u -> List.of();
      case PointOperation.Delete d -> List.of();
      default -> selector(op).ids() == null ? List.of() : selector(op).ids();
    };
  }

  /**
   * Applies operations to one shard as one write: every step is checked against the schema before
   * any runs, then the steps change one {@link Changes} under the shard's write lock and are logged
   * as one WAL frame.
   *
   * @return the operation id
   */
  private static String ordering(io.quiver.request.WriteParams params) {
    return params.ordering() == null ? "weak" : params.ordering().name().toLowerCase(java.util.Locale.ROOT);
  }

  public static long applyToShard(Shard shard, CollectionSchema schema, List<PointOperation> operations, boolean wait)
      throws IOException {
    return applyToShard(shard, schema, operations, wait, (seq, payload) -> { });
  }

  /** As {@link #applyToShard(Shard, CollectionSchema, List, boolean)}, handing the written frame to {@code listener} (see {@link Shard.FrameListener}). */
  public static long applyToShard(Shard shard, CollectionSchema schema, List<PointOperation> operations, boolean wait,
      Shard.FrameListener listener) throws IOException {
    List<Step> steps = new ArrayList<>(operations.size());
    for (PointOperation op : operations) {
      steps.add(step(op, schema));
    }
    return shard.write(view -> {
      var changes = new Changes(view);
      for (Step s : steps) {
        s.apply(changes);
      }
      return changes.actions();
    }, wait, listener);
  }

  /**
   * Qdrant's UpdateResult. With {@code wait}, "completed" once the write is visible; a write that is
   * durable but could not be made visible yet (the index cannot flush on a full disk) stays
   * "acknowledged", as Qdrant answers for a logged but not yet applied operation.
   */
  public static Map<String, Object> updateResult(long seq, boolean completed) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("operation_id", seq);
    m.put("status", completed ? "completed" : "acknowledged");
    return m;
  }

  private static Step step(PointOperation op, CollectionSchema schema) {
    return switch (op) {
      case PointOperation.Upsert u -> upsert(u, schema);
      case PointOperation.Delete d -> ch -> {
        for (PointId id : resolve(ch, d.selector())) {
          ch.delete(id);
        }
      };
      case PointOperation.SetPayload s -> setPayload(s);
      case PointOperation.DeletePayload d -> ch -> {
        for (PointId id : resolve(ch, d.selector())) {
          Point p = existing(ch, id, d.selector());
          if (p != null) {
            ObjectNode next = p.payload().deepCopy();
            d.keys().forEach(path -> PayloadPaths.remove(next, path));
            ch.put(p.withPayload(next));
          }
        }
      };
      case PointOperation.ClearPayload c -> ch -> {
        for (PointId id : resolve(ch, c.selector())) {
          Point p = existing(ch, id, c.selector());
          if (p != null) {
            ch.put(p.withPayload(p.payload().objectNode()));
          }
        }
      };
      case PointOperation.UpdateVectors u -> updateVectors(u, schema);
      case PointOperation.DeleteVectors d -> deleteVectors(d, schema);
    };
  }

  private static Step upsert(PointOperation.Upsert u, CollectionSchema schema) {
    List<Point> points = new ArrayList<>(u.points().size());
    u.points().forEach(p -> points.add(VectorValues.point(p, schema)));
    return ch -> {
      for (Point p : points) {
        // the stored point is read only when an update filter judges it (a term lookup in every
        // segment and its stored fields: a tenth of a bulk ingest's CPU)
        if (u.updateFilter() == null || allowed(ch, ch.get(p.id()), u.updateFilter())) {
          ch.put(p);
        }
      }
    };
  }

  /** New points are always written; an existing one only when it matches the update filter. */
  private static boolean allowed(Changes ch, Point existing, Filter condition) {
    return condition == null || existing == null
        || FilterMatcher.matches(condition, existing.id(), existing.payload(), Changes.vectorNames(existing), ch.schema().payload());
  }

  private static Step setPayload(PointOperation.SetPayload s) {
    return ch -> {
      for (PointId id : resolve(ch, s.selector())) {
        Point p = existing(ch, id, s.selector());
        if (p == null) {
          continue;
        }
        ObjectNode next;
        if (s.key() != null) {
          next = p.payload().deepCopy();
          if (s.overwrite()) {
            PayloadPaths.remove(next, s.key());
          }
          PayloadPaths.setAt(next, s.key(), s.payload());
        } else if (s.overwrite()) {
          next = s.payload().deepCopy();
        } else {
          next = p.payload().deepCopy();
          next.setAll(s.payload().deepCopy());
        }
        ch.put(p.withPayload(next));
      }
    };
  }

  private static Step updateVectors(PointOperation.UpdateVectors u, CollectionSchema schema) {
    List<Map<String, float[]>> dense = new ArrayList<>();
    List<Map<String, SparseVector>> sparse = new ArrayList<>();
    for (PointVectors p : u.points()) {
      Map<String, float[]> d = new HashMap<>();
      Map<String, SparseVector> s = new HashMap<>();
      VectorValues.into(p.vectors(), schema, d, s);
      dense.add(d);
      sparse.add(s);
    }
    return ch -> {
      for (int i = 0; i < u.points().size(); i++) {
        PointId id = u.points().get(i).id();
        Point p = ch.get(id);
        if (p == null) {
          throw ApiException.notFound("No point with id " + id + " found");
        }
        if (!allowed(ch, p, u.updateFilter())) {
          continue;
        }
        Map<String, float[]> d = new HashMap<>(p.dense());
        d.putAll(dense.get(i));
        Map<String, SparseVector> s = new HashMap<>(p.sparse());
        s.putAll(sparse.get(i));
        ch.put(new Point(p.id(), d, s, p.payload()));
      }
    };
  }

  private static Step deleteVectors(PointOperation.DeleteVectors d, CollectionSchema schema) {
    Set<String> remove = new LinkedHashSet<>();
    for (String name : d.vectors()) {
      if (!schema.dense().containsKey(name) && !schema.sparse().containsKey(name)) {
        throw ApiException.wrongInput("Not existing vector name error: " + name);
      }
      remove.add(name);
    }
    return ch -> {
      for (PointId id : resolve(ch, d.selector())) {
        Point p = existing(ch, id, d.selector());
        if (p != null) {
          Map<String, float[]> dense = new HashMap<>(p.dense());
          Map<String, SparseVector> sparse = new HashMap<>(p.sparse());
          remove.forEach(n -> {
            dense.remove(n);
            sparse.remove(n);
          });
          ch.put(new Point(p.id(), dense, sparse, p.payload()));
        }
      }
    };
  }

  private static List<PointId> resolve(Changes ch, PointsSelector selector) throws IOException {
    return selector.ids() != null ? selector.ids() : ch.select(selector.filter());
  }

  /** A missing point named by id is a 404; one found by filter always exists. */
  private static Point existing(Changes ch, PointId id, PointsSelector selector) throws IOException {
    Point p = ch.get(id);
    if (p == null && selector.ids() != null) {
      throw ApiException.notFound("No point with id " + id + " found");
    }
    return p;
  }
}
