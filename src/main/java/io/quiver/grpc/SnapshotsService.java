package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.SnapshotsGrpc;
import io.qdrant.client.grpc.SnapshotsService.CreateFullSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.CreateSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.CreateSnapshotResponse;
import io.qdrant.client.grpc.SnapshotsService.DeleteFullSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.DeleteSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.DeleteSnapshotResponse;
import io.qdrant.client.grpc.SnapshotsService.ListFullSnapshotsRequest;
import io.qdrant.client.grpc.SnapshotsService.ListSnapshotsRequest;
import io.qdrant.client.grpc.SnapshotsService.ListSnapshotsResponse;
import io.qdrant.client.grpc.SnapshotsService.SnapshotDescription;
import io.quiver.request.SnapshotRequest;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * {@code qdrant.Snapshots}: each RPC mapped onto the typed request model and run through {@link
 * Calls}. Collection snapshots name their collection; full-storage ones have none. Qdrant's gRPC
 * always waits for the snapshot, so every request waits.
 */
final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {
  private final Calls calls;

  SnapshotsService(Calls calls) {
    this.calls = calls;
  }

  @Override
  public void create(CreateSnapshotRequest request, StreamObserver<CreateSnapshotResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.Create(request.getCollectionName(), null, true), SnapshotsService::created);
  }

  @Override
  public void list(ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.ListAll(request.getCollectionName(), null), SnapshotsService::listed);
  }

  @Override
  public void delete(DeleteSnapshotRequest request, StreamObserver<DeleteSnapshotResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.Delete(request.getCollectionName(), null, request.getSnapshotName(), true),
        SnapshotsService::deleted);
  }

  @Override
  public void createFull(CreateFullSnapshotRequest request, StreamObserver<CreateSnapshotResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.Create(null, null, true), SnapshotsService::created);
  }

  @Override
  public void listFull(ListFullSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.ListAll(null, null), SnapshotsService::listed);
  }

  @Override
  public void deleteFull(DeleteFullSnapshotRequest request, StreamObserver<DeleteSnapshotResponse> observer) {
    calls.unary(observer, () -> new SnapshotRequest.Delete(null, null, request.getSnapshotName(), true), SnapshotsService::deleted);
  }

  private static CreateSnapshotResponse created(Object result, double seconds) {
    return CreateSnapshotResponse.newBuilder().setSnapshotDescription(description(Values.tree(result))).setTime(seconds).build();
  }

  private static ListSnapshotsResponse listed(Object result, double seconds) {
    var out = ListSnapshotsResponse.newBuilder().setTime(seconds);
    Values.tree(result).forEach(d -> out.addSnapshotDescriptions(description(d)));
    return out.build();
  }

  private static DeleteSnapshotResponse deleted(Object result, double seconds) {
    return DeleteSnapshotResponse.newBuilder().setTime(seconds).build();
  }

  /** From REST's {@code {"name", "creation_time", "size", "checksum"}}; the creation time is UTC without a zone, as Qdrant's. */
  static SnapshotDescription description(JsonNode d) {
    var out = SnapshotDescription.newBuilder().setName(d.path("name").asText()).setSize(d.path("size").asLong());
    if (d.path("creation_time").isTextual()) {
      var time = LocalDateTime.parse(d.get("creation_time").textValue()).toInstant(ZoneOffset.UTC);
      out.setCreationTime(Timestamp.newBuilder().setSeconds(time.getEpochSecond()).setNanos(time.getNano()));
    }
    if (d.path("checksum").isTextual()) {
      out.setChecksum(d.get("checksum").textValue());
    }
    return out.build();
  }
}
