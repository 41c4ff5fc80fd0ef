package io.quiver.request;

import io.quiver.engine.filter.Filter;
import java.util.List;

/**
 * One level of a universal query (Qdrant's {@code Prefetch}; the request's own fields form its
 * root): its prefetches, the query that scores them (or, without prefetches, the collection), the
 * vector {@code using} ("" for the unnamed one), a filter, search params, a score threshold, a limit
 * (null: 10) and where examples given by id are read.
 */
public record Stage(List<Stage> prefetch, Query query, String using, Filter filter, SearchParams params, Float scoreThreshold,
    Integer limit, LookupLocation lookupFrom) {
  public static final int DEFAULT_LIMIT = 10;

  public Stage {
    prefetch = List.copyOf(prefetch);
    using = using == null ? "" : using;
    params = params == null ? SearchParams.DEFAULT : params;
  }

  /** The limit, or Qdrant's default. */
  public int limitOrDefault() {
    return limit == null ? DEFAULT_LIMIT : limit;
  }
}
