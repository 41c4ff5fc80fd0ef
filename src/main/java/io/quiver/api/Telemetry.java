package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.error.ApiException;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Qdrant's {@code TelemetryData} at its details levels, as Qdrant 1.15 shapes it:
 *
 * <ul>
 *   <li>0: {@code id, app, collections{number_of_collections}, cluster, requests}
 *   <li>1: adds {@code memory}, {@code hardware} and per collection {@code vectors, optimizers_status, params}
 *   <li>2: per collection {@code id, init_time_ms, config} instead
 *   <li>3: adds {@code shards} (one local replica each), {@code transfers}, {@code resharding}
 *   <li>4 and more: adds the shard's {@code segments}
 * </ul>
 *
 * With {@code anonymize}, collection names are replaced by a stable hash, as Qdrant does.
 */
final class Telemetry {
  private Telemetry() {}

  record Level(int details, boolean anonymize) {
    static Level parse(String details, String anonymize) {
      int d = 0;
      if (details != null) {
        try {
          d = Math.max(0, Integer.parseInt(details));
        } catch (NumberFormatException e) {
          throw new ApiException(400, "Format error in query params: details_level: invalid digit found in string");
        }
      }
      boolean a = false;
      if (anonymize != null) {
        a = switch (anonymize) {
          case "true", "1", "" -> true;
          case "false", "0" -> false;
          default -> throw new ApiException(400, "Format error in query params: anonymize: provided string was not `true` or `false`");
        };
      }
      return new Level(d, a);
    }
  }

  /** Route keys as Qdrant's telemetry names them: its REST paths call the collection {@code {name}}. */
  static Map<String, Map<String, Map<String, Object>>> requests(Map<String, Map<String, Map<String, Object>>> byRoute, int details) {
    Map<String, Map<String, Map<String, Object>>> out = new java.util.TreeMap<>();
    byRoute.forEach((key, statuses) -> {
      Map<String, Map<String, Object>> row = new java.util.TreeMap<>();
      statuses.forEach((status, stat) -> {
        Map<String, Object> s = new LinkedHashMap<>(stat);
        if (details < 1) {
          s.remove("last_responded");
        }
        row.put(status, s);
      });
      out.merge(key.replace("{collection_name}", "{name}"), row, (x, y) -> {
        x.putAll(y);
        return x;
      });
    });
    return out;
  }

  /** gRPC's {@code responses}: one statistic per method, {@code last_responded} from details level 1. */
  static Map<String, Map<String, Object>> grpcRequests(Map<String, Map<String, Object>> byMethod, int details) {
    if (details < 1) {
      byMethod.values().forEach(m -> m.remove("last_responded"));
    }
    return byMethod;
  }

