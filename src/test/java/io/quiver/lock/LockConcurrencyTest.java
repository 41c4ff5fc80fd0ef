package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers hammer the node while the lock flips: once {@code POST /locks} has answered, the stored
 * data no longer changes until the lock is lifted (writes in flight finished before the answer).
 */
@Timeout(180)
class LockConcurrencyTest {
  @TempDir Path dir;

  @Test
  void noWriteIsAppliedAfterTheLockAnswered() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      assertEquals(200, node.send("PUT", "/collections/c", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}").status());
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger nextId = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      Thread[] writers = new Thread[6];
      for (int w = 0; w < writers.length; w++) {
        writers[w] = new Thread(() -> {
          while (!stop.get()) {
            int id = nextId.incrementAndGet();
            try {
              var r = node.send("PUT", "/collections/c/points?wait=" + (id % 2 == 0),
                  "{\"points\": [{\"id\": " + id + ", \"vector\": [1, 2]}]}");
              if (r.status() == 403) {
                refused.incrementAndGet();
              }
            } catch (Exception e) {
              return;
            }
          }
        });
        writers[w].start();
      }
      try {
        for (int round = 0; round < 8; round++) {
          Thread.sleep(100);
          assertEquals(200, node.send("POST", "/locks", "{\"write\": true}").status());
          int atLock = count(node);
          Thread.sleep(300);
          assertEquals(atLock, count(node), "round " + round + ": data changed after the lock answered");
          assertEquals(200, node.send("POST", "/locks", "{\"write\": false}").status());
        }
      } finally {
        stop.set(true);
        for (Thread t : writers) {
          t.join(30_000);
        }
      }
      assertTrue(refused.get() > 0, "some writes met the lock");
    }
  }

  /** Points visible once every applied write is refreshed (the periodic refresh runs each second). */
  static int count(TestNode node) throws Exception {
    Thread.sleep(1100);
    return node.send("POST", "/collections/c/points/count", "{}").result().get("count").asInt();
  }
}
