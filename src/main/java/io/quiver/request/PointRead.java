package io.quiver.request;

import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import java.util.List;

/**
 * Reads of points that are not vector searches: retrieval by id, scroll, count, facets and the
 * distance matrix. Optional numbers are null when the request did not give them (strict mode checks
 * only what was given; execution applies Qdrant's defaults).
 */
public sealed interface PointRead extends Request {
  @Override
  String collection();

  @Override
  default Access access() {
    return Access.READ;
  }

  /** {@code POST /points}: the points with these ids that exist, in the order given. */
  record Retrieve(String collection, List<PointId> ids, WithPayload withPayload, WithVector withVector,
      ShardKeySelector shardKey, ReadParams read) implements PointRead {
    public Retrieve {
      ids = List.copyOf(ids);
    }
  }

  /** {@code GET /points/{id}}, with the id as the path gave it (for the not-found message). */
  record GetOne(String collection, PointId id, String rawId) implements PointRead {}

  /** Points in id order from {@code offset}, or ordered by a payload key; default limit 10. */
  record Scroll(String collection, Filter filter, Integer limit, PointId offset, OrderBy orderBy, WithPayload withPayload,
      WithVector withVector, ShardKeySelector shardKey, ReadParams read) implements PointRead {}

  record Count(String collection, Filter filter, boolean exact, ShardKeySelector shardKey, ReadParams read) implements PointRead {}

  /** Counts of the values of an indexed payload key; default limit 10. */
  record Facet(String collection, JsonPath key, Filter filter, Integer limit, boolean exact, ShardKeySelector shardKey,
      ReadParams read) implements PointRead {}

  /**
   * Qdrant's distance matrix over a random sample of points (default 10), each with its {@code
   * limit} nearest others (default 3); as pairs or as offsets.
   */
  record Matrix(String collection, Filter filter, Integer sample, Integer limit, String using, boolean offsets,
      ShardKeySelector shardKey, ReadParams read) implements PointRead {}
}
