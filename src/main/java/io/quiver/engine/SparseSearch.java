package io.quiver.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BytesRef;

/**
 * Exact search over one sparse vector field: dot product over shared indices; only points that
 * share at least one index with the query are hits, as in Qdrant. With the {@code idf} modifier the
 * query's values are weighted by Qdrant's inverse document frequency {@code ln((N - df + 0.5) / (df +
 * 0.5) + 1)}, N being the points that have this vector.
 */
public final class SparseSearch {
  private SparseSearch() {}

  public static List<VectorSearch.Hit> search(IndexSearcher searcher, SparseSpec spec, SparseVector query, Query filter,
      int k, Float threshold) throws IOException {
    if (k <= 0 || query.indices().length == 0) {
      return List.of();
    }
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, new BytesRef(spec.name())));
    Query q = filter == null ? has
        : new BooleanQuery.Builder().add(has, BooleanClause.Occur.FILTER).add(filter, BooleanClause.Occur.FILTER).build();
    List<int[]> docs = new ArrayList<>();
    List<SparseVector> vectors = new ArrayList<>();
    Weight weight = searcher.createWeight(searcher.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Scorer scorer = weight.scorer(ctx);
      if (scorer == null) {
        continue;
      }
      StoredFields stored = ctx.reader().storedFields();
      var live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (live != null && !live.get(doc)) {
          continue;
        }
        Document d = stored.document(doc, java.util.Set.of(Fields.sparse(spec.name())));
        BytesRef b = d.getBinaryValue(Fields.sparse(spec.name()));
        if (b != null) {
          docs.add(new int[] {ctx.docBase + doc});
          vectors.add(DocMapper.decodeSparse(b));
        }
      }
    }
    SparseVector weighted = spec.idf() ? idfWeighted(searcher, spec, query) : query;
    Comparator<VectorSearch.Hit> best = Comparator.comparingDouble(VectorSearch.Hit::score).reversed()
        .thenComparingInt(VectorSearch.Hit::doc);
    PriorityQueue<VectorSearch.Hit> heap = new PriorityQueue<>(k + 1, best.reversed());
    for (int i = 0; i < docs.size(); i++) {
      SparseVector v = vectors.get(i);
      if (!overlaps(weighted, v)) {
        continue;
      }
      float score = weighted.dot(v);
      if (threshold != null && score <= threshold) { // Qdrant keeps scores strictly above the threshold
        continue;
      }
      heap.add(new VectorSearch.Hit(docs.get(i)[0], score));
      if (heap.size() > k) {
        heap.poll();
      }
    }
    List<VectorSearch.Hit> out = new ArrayList<>(heap);
    out.sort(best);
    return out;
  }

  private static boolean overlaps(SparseVector a, SparseVector b) {
    int i = 0;
    int j = 0;
    while (i < a.indices().length && j < b.indices().length) {
      int c = Integer.compare(a.indices()[i], b.indices()[j]);
      if (c == 0) {
        return true;
      }
      if (c < 0) {
        i++;
      } else {
        j++;
      }
    }
    return false;
  }

  /** Counts, over the live points that have this sparse vector, how many contain each query index. */
  private static SparseVector idfWeighted(IndexSearcher searcher, SparseSpec spec, SparseVector query) throws IOException {
    Map<Integer, Integer> df = new HashMap<>();
    for (int ix : query.indices()) {
      df.put(ix, 0);
    }
    int[] n = {0};
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, new BytesRef(spec.name())));
    Weight weight = searcher.createWeight(searcher.rewrite(has), ScoreMode.COMPLETE_NO_SCORES, 1f);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      Scorer scorer = weight.scorer(ctx);
      if (scorer == null) {
        continue;
      }
      StoredFields stored = ctx.reader().storedFields();
      var live = ctx.reader().getLiveDocs();
      DocIdSetIterator it = scorer.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (live != null && !live.get(doc)) {
          continue;
        }
        BytesRef b = stored.document(doc, java.util.Set.of(Fields.sparse(spec.name()))).getBinaryValue(Fields.sparse(spec.name()));
        if (b == null) {
          continue;
        }
        n[0]++;
        for (int ix : DocMapper.decodeSparse(b).indices()) {
          df.computeIfPresent(ix, (key, c) -> c + 1);
        }
      }
    }
    float[] values = query.values().clone();
    for (int i = 0; i < values.length; i++) {
      int d = df.get(query.indices()[i]);
      values[i] *= (float) Math.log((n[0] - d + 0.5) / (d + 0.5) + 1.0);
    }
    return new SparseVector(query.indices(), values);
  }
}
