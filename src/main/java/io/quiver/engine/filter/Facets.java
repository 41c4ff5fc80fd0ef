package io.quiver.engine.filter;

import io.quiver.engine.Matching;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.FixedBitSet;

/**
 * Qdrant's facet counts: for each distinct value of a key with a map-like index (keyword, integer
 * with {@code lookup}, uuid, bool), the number of points having it, among the points a filter keeps.
 * Keywords, uuids and bools are counted from the postings of their terms, integers from the
 * {@code $o:} doc values; a point counts once per distinct value. Counts are exact.
 */
public final class Facets {
  private Facets() {}

  /** One value and its count. Values are {@link String}, {@link Long} or {@link Boolean}. */
  public record Hit(Object value, long count) {}

  /** The index that can facet {@code key}, or null when there is none. */
  public static FieldIndex facetIndex(PayloadSchema schema, JsonPath key) {
    FieldIndex index = schema.get(key);
    if (index == null) {
      return null;
    }
    return switch (index.type()) {
      case KEYWORD, UUID, BOOL -> index;
      case INTEGER -> Boolean.FALSE.equals(index.lookup()) ? null : index;
      default -> null;
    };
  }

  /** As {@link #top(IndexSearcher, JsonPath, FieldIndex, Query, int)} on a shard's reader, with a filter (null: all). */
  public static List<Hit> top(io.quiver.engine.Shard.Reader r, JsonPath key, FieldIndex index, Filter filter, int limit)
      throws IOException {
    return top(r.searcher(), key, index, filter == null ? null : FilterQueries.toQuery(filter, r.schema().payload()), limit);
  }

  /** The {@code limit} most frequent values: count descending, then value ascending (Qdrant's order). */
  public static List<Hit> top(IndexSearcher searcher, JsonPath key, FieldIndex index, Query filter, int limit)
      throws IOException {
    Map<Object, Long> counts = new HashMap<>();
    Weight weight = Matching.weight(searcher, filter);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Bits allowed = allowed(ctx, weight);
      if (allowed == NONE) {
        continue;
      }
      switch (index.type()) {
        case KEYWORD -> terms(ctx, PayloadFields.KEYWORD + key, allowed, counts, BytesRef::utf8ToString);
        case UUID -> terms(ctx, PayloadFields.KEYWORD + key, allowed, counts, Facets::uuid);
        case BOOL -> terms(ctx, PayloadFields.BOOL + key, allowed, counts, b -> Boolean.valueOf(b.utf8ToString()));
        case INTEGER -> integers(ctx, PayloadFields.ORDER + key, allowed, counts);
        default -> throw new IllegalArgumentException("no facet index on " + key);
      }
    }
    List<Hit> hits = new ArrayList<>(counts.size());
    counts.forEach((v, n) -> hits.add(new Hit(v, n)));
    hits.sort(ORDER);
    return hits.size() > limit ? hits.subList(0, limit) : hits;
  }

  private static final Bits NONE = new Bits.MatchNoBits(0);

  /** Live documents the filter keeps in this leaf; null when that is every document of the leaf. */
  private static Bits allowed(LeafReaderContext ctx, Weight weight) throws IOException {
    Bits live = ctx.reader().getLiveDocs();
    if (weight == null) {
      return live;
    }
    DocIdSetIterator it = Matching.docs(ctx, null, weight);
    if (it == null) {
      return NONE;
    }
    FixedBitSet bits = new FixedBitSet(ctx.reader().maxDoc());
    bits.or(it);
    return bits;
  }

  private static void terms(LeafReaderContext ctx, String field, Bits allowed, Map<Object, Long> counts,
      java.util.function.Function<BytesRef, Object> value) throws IOException {
    Terms terms = ctx.reader().terms(field);
    if (terms == null) {
      return;
    }
    TermsEnum te = terms.iterator();
    PostingsEnum pe = null;
    for (BytesRef term = te.next(); term != null; term = te.next()) {
      pe = te.postings(pe, PostingsEnum.NONE);
      long n = 0;
      for (int doc = pe.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = pe.nextDoc()) {
        if (allowed == null || allowed.get(doc)) {
          n++;
        }
      }
      if (n > 0) {
        Object v = value.apply(term);
        if (v != null) {
          counts.merge(v, n, Long::sum);
        }
      }
    }
  }

  private static void integers(LeafReaderContext ctx, String field, Bits allowed, Map<Object, Long> counts)
      throws IOException {
    SortedNumericDocValues values = DocValues.getSortedNumeric(ctx.reader(), field);
    for (int doc = values.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = values.nextDoc()) {
      if (allowed != null && !allowed.get(doc)) {
        continue;
      }
      for (int i = 0, n = values.docValueCount(); i < n; i++) {
        counts.merge(values.nextValue(), 1L, Long::sum);
      }
    }
  }

  /** A uuid keyword in canonical lowercase form, or null for strings that are not uuids. */
  private static Object uuid(BytesRef term) {
    try {
      return UUID.fromString(term.utf8ToString()).toString().toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Qdrant's order of facet hits: count descending, then value ascending. */
  public static final Comparator<Hit> ORDER = Comparator.comparingLong(Hit::count).reversed().thenComparing(Hit::value, Facets::compareValues);

  /** Qdrant's value order: keywords, then integers, then uuids, then bools; each in natural order. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compareValues(Object a, Object b) {
    if (a.getClass() == b.getClass()) {
      return ((Comparable) a).compareTo(b);
    }
    return Integer.compare(rank(a), rank(b));
  }

  private static int rank(Object v) {
    return v instanceof String ? 0 : v instanceof Long ? 1 : 2;
  }
}
