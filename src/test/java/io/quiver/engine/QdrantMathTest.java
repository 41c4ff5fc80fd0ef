package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link QdrantMath} against hand-derived sums whose value depends on the summation order, and
 * against an independent emulation of Qdrant's x86_64 kernels written with explicit lane registers,
 * bit for bit over many seeded random vectors.
 */
class QdrantMathTest {
  private static final float BIG = 16777216f; // 2^24: adding 1 to it is a tie, rounded back to 2^24

  /** A vector of {@code dim} zeros but for {@code values} at {@code positions}. */
  private static float[] vec(int dim, int[] positions, float... values) {
    float[] v = new float[dim];
    for (int i = 0; i < positions.length; i++) {
      v[positions[i]] = values[i];
    }
    return v;
  }

  private static float[] fill(int dim, float x) {
    float[] v = new float[dim];
    java.util.Arrays.fill(v, x);
    return v;
  }

  private static float[] sqrt(float[] v) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) Math.sqrt(v[i]);
    }
    return out;
  }

  /**
   * Terms {@code e} (perfect squares) whose sum in Qdrant's order is {@code expected}: checked as the
   * dot product with ones, the manhattan distance to zeros (both ways) and the squared distance of
   * their square roots to zeros, with the similarities and scores {@link Distance} reports.
   */
  private static void assertSum(float expected, float[] e) {
    int dim = e.length;
    float[] ones = fill(dim, 1f);
    float[] zeros = new float[dim];
    float[] roots = sqrt(e);
    assertBits(expected, QdrantMath.dot(e, ones), "dot, dim " + dim);
    assertBits(expected, Distance.DOT.score(e, ones), "dot score, dim " + dim);
    assertBits(expected, QdrantMath.manhattan(e, zeros), "manhattan, dim " + dim);
    assertBits(expected, QdrantMath.manhattan(zeros, e), "manhattan of negated differences, dim " + dim);
    assertBits(-expected, Distance.MANHATTAN.similarity(e, zeros), "manhattan similarity, dim " + dim);
    assertBits(expected, Distance.MANHATTAN.score(e, zeros), "manhattan score, dim " + dim);
    assertBits(expected, QdrantMath.squareDistance(roots, zeros), "squared distance, dim " + dim);
    assertBits(-expected, Distance.EUCLID.similarity(roots, zeros), "euclid similarity, dim " + dim);
    assertBits((float) Math.sqrt(expected), Distance.EUCLID.score(roots, zeros), "euclid score, dim " + dim);
  }

  private static void assertBits(float expected, float actual, String what) {
    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
        what + ": expected " + expected + " got " + actual);
  }

  @Test
  void belowSixteenDimensionsOneSequentialSum() {
    // 2^24 + 1 ties back to 2^24 three times over; the exact sum would be 2^24 + 3
    assertSum(BIG, vec(8, new int[] {0, 1, 2, 3}, BIG, 1, 1, 1));
  }

  @Test
  void sixteenToThirtyOneDimensionsSumInFourSseRegisters() {
    // register 0 holds elements 0..3, reduced as (0 + 2) + (1 + 3) = (2^24 + 1) + 2 = 2^24 + 2;
    // a sequential sum would give 2^24
    float[] e = vec(16, new int[] {0, 1, 2, 3}, BIG, 1, 1, 1);
    assertSum(BIG + 2, e);
    // then the tail one at a time: +1 ties up to 2^24 + 4, +1 ties back to it, +4, +1 ties back
    float[] withTail = java.util.Arrays.copyOf(e, 20);
    withTail[16] = 1;
    withTail[17] = 1;
    withTail[18] = 4;
    withTail[19] = 1;
    assertSum(BIG + 8, withTail);
  }

  @Test
  void fromThirtyTwoDimensionsSumInFourAvxRegisters() {
    // lane 0 of the four registers: (2^24 + 1) + (1 + 1) = 2^24 + 2; then lane 4 onto lane 0: a tie,
    // up to 2^24 + 4; then (lane 0 + lane 1) + (lane 2 + lane 3): a tie, back to 2^24 + 4
    float[] e = vec(32, new int[] {0, 1, 4, 8, 16, 24}, BIG, 1, 1, 1, 1, 1);
    assertSum(BIG + 4, e);
    // the tail of 5 one at a time: two ties back to 2^24 + 4, then + 4
    float[] withTail = java.util.Arrays.copyOf(e, 37);
    withTail[32] = 1;
    withTail[33] = 1;
    withTail[34] = 4;
    assertSum(BIG + 8, withTail);
  }

  @Test
  void eachAvxLaneSumsItsBlocksInOrder() {
    // lane 0 sums elements 0, 32, 64, 96: 2^24 and three ties back to it; lane 8 sums 8 and 40 to 2;
    // the registers' lane 0: (2^24 + 2) + (0 + 0)
    assertSum(BIG + 2, vec(128, new int[] {0, 32, 64, 96, 8, 40}, BIG, 1, 1, 1, 1, 1));
  }

  @Test
  void avxFusesMultiplyAndAddTheOthersDoNot() {
    float x = 1f + Math.scalb(1f, -12); // x * x = 1 + 2^-11 + 2^-24, which rounds to 1 + 2^-11
    float fused = Math.scalb(1f, -11) + Math.scalb(1f, -24);
    float rounded = Math.scalb(1f, -11);
    // dim 128: lane 0 sums -1 * 1, then x * x with one rounding
    float[] a = vec(128, new int[] {0, 32}, -1, x);
    float[] b = vec(128, new int[] {0, 32}, 1, x);
    assertBits(fused, QdrantMath.dot(a, b), "AVX lane");
    // dim 37: the same pair in the tail is multiplied, rounded, then added
    assertBits(rounded, QdrantMath.dot(vec(37, new int[] {32, 33}, -1, x), vec(37, new int[] {32, 33}, 1, x)), "AVX tail");
    // dim 20: one SSE block, multiply then add
    assertBits(rounded, QdrantMath.dot(vec(20, new int[] {0, 16}, -1, x), vec(20, new int[] {0, 16}, 1, x)), "SSE");
    // dim 8: sequential, multiply then add
    assertBits(rounded, QdrantMath.dot(vec(8, new int[] {0, 1}, -1, x), vec(8, new int[] {0, 1}, 1, x)), "scalar");
  }

  @Test
  void smallSumsStartFromNegativeZero() {
    // Rust's float sum starts from -0.0: products that are all -0.0 keep the sign
    assertBits(-0f, QdrantMath.dot(new float[] {0f, 0f}, new float[] {-1f, -2f}), "scalar");
    // the SIMD registers start from +0.0
    assertBits(0f, QdrantMath.dot(new float[16], fill(16, -1f)), "SSE");
    assertBits(0f, QdrantMath.dot(new float[32], fill(32, -1f)), "AVX");
    // identical vectors: distance +0, similarity -0, score +0
    float[] v = {1, 2, 3};
    assertBits(-0f, Distance.EUCLID.similarity(v, v), "euclid similarity");
    assertBits(0f, Distance.EUCLID.score(v, v), "euclid score");
    assertBits(0f, Distance.MANHATTAN.score(v, v), "manhattan score");
  }

  @Test
  void offsetsAddressRowsOfLargerArrays() {
    Random random = new Random(3);
    for (int dim : new int[] {5, 16, 20, 32, 37, 128}) {
      float[] a = gaussian(random, dim);
      float[] b = gaussian(random, dim);
      float[] rows = new float[3 * dim];
      System.arraycopy(a, 0, rows, dim, dim);
      float[] other = new float[2 * dim];
      System.arraycopy(b, 0, other, dim, dim);
      for (Distance d : Distance.values()) {
        assertBits(QdrantMath.similarity(d, a, b), QdrantMath.similarity(d, rows, dim, other, dim, dim), d + " dim " + dim);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> QdrantMath.dot(new float[3], new float[4]));
  }

  @Test
  void cosinePreprocessingDividesBySquareRootOfFloatLength() {
    float[] v = {3, 4};
    float[] n = Distance.COSINE.prepare(v);
    assertArrayEquals(new float[] {3f / 5f, 4f / 5f}, n);
    assertSame(n, Distance.COSINE.prepare(n), "already of length one within 1e-6: unchanged");
    float[] zero = new float[40];
    assertSame(zero, Distance.COSINE.prepare(zero));
    float[] tiny = {1e-4f, 0f}; // squared length 1e-8 < 2^-23: left as it is, as Qdrant does
    assertSame(tiny, Distance.COSINE.prepare(tiny));
    assertSame(v, Distance.DOT.prepare(v));
    assertTrue(QdrantMath.isLengthZeroOrNormalized(1f + 1e-6f));
    assertTrue(!QdrantMath.isLengthZeroOrNormalized(1f + 2e-6f));
  }

  @Test
  void renormalisingIsStable() {
    Random random = new Random(11);
    for (int attempt = 0; attempt < 100; attempt++) {
      float lo = -2.5f * random.nextFloat();
      float hi = 2.5f * random.nextFloat();
      float[] v = new float[1500];
      for (int i = 0; i < v.length; i++) {
        v[i] = lo + (hi - lo) * random.nextFloat();
      }
      float[] once = QdrantMath.normalize(v);
      assertArrayEquals(once, QdrantMath.normalize(once), "attempt " + attempt);
    }
  }

  // ---- an independent emulation: explicit registers, block by block ----

  private enum Term { DOT, SQUARE, ABS }

  private static float term(Term t, float x, float y) {
    return switch (t) {
      case DOT -> x * y;
      case SQUARE -> (x - y) * (x - y);
      case ABS -> Math.abs(x - y);
    };
  }

  /** One AVX lane step: {@code _mm256_fmadd_ps} for products and squares, an add for manhattan. */
  private static float avxStep(Term t, float x, float y, float acc) {
    return switch (t) {
      case DOT -> Math.fma(x, y, acc);
      case SQUARE -> Math.fma(x - y, x - y, acc);
      case ABS -> Math.abs(x - y) + acc;
    };
  }

  static float reference(Term t, float[] a, float[] b) {
    int n = a.length;
    float result;
    int done;
    if (n >= 32) {
      done = n - n % 32;
      float[][] reg = new float[4][8];
      for (int i = 0; i < done; i += 32) {
        for (int r = 0; r < 4; r++) {
          for (int lane = 0; lane < 8; lane++) {
            int e = i + 8 * r + lane;
            reg[r][lane] = avxStep(t, a[e], b[e], reg[r][lane]);
          }
        }
      }
      float[] total = new float[8]; // four_way_hsum: (r0 + r1) + (r2 + r3), lane-wise
      for (int lane = 0; lane < 8; lane++) {
        total[lane] = (reg[0][lane] + reg[1][lane]) + (reg[2][lane] + reg[3][lane]);
      }
      float[] halves = new float[4]; // high 128 bits + low 128 bits
      for (int lane = 0; lane < 4; lane++) {
        halves[lane] = total[lane + 4] + total[lane];
      }
      float[] hadd = {halves[0] + halves[1], halves[2] + halves[3]}; // _mm_hadd_ps, lanes 0 and 1
      result = hadd[0] + hadd[1];
    } else if (n >= 16) {
      done = n - n % 16;
      float[][] reg = new float[4][4];
      for (int i = 0; i < done; i += 16) {
        for (int r = 0; r < 4; r++) {
          for (int lane = 0; lane < 4; lane++) {
            int e = i + 4 * r + lane;
            reg[r][lane] = term(t, a[e], b[e]) + reg[r][lane];
          }
        }
      }
      float[] h = new float[4];
      for (int r = 0; r < 4; r++) {
        float[] x = reg[r];
        float[] x64 = {x[0] + x[2], x[1] + x[3]}; // x + movehl(x, x)
        h[r] = x64[0] + x64[1]; // add_ss with lane 1 broadcast
      }
      result = h[0] + h[1] + h[2] + h[3];
    } else {
      done = 0;
      result = -0.0f;
    }
    for (int i = done; i < n; i++) {
      result += term(t, a[i], b[i]);
    }
    return result;
  }

  static float[] referenceNormalize(float[] v) {
    float length = reference(Term.DOT, v, v);
    if (length < 1.1920929e-7f || Math.abs(length - 1f) <= 1e-6f) {
      return v;
    }
    float norm = (float) Math.sqrt(length);
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] /= norm;
    }
    return out;
  }

  private static float[] gaussian(Random random, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return v;
  }

  /** Vectors of several shapes: gaussian, magnitudes spread over 2^±20, small integers, signed zeros. */
  private static float[] random(Random random, int dim, int shape) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = switch (shape) {
        case 0 -> (float) random.nextGaussian();
        case 1 -> Math.scalb((float) random.nextGaussian(), random.nextInt(41) - 20);
        case 2 -> random.nextInt(7) - 3;
        default -> random.nextInt(4) == 0 ? (random.nextBoolean() ? 0f : -0f) : random.nextFloat() - 0.5f;
      };
    }
    return v;
  }

  private static List<Integer> dims() {
    List<Integer> dims = new ArrayList<>();
    for (int d = 0; d <= 70; d++) {
      dims.add(d);
    }
    dims.addAll(List.of(95, 96, 97, 127, 128, 129, 300, 384, 768, 1536));
    return dims;
  }

  @Test
  void matchesTheRegisterEmulationBitForBit() {
    Random random = new Random(20251206);
    int compared = 0;
    for (int dim : dims()) {
      for (int round = 0; round < 12; round++) {
        float[] a = random(random, dim, round % 4);
        float[] b = random(random, dim, (round / 4 + round) % 4);
        String at = "dim " + dim + " round " + round;
        assertBits(reference(Term.DOT, a, b), QdrantMath.dot(a, b), "dot " + at);
        assertBits(reference(Term.SQUARE, a, b), QdrantMath.squareDistance(a, b), "squared distance " + at);
        assertBits(reference(Term.ABS, a, b), QdrantMath.manhattan(a, b), "manhattan " + at);
        assertBits(-reference(Term.SQUARE, a, b), Distance.EUCLID.similarity(a, b), "euclid similarity " + at);
        // Qdrant's post-processing: the square root of the similarity's absolute value, or the absolute value
        assertBits((float) Math.sqrt(Math.abs(-reference(Term.SQUARE, a, b))), Distance.EUCLID.score(a, b), "euclid score " + at);
        assertBits(Math.abs(-reference(Term.ABS, a, b)), Distance.MANHATTAN.score(a, b), "manhattan score " + at);
        float[] na = referenceNormalize(a);
        float[] nb = referenceNormalize(b);
        assertArrayEquals(na, Distance.COSINE.prepare(a), "normalised " + at);
        assertBits(reference(Term.DOT, na, nb), Distance.COSINE.score(Distance.COSINE.prepare(a), Distance.COSINE.prepare(b)),
            "cosine " + at);
        compared++;
      }
    }
    assertTrue(compared > 900);
  }

  @Test
  void maxSimSumsTheBestRowSimilarities() {
    Random random = new Random(5);
    for (int dim : new int[] {3, 16, 24, 32, 40, 128}) {
      for (Distance d : Distance.values()) {
        float[] q = random(random, 3 * dim, 0);
        float[] v = random(random, 4 * dim, 1);
        float expected = 0f;
        for (int r = 0; r < 3; r++) {
          float best = Float.NEGATIVE_INFINITY;
          for (int s = 0; s < 4; s++) {
            float[] x = java.util.Arrays.copyOfRange(q, r * dim, (r + 1) * dim);
            float[] y = java.util.Arrays.copyOfRange(v, s * dim, (s + 1) * dim);
            float sim = switch (d) {
              case COSINE, DOT -> reference(Term.DOT, x, y);
              case EUCLID -> -reference(Term.SQUARE, x, y);
              case MANHATTAN -> -reference(Term.ABS, x, y);
            };
            best = Math.max(best, sim);
          }
          expected += best;
        }
        assertBits(expected, VectorSearch.maxSim(d, dim, q, v), d + " dim " + dim);
      }
    }
  }

  @Test
  void theOrderMatters() {
    // the emulated order is not the sequential one: random vectors of 128 dimensions disagree often
    Random random = new Random(9);
    int differ = 0;
    for (int i = 0; i < 200; i++) {
      float[] a = gaussian(random, 128);
      float[] b = gaussian(random, 128);
      float sequential = 0f;
      for (int j = 0; j < 128; j++) {
        sequential += a[j] * b[j];
      }
      if (Float.floatToIntBits(sequential) != Float.floatToIntBits(QdrantMath.dot(a, b))) {
        differ++;
      }
    }
    assertNotEquals(0, differ);
  }
}
