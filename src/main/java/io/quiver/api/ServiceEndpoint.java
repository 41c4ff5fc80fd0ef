package io.quiver.api;

import io.quiver.request.Access;
import io.quiver.config.Node;
import io.quiver.lock.LockClient;
import io.quiver.metrics.RequestStats;
import io.quiver.storage.StorageClient;
import io.quiver.request.NodeRequest;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Service endpoints: version, Kubernetes probes, Prometheus metrics, telemetry. */
final class ServiceEndpoint implements Endpoint {
  /** Qdrant clients check that a 40-hex commit is present; this one names no Qdrant build. */
  static final String COMMIT = "0000000000000000000000000000000000000000";
  private static final String HEALTHY = "healthz check passed";

  private final Node node;
  private final StorageClient storage;
  private final LockClient lock;
  private final RequestStats stats;
  /** gRPC calls by method ({@code /qdrant.Points/Search}) and status code (0: OK). */
  private final RequestStats grpcStats;

  private final io.quiver.cluster.Peers peers;

  ServiceEndpoint(Node node, StorageClient storage, LockClient lock, RequestStats stats, RequestStats grpcStats) {
    this(node, storage, lock, stats, grpcStats, io.quiver.cluster.Peers.single(node.peerId(), null));
  }

  ServiceEndpoint(Node node, StorageClient storage, LockClient lock, RequestStats stats, RequestStats grpcStats,
      io.quiver.cluster.Peers peers) {
    this.peers = peers;
    this.node = node;
    this.storage = storage;
    this.lock = lock;
    this.stats = stats;
    this.grpcStats = grpcStats;
  }

  @Override
  public List<Route> routes() {
    return List.of(
        Route.get("/", Access.READ, req -> Future.succeededFuture(new Route.Bare(version()))),
        Route.get("/healthz", Access.READ, req -> Future.succeededFuture(Route.PlainText.ok(HEALTHY))),
        Route.get("/livez", Access.READ, req -> Future.succeededFuture(Route.PlainText.ok(HEALTHY))),
        Route.get("/readyz", Access.READ, req -> status().map(ServiceEndpoint::readiness)),
        Route.get("/metrics", Access.READ, req -> metrics()),
        Route.get("/telemetry", Access.READ, req -> telemetry(Telemetry.Level.parse(req.query("details_level"), req.query("anonymize")))),
        // Quiver detects no performance or configuration issues yet: the report is always empty
        Route.get("/issues", Access.READ, req -> Future.succeededFuture(Map.of("issues", List.of()))),
        Route.delete("/issues", Access.ADMIN, req -> Future.succeededFuture(true)));
  }

