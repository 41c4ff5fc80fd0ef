package io.quiver.engine.filter;

import io.quiver.engine.PointId;
import java.util.List;

/** One condition of a filter (Qdrant's {@code Condition}); a {@link Filter} is itself a condition. */
public sealed interface Condition
    permits Filter, Condition.Field, Condition.IsEmpty, Condition.IsNull, Condition.HasId, Condition.HasVector, Condition.Nested {

  /**
   * A condition on the values at {@code key}; at least one part is set. As in Qdrant, when several
   * are set a value passes if any part accepts it, except that values_count, then is_empty, then
   * is_null take precedence over the others.
   */
  record Field(JsonPath key, Match match, Range range, Geo.BoundingBox geoBoundingBox, Geo.Radius geoRadius,
      Geo.Polygon geoPolygon, ValuesCount valuesCount, Boolean isEmpty, Boolean isNull) implements Condition {
    public Field {
      if (match == null && range == null && geoBoundingBox == null && geoRadius == null && geoPolygon == null
          && valuesCount == null && isEmpty == null && isNull == null) {
        throw new IllegalArgumentException("At least one field condition must be specified");
      }
    }

    /** A condition with only a match. */
    public static Field of(JsonPath key, Match match) {
      return new Field(key, match, null, null, null, null, null, null, null);
    }

    /** The outcome when the key has no value at all (Qdrant's {@code check_empty}). */
    public boolean checkEmpty() {
      if (isEmpty != null) {
        return isEmpty;
      }
      return isNull != null && !isNull;
    }
  }

  /** Every value at key is null or an empty array (vacuously true when there is none). */
  record IsEmpty(JsonPath key) implements Condition {}

  /** Some value at key is null itself (a null inside an array does not count). */
  record IsNull(JsonPath key) implements Condition {}

  record HasId(List<PointId> ids) implements Condition {
    public HasId {
      ids = List.copyOf(ids);
    }
  }

  /** The point has the named vector ("" for the unnamed default vector). */
  record HasVector(String vector) implements Condition {}

  /** Some object among the elements of the array at key ({@code key[]}) satisfies the whole filter. */
  record Nested(JsonPath key, Filter filter) implements Condition {}

  /** A numeric or a datetime range; bounds null when not given. */
  sealed interface Range {}

  record NumberRange(Double lt, Double gt, Double gte, Double lte) implements Range {
    public boolean test(double v) {
      return (lt == null || v < lt) && (gt == null || v > gt) && (gte == null || v >= gte) && (lte == null || v <= lte);
    }
  }

  /** Bounds in epoch microseconds. */
  record DatetimeRange(Long lt, Long gt, Long gte, Long lte) implements Range {
    public boolean test(long v) {
      return (lt == null || v < lt) && (gt == null || v > gt) && (gte == null || v >= gte) && (lte == null || v <= lte);
    }
  }

  /** Bounds on the number of values of one value: 0 for null, the length of an array, else 1. */
  record ValuesCount(Long lt, Long gt, Long gte, Long lte) {
    public boolean test(long n) {
      return (lt == null || n < lt) && (gt == null || n > gt) && (gte == null || n >= gte) && (lte == null || n <= lte);
    }
  }
}
