package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated state machine of the cluster's metadata: Raft hands it committed operations in log
 * order ({@link #apply}), snapshots and restores it. The current {@link MetaState} can be read from
 * any thread; listeners (the mirror into local storage) hear of each change after it is made, on
 * Raft's apply thread.
 *
 * <p>The result of an operation travels back to the peer that proposed it as JSON: {@code {"ok":
 * true}}, or {@code {"status": 404, "error": "..."}} for an operation the state refused (the same on
 * every peer, since all apply the same operations to the same state).
 */
public final class ClusterMeta {
  private static final Logger log = LoggerFactory.getLogger(ClusterMeta.class);

  /** Hears of changes; called on Raft's apply thread, in log order. */
  public interface Listener {
    /** {@code op} moved the state from {@code before} to {@code after}. */
    void applied(MetaOp op, MetaState before, MetaState after);

    /** The whole state was replaced (start from a snapshot, or a snapshot installed by the leader). */
    void restored(MetaState state);
  }

  private volatile MetaState state = MetaState.EMPTY;
  private volatile long appliedIndex;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  public MetaState state() {
    return state;
  }

  public long appliedIndex() {
    return appliedIndex;
  }

  public void listen(Listener listener) {
    listeners.add(listener);
  }

  /** Applies a committed operation; never throws for a refused one (its refusal is the result). */
  public byte[] apply(long index, byte[] operation) {
    MetaOp op;
    try {
      op = MetaOp.fromBytes(operation);
    } catch (RuntimeException e) {
      log.error("Raft entry {} is not a metadata operation this version knows; skipped: {}", index, e.getMessage());
      appliedIndex = index;
      return result(new ApiException(500, "Service internal error: unknown metadata operation at index " + index));
    }
    MetaState before = state;
    MetaState after;
    try {
      after = before.apply(op);
    } catch (ApiException e) {
      appliedIndex = index;
      return result(e);
    } catch (RuntimeException e) {
      log.error("Metadata operation {} at index {} failed to apply", op.toJson(), index, e);
      appliedIndex = index;
      return result(new ApiException(500, "Service internal error: " + e.getMessage()));
    }
    state = after;
    for (Listener l : listeners) {
      try {
        l.applied(op, before, after);
      } catch (RuntimeException e) {
        log.error("Applying metadata operation {} locally failed", op.toJson(), e);
      }
    }
    appliedIndex = index; // after the listeners: a peer that reports the index has the change in its storage too
    return OK;
  }

  public byte[] snapshot() {
    return state.toBytes();
  }

  public void restore(byte[] snapshot, long index) {
    MetaState next = MetaState.fromBytes(snapshot);
    state = next;
    appliedIndex = index;
    for (Listener l : listeners) {
      try {
        l.restored(next);
      } catch (RuntimeException e) {
        log.error("Restoring the metadata snapshot locally failed", e);
      }
    }
  }

  private static final byte[] OK = "{\"ok\":true}".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  private static byte[] result(ApiException e) {
    ObjectNode o = JsonNodeFactory.instance.objectNode().put("status", e.status()).put("error", e.getMessage());
    try {
      return Json.MAPPER.writeValueAsBytes(o);
    } catch (IOException io) {
      throw new UncheckedIOException(io);
    }
  }

  /** Reads a result: returns normally for success, throws the refusal as an {@link ApiException}. */
  public static void check(byte[] result) {
    JsonNode o;
    try {
      o = Json.MAPPER.readTree(result);
    } catch (IOException e) {
      throw new ApiException(500, "Service internal error: unreadable consensus result");
    }
    if (!o.path("ok").asBoolean(false)) {
      throw new ApiException(o.path("status").asInt(500), o.path("error").asText("Service internal error"));
    }
  }
}
