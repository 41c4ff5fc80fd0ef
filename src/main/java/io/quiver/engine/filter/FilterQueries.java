package io.quiver.engine.filter;

import static io.quiver.engine.filter.PayloadFields.ARR;
import static io.quiver.engine.filter.PayloadFields.BOOLEAN;
import static io.quiver.engine.filter.PayloadFields.EMPTY;
import static io.quiver.engine.filter.PayloadFields.FLOAT;
import static io.quiver.engine.filter.PayloadFields.INT;
import static io.quiver.engine.filter.PayloadFields.NULL;
import static io.quiver.engine.filter.PayloadFields.OBJ;
import static io.quiver.engine.filter.PayloadFields.STR;

import io.quiver.engine.Fields;
import io.quiver.engine.PointId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.LatLonPoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.AutomatonQuery;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.WildcardQuery;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.automaton.Automata;
import org.apache.lucene.util.automaton.Operations;
import org.apache.lucene.util.automaton.TooComplexToDeterminizeException;

/**
 * Translates a {@link Filter} into a Lucene query over the fields of {@link PayloadFields}, matching
 * exactly the points {@link FilterMatcher} accepts. Each condition becomes an exact query, so
 * must_not and should compose as plain boolean clauses over all documents (documents without the
 * field included). Conditions the fields answer only approximately become a superset query
 * verified against the stored payload ({@link VerifyQuery}).
 *
 * <p>Inside a nested condition the builder runs in superset mode: each inner condition becomes a
 * query that holds for every document where some array element could satisfy it (negations and
 * conditions that hold on absent values become "all"), and the nested condition verifies the
 * candidates on the payload, since only the payload tells which element satisfied what.
 */
public final class FilterQueries {
  private FilterQueries() {}

  /** The query for {@code filter} (null: all points) under the collection's payload indexes. */
  public static Query toQuery(Filter filter, PayloadSchema schema) {
    return filter == null ? new MatchAllDocsQuery() : new Builder(schema == null ? PayloadSchema.EMPTY : schema).filter(filter, null);
  }

  private static final Query ALL = new MatchAllDocsQuery();
  private static final Query NONE = new MatchNoDocsQuery();
  private static final List<String> ANY_NODE = List.of(NULL, BOOLEAN, INT, FLOAT, STR, OBJ, ARR, EMPTY);
  private static final List<String> NOT_EMPTY_NODE = List.of(BOOLEAN, INT, FLOAT, STR, OBJ, ARR);
  /** Except-lists of more integers than this are verified instead of turned into ranges (Lucene's clause limit). */
  private static final int MAX_EXCEPT_GAPS = 256;
  /** Margin (degrees) between Lucene's quantized geo coordinates and Qdrant's exact boundaries. */
  private static final double GEO_EPS = 1e-6;

  /**
   * Builds queries. A null {@code prefix} means the top level, where queries are exact; a prefix
   * (the array path of an enclosing nested condition, keys are relative to its elements) means
   * superset mode.
   */
  private record Builder(PayloadSchema schema) {
    Query filter(Filter f, JsonPath prefix) {
      boolean sup = prefix != null;
      List<Query> must = new ArrayList<>();
      if (f.must() != null) {
        f.must().forEach(c -> must.add(condition(c, prefix)));
      }
      if (f.should() != null) {
        if (!f.should().isEmpty()) {
          must.add(or(f.should().stream().map(c -> condition(c, prefix)).toList()));
        } else if (sup) {
          return NONE; // the nested checker's any() over no conditions
        }
      }
      if (f.minShould() != null) {
        List<Condition> cs = f.minShould().conditions();
        long k = f.minShould().minCount();
        if (k > cs.size() && (sup || !cs.isEmpty())) {
          return NONE;
        }
        if (k > 0 && !cs.isEmpty()) {
          var b = new BooleanQuery.Builder();
          cs.forEach(c -> b.add(condition(c, prefix), Occur.SHOULD));
          must.add(b.setMinimumNumberShouldMatch((int) k).build());
        }
      }
      List<Query> mustNot = new ArrayList<>();
      if (f.mustNot() != null && !sup) {
        f.mustNot().forEach(c -> mustNot.add(condition(c, prefix)));
      }
      return and(must, mustNot);
    }

