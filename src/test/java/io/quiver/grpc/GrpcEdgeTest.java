package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1alpha.ServerReflectionGrpc;
import io.grpc.reflection.v1alpha.ServerReflectionRequest;
import io.grpc.reflection.v1alpha.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.AliasOperations;
import io.qdrant.client.grpc.Collections.ChangeAliases;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CreateAlias;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.ListAliasesRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Points.CountPoints;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.Vectors;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import io.quiver.json.Json;
import io.quiver.testing.GrpcCalls;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qdrant's gRPC API at the edge, against whole nodes on port 0: the health checks, reflection, API
 * keys (as REST: UNAUTHENTICATED with REST's 401 text, health open, read-only keys refused on writes),
 * the write lock, the inbound size bound, deadlines, turning gRPC off, and what {@code /metrics} and
 * telemetry record. RPCs that answer UNIMPLEMENTED today are checked behind an assumption, so that
 * these checks run as soon as the RPCs exist and the class passes either way.
 */
@Timeout(180)
class GrpcEdgeTest {
  static final String FULL_KEY = "grpc-full-key";
  static final String READ_KEY = "grpc-read-key";
  static final String LOCK_MESSAGE = "backup in progress";

  @TempDir static Path dir;
  /** No keys, inbound messages bounded to 1 MiB. */
  static TestNode node;
  static ManagedChannel channel;
  /** A full and a read-only API key. */
  static TestNode keyed;
  static ManagedChannel keyedChannel;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("plain"), Map.of("QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", "1"));
    channel = GrpcCalls.channel(node);
    keyed = TestNode.start(dir.resolve("keyed"), Map.of("QDRANT__SERVICE__API_KEY", FULL_KEY,
        "QDRANT__SERVICE__READ_ONLY_API_KEY", READ_KEY));
    keyedChannel = GrpcCalls.channel(keyed);
  }

  @AfterAll
  static void stop() throws Exception {
    for (ManagedChannel c : new ManagedChannel[] {channel, keyedChannel}) {
      if (c != null) {
        GrpcCalls.close(c);
      }
    }
    for (TestNode n : new TestNode[] {node, keyed}) {
      if (n != null) {
        n.close();
      }
    }
  }

  // ---- health and reflection ----

  @Test
  void healthCheckNamesTheVersionAsRestsRootDoes() throws Exception {
    HealthCheckReply reply = QdrantGrpc.newBlockingStub(channel).healthCheck(HealthCheckRequest.getDefaultInstance());
    JsonNode root = node.get("/").json();
    assertEquals("qdrant - vector search engine", reply.getTitle());
    assertEquals("1.15.5", reply.getVersion());
    assertTrue(reply.getCommit().matches("[0-9a-f]{40}"), reply.getCommit());
    assertEquals(root.get("title").asText(), reply.getTitle());
    assertEquals(root.get("version").asText(), reply.getVersion());
    assertEquals(root.get("commit").asText(), reply.getCommit());

    // the official client checks the server's version against its own when it connects
    ok(node.send("PUT", "/collections/seen_by_client", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    try (QdrantClient client = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", grpcPort(node), false).build())) {
      assertEquals("1.15.5", client.healthCheckAsync().get(30, TimeUnit.SECONDS).getVersion());
      assertTrue(client.listCollectionsAsync().get(30, TimeUnit.SECONDS).contains("seen_by_client"));
    }
  }

  @Test
  void standardHealthCheckIsServing() {
    var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    assertEquals(ServingStatus.SERVING, health.check(healthOf("")).getStatus());
  }

  /** Qdrant's own {@code grpc.health.v1.Health} answers SERVING whatever service is named. */
  @Test
  void standardHealthCheckAnswersForEachQdrantServiceAsQdrantDoes() {
    var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    for (String service : List.of("qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots")) {
      try {
        assertEquals(ServingStatus.SERVING, health.check(healthOf(service)).getStatus(), service);
      } catch (StatusRuntimeException e) {
        Assertions.assertFalse(e.getStatus().getCode() == Status.Code.NOT_FOUND,
            "grpc.health.v1 Check for service " + service + " must answer SERVING, as Qdrant");
        throw e;
      }
    }
  }

  @Test
  void reflectionListsQdrantsServicesAndDescribesThem() throws Exception {
    Set<String> services = new TreeSet<>();
    List<ServerReflectionResponse> listed;
    try {
      listed = reflect(ServerReflectionRequest.newBuilder().setListServices("*").build());
    } catch (java.util.concurrent.ExecutionException e) {
      Assertions.assertFalse(e.getCause() instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNKNOWN,
          "reflection must not fail with UNKNOWN (two descriptors define grpc.health.v1.Health: Qdrant's health_check.proto, "
              + "which qdrant.proto imports, and grpc-services' health.proto)");
      throw e;
    }
    for (ServerReflectionResponse r : listed) {
      r.getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
    }
    assertTrue(services.containsAll(List.of("qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots",
        "grpc.health.v1.Health")), services.toString());
    // a tool such as grpcurl then asks for the file declaring each service
    for (String service : List.of("qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots")) {
      List<ServerReflectionResponse> files = reflect(ServerReflectionRequest.newBuilder().setFileContainingSymbol(service).build());
      assertEquals(1, files.size());
      assertFalse(files.get(0).hasErrorResponse(), service + ": " + files.get(0).getErrorResponse());
      assertFalse(files.get(0).getFileDescriptorResponse().getFileDescriptorProtoList().isEmpty(), service);
    }
  }

  // ---- API keys ----

  @Test
  void missingOrWrongKeysAreUnauthenticatedWithRestsWording() throws Exception {
    String missingText = keyed.get("/collections").body();
    assertEquals(401, keyed.get("/collections").status());
    var none = assertThrows(StatusRuntimeException.class, () -> collections(keyedChannel).list(ListCollectionsRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
    assertEquals(missingText, none.getStatus().getDescription());

    var wrongRest = keyed.send("GET", "/collections", null, Map.of("api-key", "nope"));
    assertEquals(401, wrongRest.status());
    for (Channel wrong : List.of(GrpcCalls.withHeader(keyedChannel, "api-key", "nope"),
        GrpcCalls.withHeader(keyedChannel, "authorization", "Bearer nope"))) {
      var e = assertThrows(StatusRuntimeException.class, () -> collections(wrong).list(ListCollectionsRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      assertEquals(wrongRest.body(), e.getStatus().getDescription());
    }
    // refused before the message is read: not even a method that does not exist is revealed
    assertEquals(Status.Code.UNAUTHENTICATED, GrpcCalls.call(keyedChannel, "qdrant.Points/Upsert", new byte[] {1, 2, 3}, 10_000).code());
  }

  @Test
  void healthChecksStayOpenWithoutAKey() {
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(keyedChannel).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(keyedChannel).check(healthOf("")).getStatus());
  }

  @Test
  void theFullKeyWorksAsApiKeyAndAsBearerToken() throws Exception {
    ok(keyed.send("PUT", "/collections/keyed_full", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}", Map.of("api-key", FULL_KEY)));
    for (Channel c : List.of(GrpcCalls.withHeader(keyedChannel, "api-key", FULL_KEY),
        GrpcCalls.withHeader(keyedChannel, "authorization", "Bearer " + FULL_KEY))) {
      assertTrue(names(collections(c).list(ListCollectionsRequest.getDefaultInstance())).contains("keyed_full"));
    }
    // the official client sends the key as api-key metadata; a write with the full key goes through
    try (QdrantClient client = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", grpcPort(keyed), false)
        .withApiKey(FULL_KEY).build())) {
      assertTrue(client.collectionExistsAsync("keyed_full").get(30, TimeUnit.SECONDS));
      client.deleteCollectionAsync("keyed_full").get(30, TimeUnit.SECONDS);
      assertFalse(client.collectionExistsAsync("keyed_full").get(30, TimeUnit.SECONDS));
    }
    assertEquals(404, keyed.send("GET", "/collections/keyed_full", null, Map.of("api-key", FULL_KEY)).status());
  }

  @Test
  void theReadOnlyKeyReadsButEveryWriteIsPermissionDenied() throws Exception {
    ok(keyed.send("PUT", "/collections/keyed_ro", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}", Map.of("api-key", FULL_KEY)));
    Channel ro = GrpcCalls.withHeader(keyedChannel, "api-key", READ_KEY);
    assertTrue(names(collections(ro).list(ListCollectionsRequest.getDefaultInstance())).contains("keyed_ro"));
    assertTrue(collections(ro).collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("keyed_ro").build())
        .getResult().getExists());
    collections(ro).listAliases(ListAliasesRequest.getDefaultInstance());

    assertPermissionDenied(() -> collections(ro).delete(DeleteCollection.newBuilder().setCollectionName("keyed_ro").build()));
    assertPermissionDenied(() -> collections(ro).updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations.newBuilder()
        .setCreateAlias(CreateAlias.newBuilder().setCollectionName("keyed_ro").setAliasName("keyed_ro_alias"))).build()));
    // as a bearer token too
    Channel roBearer = GrpcCalls.withHeader(keyedChannel, "authorization", "Bearer " + READ_KEY);
    assertPermissionDenied(() -> collections(roBearer).delete(DeleteCollection.newBuilder().setCollectionName("keyed_ro").build()));
    assertEquals(200, keyed.send("GET", "/collections/keyed_ro", null, Map.of("api-key", FULL_KEY)).status());
    assertEquals("[]", keyed.send("GET", "/aliases", null, Map.of("api-key", FULL_KEY)).result().get("aliases").toString());
  }

  @Test
  void theReadOnlyKeyCannotCreateOrUpsert() throws Exception {
    ok(keyed.send("PUT", "/collections/keyed_ro2", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}", Map.of("api-key", FULL_KEY)));
    Channel ro = GrpcCalls.withHeader(keyedChannel, "api-key", READ_KEY);
    assertPermissionDenied(unlessUnimplemented(() -> points(ro).upsert(upsert("keyed_ro2", 1))));
    assertPermissionDenied(unlessUnimplemented(() -> collections(ro).create(create("keyed_ro_new"))));
    assertEquals(404, keyed.send("GET", "/collections/keyed_ro_new", null, Map.of("api-key", FULL_KEY)).status());
    assertEquals(0, count(keyed, "keyed_ro2", Map.of("api-key", FULL_KEY)));
  }

  // ---- the write lock ----

  @Test
  void underTheWriteLockDeletesAndAliasesGoOn() throws Exception {
    ok(node.send("PUT", "/collections/locked", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/locked/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 0]}]}"));
    ok(node.send("PUT", "/collections/doomed", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    lock();
    try {
      assertTrue(names(collections(channel).list(ListCollectionsRequest.getDefaultInstance())).containsAll(List.of("locked", "doomed")));
      // aliases are administration, not data: the lock lets them through on REST and on gRPC alike
      ok(node.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"locked\", \"alias_name\": \"locked_rest\"}}]}"));
      assertTrue(collections(channel).updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations.newBuilder()
          .setCreateAlias(CreateAlias.newBuilder().setCollectionName("locked").setAliasName("locked_grpc"))).build()).getResult());
      assertTrue(node.get("/aliases").result().toString().contains("locked_grpc"));
      // every kind of delete keeps working under the lock
      assertTrue(collections(channel).delete(DeleteCollection.newBuilder().setCollectionName("doomed").build()).getResult());
      assertEquals(404, node.get("/collections/doomed").status());
      assertEquals(1, count(node, "locked", Map.of()));
    } finally {
      unlock();
    }
  }

  @Test
  void underTheWriteLockUpsertsAreFailedPrecondition() throws Exception {
    ok(node.send("PUT", "/collections/locked_up", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    lock();
    try {
      assertLocked(unlessUnimplemented(() -> points(channel).upsert(upsert("locked_up", 7))));
      assertEquals(0, count(node, "locked_up", Map.of()));
      // reads go on
      var counted = unlessUnimplemented(() -> points(channel).count(CountPoints.newBuilder().setCollectionName("locked_up").setExact(true).build()));
      assertEquals(0, counted.get().getResult().getCount());
    } finally {
      unlock();
    }
  }

  @Test
  void underTheWriteLockCreatingACollectionIsFailedPrecondition() throws Exception {
    lock();
    try {
      assertLocked(unlessUnimplemented(() -> collections(channel).create(create("locked_new"))));
      assertEquals(404, node.get("/collections/locked_new").status());
    } finally {
      unlock();
    }
  }

  // ---- limits and deadlines ----

  @Test
  void anOverLargeMessageIsResourceExhaustedAndTheNodeCarriesOn() throws Exception {
    int limit = 1024 * 1024;
    ok(node.send("PUT", "/collections/big_guard", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    DeleteCollection twoMiB = DeleteCollection.newBuilder().setCollectionName("big_guard" + "x".repeat(2 * limit)).build();
    var typed = assertThrows(StatusRuntimeException.class, () -> collections(channel).withDeadlineAfter(30, TimeUnit.SECONDS).delete(twoMiB));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, typed.getStatus().getCode(), typed.getStatus().toString());
    assertTrue(typed.getStatus().getDescription().contains(Integer.toString(limit)), typed.getStatus().toString());
    // raw bytes that are no message at all are refused by size before anything reads them
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, GrpcCalls.call(channel, "qdrant.Points/Upsert", new byte[2 * limit + 1], 30_000).code());

    // the node carries on, on the same connection, and nothing was deleted
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(channel).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    assertTrue(names(collections(channel).list(ListCollectionsRequest.getDefaultInstance())).contains("big_guard"));
    // a message just under the bound is read and answered on its merits
    var under = assertThrows(StatusRuntimeException.class, () -> collections(channel).delete(DeleteCollection.newBuilder()
        .setCollectionName("y".repeat(limit - 64)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, under.getStatus().getCode(), under.getStatus().toString());
    // gzip is accepted, as Qdrant accepts it
    assertTrue(names(collections(channel).withCompression("gzip").list(ListCollectionsRequest.getDefaultInstance())).contains("big_guard"));
  }

  /** The bound is on the message, not on what the wire carried: 2 MiB of zeros gzipped is a few KiB. */
  @Test
  void aCompressedMessageOverTheBoundIsResourceExhausted() {
    String zeros = "\0".repeat(2 * 1024 * 1024);
    var gzipped = assertThrows(StatusRuntimeException.class, () -> collections(channel).withCompression("gzip")
        .delete(DeleteCollection.newBuilder().setCollectionName(zeros).build()));
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(channel).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    Assertions.assertFalse(isApplicationError(gzipped.getStatus()), "a gzipped message over the bound must not end in "
        + "UNKNOWN \"Application error processing RPC\" (its RESOURCE_EXHAUSTED is thrown while parsing)");
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, gzipped.getStatus().getCode(), gzipped.getStatus().toString());
  }

  @Test
  void aShortDeadlineEndsInDeadlineExceededOrAnAnswer() throws Exception {
    ok(node.send("PUT", "/collections/deadline", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    int exceeded = 0;
    for (int micros : new int[] {1, 50, 200, 1000, 3000, 10_000, 50_000}) {
      try {
        var stub = collections(channel).withDeadlineAfter(micros, TimeUnit.MICROSECONDS);
        assertTrue(names(stub.list(ListCollectionsRequest.getDefaultInstance())).contains("deadline"));
        stub = collections(channel).withDeadlineAfter(micros, TimeUnit.MICROSECONDS);
        assertTrue(stub.collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("deadline").build()).getResult().getExists());
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.getStatus().toString());
        exceeded++;
      }
    }
    assertTrue(exceeded >= 1, "a deadline of 1 µs cannot be met");
    // nothing is left half-done: the node answers and the collection is there
    assertEquals("1.15.5", QdrantGrpc.newBlockingStub(channel).healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    assertEquals(200, node.get("/collections/deadline").status());
  }

  @Test
  void anUndecodableMessageIsRefusedWithAProperStatus() {
    // field 1 (collection_name) claims 5 bytes and has 1: truncated
    var truncated = GrpcCalls.call(channel, "qdrant.Collections/Delete", new byte[] {10, 5, 'a'}, 10_000);
    assertNotEquals(Status.Code.OK, truncated.code());
    Assertions.assertFalse(isApplicationError(truncated.status()),
        "an undecodable message must not end in UNKNOWN \"Application error processing RPC\" (grpc-java's default), "
            + "with a SEVERE stack trace logged per call");
    assertTrue(Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.INTERNAL).contains(truncated.code()), truncated.toString());
    assertTrue(truncated.status().getDescription() != null && !truncated.status().getDescription().isBlank(), truncated.toString());
    // invalid UTF-8 in a string field
    var utf8 = GrpcCalls.call(channel, "qdrant.Collections/Delete", new byte[] {10, 1, (byte) 0xC3}, 10_000);
    assertTrue(Set.of(Status.Code.INVALID_ARGUMENT, Status.Code.INTERNAL).contains(utf8.code()), utf8.toString());
  }

  // ---- coverage ----

  /**
   * Every RPC of Qdrant's four services is served: an empty message reaches the method and is
   * answered (mostly with Qdrant's wording for what is missing), never with UNIMPLEMENTED. On a node
   * of its own, since a few methods (a full snapshot) accept the empty message.
   */
  @Test
  void everyRpcOfQdrantsServicesIsServed() throws Exception {
    try (TestNode n = TestNode.start(Files.createTempDirectory(dir, "every"), Map.of())) {
      ManagedChannel ch = GrpcCalls.channel(n);
      try {
        List<String> unserved = new ArrayList<>();
        int methods = 0;
        for (var service : GrpcFuzzTest.SERVICES) {
          for (var method : service.getMethods()) {
            methods++;
            var outcome = GrpcCalls.call(ch, method.getFullMethodName(), new byte[0], 10_000);
            if (Set.of(Status.Code.UNIMPLEMENTED, Status.Code.UNKNOWN, Status.Code.DEADLINE_EXCEEDED).contains(outcome.code())) {
              unserved.add(method.getFullMethodName() + ": " + outcome);
            }
          }
        }
        assertTrue(methods >= 48, "the services list " + methods + " methods");
        assertEquals(List.of(), unserved);
      } finally {
        GrpcCalls.close(ch);
      }
    }
  }

  // ---- turning gRPC off ----

  @Test
  void aNullGrpcPortMeansNoGrpcListenerAndRestCarriesOn() throws Exception {
    for (String off : List.of("null", "")) {
      try (TestNode n = TestNode.start(Files.createTempDirectory(dir, "off"), Map.of("QDRANT__SERVICE__GRPC_PORT", off))) {
        assertNull(n.deployment.grpc(), "gRPC listener with grpc_port '" + off + "'");
        ok(n.send("PUT", "/collections/rest_only", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
        assertTrue(n.get("/collections").body().contains("rest_only"));
        JsonNode grpc = n.get("/telemetry").result().at("/requests/grpc");
        assertEquals("{}", grpc.get("responses").toString());
      }
    }
  }

  // ---- what is recorded ----

  @Test
  void metricsAndTelemetryRecordEveryCall() throws Exception {
    String list = "/qdrant.Collections/List";
    String exists = "/qdrant.Collections/CollectionExists";
    long listBefore = grpcMetric(node, "grpc_responses_total", list);
    long existsFailBefore = grpcMetric(node, "grpc_responses_fail_total", exists);
    long existsBefore = grpcMetric(node, "grpc_responses_total", exists);
    for (int i = 0; i < 3; i++) {
      collections(channel).list(ListCollectionsRequest.getDefaultInstance());
    }
    collections(channel).collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("nothing_here").build());
    // an invalid name fails
    assertThrows(StatusRuntimeException.class, () -> collections(channel).collectionExists(CollectionExistsRequest.newBuilder()
        .setCollectionName("a/b").build()));
    // a method the server has not implemented (yet) is a failed call of its own
    long upsertFailBefore = grpcMetric(node, "grpc_responses_fail_total", "/qdrant.Points/Upsert");
    var unimplemented = GrpcCalls.call(channel, "qdrant.Points/Upsert", upsert("nothing_here", 1).toByteArray(), 10_000);

    // a call is counted once it has closed, which may be just after its client saw the answer
    String metrics = node.get("/metrics").body();
    for (long until = System.nanoTime() + 5_000_000_000L; System.nanoTime() < until
        && (metric(metrics, "grpc_responses_total", list) < listBefore + 3 || metric(metrics, "grpc_responses_total", exists) < existsBefore + 2
        || (unimplemented.code() != Status.Code.OK && metric(metrics, "grpc_responses_fail_total", "/qdrant.Points/Upsert") < upsertFailBefore + 1)); ) {
      Thread.sleep(20);
      metrics = node.get("/metrics").body();
    }
    assertEquals(listBefore + 3, metric(metrics, "grpc_responses_total", list));
    assertEquals(existsBefore + 2, metric(metrics, "grpc_responses_total", exists));
    assertEquals(existsFailBefore + 1, metric(metrics, "grpc_responses_fail_total", exists));
    assertTrue(metric(metrics, "grpc_responses_duration_seconds_sum", list) > 0, metrics);
    assertTrue(metrics.contains("# TYPE grpc_responses_total counter"), metrics);
    if (unimplemented.code() != Status.Code.OK) {
      assertEquals(upsertFailBefore + 1, metric(metrics, "grpc_responses_fail_total", "/qdrant.Points/Upsert"));
    }

    JsonNode schemas = Json.MAPPER.readTree(Files.readAllBytes(Path.of(getClass().getResource("/qdrant-openapi-v1.15.5.json").toURI())))
        .at("/components/schemas");
    for (int level : new int[] {0, 1, 4}) {
      JsonNode grpc = node.get("/telemetry?details_level=" + level).result().at("/requests/grpc");
      assertConforms(schemas, schemas.get("GrpcTelemetry"), grpc, "requests.grpc (details_level " + level + ")");
      JsonNode listed = grpc.at("/responses/~1qdrant.Collections~1List");
      assertTrue(listed.get("count").asLong() >= listBefore + 3, grpc.toString());
      assertTrue(listed.get("fail_count").asLong() <= listed.get("count").asLong(), grpc.toString());
      assertTrue(grpc.at("/responses/~1qdrant.Collections~1CollectionExists/fail_count").asLong() >= 1, grpc.toString());
      assertEquals(level >= 1, listed.has("last_responded"), grpc.toString());
    }

    // a call that ends before the service sees a message counts as well
    String undecodable = "/qdrant.Snapshots/DeleteFull";
    long undecodableBefore = grpcMetric(node, "grpc_responses_fail_total", undecodable);
    assertNotEquals(Status.Code.OK, GrpcCalls.call(channel, undecodable.substring(1), new byte[] {10, 5, 'a'}, 10_000).code());
    assertEquals(undecodableBefore + 1, awaitMetric(node, "grpc_responses_fail_total", undecodable, undecodableBefore + 1));
  }

  /** Qdrant counts every response, so a message refused for its size is a failed call of its method. */
  @Test
  void aCallRefusedForItsSizeIsCounted() throws Exception {
    String oversized = "/qdrant.Snapshots/ListFull";
    long before = grpcMetric(node, "grpc_responses_fail_total", oversized);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, GrpcCalls.call(channel, oversized.substring(1), new byte[2 << 20], 30_000).code());
    long counted = awaitMetric(node, "grpc_responses_fail_total", oversized, before + 1) - before;
    Assertions.assertTrue(counted == 1, "a call refused by the size bound must be counted (the transport's RESOURCE_EXHAUSTED) "
        + "is not counted in /metrics");
  }

  // ---- helpers ----

  /** grpc-java's answer when something throws while it reads a message: the cause never reaches the client. */
  static boolean isApplicationError(Status status) {
    return status.getCode() == Status.Code.UNKNOWN && "Application error processing RPC".equals(status.getDescription());
  }

  private static int grpcPort(TestNode n) {
    return n.deployment.grpc().actualPort();
  }

  private static CollectionsGrpc.CollectionsBlockingStub collections(Channel c) {
    return CollectionsGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static PointsGrpc.PointsBlockingStub points(Channel c) {
    return PointsGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static io.grpc.health.v1.HealthCheckRequest healthOf(String service) {
    return io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(service).build();
  }

  static UpsertPoints upsert(String collection, long id) {
    return UpsertPoints.newBuilder().setCollectionName(collection).setWait(true)
        .addPoints(PointStruct.newBuilder().setId(PointId.newBuilder().setNum(id))
            .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().addData(1f).addData(0f)))).build();
  }

  static CreateCollection create(String name) {
    return CreateCollection.newBuilder().setCollectionName(name).setVectorsConfig(VectorsConfig.newBuilder()
        .setParams(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot))).build();
  }

  private static List<String> names(io.qdrant.client.grpc.Collections.ListCollectionsResponse r) {
    List<String> out = new ArrayList<>();
    r.getCollectionsList().forEach(c -> out.add(c.getName()));
    return out;
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  private static void lock() throws Exception {
    ok(node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"" + LOCK_MESSAGE + "\"}"));
  }

  private static void unlock() throws Exception {
    ok(node.send("POST", "/locks", "{\"write\": false}"));
  }

  private static long count(TestNode n, String collection, Map<String, String> headers) throws Exception {
    var r = n.send("POST", "/collections/" + collection + "/points/count", "{\"exact\": true}", headers);
    ok(r);
    return r.result().get("count").asLong();
  }

  /**
   * The call's outcome, or an aborted test when the method answers UNIMPLEMENTED (it is being written
   * elsewhere); the returned supplier gives the response of a call that succeeded.
   */
  private static <T> Supplier<T> unlessUnimplemented(Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (StatusRuntimeException e) {
      Assertions.assertFalse(e.getStatus().getCode() == Status.Code.UNIMPLEMENTED, "not implemented yet: " + e.getStatus());
      return () -> {
        throw e;
      };
    }
    return () -> response;
  }

  private static void assertPermissionDenied(Runnable call) {
    assertPermissionDenied(() -> {
      call.run();
      return null;
    });
  }

  private static void assertPermissionDenied(Supplier<?> call) {
    var e = assertThrows(StatusRuntimeException.class, call::get);
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals("Forbidden: Global manage access is required", e.getStatus().getDescription());
  }

  private static void assertLocked(Supplier<?> call) {
    var e = assertThrows(StatusRuntimeException.class, call::get);
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals("Storage locked: " + LOCK_MESSAGE, e.getStatus().getDescription());
  }

  private static List<ServerReflectionResponse> reflect(ServerReflectionRequest request) throws Exception {
    List<ServerReflectionResponse> out = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    var requests = ServerReflectionGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionResponse value) {
        synchronized (out) {
          out.add(value);
        }
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    requests.onNext(request);
    requests.onCompleted();
    done.get(30, TimeUnit.SECONDS);
    return out;
  }

  private static long grpcMetric(TestNode n, String name, String endpoint) throws Exception {
    return metric(n.get("/metrics").body(), name, endpoint);
  }

  /** The metric once it reaches {@code expected}, or its value after 3 s (some calls are recorded after the client has its answer). */
  private static long awaitMetric(TestNode n, String name, String endpoint, long expected) throws Exception {
    long deadline = System.currentTimeMillis() + 3000;
    long value = grpcMetric(n, name, endpoint);
    while (value < expected && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
      value = grpcMetric(n, name, endpoint);
    }
    return value;
  }

  /** The value of {@code name{endpoint="..."}} in a Prometheus exposition, 0 when absent. */
  private static long metric(String exposition, String name, String endpoint) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{endpoint=\"" + endpoint + "\"} ") + "(\\S+)$").matcher(exposition);
    if (!m.find()) {
      return 0;
    }
    double v = Double.parseDouble(m.group(1));
    return name.endsWith("_seconds_sum") ? (long) Math.ceil(v) : (long) v;
  }

  /**
   * The value against an OpenAPI schema: required properties, no properties the schema does not
   * name (unless it allows more), the JSON type of each value, {@code $ref} and {@code
   * additionalProperties} followed.
   */
  static void assertConforms(JsonNode schemas, JsonNode schema, JsonNode value, String where) {
    if (schema.has("$ref")) {
      String ref = schema.get("$ref").asText();
      assertConforms(schemas, schemas.get(ref.substring(ref.lastIndexOf('/') + 1)), value, where);
      return;
    }
    if (value.isNull()) {
      assertTrue(schema.path("nullable").asBoolean(), where + " is null but not nullable");
      return;
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> {
        assertTrue(value.isObject(), where + " is not an object: " + value);
        for (JsonNode required : schema.path("required")) {
          assertTrue(value.has(required.asText()), where + " misses `" + required.asText() + "`: " + value);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
          var field = it.next();
          JsonNode property = schema.path("properties").get(field.getKey());
          if (property != null) {
            assertConforms(schemas, property, field.getValue(), where + "." + field.getKey());
          } else if (schema.get("additionalProperties") != null && schema.get("additionalProperties").isObject()) {
            assertConforms(schemas, schema.get("additionalProperties"), field.getValue(), where + "." + field.getKey());
          } else if (!schema.path("additionalProperties").asBoolean(false)) {
            fail(where + " has `" + field.getKey() + "`, which the schema does not name: " + value);
          }
        }
      }
      case "integer" -> {
        assertTrue(value.isIntegralNumber(), where + " is not an integer: " + value);
        if (schema.has("minimum")) {
          assertTrue(value.asDouble() >= schema.get("minimum").asDouble(), where + " below its minimum: " + value);
        }
      }
      case "number" -> assertTrue(value.isNumber(), where + " is not a number: " + value);
      case "string" -> {
        assertTrue(value.isTextual(), where + " is not a string: " + value);
        if ("date-time".equals(schema.path("format").asText())) {
          java.time.OffsetDateTime.parse(value.asText());
        }
      }
      case "boolean" -> assertTrue(value.isBoolean(), where + " is not a boolean: " + value);
      default -> { } // anyOf and friends: not needed for the telemetry shapes checked here
    }
  }
}
