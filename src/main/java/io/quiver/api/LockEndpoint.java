package io.quiver.api;

import io.quiver.request.Access;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.cluster.ClusterLocks;
import io.quiver.error.ApiException;
import io.quiver.lock.LockClient;
import io.quiver.lock.LockState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET/POST /locks}: the node's write lock (node-local, in memory, not persistent). With
 * {@code ?scope=cluster} the same request goes to every live node of the cluster ({@link
 * ClusterLocks}); {@code timeout} (seconds, default 5) bounds the wait for each node.
 */
final class LockEndpoint implements Endpoint {
  static final long DEFAULT_TIMEOUT_SECONDS = 5;
  static final long MAX_TIMEOUT_SECONDS = 60;

  private final LockClient lock;
  private final ClusterLocks cluster;

  LockEndpoint(LockClient lock, ClusterLocks cluster) {
    this.lock = lock;
    this.cluster = cluster;
  }

  @Override
  public List<Route> routes() {
    return List.of(
        Route.get("/locks", Access.READ, req -> clusterScope(req)
            ? cluster.get(timeoutMs(req)).map(ClusterLocks.Report::toResult)
            : lock.get().map(LockEndpoint::current)),
        Route.post("/locks", Access.ADMIN, req -> {
          LockState next = parse(req.body(JsonNode.class));
          return clusterScope(req)
              ? cluster.set(next, req.origin(), timeoutMs(req)).map(ClusterLocks.Report::toResult)
              : lock.set(next, req.origin()).map(previous -> locksOption(previous.write(), previous.errorMessage()));
        }));
  }

  private static boolean clusterScope(ApiRequest req) {
    String scope = req.query("scope");
    if (scope == null || scope.equals("node")) {
      return false;
    }
    if (scope.equals("cluster")) {
      return true;
    }
    throw ApiException.badRequest("scope must be `node` or `cluster`, got `" + scope + "`");
  }

  private static long timeoutMs(ApiRequest req) {
    String raw = req.query("timeout");
    if (raw == null) {
      return DEFAULT_TIMEOUT_SECONDS * 1000;
    }
    try {
      long s = Long.parseLong(raw.trim());
      if (s >= 1 && s <= MAX_TIMEOUT_SECONDS) {
        return s * 1000;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiException.badRequest("timeout must be an integer from 1 to " + MAX_TIMEOUT_SECONDS + " seconds");
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

  /**
   * Qdrant's {@code LocksOption} for the manual lock, so that saving and restoring it stays safe;
   * while the automatic disk write block is on, a {@code disk_write_block} object is added (the
   * spec's {@code LocksOption} allows extra properties), never folded into {@code write}.
   */
  private static Map<String, Object> current(io.vertx.core.json.JsonObject state) {
    Map<String, Object> m = locksOption(state.getBoolean("write"), state.getString("error_message"));
    Map<String, Object> block = io.quiver.lock.DiskGuard.summary(state.getJsonObject("disk"));
    if (block != null) {
      m.put("disk_write_block", block);
    }
    return m;
  }

  private static Map<String, Object> locksOption(boolean write, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("write", write);
    m.put("error_message", message);
    return m;
  }
}
