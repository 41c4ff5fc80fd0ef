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
import java.io.IOException;
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

  /** Applies the write; answers one UpdateResult, or a list of them (one per step) for a batch. */
  public static Object apply(Collection col, PointWrite write) throws IOException {
    CollectionSchema schema = col.schema();
    List<Step> steps = new ArrayList<>(write.operations().size());
    for (PointOperation op : write.operations()) {
      steps.add(step(op, schema));
    }
    boolean wait = write.write().waitForResult();
    long seq = col.shard.write(view -> {
      var changes = new Changes(view);
      for (Step s : steps) {
        s.apply(changes);
      }
      return changes.actions();
    }, wait);
    if (!write.batch()) {
      return updateResult(col.shard, seq, wait);
    }
    List<Object> results = new ArrayList<>(steps.size());
    for (int i = 0; i < steps.size(); i++) {
      results.add(updateResult(col.shard, seq, wait));
    }
    return results;
  }

  /**
   * Qdrant's UpdateResult. With {@code wait}, "completed" once the write is visible; a write that is
   * durable but could not be made visible yet (the index cannot flush on a full disk) stays
   * "acknowledged", as Qdrant answers for a logged but not yet applied operation.
   */
  public static Map<String, Object> updateResult(Shard shard, long seq, boolean wait) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("operation_id", seq);
    m.put("status", wait && shard.isVisible(seq) ? "completed" : "acknowledged");
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
        if (allowed(ch, ch.get(p.id()), u.updateFilter())) {
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
