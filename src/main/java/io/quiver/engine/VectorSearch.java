package io.quiver.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.hnsw.FlatVectorScorerUtil;
import org.apache.lucene.codecs.hnsw.FlatVectorsScorer;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.codecs.perfield.PerFieldKnnVectorsFormat;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FilterLeafReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentReader;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.search.AcceptDocs;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopDocsCollector;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.hnsw.HnswGraph;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.NeighborQueue;
import org.apache.lucene.util.hnsw.OrdinalTranslatedKnnCollector;
import org.apache.lucene.util.hnsw.RandomVectorScorer;

/**
 * Nearest-neighbour search over one dense vector field with Qdrant's raw scores. Approximate search
 * asks Lucene's HNSW for {@code max(limit, ef)} candidates (Lucene itself falls back to an exact
 * search when a filter is very selective), then rescores exactly those that can reach the top
 * {@code limit} ({@link #contenders}), or on a quantized vector each segment's best {@code limit x
 * oversampling} by the quantized score; exact search scans
 * the filtered documents. Manhattan, which Lucene's graph lacks, is always exact. Lucene's own (SIMD,
 * CPU-dependent) scores only choose candidates: every score returned is {@link Distance#score} or
 * {@link #maxSim}, Qdrant's arithmetic ({@link QdrantMath}), the same bits on every CPU.
 */
public final class VectorSearch {
  /** The graph's candidates when a search names no {@code hnsw_ef} (at least its limit). */
  public static final int DEFAULT_EF = 100;

  private VectorSearch() {}

  /** One hit: the global doc id and Qdrant's score. */
  public record Hit(int doc, float score) {}

  /**
   * @param q the query vector, already {@link Distance#prepare prepared}
   * @param filter restricts candidates; null for all documents
   * @param k hits wanted (limit + offset)
   * @param ef HNSW beam; null for the default (max(k, 100))
   * @param threshold Qdrant's score_threshold (hits must score strictly better), or null
   */
  public static List<Hit> search(IndexSearcher searcher, VectorSpec spec, float[] q, Query filter, int k, Integer ef,
      boolean exact, Float threshold) throws IOException {
    return search(searcher, spec, q, filter, k, ef, exact, threshold, 1);
  }

  /**
   * As {@link #search(IndexSearcher, VectorSpec, float[], Query, int, Integer, boolean, Float)}, with
   * the quantization {@code oversampling}: on a quantized vector each segment's best {@code k x
   * oversampling} candidates by the quantized score (k when it is at most 1) are rescored with the
   * original vectors, as Qdrant rescores; the others are dropped.
   */
  public static List<Hit> search(IndexSearcher searcher, VectorSpec spec, float[] q, Query filter, int k, Integer ef,
      boolean exact, Float threshold, double oversampling) throws IOException {
    if (k <= 0) {
      return List.of();
    }
    String field = Fields.dense(spec.name());
    Distance d = spec.distance();
    if (spec.multi()) {
      // ranked by max_sim (higher is better), then reported as Qdrant post-processes: sqrt(|s|) for
      // euclid, |s| for manhattan
      List<Hit> out = new ArrayList<>();
      for (Hit h : scan(searcher, Fields.multi(spec.name()), v -> maxSim(d, spec.size(), q, v), true, filter, k)) {
        float score = QdrantMath.postprocess(d, h.score());
        if (threshold == null || (d.higherIsBetter() ? score > threshold : score < threshold)) {
          out.add(new Hit(h.doc(), score));
        }
      }
      return out;
    }
    List<Hit> hits;
    Weight weight = Matching.weight(searcher, filter); // built once: for the cost estimate and the scan
    boolean selective = weight != null && filterCost(searcher, weight) <= fullScanThreshold(spec, k);
    boolean simd = d != Distance.MANHATTAN && spec.quantization() == VectorSpec.Quantization.NONE;
    if (d == Distance.MANHATTAN) {
      hits = exactScan(searcher, field, d, q, filter, k);
    } else if (exact || spec.m() == 0 || selective) {
      hits = simd ? fastExactScan(searcher, field, d, q, weight, k) : exactScan(searcher, field, d, q, filter, k);
    } else {
      // never more candidates than points: the graph's queues are sized by them
      int candidates = Math.min(Math.max(k, ef == null ? Math.max(k, DEFAULT_EF) : ef),
          Math.max(k, searcher.getIndexReader().maxDoc()));
      ScoreDoc[] filtered = filter == null ? null
          : searcher.search(new KnnFloatVectorQuery(field, q, candidates, filter), candidates).scoreDocs;
      if (simd) {
        ScoreDoc[] top = filtered != null ? filtered : graphs(searcher, field, q, candidates);
        hits = rescore(searcher, field, d, q, contenders(top, k));
      } else {
        // quantized scores are approximate: the best of each segment by them are rescored, as Qdrant's
        // segments rescore their oversampled top ((oversampling x k) as an integer, k without it)
        int rescored = (int) Math.min(candidates, oversampling > 1 ? (long) (oversampling * k) : k);
        int[] docs = filtered != null ? firstDocs(filtered, (long) rescored * searcher.getIndexReader().leaves().size())
            : bestOfSegments(searcher, field, q, candidates, rescored);
        hits = rescore(searcher, field, d, q, docs);
      }
    }
    List<Hit> out = new ArrayList<>(Math.min(k, hits.size()));
    for (Hit h : hits) {
      if (out.size() == k) {
        break;
      }
      // strictly better than the threshold, as Qdrant's Distance::check_threshold
      if (threshold == null || (d.higherIsBetter() ? h.score() > threshold : h.score() < threshold)) {
        out.add(h);
      }
    }
    return out;
  }

