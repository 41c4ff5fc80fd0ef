package io.quiver.api;

import static io.quiver.request.Access.ADMIN;
import static io.quiver.request.Access.CREATE;
import static io.quiver.request.Access.DELETE;
import static io.quiver.request.Access.READ;

import io.quiver.error.ApiException;
import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots: of a collection ({@code /collections/{name}/snapshots...}), of its shard ({@code
 * .../shards/{shard_id}/snapshots...}) and of the whole storage ({@code /snapshots...}).
 * Downloads stream the file; uploads are streamed to disk by the router before the handler runs.
 * With {@code wait=false} the operation runs in the background and the answer is 202 "accepted".
 * Taking a snapshot copies data and is allowed under the write lock (that is what backups need);
 * recovering creates data and is not.
 */
final class SnapshotsEndpoint implements Endpoint {
  private static final Logger log = LoggerFactory.getLogger(SnapshotsEndpoint.class);
  /** Snapshots of large collections take long; the client still gets an answer. */
  static final long TIMEOUT_MS = 6 * 3600_000L;
  static final String COLLECTION = "/collections/{collection_name}/snapshots";
  static final String SHARD = "/collections/{collection_name}/shards/{shard_id}/snapshots";
  /** Routes whose body is a multipart upload, streamed to disk. */
  static final List<String> UPLOAD_PATHS = List.of(COLLECTION + "/upload", SHARD + "/upload");

  private final StorageClient storage;

  SnapshotsEndpoint(StorageClient storage) {
    this.storage = storage;
  }

  @Override
  public List<Route> routes() {
    return List.of(
        Route.get(COLLECTION, READ, req -> send(StorageOp.LIST_SNAPSHOTS, req, false)),
        Route.post(COLLECTION, ADMIN, req -> send(StorageOp.CREATE_SNAPSHOT, req, true)),
        Route.get(COLLECTION + "/{snapshot_name}", READ, this::download),
        Route.delete(COLLECTION + "/{snapshot_name}", DELETE, req -> send(StorageOp.DELETE_SNAPSHOT, req, true)),
        Route.put(COLLECTION + "/recover", CREATE, req -> send(StorageOp.RECOVER_SNAPSHOT, req, true)),
        Route.post(COLLECTION + "/upload", CREATE, this::upload),
        Route.get(SHARD, READ, req -> send(StorageOp.LIST_SNAPSHOTS, req, false)),
        Route.post(SHARD, ADMIN, req -> send(StorageOp.CREATE_SNAPSHOT, req, true)),
        Route.get(SHARD + "/{snapshot_name}", READ, this::download),
        Route.delete(SHARD + "/{snapshot_name}", DELETE, req -> send(StorageOp.DELETE_SNAPSHOT, req, true)),
        Route.put(SHARD + "/recover", CREATE, req -> send(StorageOp.RECOVER_SNAPSHOT, req, true)),
        Route.post(SHARD + "/upload", CREATE, this::upload),
        Route.get("/snapshots", READ, req -> send(StorageOp.LIST_FULL_SNAPSHOTS, req, false)),
        Route.post("/snapshots", ADMIN, req -> send(StorageOp.CREATE_FULL_SNAPSHOT, req, true)),
        Route.get("/snapshots/{snapshot_name}", READ, this::download),
        Route.delete("/snapshots/{snapshot_name}", DELETE, req -> send(StorageOp.DELETE_FULL_SNAPSHOT, req, true)));
  }

  private Future<?> send(StorageOp op, ApiRequest req, boolean mayDefer) {
    return send(new StorageCommand(op, req.path("collection_name"), req.bodyTreeOrNull(), req.params()), mayDefer && !waits(req));
  }

  private Future<?> send(StorageCommand command, boolean defer) {
    Future<Object> result = storage.send(command, TIMEOUT_MS);
    if (!defer) {
      return result;
    }
    result.onFailure(e -> log.warn("{} on {} (wait=false) failed: {}", command.op(), command.collection(), e.getMessage()));
    return Future.succeededFuture(Route.Accepted.INSTANCE);
  }

  /** {@code wait} defaults to true on snapshot operations. */
  private static boolean waits(ApiRequest req) {
    String w = req.query("wait");
    if (w == null) {
      return true;
    }
    return switch (w) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw new ApiException(400, "Format error in query params: wait: expected true or false, got `" + w + "`");
    };
  }

  private Future<?> download(ApiRequest req) {
    StorageOp op = req.path("collection_name") == null ? StorageOp.GET_FULL_SNAPSHOT : StorageOp.GET_SNAPSHOT;
    return storage.send(new StorageCommand(op, req.path("collection_name"), null, req.params())).map(r -> {
      @SuppressWarnings("unchecked")
      Map<String, Object> file = (Map<String, Object>) r;
      return new Route.FileDownload((String) file.get("path"), (String) file.get("name"));
    });
  }

  private Future<?> upload(ApiRequest req) {
    var uploads = req.uploadedFiles();
    if (uploads.isEmpty()) {
      throw ApiException.badRequest("the multipart form has no file (field `snapshot`)");
    }
    Map<String, String> params = new HashMap<>(req.params());
    params.put("upload_file", uploads.get(0));
    // the upload is deleted when the response ends, so even wait=false recovers before answering
    return storage.send(new StorageCommand(StorageOp.RECOVER_SNAPSHOT, req.path("collection_name"), null, params), TIMEOUT_MS)
        .map(r -> waits(req) ? r : Route.Accepted.INSTANCE);
  }
}
