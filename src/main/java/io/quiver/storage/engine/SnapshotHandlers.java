package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.error.ApiException;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiConsumer;

/** The storage operations on snapshots, bound to {@link SnapshotOps}; reads list, writes change files. */
final class SnapshotHandlers {
  private SnapshotHandlers() {}

  @FunctionalInterface
  interface Handler {
    Object handle(StorageCommand c) throws IOException;
  }

  static void register(SnapshotOps s, BiConsumer<StorageOp, Handler> read, BiConsumer<StorageOp, Handler> write) {
    read.accept(StorageOp.LIST_SNAPSHOTS, c -> s.list(c.collection(), c.param("shard_id")));
    write.accept(StorageOp.CREATE_SNAPSHOT, c -> s.create(c.collection(), c.param("shard_id")));
    write.accept(StorageOp.DELETE_SNAPSHOT, c -> s.delete(c.collection(), c.param("shard_id"), c.param("snapshot_name")));
    read.accept(StorageOp.GET_SNAPSHOT, c -> download(s.file(c.collection(), c.param("shard_id"), c.param("snapshot_name"))));
    write.accept(StorageOp.RECOVER_SNAPSHOT, c -> s.recover(c.collection(), c.param("shard_id"), source(c)));
    read.accept(StorageOp.LIST_FULL_SNAPSHOTS, c -> s.listFull());
    write.accept(StorageOp.CREATE_FULL_SNAPSHOT, c -> s.createFull());
    write.accept(StorageOp.DELETE_FULL_SNAPSHOT, c -> s.deleteFull(c.param("snapshot_name")));
    read.accept(StorageOp.GET_FULL_SNAPSHOT, c -> download(s.fullFile(c.param("snapshot_name"))));
  }

  private static Map<String, Object> download(Path file) {
    return Map.of("path", file.toString(), "name", file.getFileName().toString());
  }

  private static SnapshotOps.Source source(StorageCommand c) {
    String upload = c.param("upload_file");
    if (upload != null) {
      return new SnapshotOps.Source(null, Path.of(upload), c.param("checksum"), c.param("priority"), null);
    }
    JsonNode body = c.body() instanceof JsonNode n ? n : null;
    if (body == null || !body.isObject()) {
      throw ApiException.formatError("EOF while parsing a value at line 1 column 0");
    }
    return new SnapshotOps.Source(text(body, "location", true), null, text(body, "checksum", false),
        text(body, "priority", false), text(body, "api_key", false));
  }

  private static String text(JsonNode body, String field, boolean required) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw ApiException.formatError("missing field `" + field + "`");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.formatError(field + ": invalid type: " + v.getNodeType().name().toLowerCase() + ", expected a string");
    }
    return v.textValue();
  }
}