  /**
   * An unfiltered graph search: each segment's graph walked for {@code candidates} of its live
   * points, as Qdrant searches each segment with the same beam, the best of all kept. Straight to
   * the segments' graphs ({@link #searchGraph}), without Lucene's query (which rewrites into a
   * doc-and-score query, sorts and searches it again: a tenth of a search's time at this size).
   */
  private static ScoreDoc[] graphs(IndexSearcher searcher, String field, float[] q, int candidates) throws IOException {
    NeighborQueue best = new NeighborQueue(candidates, false);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      TopDocs top = searchGraph(ctx.reader(), field, q, candidates);
      for (ScoreDoc sd : top.scoreDocs) {
        best.insertWithOverflow(ctx.docBase + sd.doc, sd.score);
      }
    }
    ScoreDoc[] out = new ScoreDoc[best.size()];
    for (int i = out.length - 1; i >= 0; i--) {
      float score = best.topScore();
      out[i] = new ScoreDoc(best.pop(), score);
    }
    return out;
  }

  /** Each segment's {@code best} first of its {@code candidates} graph candidates (global doc ids). */
  private static int[] bestOfSegments(IndexSearcher searcher, String field, float[] q, int candidates, int best)
      throws IOException {
    var leaves = searcher.getIndexReader().leaves();
    int[] docs = new int[leaves.size() * best];
    int n = 0;
    for (LeafReaderContext ctx : leaves) {
      ScoreDoc[] top = searchGraph(ctx.reader(), field, q, candidates).scoreDocs; // best first
      for (int i = 0; i < Math.min(best, top.length); i++) {
        docs[n++] = ctx.docBase + top[i].doc;
      }
    }
    return java.util.Arrays.copyOf(docs, n);
  }

  /** The docs of the first {@code n} of {@code top}. */
  private static int[] firstDocs(ScoreDoc[] top, long n) {
    int[] docs = new int[(int) Math.min(top.length, n)];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = top[i].doc;
    }
    return docs;
  }

  /** Lucene's scorer of float vectors, the one its flat vectors format scores with. */
  private static final FlatVectorsScorer FLAT = FlatVectorScorerUtil.getLucene99FlatVectorsScorer();

  /** The files of a graph segment over unquantized vectors: vectors (float32 or narrow) and graph, nothing else. */
  private static final Set<Set<String>> FLOAT_GRAPH_FILES =
      Set.of(Set.of("vec", "vex"), Set.of(NarrowVectorsFormat.DATA_EXTENSION, "vex"));

  /**
   * Per search thread, a graph walker kept between searches. Lucene's reader starts each search
   * with a fresh sparse visited set that grows block by block as the walk spreads: at 300k points a
   * third of the bytes a search allocated, which grew the heap under load. The kept one is cleared
   * instead (one bit per point of the graph, per level walked). Searches run on the storage's
   * platform threads, a few per core, so there are few walkers.
   */
  private static final ThreadLocal<Walker> WALKER = new ThreadLocal<>();

  /**
   * One segment's {@code candidates} nearest live points. Graphs over unquantized floats are walked
   * here, as Lucene's reader walks them but with this thread's {@link #WALKER}; anything else
   * (plain segments, quantized graphs, readers that are not a segment's) is left to Lucene.
   */
  static TopDocs searchGraph(LeafReader leaf, String field, float[] q, int candidates) throws IOException {
    FieldInfo info = leaf.getFieldInfos().fieldInfo(field);
    Lucene99HnswVectorsReader graphs = info == null ? null : floatGraph(leaf, info);
    if (graphs == null) {
      return leaf.searchNearestVectors(field, q, candidates, AcceptDocs.fromLiveDocs(leaf.getLiveDocs(), leaf.maxDoc()),
          Integer.MAX_VALUE);
    }
    RandomVectorScorer scorer = FLAT.getRandomVectorScorer(info.getVectorSimilarityFunction(), graphs.getFloatVectorValues(field), q);
    HnswGraph graph = graphs.getGraph(field);
    int size = scorer.maxOrd();
    if (size == 0) {
      return TopDocsCollector.EMPTY_TOPDOCS;
    }
    TopKnnCollector top = new TopKnnCollector(candidates, Integer.MAX_VALUE);
    if (candidates < size && graph.size() > 0) {
      Bits accept = scorer.getAcceptOrds(leaf.getLiveDocs());
      walker(size).search(new OrdinalTranslatedKnnCollector(top, scorer::ordToDoc), scorer, graph, accept);
    } else {
      // as many candidates as points: every one, as Lucene's reader does and a plain segment is searched
      IndexedVectorsFormat.exhaust(scorer, top, AcceptDocs.fromLiveDocs(leaf.getLiveDocs(), leaf.maxDoc()));
    }
    return top.topDocs();
  }

  /** The segment's graph reader of {@code field} when it walks a graph over unquantized floats; null otherwise. */
  static Lucene99HnswVectorsReader floatGraph(LeafReader leaf, FieldInfo info) {
    return info.getVectorEncoding() == VectorEncoding.FLOAT32 && vectorReader(leaf, info.name) instanceof Lucene99HnswVectorsReader graphs
        && FLOAT_GRAPH_FILES.contains(graphs.getOffHeapByteSize(info).keySet()) ? graphs : null;
  }

  /** The reader of {@code field}'s vectors in the segment a leaf reads; null for a reader that is not a segment's. */
  static KnnVectorsReader vectorReader(LeafReader leaf, String field) {
    if (!(FilterLeafReader.unwrap(leaf) instanceof SegmentReader segment)) {
      return null;
    }
    KnnVectorsReader reader = segment.getVectorReader();
    return reader instanceof PerFieldKnnVectorsFormat.FieldsReader perField ? perField.getFieldReader(field) : reader;
  }

  private static HnswGraphSearcher walker(int size) {
    Walker walker = WALKER.get();
    if (walker == null || walker.capacity() < size) {
      walker = new Walker(new HnswGraphSearcher(new NeighborQueue(16, true), new FixedBitSet(size)), size);
      WALKER.set(walker);
    }
    return walker.searcher();
  }

  /** A graph searcher and how many points its visited set holds (a larger graph gets a new one). */
  private record Walker(HnswGraphSearcher searcher, int capacity) {}

  /**
   * The candidates worth an exact score: the {@code k} best by the graph's (SIMD, unquantized) score
   * and any other within a thousandth of the k-th, which rounding alone could lift above it; the
   * rest cannot reach the top k. {@code top} is best first, as Lucene ranks.
   */
  static int[] contenders(ScoreDoc[] top, int k) {
    int n = Math.min(top.length, k);
    if (n == k && n < top.length) {
      float floor = top[k - 1].score;
      float tolerance = Math.abs(floor) * 1e-3f;
      while (n < top.length && top[n].score >= floor - tolerance) {
        n++;
      }
    }
    int[] docs = new int[n];
    for (int i = 0; i < n; i++) {
      docs[i] = top[i].doc;
    }
    return docs;
  }

  /**
   * Candidates (global doc ids; sorted here) scored exactly in Qdrant's arithmetic, best first. Read
   * in doc order, so that each segment's vectors are opened once rather than once per candidate.
   */
  private static List<Hit> rescore(IndexSearcher searcher, String field, Distance d, float[] q, int[] docs) throws IOException {
    java.util.Arrays.sort(docs);
    List<Hit> hits = new ArrayList<>(docs.length);
    var leaves = searcher.getIndexReader().leaves();
    LeafReaderContext ctx = null;
    FloatVectorValues values = null;
    KnnVectorValues.DocIndexIterator it = null;
    for (int doc : docs) {
      if (ctx == null || doc >= ctx.docBase + ctx.reader().maxDoc()) {
        ctx = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
        values = ctx.reader().getFloatVectorValues(field);
        it = values == null ? null : values.iterator();
      }
      int local = doc - ctx.docBase;
      if (it != null && it.docID() < local && it.advance(local) == local) {
        hits.add(new Hit(doc, d.score(q, values.vectorValue(it.index()))));
      }
    }
    hits.sort(order(d));
    return hits;
  }

  /**
   * Below this many candidate points a filtered search scans them exactly instead of walking the
   * graph, as Qdrant's {@code full_scan_threshold} (10,000 KB of vectors by default) does: a
   * filtered graph walk visits roughly (points / matches) times more nodes than it keeps.
   */
  static int fullScanThreshold(VectorSpec spec, int k) {
    return Math.max(k, (int) Math.min(Integer.MAX_VALUE, 10_000L * 1024 / (4L * spec.size())));
  }

  /** An upper bound of the documents {@code filter} matches, from the iterators' cost estimates. */
  static long filterCost(IndexSearcher searcher, Weight weight) throws IOException {
    long cost = 0;
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      var supplier = weight.scorerSupplier(ctx);
      if (supplier != null) {
        cost += supplier.cost();
      }
    }
    return cost;
  }

  /**
   * Exact top-k with Lucene's (SIMD) vector scorers, which rank like Qdrant's scores for cosine,
   * dot and euclid; the k best are then scored exactly from their vectors. No allocation per
   * document: a bounded heap of (score, doc).
   */
  private static List<Hit> fastExactScan(IndexSearcher searcher, String field, Distance d, float[] q, Weight weight, int k)
      throws IOException {
    var leaves = searcher.getIndexReader().leaves();
    NeighborQueue best = new NeighborQueue(k, false);
    int cores = Runtime.getRuntime().availableProcessors();
    List<List<Range>> parts = split(leaves, searcher.getIndexReader().maxDoc() >= PARALLEL_SCAN_DOCS ? cores : 1);
    if (parts.size() > 1) {
      // a long scan: the doc space split in equal parts, one scanned here and the others on the
      // scan pool, so a single query uses the idle cores whatever the segment sizes
      List<java.util.concurrent.Future<NeighborQueue>> tasks = new ArrayList<>(parts.size() - 1);
      for (List<Range> part : parts.subList(1, parts.size())) {
        tasks.add(SCAN_POOL.submit(() -> scan(part, field, q, weight, k)));
      }
      drain(scan(parts.get(0), field, q, weight, k), best);
      for (var task : tasks) {
        try {
          drain(task.get(), best);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
          throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
      }
    } else if (!parts.isEmpty()) {
      drain(scan(parts.get(0), field, q, weight, k), best);
    }
    int[] docs = new int[best.size()];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = best.pop();
    }
    return rescore(searcher, field, d, q, docs);
  }

  /**
   * Helpers of parallel scans: one thread per core, daemons, shared by every shard of the process.
   * Its own pool, not the common one: the common pool has one thread less than there are cores and
   * serves whatever else in the process uses it.
   */
  private static final java.util.concurrent.ExecutorService SCAN_POOL = java.util.concurrent.Executors.newFixedThreadPool(
      Runtime.getRuntime().availableProcessors(), new java.util.concurrent.ThreadFactory() {
        private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
          Thread t = new Thread(r, "quiver-scan-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        }
      });

  /** The index is scanned in parallel when it holds at least this many documents. */
  private static final int PARALLEL_SCAN_DOCS = 20_000;

  /** Documents {@code [from, to)} of one segment. */
  record Range(LeafReaderContext ctx, int from, int to) {}

  /** The segments cut into at most {@code parts} runs of consecutive documents of equal length. */
  static List<List<Range>> split(List<LeafReaderContext> leaves, int parts) {
    long total = 0;
    for (LeafReaderContext ctx : leaves) {
      total += ctx.reader().maxDoc();
    }
    List<List<Range>> out = new ArrayList<>();
    if (total == 0) {
      return out;
    }
    long per = (total + parts - 1) / parts;
    List<Range> current = new ArrayList<>();
    long room = per;
    for (LeafReaderContext ctx : leaves) {
      int from = 0;
      int max = ctx.reader().maxDoc();
      while (from < max) {
        int to = (int) Math.min(max, from + room);
        current.add(new Range(ctx, from, to));
        room -= to - from;
        from = to;
        if (room == 0) {
          out.add(current);
          current = new ArrayList<>();
          room = per;
        }
      }
    }
    if (!current.isEmpty()) {
      out.add(current);
    }
    return out;
  }

  private static void drain(NeighborQueue from, NeighborQueue into) {
    while (from.size() > 0) {
      float score = from.topScore();
      into.insertWithOverflow(from.pop(), score);
    }
  }

  /** The k best (Lucene score, global doc) of some document ranges. */
  private static NeighborQueue scan(List<Range> ranges, String field, float[] q, Weight filter, int k) throws IOException {
    NeighborQueue best = new NeighborQueue(k, false);
    for (Range range : ranges) {
      scanRange(range, field, q, filter, best);
    }
    return best;
  }

  private static void scanRange(Range range, String field, float[] q, Weight filter, NeighborQueue best) throws IOException {
    LeafReaderContext ctx = range.ctx();
    FloatVectorValues values = ctx.reader().getFloatVectorValues(field);
    if (values == null || values.size() == 0) {
      return;
    }
    if (filter != null && values instanceof org.apache.lucene.codecs.lucene95.HasIndexSlice sliced
        && sliced.getSlice() instanceof org.apache.lucene.store.RandomAccessInput raw) {
      scanAhead(range, q, filter, best, values, raw);
      return;
    }
    org.apache.lucene.search.VectorScorer scorer = values.scorer(q);
    if (scorer == null) {
      return;
    }
    DocIdSetIterator it = Matching.docs(ctx, scorer.iterator(), filter);
    if (it == null) {
      return;
    }
    for (int doc = it.advance(range.from()); doc < range.to(); doc = it.nextDoc()) {
      best.insertWithOverflow(ctx.docBase + doc, scorer.score());
    }
  }

  /** How many matching vectors ahead a filtered scan touches the memory of the next ones. */
  private static final int AHEAD = 16;

  /**
   * A filtered scan reads vectors scattered through the vector file, and each one costs a cache and
   * TLB miss that the hardware prefetcher cannot foresee (the stride is larger than a page). Reading
   * one byte of every cache line of the vector {@link #AHEAD} matches later starts those misses early,
   * so several are in flight while the current vector is scored.
   */
  private static void scanAhead(Range range, float[] q, Weight filter, NeighborQueue best, FloatVectorValues values,
      org.apache.lucene.store.RandomAccessInput raw) throws IOException {
    LeafReaderContext ctx = range.ctx();
    KnnVectorValues.DocIndexIterator positions = values.iterator();
    DocIdSetIterator it = Matching.docs(ctx, positions, filter);
    org.apache.lucene.search.VectorScorer scorer = values.copy().scorer(q);
    if (it == null || scorer == null) {
      return;
    }
    DocIdSetIterator scored = scorer.iterator();
    long bytes = (long) values.dimension() * Float.BYTES;
    int[] docs = new int[512];
    int[] ords = new int[512];
    int touched = 0;
    int doc = it.advance(range.from());
    while (doc < range.to()) {
      int n = 0;
      for (; n < docs.length && doc < range.to(); doc = it.nextDoc()) {
        docs[n] = doc;
        ords[n++] = positions.index();
      }
      for (int i = 0; i < n; i++) {
        if (i + AHEAD < n) {
          long base = ords[i + AHEAD] * bytes;
          for (long off = 0; off < bytes; off += 64) {
            touched += raw.readByte(base + off);
          }
        }
        scored.advance(docs[i]);
        best.insertWithOverflow(ctx.docBase + docs[i], scorer.score());
      }
    }
    sink = touched;
  }

  /** Keeps the look-ahead reads of {@link #scanAhead} from being optimised away. */
  @SuppressWarnings("unused")
  private static volatile int sink;

  /** Best first; ties by doc id so results are stable. */
  public static Comparator<Hit> order(Distance d) {
    Comparator<Hit> byScore = Comparator.comparingDouble(Hit::score);
    return (d.higherIsBetter() ? byScore.reversed() : byScore).thenComparingInt(Hit::doc);
  }

  private static List<Hit> exactScan(IndexSearcher searcher, String field, Distance d, float[] q, Query filter, int k)
      throws IOException {
    return scan(searcher, field, v -> d.score(q, v), d.higherIsBetter(), filter, k);
  }

  /** The field that holds the vectors of {@code spec}: Lucene vectors, or multivector doc values. */
  public static String field(VectorSpec spec) {
    return spec.multi() ? Fields.multi(spec.name()) : Fields.dense(spec.name());
  }

  /**
   * Qdrant's raw metric similarity (higher is better) of {@code a[aFrom..aFrom+dim)} and
   * {@code b[bFrom..bFrom+dim)}: the dot product for cosine (prepared vectors) and dot, minus the
   * squared euclidean distance, minus the manhattan distance; in Qdrant's arithmetic order
   * ({@link QdrantMath#similarity}).
   */
  public static float similarity(Distance d, float[] a, int aFrom, float[] b, int bFrom, int dim) {
    return QdrantMath.similarity(d, a, aFrom, b, bFrom, dim);
  }

  /**
   * Qdrant's {@code max_sim} of two flattened multivectors: for each row of {@code q} in order, the
   * best raw {@link #similarity} to a row of {@code v} (the first of equals; a NaN never replaces a
   * number), summed in row order from zero. Not post-processed (no square root for euclid), as Qdrant.
   */
  public static float maxSim(Distance d, int dim, float[] q, float[] v) {
    float sum = 0f;
    for (int a = 0; a + dim <= q.length; a += dim) {
      float best = Float.NEGATIVE_INFINITY;
      for (int b = 0; b + dim <= v.length; b += dim) {
        float s = QdrantMath.similarity(d, q, a, v, b, dim);
        if (s > best) {
          best = s;
        }
      }
      sum += best;
    }
    return sum;
  }

  /** A score computed from a stored (prepared) vector. */
  @FunctionalInterface
  public interface VectorScorer {
    float score(float[] stored);
  }

  /** Exact top-k by any score over the stored vectors of {@code field} (recommendation strategies use it). */
  public static List<Hit> scan(IndexSearcher searcher, String field, VectorScorer scorer, boolean higherIsBetter,
      Query filter, int k) throws IOException {
    if (k <= 0) {
      return List.of();
    }
    Comparator<Hit> byScore = Comparator.comparingDouble(Hit::score);
    TieBreak ties = new TieBreak(searcher);
    Comparator<Hit> best = (higherIsBetter ? byScore.reversed() : byScore).thenComparing((a, b) -> ties.compare(a.doc(), b.doc()));
    PriorityQueue<Hit> heap = new PriorityQueue<>(Math.min(k, searcher.getIndexReader().maxDoc()) + 1, best.reversed());
    Weight weight = Matching.weight(searcher, filter);
    boolean multi = field.startsWith(Fields.MULTI_PREFIX);
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      FloatVectorValues values = multi ? null : ctx.reader().getFloatVectorValues(field);
      BinaryDocValues rows = multi ? ctx.reader().getBinaryDocValues(field) : null;
      if (values == null && rows == null) {
        continue;
      }
      KnnVectorValues.DocIndexIterator vectors = values != null ? values.iterator() : null;
      DocIdSetIterator it = Matching.docs(ctx, vectors != null ? vectors : rows, weight);
      if (it == null) {
        continue;
      }
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        float[] v = vectors != null ? values.vectorValue(vectors.index()) : decode(rows.binaryValue());
        float score = scorer.score(v);
        if (heap.size() == k) {
          Hit worst = heap.peek();
          if (higherIsBetter ? score < worst.score() : score > worst.score()) {
            continue;
          }
          if (score == worst.score() && ties.compare(ctx.docBase + doc, worst.doc()) > 0) {
            continue;
          }
        }
        heap.add(new Hit(ctx.docBase + doc, score));
        if (heap.size() > k) {
          heap.poll();
        }
      }
    }
    List<Hit> out = new ArrayList<>(heap);
    out.sort(best);
    return out;
  }

  private static float[] decode(BytesRef b) {
    float[] out = new float[b.length / 4];
    java.nio.ByteBuffer.wrap(b.bytes, b.offset, b.length).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
