package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects constraint violations with Qdrant's wording ({@code "vectors.size: value 0 invalid,
 * must be from 1 to 65536"}) and throws them together as one 422.
 */
public final class Validation {
  private final String where;
  private final List<String> errors = new ArrayList<>();

  private Validation(String where) {
    this.where = where;
  }

  public static Validation body() {
    return new Validation("JSON body");
  }

  public static Validation query() {
    return new Validation("query params");
  }

  public static Validation path() {
    return new Validation("path parameters");
  }

  public Validation add(String path, String message) {
    errors.add(path + ": " + message);
    return this;
  }

  /** An optional integer within [min, max] (max may be Long.MAX_VALUE for "min or larger"). */
  public Long range(JsonNode node, String path, long min, long max) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (!node.isIntegralNumber()) {
      throw ApiException.formatError(path + ": invalid type: " + kind(node) + ", expected an integer");
    }
    long v = node.asLong();
    if (v < min || v > max || !node.canConvertToLong()) {
      add(path, "value " + node.asText() + " invalid, " + bounds(min, max));
    }
    return v;
  }

  /** An optional count (Rust's {@code usize}) of at least {@code min}; beyond a long it saturates. */
  public Long count(JsonNode node, String path, long min) {
    if (node != null && node.isIntegralNumber() && !node.canConvertToLong() && node.bigIntegerValue().signum() > 0) {
      return Long.MAX_VALUE;
    }
    return range(node, path, min, Long.MAX_VALUE);
  }

  public Double range(JsonNode node, String path, double min, double max) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (!node.isNumber()) {
      throw ApiException.formatError(path + ": invalid type: " + kind(node) + ", expected a number");
    }
    double v = node.asDouble();
    if (v < min || v > max) {
      add(path, "value " + node.asText() + " invalid, " + bounds(min, max));
    }
    return v;
  }

  private static String bounds(double min, double max) {
    String lo = min == Math.rint(min) ? Long.toString((long) min) : Double.toString(min);
    if (max >= Long.MAX_VALUE || Double.isInfinite(max)) {
      return "must be " + lo + " or larger";
    }
    String hi = max == Math.rint(max) ? Long.toString((long) max) : Double.toString(max);
    return "must be from " + lo + " to " + hi;
  }

  public static String kind(JsonNode n) {
    if (n == null) {
      return "null";
    }
    return switch (n.getNodeType()) {
      case STRING -> "string \"" + n.asText() + "\"";
      case NUMBER -> (n.isIntegralNumber() ? "integer `" : "floating point `") + n.asText() + "`";
      case BOOLEAN -> "boolean `" + n.asText() + "`";
      case ARRAY -> "sequence";
      case OBJECT -> "map";
      case NULL -> "null";
      default -> n.getNodeType().toString().toLowerCase();
    };
  }

  public boolean ok() {
    return errors.isEmpty();
  }

  public void throwIfAny() {
    if (!errors.isEmpty()) {
      throw new ApiException(422, "Validation error in " + where + ": [" + String.join(", ", errors) + "]");
    }
  }
}