  private static Map<String, Object> version() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("title", "qdrant - vector search engine");
    m.put("version", Node.API_VERSION);
    m.put("commit", COMMIT);
    return m;
  }

  @SuppressWarnings("unchecked")
  private Future<Map<String, Object>> status() {
    return storage.send(new NodeRequest.Status()).map(r -> (Map<String, Object>) r);
  }

  private static Route.PlainText readiness(Map<String, Object> status) {
    if (!Boolean.TRUE.equals(status.get("ready"))) {
      return new Route.PlainText(503, "text/plain; charset=utf-8", "some shards are not ready");
    }
    if ("recovery".equals(status.get("mode"))) {
      return Route.PlainText.ok("all shards are ready (recovery mode: " + status.get("recovery_message") + ")");
    }
    return Route.PlainText.ok("all shards are ready");
  }

  @SuppressWarnings("unchecked")
  private Future<List<Map<String, Object>>> collectionTelemetry() {
    return storage.send(new NodeRequest.Telemetry()).map(r -> (List<Map<String, Object>>) r);
  }

  private Future<Route.PlainText> metrics() {
    return Future.all(status(), collectionTelemetry(), lock.get()).map(all -> {
      Map<String, Object> status = all.resultAt(0);
      List<Map<String, Object>> collections = all.resultAt(1);
      JsonObject lockState = all.resultAt(2);
      var out = new StringBuilder(2048);
      gauge(out, "app_info", "information about qdrant server", "{name=\"qdrant\",version=\"" + Node.API_VERSION + "\"}", 1);
      gauge(out, "app_status_recovery_mode", "features enabled in qdrant server", "", "recovery".equals(status.get("mode")) ? 1 : 0);
      gauge(out, "collections_total", "number of collections", "", collections.size());
      long vectors = collections.stream().mapToLong(c -> ((Number) c.getOrDefault("points", 0L)).longValue()).sum();
      gauge(out, "collections_vector_total", "total number of vectors in all collections", "", vectors);
      gauge(out, "cluster_enabled", "is cluster support enabled", "", node.config().cluster().enabled() ? 1 : 0);
      gauge(out, "quiver_info", "this node", "{version=\"" + Node.VERSION + "\",peer_id=\"" + node.peerId() + "\"}", 1);
      gauge(out, "quiver_storage_ready", "1 once the storage verticle has loaded", "", Boolean.TRUE.equals(status.get("ready")) ? 1 : 0);
      gauge(out, "quiver_write_locked", "1 while the node's write lock is set", "", lockState.getBoolean("write") ? 1 : 0);
      counterHeader(out, "quiver_rejected_writes_total", "writes refused by the write lock since start");
      out.append("quiver_rejected_writes_total ").append(lockState.getLong("rejected_writes", 0L)).append('\n');
      gauge(out, "quiver_writes_in_flight", "writes holding a permit of the write lock", "", lockState.getLong("writes_in_flight", 0L));
      diskMetrics(out, lockState.getJsonObject("disk", new JsonObject()));
      var heap = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
      gauge(out, "quiver_jvm_heap_used_bytes", "JVM heap in use", "", heap.getUsed());
      gauge(out, "quiver_jvm_heap_max_bytes", "JVM heap limit", "", heap.getMax());
      gauge(out, "quiver_jvm_heap_committed_bytes", "JVM heap taken from the system", "", heap.getCommitted());
      var rss = io.quiver.metrics.ProcessMemory.now();
      gauge(out, "memory_resident_bytes", "resident memory of the process (-1 unknown)", "", rss.resident());
      gauge(out, "quiver_memory_resident_anon_bytes", "resident memory not backed by files: heap, JVM, buffers (-1 unknown)", "",
          rss.anonymous());
      gauge(out, "quiver_memory_resident_file_bytes", "memory-mapped index files resident in RAM (-1 unknown)", "", rss.files());
      counterHeader(out, "rest_responses_total", "total number of responses");
      stats.forEach((endpoint, code, count, micros) -> out.append("rest_responses_total")
          .append(labels(endpoint, code)).append(' ').append(count).append('\n'));
      counterHeader(out, "rest_responses_duration_seconds_sum", "total time spent answering, in seconds");
      stats.forEach((endpoint, code, count, micros) -> out.append("rest_responses_duration_seconds_sum")
          .append(labels(endpoint, code)).append(' ').append(micros / 1e6).append('\n'));
      grpcMetrics(out);
      replicationMetrics(out);
      return new Route.PlainText(200, "text/plain; version=0.0.4; charset=utf-8", out.toString());
    });
  }

  /** In cluster mode: replicas by state (all of the cluster's, and this node's), running transfers, and this node's replication counters. */
  private void replicationMetrics(StringBuilder out) {
    io.quiver.cluster.Consensus consensus = peers.consensus();
    if (consensus == null) {
      return;
    }
    long self = consensus.selfId();
    Map<String, long[]> byState = new java.util.TreeMap<>();
    for (var s : io.quiver.cluster.meta.ReplicaState.values()) {
      byState.put(s.shown(), new long[2]);
    }
    long transfers = 0;
    for (var c : consensus.meta().state().collections().values()) {
      for (var shard : c.shards()) {
        transfers += shard.transfers().size();
        shard.states().forEach((peer, state) -> {
          byState.get(state.shown())[0]++;
          if (peer == self) {
            byState.get(state.shown())[1]++;
          }
        });
      }
    }
    out.append("# HELP quiver_cluster_replicas replicas of the cluster's shards, by state\n# TYPE quiver_cluster_replicas gauge\n");
    byState.forEach((state, n) -> out.append("quiver_cluster_replicas{state=\"").append(state).append("\"} ").append(n[0]).append('\n'));
    out.append("# HELP quiver_local_replicas this node's replicas, by state\n# TYPE quiver_local_replicas gauge\n");
    byState.forEach((state, n) -> out.append("quiver_local_replicas{state=\"").append(state).append("\"} ").append(n[1]).append('\n'));
    gauge(out, "quiver_shard_transfers", "shard transfers running in the cluster", "", transfers);
    counterHeader(out, "quiver_replicas_marked_dead_total", "replicas this node marked Dead (missed writes, or a new primary's term began without them)");
    out.append("quiver_replicas_marked_dead_total ").append(io.quiver.cluster.shard.ReplicationMetrics.MARKED_DEAD.get()).append('\n');
    counterHeader(out, "quiver_shard_transfers_total", "transfers into this node's replicas, by result");
    out.append("quiver_shard_transfers_total{result=\"done\"} ").append(io.quiver.cluster.shard.ReplicationMetrics.TRANSFERS_DONE.get()).append('\n');
    out.append("quiver_shard_transfers_total{result=\"failed\"} ").append(io.quiver.cluster.shard.ReplicationMetrics.TRANSFERS_FAILED.get()).append('\n');
    counterHeader(out, "quiver_transfer_points_received_total", "points copied into this node's replicas by transfers");
    out.append("quiver_transfer_points_received_total ").append(io.quiver.cluster.shard.ReplicationMetrics.POINTS_RECEIVED.get()).append('\n');
    counterHeader(out, "quiver_frames_forwarded_total", "write frames this node forwarded to replicas as a shard's primary");
    out.append("quiver_frames_forwarded_total ").append(io.quiver.cluster.shard.ReplicationMetrics.FRAMES_FORWARDED.get()).append('\n');
  }

  /** gRPC calls by endpoint, as Qdrant labels them: all, failed (a status other than OK), seconds. */
  private void grpcMetrics(StringBuilder out) {
    var merged = grpcStats.merged(code -> code != 0);
    counterHeader(out, "grpc_responses_total", "total number of responses");
    merged.forEach((endpoint, m) -> out.append("grpc_responses_total{endpoint=\"").append(endpoint).append("\"} ")
        .append(m.get("count")).append('\n'));
    counterHeader(out, "grpc_responses_fail_total", "total number of failed responses");
    merged.forEach((endpoint, m) -> out.append("grpc_responses_fail_total{endpoint=\"").append(endpoint).append("\"} ")
        .append(m.get("fail_count")).append('\n'));
    counterHeader(out, "grpc_responses_duration_seconds_sum", "total time spent answering, in seconds");
    merged.forEach((endpoint, m) -> out.append("grpc_responses_duration_seconds_sum{endpoint=\"").append(endpoint).append("\"} ")
        .append(((Number) m.get("total_duration_micros")).longValue() / 1e6).append('\n'));
  }

  /** The automatic disk write block, a cause distinct from the manual lock ({@code quiver_write_locked}). */
  private static void diskMetrics(StringBuilder out, JsonObject disk) {
    gauge(out, "quiver_disk_write_block", "1 while writes are blocked automatically for lack of disk space", "",
        disk.getBoolean("blocked", false) ? 1 : 0);
    gauge(out, "quiver_disk_free_bytes", "usable space on the storage volume at the last check (-1 unknown)", "",
        disk.getLong("free_bytes", -1L));
    gauge(out, "quiver_disk_block_below_bytes", "writes are blocked below this much free space", "",
        disk.getLong("block_below_bytes", 0L));
    gauge(out, "quiver_disk_resume_above_bytes", "a disk write block lifts from this much free space", "",
        disk.getLong("resume_above_bytes", 0L));
    counterHeader(out, "quiver_disk_rejected_writes_total", "writes refused by the disk write block since start");
    out.append("quiver_disk_rejected_writes_total ").append(disk.getLong("rejected_writes", 0L)).append('\n');
  }

  private static String labels(String endpoint, int status) {
    int space = endpoint.indexOf(' ');
    String method = space > 0 ? endpoint.substring(0, space) : "";
    String path = space > 0 ? endpoint.substring(space + 1) : endpoint;
    return "{method=\"" + method + "\",endpoint=\"" + path.replace("\"", "") + "\",status=\"" + status + "\"}";
  }

  private static void gauge(StringBuilder out, String name, String help, String labels, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" gauge\n")
        .append(name).append(labels).append(' ').append(value).append('\n');
  }

  private static void counterHeader(StringBuilder out, String name, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(" counter\n");
  }

  private Future<Map<String, Object>> telemetry(Telemetry.Level level) {
    return Future.all(status(), collectionTelemetry()).map(all -> {
      Map<String, Object> status = all.resultAt(0);
      List<Map<String, Object>> collections = all.resultAt(1);
      boolean recovery = "recovery".equals(status.get("mode"));

      Map<String, Object> features = new LinkedHashMap<>();
      features.put("debug", false);
      features.put("service_debug_feature", false);
      features.put("recovery_mode", recovery);
      features.put("gpu", false);
      features.put("rocksdb", false);
      Map<String, Object> app = new LinkedHashMap<>();
      app.put("name", "qdrant");
      app.put("version", Node.API_VERSION);
      app.put("features", features);
      app.put("startup", Instant.ofEpochMilli(node.startedAtMillis()).toString());

      Map<String, Object> out = new LinkedHashMap<>();
      out.put("id", Long.toString(node.peerId()));
      out.put("app", app);
      out.put("collections", Telemetry.collections(collections, level));
      out.put("cluster", clusterTelemetry(level.details()));
      out.put("requests", Map.of("rest", Map.of("responses", Telemetry.requests(stats.snapshot(), level.details())),
          "grpc", Map.of("responses", Telemetry.grpcRequests(grpcStats.merged(code -> code != 0), level.details()))));
      if (level.details() >= 1) {
        out.put("memory", Telemetry.memory());
        out.put("hardware", Telemetry.hardware());
      }
      return out;
    });
  }

  /**
   * Qdrant's {@code ClusterTelemetry}: whether cluster mode is on; from details level 1 the Raft
   * status, from 2 the cluster config and the peers with their URIs, from 3 each peer's version.
   */
  private Map<String, Object> clusterTelemetry(int details) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("enabled", node.config().cluster().enabled());
    io.quiver.cluster.Consensus consensus = peers.consensus();
    if (consensus == null) {
      return out;
    }
    var state = consensus.meta().state();
    if (details >= 1) {
      var raft = consensus.status();
      Map<String, Object> status = new LinkedHashMap<>();
      status.put("number_of_peers", state.peers().size());
      status.put("term", raft.term());
      status.put("commit", raft.commit());
      status.put("pending_operations", raft.pendingOperations());
      status.put("role", raft.role());
      status.put("is_voter", raft.isVoter());
      status.put("peer_id", node.peerId());
      status.put("consensus_thread_status", raft.error() == null
          ? Map.of("consensus_thread_status", "working", "last_update", Instant.now().toString())
          : Map.of("consensus_thread_status", "stopped_with_err", "err", raft.error()));
      out.put("status", status);
    }
    if (details >= 2) {
      out.put("config", Map.of("grpc_timeout_ms", 10_000, "p2p", Map.of("connection_pool_size", 1),
          "consensus", Map.of("max_message_queue_size", 100, "tick_period_ms", 100, "bootstrap_timeout_sec", 15)));
      Map<String, Object> peerInfo = new LinkedHashMap<>();
      state.peers().forEach((id, p) -> peerInfo.put(Long.toString(id), Map.of("uri", p.uri() == null ? "" : p.uri())));
      out.put("peers", peerInfo);
    }
    if (details >= 3) {
      Map<String, Object> metadata = new LinkedHashMap<>();
      state.peers().keySet().forEach(id -> metadata.put(Long.toString(id), Map.of("version", Node.API_VERSION)));
      out.put("peer_metadata", metadata);
    }
    return out;
  }
}
