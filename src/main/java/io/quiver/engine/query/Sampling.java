package io.quiver.engine.query;

import io.quiver.engine.DocMapper;
import io.quiver.engine.Fields;
import io.quiver.engine.Matching;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;

/** Uniform random samples of a shard's points (reservoir sampling). */
public final class Sampling {
  private Sampling() {}

  /** A sampled point: its id and its stored (prepared) dense vector. */
  public record Sampled(PointId id, float[] vector) {}

  /**
   * Up to {@code n} live points matching {@code filter} (null: all) that have the dense vector
   * {@code vector}, drawn uniformly with {@code random}, sorted by point id.
   */
  public static List<Sampled> withVector(Shard.Reader r, Filter filter, String vector, int n, Random random) throws IOException {
    return counted(r, filter, vector, n, random).points();
  }

  /** A sample and the number of points it was drawn from. */
  public record Counted(List<Sampled> points, long matched) {}

  /** As {@link #withVector}, with the number of points the sample was drawn from. */
  public static Counted counted(Shard.Reader r, Filter filter, String vector, int n, Random random) throws IOException {
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, vector));
    Query q = LuceneQueries.and(has, filter == null ? null : FilterQueries.toQuery(filter, r.schema().payload()));
    var searcher = r.searcher();
    var weight = Matching.weight(searcher, q);
    int[] reservoir = new int[n];
    long seen = 0;
    for (var ctx : searcher.getIndexReader().leaves()) {
      var it = Matching.docs(ctx, null, weight);
      if (it == null) {
        continue;
      }
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (seen < n) {
          reservoir[(int) seen] = ctx.docBase + doc;
        } else {
          long j = random.nextLong(seen + 1);
          if (j < n) {
            reservoir[(int) j] = ctx.docBase + doc;
          }
        }
        seen++;
      }
    }
    List<Sampled> out = new ArrayList<>();
    var leaves = searcher.getIndexReader().leaves();
    String field = Fields.dense(vector);
    for (int i = 0; i < Math.min(seen, n); i++) {
      int doc = reservoir[i];
      var ctx = leaves.get(ReaderUtil.subIndex(doc, leaves));
      float[] v = DocMapper.vector(ctx.reader(), field, doc - ctx.docBase);
      if (v != null) {
        out.add(new Sampled(r.idOf(doc), v));
      }
    }
    out.sort((a, b) -> a.id().term().compareTo(b.id().term()));
    return new Counted(out, seen);
  }
}
