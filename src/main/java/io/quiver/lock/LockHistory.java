package io.quiver.lock;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The lock changes since the node started, newest last, for operators ("who locked writes, when,
 * why"). In memory only, like the lock itself, and bounded: past {@link #CAPACITY} changes the
 * oldest are forgotten and counted. Not thread-safe: the lock verticle uses it from its event loop.
 */
public final class LockHistory {
  public static final int CAPACITY = 1000;

  /** One request to set the lock, recorded when the new state took effect. */
  public record Change(long atMillis, LockState previous, LockState next, LockOrigin origin) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("time", Instant.ofEpochMilli(atMillis).toString())
          .put("write", next.write())
          .put("error_message", next.errorMessage())
          .put("previous", previous.toJson())
          .put("client", origin.client())
          .put("api_key", origin.apiKey());
    }
  }

  private final int capacity;
  private final Deque<Change> changes = new ArrayDeque<>();
  private long forgotten;

  public LockHistory() {
    this(CAPACITY);
  }

  LockHistory(int capacity) {
    this.capacity = capacity;
  }

  public void record(Change change) {
    if (changes.size() == capacity) {
      changes.removeFirst();
      forgotten++;
    }
    changes.addLast(change);
  }

  /** {@code {"changes": [...oldest first], "forgotten": n}}: the public JSON form. */
  public JsonObject toJson() {
    JsonArray list = new JsonArray();
    changes.forEach(c -> list.add(c.toJson()));
    return new JsonObject().put("changes", list).put("forgotten", forgotten);
  }
}
