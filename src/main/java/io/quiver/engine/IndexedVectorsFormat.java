package io.quiver.engine;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.apache.lucene.codecs.KnnFieldVectorsWriter;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.codecs.hnsw.FlatVectorScorerUtil;
import org.apache.lucene.codecs.hnsw.FlatVectorsFormat;
import org.apache.lucene.codecs.hnsw.FlatVectorsReader;
import org.apache.lucene.codecs.hnsw.FlatVectorsScorer;
import org.apache.lucene.codecs.hnsw.FlatVectorsWriter;
import org.apache.lucene.codecs.lucene102.Lucene102BinaryQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene102.Lucene102HnswBinaryQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99FlatVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsReader;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsWriter;
import org.apache.lucene.codecs.lucene99.Lucene99ScalarQuantizedVectorScorer;
import org.apache.lucene.codecs.lucene99.Lucene99ScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99ScalarQuantizedVectorsReader;
import org.apache.lucene.codecs.lucene99.Lucene99ScalarQuantizedVectorsWriter;
import org.apache.lucene.index.ByteVectorValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexFileNames;
import org.apache.lucene.index.MergeState;
import org.apache.lucene.index.SegmentInfo;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.index.Sorter;
import org.apache.lucene.search.AcceptDocs;
import org.apache.lucene.search.KnnCollector;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.IOUtils;
import org.apache.lucene.util.hnsw.RandomVectorScorer;

/**
 * Dense vectors kept as Qdrant keeps them: a segment holding less than {@code indexing_threshold} of
 * vectors is plain (the vectors alone, searched exactly), a larger one has an HNSW graph. Points are
 * flushed plain, so an upsert never waits for a graph to be built; graphs are built when a merge
 * writes a segment of at least the threshold, on the merge threads ({@code max_optimization_threads}),
 * by inserting the plain segments' vectors into the largest merged graph. Every segment records the
 * bytes of its largest field's vectors ({@link #VECTOR_BYTES}), the size by which Qdrant's merge
 * optimizer bounds a segment ({@code max_segment_size}); a plain one records them as {@link
 * #PLAIN_BYTES} too, so that the merge policy indexes one that reaches the threshold without any
 * merge to join.
 *
 * <p>One format name for every graph setting and quantization: a segment's reader finds what was
 * written from its files (a graph, int8 or binary quantized vectors, or none of them), so a
 * collection's settings can change between segments. Segments written by Lucene's own formats
 * (earlier versions of Quiver) keep opening with them.
 */
public final class IndexedVectorsFormat extends KnnVectorsFormat {
  public static final String NAME = "QuiverIndexedVectors";

  /** Segment attribute of a plain segment whose vectors could be indexed: the bytes of its largest field's vectors. */
  public static final String PLAIN_BYTES = "quiver.plainVectorBytes";

  /** Segment attribute: the bytes of the segment's largest vector field (as stored, every document counted). */
  public static final String VECTOR_BYTES = "quiver.vectorBytes";

  /** Segment attribute of a segment written with an HNSW graph: the bytes of its largest graph field's vectors. */
  public static final String GRAPH_BYTES = "quiver.graphVectorBytes";

  /** The int8 scorer of Lucene's scalar quantized format (7 bits, its default), for codes over narrow vectors. */
  private static final FlatVectorsScorer SCALAR_SCORER = new Lucene99ScalarQuantizedVectorScorer(DefaultFlatVectorScorer.INSTANCE);

  private final int m;
  private final int beam;
  private final VectorSpec.Quantization quantization;
  private final NarrowVectorsFormat.Element element;
  private final LongSupplier threshold;
  private final FlatVectorsFormat plain;

  /** For reading: Lucene finds the format by its name. */
  public IndexedVectorsFormat() {
    this(0, 0, VectorSpec.Quantization.NONE, null, () -> Long.MAX_VALUE);
  }

  /**
   * @param m the graph's degree; 0 keeps every segment plain
   * @param beam the graph's construction beam
   * @param element the width the vectors are stored in ({@link NarrowVectorsFormat}), null for float32;
   *     under a scalar quantized graph too (beside the int8 codes); a binary quantized graph keeps its
   *     vectors in float32 (Lucene's binary format takes no other writer of them)
   * @param threshold the vector bytes from which a merged segment gets a graph ({@code indexing_threshold})
   */
  IndexedVectorsFormat(int m, int beam, VectorSpec.Quantization quantization, NarrowVectorsFormat.Element element,
      LongSupplier threshold) {
    super(NAME);
    this.m = m;
    this.beam = beam;
    this.quantization = quantization;
    this.element = element;
    this.threshold = threshold;
    this.plain = element == null ? new Lucene99FlatVectorsFormat(FlatVectorScorerUtil.getLucene99FlatVectorsScorer())
        : new NarrowVectorsFormat(element);
  }

  @Override
  public int getMaxDimensions(String fieldName) {
    return VectorCodec.MAX_DIMENSIONS;
  }

