package io.quiver.lock;

import io.vertx.core.json.JsonObject;

/**
 * Who asked for a lock change, as recorded in the lock's history: the client's network address and
 * which API key the request came with. Never any key material.
 *
 * @param client the client's IP address, or null when unknown (a change sent on the event bus)
 * @param apiKey {@code "read-write"} (sent with {@code service.api_key}), {@code "none"} (no keys are
 *     configured) or {@code "unknown"} (not sent over REST)
 */
public record LockOrigin(String client, String apiKey) {
  public static final LockOrigin UNKNOWN = new LockOrigin(null, "unknown");

  public JsonObject toJson() {
    return new JsonObject().put("client", client).put("api_key", apiKey);
  }

  /** The optional {@code origin} of a {@code lock.set} message; {@link #UNKNOWN} when absent or malformed. */
  public static LockOrigin fromJson(Object json) {
    if (json instanceof JsonObject o && o.getValue("api_key") instanceof String key
        && (o.getValue("client") == null || o.getValue("client") instanceof String)) {
      return new LockOrigin(o.getString("client"), key);
    }
    return UNKNOWN;
  }
}