    Query condition(Condition c, JsonPath prefix) {
      boolean sup = prefix != null;
      return switch (c) {
        case Filter f -> filter(f, prefix);
        case Condition.Field f -> field(f, prefix);
        // true when no value is there: only a negation answers it, and a negation is no superset
        case Condition.IsEmpty e -> sup ? ALL : e.key().hasIndex() ? verify(ALL, null, c, false)
            : not(terms(PayloadFields.NODE_KIND, e.key(), NOT_EMPTY_NODE));
        case Condition.IsNull n -> {
          JsonPath path = resolve(n.key(), prefix);
          Query q = term(PayloadFields.NODE_KIND, path.widened(), NULL);
          yield path.hasIndex() ? verify(q, null, c, sup) : q;
        }
        case Condition.HasId h -> sup || h.ids().isEmpty() ? NONE
            : new TermInSetQuery(Fields.ID, h.ids().stream().map(PointId::term).toList());
        case Condition.HasVector v -> sup ? NONE : new TermQuery(new Term(Fields.HAS_VECTOR, v.vector()));
        case Condition.Nested n -> {
          JsonPath array = resolve(n.key(), prefix).arrayKey();
          Query candidates = and(List.of(term(PayloadFields.NODE_KIND, array.widened(), OBJ), filter(n.filter(), array)), List.of());
          yield verify(candidates, null, c, sup);
        }
      };
    }

    private static JsonPath resolve(JsonPath key, JsonPath prefix) {
      return prefix == null ? key : prefix.extend(key);
    }

    /** The documents where {@code approx} holds and the payload satisfies {@code c}; just {@code approx} in superset mode. */
    Query verify(Query approx, Query accept, Condition c, boolean sup) {
      return sup || approx instanceof MatchNoDocsQuery ? approx : new VerifyQuery(approx, accept, c, schema);
    }

    Query field(Condition.Field f, JsonPath prefix) {
      boolean sup = prefix != null;
      JsonPath path = resolve(f.key(), prefix);
      FieldIndex text = FilterMatcher.isTextMatch(f.match()) ? schema.textIndex(path) : null;
      if (text != null && !(sup && f.match() instanceof Match.TextAny)) {
        return sup && f.checkEmpty() ? ALL : indexText(f, text, path, sup);
      }
      if (sup || path.hasIndex()) {
        Query q = f.checkEmpty() ? ALL : values(f, path.widened(), true);
        return verify(q, null, f, sup);
      }
      Query q = values(f, path, false);
      return f.checkEmpty() ? or(List.of(q, not(terms(PayloadFields.NODE_KIND, path, ANY_NODE)))) : q;
    }

    /** Documents with a value at {@code p} that passes {@code f}; {@code approx}: a superset suffices. */
    Query values(Condition.Field f, JsonPath p, boolean approx) {
      if (f.valuesCount() != null) {
        Condition.ValuesCount c = f.valuesCount();
        if (c.gt() != null && c.gt() == Long.MAX_VALUE) {
          return NONE;
        }
        long lo = Math.max(Math.max(c.gt() == null ? 0 : c.gt() + 1, c.gte() == null ? 0 : c.gte()), 0);
        long hi = Math.min(c.lt() == null ? Long.MAX_VALUE : c.lt() - 1, c.lte() == null ? Long.MAX_VALUE : c.lte());
        return lo > hi || lo > Integer.MAX_VALUE ? NONE
            : IntPoint.newRangeQuery(PayloadFields.COUNT + p, (int) lo, (int) Math.min(hi, Integer.MAX_VALUE));
      }
      if (f.isEmpty() != null) {
        return terms(PayloadFields.NODE_KIND, p, f.isEmpty() ? List.of(NULL, EMPTY) : NOT_EMPTY_NODE);
      }
      if (f.isNull() != null) {
        return f.isNull() ? term(PayloadFields.ITEM_KIND, p, NULL)
            : or(List.of(terms(PayloadFields.NODE_KIND, p, List.of(BOOLEAN, INT, FLOAT, STR, OBJ)),
                term(PayloadFields.NODE_KIND, p, PayloadFields.NO_NULLS)));
      }
      var items = new Items(this, f, p, approx);
      List<Query> parts = new ArrayList<>();
      if (f.match() != null) {
        parts.add(items.match(f.match()));
      }
      if (f.range() != null) {
        parts.add(items.range(f.range()));
      }
      if (f.geoBoundingBox() != null) {
        parts.add(items.box(f.geoBoundingBox()));
      }
      if (f.geoRadius() != null) {
        parts.add(items.radius(f.geoRadius()));
      }
      if (f.geoPolygon() != null) {
        parts.add(items.polygon(f.geoPolygon()));
      }
      return or(parts);
    }

