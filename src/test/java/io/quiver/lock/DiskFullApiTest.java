package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.api.HttpRouterVerticle;
import io.quiver.json.Json;
import io.quiver.config.ConfigLoader;
import io.quiver.config.Node;
import io.quiver.app.NodeIdentity;
import io.quiver.config.QuiverConfig;
import io.quiver.bus.Addresses;
import io.quiver.engine.StorageIo;
import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageVerticle;
import io.quiver.storage.EngineStorageService;
import io.quiver.testing.DiskFaults;
import io.quiver.testing.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole node on a disk that fills up on demand (injected into the WAL and the Lucene directory)
 * with a free-space probe the test controls: a write that hits the full disk gets 507 and leaves no
 * trace, the automatic write block keeps further writes out while reads and deletes go on, lifts by
 * itself once space is back, never lifts a manual lock, and the store reopens cleanly.
 */
@Timeout(180)
class DiskFullApiTest {
  static final long MIB = 1024L * 1024;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;
  final DiskFaults faults = new DiskFaults();
  final AtomicLong free = new AtomicLong(10_000 * MIB);
  Vertx vertx;
  int port;

  record Response(int status, JsonNode json) {
    JsonNode result() {
      return json.get("result");
    }

    String error() {
      return json.path("status").path("error").asText(null);
    }
  }

