package io.quiver.cluster;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Consecutive failures of messages this node sent to other nodes, by peer URI, as Qdrant's {@code
 * message_send_failures} of {@code GET /cluster}: an entry is removed on the first success.
 * Thread-safe.
 */
public final class SendFailures {
  private record Entry(long count, String latestError, Instant at) {}

  private final Map<String, Entry> byPeer = new ConcurrentHashMap<>();

  public void failed(String peer, String error) {
    byPeer.merge(peer, new Entry(1, error, Instant.now()),
        (old, next) -> new Entry(old.count() + 1, next.latestError(), next.at()));
  }

  public void succeeded(String peer) {
    byPeer.remove(peer);
  }

  /** {@code {uri: {"count", "latest_error", "latest_error_timestamp"}}}, in Qdrant's MessageSendErrors shape. */
  public Map<String, Object> snapshot() {
    Map<String, Object> out = new LinkedHashMap<>();
    byPeer.forEach((peer, e) -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("count", e.count());
      m.put("latest_error", e.latestError());
      m.put("latest_error_timestamp", e.at().toString());
      out.put(peer, m);
    });
    return out;
  }
}
