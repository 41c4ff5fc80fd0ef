package io.quiver.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.BytesRef;

/**
 * Prints, as float bits, the scores of seeded random data: {@link Distance#prepare}, {@code score},
 * {@code similarity} and {@link VectorSearch#maxSim} for several dimensions and every distance, and
 * the hits of a small Lucene index searched through the graph and exactly (single vectors) and by
 * max_sim (multivectors). {@link CrossCpuScoresTest} runs it in JVMs with different vector widths
 * and compares the output. The results are computed once cold and again after a JIT warm-up; a
 * difference is reported. On stderr, for information only, Lucene's own dot products.
 */
public final class ScoreDump {
  private static final int[] DIMS = {1, 3, 8, 15, 16, 17, 20, 31, 32, 33, 37, 64, 100, 128, 384, 768, 1536};

  private ScoreDump() {}

  public static void main(String[] args) throws IOException {
    List<String> cold = scores();
    for (int i = 0; i < 30; i++) { // enough calls for the JIT to compile the kernels
      scores();
    }
    List<String> warm = scores();
    if (!cold.equals(warm)) {
      System.out.println("JIT-MISMATCH");
    }
    warm.forEach(System.out::println);
    Random seeded = new Random(7);
    List<String> hits = new ArrayList<>();
    search(hits, 40, seeded);
    search(hits, 20, seeded);
    hits.forEach(System.out::println);
    Random random = new Random(1);
    StringBuilder lucene = new StringBuilder("lucene");
    for (int dim : new int[] {4, 20, 768}) {
      lucene.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(
          org.apache.lucene.util.VectorUtil.dotProduct(gaussian(random, dim), gaussian(random, dim)))));
    }
    System.err.println(lucene);
  }

  /** Direct computations on seeded vectors. */
  static List<String> scores() {
    List<String> out = new ArrayList<>();
    Random random = new Random(42);
    for (int dim : DIMS) {
      for (int round = 0; round < 4; round++) {
        float[] q = gaussian(random, dim);
        float[] v = gaussian(random, dim);
        float[] rows = gaussian(random, 3 * dim);
        float[] query = gaussian(random, 2 * dim);
        for (Distance d : Distance.values()) {
          float[] pq = d.prepare(q);
          float[] pv = d.prepare(v);
          out.add(dim + " " + d + " " + round + " prepared " + hash(pq) + " " + hash(pv) + " score " + bits(d.score(pq, pv))
              + " similarity " + bits(d.similarity(pq, pv)) + " max_sim " + bits(VectorSearch.maxSim(d, dim, query, rows)));
        }
      }
    }
    return out;
  }

  /** A few hundred points in one segment: every distance by graph and exactly, and a multivector. */
  private static void search(List<String> out, int dim, Random random) throws IOException {
    try (var directory = new ByteBuffersDirectory();
        var writer = new IndexWriter(directory, new IndexWriterConfig())) {
      for (int i = 0; i < 300; i++) {
        Document doc = new Document();
        float[] v = gaussian(random, dim);
        for (Distance d : Distance.values()) {
          doc.add(new KnnFloatVectorField(Fields.dense(d.name()), d.prepare(v), d.lucene()));
        }
        float[] rows = gaussian(random, 2 * dim);
        ByteBuffer bytes = ByteBuffer.allocate(rows.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(rows);
        doc.add(new BinaryDocValuesField(Fields.multi("multi"), new BytesRef(bytes.array())));
        writer.addDocument(doc);
      }
      writer.forceMerge(1);
      writer.commit();
      try (var reader = DirectoryReader.open(directory)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        float[] q = gaussian(random, dim);
        for (Distance d : Distance.values()) {
          var spec = new VectorSpec(d.name(), dim, d, 16, 100, VectorSpec.Quantization.NONE);
          for (boolean exact : new boolean[] {false, true}) {
            StringBuilder line = new StringBuilder("search " + dim + " " + d + (exact ? " exact" : " graph"));
            for (var hit : VectorSearch.search(searcher, spec, d.prepare(q), null, 10, null, exact, null)) {
              line.append(' ').append(hit.doc()).append(':').append(bits(hit.score()));
            }
            out.add(line.toString());
          }
          var multi = new VectorSpec("multi", dim, d, 0, 100, VectorSpec.Quantization.NONE, true, VectorSpec.Datatype.FLOAT32);
          StringBuilder line = new StringBuilder("search " + dim + " " + d + " multi");
          float[] rows = gaussian(random, 2 * dim);
          for (var hit : VectorSearch.search(searcher, multi, rows, null, 10, null, true, null)) {
            line.append(' ').append(hit.doc()).append(':').append(bits(hit.score()));
          }
          out.add(line.toString());
        }
      }
    }
  }

  private static float[] gaussian(Random random, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }

  private static String bits(float x) {
    return Integer.toHexString(Float.floatToRawIntBits(x));
  }

  private static String hash(float[] v) {
    long h = 17;
    for (float x : v) {
      h = h * 1_000_003 + Float.floatToRawIntBits(x);
    }
    return Long.toHexString(h);
  }
}
