package io.quiver.api;

import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;

/** Builds route handlers that forward a request to the storage verticle as one command. */
final class StorageRoutes {
  private final StorageClient storage;

  StorageRoutes(StorageClient storage) {
    this.storage = storage;
  }

  /** Collection from the path, body as a JSON tree (or none), query and other path parameters. */
  Route.Handler forward(StorageOp op) {
    return req -> storage.send(new StorageCommand(op, req.path("collection_name"), req.bodyTreeOrNull(), req.params()));
  }
}
