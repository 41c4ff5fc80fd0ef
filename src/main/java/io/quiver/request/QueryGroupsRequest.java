package io.quiver.request;

import io.quiver.engine.filter.JsonPath;

/**
 * A query whose results are grouped by the values of a payload key: at most {@code groups}
 * groups of at most {@code groupSize} hits; with {@code withLookup}, each group's id names a point
 * of another collection to show with it.
 */
public record QueryGroupsRequest(QueryRequest query, JsonPath groupBy, int groupSize, int groups, WithLookup withLookup) {
  /** The collection to look group ids up in, and what to show of the points found. */
  public record WithLookup(String collection, WithPayload withPayload, WithVector withVector) {}
}
