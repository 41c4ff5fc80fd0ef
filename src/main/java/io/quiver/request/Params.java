package io.quiver.request;

import io.quiver.error.ApiException;
import java.util.Map;

/**
 * A request's query and path parameters (the REST query string, the bus message's {@code params}),
 * read with Qdrant's wording for what does not parse.
 */
public record Params(Map<String, String> values) {
  public static final Params NONE = new Params(Map.of());

  public Params {
    values = values == null ? Map.of() : Map.copyOf(values);
  }

  public String get(String name) {
    return values.get(name);
  }

  /** A boolean flag: {@code true}, {@code 1} or empty for true, {@code false} or {@code 0} for false. */
  public boolean flag(String name, boolean otherwise) {
    String v = values.get(name);
    if (v == null) {
      return otherwise;
    }
    return switch (v) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw new ApiException(400, "Format error in query params: " + name + ": expected true or false, got `" + v + "`");
    };
  }

  /** {@code timeout} in seconds (at least 1), or null. */
  public Integer timeout() {
    String t = values.get("timeout");
    if (t == null) {
      return null;
    }
    long value;
    try {
      value = Long.parseLong(t.trim());
    } catch (NumberFormatException e) {
      throw new ApiException(400, "Format error in query params: timeout: invalid digit found in string");
    }
    if (value < 1) {
      throw new ApiException(422, "Validation error in query params: [timeout: value " + t + " invalid, must be 1 or larger]");
    }
    return (int) Math.min(value, Integer.MAX_VALUE);
  }

  /** {@code wait} (default false) and {@code ordering} (default weak) of a write. */
  public WriteParams write() {
    String o = values.get("ordering");
    WriteParams.Ordering ordering = WriteParams.Ordering.WEAK;
    if (o != null) {
      ordering = switch (o) {
        case "weak" -> WriteParams.Ordering.WEAK;
        case "medium" -> WriteParams.Ordering.MEDIUM;
        case "strong" -> WriteParams.Ordering.STRONG;
        default -> throw new ApiException(400,
            "Format error in query params: ordering: unknown variant `" + o + "`, expected one of `weak`, `medium`, `strong`");
      };
    }
    return new WriteParams(flag("wait", false), ordering);
  }

  /** {@code timeout} and {@code consistency} (a positive number, {@code majority}, {@code quorum} or {@code all}) of a read. */
  public ReadParams read() {
    String c = values.get("consistency");
    if (c != null && !(c.equals("majority") || c.equals("quorum") || c.equals("all") || c.matches("[1-9][0-9]{0,8}"))) {
      throw new ApiException(400, "Format error in query params: consistency: data did not match any variant of untagged "
          + "enum ReadConsistency: expected a positive integer, `majority`, `quorum` or `all`");
    }
    Integer timeout = timeout();
    return timeout == null && c == null ? ReadParams.DEFAULT : new ReadParams(timeout, c);
  }
}
