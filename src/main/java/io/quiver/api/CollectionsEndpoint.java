package io.quiver.api;

import static io.vertx.core.http.HttpMethod.DELETE;
import static io.vertx.core.http.HttpMethod.GET;
import static io.vertx.core.http.HttpMethod.PATCH;
import static io.vertx.core.http.HttpMethod.POST;
import static io.vertx.core.http.HttpMethod.PUT;

import io.quiver.request.StorageOp;
import io.quiver.storage.StorageClient;
import java.util.List;

/** {@code /collections...}: collections, aliases and payload indexes. */
final class CollectionsEndpoint implements Endpoint {
  private final Route.Handler send;

  CollectionsEndpoint(StorageClient storage) {
    this.send = req -> storage.send(req.parsed());
  }

  @Override
  public List<Route> routes() {
    String c = "/collections/{collection_name}";
    return List.of(
        Route.op(GET, "/collections", StorageOp.LIST_COLLECTIONS, send),
        Route.op(GET, c, StorageOp.GET_COLLECTION, send),
        Route.op(PUT, c, StorageOp.CREATE_COLLECTION, send),
        Route.op(PATCH, c, StorageOp.UPDATE_COLLECTION, send),
        Route.op(DELETE, c, StorageOp.DELETE_COLLECTION, send),
        Route.op(GET, c + "/exists", StorageOp.COLLECTION_EXISTS, send),
        Route.op(POST, "/collections/aliases", StorageOp.UPDATE_ALIASES, send),
        Route.op(GET, "/aliases", StorageOp.LIST_ALIASES, send),
        Route.op(GET, c + "/aliases", StorageOp.LIST_COLLECTION_ALIASES, send),
        Route.op(PUT, c + "/index", StorageOp.CREATE_FIELD_INDEX, send),
        Route.op(DELETE, c + "/index/{field_name}", StorageOp.DELETE_FIELD_INDEX, send));
  }
}
