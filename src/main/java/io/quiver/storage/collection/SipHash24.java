package io.quiver.storage.collection;

/**
 * SipHash-2-4 with a 64-bit result (Aumasson and Bernstein, 2012): the function behind the Rust
 * crate {@code siphasher}'s {@code SipHasher24}, which Qdrant's {@code hash_ring.rs} uses with both
 * keys zero. That hasher's {@code Hasher::write} streams, so several writes hash as their
 * concatenation; the message here is that concatenation. Stateless; thread-safe.
 */
final class SipHash24 {
  private static final long C0 = 0x736f6d6570736575L;
  private static final long C1 = 0x646f72616e646f6dL;
  private static final long C2 = 0x6c7967656e657261L;
  private static final long C3 = 0x7465646279746573L;

  private SipHash24() {}

  /** The hash of {@code msg} under the key {@code k0 || k1} (each as 8 little-endian bytes). */
  static long hash(long k0, long k1, byte[] msg) {
    long v0 = k0 ^ C0, v1 = k1 ^ C1, v2 = k0 ^ C2, v3 = k1 ^ C3;
    int len = msg.length;
    int whole = len & ~7;
    for (int i = 0; i <= whole; i += 8) {
      long m;
      if (i < whole) {
        m = littleEndian(msg, i, 8);
      } else {
        m = littleEndian(msg, i, len - whole) | (long) len << 56;
      }
      v3 ^= m;
      for (int r = 0; r < 2; r++) {
        v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
      }
      v0 ^= m;
    }
    v2 ^= 0xff;
    for (int r = 0; r < 4; r++) {
      v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
      v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
      v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
      v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
    }
    return v0 ^ v1 ^ v2 ^ v3;
  }

  /**
   * The hash of a message of {@code words} (0 to 4) whole 64-bit words, each the little-endian
   * reading of 8 message bytes: {@code w0} the first 8 bytes, {@code w1} the next, and so on; words
   * past {@code words} are ignored. Equal to {@link #hash} of those bytes, without an array: this is
   * the form the ring's lookup path uses.
   */
  static long hashWords(long k0, long k1, int words, long w0, long w1, long w2, long w3) {
    long v0 = k0 ^ C0, v1 = k1 ^ C1, v2 = k0 ^ C2, v3 = k1 ^ C3;
    for (int i = 0; i <= words; i++) {
      long m = i == words ? (long) (8 * words) << 56 : i == 0 ? w0 : i == 1 ? w1 : i == 2 ? w2 : w3;
      v3 ^= m;
      for (int r = 0; r < 2; r++) {
        v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
      }
      v0 ^= m;
    }
    v2 ^= 0xff;
    for (int r = 0; r < 4; r++) {
      v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
      v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
      v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
      v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
    }
    return v0 ^ v1 ^ v2 ^ v3;
  }

  private static long littleEndian(byte[] b, int off, int n) {
    long x = 0;
    for (int i = n - 1; i >= 0; i--) {
      x = x << 8 | (b[off + i] & 0xffL);
    }
    return x;
  }
}
