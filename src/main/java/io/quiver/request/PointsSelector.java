package io.quiver.request;

import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import java.util.List;

/** Which points an operation applies to: the listed ids, or those matching a filter. */
public record PointsSelector(List<PointId> ids, Filter filter) {
  public PointsSelector {
    if ((ids == null) == (filter == null)) {
      throw new IllegalArgumentException("exactly one of ids and filter");
    }
    ids = ids == null ? null : List.copyOf(ids);
  }

  public static PointsSelector ids(List<PointId> ids) {
    return new PointsSelector(ids, null);
  }

  public static PointsSelector filter(Filter filter) {
    return new PointsSelector(null, filter);
  }
}
