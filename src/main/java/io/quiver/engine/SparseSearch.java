package io.quiver.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
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
    List<int[]> docs = new ArrayList<>();
    List<SparseVector> vectors = new ArrayList<>();
    forEach(searcher, spec, filter, (v, doc) -> {
      docs.add(new int[] {doc});
      vectors.add(v);
    });
    // without a filter the candidates are every point with the vector: their frequencies are the idf's
    SparseVector weighted = !spec.idf() ? query : idfWeighted(query, filter == null ? vectors : all(searcher, spec));
    TieBreak ties = new TieBreak(searcher);
    Comparator<VectorSearch.Hit> best = Comparator.comparingDouble(VectorSearch.Hit::score).reversed()
        .thenComparing((a, b) -> ties.compare(a.doc(), b.doc()));
    PriorityQueue<VectorSearch.Hit> heap = new PriorityQueue<>(Math.min(k, docs.size()) + 1, best.reversed());
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

  /** The live points with this sparse vector that {@code filter} (null: none) keeps, in doc order. */
  private static void forEach(IndexSearcher searcher, SparseSpec spec, Query filter,
      java.util.function.ObjIntConsumer<SparseVector> sink) throws IOException {
    String field = Fields.sparse(spec.name());
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, new BytesRef(spec.name())));
    Query q = filter == null ? has
        : new BooleanQuery.Builder().add(has, BooleanClause.Occur.FILTER).add(filter, BooleanClause.Occur.FILTER).build();
    Weight weight = Matching.weight(searcher, q);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      DocIdSetIterator it = Matching.docs(ctx, null, weight);
      if (it == null) {
        continue;
      }
      StoredFields stored = ctx.reader().storedFields();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        BytesRef b = stored.document(doc, java.util.Set.of(field)).getBinaryValue(field);
        if (b != null) {
          sink.accept(DocMapper.decodeSparse(b), ctx.docBase + doc);
        }
      }
    }
  }

  private static List<SparseVector> all(IndexSearcher searcher, SparseSpec spec) throws IOException {
    List<SparseVector> out = new ArrayList<>();
    forEach(searcher, spec, null, (v, doc) -> out.add(v));
    return out;
  }

  /**
   * The query weighted by idf: N is the number of live points with this sparse vector ({@code
   * points}), df how many of them contain each query index.
   */
  private static SparseVector idfWeighted(SparseVector query, List<SparseVector> points) {
    Map<Integer, Integer> df = new HashMap<>();
    for (int ix : query.indices()) {
      df.put(ix, 0);
    }
    for (SparseVector p : points) {
      for (int ix : p.indices()) {
        df.computeIfPresent(ix, (key, c) -> c + 1);
      }
    }
    int n = points.size();
    float[] values = query.values().clone();
    for (int i = 0; i < values.length; i++) {
      values[i] *= idf(n, df.get(query.indices()[i]));
    }
    return new SparseVector(query.indices(), values);
  }

  /**
   * Qdrant's inverse document frequency {@code ln((n - df + 0.5) / (df + 0.5) + 1)} of an index that
   * {@code df} of {@code n} points have, in Qdrant's float arithmetic: the quotient in float, then its
   * natural logarithm rounded to float.
   */
  static float idf(int n, int df) {
    float ratio = ((float) n - (float) df + 0.5f) / ((float) df + 0.5f) + 1f;
    return (float) Math.log(ratio);
  }
}
