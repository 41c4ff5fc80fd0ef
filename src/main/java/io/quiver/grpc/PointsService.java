package io.quiver.grpc;

import io.qdrant.client.grpc.PointsGrpc;

/** {@code qdrant.Points}: each RPC mapped onto the typed request model and run through {@link Calls}. */
final class PointsService extends PointsGrpc.PointsImplBase {
  private final Calls calls;

  PointsService(Calls calls) {
    this.calls = calls;
  }
}
