package io.quiver.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.PayloadFields;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.BinaryDocValues;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.VectorEncoding;
import org.apache.lucene.util.BytesRef;

/** Maps points to Lucene documents and back. Thread-safe. */
public final class DocMapper {
  private final ObjectMapper mapper;

  public DocMapper(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** The document of a point written by the operation with sequence number {@code version}. */
  public Document toDocument(Point p, CollectionSchema schema, long version) throws IOException {
    var doc = new Document();
    BytesRef id = p.id().term();
    doc.add(new StringField(Fields.ID, id, Field.Store.NO));
    doc.add(new SortedDocValuesField(Fields.ID, id));
    if (p.id() instanceof PointId.Num num) {
      doc.add(new NumericDocValuesField(Fields.NUM_ID, num.value()));
    }
    doc.add(new NumericDocValuesField(Fields.VERSION, version));
    for (var e : p.dense().entrySet()) {
      VectorSpec spec = schema.dense().get(e.getKey());
      if (spec.multi()) {
        doc.add(new BinaryDocValuesField(Fields.multi(e.getKey()), new BytesRef(encodeFloats(e.getValue()))));
        doc.add(new StringField(Fields.HAS_VECTOR, e.getKey(), Field.Store.NO));
        continue;
      }
      var type = new FieldType();
      type.setVectorAttributes(spec.size(), VectorEncoding.FLOAT32, spec.distance().lucene());
      type.freeze();
      doc.add(new KnnFloatVectorField(Fields.dense(e.getKey()), e.getValue(), type));
      doc.add(new StringField(Fields.HAS_VECTOR, e.getKey(), Field.Store.NO));
    }
    for (var e : p.sparse().entrySet()) {
      doc.add(new StoredField(Fields.sparse(e.getKey()), encodeSparse(e.getValue())));
      doc.add(new StringField(Fields.HAS_VECTOR, e.getKey(), Field.Store.NO));
    }
    byte[] payload = mapper.writeValueAsBytes(p.payload());
    doc.add(new StoredField(Fields.PAYLOAD, payload));
    doc.add(new NumericDocValuesField(Fields.PAYLOAD_SIZE, payload.length));
    PayloadFields.addTo(doc, p.payload(), schema.payload());
    return doc;
  }

  /** Which parts of a point to read back. {@code dense}/{@code sparse} null means all of them. */
  public record Selector(boolean payload, boolean vectors, Set<String> vectorNames) {
    public static final Selector ALL = new Selector(true, true, null);
    public static final Selector ID_ONLY = new Selector(false, false, null);

    boolean wants(String name) {
      return vectors && (vectorNames == null || vectorNames.contains(name));
    }
  }

  /**
   * Reads a point of a live document. Vectors come from Lucene's vector values (the stored,
   * prepared form), sparse vectors and the payload from stored fields.
   */
  public Point read(LeafReader leaf, StoredFields stored, int doc, PointId id, Selector sel, CollectionSchema schema)
      throws IOException {
    Map<String, float[]> dense = new HashMap<>();
    Map<String, SparseVector> sparse = new HashMap<>();
    ObjectNode payload = mapper.createObjectNode();
    if (sel.vectors()) {
      for (var spec : schema.dense().values()) {
        String name = spec.name();
        if (sel.wants(name)) {
          float[] v = spec.multi() ? multi(leaf, name, doc) : vector(leaf, Fields.dense(name), doc);
          if (v != null) {
            dense.put(name, v);
          }
        }
      }
    }
    boolean wantSparse = sel.vectors() && schema.sparse().keySet().stream().anyMatch(sel::wants);
    if (sel.payload() || wantSparse) {
      Document d = stored.document(doc);
      if (sel.payload()) {
        BytesRef bytes = d.getBinaryValue(Fields.PAYLOAD);
        if (bytes != null) {
          payload = (ObjectNode) mapper.readTree(bytes.bytes, bytes.offset, bytes.length);
        }
      }
      for (String name : schema.sparse().keySet()) {
        BytesRef b = sel.wants(name) ? d.getBinaryValue(Fields.sparse(name)) : null;
        if (b != null) {
          sparse.put(name, decodeSparse(b));
        }
      }
    }
    return new Point(id, dense, sparse, payload);
  }

  public static float[] vector(LeafReader leaf, String field, int doc) throws IOException {
    FloatVectorValues values = leaf.getFloatVectorValues(field);
    if (values == null) {
      return null;
    }
    KnnVectorValues.DocIndexIterator it = values.iterator();
    if (it.advance(doc) != doc) {
      return null;
    }
    return values.vectorValue(it.index()).clone();
  }

  /** The flattened rows of a point's multivector, or null when it has none. */
  public static float[] multi(LeafReader leaf, String name, int doc) throws IOException {
    BinaryDocValues values = leaf.getBinaryDocValues(Fields.multi(name));
    if (values == null || !values.advanceExact(doc)) {
      return null;
    }
    BytesRef b = values.binaryValue();
    float[] out = new float[b.length / 4];
    ByteBuffer.wrap(b.bytes, b.offset, b.length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  static byte[] encodeFloats(float[] v) {
    ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(v);
    return buf.array();
  }

  static byte[] encodeSparse(SparseVector v) {
    ByteBuffer buf = ByteBuffer.allocate(4 + v.indices().length * 8);
    buf.putInt(v.indices().length);
    for (int i : v.indices()) {
      buf.putInt(i);
    }
    for (float f : v.values()) {
      buf.putFloat(f);
    }
    return buf.array();
  }

  static SparseVector decodeSparse(BytesRef b) {
    ByteBuffer buf = ByteBuffer.wrap(b.bytes, b.offset, b.length);
    int n = buf.getInt();
    int[] ix = new int[n];
    float[] vs = new float[n];
    for (int i = 0; i < n; i++) {
      ix[i] = buf.getInt();
    }
    for (int i = 0; i < n; i++) {
      vs[i] = buf.getFloat();
    }
    return new SparseVector(ix, vs);
  }
}
