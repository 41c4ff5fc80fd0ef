package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.SnapshotsGrpc;
import io.qdrant.client.grpc.SnapshotsService.CreateFullSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.CreateSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.DeleteFullSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.DeleteSnapshotRequest;
import io.qdrant.client.grpc.SnapshotsService.ListFullSnapshotsRequest;
import io.qdrant.client.grpc.SnapshotsService.ListSnapshotsRequest;
import io.qdrant.client.grpc.SnapshotsService.SnapshotDescription;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qdrant.Snapshots} over a real gRPC channel: snapshots taken over gRPC are the ones REST
 * lists (same name, size, checksum and creation time), and deleting them over gRPC removes them
 * from REST's lists; errors carry REST's status and message.
 */
@Timeout(60)
class SnapshotsServiceTest {
  @TempDir static Path dir;
  static TestNode node;
  static ManagedChannel channel;
  static SnapshotsGrpc.SnapshotsBlockingStub grpc;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.deployment.grpc().actualPort()).usePlaintext().build();
    grpc = SnapshotsGrpc.newBlockingStub(channel);
    ok(node.send("PUT", "/collections/c", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/c/points?wait=true",
        "{\"points\": [{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"a\": 1}}, {\"id\": 2, \"vector\": [0, 1]}]}"));
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    node.close();
  }

  @Test
  void collectionSnapshotsAreRestsSnapshots() throws Exception {
    var created = grpc.create(CreateSnapshotRequest.newBuilder().setCollectionName("c").build());
    SnapshotDescription d = created.getSnapshotDescription();
    assertTrue(d.getName().startsWith("c-") && d.getName().endsWith(".snapshot"), d.getName());
    assertTrue(d.getSize() > 0);
    assertTrue(d.getChecksum().matches("[0-9a-f]{64}"), d.getChecksum());
    long age = Instant.now().getEpochSecond() - d.getCreationTime().getSeconds();
    assertTrue(age >= 0 && age < 120, "created " + age + " s ago");
    assertTrue(created.getTime() > 0);

    JsonNode rest = node.get("/collections/c/snapshots").result();
    assertEquals(1, rest.size());
    assertSame(rest.get(0), d);
    var listed = grpc.list(ListSnapshotsRequest.newBuilder().setCollectionName("c").build()).getSnapshotDescriptionsList();
    assertEquals(List.of(d), listed);

    grpc.delete(DeleteSnapshotRequest.newBuilder().setCollectionName("c").setSnapshotName(d.getName()).build());
    assertEquals(0, node.get("/collections/c/snapshots").result().size());
    assertEquals(0, grpc.list(ListSnapshotsRequest.newBuilder().setCollectionName("c").build()).getSnapshotDescriptionsCount());
    assertFails(Status.Code.NOT_FOUND, node.send("DELETE", "/collections/c/snapshots/" + d.getName(), null).error(),
        () -> grpc.delete(DeleteSnapshotRequest.newBuilder().setCollectionName("c").setSnapshotName(d.getName()).build()));
  }

  @Test
  void restsSnapshotsAreListedAndDeletableOverGrpc() throws Exception {
    JsonNode made = node.send("POST", "/collections/c/snapshots?wait=true", null).result();
    var listed = grpc.list(ListSnapshotsRequest.newBuilder().setCollectionName("c").build()).getSnapshotDescriptionsList();
    assertEquals(1, listed.size());
    assertSame(made, listed.getFirst());
    grpc.delete(DeleteSnapshotRequest.newBuilder().setCollectionName("c").setSnapshotName(made.get("name").asText()).build());
    assertEquals(0, node.get("/collections/c/snapshots").result().size());
  }

  @Test
  void fullSnapshotsAreRestsFullSnapshots() throws Exception {
    SnapshotDescription d = grpc.createFull(CreateFullSnapshotRequest.getDefaultInstance()).getSnapshotDescription();
    assertTrue(d.getSize() > 0);
    JsonNode rest = node.get("/snapshots").result();
    assertEquals(1, rest.size());
    assertSame(rest.get(0), d);
    assertEquals(List.of(d), grpc.listFull(ListFullSnapshotsRequest.getDefaultInstance()).getSnapshotDescriptionsList());
    grpc.deleteFull(DeleteFullSnapshotRequest.newBuilder().setSnapshotName(d.getName()).build());
    assertEquals(0, node.get("/snapshots").result().size());
    assertFails(Status.Code.NOT_FOUND, node.send("DELETE", "/snapshots/" + d.getName(), null).error(),
        () -> grpc.deleteFull(DeleteFullSnapshotRequest.newBuilder().setSnapshotName(d.getName()).build()));
  }

  @Test
  void missingCollectionIsNotFound() throws Exception {
    assertFails(Status.Code.NOT_FOUND, node.send("POST", "/collections/nope/snapshots", null).error(),
        () -> grpc.create(CreateSnapshotRequest.newBuilder().setCollectionName("nope").build()));
    assertFails(Status.Code.NOT_FOUND, node.get("/collections/nope/snapshots").error(),
        () -> grpc.list(ListSnapshotsRequest.newBuilder().setCollectionName("nope").build()));
  }

  /** Backups run under the write lock: taking and deleting a snapshot is allowed there, as over REST. */
  @Test
  void snapshotsAreTakenUnderTheWriteLock() throws Exception {
    ok(node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}"));
    try {
      SnapshotDescription d = grpc.create(CreateSnapshotRequest.newBuilder().setCollectionName("c").build()).getSnapshotDescription();
      grpc.delete(DeleteSnapshotRequest.newBuilder().setCollectionName("c").setSnapshotName(d.getName()).build());
    } finally {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
  }

  /** A description says what REST's {@code {"name", "creation_time", "size", "checksum"}} says; the time is UTC. */
  static void assertSame(JsonNode rest, SnapshotDescription d) {
    assertEquals(rest.get("name").asText(), d.getName());
    assertEquals(rest.get("size").asLong(), d.getSize());
    assertEquals(rest.get("checksum").asText(), d.getChecksum());
    assertEquals(LocalDateTime.parse(rest.get("creation_time").asText()).toEpochSecond(ZoneOffset.UTC), d.getCreationTime().getSeconds());
  }

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  static void assertFails(Status.Code code, String message, Executable call) {
    var e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals(message, e.getStatus().getDescription());
  }
}
