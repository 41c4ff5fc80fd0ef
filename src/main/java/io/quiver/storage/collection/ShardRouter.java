package io.quiver.storage.collection;

import io.quiver.engine.PointId;
import java.util.Collection;
import java.util.List;

/**
 * Which shard of a collection holds a point (automatic sharding). The answer depends only on the
 * id and the collection's shard ids, never on which of them are local, so every node that knows the
 * layout routes a point alike, and it must not change while a collection has data.
 */
@FunctionalInterface
public interface ShardRouter {
  /** The id of the shard that holds {@code id}. */
  int shardOf(PointId id);

  /**
   * The router of a collection with these shard ids. The seam where Qdrant's exact hash ring goes
   * ({@code HashRing.of(shardIds)::shardOf}); until then a fixed 64-bit mix of the id, modulo the
   * number of shards, over the ids in ascending order.
   */
  static ShardRouter of(Collection<Integer> shardIds) {
    return ModuloRouter.of(shardIds);
  }

  /** The temporary router: stable across restarts (a fixed hash of the id), uniform over the shards. */
  final class ModuloRouter {
    private ModuloRouter() {}

    static ShardRouter of(Collection<Integer> shardIds) {
      int[] ids = shardIds.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
      if (ids.length == 0) {
        throw new IllegalArgumentException("a collection has at least one shard");
      }
      if (ids.length == 1) {
        int only = ids[0];
        return id -> only;
      }
      return id -> ids[(int) Long.remainderUnsigned(hash(id), ids.length)];
    }

    static long hash(PointId id) {
      return switch (id) {
        case PointId.Num n -> mix(n.value());
        case PointId.Uuid u -> mix(u.value().getMostSignificantBits() ^ mix(u.value().getLeastSignificantBits()));
      };
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
      z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
      z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
      return z ^ (z >>> 31);
    }
  }

  /** For tests and tools: the shard ids {@code 0..n-1}. */
  static List<Integer> range(int n) {
    return java.util.stream.IntStream.range(0, n).boxed().toList();
  }
}
