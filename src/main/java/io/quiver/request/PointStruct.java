package io.quiver.request;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;

/** A point of an upsert; {@code payload} is an object, empty when none was given. */
public record PointStruct(PointId id, Vectors vectors, ObjectNode payload) {}
