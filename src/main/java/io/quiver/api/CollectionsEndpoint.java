package io.quiver.api;

import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import java.util.List;

/** {@code /collections...}: collections, aliases and payload indexes. */
final class CollectionsEndpoint implements Endpoint {
  private final StorageClient storage;

  CollectionsEndpoint(StorageClient storage) {
    this.storage = storage;
  }

  @Override
  public List<Route> routes() {
    return List.of(
        Route.get("/collections", Access.READ, req -> storage.send(StorageCommand.of(StorageOp.LIST_COLLECTIONS))));
  }
}
