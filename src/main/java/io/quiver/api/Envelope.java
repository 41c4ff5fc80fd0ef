package io.quiver.api;

import io.quiver.json.Json;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.quiver.config.Node;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/** Renders Qdrant's response envelope. {@code time} is the seconds spent since the request arrived. */
final class Envelope {
  static final String STARTED = "quiver.started";

  private Envelope() {}

  static void ok(RoutingContext ctx, Object result) {
    Map<String, Object> body = new LinkedHashMap<>(4);
    body.put("result", result);
    body.put("status", "ok");
    body.put("time", seconds(ctx));
    send(ctx, 200, body);
  }

  static void accepted(RoutingContext ctx) {
    Map<String, Object> body = new LinkedHashMap<>(4);
    body.put("status", "accepted");
    body.put("time", seconds(ctx));
    send(ctx, 202, body);
  }

  static void bare(RoutingContext ctx, Object body) {
    send(ctx, 200, body);
  }

  static void error(RoutingContext ctx, int status, String message) {
    Map<String, Object> body = new LinkedHashMap<>(4);
    body.put("status", Map.of("error", message));
    body.put("time", seconds(ctx));
    send(ctx, status, body);
  }

  private static void send(RoutingContext ctx, int status, Object body) {
    Buffer buffer;
    try {
      buffer = Buffer.buffer(Json.MAPPER.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      ctx.fail(e);
      return;
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .putHeader("server", Node.SERVER_HEADER)
        .end(buffer);
  }

  static double seconds(RoutingContext ctx) {
    Long started = ctx.get(STARTED);
    return started == null ? 0.0 : (System.nanoTime() - started) / 1e9;
  }
}
