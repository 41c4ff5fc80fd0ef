package io.quiver.engine;

import java.io.IOException;
import java.util.List;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.ConjunctionUtils;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.FilteredDocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;

/**
 * The live documents of a segment that a filter keeps, intersected with the documents a per-segment
 * source has (vector values, doc values): the one loop every scan (exact vector search, order_by,
 * facets, sampling) runs.
 */
public final class Matching {
  private Matching() {}

  /** The weight of a filter, built once per search; null for no filter. */
  public static Weight weight(IndexSearcher searcher, Query filter) throws IOException {
    return filter == null ? null : searcher.createWeight(searcher.rewrite(filter), ScoreMode.COMPLETE_NO_SCORES, 1f);
  }

  /**
   * The live documents of {@code ctx} in {@code source} (null: all) that {@code filter} (null: no
   * filter) keeps, or null when none can match. Positioning the result positions {@code source}.
   */
  public static DocIdSetIterator docs(LeafReaderContext ctx, DocIdSetIterator source, Weight filter) throws IOException {
    DocIdSetIterator it = source;
    if (filter != null) {
      Scorer s = filter.scorer(ctx);
      if (s == null) {
        return null;
      }
      it = it == null ? s.iterator() : ConjunctionUtils.intersectIterators(List.of(s.iterator(), it));
    }
    if (it == null) {
      it = DocIdSetIterator.all(ctx.reader().maxDoc());
    }
    Bits live = ctx.reader().getLiveDocs();
    return live == null ? it : new FilteredDocIdSetIterator(it) {
      @Override
      protected boolean match(int doc) {
        return live.get(doc);
      }
    };
  }
}
