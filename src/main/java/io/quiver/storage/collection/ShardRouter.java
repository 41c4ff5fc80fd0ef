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
   * The router of a collection with these shard ids: Qdrant's hash ring ({@link HashRing}), so a
   * point lands on the shard number it would have in Qdrant.
   */
  static ShardRouter of(Collection<Integer> shardIds) {
    if (shardIds.size() == 1) {
      int only = shardIds.iterator().next();
      return id -> only;
    }
    return HashRing.of(shardIds)::shardOf;
  }

  /** For tests and tools: the shard ids {@code 0..n-1}. */
  static List<Integer> range(int n) {
    return java.util.stream.IntStream.range(0, n).boxed().toList();
  }
}
