package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.Commands;
import io.quiver.testing.TestNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same story as {@link DiskFullApiTest} on a real full disk: a small tmpfs filled up with a
 * ballast file. Needs the right to mount (root in a privileged container); skipped otherwise.
 */
@Timeout(180)
class DiskFullTmpfsTest {
  static final int MIB = 1 << 20;

  @TempDir Path dir;
  Path mount;
  boolean mounted;

  @BeforeEach
  void mountTmpfs() throws Exception {
    mount = Files.createDirectories(dir.resolve("tmpfs"));
    mounted = Commands.succeeds("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.toString());
    Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs privileges)");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted && !Commands.succeeds("umount", mount.toString())) {
      Commands.succeeds("umount", "-l", mount.toString());
    }
  }

  static TestNode.Response upsert(TestNode node, long id) throws Exception {
    return node.send("PUT", "/collections/c/points?wait=true",
        "{\"points\": [{\"id\": " + id + ", \"vector\": [" + id + ", 1, 0, 0], \"payload\": {\"text\": \"" + "x".repeat(200) + "\"}}]}");
  }

  static List<Long> ids(TestNode node) throws Exception {
    var r = node.send("POST", "/collections/c/points/scroll", "{\"limit\": 1000}");
    assertEquals(200, r.status(), r.body());
    List<Long> out = new ArrayList<>();
    r.result().get("points").forEach(p -> out.add(p.get("id").asLong()));
    return out;
  }

  static JsonNode awaitLocks(TestNode node, Predicate<JsonNode> expected) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      JsonNode locks = node.get("/locks").result();
      if (expected.test(locks) || System.currentTimeMillis() > deadline) {
        return locks;
      }
      Thread.sleep(20);
    }
  }

  /** Writes a file until the volume is full. */
  static void fill(Path ballast) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
    try (FileChannel ch = FileChannel.open(ballast, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      while (true) {
        chunk.clear();
        ch.write(chunk);
      }
    } catch (IOException e) {
      assertTrue(e.getMessage().contains("No space left on device"), e.toString());
    }
  }

  @Test
  void aRealFullDisk() throws Exception {
    Path storage = mount.resolve("storage");
    Map<String, String> env = Map.of(
        // no low watermark: the block must come from writes that really hit the full disk
        "QDRANT__STORAGE__DISK_WATERMARKS__BLOCK_BELOW_MB", "0",
        "QDRANT__STORAGE__DISK_WATERMARKS__RESUME_ABOVE_MB", "4",
        "QDRANT__STORAGE__DISK_WATERMARKS__CHECK_INTERVAL_MS", "50");
    List<Long> expected = new ArrayList<>();
    Path ballast = mount.resolve("ballast");
    try (TestNode node = TestNode.start(storage, env)) {
      assertEquals(200, node.send("PUT", "/collections/c", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}").status());
      for (long id = 1; id <= 20; id++) {
        assertEquals(200, upsert(node, id).status());
        expected.add(id);
      }

      fill(ballast);
      // The first writes may still fit (a WAL page with room left): each answer must be exact,
      // durable when accepted, absent when refused. Within a few writes the disk refuses.
      TestNode.Response refused = null;
      for (long id = 100; id < 150 && refused == null; id++) {
        var r = upsert(node, id);
        if (r.status() == 200) {
          expected.add(id);
        } else {
          refused = r;
        }
      }
      assertTrue(refused != null, "the full disk never refused a write");
      assertEquals(507, refused.status(), refused.body());
      assertTrue(refused.error().startsWith("Insufficient storage: No space left on device"), refused.error());
      List<Long> visible = ids(node);
      assertTrue(visible.containsAll(expected.subList(0, 20)) && expected.containsAll(visible),
          "reads work, from the last searcher if the index cannot flush: " + visible);
      assertEquals(200, node.send("POST", "/collections/c/points/search", "{\"vector\": [1, 0, 0, 0], \"limit\": 3}").status());
      assertTrue(awaitLocks(node, l -> l.has("disk_write_block")).has("disk_write_block"));

      // 3 MiB back: between the watermarks, so the block stays, but deletes have room to run
      try (FileChannel ch = FileChannel.open(ballast, StandardOpenOption.WRITE)) {
        ch.truncate(ch.size() - 3 * MIB);
      }
      assertEquals(507, upsert(node, 101).status());
      var deleted = node.send("POST", "/collections/c/points/delete?wait=true", "{\"points\": [20]}");
      assertEquals(200, deleted.status(), deleted.body());
      expected.remove(Long.valueOf(20));
      assertEquals(expected, ids(node), "the index took the delete, and every accepted write with it");
      assertTrue(node.get("/locks").result().has("disk_write_block"));

      Files.delete(ballast);
      JsonNode locks = awaitLocks(node, l -> !l.has("disk_write_block"));
      assertFalse(locks.has("disk_write_block"), locks.toString());
      var accepted = upsert(node, 102);
      assertEquals(200, accepted.status(), accepted.body());
      expected.add(102L);
      assertEquals(expected, ids(node));
    }
    try (TestNode node = TestNode.start(storage, env)) {
      assertEquals(expected, ids(node), "a restart reads the store cleanly");
    }
  }
}
