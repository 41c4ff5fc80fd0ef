package io.quiver.request;

import io.quiver.engine.filter.JsonPath;

/**
 * Qdrant's {@code order_by}: a payload key with a range index, the direction, and where to start
 * ({@code start_from}: a number, or a datetime as epoch microseconds), or null.
 */
public record OrderBy(JsonPath key, boolean descending, Double startFrom) {}
