package io.quiver.request;

import io.quiver.engine.PointId;

/** New vectors for an existing point ({@code PUT /points/vectors}); at least one is given. */
public record PointVectors(PointId id, Vectors vectors) {}
