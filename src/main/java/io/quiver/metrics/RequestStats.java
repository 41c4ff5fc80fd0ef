package io.quiver.metrics;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-endpoint, per-status request statistics in the shape of Qdrant's {@code
 * OperationDurationStatistics}. Thread-safe.
 */
public final class RequestStats {
  private static final int WINDOW = 128;
  private final Map<String, Map<Integer, Stat>> byEndpoint = new ConcurrentHashMap<>();

  public void record(String endpoint, int status, long micros) {
    byEndpoint.computeIfAbsent(endpoint, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(status, k -> new Stat())
        .add(micros);
  }

  /** {@code {"GET /collections": {"200": {...}}}}, sorted for stable output. */
  public Map<String, Map<String, Map<String, Object>>> snapshot() {
    Map<String, Map<String, Map<String, Object>>> out = new TreeMap<>();
    byEndpoint.forEach((endpoint, statuses) -> {
      Map<String, Map<String, Object>> row = new TreeMap<>();
      statuses.forEach((status, stat) -> row.put(Integer.toString(status), stat.toMap()));
      out.put(endpoint, row);
    });
    return out;
  }

  /** Total requests and total seconds, per endpoint and status, for the Prometheus exposition. */
  public void forEach(Visitor visitor) {
    byEndpoint.forEach((endpoint, statuses) -> statuses.forEach((status, stat) -> {
      synchronized (stat) {
        visitor.visit(endpoint, status, stat.count, stat.totalMicros);
      }
    }));
  }

  @FunctionalInterface
  public interface Visitor {
    void visit(String endpoint, int status, long count, long totalMicros);
  }

  private static final class Stat {
    private final long[] window = new long[WINDOW];
    private long count;
    private long totalMicros;
    private long min = Long.MAX_VALUE;
    private long max;
    private long lastMillis;

    synchronized void add(long micros) {
      window[(int) (count % WINDOW)] = micros;
      count++;
      totalMicros += micros;
      min = Math.min(min, micros);
      max = Math.max(max, micros);
      lastMillis = System.currentTimeMillis();
    }

    synchronized Map<String, Object> toMap() {
      int n = (int) Math.min(count, WINDOW);
      long sum = 0;
      for (int i = 0; i < n; i++) {
        sum += window[i];
      }
      Map<String, Object> m = new TreeMap<>();
      m.put("count", count);
      m.put("avg_duration_micros", n == 0 ? 0.0 : (double) sum / n);
      m.put("min_duration_micros", (double) min);
      m.put("max_duration_micros", (double) max);
      m.put("total_duration_micros", totalMicros);
      m.put("last_responded", Instant.ofEpochMilli(lastMillis).toString());
      return m;
    }
  }
}
