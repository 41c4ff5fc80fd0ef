package io.quiver.storage.collection;

import io.quiver.engine.PointId;
import java.util.Arrays;
import java.util.Collection;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Routes a point id to a shard exactly as Qdrant 1.15.5 does for a collection with automatic
 * sharding, so a point lands on the shard number it would have in Qdrant.
 *
 * <p>What it reproduces: Qdrant's {@code ShardHolder} ({@code shards/shard_holder/mod.rs}) keeps
 * one {@code HashRingRouter::single()} for the collection's shards without a shard key (all of them
 * under automatic sharding) and one per shard key over that key's shards (custom sharding), which is
 * {@code HashRing::fair(HASH_RING_SHARD_SCALE)} from {@code hash_ring.rs}: each shard {@code s}
 * (a {@code u32}) is added to a {@code hashring::HashRing} (crate {@code hashring} 0.3.6) as the
 * {@value #SCALE} virtual nodes {@code (s, 0) .. (s, 99)}. Every hash is SipHash-2-4 with both keys
 * zero ({@code BuildHasherDefault<siphasher::sip::SipHasher24>}, crate {@code siphasher} 1.0.1) over
 * the bytes that Qdrant's {@code StableHash} ({@code common/src/stable_hash.rs},
 * {@code segment/src/types.rs}) writes, integers in native order, which is little-endian on every
 * platform Qdrant ships for:
 *
 * <ul>
 *   <li>virtual node {@code (s, i)}: {@code s} as 4 bytes, then {@code i} as 4 bytes;
 *   <li>numeric id {@code n}: {@code 0u64} (the variant), then {@code n} as 8 bytes;
 *   <li>UUID id: {@code 1u64} (the variant), {@code 16u64} (the byte length, kept for
 *       compatibility with older {@code uuid} crates), then the 16 bytes of the UUID in RFC 4122
 *       order.
 * </ul>
 *
 * <p>A point goes to the first virtual node whose hash, as an unsigned 64-bit number, is at or
 * after the point's hash, wrapping round to the smallest; the ring is the virtual nodes sorted by
 * hash ({@code hashring}'s {@code get}: a binary search, {@code Err(n) | Ok(n)}, {@code n == len}
 * gives node 0).
 *
 * <p>Left out: Qdrant's {@code HashRingRouter::Resharding} (an old and a new ring side by side
 * while resharding, a point routed to both) and the unscaled {@code HashRing::raw()}, which Qdrant
 * uses only in benchmarks. For custom sharding, build a ring over one shard key's shard ids.
 *
 * <p>Immutable; thread-safe. {@link #shardOf} neither allocates nor boxes.
 */
public final class HashRing {
  /** Virtual nodes per shard: Qdrant's {@code HASH_RING_SHARD_SCALE}. */
  public static final int SCALE = 100;

  /** Virtual node hashes, ascending as unsigned numbers, stored with the sign bit flipped. */
  private final long[] keys;
  /** The shard of each entry of {@link #keys}. */
  private final int[] owners;
  private final int[] shardIds;

  private HashRing(long[] keys, int[] owners, int[] shardIds) {
    this.keys = keys;
    this.owners = owners;
    this.shardIds = shardIds;
  }

  /**
   * The ring of Qdrant's automatic sharding over these shard ids (Qdrant numbers them
   * {@code 0 .. shard_number - 1}). Order and repeats do not matter, as in Qdrant, which keeps the
   * shards in a set.
   *
   * @throws IllegalArgumentException if {@code shardIds} is empty or holds a negative id
   * @throws NullPointerException if {@code shardIds} or one of its elements is null
   */
  public static HashRing of(Collection<Integer> shardIds) {
    var distinct = new TreeSet<Integer>();
    for (Integer id : shardIds) {
      if (id < 0) {
        throw new IllegalArgumentException("shard id " + id + " is negative");
      }
      distinct.add(id);
    }
    if (distinct.isEmpty()) {
      throw new IllegalArgumentException("a hash ring needs at least one shard");
    }
    int n = distinct.size() * SCALE;
    long[] nodes = new long[n];
    int j = 0;
    for (int shard : distinct) {
      for (int i = 0; i < SCALE; i++) {
        nodes[j++] = virtualNodeHash(shard, i) ^ Long.MIN_VALUE;
      }
    }
    // Sort positions by key; distinct shards were added in ascending order, and a stable sort keeps
    // that order among equal keys as Rust's Vec::sort does (equal 64-bit keys are not expected).
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(nodes[a], nodes[b]));
    int[] ids = distinct.stream().mapToInt(Integer::intValue).toArray();
    long[] keys = new long[n];
    int[] owners = new int[n];
    for (int i = 0; i < n; i++) {
      keys[i] = nodes[order[i]];
      owners[i] = ids[order[i] / SCALE];
    }
    return new HashRing(keys, owners, ids);
  }

  /** The shard Qdrant routes {@code id} to. */
  public int shardOf(PointId id) {
    return shardOfHash(pointHash(id));
  }

  /** The shard ids on the ring, ascending. */
  public int[] shardIds() {
    return shardIds.clone();
  }

  int shardOfHash(long hash) {
    int i = Arrays.binarySearch(keys, hash ^ Long.MIN_VALUE);
    if (i < 0) {
      i = -i - 1;
    }
    return owners[i == keys.length ? 0 : i];
  }

  /** The hash of virtual node {@code (shard, index)}: two little-endian {@code u32}s. */
  static long virtualNodeHash(int shard, int index) {
    return SipHash24.hashWords(0, 0, 1, (shard & 0xffffffffL) | (long) index << 32, 0, 0, 0);
  }

  /** The hash of a point id. */
  static long pointHash(PointId id) {
    return switch (id) {
      case PointId.Num num -> numHash(num.value());
      case PointId.Uuid uuid -> uuidHash(uuid.value());
    };
  }

  /** The hash of a numeric point id, {@code value} read as unsigned. */
  static long numHash(long value) {
    return SipHash24.hashWords(0, 0, 2, 0, value, 0, 0);
  }

  /** The hash of a UUID point id. */
  static long uuidHash(UUID uuid) {
    // The UUID's bytes in RFC order are the big-endian most then least significant halves; the
    // hash reads them as little-endian words.
    return SipHash24.hashWords(0, 0, 4, 1, 16,
        Long.reverseBytes(uuid.getMostSignificantBits()), Long.reverseBytes(uuid.getLeastSignificantBits()));
  }
}
