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
 * The exact scan's parallel split and its filtered look-ahead, and the unfiltered graph search with
 * a beam as large as the index, against brute force: segments of
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
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }
}