    /**
     * A text match on a text-indexed key. Top level: exact on the index tokens (Qdrant's index
     * semantics). Nested: a superset of the per-string check (all query tokens somewhere).
     */
    Query indexText(Condition.Field f, FieldIndex index, JsonPath key, boolean sup) {
      TextTokenizer tok = TextTokenizer.of(index);
      String field = PayloadFields.TEXT + key;
      Query longTokens = term(PayloadFields.INEXACT, key, PayloadFields.LONG_TOKEN);
      return switch (f.match()) {
        case Match.Text t -> allTokens(new ArrayList<>(new TreeSet<>(tok.query(t.text()))), field, longTokens, f, sup);
        case Match.Phrase p -> {
          List<String> phrase = tok.document(p.phrase());
          if (phrase.isEmpty() || (!sup && !index.text().phrase())) {
            yield NONE;
          }
          if (sup || phrase.stream().anyMatch(FilterQueries::tooLong)) {
            yield allTokens(phrase, field, longTokens, f, sup);
          }
          yield new PhraseQuery(field, phrase.toArray(String[]::new));
        }
        case Match.TextAny t -> {
          List<Query> any = new ArrayList<>();
          for (String s : new TreeSet<>(tok.query(t.textAny()))) {
            any.add(tooLong(s) ? verify(longTokens, null, f, sup) : new TermQuery(new Term(field, s)));
          }
          yield or(any);
        }
        default -> throw new IllegalStateException("not a text match: " + f.match());
      };
    }

    private Query allTokens(List<String> tokens, String field, Query longTokens, Condition.Field f, boolean sup) {
      if (tokens.isEmpty()) {
        return NONE;
      }
      List<Query> all = new ArrayList<>();
      boolean anyLong = false;
      for (String s : tokens) {
        if (tooLong(s)) {
          anyLong = true;
        } else {
          all.add(new TermQuery(new Term(field, s)));
        }
      }
      if (anyLong) {
        all.add(longTokens);
        return verify(and(all, List.of()), null, f, sup);
      }
      return and(all, List.of());
    }
  }

  /** Queries on the items (values and array elements) at one path, for one field condition. */
  private record Items(Builder b, Condition.Field f, JsonPath p, boolean approx) {
    Query verify(Query q, Query accept) {
      return b.verify(q, accept, f, approx);
    }

    Query longStrings() {
      return term(PayloadFields.INEXACT, p, PayloadFields.LONG_STRING);
    }

    Query kinds(String... kinds) {
      return terms(PayloadFields.ITEM_KIND, p, Arrays.asList(kinds));
    }

