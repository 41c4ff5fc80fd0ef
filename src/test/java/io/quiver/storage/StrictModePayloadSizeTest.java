package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code max_collection_payload_size_bytes} counts payload storage as Qdrant does: on disk, whole
 * 128-byte blocks per stored payload plus the blocks of payloads replaced since the last commit; in
 * memory, 4 bytes per point plus its JSON. The node never commits by itself here (interval of an
 * hour), so the test decides when replaced payloads are let go.
 */
@Timeout(120)
class StrictModePayloadSizeTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"), Map.of("QDRANT__STORAGE__COMMIT_INTERVAL_SEC", "3600"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  @Test
  void onDiskReplacedPayloadsCountUntilTheCommit() throws Exception {
    create("disk", true);
    // 10 live payloads of 17 bytes: 10 blocks; the limit is 20 blocks
    strict("disk", 20 * 128);
    int accepted = 0;
    TestNode.Response refused = null;
    for (int i = 0; i < 40 && refused == null; i++) {
      var r = overwrite("disk", 1);
      if (r.status() == 200) {
        accepted++;
      } else {
        refused = r;
      }
    }
    assertTrue(refused != null, "40 overwrites of one point were all accepted");
    assertEquals(400, refused.status());
    // Qdrant prints the limit in MB as a 32-bit float
    assertEquals("Bad request: Max payload storage size limit of 0.0024414062MB reached!", refused.error());
    // below the limit until 10 replaced payloads; the count is at most 16 checks old
    assertTrue(accepted >= 10 && accepted <= 16, "accepted " + accepted);

    // a snapshot commits: the replaced payloads' blocks are free again
    assertEquals(200, node.send("POST", "/collections/disk/snapshots?wait=true", null).status());
    Thread.sleep(1100); // the count is at most a second old
    assertEquals(200, overwrite("disk", 1).status());
    assertEquals(10, node.send("POST", "/collections/disk/points/count", "{\"exact\": true}").result().get("count").asInt());
  }

  @Test
  void inMemoryCountsLivePayloadsOnly() throws Exception {
    create("memory", false);
    // 10 points of 4 + 17 bytes = 210; the limit leaves room for two more
    strict("memory", 255);
    for (int i = 0; i < 40; i++) {
      assertEquals(200, overwrite("memory", 1 + i % 10).status(), "overwrite " + i);
    }
    int added = 0;
    TestNode.Response r;
    do {
      r = node.send("PUT", "/collections/memory/points?wait=true",
          "{\"points\": [{\"id\": " + (100 + added) + ", \"vector\": [1, 1], \"payload\": {\"city\": \"Berlin\"}}]}");
      added += r.status() == 200 ? 1 : 0;
    } while (r.status() == 200 && added < 40);
    assertEquals(400, r.status(), r.body());
    assertTrue(added >= 3 && added <= 19, "added " + added);
  }

  private static void create(String name, boolean onDisk) throws Exception {
    node.send("DELETE", "/collections/" + name, null);
    ok(node.send("PUT", "/collections/" + name,
        "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"on_disk_payload\": " + onDisk + "}"));
    StringBuilder points = new StringBuilder();
    for (int i = 1; i <= 10; i++) {
      points.append(i == 1 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": [1, ").append(i)
          .append("], \"payload\": {\"city\": \"Berlin\"}}");
    }
    ok(node.send("PUT", "/collections/" + name + "/points?wait=true", "{\"points\": [" + points + "]}"));
  }

  private static TestNode.Response overwrite(String name, int id) throws Exception {
    return node.send("PUT", "/collections/" + name + "/points?wait=true",
        "{\"points\": [{\"id\": " + id + ", \"vector\": [1, 1], \"payload\": {\"city\": \"Berlin\"}}]}");
  }

  private static void strict(String name, long maxPayloadBytes) throws Exception {
    ok(node.send("PATCH", "/collections/" + name,
        "{\"strict_mode_config\": {\"enabled\": true, \"max_collection_payload_size_bytes\": " + maxPayloadBytes + "}}"));
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
