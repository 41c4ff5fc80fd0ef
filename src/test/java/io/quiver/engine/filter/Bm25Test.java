package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.SparseVector;
import org.junit.jupiter.api.Test;

class Bm25Test {
  @Test
  void documentsGetBm25TermFrequenciesOfStemmedTokensWithoutStopwords() {
    Bm25 bm25 = Bm25.of(null);
    // "the" and "is" are stopwords; "animals" and "animal" stem to the same token
    SparseVector v = bm25.document("The animals is an animal. Equal!");
    assertEquals(2, v.indices().length, "tokens anim, equal");
    int anim = Bm25.id("anim");
    int equal = Bm25.id("equal");
    double len = 3;
    double tf2 = 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * len / 256));
    double tf1 = 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * len / 256));
    for (int i = 0; i < v.indices().length; i++) {
      if (v.indices()[i] == anim) {
        assertEquals(tf2, v.values()[i], 1e-5);
      } else {
        assertEquals(equal, v.indices()[i]);
        assertEquals(tf1, v.values()[i], 1e-5);
      }
    }
  }

  @Test
  void queriesWeighEachDistinctTokenOnce() {
    SparseVector q = Bm25.of(null).query("fear FEAR fears the mind-killer");
    assertEquals(3, q.indices().length, "fear, mind, killer");
    assertArrayEquals(new float[] {1f, 1f, 1f}, q.values());
    assertTrue(Bm25.isModel("Qdrant/BM25") && Bm25.isModel("bm25"));
  }

  @Test
  void tokenIdsAreAbsoluteMurmur3Hashes() {
    // murmur3_32("hello", seed 0) = 0x248bfa47 (a published test vector), positive already
    assertEquals(0x248bfa47, Bm25.id("hello"));
  }
}
