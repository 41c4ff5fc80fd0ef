package io.quiver.storage.collection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.PointId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ring against Qdrant's own expectations and against values cross-checked with the Rust crates
 * Qdrant 1.15.5 builds with ({@code hashring} 0.3.6, {@code siphasher} 1.0.1); SipHash against the
 * reference test vectors.
 */
@Timeout(60)
class HashRingTest {
  /** The reference SipHash-2-4 vectors (the SipHash paper's reference code): key 00..0f, message 00..len-1. */
  static final String[] SIP64 = {
      "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
      "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
      "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
      "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
      "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
      "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
      "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
      "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
      "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
      "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
      "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
      "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
      "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
      "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
      "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
      "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
  };
  static final long K0 = 0x0706050403020100L;
  static final long K1 = 0x0f0e0d0c0b0a0908L;

  /** The vector's 8 bytes read as the little-endian 64-bit result. */
  static long expected(int len) {
    return ByteBuffer.wrap(java.util.HexFormat.of().parseHex(SIP64[len])).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  static byte[] counting(int len) {
    byte[] m = new byte[len];
    for (int i = 0; i < len; i++) {
      m[i] = (byte) i;
    }
    return m;
  }

  static long[] words(byte[] m) {
    var b = ByteBuffer.wrap(Arrays.copyOf(m, 32)).order(ByteOrder.LITTLE_ENDIAN);
    return new long[] {b.getLong(), b.getLong(), b.getLong(), b.getLong()};
  }

  static HashRing ring(int shards) {
    return HashRing.of(IntStream.range(0, shards).boxed().toList());
  }

  static PointId num(String unsigned) {
    return PointId.of(Long.parseUnsignedLong(unsigned));
  }

  static PointId uuid(String s) {
    return new PointId.Uuid(UUID.fromString(s));
  }

  static PointId parse(String s) {
    return s.contains("-") ? uuid(s) : num(s);
  }

  @Test
  void sipHashMatchesTheReferenceVectors() {
    for (int len = 0; len < 64; len++) {
      assertEquals(expected(len), SipHash24.hash(K0, K1, counting(len)), "length " + len);
    }
  }

  @Test
  void wordFormMatchesTheReferenceVectorsAtWholeWords() {
    for (int n = 0; n <= 4; n++) {
      long[] w = words(counting(8 * n));
      assertEquals(expected(8 * n), SipHash24.hashWords(K0, K1, n, w[0], w[1], w[2], w[3]), "words " + n);
    }
  }

  @Test
  void zeroKeyAsTheRingUsesIt() {
    // siphasher's SipHasher24::new() (both keys zero) over no bytes, as the crate computes it.
    assertEquals(0x1e924b9d737700d7L, SipHash24.hash(0, 0, new byte[0]));
    assertEquals(0x1e924b9d737700d7L, SipHash24.hashWords(0, 0, 0, 0, 0, 0, 0));
    var random = new Random(42);
    for (int t = 0; t < 1000; t++) {
      long k0 = t % 2 == 0 ? 0 : random.nextLong(), k1 = t % 2 == 0 ? 0 : random.nextLong();
      int n = random.nextInt(5);
      byte[] m = new byte[8 * n];
      random.nextBytes(m);
      long[] w = words(m);
      assertEquals(SipHash24.hash(k0, k1, m), SipHash24.hashWords(k0, k1, n, w[0], w[1], w[2], w[3]));
    }
  }

  /** The bytes Qdrant's StableHash writes, hashed by the general form: the ring's word form must agree. */
  @Test
  void hashedBytesAreQdrantsStableHash() {
    var random = new Random(7);
    for (int t = 0; t < 1000; t++) {
      int shard = random.nextInt(1000), index = random.nextInt(HashRing.SCALE);
      byte[] vnode = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(shard).putInt(index).array();
      assertEquals(SipHash24.hash(0, 0, vnode), HashRing.virtualNodeHash(shard, index));

      long n = random.nextLong();
      byte[] num = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0).putLong(n).array();
      assertEquals(SipHash24.hash(0, 0, num), HashRing.numHash(n));

      var u = new UUID(random.nextLong(), random.nextLong());
      byte[] id = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN).putLong(1).putLong(16)
          .order(ByteOrder.BIG_ENDIAN).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
      assertEquals(SipHash24.hash(0, 0, id), HashRing.uuidHash(u));
    }
  }

  /**
   * Hashes as a Rust program on those crates printed them: {@code SipHasher24::new()} fed through
   * {@code StableHashed}, as in {@code hash_ring.rs}.
   */
  @Test
  void hashesAsTheRustCratesComputeThem() {
    assertEquals(0xe70b4ca002808a9eL, HashRing.virtualNodeHash(7, 99));
    Map<String, Long> hashes = Map.ofEntries(
        Map.entry("0", 0x32caecc280172976L),
        Map.entry("1", 0xcaf8f14cfc92c3f8L),
        Map.entry("42", 0x54aab59ae748bab9L),
        Map.entry("321", 0x1386ab10e5599f96L),
        Map.entry("100500", 0xf5bfc0acf3769e6cL),
        Map.entry("9223372036854775807", 0xfab53ab6f3ffff74L),
        Map.entry("9223372036854775808", 0x1479f8149e2b0f4aL),
        Map.entry("12345678901234567890", 0x454314ce6cfea9e1L),
        Map.entry("18446744073709551615", 0x4baf9b1095e649bcL),
        Map.entry("550e8400-e29b-41d4-a716-446655440000", 0xfcdcf225e1db2a90L),
        Map.entry("ffffffff-ffff-ffff-ffff-ffffffffffff", 0x5f737e6e73a70ed3L),
        Map.entry("00000000-0000-0000-0000-000000000000", 0xdb24535ed665f9eaL),
        Map.entry("4072cda9-8ac6-46fa-9367-7372bc5e4798", 0x87bcc75ba7274d35L));
    hashes.forEach((id, hash) -> assertEquals(hash, HashRing.pointHash(parse(id)), id));
  }

  /**
   * Qdrant's own fixed mapping, {@code split_point_operations} in {@code operations/point_ops.rs}
   * ("This mapping should not change with new updates!"): a {@code HashRingRouter::single()} over
   * shards 0, 1, 2.
   */
  @Test
  void qdrantsSplitPointOperationsMapping() {
    var ring = ring(3);
    assertEquals(2, ring.shardOf(uuid("4072cda9-8ac6-46fa-9367-7372bc5e4798")));
    assertEquals(1, ring.shardOf(PointId.of(321)));
    assertEquals(2, ring.shardOf(uuid("fe23809b-dcc9-40ba-8255-a45dce6f10be")));
    assertEquals(2, ring.shardOf(uuid("a307aa98-d5b5-4b0c-aec9-f963171acb74")));
    assertEquals(0, ring.shardOf(uuid("aaf3bb55-dc48-418c-ba76-18badc0d7fc5")));
    assertEquals(0, ring.shardOf(uuid("63000b52-641b-45cf-bc15-14de3944b9dd")));
    assertEquals(0, ring.shardOf(uuid("aab5ef35-83ad-49ea-a629-508e308872f7")));
    assertEquals(2, ring.shardOf(PointId.of(0)));
    assertEquals(1, ring.shardOf(PointId.of(100500)));
  }

  /** Shards for several ring sizes, both id kinds, numbers above Long.MAX_VALUE; from the Rust crates. */
  @Test
  void shardsAsTheRustCratesRouteThem() {
    String[] ids = {"0", "1", "42", "321", "100500", "9223372036854775807", "9223372036854775808",
        "12345678901234567890", "18446744073709551615", "550e8400-e29b-41d4-a716-446655440000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-0000-000000000000"};
    Map<Integer, int[]> expected = Map.of(
        1, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        2, new int[] {0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1},
        3, new int[] {2, 2, 1, 1, 1, 2, 2, 2, 2, 1, 0, 2},
        5, new int[] {2, 3, 1, 1, 1, 2, 3, 4, 3, 1, 0, 2},
        7, new int[] {5, 6, 1, 5, 5, 2, 6, 4, 3, 1, 0, 2},
        12, new int[] {5, 11, 1, 5, 7, 2, 10, 9, 3, 1, 0, 2});
    expected.forEach((shards, want) -> {
      var ring = ring(shards);
      assertArrayEquals(want, Arrays.stream(ids).mapToInt(id -> ring.shardOf(parse(id))).toArray(), shards + " shards");
    });
  }

  /**
   * Per-shard counts of 100,000 ids of each kind, counted by the Rust crates: numbers 0..99999,
   * numbers 2^64-1 down to 2^64-100000, and UUIDs whose halves are {@code i * 0x9E3779B97F4A7C15}
   * and {@code ~i}.
   */
  @Test
  void bulkCountsAsTheRustCratesCountThem() {
    Map<Integer, int[][]> expected = Map.of(
        3, new int[][] {{31070, 35865, 33065}, {30961, 35911, 33128}, {31171, 35866, 32963}},
        7, new int[][] {
            {13633, 13562, 12325, 14865, 14596, 16653, 14366},
            {13484, 13855, 12364, 15185, 14544, 16463, 14105},
            {13605, 13519, 12324, 15181, 14722, 16615, 14034}},
        12, new int[][] {
            {7455, 8473, 6950, 8568, 8977, 8513, 8586, 8336, 7917, 9510, 7014, 9701},
            {7369, 8670, 6900, 8892, 9025, 8404, 8305, 8402, 7990, 9279, 7046, 9718},
            {7449, 8542, 6891, 8954, 9095, 8405, 8279, 8156, 8043, 9450, 6948, 9788}});
    expected.forEach((shards, want) -> {
      var ring = ring(shards);
      int[][] counts = new int[3][shards];
      for (long i = 0; i < 100_000; i++) {
        counts[0][ring.shardOf(PointId.of(i))]++;
        counts[1][ring.shardOf(PointId.of(-1L - i))]++;
        counts[2][ring.shardOf(new PointId.Uuid(new UUID(i * 0x9E3779B97F4A7C15L, ~i)))]++;
      }
      for (int k = 0; k < 3; k++) {
        assertArrayEquals(want[k], counts[k], shards + " shards, kind " + k);
      }
    });
  }

  /**
   * Qdrant's fair ring (scale 100) gives each of 1..12 shards a share near 1/n of random ids: the
   * rings' arcs give every shard between 0.78 and 1.21 of its fair share (the extremes are in the
   * rings of 8 and of 4 shards); sampling noise here is under 0.01.
   */
  @Test
  void randomIdsSpreadRoughlyEvenly() {
    var random = new Random(20250901);
    for (int shards = 1; shards <= 12; shards++) {
      var ring = ring(shards);
      int perShard = 20_000, total = perShard * shards;
      int[] counts = new int[shards];
      for (int i = 0; i < total; i++) {
        PointId id = i % 2 == 0 ? PointId.of(random.nextLong()) : new PointId.Uuid(new UUID(random.nextLong(), random.nextLong()));
        counts[ring.shardOf(id)]++;
      }
      for (int s = 0; s < shards; s++) {
        double share = counts[s] / (double) perShard;
        assertTrue(share > 0.7 && share < 1.3, shards + " shards: shard " + s + " has " + share + " of its fair share");
      }
    }
  }

  /** Qdrant's test_repartition, with point ids: adding a shard moves points only onto the new shard. */
  @Test
  void addingAShardMovesPointsOnlyOntoIt() {
    var before = HashRing.of(List.of(1, 2, 3));
    var after = HashRing.of(List.of(1, 2, 3, 4));
    var random = new Random(3);
    int moved = 0;
    for (int i = 0; i < 10_000; i++) {
      PointId id = i % 2 == 0 ? PointId.of(random.nextLong()) : new PointId.Uuid(new UUID(random.nextLong(), random.nextLong()));
      int a = before.shardOf(id), b = after.shardOf(id);
      if (a != b) {
        assertEquals(4, b);
        moved++;
      }
    }
    assertTrue(moved > 1500 && moved < 3500, "moved " + moved);
  }

  /** Qdrant's test_non_seq_keys: shard ids need not be contiguous; order and repeats do not matter. */
  @Test
  void anyShardIdsInAnyOrder() {
    var ring = HashRing.of(List.of(20, 7, 5, 8, 7));
    var same = HashRing.of(new HashSet<>(List.of(5, 7, 8, 20)));
    assertArrayEquals(new int[] {5, 7, 8, 20}, ring.shardIds());
    var seen = new HashSet<Integer>();
    for (long i = 0; i < 1000; i++) {
      int s = ring.shardOf(PointId.of(i));
      assertTrue(List.of(5, 7, 8, 20).contains(s));
      assertEquals(s, same.shardOf(PointId.of(i)));
      seen.add(s);
    }
    assertEquals(4, seen.size());
  }

  @Test
  void virtualNodeHashesAreDistinct() {
    // Equal 64-bit keys would make the order among them matter; none occur for realistic rings.
    var keys = new HashSet<Long>();
    for (int s = 0; s < 1000; s++) {
      for (int i = 0; i < HashRing.SCALE; i++) {
        assertTrue(keys.add(HashRing.virtualNodeHash(s, i)));
      }
    }
  }

  @Test
  void wrapsRoundToTheSmallestVirtualNode() {
    var ring = ring(5);
    long smallest = -1L; // the unsigned maximum
    int owner = -1;
    for (int s = 0; s < 5; s++) {
      for (int i = 0; i < HashRing.SCALE; i++) {
        long h = HashRing.virtualNodeHash(s, i);
        if (Long.compareUnsigned(h, smallest) <= 0) {
          smallest = h;
          owner = s;
        }
      }
    }
    assertEquals(owner, ring.shardOfHash(-1L));
    assertEquals(owner, ring.shardOfHash(smallest));
    assertEquals(owner, ring.shardOfHash(0));
  }

  @Test
  void rejectsEmptyAndNegative() {
    assertThrows(IllegalArgumentException.class, () -> HashRing.of(List.of()));
    assertThrows(IllegalArgumentException.class, () -> HashRing.of(List.of(0, -1)));
    var ids = new ArrayList<Integer>(List.of(0, 1));
    var ring = HashRing.of(ids);
    ids.add(2);
    ring.shardIds()[0] = 9;
    assertArrayEquals(new int[] {0, 1}, ring.shardIds());
  }
}
