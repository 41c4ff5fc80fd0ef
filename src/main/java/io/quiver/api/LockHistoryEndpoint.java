package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.request.Access;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.lock.LockClient;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * {@code GET /locks/history}, a Quiver extension (not in Qdrant's API): the node's lock changes since
 * it started, with who asked (client address, which key) and when. Separate from {@code GET /locks}
 * so that route keeps Qdrant's exact response.
 */
final class LockHistoryEndpoint implements Endpoint {
  static final String PATH = "/locks/history";
  private final LockClient lock;

  LockHistoryEndpoint(LockClient lock) {
    this.lock = lock;
  }

  @Override
  public List<Route> routes() {
    return List.of(Route.get(PATH, Access.READ, req -> lock.history().map(LockHistoryEndpoint::tree)));
  }

  private static JsonNode tree(JsonObject json) {
    try {
      return Json.MAPPER.readTree(json.toBuffer().getBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
