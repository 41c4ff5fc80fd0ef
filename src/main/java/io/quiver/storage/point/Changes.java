package io.quiver.storage.point;

import io.quiver.engine.Action;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterMatcher;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pending effect of one update (or of a whole batch) while it is planned under the shard's
 * write lock: reads see the shard plus what earlier steps changed; nothing reaches the shard until
 * {@link #actions()} is logged and applied, so a step that fails leaves no trace.
 */
final class Changes {
  private final Shard.View view;
  /** Latest state of each touched point; a null value means deleted. */
  private final Map<PointId, Point> overlay = new LinkedHashMap<>();

  Changes(Shard.View view) {
    this.view = view;
  }

  CollectionSchema schema() {
    return view.schema();
  }

  /** The current point, or null when it does not exist. */
  Point get(PointId id) throws IOException {
    if (overlay.containsKey(id)) {
      return overlay.get(id);
    }
    return view.read(r -> r.get(id, DocMapper.Selector.ALL));
  }

  void put(Point p) {
    overlay.put(p.id(), p);
  }

  void delete(PointId id) {
    overlay.put(id, null);
  }

  /** Ids of the points matching {@code filter} now, in id order. */
  List<PointId> select(Filter filter) throws IOException {
    List<PointId> stored = view.read(r -> r.ids(filter));
    Set<PointId> out = new java.util.TreeSet<>();
    for (PointId id : stored) {
      if (!overlay.containsKey(id)) {
        out.add(id);
      }
    }
    for (var e : overlay.entrySet()) {
      Point p = e.getValue();
      if (p != null && FilterMatcher.matches(filter, p.id(), p.payload(), vectorNames(p), schema().payload())) {
        out.add(p.id());
      }
    }
    return new ArrayList<>(out);
  }

  public static Set<String> vectorNames(Point p) {
    Set<String> names = new HashSet<>(p.dense().keySet());
    names.addAll(p.sparse().keySet());
    return names;
  }

  List<Action> actions() {
    List<Action> out = new ArrayList<>(overlay.size());
    overlay.forEach((id, p) -> out.add(p == null ? new Action.Delete(id) : new Action.Put(p)));
    return out;
  }

}
