package io.quiver.engine.query;

import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Fields;
import io.quiver.engine.Shard;
import io.quiver.engine.SparseSearch;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.OrderBy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;

/**
 * Runs a {@link Plan} on one reader of a shard (doc ids stay valid throughout): a stage's own search
 * (vector, scroll by id, order_by, sample), or the rescoring of its prefetches' candidates (an exact
 * vector search restricted to them, order_by, sample, fusion, a formula or MMR). A stage keeps to
 * its own filter and every ancestor's.
 */
public final class QueryExecutor {
  private QueryExecutor() {}

  /**
   * The hits of the plan, best first.
   *
   * @param rootLimit the request's limit (MMR keeps that many at the root)
   */
  public static List<Hit> execute(Shard.Reader r, Plan root, int rootLimit) throws IOException {
    return execute(r, root, null, rootLimit);
  }

  /** The hits of a stage that is a prefetch of a larger query (MMR keeps its nearest candidates), best first. */
  public static List<Hit> executePrefetch(Shard.Reader r, Plan stage) throws IOException {
    return execute(r, stage, null, null);
  }

  /**
   * @param parent the ancestors' filters as one query, or null
   * @param rootLimit the request's limit when this is the root, else null
   */
  private static List<Hit> execute(Shard.Reader r, Plan stage, Query parent, Integer rootLimit) throws IOException {
    boolean root = rootLimit != null;
    Query filter = LuceneQueries.and(parent, stage.filter() == null ? null : FilterQueries.toQuery(stage.filter(), r.schema().payload()));
    var p = new Stage(stage, filter);
    if (p.prefetch().isEmpty()) {
      return switch (p.scoring()) {
        case null -> scroll(r, p.filter(), p.limit());
        case Plan.VectorScoring v -> vectorHits(r, v, p.filter(), p.limit(), p.ef(), p.oversampling(), p.exact(), p.threshold());
        case Plan.MmrScoring m -> {
          // as in Qdrant, MMR re-ranks only at the root; a prefetch keeps the nearest candidates
          List<Hit> candidates = vectorHits(r, m.nearest(), p.filter(), m.candidates(), p.ef(), p.oversampling(), p.exact(), p.threshold());
          yield root ? Mmr.rerank(r, m, candidates, rootLimit) : candidates;
        }
        case Plan.OrderScoring o -> order(r, o, p.filter(), p.limit());
        case Plan.SampleScoring s -> sample(r, p.filter(), p.limit());
        case Plan.FusionScoring f -> throw new IllegalStateException("fusion without prefetches");
        case Plan.FormulaScoring f -> throw new IllegalStateException("formula without prefetches");
      };
    }
    List<List<Hit>> sources = new ArrayList<>();
    for (Plan child : p.prefetch()) {
      sources.add(execute(r, child, filter, null));
    }
    return switch (p.scoring()) {
      case null -> throw new IllegalStateException("prefetches without a query");
      case Plan.VectorScoring v -> vectorHits(r, v, candidates(r, sources), p.limit(), p.ef(), 1, true, p.threshold());
      case Plan.MmrScoring m -> root
          ? Mmr.rerank(r, m, vectorHits(r, m.nearest(), candidates(r, sources), m.candidates(), p.ef(), 1, true, p.threshold()), rootLimit)
          : Mmr.rerank(r, m, sources.stream().flatMap(List::stream).toList(), p.limit());
      case Plan.OrderScoring o -> order(r, o, candidates(r, sources), p.limit());
      case Plan.SampleScoring s -> sample(r, candidates(r, sources), p.limit());
      case Plan.FusionScoring f -> Fusion.fuse(sources, f, p.threshold(), p.limit());
      case Plan.FormulaScoring f -> FormulaRescorer.rescore(r, f, sources, p.limit());
    };
  }

