package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Collection snapshots end to end: taken while a writer keeps upserting, downloaded, recovered into
 * a fresh node and compared point by point; a wrong checksum or a damaged file leaves the existing
 * collection untouched.
 */
@Timeout(300)
class SnapshotApiTest {
  @TempDir Path dir;

  @Test
  void snapshotUnderWritesRestoresOnAnotherNode() throws Exception {
    Path file = dir.resolve("downloaded.snapshot");
    Map<Integer, String> expected;
    int ackedBeforeSnapshot;
    int writerCount;
    String checksum;
    try (TestNode a = TestNode.start(dir.resolve("a"))) {
      ok(a.send("PUT", "/collections/docs", """
          {"vectors": {"size": 4, "distance": "Cosine"}}"""));
      ok(a.send("PUT", "/collections/docs/index?wait=true", """
          {"field_name": "city", "field_schema": "keyword"}"""));
      var rnd = new Random(42);
      StringBuilder batch = new StringBuilder("{\"points\": [");
      for (int i = 0; i < 300; i++) {
        batch.append(i == 0 ? "" : ",").append(point(i, rnd));
      }
      ok(a.send("PUT", "/collections/docs/points?wait=true", batch.append("]}").toString()));

      // one writer, one point per request, in id order: a consistent snapshot holds a prefix of them
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger acked = new AtomicInteger();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread writer = new Thread(() -> {
        var wr = new Random(7);
        try {
          for (int id = 1000; !stop.get(); id++) {
            ok(a.send("PUT", "/collections/docs/points", "{\"points\": [" + point(id, wr) + "]}"));
            acked.incrementAndGet();
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      writer.start();
      while (acked.get() < 20 && failure.get() == null) {
        Thread.sleep(5);
      }
      ackedBeforeSnapshot = acked.get();
      var created = a.send("POST", "/collections/docs/snapshots?wait=true", null);
      ok(created);
      while (acked.get() < ackedBeforeSnapshot + 20 && failure.get() == null) {
        Thread.sleep(5);
      }
      stop.set(true);
      writer.join(60_000);
      assertEquals(null, failure.get());
      writerCount = acked.get();
      String name = created.result().get("name").asText();
      checksum = created.result().get("checksum").asText();
      assertTrue(name.startsWith("docs-") && name.endsWith(".snapshot"), name);

      var listed = a.get("/collections/docs/snapshots").result();
      assertEquals(1, listed.size());
      assertEquals(name, listed.get(0).get("name").asText());
      assertEquals(checksum, listed.get(0).get("checksum").asText());

      HttpResponse<Path> dl = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/collections/docs/snapshots/" + name)).build(),
          HttpResponse.BodyHandlers.ofFile(file));
      assertEquals(200, dl.statusCode());
      assertEquals(checksum, sha256(file));
      assertEquals(listed.get(0).get("size").asLong(), Files.size(file));
      assertEquals(404, a.get("/collections/docs/snapshots/..%2F..%2Fpeer_id").status());
      expected = points(a, "docs");
    }

    try (TestNode b = TestNode.start(dir.resolve("b"))) {
      var recovered = b.send("PUT", "/collections/copy/snapshots/recover", "{\"location\": \"" + file.toUri()
          + "\", \"checksum\": \"" + checksum + "\", \"priority\": \"snapshot\"}");
      ok(recovered);
      Map<Integer, String> restored = points(b, "copy");
      int fromWriter = 0;
      for (var e : restored.entrySet()) {
        assertEquals(expected.get(e.getKey()), e.getValue(), "point " + e.getKey());
        if (e.getKey() >= 1000) {
          fromWriter++;
        }
      }
      for (int i = 0; i < 300; i++) {
        assertTrue(restored.containsKey(i), "initial point " + i);
      }
      assertTrue(fromWriter >= ackedBeforeSnapshot && fromWriter <= writerCount, fromWriter + " writer points");
      for (int id = 1000; id < 1000 + fromWriter; id++) {
        assertTrue(restored.containsKey(id), "the snapshot holds a prefix of the writes: " + id + " missing");
      }
      JsonNode info = b.get("/collections/copy").result();
      assertEquals("keyword", info.path("payload_schema").path("city").path("data_type").asText());
      assertEquals(restored.size(), b.send("POST", "/collections/copy/points/count", """
          {"filter": {"must": [{"key": "city", "match": {"any": ["a", "b", "c"]}}]}, "exact": true}""")
          .result().get("count").asInt());

      // wrong checksum, and a file that is no snapshot: refused, the collection unchanged
      var wrong = b.send("PUT", "/collections/copy/snapshots/recover?wait=true", "{\"location\": \"" + file.toUri()
          + "\", \"checksum\": \"" + "3".repeat(64) + "\"}");
      assertEquals(400, wrong.status(), wrong.body());
      assertTrue(wrong.error().startsWith("Wrong input: Snapshot checksum mismatch: expected 333"), wrong.error());
      Path junk = Files.writeString(dir.resolve("junk.snapshot"), "not a tar archive");
      var bad = b.send("PUT", "/collections/copy/snapshots/recover", "{\"location\": \"" + junk.toUri() + "\"}");
      assertEquals(400, bad.status(), bad.body());
      assertTrue(bad.error().contains("not a valid Quiver snapshot"), bad.error());
      assertEquals(restored, points(b, "copy"));

      // the restored collection takes writes, which survive a restart (its WAL starts afresh)
      ok(b.send("PUT", "/collections/copy/points?wait=true", "{\"points\": [" + point(5000, new Random(1)) + "]}"));
    }
    try (TestNode b = TestNode.start(dir.resolve("b"))) {
      Map<Integer, String> after = points(b, "copy");
      assertTrue(after.containsKey(5000));
      assertEquals(expected.keySet().stream().filter(k -> k < 1000).count() + 1,
          after.keySet().stream().filter(k -> k < 1000 || k == 5000).count());
    }
  }

  private static String point(int id, Random rnd) {
    return String.format(java.util.Locale.ROOT, "{\"id\": %d, \"vector\": [%f, %f, %f, %f], \"payload\": {\"city\": \"%s\", \"n\": %d}}",
        id, rnd.nextFloat() + 0.01, rnd.nextFloat(), rnd.nextFloat(), rnd.nextFloat(), "abc".charAt(id % 3), id);
  }

  /** Every point of the collection, id to its payload and vector as JSON. */
  private static Map<Integer, String> points(TestNode node, String collection) throws Exception {
    Map<Integer, String> out = new TreeMap<>();
    JsonNode offset = null;
    do {
      String body = "{\"limit\": 250, \"with_payload\": true, \"with_vector\": true"
          + (offset == null || offset.isNull() ? "" : ", \"offset\": " + offset) + "}";
      var page = node.send("POST", "/collections/" + collection + "/points/scroll", body);
      ok(page);
      for (JsonNode p : page.result().get("points")) {
        out.put(p.get("id").asInt(), p.get("payload") + " " + p.get("vector"));
      }
      offset = page.result().get("next_page_offset");
    } while (offset != null && !offset.isNull());
    return out;
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
