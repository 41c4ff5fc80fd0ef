package io.quiver.engine.query;

import io.quiver.engine.Fields;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/** Small Lucene query helpers of query planning and execution. */
final class LuceneQueries {
  private LuceneQueries() {}

  /** Both (either may be null: then the other; both null: null). */
  static Query and(Query a, Query b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return new BooleanQuery.Builder().add(a, BooleanClause.Occur.FILTER).add(b, BooleanClause.Occur.FILTER).build();
  }

  /** Every point but these; null when there are none. */
  static Query excluding(Collection<PointId> ids) {
    if (ids.isEmpty()) {
      return null;
    }
    return new BooleanQuery.Builder()
        .add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER)
        .add(new TermInSetQuery(Fields.ID, ids.stream().map(PointId::term).toList()), BooleanClause.Occur.MUST_NOT)
        .build();
  }

  /** Matches exactly these docs of the reader, by their point ids. */
  static Query docs(Shard.Reader r, Collection<Integer> docs) throws IOException {
    if (docs.isEmpty()) {
      return new MatchNoDocsQuery();
    }
    List<BytesRef> terms = new ArrayList<>(docs.size());
    for (int doc : docs) {
      terms.add(r.idOf(doc).term());
    }
    return new TermInSetQuery(Fields.ID, terms);
  }

  @FunctionalInterface
  interface DocConsumer {
    void accept(int doc) throws IOException;
  }

  /** Calls {@code consumer} with the global doc id of every live document matching {@code q}. */
  static void forEachDoc(Shard.Reader r, Query q, DocConsumer consumer) throws IOException {
    var searcher = r.searcher();
    Weight weight = searcher.createWeight(searcher.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Scorer scorer = weight.scorer(ctx);
      if (scorer == null) {
        continue;
      }
      Bits live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (live == null || live.get(doc)) {
          consumer.accept(ctx.docBase + doc);
        }
      }
    }
  }
}
