package io.quiver.request;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.Filter;
import java.util.List;

/**
 * One step of a {@link PointWrite}, as Qdrant's {@code PointsUpdateOperation} and its batch form
 * name them. Each is complete when parsed except for what needs the collection (vector names and
 * dimensions), which the storage checks for every step before any step changes anything.
 */
public sealed interface PointOperation {
  /** Qdrant's {@code shard_key} of this step, or null. */
  ShardKeySelector shardKey();

  /** Whether the step can only remove data (deletes are allowed under the write lock). */
  default boolean removesOnly() {
    return false;
  }

  /**
   * @param updateFilter Qdrant's {@code update_filter}: an existing point is replaced only when it
   *     matches; null for none
   */
  record Upsert(List<PointStruct> points, Filter updateFilter, ShardKeySelector shardKey) implements PointOperation {
    public Upsert {
      points = List.copyOf(points);
    }
  }

  record Delete(PointsSelector selector, ShardKeySelector shardKey) implements PointOperation {
    @Override
    public boolean removesOnly() {
      return true;
    }
  }

  /**
   * Set ({@code overwrite} false: merged into the payload) or overwrite (replaces it) the payload of
   * the selected points; with {@code key}, at that nested path only.
   */
  record SetPayload(ObjectNode payload, PointsSelector selector, String key, boolean overwrite, ShardKeySelector shardKey)
      implements PointOperation {}

  record DeletePayload(List<String> keys, PointsSelector selector, ShardKeySelector shardKey) implements PointOperation {
    public DeletePayload {
      keys = List.copyOf(keys);
    }

    @Override
    public boolean removesOnly() {
      return true;
    }
  }

  record ClearPayload(PointsSelector selector, ShardKeySelector shardKey) implements PointOperation {
    @Override
    public boolean removesOnly() {
      return true;
    }
  }

  record UpdateVectors(List<PointVectors> points, Filter updateFilter, ShardKeySelector shardKey) implements PointOperation {
    public UpdateVectors {
      points = List.copyOf(points);
    }
  }

  record DeleteVectors(PointsSelector selector, List<String> vectors, ShardKeySelector shardKey) implements PointOperation {
    public DeleteVectors {
      vectors = List.copyOf(vectors);
    }

    @Override
    public boolean removesOnly() {
      return true;
    }
  }
}
