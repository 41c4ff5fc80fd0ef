package io.quiver.grpc;

import io.qdrant.client.grpc.SnapshotsGrpc;

/** {@code qdrant.Snapshots}: each RPC mapped onto the typed request model and run through {@link Calls}. */
final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {
  private final Calls calls;

  SnapshotsService(Calls calls) {
    this.calls = calls;
  }
}
