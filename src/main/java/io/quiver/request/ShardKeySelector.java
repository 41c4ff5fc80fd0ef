package io.quiver.request;

import java.util.List;

/**
 * Qdrant's {@code shard_key} of a request: one key or several (strings or non-negative integers,
 * kept as {@code String} and {@code Long}), with an optional fallback key.
 */
public record ShardKeySelector(List<Object> keys, Object fallback) {
  public ShardKeySelector {
    keys = List.copyOf(keys);
  }
}
