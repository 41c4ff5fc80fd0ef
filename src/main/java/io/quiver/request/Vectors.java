package io.quiver.request;

import java.util.Map;

/**
 * The vectors of one point by name; {@code ""} is the unnamed default vector (the plain array form).
 * Names are checked against the collection when the request runs.
 */
public record Vectors(Map<String, VectorInput> byName) {
  public Vectors {
    byName = Map.copyOf(byName);
  }

  /** The plain array form: the unnamed vector. */
  public static Vectors unnamed(VectorInput v) {
    return new Vectors(Map.of("", v));
  }
}
