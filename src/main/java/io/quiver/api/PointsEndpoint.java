package io.quiver.api;

import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.POST;
import static io.vertx.core.http.HttpMethod.PUT;

import io.quiver.request.StorageOp;
import io.quiver.storage.StorageClient;
import java.util.List;

/** {@code /collections/{name}/points...}: points, payloads, vectors, scroll, count, searches. */
final class PointsEndpoint implements Endpoint {
  private final Route.Handler send;

  PointsEndpoint(StorageClient storage) {
    this.send = req -> storage.send(req.parsed());
  }

  @Override
  public List<Route> routes() {
    String p = "/collections/{collection_name}/points";
    return List.of(
        Route.op(PUT, p, StorageOp.UPSERT_POINTS, send),
        Route.op(POST, p, StorageOp.GET_POINTS, send),
        Route.op(GET, p + "/{id}", StorageOp.GET_POINT, send),
        Route.op(POST, p + "/delete", StorageOp.DELETE_POINTS, send),
        Route.op(PUT, p + "/vectors", StorageOp.UPDATE_VECTORS, send),
        Route.op(POST, p + "/vectors/delete", StorageOp.DELETE_VECTORS, send),
        Route.op(POST, p + "/payload", StorageOp.SET_PAYLOAD, send),
        Route.op(PUT, p + "/payload", StorageOp.OVERWRITE_PAYLOAD, send),
        Route.op(POST, p + "/payload/delete", StorageOp.DELETE_PAYLOAD, send),
        Route.op(POST, p + "/payload/clear", StorageOp.CLEAR_PAYLOAD, send),
        Route.op(POST, p + "/batch", StorageOp.BATCH_UPDATE, send),
        Route.op(POST, p + "/scroll", StorageOp.SCROLL_POINTS, send),
        Route.op(POST, p + "/count", StorageOp.COUNT_POINTS, send),
        Route.op(POST, p + "/search", StorageOp.SEARCH_POINTS, send),
        Route.op(POST, p + "/search/batch", StorageOp.SEARCH_BATCH, send),
        Route.op(POST, p + "/recommend", StorageOp.RECOMMEND_POINTS, send),
        Route.op(POST, p + "/recommend/batch", StorageOp.RECOMMEND_BATCH, send),
        Route.op(POST, p + "/query", StorageOp.QUERY_POINTS, send),
        Route.op(POST, p + "/query/batch", StorageOp.QUERY_BATCH, send),
        Route.op(POST, p + "/query/groups", StorageOp.QUERY_GROUPS, send),
        Route.op(POST, p + "/discover", StorageOp.DISCOVER_POINTS, send),
        Route.op(POST, p + "/discover/batch", StorageOp.DISCOVER_BATCH, send),
        Route.op(POST, p + "/search/groups", StorageOp.SEARCH_GROUPS, send),
        Route.op(POST, p + "/recommend/groups", StorageOp.RECOMMEND_GROUPS, send),
        Route.op(POST, p + "/search/matrix/pairs", StorageOp.SEARCH_MATRIX_PAIRS, send),
        Route.op(POST, p + "/search/matrix/offsets", StorageOp.SEARCH_MATRIX_OFFSETS, send),
        Route.op(POST, "/collections/{collection_name}/facet", StorageOp.FACET, send));
  }
}
