package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.PointId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Parses Qdrant's filter JSON into a {@link Filter}, accepting what Qdrant accepts: {@code must},
 * {@code should} and {@code must_not} take one condition or an array; a condition is recognised by
 * its field ({@code key}, {@code is_empty}, {@code is_null}, {@code has_id}, {@code has_vector},
 * {@code nested}) in Qdrant's order, else it must be a filter (unknown fields rejected). Errors are
 * {@link FilterException}s naming the place, e.g. {@code filter.must[0]: unknown condition}.
 */
public final class FilterParser {
  private FilterParser() {}

  private static final Set<String> FILTER_FIELDS = Set.of("should", "min_should", "must", "must_not");

  /**
   * How deeply a filter's JSON may nest (objects and arrays, e.g. {@code must} in {@code should} in
   * {@code nested}): parsing, querying and matching recurse along it, so a bound here bounds the stack
   * they use whoever built the tree. Qdrant's JSON parser stops at 128 levels for a whole body.
   */
  public static final int MAX_DEPTH = 128;

  /** The filter of {@code node}; a missing or null filter matches everything. */
  public static Filter parse(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return Filter.ALL;
    }
    if (deeperThan(node, MAX_DEPTH)) {
      throw error("filter", "nested deeper than " + MAX_DEPTH + " levels");
    }
    return filter(node, "filter");
  }

  /** Whether {@code root} nests more than {@code max} containers; iterative, so any depth is safe to measure. */
  static boolean deeperThan(JsonNode root, int max) {
    var stack = new java.util.ArrayDeque<JsonNode>();
    var depths = new java.util.ArrayDeque<Integer>();
    stack.push(root);
    depths.push(1);
    while (!stack.isEmpty()) {
      JsonNode n = stack.pop();
      int d = depths.pop();
      if (!n.isContainerNode()) {
        continue;
      }
      if (d > max) {
        return true;
      }
      for (JsonNode child : n) {
        stack.push(child);
        depths.push(d + 1);
      }
    }
    return false;
  }

  static Filter filter(JsonNode n, String at) {
    if (!n.isObject()) {
      throw error(at, "expected a filter object, got " + n);
    }
    for (String name : (Iterable<String>) n::fieldNames) {
      if (!FILTER_FIELDS.contains(name)) {
        throw error(at, "unknown field `" + name + "`, expected one of `should`, `min_should`, `must`, `must_not`");
      }
    }
    return new Filter(conditions(n.get("must"), at + ".must"), conditions(n.get("should"), at + ".should"),
        conditions(n.get("must_not"), at + ".must_not"), minShould(n.get("min_should"), at + ".min_should"));
  }

  private static List<Condition> conditions(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isObject()) {
      return List.of(condition(n, at));
    }
    if (!n.isArray()) {
      throw error(at, "expected a condition or an array of conditions, got " + n);
    }
    List<Condition> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      out.add(condition(n.get(i), at + "[" + i + "]"));
    }
    return out;
  }

  private static Filter.MinShould minShould(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject()) {
      throw error(at, "expected an object with `conditions` and `min_count`");
    }
    JsonNode cs = n.get("conditions");
    if (cs == null || !cs.isArray()) {
      throw error(at + ".conditions", "expected an array of conditions");
    }
    Long min = uint(n.get("min_count"), at + ".min_count");
    if (min == null) {
      throw error(at, "missing field `min_count`");
    }
    return new Filter.MinShould(conditions(cs, at + ".conditions"), min);
  }

  static Condition condition(JsonNode n, String at) {
    if (n == null || !n.isObject()) {
      throw error(at, "expected a condition object, got " + n);
    }
    if (n.has("key")) {
      return field(n, at);
    }
    if (n.has("is_empty")) {
      return new Condition.IsEmpty(payloadField(n.get("is_empty"), at + ".is_empty"));
    }
    if (n.has("is_null")) {
      return new Condition.IsNull(payloadField(n.get("is_null"), at + ".is_null"));
    }
    if (n.has("has_id")) {
      return hasId(n.get("has_id"), at + ".has_id");
    }
    if (n.has("has_vector")) {
      JsonNode v = n.get("has_vector");
      if (!v.isTextual()) {
        throw error(at + ".has_vector", "expected a vector name, got " + v);
      }
      return new Condition.HasVector(v.textValue());
    }
    if (n.has("nested")) {
      JsonNode nested = n.get("nested");
      if (!nested.isObject() || !nested.has("filter")) {
        throw error(at + ".nested", "expected an object with `key` and `filter`");
      }
      return new Condition.Nested(path(nested.get("key"), at + ".nested.key"), filter(nested.get("filter"), at + ".nested.filter"));
    }
    for (String name : (Iterable<String>) n::fieldNames) {
      if (!FILTER_FIELDS.contains(name)) {
        throw error(at, "unknown condition (field `" + name + "`); expected a field condition (with `key`), "
            + "`is_empty`, `is_null`, `has_id`, `has_vector`, `nested` or a filter");
      }
    }
    return filter(n, at);
  }

  private static JsonPath path(JsonNode n, String at) {
    if (n == null || !n.isTextual()) {
      throw error(at, "expected a payload key string, got " + n);
    }
    try {
      return JsonPath.parse(n.textValue());
    } catch (IllegalArgumentException e) {
      throw error(at, e.getMessage());
    }
  }

  private static JsonPath payloadField(JsonNode n, String at) {
    if (n == null || !n.isObject()) {
      throw error(at, "expected an object with `key`");
    }
    return path(n.get("key"), at + ".key");
  }

  private static Condition.HasId hasId(JsonNode n, String at) {
    if (!n.isArray()) {
      throw error(at, "expected an array of point ids");
    }
    Set<PointId> ids = new LinkedHashSet<>();
    for (int i = 0; i < n.size(); i++) {
      try {
        ids.add(PointId.parse(n.get(i)));
      } catch (IllegalArgumentException e) {
        throw error(at + "[" + i + "]", e.getMessage());
      }
    }
    return new Condition.HasId(List.copyOf(ids));
  }

  private static Condition.Field field(JsonNode n, String at) {
    JsonPath key = path(n.get("key"), at + ".key");
    Match match = optional(n, "match", at, FilterParser::match);
    Condition.Range range = optional(n, "range", at, FilterParser::range);
    Geo.BoundingBox box = optional(n, "geo_bounding_box", at, (v, w) ->
        new Geo.BoundingBox(point(v.get("top_left"), w + ".top_left"), point(v.get("bottom_right"), w + ".bottom_right")));
    Geo.Radius radius = optional(n, "geo_radius", at, (v, w) ->
        new Geo.Radius(point(v.get("center"), w + ".center"), number(v.get("radius"), w + ".radius")));
    Geo.Polygon polygon = optional(n, "geo_polygon", at, FilterParser::polygon);
    Condition.ValuesCount count = optional(n, "values_count", at, (v, w) -> new Condition.ValuesCount(
        uint(v.get("lt"), w + ".lt"), uint(v.get("gt"), w + ".gt"), uint(v.get("gte"), w + ".gte"), uint(v.get("lte"), w + ".lte")));
    Boolean isEmpty = optional(n, "is_empty", at, FilterParser::bool);
    Boolean isNull = optional(n, "is_null", at, FilterParser::bool);
    if (match == null && range == null && box == null && radius == null && polygon == null && count == null
        && isEmpty == null && isNull == null) {
      throw FilterException.validation(at + ": At least one field condition must be specified");
    }
    try {
      return new Condition.Field(key, match, range, box, radius, polygon, count, isEmpty, isNull);
    } catch (IllegalArgumentException e) {
      throw error(at, e.getMessage());
    }
  }

  private static <T> T optional(JsonNode n, String name, String at, BiFunction<JsonNode, String, T> parser) {
    JsonNode v = n.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isObject() && !v.isBoolean()) {
      throw error(at + "." + name, "expected an object, got " + v);
    }
    return parser.apply(v, at + "." + name);
  }

  /** Qdrant's untagged match: the first of value, text, text_any, phrase, any, except that parses. */
  private static Match match(JsonNode n, String at) {
    FilterException first = null;
    for (String variant : List.of("value", "text", "text_any", "phrase", "any", "except")) {
      JsonNode v = n.get(variant);
      if (v == null) {
        continue;
      }
      String w = at + "." + variant;
      try {
        return switch (variant) {
          case "value" -> {
            if (v.isTextual()) {
              yield new Match.Value(v.textValue());
            }
            if (v.isIntegralNumber() && v.canConvertToLong()) {
              yield new Match.Value(v.longValue());
            }
            if (v.isBoolean()) {
              yield new Match.Value(v.booleanValue());
            }
            throw error(w, "expected a string, an integer or a bool, got " + v);
          }
          case "text" -> new Match.Text(string(v, w));
          case "text_any" -> new Match.TextAny(string(v, w));
          case "phrase" -> new Match.Phrase(string(v, w));
          case "any" -> new Match.Any(values(v, w));
          default -> new Match.Except(values(v, w));
        };
      } catch (FilterException e) {
        first = first == null ? e : first;
      }
    }
    throw first != null ? first : error(at, "expected one of `value`, `text`, `text_any`, `phrase`, `any`, `except`");
  }

  private static Match.Values values(JsonNode n, String at) {
    if (!n.isArray()) {
      throw error(at, "expected an array of strings or of integers");
    }
    Set<String> strings = new LinkedHashSet<>();
    Set<Long> ints = new LinkedHashSet<>();
    for (JsonNode e : n) {
      if (e.isTextual()) {
        strings.add(e.textValue());
      } else if (e.isIntegralNumber() && e.canConvertToLong()) {
        ints.add(e.longValue());
      } else {
        throw error(at, "expected an array of strings or of integers, got " + e);
      }
    }
    if (!strings.isEmpty() && !ints.isEmpty()) {
      throw error(at, "expected an array of strings or of integers, not both");
    }
    return ints.isEmpty() ? new Match.Keywords(List.copyOf(strings)) : new Match.Integers(List.copyOf(ints));
  }

  /** Qdrant's untagged range: all bounds numbers (or absent), else all datetime strings. */
  private static Condition.Range range(JsonNode n, String at) {
    List<String> names = List.of("lt", "gt", "gte", "lte");
    List<JsonNode> bounds = names.stream().map(b -> n.get(b) == null || n.get(b).isNull() ? null : n.get(b)).toList();
    if (bounds.stream().allMatch(b -> b == null || b.isNumber())) {
      Double[] d = bounds.stream().map(b -> b == null ? null : b.doubleValue()).toArray(Double[]::new);
      return new Condition.NumberRange(d[0], d[1], d[2], d[3]);
    }
    Long[] micros = new Long[4];
    for (int i = 0; i < 4; i++) {
      JsonNode b = bounds.get(i);
      if (b == null) {
        continue;
      }
      if (!b.isTextual()) {
        throw error(at, "expected bounds that are all numbers or all datetime strings, got " + n);
      }
      micros[i] = Datetimes.parseMicros(b.textValue());
      if (micros[i] == null) {
        throw error(at + "." + names.get(i), "'" + b.textValue() + "' is not in a supported date/time format, please use RFC 3339");
      }
    }
    return new Condition.DatetimeRange(micros[0], micros[1], micros[2], micros[3]);
  }

  private static Geo.Point point(JsonNode n, String at) {
    if (n == null || !n.isObject()) {
      throw error(at, "expected an object with `lon` and `lat`");
    }
    double lon = number(n.get("lon"), at + ".lon");
    double lat = number(n.get("lat"), at + ".lat");
    if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
      throw error(at, "Wrong format of GeoPoint payload: expected `lat` = " + lat + " within [-90;90] and `lon` = " + lon + " within [-180;180]");
    }
    return new Geo.Point(lon, lat);
  }

  private static Geo.Polygon polygon(JsonNode n, String at) {
    List<Geo.Point> exterior = ring(n.get("exterior"), at + ".exterior");
    List<List<Geo.Point>> interiors = new ArrayList<>();
    JsonNode in = n.get("interiors");
    if (in != null && !in.isNull()) {
      if (!in.isArray()) {
        throw error(at + ".interiors", "expected an array of line strings");
      }
      for (int i = 0; i < in.size(); i++) {
        interiors.add(ring(in.get(i), at + ".interiors[" + i + "]"));
      }
    }
    return new Geo.Polygon(exterior, interiors);
  }

  private static List<Geo.Point> ring(JsonNode n, String at) {
    JsonNode points = n == null ? null : n.get("points");
    if (points == null || !points.isArray()) {
      throw error(at, "expected an object with `points`");
    }
    List<Geo.Point> out = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      out.add(point(points.get(i), at + ".points[" + i + "]"));
    }
    if (out.size() <= 3) {
      throw error(at, "polygon invalid, the size must be at least 4, got " + out.size());
    }
    Geo.Point first = out.getFirst();
    Geo.Point last = out.getLast();
    if (Math.abs(first.lat() - last.lat()) > Math.ulp(1.0) || Math.abs(first.lon() - last.lon()) > Math.ulp(1.0)) {
      throw error(at, "polygon invalid, the first and the last points should be the same to form a closed line");
    }
    return out;
  }

  private static String string(JsonNode n, String at) {
    if (!n.isTextual()) {
      throw error(at, "expected a string, got " + n);
    }
    return n.textValue();
  }

  private static Boolean bool(JsonNode n, String at) {
    if (!n.isBoolean()) {
      throw error(at, "expected a boolean, got " + n);
    }
    return n.booleanValue();
  }

  private static double number(JsonNode n, String at) {
    if (n == null || !n.isNumber()) {
      throw error(at, "expected a number, got " + n);
    }
    return n.doubleValue();
  }

  private static Long uint(JsonNode n, String at) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isIntegralNumber() || n.bigIntegerValue().signum() < 0) {
      throw error(at, "expected a non-negative integer, got " + n);
    }
    return n.canConvertToLong() ? n.longValue() : Long.MAX_VALUE; // beyond any count
  }

  private static FilterException error(String at, String message) {
    return new FilterException(at + ": " + message);
  }
}
