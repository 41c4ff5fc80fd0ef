package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Sparse scores in Qdrant's arithmetic: the dot product's order and the float idf. */
class SparseScoreTest {
  private static void assertBits(float expected, float actual) {
    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), "expected " + expected + " got " + actual);
  }

  @Test
  void dotAddsSharedIndicesOneAtATimeInIndexOrder() {
    // shared indices 1, 2, 3: 2^24, then + 1 twice, each a tie rounded back to 2^24 (adding the two
    // ones first would give 2^24 + 2); indices 4 and 5 are not shared
    SparseVector a = SparseVector.of(new int[] {5, 3, 2, 1}, new float[] {7, 1, 1, 16777216f});
    SparseVector b = SparseVector.of(new int[] {1, 2, 3, 4}, new float[] {1, 1, 1, 9});
    assertBits(16777216f, a.dot(b));
    assertBits(16777216f, b.dot(a));
    assertBits(0f, a.dot(SparseVector.of(new int[] {9}, new float[] {1})));
  }

  @Test
  void idfIsComputedInFloat() {
    // (3 - 1 + 0.5) / (1 + 0.5) + 1 is 2.6666665 in float; its logarithm rounds to 0.9808292, where
    // the same formula in double would give 0.98082924
    assertBits(0.9808292f, SparseSearch.idf(3, 1));
    assertBits((float) Math.log(1.3333334f), SparseSearch.idf(1, 1));
    assertBits((float) Math.log(6f), SparseSearch.idf(2, 0)); // ln(2.5 / 0.5 + 1)
  }
}
