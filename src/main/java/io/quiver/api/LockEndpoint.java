package io.quiver.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.error.ApiException;
import io.quiver.lock.LockClient;
import io.quiver.lock.LockState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET/POST /locks}: the node's write lock (node-local, in memory, not persistent). */
final class LockEndpoint implements Endpoint {
  private final LockClient lock;

  LockEndpoint(LockClient lock) {
    this.lock = lock;
  }

  @Override
  public List<Route> routes() {
    return List.of(
        Route.get("/locks", Access.READ, req -> lock.get().map(s -> locksOption(s.getBoolean("write"), s.getString("error_message")))),
        Route.post("/locks", Access.ADMIN, req -> lock.set(parse(req.body(JsonNode.class)))
            .map(previous -> locksOption(previous.write(), previous.errorMessage()))));
  }

  private static LockState parse(JsonNode body) {
    JsonNode write = body.get("write");
    if (write == null || !write.isBoolean()) {
      throw ApiException.formatError(write == null ? "missing field `write`" : "write: expected a boolean");
    }
    JsonNode message = body.get("error_message");
    if (message != null && !message.isNull() && !message.isTextual()) {
      throw ApiException.formatError("error_message: expected a string");
    }
    return new LockState(write.booleanValue(), message == null || message.isNull() ? null : message.textValue());
  }

  private static Map<String, Object> locksOption(boolean write, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("write", write);
    m.put("error_message", message);
    return m;
  }
}
