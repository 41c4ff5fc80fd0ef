package io.quiver.api;

import io.quiver.storage.StorageClient;
import java.util.List;

/** {@code /collections/{name}/points...}: points, payloads, vectors, scroll, count, search. */
final class PointsEndpoint implements Endpoint {
  private final StorageClient storage;

  PointsEndpoint(StorageClient storage) {
    this.storage = storage;
  }

  @Override
  public List<Route> routes() {
    return List.of();
  }
}
