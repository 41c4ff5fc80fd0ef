package io.quiver.request;

import static io.quiver.request.JsonFields.object;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.FilterException;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.List;

/** Parses collection, alias, payload-index and snapshot requests. */
public final class AdminParser {
  private AdminParser() {}

  public static CollectionRequest.Create createCollection(String collection, JsonNode raw, Params params) {
    Integer timeout = params.timeout();
    ObjectNode body = object(raw, "body");
    ObjectNode config = CollectionConfigParser.create(body);
    JsonNode initFrom = body.get("init_from");
    String source = null;
    if (initFrom != null && !initFrom.isNull()) {
      JsonNode name = initFrom.isObject() ? initFrom.get("collection") : null;
      if (name == null || !name.isTextual()) {
        throw ApiException.formatError("init_from: missing field `collection`");
      }
      source = name.textValue();
    }
    return new CollectionRequest.Create(collection, config, source, timeout);
  }

  public static CollectionRequest.Update updateCollection(String collection, JsonNode body, Params params) {
    Integer timeout = params.timeout();
    return new CollectionRequest.Update(collection, CollectionConfigParser.update(object(body, "body")), timeout);
  }

  /** {@code PUT /collections/{name}/shards}: Qdrant's {@code CreateShardingKey}. */
  public static CollectionRequest.CreateShardKey createShardKey(String collection, JsonNode raw, Params params) {
    Integer timeout = params.timeout();
    ObjectNode body = object(raw, "body");
    Object key = shardKey(body);
    var v = Validation.body();
    Long shards = v.range(body.get("shards_number"), "shards_number", 1, 1 << 20);
    Long replicas = v.range(body.get("replication_factor"), "replication_factor", 1, 1 << 20);
    v.throwIfAny();
    List<Long> placement = null;
    JsonNode p = body.get("placement");
    if (p != null && !p.isNull()) {
      if (!p.isArray()) {
        throw ApiException.formatError("placement: invalid type: " + Validation.kind(p) + ", expected a sequence");
      }
      placement = new ArrayList<>();
      for (JsonNode peer : p) {
        if (!peer.isIntegralNumber() || peer.bigIntegerValue().signum() < 0 || peer.bigIntegerValue().bitLength() > 64) {
          throw ApiException.formatError("placement: invalid value: " + peer + ", expected u64");
        }
        placement.add(peer.bigIntegerValue().longValue());
      }
    }
    return new CollectionRequest.CreateShardKey(collection, key, shards == null ? null : shards.intValue(),
        replicas == null ? null : replicas.intValue(), placement, timeout);
  }

  /** {@code POST /collections/{name}/shards/delete}: Qdrant's {@code DropShardingKey}. */
  public static CollectionRequest.DropShardKey dropShardKey(String collection, JsonNode raw, Params params) {
    Integer timeout = params.timeout();
    return new CollectionRequest.DropShardKey(collection, shardKey(object(raw, "body")), timeout);
  }

  /** A body's {@code shard_key}: a string or a non-negative integer ({@code String} or {@code Long}). */
  private static Object shardKey(ObjectNode body) {
    JsonNode key = body.get("shard_key");
    if (key == null || key.isNull()) {
      throw ApiException.formatError("missing field `shard_key`");
    }
    if (key.isTextual()) {
      return key.textValue();
    }
    if (key.isIntegralNumber() && key.canConvertToLong() && key.asLong() >= 0) {
      return key.asLong();
    }
    throw ApiException.formatError("shard_key: data did not match any variant of untagged enum ShardKey");
  }

  public static AliasRequest aliases(JsonNode body, Params params) {
    Integer timeout = params.timeout();
    JsonNode actions = object(body, "body").get("actions");
    if (actions == null || !actions.isArray()) {
      throw ApiException.formatError("missing field `actions`");
    }
    List<AliasRequest.Action> out = new ArrayList<>();
    for (int i = 0; i < actions.size(); i++) {
      ObjectNode action = object(actions.get(i), "actions[" + i + "]");
      if (action.has("create_alias")) {
        JsonNode a = action.get("create_alias");
        String collection = text(a, "collection_name");
        String alias = text(a, "alias_name");
        Names.check(collection);
        Names.check(alias);
        out.add(new AliasRequest.Create(collection, alias));
      } else if (action.has("delete_alias")) {
        out.add(new AliasRequest.Delete(text(action.get("delete_alias"), "alias_name")));
      } else if (action.has("rename_alias")) {
        JsonNode a = action.get("rename_alias");
        String from = text(a, "old_alias_name");
        String to = text(a, "new_alias_name");
        Names.check(to);
        out.add(new AliasRequest.Rename(from, to));
      } else {
        throw ApiException.formatError("actions[" + i + "]: unknown variant, expected one of `create_alias`, `delete_alias`, `rename_alias`");
      }
    }
    return new AliasRequest(out, timeout);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    if (v == null || !v.isTextual()) {
      throw ApiException.formatError("missing field `" + field + "`");
    }
    return v.textValue();
  }

  public static CollectionRequest.CreateIndex createIndex(String collection, JsonNode raw, Params params) {
    WriteParams write = params.write();
    ObjectNode body = object(raw, "body");
    JsonNode name = body.get("field_name");
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("missing field `field_name`");
    }
    FieldIndex index;
    try {
      index = PayloadSchema.parseIndexRequest(name.textValue(), body.get("field_schema"));
    } catch (FilterException e) {
      if (e.validation()) {
        throw new ApiException(422, "Validation error: " + e.getMessage());
      }
      throw ApiException.formatError(e.getMessage());
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(e.getMessage());
    }
    return new CollectionRequest.CreateIndex(collection, name.textValue(), index, write);
  }

  // ---- snapshots ----

  /** The {@code shard_id} path parameter, or null when there is none. */
  static Integer shardId(Params params) {
    String raw = params.get("shard_id");
    if (raw == null) {
      return null;
    }
    try {
      long id = Long.parseLong(raw);
      if (id < 0 || id > 0xFFFFFFFFL) {
        throw new NumberFormatException();
      }
      return (int) Math.min(id, Integer.MAX_VALUE);
    } catch (NumberFormatException e) {
      throw new ApiException(400, "Format error in path: can not parse `" + raw + "` to a u32");
    }
  }

  /** Where to recover from: an uploaded file ({@code upload_file}, set by the router) or the body's {@code location}. */
  public static SnapshotRequest.Recover recover(String collection, JsonNode body, Params params) {
    Integer shard = shardId(params);
    boolean wait = params.flag("wait", true);
    String upload = params.get("upload_file");
    if (upload != null) {
      return new SnapshotRequest.Recover(collection, shard,
          new SnapshotRequest.Source(null, upload, params.get("checksum"), params.get("priority"), null), wait);
    }
    if (body == null || !body.isObject()) {
      throw ApiException.formatError("EOF while parsing a value at line 1 column 0");
    }
    return new SnapshotRequest.Recover(collection, shard, new SnapshotRequest.Source(snapshotText(body, "location", true), null,
        snapshotText(body, "checksum", false), snapshotText(body, "priority", false), snapshotText(body, "api_key", false)), wait);
  }

  private static String snapshotText(JsonNode body, String field, boolean required) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw ApiException.formatError("missing field `" + field + "`");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.formatError(field + ": invalid type: " + Validation.kind(v) + ", expected a string");
    }
    return v.textValue();
  }
}