    Query match(Match m) {
      String keywords = PayloadFields.KEYWORD + p;
      String integers = PayloadFields.INTEGER + p;
      return switch (m) {
        case Match.Value(String s) -> tooLong(s) ? verify(longStrings(), null) : new TermQuery(new Term(keywords, s));
        case Match.Value(Long n) -> LongPoint.newExactQuery(integers, n);
        case Match.Value(Boolean v) -> term(PayloadFields.BOOL, p, v.toString());
        case Match.Value v -> NONE;
        case Match.Any(Match.Keywords k) -> {
          List<BytesRef> terms = k.values().stream().filter(s -> !tooLong(s)).map(BytesRef::new).toList();
          yield or(Arrays.asList(terms.isEmpty() ? null : new TermInSetQuery(keywords, terms),
              terms.size() < k.values().size() ? verify(longStrings(), null) : null));
        }
        case Match.Any(Match.Integers i) -> i.values().isEmpty() ? NONE : LongPoint.newSetQuery(integers, i.values());
        case Match.Except(Match.Keywords k) -> {
          // a string item not in the list, or any item that is neither a string nor null
          List<String> shortOnes = k.values().stream().filter(s -> !tooLong(s)).toList();
          Query longOnes = shortOnes.size() < k.values().size() ? verify(longStrings(), null) : longStrings();
          yield or(List.of(otherStrings(keywords, shortOnes), longOnes, kinds(INT, FLOAT, BOOLEAN, OBJ, ARR)));
        }
        case Match.Except(Match.Integers i) -> or(List.of(otherIntegers(integers, i.values()), kinds(FLOAT, STR, BOOLEAN, OBJ, ARR)));
        case Match.Text t -> or(List.of(substring(keywords, t.text()), verify(longStrings(), null)));
        case Match.Phrase ph -> or(List.of(substring(keywords, ph.phrase()), verify(longStrings(), null)));
        case Match.TextAny t -> {
          List<String> words = Text.splitWhitespace(t.textAny());
          List<Query> any = new ArrayList<>(words.stream().map(w -> substring(keywords, w)).toList());
          if (!words.isEmpty()) {
            any.add(verify(longStrings(), null));
          }
          yield or(any);
        }
      };
    }

    /** Documents with a string item outside {@code excluded}: the complement automaton of the list. */
    private Query otherStrings(String field, List<String> excluded) {
      var sorted = new TreeSet<BytesRef>();
      excluded.forEach(s -> sorted.add(new BytesRef(s)));
      if (sorted.stream().anyMatch(s -> s.length > Automata.MAX_STRING_UNION_TERM_LENGTH)) {
        return verify(kinds(STR), null);
      }
      try {
        var automaton = Operations.complement(Automata.makeStringUnion(sorted), Operations.DEFAULT_DETERMINIZE_WORK_LIMIT);
        return new AutomatonQuery(new Term(field), automaton);
      } catch (TooComplexToDeterminizeException e) {
        return verify(kinds(STR), null);
      }
    }

    /** Documents with an integer item outside {@code excluded}: the gaps between the excluded values. */
    private Query otherIntegers(String field, List<Long> excluded) {
      long[] sorted = excluded.stream().mapToLong(Long::longValue).sorted().distinct().toArray();
      if (sorted.length > MAX_EXCEPT_GAPS) {
        return verify(LongPoint.newRangeQuery(field, Long.MIN_VALUE, Long.MAX_VALUE), null);
      }
      List<Query> gaps = new ArrayList<>();
      long from = Long.MIN_VALUE;
      boolean open = true; // whether values from `from` on are still possible
      for (long x : sorted) {
        if (open && x > from) {
          gaps.add(LongPoint.newRangeQuery(field, from, x - 1));
        }
        open = x != Long.MAX_VALUE;
        from = x + 1;
      }
      if (open) {
        gaps.add(LongPoint.newRangeQuery(field, from, Long.MAX_VALUE));
      }
      return or(gaps);
    }

    /** String items containing {@code s} (Qdrant's {@code str::contains}). */
    private Query substring(String field, String s) {
      StringBuilder pattern = new StringBuilder("*");
      s.codePoints().forEach(cp -> {
        if (cp == '*' || cp == '?' || cp == '\\') {
          pattern.append('\\');
        }
        pattern.appendCodePoint(cp);
      });
      try {
        return new WildcardQuery(new Term(field, pattern.append('*').toString()));
      } catch (TooComplexToDeterminizeException e) {
        return verify(kinds(STR), null);
      }
    }