  @Override
  public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
    boolean graph = m > 0 && state.context.context() == IOContext.Context.MERGE && largestVectorBytes(state) >= threshold.getAsLong();
    KnnVectorsWriter vectors = graph ? graphWriter(state) : plain.fieldsWriter(state);
    return new SizedWriter(vectors, state.segmentInfo, graph, !graph && m > 0, this::vectorBytes);
  }

  private KnnVectorsWriter graphWriter(SegmentWriteState state) throws IOException {
    if (element == null || quantization == VectorSpec.Quantization.BINARY) {
      return graphFormat().fieldsWriter(state);
    }
    // the graph over narrow vectors, int8 codes beside them for scalar: Lucene's graph writer
    // takes any flat writer, its scalar quantizer any writer of the original vectors
    FlatVectorsWriter vectors = plain.fieldsWriter(state);
    try {
      FlatVectorsWriter flat = quantization == VectorSpec.Quantization.NONE ? vectors
          : new Lucene99ScalarQuantizedVectorsWriter(state, null, vectors, SCALAR_SCORER);
      return new Lucene99HnswVectorsWriter(state, m, beam, flat, 1, null);
    } catch (IOException | RuntimeException e) {
      IOUtils.closeWhileHandlingException(vectors);
      throw e;
    }
  }

  /**
   * An upper bound of the bytes of the segment's largest vector field (every document holding one),
   * counted as this format stores them: {@code indexing_threshold} counts a uint8 vector's dimensions
   * as one byte each, as Qdrant's optimizer counts its storage.
   */
  private long largestVectorBytes(SegmentWriteState state) {
    long largest = 0;
    for (FieldInfo fi : state.fieldInfos) {
      if (fi.getVectorDimension() > 0) {
        largest = Math.max(largest, vectorBytes(fi));
      }
    }
    return largest * state.segmentInfo.maxDoc();
  }

  /** The bytes of one vector of the field as this format stores it. */
  private long vectorBytes(FieldInfo fi) {
    return (long) fi.getVectorDimension() * (element == null ? fi.getVectorEncoding().byteSize : element.bytes);
  }

  /**
   * The graph's format. One thread per merge, and searches keep the other cores ({@code
   * max_optimization_threads} bounds the merges at once). Lucene's concurrent merge builder (a pool
   * of helpers) was tried: on 2 cores it spent a third of its time on the graph's node locks, and
   * the graphs it built at a million vectors lost recall (0.928 vs 0.993 at ef 512).
   */
  private KnnVectorsFormat graphFormat() {
    return switch (quantization) {
      case NONE -> new Lucene99HnswVectorsFormat(m, beam);
      case SCALAR -> new Lucene99HnswScalarQuantizedVectorsFormat(m, beam);
      case BINARY -> new Lucene102HnswBinaryQuantizedVectorsFormat(m, beam);
    };
  }

  @Override
  public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
    boolean graph = has(state, "vex");
    FlatVectorsFormat flat = has(state, NarrowVectorsFormat.DATA_EXTENSION) ? new NarrowVectorsFormat()
        : has(state, "veq") ? new Lucene99ScalarQuantizedVectorsFormat()
        : has(state, "veb") ? new Lucene102BinaryQuantizedVectorsFormat()
        : new Lucene99FlatVectorsFormat(FlatVectorScorerUtil.getLucene99FlatVectorsScorer());
    FlatVectorsReader vectors = flat.fieldsReader(state);
    if (!graph) {
      return new PlainReader(vectors);
    }
    if (flat instanceof NarrowVectorsFormat && has(state, "veq")) {
      try {
        vectors = new Lucene99ScalarQuantizedVectorsReader(state, vectors, SCALAR_SCORER);
      } catch (IOException | RuntimeException e) {
        IOUtils.closeWhileHandlingException(vectors);
        throw e;
      }
    }
    try {
      // the graph reader itself, so that merges can start from its graph
      return new Lucene99HnswVectorsReader(state, vectors);
    } catch (IOException | RuntimeException e) {
      vectors.close();
      throw e;
    }
  }

  /** Whether this format wrote a file with the extension in the segment (compound or not). */
  private static boolean has(SegmentReadState state, String extension) throws IOException {
    try {
      state.directory.fileLength(IndexFileNames.segmentFileName(state.segmentInfo.name, state.segmentSuffix, extension));
      return true;
    } catch (NoSuchFileException | java.io.FileNotFoundException e) {
      return false;
    }
  }

  /** Whether a segment holds vectors written plain that a merge should index, and how many bytes of them. */
  static long plainBytes(SegmentInfo info) {
    return longAttribute(info, PLAIN_BYTES, 0);
  }

  /** Whether the segment was written with an HNSW graph by this format (false for segments written before it said so). */
  static boolean hasGraph(SegmentInfo info) {
    return longAttribute(info, GRAPH_BYTES, 0) > 0;
  }

  /** The bytes of the segment's largest vector field; -1 when it has none written by this format (or was written before it counted). */
  static long vectorBytes(SegmentInfo info) {
    return longAttribute(info, VECTOR_BYTES, -1);
  }

  private static long longAttribute(SegmentInfo info, String key, long absent) {
    String v = info.getAttribute(key);
    return v == null ? absent : Long.parseLong(v);
  }

  @Override
  public String toString() {
    return NAME + "(m=" + m + ", beam=" + beam + ", quantization=" + quantization + (element == null ? "" : ", " + element) + ")";
  }

  /**
   * A vectors writer recording the size of what it wrote for the merge policy ({@link #VECTOR_BYTES},
   * {@link #PLAIN_BYTES}, {@link #GRAPH_BYTES}).
   */
  private static final class SizedWriter extends KnnVectorsWriter {
    private final KnnVectorsWriter delegate;
    private final SegmentInfo segment;
    /** Vectors under an HNSW graph. */
    private final boolean graph;
    /** Plain vectors that a merge should index. */
    private final boolean indexable;
    private final ToLongFunction<FieldInfo> vectorBytes;
    private long largestVector;
    private int maxDoc;

    SizedWriter(KnnVectorsWriter delegate, SegmentInfo segment, boolean graph, boolean indexable,
        ToLongFunction<FieldInfo> vectorBytes) {
      this.delegate = delegate;
      this.segment = segment;
      this.graph = graph;
      this.indexable = indexable;
      this.vectorBytes = vectorBytes;
    }

    @Override
    public KnnFieldVectorsWriter<?> addField(FieldInfo fieldInfo) throws IOException {
      note(fieldInfo);
      return delegate.addField(fieldInfo);
    }

    @Override
    public void flush(int maxDoc, Sorter.DocMap sortMap) throws IOException {
      this.maxDoc = maxDoc;
      delegate.flush(maxDoc, sortMap);
    }

    @Override
    public void mergeOneField(FieldInfo fieldInfo, MergeState mergeState) throws IOException {
      note(fieldInfo);
      maxDoc = mergeState.segmentInfo.maxDoc();
      delegate.mergeOneField(fieldInfo, mergeState);
    }

    private void note(FieldInfo fieldInfo) {
      largestVector = Math.max(largestVector, vectorBytes.applyAsLong(fieldInfo));
    }

    @Override
    public void finish() throws IOException {
      delegate.finish();
      if (largestVector > 0) {
        // several formats (one per graph setting) may share the segment: the largest field counts
        long bytes = largestVector * maxDoc;
        atLeast(VECTOR_BYTES, bytes);
        if (indexable) {
          atLeast(PLAIN_BYTES, bytes);
        }
        if (graph) {
          atLeast(GRAPH_BYTES, bytes);
        }
      }
    }

    /** Raises the segment's attribute to {@code bytes} (absent counts as none). */
    private void atLeast(String key, long bytes) {
      segment.putAttribute(key, Long.toString(Math.max(longAttribute(segment, key, 0), bytes)));
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }

    @Override
    public long ramBytesUsed() {
      return delegate.ramBytesUsed();
    }
  }

  /**
   * Every accepted vector offered to the collector, until it has seen as many as it allows (then
   * Lucene's query scans the filter's documents itself, as for a graph that visited too many): how a
   * plain segment is searched, and a graph asked for as many candidates as it holds.
   */
  static void exhaust(RandomVectorScorer scorer, KnnCollector collector, AcceptDocs acceptDocs) throws IOException {
    if (scorer == null) {
      return;
    }
    Bits accept = scorer.getAcceptOrds(acceptDocs == null ? null : acceptDocs.bits());
    int size = scorer.maxOrd();
    for (int ord = 0; ord < size; ord++) {
      if (accept != null && !accept.get(ord)) {
        continue;
      }
      if (collector.earlyTerminated()) {
        return;
      }
      collector.incVisitedCount(1);
      collector.collect(scorer.ordToDoc(ord), scorer.score(ord));
    }
  }

  /** Plain vectors, searched exactly: every vector the search accepts is scored and offered to the collector. */
  private static final class PlainReader extends KnnVectorsReader {
    private final FlatVectorsReader delegate;

    PlainReader(FlatVectorsReader delegate) {
      this.delegate = delegate;
    }

    @Override
    public void checkIntegrity() throws IOException {
      delegate.checkIntegrity();
    }

    @Override
    public FloatVectorValues getFloatVectorValues(String field) throws IOException {
      return delegate.getFloatVectorValues(field);
    }

    @Override
    public ByteVectorValues getByteVectorValues(String field) throws IOException {
      return delegate.getByteVectorValues(field);
    }

    @Override
    public void search(String field, float[] target, KnnCollector collector, AcceptDocs acceptDocs) throws IOException {
      exhaust(delegate.getRandomVectorScorer(field, target), collector, acceptDocs);
    }

    @Override
    public void search(String field, byte[] target, KnnCollector collector, AcceptDocs acceptDocs) throws IOException {
      exhaust(delegate.getRandomVectorScorer(field, target), collector, acceptDocs);
    }

    @Override
    public KnnVectorsReader getMergeInstance() throws IOException {
      FlatVectorsReader merging = delegate.getMergeInstance();
      return merging == delegate ? this : new PlainReader(merging);
    }

    @Override
    public void finishMerge() throws IOException {
      delegate.finishMerge();
    }

    @Override
    public Map<String, Long> getOffHeapByteSize(FieldInfo fieldInfo) {
      return delegate.getOffHeapByteSize(fieldInfo);
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }
}
