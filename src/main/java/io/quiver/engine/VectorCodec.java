package io.quiver.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene103.Lucene103Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;

/**
 * Lucene's default codec with dense vectors in {@link IndexedVectorsFormat}, set from the collection's
 * vector configuration (graph degree, construction beam, quantization) and {@code indexing_threshold}.
 * Dimensions are allowed up to Qdrant's limit rather than Lucene's default of 1024.
 */
final class VectorCodec extends Lucene103Codec {
  static final int MAX_DIMENSIONS = 65536;
  private final Supplier<CollectionSchema> schema;
  private final Map<VectorSpec, KnnVectorsFormat> formats = new ConcurrentHashMap<>();
  private final KnnVectorsFormat fallback = withDims(new Lucene99HnswVectorsFormat());

  VectorCodec(Supplier<CollectionSchema> schema) {
    this.schema = schema;
  }

  @Override
  public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
    if (field.startsWith(Fields.DENSE_PREFIX)) {
      VectorSpec spec = schema.get().dense().get(field.substring(Fields.DENSE_PREFIX.length()));
      if (spec != null) {
        // one format per graph setting, quantization and stored width
        NarrowVectorsFormat.Element element = NarrowVectorsFormat.Element.of(spec.datatype(), spec.distance());
        VectorSpec.Datatype width = element == null ? VectorSpec.Datatype.FLOAT32 : spec.datatype();
        return formats.computeIfAbsent(
            new VectorSpec("", 0, Distance.DOT, spec.m(), spec.efConstruct(), spec.quantization(), false, width),
            this::format);
      }
    }
    return fallback;
  }

  private KnnVectorsFormat format(VectorSpec s) {
    int m = s.m() == 0 ? 0 : Math.max(2, Math.min(s.m(), 512));
    int beam = Math.max(4, Math.min(s.efConstruct(), 3200));
    NarrowVectorsFormat.Element element = NarrowVectorsFormat.Element.of(s.datatype(), s.distance());
    return new IndexedVectorsFormat(m, beam, s.quantization(), element, () -> schema.get().optimizers().reportBytes());
  }

  private static KnnVectorsFormat withDims(KnnVectorsFormat delegate) {
    return new KnnVectorsFormat(delegate.getName()) {
      @Override
      public org.apache.lucene.codecs.KnnVectorsWriter fieldsWriter(org.apache.lucene.index.SegmentWriteState state)
          throws java.io.IOException {
        return delegate.fieldsWriter(state);
      }

      @Override
      public org.apache.lucene.codecs.KnnVectorsReader fieldsReader(org.apache.lucene.index.SegmentReadState state)
          throws java.io.IOException {
        return delegate.fieldsReader(state);
      }

      @Override
      public int getMaxDimensions(String fieldName) {
        return MAX_DIMENSIONS;
      }

      @Override
      public String toString() {
        return delegate.toString();
      }
    };
  }
}