    Query range(Condition.Range r) {
      return switch (r) {
        case Condition.NumberRange n -> {
          double lo = Double.NEGATIVE_INFINITY;
          double hi = Double.POSITIVE_INFINITY;
          if (n.gt() != null) {
            lo = Math.max(lo, Math.nextUp(zero(n.gt())));
          }
          if (n.gte() != null) {
            lo = Math.max(lo, zero(n.gte()));
          }
          if (n.lt() != null) {
            hi = Math.min(hi, Math.nextDown(zero(n.lt())));
          }
          if (n.lte() != null) {
            hi = Math.min(hi, zero(n.lte()));
          }
          yield lo > hi ? NONE : DoublePoint.newRangeQuery(PayloadFields.NUMBER + p, lo, hi);
        }
        case Condition.DatetimeRange d -> {
          long lo = Long.MIN_VALUE;
          long hi = Long.MAX_VALUE;
          if (d.gt() != null) {
            if (d.gt() == Long.MAX_VALUE) {
              yield NONE;
            }
            lo = Math.max(lo, d.gt() + 1);
          }
          if (d.gte() != null) {
            lo = Math.max(lo, d.gte());
          }
          if (d.lt() != null) {
            if (d.lt() == Long.MIN_VALUE) {
              yield NONE;
            }
            hi = Math.min(hi, d.lt() - 1);
          }
          if (d.lte() != null) {
            hi = Math.min(hi, d.lte());
          }
          yield lo > hi ? NONE : LongPoint.newRangeQuery(PayloadFields.DATETIME + p, lo, hi);
        }
      };
    }

    /** -0.0 as 0.0, as the points are indexed. */
    private static double zero(double d) {
      return d == 0 ? 0.0 : d;
    }

    /** Points out of Lucene's coordinate range can still pass Qdrant's checks: always verified. */
    private Query badGeo() {
      return verify(term(PayloadFields.INEXACT, p, PayloadFields.BAD_GEO), null);
    }

    Query box(Geo.BoundingBox box) {
      String field = PayloadFields.GEO + p;
      double top = box.topLeft().lat();
      double bottom = box.bottomRight().lat();
      double left = box.topLeft().lon();
      double right = box.bottomRight().lon();
      boolean crosses = left > right; // Qdrant's antimeridian convention
      Query outer = widenedBox(field, bottom - GEO_EPS, top + GEO_EPS, left - GEO_EPS, right + GEO_EPS, crosses);
      Query inner = shrunkBox(field, bottom + GEO_EPS, top - GEO_EPS, left + GEO_EPS, right - GEO_EPS, crosses);
      return or(List.of(verify(outer, inner), badGeo()));
    }

    /** A box at least as large as the given one, clamped to valid coordinates. */
    private static Query widenedBox(String field, double minLat, double maxLat, double minLon, double maxLon, boolean crosses) {
      minLat = Math.max(-90, minLat);
      maxLat = Math.min(90, maxLat);
      minLon = Math.max(-180, minLon);
      maxLon = Math.min(180, maxLon);
      if (minLat > maxLat || (!crosses && minLon > maxLon)) {
        return NONE;
      }
      if (crosses && minLon <= maxLon) {
        minLon = -180; // the widened halves overlap: every longitude
        maxLon = 180;
      }
      return LatLonPoint.newBoxQuery(field, minLat, maxLat, minLon, maxLon);
    }

    /** The given box if it is valid and non-empty as given (clamping would widen it), else null. */
    private static Query shrunkBox(String field, double minLat, double maxLat, double minLon, double maxLon, boolean crosses) {
      boolean valid = minLat >= -90 && maxLat <= 90 && minLat <= maxLat && minLon >= -180 && maxLon <= 180
          && (crosses ? minLon > maxLon : minLon <= maxLon);
      return valid ? LatLonPoint.newBoxQuery(field, minLat, maxLat, minLon, maxLon) : null;
    }

