package io.quiver.storage.strict;

import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.Match;
import io.quiver.engine.filter.PayloadSchema;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which payload indexes can answer which conditions (Qdrant's {@code FieldIndexType}), and the first
 * key of a filter that no index can answer: what {@code unindexed_filtering_retrieve} and {@code
 * _update} refuse.
 */
final class IndexCapabilities {
  private IndexCapabilities() {}

  /** What an index can answer. */
  enum Cap {
    KEYWORD_MATCH("keyword"), INT_MATCH("integer"), INT_RANGE("integer"), FLOAT_RANGE("float"), GEO("geo"),
    TEXT("text"), TEXT_PHRASE("text"), BOOL_MATCH("bool"), DATETIME_RANGE("datetime"), UUID_MATCH("uuid");

    final String schema;

    Cap(String schema) {
      this.schema = schema;
    }
  }

  /** A key no index can answer, and the index types that could. */
  record Unindexed(String key, String types) {}

  static Set<Cap> capabilities(FieldIndex index) {
    return switch (index.type()) {
      case KEYWORD -> EnumSet.of(Cap.KEYWORD_MATCH);
      case INTEGER -> {
        EnumSet<Cap> s = EnumSet.noneOf(Cap.class);
        if (!Boolean.FALSE.equals(index.lookup())) {
          s.add(Cap.INT_MATCH);
        }
        if (!Boolean.FALSE.equals(index.range())) {
          s.add(Cap.INT_RANGE);
        }
        yield s;
      }
      case FLOAT -> EnumSet.of(Cap.FLOAT_RANGE);
      case GEO -> EnumSet.of(Cap.GEO);
      case TEXT -> index.text() != null && index.text().phrase() ? EnumSet.of(Cap.TEXT, Cap.TEXT_PHRASE) : EnumSet.of(Cap.TEXT);
      case BOOL -> EnumSet.of(Cap.BOOL_MATCH);
      case DATETIME -> EnumSet.of(Cap.DATETIME_RANGE);
      case UUID -> EnumSet.of(Cap.UUID_MATCH, Cap.KEYWORD_MATCH);
    };
  }

  /** The index capabilities that can answer a field condition (any one suffices). */
  static Set<Cap> required(Condition.Field f) {
    EnumSet<Cap> out = EnumSet.noneOf(Cap.class);
    if (f.match() != null) {
      switch (f.match()) {
        case Match.Value v -> {
          if (v.value() instanceof String s) {
            if (isUuid(s)) {
              out.add(Cap.UUID_MATCH);
            }
            out.add(Cap.KEYWORD_MATCH);
          } else if (v.value() instanceof Long) {
            out.add(Cap.INT_MATCH);
          } else {
            out.add(Cap.BOOL_MATCH);
          }
        }
        case Match.Text t -> out.add(Cap.TEXT);
        case Match.TextAny t -> out.add(Cap.TEXT);
        case Match.Phrase p -> out.add(Cap.TEXT_PHRASE);
        case Match.Any a -> out.addAll(values(a.any()));
        case Match.Except e -> out.addAll(values(e.except()));
      }
    }
    if (f.range() instanceof Condition.DatetimeRange) {
      out.add(Cap.DATETIME_RANGE);
    } else if (f.range() != null) {
      out.add(Cap.FLOAT_RANGE);
      out.add(Cap.INT_RANGE);
    }
    if (f.geoBoundingBox() != null || f.geoRadius() != null || f.geoPolygon() != null) {
      out.add(Cap.GEO);
    }
    if (f.valuesCount() != null || f.isEmpty() != null || f.isNull() != null) {
      out.addAll(EnumSet.allOf(Cap.class));
    }
    return out;
  }

  private static Set<Cap> values(Match.Values v) {
    if (v instanceof Match.Keywords k) {
      return k.values().stream().allMatch(IndexCapabilities::isUuid) && !k.values().isEmpty()
          ? EnumSet.of(Cap.UUID_MATCH, Cap.KEYWORD_MATCH) : EnumSet.of(Cap.KEYWORD_MATCH);
    }
    return EnumSet.of(Cap.INT_MATCH);
  }

  private static boolean isUuid(String s) {
    try {
      java.util.UUID.fromString(s);
      return s.length() == 36;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The first condition of {@code f} (nested keys under {@code prefix}) that no index of {@code schema} answers, or null. */
  static Unindexed firstUnindexed(Filter f, JsonPath prefix, PayloadSchema schema) {
    for (Condition c : FilterCosts.topLevel(f)) {
      Unindexed u = unindexed(c, prefix, schema);
      if (u != null) {
        return u;
      }
    }
    return null;
  }

  private static Unindexed unindexed(Condition c, JsonPath prefix, PayloadSchema schema) {
    return switch (c) {
      case Filter f -> firstUnindexed(f, prefix, schema);
      case Condition.Nested n -> firstUnindexed(n.filter(), prefix == null ? n.key().arrayKey() : prefix.extend(n.key()).arrayKey(), schema);
      case Condition.IsEmpty e -> unindexed(full(prefix, e.key()), EnumSet.allOf(Cap.class), schema);
      case Condition.IsNull e -> unindexed(full(prefix, e.key()), EnumSet.allOf(Cap.class), schema);
      case Condition.HasId h -> null;
      case Condition.HasVector h -> null;
      case Condition.Field field -> unindexed(full(prefix, field.key()), required(field), schema);
    };
  }

  /** {@code key} when no index on it has one of {@code required}, with the types that would. */
  static Unindexed unindexed(JsonPath key, Set<Cap> required, PayloadSchema schema) {
    if (key == null || required.isEmpty()) {
      return null;
    }
    FieldIndex index = schema.get(key);
    if (index != null) {
      Set<Cap> has = capabilities(index);
      for (Cap r : required) {
        if (has.contains(r)) {
          return null;
        }
      }
    }
    Set<String> names = new TreeSet<>();
    required.forEach(r -> names.add(r.schema));
    return new Unindexed(key.toString(), String.join(", ", names));
  }

  private static JsonPath full(JsonPath prefix, JsonPath key) {
    return prefix == null ? key : prefix.extend(key);
  }

  /** The key a condition targets (Qdrant's {@code targeted_key}), or null. */
  static JsonPath targetedKey(Condition c) {
    return switch (c) {
      case Condition.Field f -> f.key();
      case Condition.IsEmpty e -> e.key();
      case Condition.IsNull e -> e.key();
      case Condition.Nested n -> n.key().arrayKey();
      case Filter f -> FilterCosts.topLevel(f).stream().map(IndexCapabilities::targetedKey).filter(java.util.Objects::nonNull)
          .findFirst().orElse(null);
      default -> null;
    };
  }
}
