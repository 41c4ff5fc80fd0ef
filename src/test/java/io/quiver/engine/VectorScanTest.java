package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact scan's parallel split and its filtered look-ahead, the unfiltered graph search with a
 * beam as large as the index, and a filtered graph search, against brute force: segments of
 * unequal sizes (so parts cut through segments), documents without a vector (so vector ordinals
 * differ from doc ids), deletions, and filters of every selectivity.
 */
@Timeout(120)
class VectorScanTest {
  static final int DIM = 16;

  @Test
  void splitCoversEveryDocumentOnceInBalancedParts(@TempDir Path dir) throws Exception {
    try (var directory = FSDirectory.open(dir)) {
      try (var writer = new IndexWriter(directory, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
        for (int size : new int[] {700, 50, 3000, 1, 1249}) {
          for (int i = 0; i < size; i++) {
            writer.addDocument(new Document());
          }
          writer.commit();
        }
      }
      try (var reader = DirectoryReader.open(directory)) {
        int total = reader.maxDoc();
        for (int parts = 1; parts <= 7; parts++) {
          var split = VectorSearch.split(reader.leaves(), parts);
          assertTrue(split.size() <= parts);
          boolean[] seen = new boolean[total];
          int longest = 0;
          for (var part : split) {
            int length = 0;
            for (var range : part) {
              for (int doc = range.from(); doc < range.to(); doc++) {
                int global = range.ctx().docBase + doc;
                assertTrue(!seen[global], "document " + global + " in two parts");
                seen[global] = true;
              }
              length += range.to() - range.from();
            }
            longest = Math.max(longest, length);
          }
          for (int d = 0; d < total; d++) {
            assertTrue(seen[d], "document " + d + " in no part");
          }
          assertTrue(longest <= (total + parts - 1) / parts, "parts of equal length");
        }
      }
    }
  }

  @Test
  void exactFilteredScanMatchesBruteForce(@TempDir Path dir) throws Exception {
    Random random = new Random(7);
    List<float[]> vectors = new ArrayList<>();
    List<Integer> buckets = new ArrayList<>();
    List<Boolean> deleted = new ArrayList<>();
    String field = Fields.dense("");
    try (var directory = FSDirectory.open(dir)) {
      // large enough to be scanned in parallel; several segments of unequal sizes
      try (var writer = new IndexWriter(directory, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
        int id = 0;
        for (int size : new int[] {15_000, 2_000, 9_000, 500}) {
          for (int i = 0; i < size; i++, id++) {
            Document doc = new Document();
            doc.add(new StringField("id", Integer.toString(id), Field.Store.NO));
            doc.add(new StoredField("n", id));
            int bucket = random.nextInt(20);
            doc.add(new StringField("bucket", Integer.toString(bucket), Field.Store.NO));
            float[] v = null;
            if (random.nextInt(10) != 0) { // one in ten has no vector
              v = Distance.COSINE.prepare(randomVector(random));
              doc.add(new KnnFloatVectorField(field, v, Distance.COSINE.lucene()));
            }
            vectors.add(v);
            buckets.add(bucket);
            deleted.add(false);
            writer.addDocument(doc);
          }
          writer.commit();
        }
        for (int i = 0; i < 300; i++) {
          int victim = random.nextInt(vectors.size());
          writer.deleteDocuments(new Term("id", Integer.toString(victim)));
          deleted.set(victim, true);
        }
        writer.commit();
      }
      try (var reader = DirectoryReader.open(directory)) {
        assertTrue(reader.maxDoc() >= 20_000 && reader.leaves().size() == 4);
        IndexSearcher searcher = new IndexSearcher(reader);
        var spec = new VectorSpec("", DIM, Distance.COSINE, 16, 100, VectorSpec.Quantization.NONE);
        for (int round = 0; round < 20; round++) {
          float[] q = Distance.COSINE.prepare(randomVector(random));
          Integer bucket = round % 4 == 0 ? null : random.nextInt(20);
          Query filter = bucket == null ? null : new TermQuery(new Term("bucket", Integer.toString(bucket)));
          int k = 1 + random.nextInt(30);
          // the exact scan; and, unfiltered, the graphs walked with a beam as large as the segments,
          // which then find every live vector (segments' doc bases, deletions, docs without a vector)
          var hits = round % 2 == 0 && filter == null ? VectorSearch.search(searcher, spec, q, null, k, 30_000, false, null)
              : VectorSearch.search(searcher, spec, q, filter, k, null, true, null);
          List<float[]> expected = new ArrayList<>();
          for (int i = 0; i < vectors.size(); i++) {
            if (vectors.get(i) != null && !deleted.get(i) && (bucket == null || buckets.get(i).equals(bucket))) {
              expected.add(new float[] {i, Distance.COSINE.score(q, vectors.get(i))});
            }
          }
          expected.sort(Comparator.comparingDouble((float[] e) -> -e[1]));
          assertEquals(Math.min(k, expected.size()), hits.size());
          for (int i = 0; i < hits.size(); i++) {
            assertEquals(expected.get(i)[1], hits.get(i).score(), 1e-5, "rank " + i + " of round " + round);
            assertEquals((int) expected.get(i)[0], idOf(reader.leaves(), hits.get(i).doc()), "rank " + i + " of round " + round);
          }
        }
      }
    }
  }

  /**
   * A filter keeping a fifth of the points, more than the exact-scan threshold of 1024-d vectors:
   * the graph is walked over the accepted points only, and finds nearly all of the exact top 10.
   */
  @Test
  void filteredGraphSearchFindsTheFilteredNearest(@TempDir Path dir) throws Exception {
    int dim = 1024;
    int n = 16_000;
    Random random = new Random(11);
    float[][] centres = new float[40][];
    for (int c = 0; c < centres.length; c++) {
      centres[c] = gaussian(random, dim, 1);
    }
    float[][] vectors = new float[n][];
    String field = Fields.dense("");
    try (var directory = FSDirectory.open(dir)) {
      try (var writer = new IndexWriter(directory, new IndexWriterConfig().setRAMBufferSizeMB(512))) {
        for (int i = 0; i < n; i++) {
          float[] v = gaussian(random, dim, 0.3f);
          float[] centre = centres[random.nextInt(centres.length)];
          for (int j = 0; j < dim; j++) {
            v[j] += centre[j];
          }
          vectors[i] = v;
          Document doc = new Document();
          doc.add(new StoredField("n", i));
          doc.add(new StringField("bucket", Integer.toString(i % 5), Field.Store.NO));
          doc.add(new KnnFloatVectorField(field, v, Distance.EUCLID.lucene()));
          writer.addDocument(doc);
        }
        writer.forceMerge(1);
      }
      try (var reader = DirectoryReader.open(directory)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        var spec = new VectorSpec("", dim, Distance.EUCLID, 16, 100, VectorSpec.Quantization.NONE);
        assertTrue(n / 5 > VectorSearch.fullScanThreshold(spec, 10), "the filter is left to the graph");
        int found = 0;
        int wanted = 0;
        for (int round = 0; round < 20; round++) {
          float[] q = vectors[random.nextInt(n)].clone();
          q[0] += 0.5f;
          int bucket = random.nextInt(5);
          var hits = VectorSearch.search(searcher, spec, q, new TermQuery(new Term("bucket", Integer.toString(bucket))), 10,
              64, false, null);
          assertEquals(10, hits.size());
          List<Integer> exact = new ArrayList<>();
          for (int i = bucket; i < n; i += 5) {
            exact.add(i);
          }
          exact.sort(Comparator.comparingDouble(i -> Distance.EUCLID.score(q, vectors[i])));
          var top = exact.subList(0, 10);
          for (var hit : hits) {
            int id = idOf(reader.leaves(), hit.doc());
            assertEquals(bucket, id % 5, "only accepted points");
            assertEquals(Distance.EUCLID.score(q, vectors[id]), hit.score(), 1e-3f * Math.abs(hit.score()));
            found += top.contains(id) ? 1 : 0;
          }
          wanted += 10;
        }
        assertTrue(found >= 0.9 * wanted, "recall " + found + " of " + wanted);
      }
    }
  }

  private static float[] gaussian(Random random, int dim, float scale) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) random.nextGaussian() * scale;
    }
    return v;
  }

  @Test
  void contendersAreTheTopKAndTheirNearTies() {
    ScoreDoc[] top = {new ScoreDoc(1, 0.9f), new ScoreDoc(2, 0.8f), new ScoreDoc(3, 0.79995f), new ScoreDoc(4, 0.7f)};
    assertArrayEquals(new int[] {1, 2, 3}, VectorSearch.contenders(top, 2));
    assertArrayEquals(new int[] {1}, VectorSearch.contenders(top, 1));
    assertArrayEquals(new int[] {1, 2, 3, 4}, VectorSearch.contenders(top, 4));
    assertArrayEquals(new int[] {1, 2, 3, 4}, VectorSearch.contenders(top, 10));
  }

  private static int idOf(List<LeafReaderContext> leaves, int doc) throws Exception {
    var ctx = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
    return ctx.reader().storedFields().document(doc - ctx.docBase).getField("n").numericValue().intValue();
  }

  private static float[] randomVector(Random random) {
    return gaussian(random, DIM, 1);
  }
}
