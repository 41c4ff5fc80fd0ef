package io.quiver.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiver.testing.JarProcess;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM during a large write: the request in flight still gets its answer, the process exits 0,
 * and what was acknowledged is there after a restart.
 */
@Timeout(180)
class GracefulShutdownIT {
  @TempDir Path dir;

  @Test
  void sigtermLetsTheRequestInFlightFinishAndExitsZero() throws Exception {
    Path storage = dir.resolve("storage");
    int points = 20_000;
    StringBuilder body = new StringBuilder("{\"points\": [");
    for (int i = 0; i < points; i++) {
      body.append(i == 0 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": [")
          .append(i % 7).append(", 1, ").append(i % 13).append(", 0.5], \"payload\": {\"n\": ").append(i).append("}}");
    }
    body.append("]}");
    try (var server = JarProcess.start(storage, Map.of())) {
      assertEquals(200, server.send("PUT", "/collections/c", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}").statusCode());
      CompletableFuture<HttpResponse<String>> upsert = CompletableFuture.supplyAsync(() -> {
        try {
          return server.send("PUT", "/collections/c/points?wait=true", body.toString());
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(300); // the request is being read or applied
      int exit = server.terminate();
      HttpResponse<String> answered = upsert.get();
      assertEquals(200, answered.statusCode(), answered.body());
      assertEquals(0, exit, "a clean stop exits 0");
    }
    try (var server = JarProcess.start(storage, Map.of())) {
      var count = server.send("POST", "/collections/c/points/count", "{\"exact\": true}");
      assertEquals(200, count.statusCode());
      assertEquals("{\"count\":" + points + "}", io.quiver.json.Json.MAPPER.readTree(count.body()).get("result").toString());
    }
  }
}
