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

  /**
   * Per endpoint, its statuses merged into one {@code OperationDurationStatistics} (as Qdrant keeps
   * gRPC's), with {@code fail_count} counting the statuses {@code failed} says are failures.
   */
  public Map<String, Map<String, Object>> merged(java.util.function.IntPredicate failed) {
    Map<String, Map<String, Object>> out = new TreeMap<>();
    byEndpoint.forEach((endpoint, statuses) -> {
      long count = 0;
      long fails = 0;
      long total = 0;
      long min = Long.MAX_VALUE;
      long max = 0;
      long last = 0;
      for (var e : statuses.entrySet()) {
        Stat stat = e.getValue();
        synchronized (stat) {
          count += stat.count;
          fails += failed.test(e.getKey()) ? stat.count : 0;
          total += stat.totalMicros;
          min = Math.min(min, stat.min);
          max = Math.max(max, stat.max);
          last = Math.max(last, stat.lastMillis);
        }
      }
      Map<String, Object> m = new TreeMap<>();
      m.put("count", count);
      m.put("fail_count", fails);
      m.put("avg_duration_micros", count == 0 ? 0.0 : (double) total / count);
      m.put("min_duration_micros", (double) (count == 0 ? 0 : min));
      m.put("max_duration_micros", (double) max);
      m.put("total_duration_micros", total);
      m.put("last_responded", Instant.ofEpochMilli(last).toString());
      out.put(endpoint, m);
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