  /** The {@code collections} section from the storage's per-collection telemetry. */
  static Map<String, Object> collections(List<Map<String, Object>> collections, Level level) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("number_of_collections", collections.size());
    if (level.details() < 1) {
      return out;
    }
    List<Object> list = new ArrayList<>();
    for (Map<String, Object> c : collections) {
      Object config = c.get("config");
      Map<String, Object> params = config instanceof Map<?, ?> m && m.get("params") instanceof Map<?, ?> p
          ? cast(p) : Map.of();
      if (config instanceof com.fasterxml.jackson.databind.JsonNode n) {
        config = Json.MAPPER.convertValue(n, Map.class);
        params = n.has("params") ? cast(Json.MAPPER.convertValue(n.get("params"), Map.class)) : Map.of();
      }
      if (level.details() == 1) {
        Map<String, Object> agg = new LinkedHashMap<>();
        agg.put("vectors", number(c.get("vectors")));
        agg.put("optimizers_status", "ok");
        agg.put("params", params);
        list.add(agg);
        continue;
      }
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("id", level.anonymize() ? anonymized(String.valueOf(c.get("id"))) : c.get("id"));
      t.put("init_time_ms", number(c.get("init_time_ms")));
      t.put("config", config == null ? Map.of() : config);
      if (level.details() >= 3) {
        List<Object> shards = new ArrayList<>();
        if (c.get("shards") instanceof List<?> each && !each.isEmpty()) {
          for (Object s : each) {
            shards.add(shard(cast((Map<?, ?>) s), level));
          }
        } else {
          shards.add(shard(c, level));
        }
        t.put("shards", shards);
        t.put("transfers", List.of());
        t.put("resharding", List.of());
      }
      list.add(t);
    }
    out.put("collections", list);
    return out;
  }

  private static Map<String, Object> shard(Map<String, Object> c, Level level) {
    Map<String, Object> local = new LinkedHashMap<>();
    local.put("variant_name", "local");
    local.put("status", "green");
    local.put("total_optimized_points", 0);
    local.put("vectors_size_bytes", number(c.get("vectors_size_bytes")));
    local.put("payloads_size_bytes", number(c.get("payloads_size_bytes")));
    local.put("num_points", number(c.get("points")));
    local.put("num_vectors", number(c.get("vectors")));
    if (level.details() >= 4) {
      local.put("segments", List.of(segment(c)));
    }
    Map<String, Object> optimizations = new LinkedHashMap<>();
    optimizations.put("status", "ok");
    optimizations.put("optimizations", Map.of("count", 0));
    optimizations.put("log", List.of());
    local.put("optimizations", optimizations);
    local.put("async_scorer", false);
    Map<String, Object> shard = new LinkedHashMap<>();
    shard.put("id", c.get("id") instanceof Number n ? n : 0);
    shard.put("key", null);
    shard.put("local", local);
    shard.put("remote", List.of());
    shard.put("replicate_states", Map.of());
    shard.put("partial_snapshot", Map.of("ongoing_create_snapshot_requests", 0, "is_recovering", false, "recovery_timestamp", 0));
    return shard;
  }

  /** The shard's Lucene index as one segment: Quiver does not expose Lucene's own segments. */
  private static Map<String, Object> segment(Map<String, Object> c) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("segment_type", "indexed");
    info.put("num_vectors", number(c.get("vectors")));
    info.put("num_points", number(c.get("points")));
    info.put("num_indexed_vectors", number(c.get("vectors")));
    info.put("num_deleted_vectors", 0);
    info.put("vectors_size_bytes", number(c.get("vectors_size_bytes")));
    info.put("payloads_size_bytes", number(c.get("payloads_size_bytes")));
    info.put("ram_usage_bytes", 0);
    info.put("disk_usage_bytes", number(c.get("disk_usage_bytes")));
    info.put("is_appendable", true);
    info.put("index_schema", Map.of());
    info.put("vector_data", Map.of());
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("info", info);
    s.put("config", Map.of("payload_storage_type", Map.of("type", "on_disk")));
    s.put("vector_index_searches", List.of());
    s.put("payload_field_indices", List.of());
    return s;
  }

  static Map<String, Object> memory() {
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    var nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("active_bytes", heap.getUsed());
    m.put("allocated_bytes", heap.getUsed());
    m.put("metadata_bytes", Math.max(0, nonHeap.getUsed()));
    long rss = io.quiver.metrics.ProcessMemory.now().resident();
    m.put("resident_bytes", rss >= 0 ? rss : heap.getCommitted() + Math.max(0, nonHeap.getCommitted()));
    m.put("retained_bytes", heap.getCommitted());
    return m;
  }

  static Map<String, Object> hardware() {
    return Map.of("collection_data", Map.of());
  }

  static String anonymized(String name) {
    return Long.toUnsignedString(name.hashCode() * 0x9E3779B97F4A7C15L);
  }

  static String startup(long millis) {
    return Instant.ofEpochMilli(millis).toString();
  }

  private static long number(Object o) {
    return o instanceof Number n ? Math.max(0, n.longValue()) : 0;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }
}