  /**
   * A stage's own scoring applied to candidates found elsewhere (the merged results of its
   * prefetches, restricted to this reader's points), as a stage with prefetches rescores them: a
   * vector query scores them exactly (MMR: keeps its nearest {@code candidates} for the caller to
   * re-rank), order_by orders them, a formula scores them. The candidates are assumed to pass the
   * stage's and its ancestors' filters already (they came from its prefetches). Fusion and sampling
   * need no reader: the caller does them.
   */
  public static List<Hit> rescore(Shard.Reader r, Plan stage, List<List<Hit>> sources) throws IOException {
    return switch (stage.scoring()) {
      case Plan.VectorScoring v -> vectorHits(r, v, candidates(r, sources), stage.limit(), stage.ef(), 1, true, stage.threshold());
      case Plan.MmrScoring m -> vectorHits(r, m.nearest(), candidates(r, sources), m.candidates(), stage.ef(), 1, true, stage.threshold());
      case Plan.OrderScoring o -> order(r, o, candidates(r, sources), stage.limit());
      case Plan.FormulaScoring f -> FormulaRescorer.rescore(r, f, sources, stage.limit());
      case null, default -> throw new IllegalStateException("not a rescoring stage: " + stage.scoring());
    };
  }

  /** A plan with its filter, ancestors' included, as one Lucene query. */
  private record Stage(Plan plan, Query filter) {
    List<Plan> prefetch() {
      return plan.prefetch();
    }

    Plan.Scoring scoring() {
      return plan.scoring();
    }

    Integer ef() {
      return plan.ef();
    }

    double oversampling() {
      return plan.oversampling();
    }

    boolean exact() {
      return plan.exact();
    }

    Float threshold() {
      return plan.threshold();
    }

    int limit() {
      return plan.limit();
    }
  }

  /** The union of the prefetches' candidates, as a query. */
  private static Query candidates(Shard.Reader r, List<List<Hit>> sources) throws IOException {
    Set<Integer> docs = new LinkedHashSet<>();
    sources.forEach(s -> s.forEach(h -> docs.add(h.doc())));
    return LuceneQueries.docs(r, docs);
  }

  /** No more hits than live points: limits may be huge. */
  private static int cap(Shard.Reader r, int k) {
    return Math.min(k, Math.max(1, r.numDocs()));
  }

  /** Points in id order (Qdrant's scroll), score 0. */
  private static List<Hit> scroll(Shard.Reader r, Query filter, int limit) throws IOException {
    var top = r.searcher().search(filter == null ? new MatchAllDocsQuery() : filter, cap(r, limit),
        new Sort(new SortField(Fields.ID, SortField.Type.STRING)), false);
    List<Hit> out = new ArrayList<>(top.scoreDocs.length);
    for (ScoreDoc sd : top.scoreDocs) {
      out.add(new Hit(sd.doc, 0f, null, true));
    }
    return out;
  }

  /**
   * Nearest-neighbour or custom-score hits, best first. A nearest search keeps scores strictly
   * better than the threshold for the distance (Qdrant's {@code check_threshold}); a custom score
   * (recommendation strategies, discovery, context), where higher is always better, keeps those
   * strictly above it.
   */
  private static List<Hit> vectorHits(Shard.Reader r, Plan.VectorScoring v, Query filter, int limit, Integer ef, double oversampling,
      boolean exact, Float threshold) throws IOException {
    int k = cap(r, limit);
    CollectionSchema schema = r.schema();
    List<VectorSearch.Hit> hits;
    if (v.dense() != null) {
      hits = VectorSearch.search(r.searcher(), schema.dense().get(v.using()), v.dense(), filter, k, ef, exact, threshold, oversampling);
    } else if (v.sparse() != null) {
      hits = SparseSearch.search(r.searcher(), schema.sparse().get(v.using()), v.sparse(), filter, k, threshold);
    } else if (v.custom() != null) {
      hits = VectorSearch.scan(r.searcher(), VectorSearch.field(schema.dense().get(v.using())), v.custom(), true, filter, k);
    } else {
      hits = sparseScan(r, v.using(), v.sparseCustom(), filter, k);
    }
    List<Hit> out = new ArrayList<>(hits.size());
    for (VectorSearch.Hit h : hits) {
      if (!v.isCustom() || threshold == null || h.score() > threshold) {
        out.add(Hit.scored(h.doc(), h.score()));
      }
    }
    return tiesById(r, out);
  }

