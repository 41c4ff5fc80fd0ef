package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.quiver.engine.PointId;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Evaluates a filter on one point in memory, with Qdrant's semantics: the reference that {@link
 * FilterQueries} must agree with, and the check behind its verification step.
 *
 * <p>Two Qdrant behaviours depend on where a condition sits. At the top level (Qdrant's optimized
 * filter) empty {@code should} / {@code min_should} lists are ignored, and a text-indexed key
 * answers {@code text}/{@code phrase}/{@code text_any} from its index: the tokens of all the key's
 * strings together, phrases needing {@code phrase_matching}. Inside {@code nested} (Qdrant's plain
 * checker) an empty {@code should} matches nothing, and a text index checks {@code text}/{@code
 * phrase} on each string on its own while {@code text_any} is a substring test.
 */
public final class FilterMatcher {
  private FilterMatcher() {}

  private static final JsonNode EMPTY = JsonNodeFactory.instance.objectNode();

  /** With no payload indexes (text matches are substring tests). */
  public static boolean matches(Filter f, PointId id, JsonNode payload, Set<String> vectorNames) {
    return matches(f, id, payload, vectorNames, PayloadSchema.EMPTY);
  }

  public static boolean matches(Filter f, PointId id, JsonNode payload, Set<String> vectorNames, PayloadSchema schema) {
    return f == null || new Scope(id, vectorNames, schema == null ? PayloadSchema.EMPTY : schema, null).filter(f, payload == null ? EMPTY : payload);
  }

  /** One top-level condition on a payload; for conditions that read only the payload (verification). */
  static boolean test(Condition c, JsonNode payload, PayloadSchema schema) {
    return new Scope(null, Set.of(), schema, null).condition(c, payload == null ? EMPTY : payload);
  }

  /** Where a condition is evaluated: the top level of a point, or inside the objects of a nested array ({@code prefix}). */
  private record Scope(PointId id, Set<String> vectors, PayloadSchema schema, JsonPath prefix) {
    boolean nested() {
      return prefix != null;
    }

    boolean filter(Filter f, JsonNode root) {
      if (f.should() != null && (nested() || !f.should().isEmpty())
          && f.should().stream().noneMatch(c -> condition(c, root))) {
        return false;
      }
      if (f.minShould() != null && (nested() || !f.minShould().conditions().isEmpty())
          && f.minShould().conditions().stream().filter(c -> condition(c, root)).count() < f.minShould().minCount()) {
        return false;
      }
      if (f.must() != null && !f.must().stream().allMatch(c -> condition(c, root))) {
        return false;
      }
      return f.mustNot() == null || f.mustNot().stream().noneMatch(c -> condition(c, root));
    }

    boolean condition(Condition c, JsonNode root) {
      return switch (c) {
        case Filter f -> filter(f, root);
        case Condition.Field f -> field(f, root);
        case Condition.IsEmpty e -> e.key().values(root).stream().allMatch(v -> v.isNull() || (v.isArray() && v.isEmpty()));
        case Condition.IsNull n -> n.key().values(root).stream().anyMatch(JsonNode::isNull);
        case Condition.HasId h -> id != null && h.ids().contains(id);
        case Condition.HasVector v -> vectors != null && vectors.contains(v.vector());
        case Condition.Nested n -> {
          // has_id and has_vector never hold inside nested objects, as in Qdrant
          JsonPath array = n.key().arrayKey();
          var inner = new Scope(null, Set.of(), schema, prefix == null ? array : prefix.extend(array));
          yield array.values(root).stream().anyMatch(o -> o.isObject() && inner.filter(n.filter(), o));
        }
      };
    }

    boolean field(Condition.Field f, JsonNode root) {
      FieldIndex text = isTextMatch(f.match()) ? schema.textIndex(prefix == null ? f.key() : prefix.extend(f.key())) : null;
      if (text != null && !nested()) {
        return indexTextMatch(f.match(), text, PayloadFields.textValues(f.key(), root));
      }
      List<JsonNode> values = f.key().values(root);
      if (values.isEmpty()) {
        return f.checkEmpty();
      }
      if (text != null && !(f.match() instanceof Match.TextAny)) {
        // Qdrant's nested checker asks the text index about each string on its own
        return values.stream().anyMatch(v -> PayloadFields.strings(v).stream().anyMatch(s -> valueTextMatch(f.match(), text, s)));
      }
      return values.stream().anyMatch(v -> check(f, v));
    }
  }

  static boolean isTextMatch(Match m) {
    return m instanceof Match.Text || m instanceof Match.Phrase || m instanceof Match.TextAny;
  }

