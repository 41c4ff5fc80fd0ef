package io.quiver.engine;

/**
 * Qdrant's exact vector arithmetic, operation for operation, so that every score we return is the
 * same float Qdrant returns, bit for bit, on any CPU.
 *
 * <p>Floating-point sums depend on their order. Lucene's {@code VectorUtil} sums in whatever lanes the
 * machine's vector width gives (and with fused multiply-adds), so its results differ in the last bit
 * between AVX2, AVX-512 and scalar machines, and from Qdrant's. This class instead reproduces the
 * order of Qdrant's x86_64 build with AVX and FMA (its official builds and test machines), in plain
 * scalar Java whose results the JLS fixes exactly, whatever the JIT, the vector width or the
 * presence of the vector module:
 *
 * <ul>
 *   <li>dimension {@value #AVX_MIN_DIM} and more: four accumulators of eight lanes over blocks of 32
 *       elements, one fused multiply-add per element ({@link Math#fma}) for the dot product and the
 *       squared distance, an add of the absolute difference for manhattan; the 32 lanes are reduced
 *       as Qdrant's AVX horizontal sum does (accumulators pairwise, then the high half of the lanes
 *       onto the low half, then adjacent lanes pairwise); the tail left after the last block is then
 *       added element by element (multiply, then add);
 *   <li>dimension {@value #SSE_MIN_DIM} to {@value #AVX_MIN_DIM} - 1: four accumulators of four lanes over
 *       blocks of 16, multiply then add (no fusing); each accumulator reduced as lanes (0 + 2) + (1 + 3),
 *       the four results added in order, then the tail element by element;
 *   <li>smaller dimensions: one sequential sum starting from negative zero (Rust's float sum).
 * </ul>
 *
 * <p>The euclidean and manhattan sums are of positive terms and negated at the end, as Qdrant's
 * similarities are; {@link #postprocess} turns a similarity into the score a search reports. Cosine
 * vectors are {@link #normalize normalised} with the same squared length Qdrant computes.
 *
 * <p>Allocation-free apart from {@link #normalize}'s result; the lanes are summed one group at a time
 * in local variables. Thread-safe (stateless).
 */
public final class QdrantMath {
  /** From this dimension on, Qdrant sums in 8-lane AVX registers with fused multiply-add. */
  public static final int AVX_MIN_DIM = 32;
  /** From this dimension on (and below {@link #AVX_MIN_DIM}), Qdrant sums in 4-lane SSE registers. */
  public static final int SSE_MIN_DIM = 16;

  /** The per-element terms: a product, a squared difference, an absolute difference. */
  private static final int DOT = 0;
  private static final int SQUARE = 1;
  private static final int ABS = 2;

  private QdrantMath() {}

  /** Qdrant's dot product of {@code a[aFrom..aFrom+dim)} and {@code b[bFrom..bFrom+dim)}. */
  public static float dot(float[] a, int aFrom, float[] b, int bFrom, int dim) {
    return sum(DOT, a, aFrom, b, bFrom, dim);
  }

  /** Qdrant's dot product of two vectors of the same length. */
  public static float dot(float[] a, float[] b) {
    return dot(a, 0, b, 0, sameLength(a, b));
  }

  /**
   * Qdrant's squared euclidean distance (positive; its euclid similarity is the negation) of
   * {@code a[aFrom..aFrom+dim)} and {@code b[bFrom..bFrom+dim)}.
   */
  public static float squareDistance(float[] a, int aFrom, float[] b, int bFrom, int dim) {
    return sum(SQUARE, a, aFrom, b, bFrom, dim);
  }

  /** Qdrant's squared euclidean distance of two vectors of the same length. */
  public static float squareDistance(float[] a, float[] b) {
    return squareDistance(a, 0, b, 0, sameLength(a, b));
  }

  /**
   * Qdrant's manhattan distance (positive; its manhattan similarity is the negation) of
   * {@code a[aFrom..aFrom+dim)} and {@code b[bFrom..bFrom+dim)}.
   */
  public static float manhattan(float[] a, int aFrom, float[] b, int bFrom, int dim) {
    return sum(ABS, a, aFrom, b, bFrom, dim);
  }

  /** Qdrant's manhattan distance of two vectors of the same length. */
  public static float manhattan(float[] a, float[] b) {
    return manhattan(a, 0, b, 0, sameLength(a, b));
  }

  /**
   * Qdrant's raw metric similarity, higher is better: the dot product for cosine (of prepared
   * vectors) and dot, minus the squared euclidean distance, minus the manhattan distance. This is what
   * Qdrant ranks by, combines in recommendation strategies and sums in multivector max_sim.
   */
  public static float similarity(Distance d, float[] a, int aFrom, float[] b, int bFrom, int dim) {
    return switch (d) {
      case COSINE, DOT -> dot(a, aFrom, b, bFrom, dim);
      case EUCLID -> -squareDistance(a, aFrom, b, bFrom, dim);
      case MANHATTAN -> -manhattan(a, aFrom, b, bFrom, dim);
    };
  }