  /**
   * Hits of equal score ordered by point id (the searches order them by doc id, which depends on the
   * segments): so that a collection of several shards, merging by (score, id), answers in the same
   * order. Looks ids up only where scores tie.
   */
  static List<Hit> tiesById(Shard.Reader r, List<Hit> hits) throws IOException {
    for (int i = 0; i < hits.size(); ) {
      int j = i + 1;
      while (j < hits.size() && Float.compare(hits.get(j).score(), hits.get(i).score()) == 0) {
        j++;
      }
      if (j - i > 1) {
        List<Hit> run = hits.subList(i, j);
        java.util.Map<Hit, io.quiver.engine.PointId> ids = new java.util.IdentityHashMap<>();
        for (Hit h : run) {
          ids.put(h, r.idOf(h.doc()));
        }
        run.sort(Comparator.comparing(ids::get));
      }
      i = j;
    }
    return hits;
  }

  /** Exact top-k by a custom score of the stored sparse vectors of {@code using}. */
  private static List<VectorSearch.Hit> sparseScan(Shard.Reader r, String using, Plan.SparseScorer scorer, Query filter, int k)
      throws IOException {
    var ties = new io.quiver.engine.TieBreak(r.searcher());
    Comparator<VectorSearch.Hit> best = Comparator.comparingDouble(VectorSearch.Hit::score).reversed()
        .thenComparing((a, b) -> ties.compare(a.doc(), b.doc()));
    PriorityQueue<VectorSearch.Hit> heap = new PriorityQueue<>(best.reversed());
    var selector = new DocMapper.Selector(false, true, Set.of(using));
    Query has = new TermQuery(new Term(Fields.HAS_VECTOR, using));
    LuceneQueries.forEachDoc(r, LuceneQueries.and(has, filter), doc -> {
      SparseVector v = r.load(doc, r.idOf(doc), selector).sparse().get(using);
      if (v != null) {
        heap.add(new VectorSearch.Hit(doc, scorer.score(v)));
        if (heap.size() > k) {
          heap.poll();
        }
      }
    });
    List<VectorSearch.Hit> out = new ArrayList<>(heap);
    out.sort(best);
    return out;
  }

  private static List<Hit> order(Shard.Reader r, Plan.OrderScoring o, Query filter, int limit) throws IOException {
    // a point has an entry per value: bound the limit by a generous multiple of the points
    int k = (int) Math.min(limit, 16L * r.numDocs() + 1024);
    List<Hit> out = new ArrayList<>();
    for (OrderBy.Hit h : OrderBy.top(r.searcher(), o.key(), o.index(), o.descending(), o.startFrom(), filter, k)) {
      out.add(new Hit(h.doc(), 0f, h.value(), true));
    }
    return out;
  }

  /** A uniform random sample (reservoir) of the matching points, in random order. */
  private static List<Hit> sample(Shard.Reader r, Query filter, int limit) throws IOException {
    int n = cap(r, limit);
    int[] reservoir = new int[n];
    long[] seen = {0};
    var random = ThreadLocalRandom.current();
    LuceneQueries.forEachDoc(r, filter == null ? new MatchAllDocsQuery() : filter, doc -> {
      if (seen[0] < n) {
        reservoir[(int) seen[0]] = doc;
      } else {
        long j = random.nextLong(seen[0] + 1);
        if (j < n) {
          reservoir[(int) j] = doc;
        }
      }
      seen[0]++;
    });
    List<Hit> out = new ArrayList<>();
    for (int i = 0; i < Math.min(seen[0], n); i++) {
      out.add(new Hit(reservoir[i], 0f, null, true));
    }
    Collections.shuffle(out, random);
    return out;
  }
}
