package io.quiver.lock;

import io.vertx.core.json.JsonObject;

/**
 * The node's write lock as Qdrant's {@code LocksOption}: {@code {"write": bool, "error_message":
 * string|null}}. This is also its JSON form on the public event-bus addresses.
 */
public record LockState(boolean write, String errorMessage) {
  public static final LockState UNLOCKED = new LockState(false, null);
  public static final String DEFAULT_MESSAGE = "Write operations are forbidden";

  public JsonObject toJson() {
    return new JsonObject().put("write", write).put("error_message", errorMessage);
  }

  /** Parses the public JSON form; {@code write} is required, a missing message resets it to null. */
  public static LockState fromJson(JsonObject json) {
    if (json == null || !(json.getValue("write") instanceof Boolean write)) {
      throw new IllegalArgumentException("missing field `write`");
    }
    Object message = json.getValue("error_message");
    if (message != null && !(message instanceof String)) {
      throw new IllegalArgumentException("`error_message` must be a string or null");
    }
    return new LockState(write, (String) message);
  }

  /** The error returned to a refused write. */
  public String refusal() {
    return "Storage locked: " + (errorMessage == null ? DEFAULT_MESSAGE : errorMessage);
  }
}
