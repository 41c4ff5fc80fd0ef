package io.quiver.engine.filter;

import io.quiver.engine.Fields;
import io.quiver.engine.Matching;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.SortedNumericDocValues;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.NumericUtils;

/**
 * Qdrant's {@code order_by}: points ordered by the values of a payload key that has a range-capable
 * index (integer with {@code range}, float, datetime). A point appears once per distinct value of
 * the key; entries are ordered by (value, point id), both ascending or both descending, and start
 * at {@code start_from} inclusive. Reads the {@code $o:} doc values of {@link PayloadFields}: one
 * pass over the documents matching the filter, keeping the best {@code limit} in a heap.
 */
public final class OrderBy {
  private OrderBy() {}

  /** One entry: the global doc id and its order value ({@link Long} or {@link Double}). */
  public record Hit(int doc, Number value) {}

  private record Entry(int doc, double value, Number raw, BytesRef id) {}

  /** The index that can order {@code key}, or null when there is none. */
  public static FieldIndex rangeIndex(PayloadSchema schema, JsonPath key) {
    FieldIndex index = schema.get(key);
    if (index == null) {
      return null;
    }
    return switch (index.type()) {
      case FLOAT, DATETIME -> index;
      case INTEGER -> Boolean.FALSE.equals(index.range()) ? null : index;
      default -> null;
    };
  }

  /** As {@link #top(IndexSearcher, JsonPath, FieldIndex, boolean, Double, Query, int)} on a shard's reader, with a filter (null: all). */
  public static List<Hit> top(io.quiver.engine.Shard.Reader r, JsonPath key, FieldIndex index, boolean descending, Double startFrom,
      Filter filter, int limit) throws IOException {
    return top(r.searcher(), key, index, descending, startFrom, filter == null ? null : FilterQueries.toQuery(filter, r.schema().payload()),
        limit);
  }

  /**
   * @param index the key's index, from {@link #rangeIndex}
   * @param startFrom first value (inclusive) in the direction of travel, or null
   * @param filter restricts the points; null for all
   */
  public static List<Hit> top(IndexSearcher searcher, JsonPath key, FieldIndex index, boolean descending,
      Double startFrom, Query filter, int limit) throws IOException {
    if (limit <= 0) {
      return List.of();
    }
    String field = PayloadFields.ORDER + key;
    boolean floats = index.type() == PayloadType.FLOAT;
    Comparator<Entry> ascending = Comparator.comparingDouble(Entry::value).thenComparing(Entry::id);
    Comparator<Entry> best = descending ? ascending.reversed() : ascending;
    PriorityQueue<Entry> heap = new PriorityQueue<>(Math.min(limit, searcher.getIndexReader().maxDoc()) + 1, best.reversed());
    Weight weight = Matching.weight(searcher, filter);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      SortedNumericDocValues values = DocValues.getSortedNumeric(ctx.reader(), field);
      SortedDocValues ids = DocValues.getSorted(ctx.reader(), Fields.ID);
      DocIdSetIterator it = Matching.docs(ctx, values, weight);
      if (it == null) {
        continue;
      }
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        BytesRef id = null;
        for (int i = 0, n = values.docValueCount(); i < n; i++) {
          long raw = values.nextValue();
          double v = floats ? NumericUtils.sortableLongToDouble(raw) : raw;
          if (startFrom != null && (descending ? v > startFrom : v < startFrom)) {
            continue;
          }
          if (heap.size() == limit) {
            double worst = heap.peek().value();
            if (descending ? v < worst : v > worst) {
              continue;
            }
          }
          if (id == null) {
            if (!ids.advanceExact(doc)) {
              break;
            }
            id = BytesRef.deepCopyOf(ids.lookupOrd(ids.ordValue()));
          }
          Number number = floats ? (Number) v : (Number) raw;
          heap.add(new Entry(ctx.docBase + doc, v, number, id));
          if (heap.size() > limit) {
            heap.poll();
          }
        }
      }
    }
    List<Entry> sorted = new ArrayList<>(heap);
    sorted.sort(best);
    List<Hit> out = new ArrayList<>(sorted.size());
    sorted.forEach(e -> out.add(new Hit(e.doc(), e.raw())));
    return out;
  }
}
