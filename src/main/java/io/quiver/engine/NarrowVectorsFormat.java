package io.quiver.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.codecs.CodecUtil;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.codecs.hnsw.FlatFieldVectorsWriter;
import org.apache.lucene.codecs.hnsw.FlatVectorsFormat;
import org.apache.lucene.codecs.hnsw.FlatVectorsReader;
import org.apache.lucene.codecs.hnsw.FlatVectorsScorer;
import org.apache.lucene.codecs.hnsw.FlatVectorsWriter;
import org.apache.lucene.codecs.lucene90.IndexedDISI;
import org.apache.lucene.codecs.lucene95.OrdToDocDISIReaderConfiguration;
import org.apache.lucene.index.ByteVectorValues;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DocsWithFieldSet;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexFileNames;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.MergeState;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;
import org.apache.lucene.index.Sorter;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.VectorScorer;
import org.apache.lucene.store.ChecksumIndexInput;
import org.apache.lucene.store.DataAccessHint;
import org.apache.lucene.store.FileDataHint;
import org.apache.lucene.store.FileTypeHint;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.IOUtils;
import org.apache.lucene.util.RamUsageEstimator;
import org.apache.lucene.util.hnsw.CloseableRandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.RandomVectorScorer;
import org.apache.lucene.util.hnsw.RandomVectorScorerSupplier;
import org.apache.lucene.util.hnsw.UpdateableRandomVectorScorer;
import org.apache.lucene.util.packed.DirectMonotonicReader;

/**
 * Float vectors kept on disk in the width of their Qdrant datatype: {@code float16} in two bytes per
 * dimension, {@code uint8} in one, instead of Lucene's four. A flat format, as Lucene's own: plain
 * segments use it alone, graphs ({@link IndexedVectorsFormat}) take it as the vectors under the HNSW
 * graph. Readers hand out float vectors, decoded from the narrow bytes on each read, so search,
 * rescoring and merges see the same floats the point was stored with: the storage layer rounds every
 * value to the datatype on the way in, which makes the narrowing exact.
 *
 * <p>Files: {@code .qnm} (per field: element type, similarity, offset and length of its vectors,
 * dimension, count and the ord-to-doc map's configuration) and {@code .qnd} (the vectors, then the
 * ord-to-doc map of fields that not every document holds), both with Lucene's headers and checksums.
 */
final class NarrowVectorsFormat extends FlatVectorsFormat {
  static final String NAME = "QuiverNarrowVectors";
  static final String META_EXTENSION = "qnm";
  static final String DATA_EXTENSION = "qnd";
  private static final String META_CODEC = "QuiverNarrowVectorsMeta";
  private static final String DATA_CODEC = "QuiverNarrowVectorsData";
  private static final int VERSION = 0;
  private static final int DIRECT_MONOTONIC_BLOCK_SHIFT = 16;
  private static final FlatVectorsScorer SCORER = DefaultFlatVectorScorer.INSTANCE;

  /** How one dimension is stored. */
  enum Element {
    /** IEEE 754 half precision, little-endian. */
    FLOAT16(2),
    /** An integer 0..255 in one unsigned byte. */
    UINT8(1);

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    final int bytes;

    Element(int bytes) {
      this.bytes = bytes;
    }

    /** The element a vector of this datatype and distance is stored as, or null for float32. */
    static Element of(VectorSpec.Datatype datatype, Distance distance) {
      return switch (datatype) {
        case FLOAT32 -> null;
        case FLOAT16 -> FLOAT16;
        // cosine vectors are stored normalised: their values are no longer integers
        case UINT8 -> distance == Distance.COSINE ? null : UINT8;
      };
    }

    /** The values in this element's bytes; a value it cannot hold is rounded into it, as {@link VectorSpec.Datatype#round}. */
    void encode(float[] v, byte[] out) {
      switch (this) {
        case FLOAT16 -> {
          for (int i = 0; i < v.length; i++) {
            SHORT.set(out, i << 1, Float.floatToFloat16(v[i]));
          }
        }
        case UINT8 -> {
          // the storage layer has rounded the values already; rounding again (never failing) keeps a
          // flush from ever throwing, which would abort the index writer
          for (int i = 0; i < v.length; i++) {
            out[i] = (byte) (int) VectorSpec.Datatype.UINT8.round(v[i]);
          }
        }
      }
    }