    Query radius(Geo.Radius r) {
      if (!(r.radius() > 0)) {
        return NONE; // a distance is never below 0
      }
      String field = PayloadFields.GEO + p;
      double margin = r.radius() * 1e-6 + 1; // Lucene's quantization, sloppy haversine and earth radius
      double half = Math.PI * Geo.EARTH_RADIUS_METERS;
      Query outer = r.radius() + margin >= half ? LatLonPoint.newBoxQuery(field, -90, 90, -180, 180)
          : LatLonPoint.newDistanceQuery(field, r.center().lat(), r.center().lon(), r.radius() + margin);
      Query inner = r.radius() - margin > 0 && r.radius() - margin < half
          ? LatLonPoint.newDistanceQuery(field, r.center().lat(), r.center().lon(), r.radius() - margin) : null;
      return or(List.of(verify(outer, inner), badGeo()));
    }

    Query polygon(Geo.Polygon poly) {
      double minLat = poly.exterior().stream().mapToDouble(Geo.Point::lat).min().orElseThrow();
      double maxLat = poly.exterior().stream().mapToDouble(Geo.Point::lat).max().orElseThrow();
      double minLon = poly.exterior().stream().mapToDouble(Geo.Point::lon).min().orElseThrow();
      double maxLon = poly.exterior().stream().mapToDouble(Geo.Point::lon).max().orElseThrow();
      Query outer = widenedBox(PayloadFields.GEO + p, minLat - GEO_EPS, maxLat + GEO_EPS, minLon - GEO_EPS, maxLon + GEO_EPS, false);
      return or(List.of(verify(outer, null), badGeo()));
    }
  }

  static boolean tooLong(String s) {
    return new BytesRef(s).length > PayloadFields.MAX_TERM_BYTES;
  }

  private static Query term(String prefix, JsonPath p, String value) {
    return new TermQuery(new Term(prefix + p, value));
  }

  private static Query terms(String prefix, JsonPath p, List<String> values) {
    return values.size() == 1 ? term(prefix, p, values.getFirst())
        : new TermInSetQuery(prefix + p, values.stream().map(BytesRef::new).toList());
  }

  private static Query or(List<Query> queries) {
    List<Query> qs = queries.stream().filter(Objects::nonNull).filter(q -> !(q instanceof MatchNoDocsQuery)).toList();
    if (qs.isEmpty()) {
      return NONE;
    }
    if (qs.size() == 1) {
      return qs.getFirst();
    }
    if (qs.stream().anyMatch(q -> q instanceof MatchAllDocsQuery)) {
      return ALL;
    }
    var b = new BooleanQuery.Builder();
    qs.forEach(q -> b.add(q, Occur.SHOULD));
    return b.build();
  }

  /** All of {@code must} and none of {@code mustNot}, over all documents. */
  private static Query and(List<Query> must, List<Query> mustNot) {
    if (must.stream().anyMatch(q -> q instanceof MatchNoDocsQuery) || mustNot.stream().anyMatch(q -> q instanceof MatchAllDocsQuery)) {
      return NONE;
    }
    List<Query> pos = must.stream().filter(q -> !(q instanceof MatchAllDocsQuery)).toList();
    List<Query> neg = mustNot.stream().filter(q -> !(q instanceof MatchNoDocsQuery)).toList();
    if (neg.isEmpty() && pos.size() == 1) {
      return pos.getFirst();
    }
    if (neg.isEmpty() && pos.isEmpty()) {
      return ALL;
    }
    var b = new BooleanQuery.Builder();
    pos.forEach(q -> b.add(q, Occur.FILTER));
    if (pos.isEmpty()) {
      b.add(ALL, Occur.FILTER); // a query of only negative clauses matches nothing in Lucene
    }
    neg.forEach(q -> b.add(q, Occur.MUST_NOT));
    return b.build();
  }

  private static Query not(Query q) {
    return and(List.of(), List.of(q));
  }
}
