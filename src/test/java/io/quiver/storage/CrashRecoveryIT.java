package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import io.quiver.testing.JarProcess;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills the real server with SIGKILL in the middle of a stream of {@code wait=true} upserts, three
 * times in a row, and checks after each restart that no acknowledged point was lost.
 */
@Timeout(300)
class CrashRecoveryIT {
  @TempDir Path dir;

  @Test
  void killNineLosesNoAcknowledgedPoint() throws Exception {
    Path storage = dir.resolve("storage");
    Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger nextId = new AtomicInteger();
    try (var server = JarProcess.start(storage, Map.of())) {
      var r = server.send("PUT", "/collections/crash", "{\"vectors\": {\"size\": 8, \"distance\": \"Cosine\"}}");
      assertEquals(200, r.statusCode(), r.body());
    }
    for (int round = 0; round < 3; round++) {
      try (var server = JarProcess.start(storage, Map.of())) {
        verify(server, acknowledged);
        Thread[] writers = new Thread[4];
        for (int w = 0; w < writers.length; w++) {
          writers[w] = new Thread(() -> {
            while (server.alive()) {
              int first = nextId.getAndAdd(10);
              StringBuilder body = new StringBuilder("{\"points\": [");
              for (int i = 0; i < 10; i++) {
                body.append(i == 0 ? "" : ",").append("{\"id\": ").append(first + i)
                    .append(", \"vector\": [1,2,3,4,5,6,7,").append(first + i).append("], \"payload\": {\"i\": ").append(first + i).append("}}");
              }
              body.append("]}");
              try {
                var resp = server.send("PUT", "/collections/crash/points?wait=true", body.toString());
                if (resp.statusCode() == 200) {
                  for (int i = 0; i < 10; i++) {
                    acknowledged.add(first + i);
                  }
                }
              } catch (Exception connectionLost) {
                return;
              }
            }
          });
          writers[w].start();
        }
        Thread.sleep(1500 + round * 500L);
        server.kill();
        for (Thread t : writers) {
          t.join(30_000);
        }
      }
    }
    try (var server = JarProcess.start(storage, Map.of())) {
      verify(server, acknowledged);
      assertTrue(acknowledged.size() > 100, "the writers got through: " + acknowledged.size());
    }
  }

  private static void verify(JarProcess server, Set<Integer> acknowledged) throws Exception {
    if (acknowledged.isEmpty()) {
      return;
    }
    StringBuilder ids = new StringBuilder("{\"with_payload\": true, \"ids\": [");
    boolean first = true;
    for (int id : acknowledged) {
      ids.append(first ? "" : ",").append(id);
      first = false;
    }
    ids.append("]}");
    var resp = server.send("POST", "/collections/crash/points", ids.toString());
    assertEquals(200, resp.statusCode(), resp.body());
    JsonNode result = Json.MAPPER.readTree(resp.body()).get("result");
    assertEquals(acknowledged.size(), result.size(), "every acknowledged point survives the crash");
    for (JsonNode p : result) {
      assertEquals(p.get("id").asInt(), p.at("/payload/i").asInt());
    }
  }
}