  /** The node as the deployment verticle builds it, with the faulty disk and the test's probe plugged in. */
  void start(Path storage) throws Exception {
    vertx = Vertx.vertx();
    Map<String, String> env = Map.of(
        "QDRANT__SERVICE__HOST", "127.0.0.1",
        "QDRANT__SERVICE__HTTP_PORT", "0",
        "QDRANT__SERVICE__GRPC_PORT", "0",
        "QDRANT__STORAGE__STORAGE_PATH", storage.toString(),
        "QDRANT__STORAGE__DISK_WATERMARKS__BLOCK_BELOW_MB", "64",
        "QDRANT__STORAGE__DISK_WATERMARKS__RESUME_ABOVE_MB", "128",
        "QDRANT__STORAGE__DISK_WATERMARKS__CHECK_INTERVAL_MS", "20");
    Path conf = Files.createDirectories(dir.resolve("conf"));
    QuiverConfig config = await(ConfigLoader.load(vertx, conf, null, env));
    long peer = NodeIdentity.loadOrCreate(storage);
    Node node = new Node(peer, new Addresses(Long.toString(peer)), config, System.currentTimeMillis());
    StorageClient.registerCodecs(vertx);
    var marks = config.storage().diskWatermarks();
    await(vertx.deployVerticle(new LockVerticle(node.addresses(),
        new DiskGuard(marks.blockBelowBytes(), marks.resumeAboveBytes()), free::get, marks.checkIntervalMs())));
    var storageVerticle = new StorageVerticle(node.addresses(), "full engine on a faulty disk",
        () -> EngineStorageService.open(config, new StorageIo(faults.opener(), faults.directory())));
    await(vertx.deployVerticle(storageVerticle));
    await(storageVerticle.loaded());
    var router = new HttpRouterVerticle(node);
    await(vertx.deployVerticle(router));
    port = router.actualPort();
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      await(vertx.close());
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  Response send(String method, String path, String body) throws Exception {
    var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), path.equals("/metrics") ? Json.MAPPER.getNodeFactory().textNode(r.body())
        : Json.MAPPER.readTree(r.body()));
  }

  Response upsert(long id) throws Exception {
    return send("PUT", "/collections/c/points?wait=true",
        "{\"points\": [{\"id\": " + id + ", \"vector\": [" + id + ", 1, 0, 0], \"payload\": {\"n\": " + id + "}}]}");
  }

  List<Long> ids() throws Exception {
    Response r = send("POST", "/collections/c/points/scroll", "{\"limit\": 100}");
    assertEquals(200, r.status(), r.json().toString());
    List<Long> out = new ArrayList<>();
    r.result().get("points").forEach(p -> out.add(p.get("id").asLong()));
    return out;
  }

  /** Polls GET /locks until it shows what is expected (the probe runs every 20 ms). */
  JsonNode awaitLocks(Predicate<JsonNode> expected) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      JsonNode locks = send("GET", "/locks", null).result();
      if (expected.test(locks) || System.currentTimeMillis() > deadline) {
        return locks;
      }
      Thread.sleep(20);
    }
  }

  static void assertLocksOption(JsonNode locks) {
    assertTrue(locks.get("write").isBoolean(), locks.toString());
    assertTrue(locks.get("error_message").isNull() || locks.get("error_message").isTextual(), locks.toString());
  }

  static void assertInsufficientStorage(Response r) {
    assertEquals(507, r.status(), r.json().toString());
    assertTrue(r.error().startsWith("Insufficient storage: No space left on device"), r.error());
  }

  String metrics() throws Exception {
    return send("GET", "/metrics", null).json().textValue();
  }

  @Test
  void aFullDiskRefusesWritesKeepsReadsAndDeletesAndTheBlockLiftsByItself() throws Exception {
    Path storage = dir.resolve("storage");
    start(storage);
    assertEquals(200, send("PUT", "/collections/c", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}").status());
    for (long id = 1; id <= 4; id++) {
      assertEquals(200, upsert(id).status());
    }

    // 1. the WAL runs out of space mid-frame: 507, nothing applied, the block turns on
    free.set(100 * MIB); // between the watermarks: the probe alone would not block, nor lift
    faults.walBytesLeft.set(10);
    Response refused = upsert(5);
    assertInsufficientStorage(refused);
    assertTrue(refused.error().contains("not applied"), refused.error());
    assertEquals(404, send("GET", "/collections/c/points/5", null).status());
    assertEquals(List.of(1L, 2L, 3L, 4L), ids());
    JsonNode locks = awaitLocks(l -> l.has("disk_write_block"));
    assertLocksOption(locks);
    assertFalse(locks.get("write").asBoolean(), "the disk block is not the manual lock");
    assertTrue(locks.path("disk_write_block").path("error_message").asText().startsWith("Insufficient storage:"), locks.toString());

    // 2. some room again (a file removed), still below the resume watermark: writes stay blocked, reads and deletes work
    faults.walUnlimited();
    Response blocked = upsert(6);
    assertInsufficientStorage(blocked);
    assertTrue(blocked.error().contains("writes are blocked"), blocked.error());
    assertEquals(507, send("PUT", "/collections/other", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}").status());
    Response search = send("POST", "/collections/c/points/search", "{\"vector\": [1, 0, 0, 0], \"limit\": 2}");
    assertEquals(200, search.status());
    assertEquals(4, search.result().get(0).get("id").asLong());
    assertEquals(200, send("POST", "/collections/c/points/delete?wait=true", "{\"points\": [4]}").status());
    assertEquals(List.of(1L, 2L, 3L), ids());
    // the probe's figure is the one of its last run (every 20 ms; later on a loaded machine)
    String metrics = metrics();
    for (long deadline = System.nanoTime() + 10_000_000_000L;
        !metrics.contains("\nquiver_disk_free_bytes " + 100 * MIB + "\n") && System.nanoTime() < deadline; metrics = metrics()) {
      Thread.sleep(20);
    }
    assertTrue(metrics.contains("\nquiver_disk_write_block 1\n"), metrics);
    assertTrue(metrics.contains("\nquiver_write_locked 0\n"), metrics);
    assertTrue(metrics.contains("\nquiver_disk_free_bytes " + 100 * MIB + "\n"), metrics);
    assertTrue(metrics.contains("\nquiver_disk_resume_above_bytes " + 128 * MIB + "\n"), metrics);
    assertFalse(metrics.contains("\nquiver_disk_rejected_writes_total 0\n"), metrics);

    // 3. a manual lock set during the block outlives it
    Response previous = send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}");
    assertEquals(200, previous.status());
    assertEquals(Json.MAPPER.readTree("{\"write\": false, \"error_message\": null}"), previous.result());
    Response locked = upsert(6);
    assertEquals(403, locked.status(), "the manual lock answers first");
    assertEquals("Storage locked: backup", locked.error());
    free.set(10_000 * MIB);
    locks = awaitLocks(l -> !l.has("disk_write_block"));
    assertFalse(locks.has("disk_write_block"), "lifted by itself: " + locks);
    assertEquals(Json.MAPPER.readTree("{\"write\": true, \"error_message\": \"backup\"}"), locks);
    assertEquals(403, upsert(6).status());
    metrics = metrics();
    assertTrue(metrics.contains("\nquiver_disk_write_block 0\n"), metrics);
    assertTrue(metrics.contains("\nquiver_write_locked 1\n"), metrics);
    assertEquals(200, send("POST", "/locks", "{\"write\": false}").status());
    assertEquals(200, upsert(7).status());

    // 4. the index runs out of space: 507, reads keep working, the shard heals once space is back
    faults.indexFull = true;
    assertInsufficientStorage(upsert(8));
    assertEquals(List.of(1L, 2L, 3L, 7L), ids());
    assertEquals(200, send("GET", "/collections/c/points/7", null).status());
    // a payload index that cannot be built is not half made: the schema goes back too
    Response index = null;
    for (int i = 0; i < 50 && (index == null || !index.error().contains("not applied")); i++) {
      awaitLocks(l -> !l.has("disk_write_block")); // past the block, so that the storage itself refuses
      index = send("PUT", "/collections/c/index?wait=true", "{\"field_name\": \"n\", \"field_schema\": \"integer\"}");
      assertInsufficientStorage(index);
    }
    assertTrue(index.error().contains("not applied"), index.error());
    assertFalse(send("GET", "/collections/c", null).result().get("payload_schema").has("n"));
    faults.indexFull = false;
    awaitLocks(l -> !l.has("disk_write_block")); // the probe reads plenty of space: lifted again
    assertEquals(200, upsert(8).status());
    assertEquals(List.of(1L, 2L, 3L, 7L, 8L), ids());

    // 5. the watermark alone blocks and lifts
    free.set(10 * MIB);
    awaitLocks(l -> l.has("disk_write_block"));
    Response low = upsert(9);
    assertInsufficientStorage(low);
    assertTrue(low.error().contains("below storage.disk_watermarks.block_below_mb"), low.error());
    free.set(10_000 * MIB);
    awaitLocks(l -> !l.has("disk_write_block"));
    assertEquals(200, upsert(9).status());

    // 6. a restart reads the store cleanly: every acknowledged write, none of the refused ones
    await(vertx.close());
    vertx = null;
    try (TestNode restarted = TestNode.start(storage)) {
      var scroll = restarted.send("POST", "/collections/c/points/scroll", "{\"limit\": 100}");
      List<Long> ids = new ArrayList<>();
      scroll.result().get("points").forEach(p -> ids.add(p.get("id").asLong()));
      assertEquals(List.of(1L, 2L, 3L, 7L, 8L, 9L), ids);
      assertEquals(200, restarted.send("PUT", "/collections/c/points?wait=true",
          "{\"points\": [{\"id\": 10, \"vector\": [1, 1, 0, 0]}]}").status());
      assertNull(restarted.get("/locks").result().get("disk_write_block"));
    }
  }
}
