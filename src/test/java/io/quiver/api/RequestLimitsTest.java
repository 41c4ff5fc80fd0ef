package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Limits on what one request may carry: body size (413 without keeping the body), JSON nesting,
 * number and name lengths, vector sizes, collection names, batch sizes, and huge limits and offsets.
 * Every refused request leaves the collection as it was.
 */
@Timeout(180)
class RequestLimitsTest {
  static final int LIMIT_MB = 8;
  static final long LIMIT = LIMIT_MB * 1024L * 1024L;
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"), Map.of("QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", Integer.toString(LIMIT_MB)));
    ok(node.send("PUT", "/collections/lim", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/lim/index?wait=true", "{\"field_name\": \"n\", \"field_schema\": \"integer\"}"));
    ok(node.send("PUT", "/collections/lim/points?wait=true",
        "{\"points\": [{\"id\": 1, \"vector\": [1, 0], \"payload\": {\"n\": 1}}, {\"id\": 2, \"vector\": [0, 1], \"payload\": {\"n\": 2}}]}"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  // ---- body size ----

  @Test
  void aHugeAnnouncedBodyIsRefusedBeforeItIsSent() throws Exception {
    try (Socket s = socket()) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /collections/lim/points?wait=true HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
          + "Content-Length: 1000000000000\r\n\r\n{\"points\": [").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // the body is never sent: the answer can only come from the announced length
      String response = readResponse(s.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413 "), response);
      assertTrue(response.contains("{\"status\":{\"error\":\"Payload error: JSON payload (1000000000000 bytes) is larger "
          + "than allowed (limit: " + LIMIT + " bytes).\"}"), response);
    }
    assertUnchanged();
  }

  @Test
  void aSnapshotUploadLargerThanTheDiskCanTakeIsRefusedBeforeItIsSent() throws Exception {
    try (Socket s = socket()) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /collections/lim/snapshots/upload HTTP/1.1\r\nHost: x\r\n"
          + "content-type: multipart/form-data; boundary=b\r\nContent-Length: 4000000000000000\r\n\r\n--b\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String response = readResponse(s.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 507 "), response);
      assertTrue(response.contains("Insufficient storage: No space left on device: the upload of 4000000000000000 bytes"), response);
    }
    assertUnchanged();
  }

  @Test
  void aChunkedBodyOverTheLimitIsRefusedWhileItIsStillComing() throws Exception {
    try (Socket s = socket()) {
      OutputStream out = s.getOutputStream();
      out.write(("PUT /collections/lim/points?wait=true HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = new byte[64 * 1024];
      java.util.Arrays.fill(chunk, (byte) ' ');
      for (long sent = 0; sent <= LIMIT; sent += chunk.length) {
        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(chunk);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.flush();
      // no last chunk yet: the server answers without waiting for the end of the body
      String response = readResponse(s.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 413 "), response);
      assertTrue(response.contains("Payload error: JSON payload has exceeded limit (" + LIMIT + " bytes)."), response);
      assertTrue(response.toLowerCase().contains("connection: close"), response);
      // more of the body is read and dropped; once it ends, the server closes the connection
      for (int i = 0; i < 64; i++) {
        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(chunk);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertEquals(-1, s.getInputStream().read());
    }
    assertUnchanged();
  }

  @Test
  void aBodyJustUnderTheLimitIsRead() throws Exception {
    String padding = " ".repeat((int) LIMIT - 200);
    var r = node.send("POST", "/collections/lim/points/count", "{\"exact\": true}" + padding);
    assertEquals(200, r.status(), r.body());
  }

  // ---- JSON structure ----

  @Test
  void deeplyNestedJsonIsAFormatError() throws Exception {
    var arrays = node.send("POST", "/collections/lim/points/search", "[".repeat(100_000) + "]".repeat(100_000));
    assertEquals(400, arrays.status(), arrays.body());
    assertEquals("Format error in JSON body: recursion limit exceeded", arrays.error());

    String deepFilter = "{\"vector\": [1, 1], \"limit\": 1, \"filter\": " + "{\"must\": [".repeat(10_000) + "{}"
        + "]}".repeat(10_000) + "}";
    var filter = node.send("POST", "/collections/lim/points/search", deepFilter);
    assertEquals(400, filter.status(), filter.body());
    assertEquals("Format error in JSON body: recursion limit exceeded", filter.error());

    var payload = node.send("PUT", "/collections/lim/points?wait=true",
        "{\"points\": [{\"id\": 3, \"vector\": [1, 1], \"payload\": {\"a\": " + "[".repeat(200) + "]".repeat(200) + "}}]}");
    assertEquals(400, payload.status(), payload.body());
    assertTrue(payload.error().contains("recursion limit exceeded"), payload.body());
    assertUnchanged();
  }

  @Test
  void nestingAsDeepAsQdrantAllowsIsAccepted() throws Exception {
    // 100 levels of payload (Qdrant's parser allows 128 for the whole body), then removed again
    String nested = "{\"k\": ".repeat(100) + "1" + "}".repeat(100);
    ok(node.send("PUT", "/collections/lim/points?wait=true", "{\"points\": [{\"id\": 9, \"vector\": [1, 1], \"payload\": "
        + nested + "}]}"));
    var got = node.send("GET", "/collections/lim/points/9", null);
    assertEquals(200, got.status(), got.body());
    ok(node.send("POST", "/collections/lim/points/delete?wait=true", "{\"points\": [9]}"));
    assertUnchanged();
  }

  @Test
  void overlongNumbersAndNamesAreFormatErrors() throws Exception {
    var number = node.send("POST", "/collections/lim/points/search", "{\"vector\": [1, 1], \"limit\": 1" + "0".repeat(2000) + "}");
    assertEquals(400, number.status(), number.body());
    assertEquals("Format error in JSON body: Number value length (2001) exceeds the maximum allowed (1000)", number.error());

    var name = node.send("PUT", "/collections/lim/points?wait=true",
        "{\"points\": [{\"id\": 3, \"vector\": [1, 1], \"payload\": {\"" + "k".repeat(70_000) + "\": 1}}]}");
    assertEquals(400, name.status(), name.body());
    assertTrue(name.error().startsWith("Format error in JSON body: Name length (70000) exceeds the maximum allowed (65536)"),
        name.body());
    assertUnchanged();
  }

  // ---- collections ----

  @Test
  void vectorSizesOutsideOneTo65536AreRefused() throws Exception {
    var zero = node.send("PUT", "/collections/v0", "{\"vectors\": {\"size\": 0, \"distance\": \"Dot\"}}");
    assertEquals(422, zero.status(), zero.body());
    assertEquals("Validation error in JSON body: [vectors.size: value 0 invalid, must be from 1 to 65536]", zero.error());
    var big = node.send("PUT", "/collections/v0", "{\"vectors\": {\"img\": {\"size\": 65537, \"distance\": \"Cosine\"}}}");
    assertEquals(422, big.status(), big.body());
    assertEquals("Validation error in JSON body: [vectors.img.size: value 65537 invalid, must be from 1 to 65536]", big.error());
    assertEquals(404, node.get("/collections/v0").status());
  }

  @Test
  void collectionNamesAreChecked() throws Exception {
    String body = "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}";
    var tooLong = node.send("PUT", "/collections/" + "n".repeat(256), body);
    assertEquals(422, tooLong.status(), tooLong.body());
    assertEquals("Validation error in path parameters: [collection_name: value is too long, must be from 1 to 255 characters]",
        tooLong.error());
    var backslash = node.send("PUT", "/collections/a%5Cb", body);
    assertEquals(422, backslash.status(), backslash.body());
    assertEquals("Validation error in path parameters: [collection_name: collection name cannot contain \"\\\" char]",
        backslash.error());
    var colon = node.send("PUT", "/collections/a:b", body);
    assertEquals(422, colon.status(), colon.body());
    var dots = node.send("PUT", "/collections/%2E%2E", body);
    assertTrue(dots.status() >= 400 && dots.status() < 500, dots.body());
    var list = node.get("/collections").result().get("collections");
    assertEquals(1, list.size(), list.toString());
  }

  // ---- batch sizes ----

  @Test
  void batchesAboveTheirCapAreRefusedWhole() throws Exception {
    var searches = node.send("POST", "/collections/lim/points/search/batch",
        "{\"searches\": [" + repeat("{\"vector\": [1, 1], \"limit\": 1}", 10_001) + "]}");
    assertEquals(422, searches.status(), searches.body());
    assertEquals("Validation error in JSON body: [searches: value of 10001 items invalid, must be at most 10000 items per "
        + "request]", searches.error());
    var queries = node.send("POST", "/collections/lim/points/query/batch",
        "{\"searches\": [" + repeat("{\"query\": [1, 1]}", 10_001) + "]}");
    assertEquals(422, queries.status(), queries.body());

    var upsert = node.send("PUT", "/collections/lim/points?wait=true",
        "{\"points\": [" + points(100_001) + "]}");
    assertEquals(422, upsert.status(), upsert.body());
    assertEquals("Validation error in JSON body: [points: value of 100001 items invalid, must be at most 100000 items per "
        + "request]", upsert.error());
    StringBuilder ids = new StringBuilder();
    for (int i = 0; i < 100_001; i++) {
      ids.append(i == 0 ? "" : ",").append(i + 10);
    }
    var columns = node.send("PUT", "/collections/lim/points?wait=true",
        "{\"batch\": {\"ids\": [" + ids + "], \"vectors\": [" + repeat("[1, 1]", 100_001) + "]}}");
    assertEquals(422, columns.status(), columns.body());
    assertTrue(columns.error().startsWith("Validation error in JSON body: [batch.ids: value of 100001 items"), columns.body());

    var operations = node.send("POST", "/collections/lim/points/batch?wait=true",
        "{\"operations\": [" + repeat("{\"delete\": {\"points\": [1]}}", 10_001) + "]}");
    assertEquals(422, operations.status(), operations.body());
    assertTrue(operations.error().startsWith("Validation error in JSON body: [operations: value of 10001 items"), operations.body());

    var delete = node.send("POST", "/collections/lim/points/delete?wait=true", "{\"points\": [" + ids + "]}");
    assertEquals(422, delete.status(), delete.body());
    assertUnchanged();

    // at the cap it is fine
    ok(node.send("POST", "/collections/lim/points/search/batch",
        "{\"searches\": [" + repeat("{\"vector\": [1, 1], \"limit\": 1}", 10_000) + "]}"));
  }

  // ---- limit and offset ----

  @Test
  void hugeLimitsAndOffsetsAreSafe() throws Exception {
    String max = "18446744073709551615";
    var search = node.send("POST", "/collections/lim/points/search", "{\"vector\": [1, 1], \"limit\": " + max + "}");
    assertEquals(200, search.status(), search.body());
    assertEquals(2, search.result().size());
    var offset = node.send("POST", "/collections/lim/points/search",
        "{\"vector\": [1, 1], \"limit\": 10, \"offset\": 1000000000000000000000}");
    assertEquals(200, offset.status(), offset.body());
    assertEquals(0, offset.result().size());
    var query = node.send("POST", "/collections/lim/points/query", "{\"query\": [1, 1], \"limit\": " + max + ", \"offset\": " + max + "}");
    assertEquals(200, query.status(), query.body());
    var ordered = node.send("POST", "/collections/lim/points/scroll", "{\"limit\": 2147483646, \"order_by\": \"n\"}");
    assertEquals(200, ordered.status(), ordered.body());
    assertEquals(2, ordered.result().get("points").size());
    var orderedQuery = node.send("POST", "/collections/lim/points/query", "{\"query\": {\"order_by\": \"n\"}, \"limit\": " + max + "}");
    assertEquals(200, orderedQuery.status(), orderedQuery.body());
    var recommend = node.send("POST", "/collections/lim/points/recommend",
        "{\"positive\": [1], \"limit\": 2147483646, \"offset\": 2147483646, \"strategy\": \"best_score\"}");
    assertEquals(200, recommend.status(), recommend.body());
    var facet = node.send("POST", "/collections/lim/facet", "{\"key\": \"n\", \"limit\": 2147483646}");
    assertEquals(200, facet.status(), facet.body());
    assertUnchanged();
  }

  // ---- helpers ----

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  /** The collection still holds exactly points 1 and 2, and the node still answers. */
  static void assertUnchanged() throws Exception {
    var count = node.send("POST", "/collections/lim/points/count", "{\"exact\": true}");
    assertEquals(2, count.result().get("count").asInt(), count.body());
    var got = node.send("POST", "/collections/lim/points", "{\"ids\": [1, 2], \"with_payload\": true}");
    assertEquals(2, got.result().size(), got.body());
  }

  private static String repeat(String item, int n) {
    StringBuilder b = new StringBuilder(item.length() * n + n);
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",").append(item);
    }
    return b.toString();
  }

  private static String points(int n) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",").append("{\"id\": ").append(i + 10).append(", \"vector\": [1, 1]}");
    }
    return b.toString();
  }

  private static Socket socket() throws IOException {
    Socket s = new Socket("127.0.0.1", node.port());
    s.setSoTimeout(60_000);
    return s;
  }

  /** Status line, headers and a Content-Length body of one response. */
  private static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.write(c);
    }
    String headers = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return headers + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }
}
