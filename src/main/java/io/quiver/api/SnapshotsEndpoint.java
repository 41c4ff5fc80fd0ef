package io.quiver.api;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static io.vertx.core.http.HttpMethod.PUT;

import io.quiver.error.ApiException;
import io.quiver.request.Access;
import io.quiver.request.Request;
import io.quiver.request.SnapshotRequest;
import io.quiver.request.StorageOp;
import io.quiver.storage.StorageClient;
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
        Route.op(GET, COLLECTION, StorageOp.LIST_SNAPSHOTS, this::send),
        Route.op(POST, COLLECTION, StorageOp.CREATE_SNAPSHOT, this::send),
        Route.op(GET, COLLECTION + "/{snapshot_name}", StorageOp.GET_SNAPSHOT, this::download),
        Route.op(DELETE, COLLECTION + "/{snapshot_name}", StorageOp.DELETE_SNAPSHOT, this::send),
        Route.op(PUT, COLLECTION + "/recover", StorageOp.RECOVER_SNAPSHOT, this::send),
        Route.post(COLLECTION + "/upload", Access.CREATE, this::upload),
        Route.op(GET, SHARD, StorageOp.LIST_SNAPSHOTS, this::send),
        Route.op(POST, SHARD, StorageOp.CREATE_SNAPSHOT, this::send),
        Route.op(GET, SHARD + "/{snapshot_name}", StorageOp.GET_SNAPSHOT, this::download),
        Route.op(DELETE, SHARD + "/{snapshot_name}", StorageOp.DELETE_SNAPSHOT, this::send),
        Route.op(PUT, SHARD + "/recover", StorageOp.RECOVER_SNAPSHOT, this::send),
        Route.post(SHARD + "/upload", Access.CREATE, this::upload),
        Route.op(GET, "/snapshots", StorageOp.LIST_FULL_SNAPSHOTS, this::send),
        Route.op(POST, "/snapshots", StorageOp.CREATE_FULL_SNAPSHOT, this::send),
        Route.op(GET, "/snapshots/{snapshot_name}", StorageOp.GET_FULL_SNAPSHOT, this::download),
        Route.op(DELETE, "/snapshots/{snapshot_name}", StorageOp.DELETE_FULL_SNAPSHOT, this::send));
  }

  private Future<?> send(ApiRequest req) {
    return send(req.parsed());
  }

  /** Sends the request; with {@code wait=false}, answers 202 at once and logs a failure that comes later. */
  private Future<?> send(Request request) {
    Future<Object> result = storage.send(request, TIMEOUT_MS);
    if (waits(request)) {
      return result;
    }
    result.onFailure(e -> log.warn("{} on {} (wait=false) failed: {}", request.getClass().getSimpleName(), request.collection(),
        e.getMessage()));
    return Future.succeededFuture(Route.Accepted.INSTANCE);
  }

  /** {@code wait} defaults to true on snapshot operations; listing always waits. */
  private static boolean waits(Request request) {
    return switch (request) {
      case SnapshotRequest.Create c -> c.waitForResult();
      case SnapshotRequest.Delete d -> d.waitForResult();
      case SnapshotRequest.Recover r -> r.waitForResult();
      default -> true;
    };
  }

  private Future<?> download(ApiRequest req) {
    return storage.send(req.parsed()).map(r -> {
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
    var recover = (SnapshotRequest.Recover) StorageOp.RECOVER_SNAPSHOT.parse(req.path("collection_name"), null, params);
    // the upload is deleted when the response ends, so even wait=false recovers before answering
    return storage.send(recover, TIMEOUT_MS).map(r -> recover.waitForResult() ? r : Route.Accepted.INSTANCE);
  }
}
