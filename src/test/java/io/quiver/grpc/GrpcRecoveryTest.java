package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import io.quiver.testing.GrpcCalls;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery mode over gRPC, as over REST: only collection metadata is loaded, so the node lists,
 * describes and deletes collections, and answers everything else UNAVAILABLE with the operator's
 * reason.
 */
@Timeout(120)
class GrpcRecoveryTest {
  static final String WHY = "the last start ran out of memory";

  @TempDir Path dir;

  @Test
  void aRecoveringNodeListsAndDeletesCollectionsAndRefusesTheRestAsUnavailable() throws Exception {
    try (TestNode n = TestNode.start(dir)) {
      assertEquals(200, n.send("PUT", "/collections/big", "{\"vectors\":{\"size\":2,\"distance\":\"Dot\"}}").status());
      assertEquals(200, n.send("PUT", "/collections/big/points?wait=true",
          "{\"points\":[{\"id\":1,\"vector\":[1,0]},{\"id\":2,\"vector\":[0,1]}]}").status());
    }
    try (TestNode n = TestNode.start(dir, Map.of("QDRANT__STORAGE__RECOVERY_MODE", WHY))) {
      ManagedChannel channel = GrpcCalls.channel(n);
      try {
        assertFalse(QdrantGrpc.newBlockingStub(channel).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion().isEmpty());
        var collections = CollectionsGrpc.newBlockingStub(channel);
        assertEquals(List.of("big"), collections.list(ListCollectionsRequest.getDefaultInstance()).getCollectionsList().stream()
            .map(c -> c.getName()).toList());
        assertTrue(collections.collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("big").build())
            .getResult().getExists());
        var info = collections.get(GetCollectionInfoRequest.newBuilder().setCollectionName("big").build()).getResult();
        assertEquals(2, info.getConfig().getParams().getVectorsConfig().getParams().getSize());

        var points = PointsGrpc.newBlockingStub(channel);
        StatusRuntimeException upsert = assertThrows(StatusRuntimeException.class, () -> points.upsert(UpsertPoints.newBuilder()
            .setCollectionName("big").addPoints(PointStruct.newBuilder().setId(PointId.newBuilder().setNum(3))
                .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().addData(1).addData(1)))).build()));
        assertEquals(Status.Code.UNAVAILABLE, upsert.getStatus().getCode());
        assertTrue(upsert.getStatus().getDescription().contains("recovery mode") && upsert.getStatus().getDescription().contains(WHY),
            upsert.getStatus().toString());
        StatusRuntimeException query = assertThrows(StatusRuntimeException.class,
            () -> points.query(QueryPoints.newBuilder().setCollectionName("big").build()));
        assertEquals(Status.Code.UNAVAILABLE, query.getStatus().getCode());

        assertTrue(collections.delete(DeleteCollection.newBuilder().setCollectionName("big").build()).getResult());
        assertEquals(0, collections.list(ListCollectionsRequest.getDefaultInstance()).getCollectionsCount());
      } finally {
        GrpcCalls.close(channel);
      }
    }
    try (TestNode n = TestNode.start(dir)) {
      assertEquals(404, n.get("/collections/big").status(), "the deletion is durable");
    }
  }
}
