package io.quiver.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.util.BytesRef;

/**
 * Equal scores ordered by point id (Qdrant's order of ids) rather than by Lucene doc id, which
 * depends on how the points fell into segments: so that a top-k cut among equal scores keeps the
 * same points in one shard as in a collection of several shards merged by (score, id). Reads a doc's
 * id only when it ties. Not thread-safe; one per search.
 */
public final class TieBreak {
  private final IndexSearcher searcher;
  private final Map<Integer, BytesRef> ids = new HashMap<>();

  public TieBreak(IndexSearcher searcher) {
    this.searcher = searcher;
  }

  /** Compares two global doc ids by their points' ids. */
  public int compare(int a, int b) {
    return a == b ? 0 : id(a).compareTo(id(b));
  }

  private BytesRef id(int doc) {
    return ids.computeIfAbsent(doc, d -> {
      try {
        var leaves = searcher.getIndexReader().leaves();
        LeafReaderContext ctx = leaves.get(ReaderUtil.subIndex(d, leaves));
        SortedDocValues values = ctx.reader().getSortedDocValues(Fields.ID);
        if (values == null || !values.advanceExact(d - ctx.docBase)) {
          return new BytesRef();
        }
        return BytesRef.deepCopyOf(values.lookupOrd(values.ordValue()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
