package io.quiver.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The node's configuration: read once at startup, validated, immutable, handed to every verticle.
 * Keys follow Qdrant's {@code config.yaml}. Build it with {@link ConfigLoader}.
 */
public record QuiverConfig(
    Service service, Storage storage, Cluster cluster, String logLevel, List<String> sources, Tls tls) {

  public record Service(
      String host,
      int httpPort,
      int maxRequestSizeMb,
      boolean enableCors,
      String apiKey,
      String readOnlyApiKey,
      boolean enableTls,
      int maxWorkers,
      Integer grpcPort) {}

  /**
   * The REST listener's TLS material ({@code tls.*}), PEM files; null when {@code
   * service.enable_tls} is off. {@code caCert} is set only with {@code
   * service.verify_https_client_certificate}, and then every client must present a certificate it
   * signed. {@code certTtlSec} (0: never) is how often the certificate and key are re-read from disk.
   */
  public record Tls(Path cert, Path key, Path caCert, int certTtlSec) {}

  public enum FsyncMode {
    ALWAYS,
    INTERVAL
  }

  public record Storage(
      Path storagePath,
      Path snapshotsPath,
      String recoveryMode,
      boolean allowRecoveryModeFallback,
      FsyncMode walFsync,
      int walFsyncIntervalMs,
      int walCapacityMb,
      int commitIntervalSec,
      int maxSearchThreads,
      int incomingShardTransfersLimit,
      int outgoingShardTransfersLimit,
      String shardTransferMethod,
      double shardTransferMaxMbPerSec,
      DiskWatermarks diskWatermarks) {

    public boolean recoveryModeOn() {
      return recoveryMode != null && !recoveryMode.isEmpty();
    }
  }

  /**
   * The automatic disk write block: on below {@code blockBelowMb} free on the storage volume (or
   * when a write fails for lack of space), off again from {@code resumeAboveMb}; the free space is
   * read every {@code checkIntervalMs}.
   */
  public record DiskWatermarks(int blockBelowMb, int resumeAboveMb, int checkIntervalMs) {
    public long blockBelowBytes() {
      return blockBelowMb * 1024L * 1024L;
    }

    public long resumeAboveBytes() {
      return resumeAboveMb * 1024L * 1024L;
    }
  }

  /** The same configuration with the command line's {@code --uri} and {@code --bootstrap} (null: unchanged). */
  public QuiverConfig withJoin(String uri, String bootstrap) {
    return new QuiverConfig(service, storage, cluster.withJoin(uri, bootstrap), logLevel, sources, tls);
  }

  /**
   * Cluster mode ({@code cluster.*}). Hazelcast (membership, failure detection) listens on {@code
   * p2pPort}, the main port, which other peers know this one by; the event bus on {@code busPort}
   * ({@code cluster.bus.port}) and the Raft server on {@code raftPort} ({@code cluster.raft.port}),
   * each 0 for a free port (Raft's is remembered in the storage and reused), so no internal port
   * assumes that the p2p port's neighbours are free.
   *
   * @param uri this peer's p2p URI as others reach it ({@code --uri}), or null: the p2p host and port
   * @param bootstrap an existing peer's p2p URI to join through ({@code --bootstrap}), or null
   */
  public record Cluster(boolean enabled, String p2pHost, int p2pPort, List<String> members, String kubernetesService,
      P2pTls p2pTls, int busPort, int raftPort, String uri, String bootstrap) {
    /** Without TLS on the event bus. */
    public Cluster(boolean enabled, String p2pHost, int p2pPort, List<String> members, String kubernetesService) {
      this(enabled, p2pHost, p2pPort, members, kubernetesService, null);
    }

    /** With free internal ports and no join URIs. */
    public Cluster(boolean enabled, String p2pHost, int p2pPort, List<String> members, String kubernetesService, P2pTls p2pTls) {
      this(enabled, p2pHost, p2pPort, members, kubernetesService, p2pTls, 0, 0, null, null);
    }

    public Cluster {
      members = List.copyOf(members);
    }

    /** The same, with the {@code --uri} and {@code --bootstrap} of the command line (null: unchanged). */
    public Cluster withJoin(String uri, String bootstrap) {
      return new Cluster(enabled, p2pHost, p2pPort, members, kubernetesService, p2pTls, busPort, raftPort,
          uri != null ? uri : this.uri, bootstrap != null ? bootstrap : this.bootstrap);
    }
  }

  /**
   * TLS between nodes ({@code cluster.p2p.enable_tls}, as in Qdrant, with the files of {@code tls.*}):
   * the event bus, which carries the storage and lock messages, accepts and opens only connections
   * whose certificate is signed by {@code caCert}, and presents {@code cert}.
   */
  public record P2pTls(Path cert, Path key, Path caCert) {}

  static final Set<String> LOG_LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

  /** Built-in defaults, the lowest layer of the configuration. */
  static JsonObject defaults() {
    return new JsonObject()
        .put("log_level", "INFO")
        .put(
            "service",
            new JsonObject()
                .put("host", "0.0.0.0")
                .put("http_port", 6333)
                .put("max_request_size_mb", 32)
                .put("enable_cors", true)
                .put("enable_tls", false)
                .put("verify_https_client_certificate", false)
                .put("max_workers", 0)
                .put("grpc_port", 6334))
        .put(
            "storage",
            new JsonObject()
                .put("storage_path", "./storage")
                .put("snapshots_path", "./snapshots")
                .put("allow_recovery_mode", false)
                .put("wal", new JsonObject().put("fsync", "always").put("fsync_interval_ms", 100).put("wal_capacity_mb", 32))
                .put("commit_interval_sec", 5)
                .put("disk_watermarks", new JsonObject()
                    .put("block_below_mb", 256).put("resume_above_mb", 512).put("check_interval_ms", 1000))
                .put("performance", new JsonObject().put("max_search_threads", 0)
                    .put("incoming_shard_transfers_limit", 1).put("outgoing_shard_transfers_limit", 1)
                    .put("shard_transfer_max_mb_per_sec", 0)))
        .put(
            "cluster",
            new JsonObject()
                .put("enabled", false)
                .put("p2p", new JsonObject().put("host", "0.0.0.0").put("port", 6335).put("enable_tls", false))
                .put("bus", new JsonObject().put("port", 0))
                .put("raft", new JsonObject().put("port", 0))
                .put("members", new JsonArray())
                .put("discovery", new JsonObject()));
  }

  /**
   * Validates the merged configuration. {@code origin} maps a dotted key to the source that set
   * it, so that an error can say where a bad value came from.
   */
  static QuiverConfig from(JsonObject c, Map<String, String> origin, List<String> sources) {
    var r = new Reader(c, origin);
    var service =
        new Service(
            r.string("service.host"),
            r.integer("service.http_port", 0, 65535),
            r.integer("service.max_request_size_mb", 1, 4096),
            r.bool("service.enable_cors"),
            r.optionalString("service.api_key"),
            r.optionalString("service.read_only_api_key"),
            r.bool("service.enable_tls"),
            r.integer("service.max_workers", 0, 1024),
            r.optionalPort("service.grpc_port"));
    if (service.grpcPort() != null && service.grpcPort() != 0 && service.grpcPort() == service.httpPort()) {
      throw r.invalid("service.grpc_port", "a port other than service.http_port (" + service.httpPort() + ")");
    }
    var storage =
        new Storage(
            Path.of(r.string("storage.storage_path")),
            Path.of(r.string("storage.snapshots_path")),
            r.optionalString("storage.recovery_mode"),
            r.bool("storage.allow_recovery_mode"),
            r.oneOf("storage.wal.fsync", FsyncMode.class),
            r.integer("storage.wal.fsync_interval_ms", 1, 60_000),
            r.integer("storage.wal.wal_capacity_mb", 1, 4096),
            r.integer("storage.commit_interval_sec", 1, 3600),
            r.integer("storage.performance.max_search_threads", 0, 1024),
            r.integer("storage.performance.incoming_shard_transfers_limit", 0, 1024),
            r.integer("storage.performance.outgoing_shard_transfers_limit", 0, 1024),
            transferMethod(r),
            r.number("storage.performance.shard_transfer_max_mb_per_sec", 0, 1 << 20),
            new DiskWatermarks(
                r.integer("storage.disk_watermarks.block_below_mb", 0, 1 << 20),
                r.integer("storage.disk_watermarks.resume_above_mb", 0, 1 << 20),
                r.integer("storage.disk_watermarks.check_interval_ms", 10, 60_000)));
    if (storage.diskWatermarks().resumeAboveMb() < storage.diskWatermarks().blockBelowMb()) {
      throw r.invalid("storage.disk_watermarks.resume_above_mb",
          "at least storage.disk_watermarks.block_below_mb (" + storage.diskWatermarks().blockBelowMb() + ")");
    }
    var cluster =
        new Cluster(
            r.bool("cluster.enabled"),
            r.string("cluster.p2p.host"),
            r.integer("cluster.p2p.port", 0, 65535),
            r.list("cluster.members"),
            r.optionalString("cluster.discovery.kubernetes_service"),
            r.bool("cluster.p2p.enable_tls")
                ? new P2pTls(r.readableFile("tls.cert", "cluster.p2p.enable_tls"), r.readableFile("tls.key", "cluster.p2p.enable_tls"),
                    r.readableFile("tls.ca_cert", "cluster.p2p.enable_tls"))
                : null,
            r.integer("cluster.bus.port", 0, 65535),
            r.integer("cluster.raft.port", 0, 65535),
            null, null);
    if (cluster.enabled()) {
      distinctPorts(r, cluster, service);
    }
    String level = r.string("log_level").toUpperCase(Locale.ROOT);
    if (!LOG_LEVELS.contains(level)) {
      throw r.invalid("log_level", "one of " + LOG_LEVELS);
    }
    return new QuiverConfig(service, storage, cluster, level, List.copyOf(sources), tls(r, service.enableTls()));
  }

  /** No two of the node's fixed ports may be the same: each internal port has its own key. */
  private static void distinctPorts(Reader r, Cluster cluster, Service service) {
    Map<Integer, String> taken = new java.util.HashMap<>();
    taken.put(service.httpPort(), "service.http_port");
    if (service.grpcPort() != null && service.grpcPort() != 0) {
      taken.put(service.grpcPort(), "service.grpc_port");
    }
    String[][] keys = {{"cluster.p2p.port", Integer.toString(cluster.p2pPort())},
        {"cluster.bus.port", Integer.toString(cluster.busPort())}, {"cluster.raft.port", Integer.toString(cluster.raftPort())}};
    for (String[] k : keys) {
      int port = Integer.parseInt(k[1]);
      if (port == 0) {
        continue;
      }
      String other = taken.putIfAbsent(port, k[0]);
      if (other != null) {
        throw r.invalid(k[0], "a port other than " + other + " (" + port + ")");
      }
    }
  }

  /** With TLS on, the certificate and key (and the CA when clients are verified) must be readable files. */
  private static Tls tls(Reader r, boolean enabled) {
    boolean verifyClients = r.bool("service.verify_https_client_certificate");
    if (!enabled) {
      return null;
    }
    Path cert = r.readableFile("tls.cert", "service.enable_tls");
    Path key = r.readableFile("tls.key", "service.enable_tls");
    Path ca = verifyClients ? r.readableFile("tls.ca_cert", "service.verify_https_client_certificate") : null;
    Object ttl = r.raw("tls.cert_ttl");
    return new Tls(cert, key, ca, ttl == null || "".equals(ttl) ? 0 : r.integer("tls.cert_ttl", 1, 365 * 24 * 3600));
  }

  /** Typed access to dotted keys; values from the environment arrive as strings and are coerced here. */
  private record Reader(JsonObject root, Map<String, String> origin) {
    Object raw(String key) {
      Object node = root;
      for (String part : key.split("\\.")) {
        if (!(node instanceof JsonObject o)) {
          return null;
        }
        node = o.getValue(part);
      }
      return node;
    }

    ConfigException invalid(String key, String expected) {
      return new ConfigException(
          "Invalid configuration value for `"
              + key
              + "`: got '"
              + raw(key)
              + "', expected "
              + expected
              + " (set by "
              + origin.getOrDefault(key, "defaults")
              + ")");
    }

    String string(String key) {
      String s = optionalString(key);
      if (s == null) {
        throw invalid(key, "a non-empty string");
      }
      return s;
    }

    String optionalString(String key) {
      Object v = raw(key);
      if (v == null) {
        return null;
      }
      if (v instanceof JsonObject || v instanceof JsonArray) {
        throw invalid(key, "a string");
      }
      String s = v.toString();
      return s.isEmpty() ? null : s;
    }

    /** A port, or null when the key is unset, null or empty (as Qdrant's {@code grpc_port: null} turns gRPC off). */
    Integer optionalPort(String key) {
      Object v = raw(key);
      if (v == null || v instanceof String s && (s.isBlank() || s.trim().equalsIgnoreCase("null"))) {
        return null;
      }
      return integer(key, 0, 65535);
    }

    int integer(String key, int min, int max) {
      Object v = raw(key);
      long value;
      if (v instanceof Number n && n.doubleValue() == n.longValue()) {
        value = n.longValue();
      } else if (v instanceof String s) {
        try {
          value = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
          throw invalid(key, "an integer from " + min + " to " + max);
        }
      } else {
        throw invalid(key, "an integer from " + min + " to " + max);
      }
      if (value < min || value > max) {
        throw invalid(key, "an integer from " + min + " to " + max);
      }
      return (int) value;
    }

    /** A finite number from {@code min} to {@code max}; what does not parse is NaN, which no range holds. */
    double number(String key, double min, double max) {
      Object v = raw(key);
      double value = Double.NaN;
      try {
        value = v instanceof Number n ? n.doubleValue() : v instanceof String s ? Double.parseDouble(s.trim()) : Double.NaN;
      } catch (NumberFormatException e) {
        // stays NaN
      }
      if (!(value >= min && value <= max)) {
        throw invalid(key, "a number from " + min + " to " + max);
      }
      return value;
    }

    /** A path that must name a readable regular file because {@code because} is on. */
    Path readableFile(String key, String because) {
      String s = optionalString(key);
      if (s == null || !Files.isRegularFile(Path.of(s)) || !Files.isReadable(Path.of(s))) {
        throw invalid(key, "a readable PEM file, since " + because + " is true");
      }
      return Path.of(s);
    }

    boolean bool(String key) {
      Object v = raw(key);
      if (v instanceof Boolean b) {
        return b;
      }
      if (v instanceof String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
          case "true", "1", "yes", "on" -> {
            return true;
          }
          case "false", "0", "no", "off" -> {
            return false;
          }
          default -> {}
        }
      }
      throw invalid(key, "true or false");
    }

    <E extends Enum<E>> E oneOf(String key, Class<E> type) {
      String s = string(key).toUpperCase(Locale.ROOT);
      for (E e : type.getEnumConstants()) {
        if (e.name().equals(s)) {
          return e;
        }
      }
      throw invalid(key, "one of " + List.of(type.getEnumConstants()).toString().toLowerCase(Locale.ROOT));
    }

    List<String> list(String key) {
      Object v = raw(key);
      List<String> out = new ArrayList<>();
      if (v instanceof JsonArray a) {
        a.forEach(x -> out.add(String.valueOf(x).trim()));
      } else if (v instanceof String s) {
        for (String part : s.split(",")) {
          if (!part.isBlank()) {
            out.add(part.trim());
          }
        }
      } else if (v != null) {
        throw invalid(key, "a list or a comma-separated string");
      }
      return List.copyOf(out);
    }
  }

  /** {@code storage.shard_transfer_method}: null (recoveries by WAL delta when possible), or one of Qdrant's methods. */
  private static String transferMethod(Reader r) {
    String m = r.optionalString("storage.shard_transfer_method");
    if (m != null && !java.util.List.of("stream_records", "snapshot", "wal_delta").contains(m)) {
      throw r.invalid("storage.shard_transfer_method", "one of stream_records, snapshot, wal_delta");
    }
    return m;
  }
}
