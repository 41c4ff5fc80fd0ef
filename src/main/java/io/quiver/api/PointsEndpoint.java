package io.quiver.api;

import io.quiver.request.Access;
import static io.quiver.request.Access.DELETE;
import static io.quiver.request.Access.READ;
import static io.quiver.request.Access.WRITE;

import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageOp;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/** {@code /collections/{name}/points...}: points, payloads, vectors, scroll, count. */
final class PointsEndpoint implements Endpoint {
  private final StorageRoutes s;

  PointsEndpoint(StorageClient storage) {
    this.s = new StorageRoutes(storage);
  }

  /** Operations of a batch that only remove data, and so stay allowed under the write lock. */
  static final Set<String> REMOVING = Set.of("delete", "delete_payload", "clear_payload", "delete_vectors");

  /** A batch is a write when any of its operations adds data; a batch of removals is a delete. */
  static Access batchAccess(ApiRequest request) {
    return batchAccess(request.bodyTreeOrNull());
  }

  /** The same for a body tree (null when there is none), as the JSON event-bus API receives it. */
  static Access batchAccess(JsonNode body) {
    JsonNode ops = body == null ? null : body.get("operations");
    if (ops == null || !ops.isArray()) {
      return WRITE;
    }
    for (JsonNode op : ops) {
      if (!op.isObject() || op.size() != 1 || !REMOVING.contains(op.fieldNames().next())) {
        return WRITE;
      }
    }
    return DELETE;
  }

  @Override
  public List<Route> routes() {
    String p = "/collections/{collection_name}/points";
    return List.of(
        Route.put(p, WRITE, s.forward(StorageOp.UPSERT_POINTS)),
        Route.post(p, READ, s.forward(StorageOp.GET_POINTS)),
        Route.get(p + "/{id}", READ, s.forward(StorageOp.GET_POINT)),
        Route.post(p + "/delete", DELETE, s.forward(StorageOp.DELETE_POINTS)),
        Route.put(p + "/vectors", WRITE, s.forward(StorageOp.UPDATE_VECTORS)),
        Route.post(p + "/vectors/delete", DELETE, s.forward(StorageOp.DELETE_VECTORS)),
        Route.post(p + "/payload", WRITE, s.forward(StorageOp.SET_PAYLOAD)),
        Route.put(p + "/payload", WRITE, s.forward(StorageOp.OVERWRITE_PAYLOAD)),
        Route.post(p + "/payload/delete", DELETE, s.forward(StorageOp.DELETE_PAYLOAD)),
        Route.post(p + "/payload/clear", DELETE, s.forward(StorageOp.CLEAR_PAYLOAD)),
        Route.post(p + "/batch", WRITE, s.forward(StorageOp.BATCH_UPDATE)).classifiedBy(PointsEndpoint::batchAccess),
        Route.post(p + "/scroll", READ, s.forward(StorageOp.SCROLL_POINTS)),
        Route.post(p + "/count", READ, s.forward(StorageOp.COUNT_POINTS)),
        Route.post(p + "/search", READ, s.forward(StorageOp.SEARCH_POINTS)),
        Route.post(p + "/search/batch", READ, s.forward(StorageOp.SEARCH_BATCH)),
        Route.post(p + "/recommend", READ, s.forward(StorageOp.RECOMMEND_POINTS)),
        Route.post(p + "/recommend/batch", READ, s.forward(StorageOp.RECOMMEND_BATCH)),
        Route.post(p + "/query", READ, s.forward(StorageOp.QUERY_POINTS)),
        Route.post(p + "/query/batch", READ, s.forward(StorageOp.QUERY_BATCH)),
        Route.post(p + "/query/groups", READ, s.forward(StorageOp.QUERY_GROUPS)),
        Route.post(p + "/discover", READ, s.forward(StorageOp.DISCOVER_POINTS)),
        Route.post(p + "/discover/batch", READ, s.forward(StorageOp.DISCOVER_BATCH)),
        Route.post(p + "/search/groups", READ, s.forward(StorageOp.SEARCH_GROUPS)),
        Route.post(p + "/recommend/groups", READ, s.forward(StorageOp.RECOMMEND_GROUPS)),
        Route.post(p + "/search/matrix/pairs", READ, s.forward(StorageOp.SEARCH_MATRIX_PAIRS)),
        Route.post(p + "/search/matrix/offsets", READ, s.forward(StorageOp.SEARCH_MATRIX_OFFSETS)),
        Route.post("/collections/{collection_name}/facet", READ, s.forward(StorageOp.FACET)));
  }
}
