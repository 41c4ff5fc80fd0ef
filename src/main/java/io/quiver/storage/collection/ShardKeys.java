package io.quiver.storage.collection;

import io.quiver.error.ApiException;
import io.quiver.request.ShardKeySelector;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which shards of a collection an operation works on, from its {@code shard_key} selector, with
 * Qdrant's answers when the selector does not fit: a read without one reads every shard, a read
 * with one reads the shards of the keys named ({@code 400 Bad request: Shard key k not found} for a
 * key that does not exist); a write under custom sharding needs one ({@code 400 Wrong input: No
 * shards found for shard key}) and goes to each key named ({@code 400 Wrong input: Shard key k not
 * found}). A collection with automatic sharding has no keys, so a selector never fits it. A key of
 * the selector that does not exist is replaced by its fallback when the fallback exists.
 */
public final class ShardKeys {
  private ShardKeys() {}

  /** The collection as a read with {@code selector} (null: none) sees it: whole, or a view of the keys named. */
  public static Collection forRead(Collection col, ShardKeySelector selector) {
    if (selector == null) {
      return col;
    }
    return col.view(resolve(col, selector, ApiException::badRequest));
  }

  /** The collection as each key of a write sees it: the whole collection (auto sharding), or one view per key named. */
  public static List<Collection> forWrite(Collection col, ShardKeySelector selector) {
    if (!col.layout().custom()) {
      if (selector != null) {
        resolve(col, selector, ApiException::wrongInput);
      }
      return List.of(col);
    }
    if (selector == null) {
      throw ApiException.wrongInput("No shards found for shard key");
    }
    List<Collection> out = new ArrayList<>();
    for (Object key : resolve(col, selector, ApiException::wrongInput)) {
      out.add(col.view(List.of(key)));
    }
    return out;
  }

  private static List<Object> resolve(Collection col, ShardKeySelector selector, java.util.function.Function<String, ApiException> failure) {
    Set<Object> existing = col.layout().shardKeys();
    Set<Object> out = new LinkedHashSet<>();
    for (Object key : selector.keys()) {
      if (existing.contains(key)) {
        out.add(key);
      } else if (selector.fallback() != null && existing.contains(selector.fallback())) {
        out.add(selector.fallback());
      } else {
        throw failure.apply("Shard key " + ShardLayout.shown(key) + " not found");
      }
    }
    if (out.isEmpty()) {
      throw failure.apply("Empty shard keys selection");
    }
    return List.copyOf(out);
  }
}