    /** One vector's bytes as floats. */
    void decode(byte[] in, float[] out) {
      switch (this) {
        case FLOAT16 -> halvesToFloats(ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer(), new short[out.length], out);
        case UINT8 -> {
          for (int i = 0; i < out.length; i++) {
            out[i] = Byte.toUnsignedInt(in[i]);
          }
        }
      }
    }

    /**
     * float16 values (little-endian, as written) as floats: copied out as shorts at once, then
     * converted in a plain loop, which the JIT vectorises (a value at a time from the bytes took 51
     * ns a 128-d vector, this 30).
     */
    static void halvesToFloats(ShortBuffer in, short[] halves, float[] out) {
      in.get(0, halves);
      for (int i = 0; i < out.length; i++) {
        out[i] = Float.float16ToFloat(halves[i]);
      }
    }
  }

  private final Element element;

  /** For reading: a segment's fields record their own element. */
  NarrowVectorsFormat() {
    this(Element.FLOAT16);
  }

  NarrowVectorsFormat(Element element) {
    super(NAME);
    this.element = element;
  }

  @Override
  public FlatVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
    return new Writer(state, element);
  }

  @Override
  public FlatVectorsReader fieldsReader(SegmentReadState state) throws IOException {
    return new Reader(state);
  }

  @Override
  public int getMaxDimensions(String fieldName) {
    return VectorCodec.MAX_DIMENSIONS;
  }

  @Override
  public String toString() {
    return NAME + "(" + element + ")";
  }

  private static String fileName(String segment, String suffix, String extension) {
    return IndexFileNames.segmentFileName(segment, suffix, extension);
  }

  private static void requireFloat(FieldInfo info) {
    if (info.getVectorEncoding() != VectorEncoding.FLOAT32) {
      throw new IllegalArgumentException("field \"" + info.name + "\": narrow vectors hold float vectors only");
    }
  }

  /** Writes the vectors of a flush or a merge, narrowed to the element. */
  static final class Writer extends FlatVectorsWriter {
    private final SegmentWriteState state;
    private final Element element;
    private final IndexOutput meta;
    private final IndexOutput data;
    private final List<FieldWriter> fields = new ArrayList<>();
    private boolean finished;

    Writer(SegmentWriteState state, Element element) throws IOException {
      super(SCORER);
      this.state = state;
      this.element = element;
      IndexOutput m = null;
      IndexOutput d = null;
      boolean success = false;
      try {
        m = state.directory.createOutput(fileName(state.segmentInfo.name, state.segmentSuffix, META_EXTENSION), state.context);
        d = state.directory.createOutput(fileName(state.segmentInfo.name, state.segmentSuffix, DATA_EXTENSION), state.context);
        CodecUtil.writeIndexHeader(m, META_CODEC, VERSION, state.segmentInfo.getId(), state.segmentSuffix);
        CodecUtil.writeIndexHeader(d, DATA_CODEC, VERSION, state.segmentInfo.getId(), state.segmentSuffix);
        success = true;
      } finally {
        if (!success) {
          IOUtils.closeWhileHandlingException(m, d);
        }
      }
      this.meta = m;
      this.data = d;
    }

    @Override
    public FlatFieldVectorsWriter<?> addField(FieldInfo fieldInfo) {
      requireFloat(fieldInfo);
      FieldWriter field = new FieldWriter(fieldInfo);
      fields.add(field);
      return field;
    }

    @Override
    public void flush(int maxDoc, Sorter.DocMap sortMap) throws IOException {
      for (FieldWriter field : fields) {
        long offset = data.alignFilePointer(Float.BYTES);
        byte[] buffer = new byte[field.info.getVectorDimension() * element.bytes];
        DocsWithFieldSet docs = field.docs;
        if (sortMap == null) {
          for (float[] v : field.vectors) {
            write(data, v, buffer);
          }
        } else {
          int[] newToOld = new int[docs.cardinality()];
          DocsWithFieldSet sorted = new DocsWithFieldSet();
          KnnVectorsWriter.mapOldOrdToNewOrd(docs, sortMap, null, newToOld, sorted);
          for (int old : newToOld) {
            write(data, field.vectors.get(old), buffer);
          }
          docs = sorted;
        }
        writeMeta(field.info, maxDoc, offset, data.getFilePointer() - offset, docs);
        field.finish();
      }
    }

    private void write(IndexOutput out, float[] v, byte[] buffer) throws IOException {
      element.encode(v, buffer);
      out.writeBytes(buffer, buffer.length);
    }

    /** Writes the merged vectors of the field to {@code out}, returning the documents that hold one. */
    private DocsWithFieldSet writeMerged(IndexOutput out, FieldInfo fieldInfo, MergeState mergeState) throws IOException {
      FloatVectorValues merged = KnnVectorsWriter.MergedVectorValues.mergeFloatVectorValues(fieldInfo, mergeState);
      byte[] buffer = new byte[fieldInfo.getVectorDimension() * element.bytes];
      DocsWithFieldSet docs = new DocsWithFieldSet();
      KnnVectorValues.DocIndexIterator it = merged.iterator();
      for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        write(out, merged.vectorValue(it.index()), buffer);
        docs.add(doc);
      }
      return docs;
    }

    @Override
    public void mergeOneField(FieldInfo fieldInfo, MergeState mergeState) throws IOException {
      requireFloat(fieldInfo);
      long offset = data.alignFilePointer(Float.BYTES);
      DocsWithFieldSet docs = writeMerged(data, fieldInfo, mergeState);
      writeMeta(fieldInfo, state.segmentInfo.maxDoc(), offset, data.getFilePointer() - offset, docs);
    }

    /**
     * As {@link #mergeOneField}, and the merged vectors opened for the graph's construction: written
     * first to a temporary file that the graph builder reads at random, then copied into the segment.
     */
    @Override
    public CloseableRandomVectorScorerSupplier mergeOneFieldToIndex(FieldInfo fieldInfo, MergeState mergeState)
        throws IOException {
      requireFloat(fieldInfo);
      long offset = data.alignFilePointer(Float.BYTES);
      IndexOutput temp = state.directory.createTempOutput(data.getName(), "temp", state.context);
      IndexInput in = null;
      boolean success = false;
      try {
        DocsWithFieldSet docs = writeMerged(temp, fieldInfo, mergeState);
        CodecUtil.writeFooter(temp);
        IOUtils.close(temp);
        in = state.directory.openInput(temp.getName(),
            IOContext.DEFAULT.withHints(FileTypeHint.DATA, FileDataHint.KNN_VECTORS, DataAccessHint.RANDOM));
        data.copyBytes(in, in.length() - CodecUtil.footerLength());
        CodecUtil.retrieveChecksum(in);
        writeMeta(fieldInfo, state.segmentInfo.maxDoc(), offset, data.getFilePointer() - offset, docs);
        int count = docs.cardinality();
        Values values = new Dense(element, fieldInfo.getVectorDimension(), count,
            in.slice("narrow-vectors", 0, (long) count * fieldInfo.getVectorDimension() * element.bytes),
            fieldInfo.getVectorSimilarityFunction());
        RandomVectorScorerSupplier supplier = SCORER.getRandomVectorScorerSupplier(fieldInfo.getVectorSimilarityFunction(), values);
        IndexInput opened = in;
        success = true;
        return new CloseableRandomVectorScorerSupplier() {
          @Override
          public UpdateableRandomVectorScorer scorer() throws IOException {
            return supplier.scorer();
          }

          @Override
          public RandomVectorScorerSupplier copy() throws IOException {
            return supplier.copy();
          }

          @Override
          public int totalVectorCount() {
            return count;
          }

          @Override
          public void close() throws IOException {
            IOUtils.close(opened);
            state.directory.deleteFile(temp.getName());
          }
        };
      } finally {
        if (!success) {
          IOUtils.closeWhileHandlingException(in, temp);
          IOUtils.deleteFilesIgnoringExceptions(state.directory, temp.getName());
        }
      }
    }

    private void writeMeta(FieldInfo field, int maxDoc, long offset, long length, DocsWithFieldSet docs) throws IOException {
      meta.writeInt(field.number);
      meta.writeByte((byte) element.ordinal());
      meta.writeInt(field.getVectorSimilarityFunction().ordinal());
      meta.writeVLong(offset);
      meta.writeVLong(length);
      meta.writeVInt(field.getVectorDimension());
      int count = docs.cardinality();
      meta.writeInt(count);
      OrdToDocDISIReaderConfiguration.writeStoredMeta(DIRECT_MONOTONIC_BLOCK_SHIFT, meta, data, count, maxDoc, docs);
    }

    @Override
    public void finish() throws IOException {
      if (finished) {
        throw new IllegalStateException("already finished");
      }
      finished = true;
      meta.writeInt(-1);
      CodecUtil.writeFooter(meta);
      CodecUtil.writeFooter(data);
    }

    @Override
    public long ramBytesUsed() {
      long total = RamUsageEstimator.shallowSizeOfInstance(Writer.class);
      for (FieldWriter field : fields) {
        total += field.ramBytesUsed();
      }
      return total;
    }

    @Override
    public void close() throws IOException {
      IOUtils.close(meta, data);
    }
  }

  /** A field's vectors of a flush, buffered as floats until the segment is written. */
  private static final class FieldWriter extends FlatFieldVectorsWriter<float[]> {
    private final FieldInfo info;
    private final DocsWithFieldSet docs = new DocsWithFieldSet();
    private final List<float[]> vectors = new ArrayList<>();
    private int lastDoc = -1;
    private boolean finished;

    FieldWriter(FieldInfo info) {
      this.info = info;
    }

    @Override
    public void addValue(int docID, float[] vector) {
      if (finished) {
        throw new IllegalStateException("already finished, cannot add more values");
      }
      if (docID == lastDoc) {
        throw new IllegalArgumentException("vector field \"" + info.name + "\" appears more than once in this document");
      }
      docs.add(docID);
      vectors.add(copyValue(vector));
      lastDoc = docID;
    }

    @Override
    public float[] copyValue(float[] vector) {
      return vector.clone();
    }

    @Override
    public List<float[]> getVectors() {
      return vectors;
    }

    @Override
    public DocsWithFieldSet getDocsWithFieldSet() {
      return docs;
    }

    @Override
    public void finish() {
      finished = true;
    }

    @Override
    public boolean isFinished() {
      return finished;
    }

    @Override
    public long ramBytesUsed() {
      return RamUsageEstimator.shallowSizeOfInstance(FieldWriter.class) + docs.ramBytesUsed()
          + (long) vectors.size() * (RamUsageEstimator.NUM_BYTES_OBJECT_REF + RamUsageEstimator.NUM_BYTES_ARRAY_HEADER
              + (long) info.getVectorDimension() * Float.BYTES);
    }
  }

  /** A field of a segment as its meta file describes it. */
  private record FieldEntry(Element element, VectorSimilarityFunction similarity, long offset, long length, int dimension,
      int size, OrdToDocDISIReaderConfiguration ordToDoc) {}

  /** Reads a segment's narrow vectors; every field hands out float vectors. */
  static final class Reader extends FlatVectorsReader {
    private final Map<String, FieldEntry> fields = new HashMap<>();
    private final IndexInput data;
    private final IOContext dataContext;

    Reader(SegmentReadState state) throws IOException {
      super(SCORER);
      String metaName = fileName(state.segmentInfo.name, state.segmentSuffix, META_EXTENSION);
      try (ChecksumIndexInput meta = state.directory.openChecksumInput(metaName)) {
        Throwable failure = null;
        try {
          CodecUtil.checkIndexHeader(meta, META_CODEC, VERSION, VERSION, state.segmentInfo.getId(), state.segmentSuffix);
          for (int number = meta.readInt(); number != -1; number = meta.readInt()) {
            FieldInfo info = state.fieldInfos.fieldInfo(number);
            if (info == null) {
              throw new CorruptIndexException("invalid field number " + number, meta);
            }
            fields.put(info.name, readEntry(meta, info));
          }
        } catch (Throwable e) {
          failure = e;
        } finally {
          CodecUtil.checkFooter(meta, failure);
        }
      }
      dataContext = state.context.withHints(FileTypeHint.DATA, FileDataHint.KNN_VECTORS, DataAccessHint.RANDOM);
      IndexInput in = state.directory.openInput(fileName(state.segmentInfo.name, state.segmentSuffix, DATA_EXTENSION), dataContext);
      boolean success = false;
      try {
        CodecUtil.checkIndexHeader(in, DATA_CODEC, VERSION, VERSION, state.segmentInfo.getId(), state.segmentSuffix);
        CodecUtil.retrieveChecksum(in);
        success = true;
      } finally {
        if (!success) {
          IOUtils.closeWhileHandlingException(in);
        }
      }
      this.data = in;
    }

    private static FieldEntry readEntry(IndexInput meta, FieldInfo info) throws IOException {
      int e = meta.readByte();
      if (e < 0 || e >= Element.values().length) {
        throw new CorruptIndexException("unknown vector element " + e, meta);
      }
      Element element = Element.values()[e];
      int s = meta.readInt();
      if (s < 0 || s >= VectorSimilarityFunction.values().length) {
        throw new CorruptIndexException("unknown similarity " + s, meta);
      }
      VectorSimilarityFunction similarity = VectorSimilarityFunction.values()[s];
      long offset = meta.readVLong();
      long length = meta.readVLong();
      int dimension = meta.readVInt();
      int size = meta.readInt();
      OrdToDocDISIReaderConfiguration ordToDoc = OrdToDocDISIReaderConfiguration.fromStoredMeta(meta, size);
      if (similarity != info.getVectorSimilarityFunction() || dimension != info.getVectorDimension()
          || length != (long) size * dimension * element.bytes) {
        throw new CorruptIndexException("field \"" + info.name + "\": vectors do not match the field's settings", meta);
      }
      return new FieldEntry(element, similarity, offset, length, dimension, size, ordToDoc);
    }

    private FieldEntry entry(String field) {
      FieldEntry entry = fields.get(field);
      if (entry == null) {
        throw new IllegalArgumentException("field=\"" + field + "\" not found");
      }
      return entry;
    }

    @Override
    public FloatVectorValues getFloatVectorValues(String field) throws IOException {
      FieldEntry e = entry(field);
      IndexInput slice = data.slice("narrow-vectors", e.offset, e.length);
      if (e.ordToDoc.isDense() || e.ordToDoc.isEmpty()) {
        return new Dense(e.element, e.dimension, e.size, slice, e.similarity);
      }
      return new Sparse(e.element, e.dimension, e.size, slice, e.similarity, e.ordToDoc, data);
    }

    @Override
    public ByteVectorValues getByteVectorValues(String field) {
      throw new IllegalArgumentException("field=\"" + field + "\" holds float vectors");
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(String field, float[] target) throws IOException {
      FieldEntry e = entry(field);
      return SCORER.getRandomVectorScorer(e.similarity, getFloatVectorValues(field), target);
    }

    @Override
    public RandomVectorScorer getRandomVectorScorer(String field, byte[] target) {
      throw new IllegalArgumentException("field=\"" + field + "\" holds float vectors");
    }

    @Override
    public FlatVectorsReader getMergeInstance() throws IOException {
      data.updateIOContext(dataContext.withHints(DataAccessHint.SEQUENTIAL));
      return this;
    }

    @Override
    public void finishMerge() throws IOException {
      data.updateIOContext(dataContext);
    }

    @Override
    public void checkIntegrity() throws IOException {
      CodecUtil.checksumEntireFile(data);
    }

    @Override
    public Map<String, Long> getOffHeapByteSize(FieldInfo fieldInfo) {
      return Map.of(DATA_EXTENSION, entry(fieldInfo.name).length);
    }

    @Override
    public long ramBytesUsed() {
      return RamUsageEstimator.shallowSizeOfInstance(Reader.class) + 128L * fields.size();
    }

    @Override
    public void close() throws IOException {
      data.close();
    }
  }

  /**
   * Narrow vectors read one at a time from a slice holding them by ord, decoded to floats. Float32
   * vectors are scored in place in the mapped file; these pay a copy and a conversion per vector
   * read, so a graph search over float16 vectors takes about 1.6x the CPU of one over float32 (50k
   * random 128-d points, ef 64: 190 vs 117 us), for half the bytes in memory.
   */
  private abstract static class Values extends FloatVectorValues {
    final Element element;
    final int dimension;
    final int size;
    final IndexInput slice;
    final VectorSimilarityFunction similarity;
    private final byte[] bytes;
    /** A float16 vector's values, and its bytes seen as them. */
    private final short[] halves;
    private final ShortBuffer row;
    private final float[] value;
    private int lastOrd = -1;

    Values(Element element, int dimension, int size, IndexInput slice, VectorSimilarityFunction similarity) throws IOException {
      this.element = element;
      this.dimension = dimension;
      this.size = size;
      this.slice = slice;
      this.similarity = similarity;
      this.bytes = new byte[dimension * element.bytes];
      boolean halved = element == Element.FLOAT16;
      this.halves = halved ? new short[dimension] : null;
      this.row = halved ? ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer() : null;
      this.value = new float[dimension];
    }

    @Override
    public int dimension() {
      return dimension;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public float[] vectorValue(int ord) throws IOException {
      if (ord != lastOrd) {
        slice.seek((long) ord * bytes.length);
        slice.readBytes(bytes, 0, bytes.length);
        if (halves != null) {
          Element.halvesToFloats(row, halves, value);
        } else {
          element.decode(bytes, value);
        }
        lastOrd = ord;
      }
      return value;
    }

    @Override
    public abstract Values copy() throws IOException;

    @Override
    public VectorScorer scorer(float[] query) throws IOException {
      Values copy = copy();
      DocIndexIterator iterator = copy.iterator();
      RandomVectorScorer scorer = SCORER.getRandomVectorScorer(similarity, copy, query);
      return new VectorScorer() {
        @Override
        public float score() throws IOException {
          return scorer.score(iterator.index());
        }

        @Override
        public DocIdSetIterator iterator() {
          return iterator;
        }
      };
    }
  }

  /** Every document holds a vector: ord and document are the same. */
  private static final class Dense extends Values {
    Dense(Element element, int dimension, int size, IndexInput slice, VectorSimilarityFunction similarity) throws IOException {
      super(element, dimension, size, slice, similarity);
    }

    @Override
    public Dense copy() throws IOException {
      return new Dense(element, dimension, size, slice.clone(), similarity);
    }

    @Override
    public int ordToDoc(int ord) {
      return ord;
    }

    @Override
    public Bits getAcceptOrds(Bits acceptDocs) {
      return acceptDocs;
    }

    @Override
    public DocIndexIterator iterator() {
      return createDenseIterator();
    }
  }

  /** Some documents hold a vector: the segment's ord-to-doc map and doc-id set, as Lucene's flat format writes them. */
  private static final class Sparse extends Values {
    private final OrdToDocDISIReaderConfiguration config;
    private final IndexInput data;
    private final DirectMonotonicReader ordToDoc;

    Sparse(Element element, int dimension, int size, IndexInput slice, VectorSimilarityFunction similarity,
        OrdToDocDISIReaderConfiguration config, IndexInput data) throws IOException {
      super(element, dimension, size, slice, similarity);
      this.config = config;
      this.data = data;
      this.ordToDoc = config.getDirectMonotonicReader(data);
    }

    @Override
    public Sparse copy() throws IOException {
      return new Sparse(element, dimension, size, slice.clone(), similarity, config, data);
    }

    @Override
    public int ordToDoc(int ord) {
      return (int) ordToDoc.get(ord);
    }

    @Override
    public Bits getAcceptOrds(Bits acceptDocs) {
      if (acceptDocs == null) {
        return null;
      }
      return new Bits() {
        @Override
        public boolean get(int ord) {
          return acceptDocs.get(ordToDoc(ord));
        }

        @Override
        public int length() {
          return size;
        }
      };
    }

    @Override
    public DocIndexIterator iterator() {
      try {
        return IndexedDISI.asDocIndexIterator(config.getIndexedDISI(data));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
