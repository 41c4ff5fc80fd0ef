package io.quiver.api;

import static io.quiver.request.Access.ADMIN;
import static io.quiver.request.Access.CREATE;
import static io.quiver.request.Access.DELETE;
import static io.quiver.request.Access.READ;

import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageOp;
import java.util.List;

/** {@code /collections...}: collections, aliases and payload indexes. */
final class CollectionsEndpoint implements Endpoint {
  private final StorageRoutes s;

  CollectionsEndpoint(StorageClient storage) {
    this.s = new StorageRoutes(storage);
  }

  @Override
  public List<Route> routes() {
    String c = "/collections/{collection_name}";
    return List.of(
        Route.get("/collections", READ, s.forward(StorageOp.LIST_COLLECTIONS)),
        Route.get(c, READ, s.forward(StorageOp.GET_COLLECTION)),
        Route.put(c, CREATE, s.forward(StorageOp.CREATE_COLLECTION)),
        Route.patch(c, ADMIN, s.forward(StorageOp.UPDATE_COLLECTION)),
        Route.delete(c, DELETE, s.forward(StorageOp.DELETE_COLLECTION)),
        Route.get(c + "/exists", READ, s.forward(StorageOp.COLLECTION_EXISTS)),
        Route.post("/collections/aliases", ADMIN, s.forward(StorageOp.UPDATE_ALIASES)),
        Route.get("/aliases", READ, s.forward(StorageOp.LIST_ALIASES)),
        Route.get(c + "/aliases", READ, s.forward(StorageOp.LIST_COLLECTION_ALIASES)),
        Route.put(c + "/index", CREATE, s.forward(StorageOp.CREATE_FIELD_INDEX)),
        Route.delete(c + "/index/{field_name}", DELETE, s.forward(StorageOp.DELETE_FIELD_INDEX)));
  }
}