  /** A text-indexed key at the top level: the tokens of all its strings, in order, as one document. */
  private static boolean indexTextMatch(Match m, FieldIndex index, List<String> strings) {
    TextTokenizer tok = TextTokenizer.of(index);
    List<String> doc = strings.stream().flatMap(s -> tok.document(s).stream()).toList();
    return switch (m) {
      case Match.Text t -> {
        Set<String> q = new HashSet<>(tok.query(t.text()));
        yield !q.isEmpty() && new HashSet<>(doc).containsAll(q);
      }
      case Match.Phrase p -> index.text().phrase() && containsPhrase(doc, tok.document(p.phrase()));
      case Match.TextAny t -> {
        Set<String> d = new HashSet<>(doc);
        yield tok.query(t.textAny()).stream().anyMatch(d::contains);
      }
      default -> false;
    };
  }

  /** A text index checking one string (Qdrant's special check inside nested). */
  private static boolean valueTextMatch(Match m, FieldIndex index, String s) {
    TextTokenizer tok = TextTokenizer.of(index);
    return switch (m) {
      case Match.Text t -> {
        Set<String> q = new HashSet<>(tok.query(t.text()));
        yield !q.isEmpty() && new HashSet<>(tok.document(s)).containsAll(q);
      }
      case Match.Phrase p -> containsPhrase(tok.document(s), tok.document(p.phrase()));
      default -> false;
    };
  }

  static boolean containsPhrase(List<String> doc, List<String> phrase) {
    if (doc.isEmpty() || phrase.isEmpty()) {
      return false;
    }
    for (int i = 0; i + phrase.size() <= doc.size(); i++) {
      if (doc.subList(i, i + phrase.size()).equals(phrase)) {
        return true;
      }
    }
    return false;
  }

  /** One value (Qdrant's {@code FieldCondition::check}): count/emptiness parts first, else any part on the value or its elements. */
  static boolean check(Condition.Field f, JsonNode v) {
    if (f.valuesCount() != null) {
      return f.valuesCount().test(v.isNull() ? 0 : v.isArray() ? v.size() : 1);
    }
    if (f.isEmpty() != null) {
      boolean empty = v.isNull() || (v.isArray() && v.isEmpty());
      return empty == f.isEmpty();
    }
    if (f.isNull() != null) {
      boolean isNull = v.isArray() ? PayloadFields.hasNull(v) : v.isNull();
      return isNull == f.isNull();
    }
    if (v.isArray()) {
      for (JsonNode e : v) {
        if (checkItem(f, e)) {
          return true;
        }
      }
      return false;
    }
    return checkItem(f, v);
  }

  private static boolean checkItem(Condition.Field f, JsonNode x) {
    if (f.match() != null && match(f.match(), x)) {
      return true;
    }
    if (f.range() != null && range(f.range(), x)) {
      return true;
    }
    double[] latLon = x.isObject() ? PayloadFields.geo(x) : null;
    if (latLon == null) {
      return false;
    }
    return (f.geoBoundingBox() != null && f.geoBoundingBox().contains(latLon[1], latLon[0]))
        || (f.geoRadius() != null && f.geoRadius().contains(latLon[1], latLon[0]))
        || (f.geoPolygon() != null && f.geoPolygon().contains(latLon[1], latLon[0]));
  }

  static boolean match(Match m, JsonNode x) {
    return switch (m) {
      case Match.Value(String s) -> x.isTextual() && x.textValue().equals(s);
      case Match.Value(Long n) -> PayloadFields.isLong(x) && x.longValue() == n;
      case Match.Value(Boolean b) -> x.isBoolean() && x.booleanValue() == b;
      case Match.Value v -> false;
      case Match.Text t -> x.isTextual() && x.textValue().contains(t.text());
      case Match.Phrase p -> x.isTextual() && x.textValue().contains(p.phrase());
      case Match.TextAny t -> x.isTextual() && Text.splitWhitespace(t.textAny()).stream().anyMatch(x.textValue()::contains);
      case Match.Any(Match.Keywords k) -> x.isTextual() && k.values().contains(x.textValue());
      case Match.Any(Match.Integers i) -> PayloadFields.isLong(x) && i.values().contains(x.longValue());
      case Match.Except(Match.Keywords k) -> !x.isNull() && !(x.isTextual() && k.values().contains(x.textValue()));
      case Match.Except(Match.Integers i) -> !x.isNull() && !(PayloadFields.isLong(x) && i.values().contains(x.longValue()));
    };
  }

  static boolean range(Condition.Range r, JsonNode x) {
    return switch (r) {
      case Condition.NumberRange n -> x.isNumber() && n.test(x.doubleValue());
      case Condition.DatetimeRange d -> {
        Long micros = x.isTextual() ? Datetimes.parseMicros(x.textValue()) : null;
        yield micros != null && d.test(micros);
      }
    };
  }
}
