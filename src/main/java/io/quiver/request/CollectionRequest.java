package io.quiver.request;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.FieldIndex;

/** Requests on one collection as a whole: its config, existence, aliases and payload indexes. */
public sealed interface CollectionRequest extends Request {
  @Override
  String collection();

  /** The access class of each kind, in one place. */
  @Override
  default Access access() {
    return switch (this) {
      case Get g -> Access.READ;
      case Cluster c -> Access.READ;
      case Exists e -> Access.READ;
      case Aliases a -> Access.READ;
      case Create c -> Access.CREATE;
      case Update u -> Access.ADMIN;
      case Delete d -> Access.DELETE;
      case CreateIndex c -> Access.CREATE;
      case DeleteIndex d -> Access.DELETE;
      case CreateShardKey k -> Access.ADMIN;
      case DropShardKey k -> Access.ADMIN;
    };
  }

  record Get(String collection) implements CollectionRequest {}

  /** {@code GET /collections/{name}/cluster}: the collection's shards ({@code shard_count}, {@code local_shards}, ...). */
  record Cluster(String collection) implements CollectionRequest {}

  record Exists(String collection) implements CollectionRequest {}

  /** The aliases of this collection. */
  record Aliases(String collection) implements CollectionRequest {}

  /**
   * @param config the normalised config that {@code GET /collections/{name}} shows and {@code config.json} stores
   * @param initFrom the collection (or alias) whose points and payload indexes to copy, or null
   * @param timeoutSeconds Qdrant's {@code timeout} query parameter, or null
   */
  record Create(String collection, ObjectNode config, String initFrom, Integer timeoutSeconds) implements CollectionRequest {}

  record Update(String collection, CollectionUpdate update, Integer timeoutSeconds) implements CollectionRequest {}

  record Delete(String collection, Integer timeoutSeconds) implements CollectionRequest {}

  /** {@code PUT /collections/{name}/index}: {@code index} is the parsed {@code field_schema}. */
  record CreateIndex(String collection, String field, FieldIndex index, WriteParams write) implements CollectionRequest {}

  record DeleteIndex(String collection, String field, WriteParams write) implements CollectionRequest {}

  /**
   * {@code PUT /collections/{name}/shards}: the shards of a new shard key (custom sharding).
   *
   * @param key a {@code String} or a non-negative {@code Long}
   * @param shardsNumber shards of the key (null: the collection's {@code shard_number})
   * @param replicationFactor replicas of each shard (null: the collection's {@code replication_factor})
   * @param placement the peers to place the shards on (null: any)
   */
  record CreateShardKey(String collection, Object key, Integer shardsNumber, Integer replicationFactor, java.util.List<Long> placement,
      Integer timeoutSeconds) implements CollectionRequest {
    public CreateShardKey {
      placement = placement == null ? null : java.util.List.copyOf(placement);
    }
  }

  /** {@code POST /collections/{name}/shards/delete}: drops a shard key's shards and their points. */
  record DropShardKey(String collection, Object key, Integer timeoutSeconds) implements CollectionRequest {}
}