  /** {@link #similarity(Distance, float[], int, float[], int, int)} of two vectors of the same length. */
  public static float similarity(Distance d, float[] a, float[] b) {
    return similarity(d, a, 0, b, 0, sameLength(a, b));
  }

  /**
   * The score a search reports for a raw {@link #similarity}, as Qdrant's metric post-processing:
   * unchanged for cosine and dot, {@code sqrt(|s|)} (in float) for euclid, {@code |s|} for manhattan.
   */
  public static float postprocess(Distance d, float similarity) {
    return switch (d) {
      case COSINE, DOT -> similarity;
      case EUCLID -> (float) Math.sqrt(Math.abs(similarity)); // double sqrt rounds to the float sqrt exactly
      case MANHATTAN -> Math.abs(similarity);
    };
  }

  /**
   * Qdrant's cosine preprocessing: the squared length summed as {@link #dot(float[], float[])} sums
   * {@code v} with itself; when it is zero or already within 1e-6 of one ({@link
   * #isLengthZeroOrNormalized}) {@code v} itself is returned, else a new array of every component
   * divided by the (float) square root of the squared length.
   */
  public static float[] normalize(float[] v) {
    float length = dot(v, 0, v, 0, v.length);
    if (isLengthZeroOrNormalized(length)) {
      return v;
    }
    float norm = (float) Math.sqrt(length);
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] / norm;
    }
    return out;
  }

  /**
   * Qdrant's test whether a squared length needs no normalising: below float epsilon (2^-23), or within
   * 1e-6 of one (so that normalising twice gives the same vector).
   */
  public static boolean isLengthZeroOrNormalized(float length) {
    return length < Math.ulp(1f) || Math.abs(length - 1f) <= 1.0e-6f;
  }

  private static int sameLength(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector dimensions differ: " + a.length + " != " + b.length);
    }
    return a.length;
  }

  // ---- the three summation orders ----

  private static float sum(int term, float[] a, int aFrom, float[] b, int bFrom, int dim) {
    if (dim >= AVX_MIN_DIM) {
      return avx(term, a, aFrom, b, bFrom, dim);
    }
    if (dim >= SSE_MIN_DIM) {
      return sse(term, a, aFrom, b, bFrom, dim);
    }
    return tail(term, -0.0f, a, aFrom, b, bFrom, dim);
  }

  /** {@code s} plus the terms of the elements {@code [0, n)}, one at a time in order (no fusing). */
  private static float tail(int term, float s, float[] a, int aFrom, float[] b, int bFrom, int n) {
    switch (term) {
      case DOT -> {
        for (int i = 0; i < n; i++) {
          s += a[aFrom + i] * b[bFrom + i];
        }
      }
      case SQUARE -> {
        for (int i = 0; i < n; i++) {
          float x = a[aFrom + i] - b[bFrom + i];
          s += x * x;
        }
      }
      default -> {
        for (int i = 0; i < n; i++) {
          s += Math.abs(a[aFrom + i] - b[bFrom + i]);
        }
      }
    }
    return s;
  }

  /**
   * The AVX order. Lane {@code l} (0..31) of the four 8-lane accumulators sums the elements
   * {@code l, l + 32, l + 64, ...} of the blocks. The reduction adds, for each lane position p of 0..7,
   * the four accumulators as (acc0 + acc1) + (acc2 + acc3); then position p + 4 onto p for p of 0..3;
   * then (p0 + p1) + (p2 + p3). {@link #avxPair} computes one such p (positions p and p + 4).
   */
  private static float avx(int term, float[] a, int aFrom, float[] b, int bFrom, int dim) {
    int blocks = dim - dim % 32;
    float s = (avxPair(term, a, aFrom, b, bFrom, blocks, 0) + avxPair(term, a, aFrom, b, bFrom, blocks, 1))
        + (avxPair(term, a, aFrom, b, bFrom, blocks, 2) + avxPair(term, a, aFrom, b, bFrom, blocks, 3));
    return tail(term, s, a, aFrom + blocks, b, bFrom + blocks, dim - blocks);
  }

  /**
   * Lane position {@code p} (0..3) and {@code p + 4} of the four accumulators, over the first
   * {@code blocks} elements: eight lanes {@code p + 4j} (j = 0..7), each a sequential sum from zero
   * of its own elements, reduced to one float as the AVX horizontal sum pairs them.
   */
  private static float avxPair(int term, float[] a, int aFrom, float[] b, int bFrom, int blocks, int p) {
    // lo<k>: lane p of accumulator k (element 8k + p of a block); hi<k>: lane p + 4 (element 8k + p + 4)
    float lo0 = 0f;
    float hi0 = 0f;
    float lo1 = 0f;
    float hi1 = 0f;
    float lo2 = 0f;
    float hi2 = 0f;
    float lo3 = 0f;
    float hi3 = 0f;
    switch (term) {
      case DOT -> {
        for (int i = 0; i < blocks; i += 32) {
          int x = aFrom + i + p;
          int y = bFrom + i + p;
          lo0 = Math.fma(a[x], b[y], lo0);
          hi0 = Math.fma(a[x + 4], b[y + 4], hi0);
          lo1 = Math.fma(a[x + 8], b[y + 8], lo1);
          hi1 = Math.fma(a[x + 12], b[y + 12], hi1);
          lo2 = Math.fma(a[x + 16], b[y + 16], lo2);
          hi2 = Math.fma(a[x + 20], b[y + 20], hi2);
          lo3 = Math.fma(a[x + 24], b[y + 24], lo3);
          hi3 = Math.fma(a[x + 28], b[y + 28], hi3);
        }
      }
      case SQUARE -> {
        for (int i = 0; i < blocks; i += 32) {
          int x = aFrom + i + p;
          int y = bFrom + i + p;
          float d0 = a[x] - b[y];
          float d1 = a[x + 4] - b[y + 4];
          float d2 = a[x + 8] - b[y + 8];
          float d3 = a[x + 12] - b[y + 12];
          float d4 = a[x + 16] - b[y + 16];
          float d5 = a[x + 20] - b[y + 20];
          float d6 = a[x + 24] - b[y + 24];
          float d7 = a[x + 28] - b[y + 28];
          lo0 = Math.fma(d0, d0, lo0);
          hi0 = Math.fma(d1, d1, hi0);
          lo1 = Math.fma(d2, d2, lo1);
          hi1 = Math.fma(d3, d3, hi1);
          lo2 = Math.fma(d4, d4, lo2);
          hi2 = Math.fma(d5, d5, hi2);
          lo3 = Math.fma(d6, d6, lo3);
          hi3 = Math.fma(d7, d7, hi3);
        }
      }
      default -> {
        for (int i = 0; i < blocks; i += 32) {
          int x = aFrom + i + p;
          int y = bFrom + i + p;
          lo0 += Math.abs(a[x] - b[y]);
          hi0 += Math.abs(a[x + 4] - b[y + 4]);
          lo1 += Math.abs(a[x + 8] - b[y + 8]);
          hi1 += Math.abs(a[x + 12] - b[y + 12]);
          lo2 += Math.abs(a[x + 16] - b[y + 16]);
          hi2 += Math.abs(a[x + 20] - b[y + 20]);
          lo3 += Math.abs(a[x + 24] - b[y + 24]);
          hi3 += Math.abs(a[x + 28] - b[y + 28]);
        }
      }
    }
    // the accumulators pairwise, then the high lane onto the low one
    return ((hi0 + hi1) + (hi2 + hi3)) + ((lo0 + lo1) + (lo2 + lo3));
  }

  /**
   * The SSE order: accumulator {@code k} (0..3) of four lanes holds elements {@code 4k..4k+3} of each
   * block of 16; each is reduced as (lane 0 + lane 2) + (lane 1 + lane 3), the four added in order,
   * then the tail.
   */
  private static float sse(int term, float[] a, int aFrom, float[] b, int bFrom, int dim) {
    int blocks = dim - dim % 16;
    float s = sseQuad(term, a, aFrom, b, bFrom, blocks, 0) + sseQuad(term, a, aFrom, b, bFrom, blocks, 4);
    s += sseQuad(term, a, aFrom, b, bFrom, blocks, 8);
    s += sseQuad(term, a, aFrom, b, bFrom, blocks, 12);
    return tail(term, s, a, aFrom + blocks, b, bFrom + blocks, dim - blocks);
  }

  /** The SSE accumulator starting at element {@code k} of each block, summed and reduced. */
  private static float sseQuad(int term, float[] a, int aFrom, float[] b, int bFrom, int blocks, int k) {
    float l0 = 0f;
    float l1 = 0f;
    float l2 = 0f;
    float l3 = 0f;
    switch (term) {
      case DOT -> {
        for (int i = 0; i < blocks; i += 16) {
          int x = aFrom + i + k;
          int y = bFrom + i + k;
          l0 += a[x] * b[y];
          l1 += a[x + 1] * b[y + 1];
          l2 += a[x + 2] * b[y + 2];
          l3 += a[x + 3] * b[y + 3];
        }
      }
      case SQUARE -> {
        for (int i = 0; i < blocks; i += 16) {
          int x = aFrom + i + k;
          int y = bFrom + i + k;
          float d0 = a[x] - b[y];
          float d1 = a[x + 1] - b[y + 1];
          float d2 = a[x + 2] - b[y + 2];
          float d3 = a[x + 3] - b[y + 3];
          l0 += d0 * d0;
          l1 += d1 * d1;
          l2 += d2 * d2;
          l3 += d3 * d3;
        }
      }
      default -> {
        for (int i = 0; i < blocks; i += 16) {
          int x = aFrom + i + k;
          int y = bFrom + i + k;
          l0 += Math.abs(a[x] - b[y]);
          l1 += Math.abs(a[x + 1] - b[y + 1]);
          l2 += Math.abs(a[x + 2] - b[y + 2]);
          l3 += Math.abs(a[x + 3] - b[y + 3]);
        }
      }
    }
    return (l0 + l2) + (l1 + l3);
  }
}
