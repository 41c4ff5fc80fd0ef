package io.quiver.app;

import io.quiver.config.QuiverConfig;
import io.quiver.config.ConfigLoader;
import io.quiver.config.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class ConfigLoaderTest {
  static Vertx vertx;
  @TempDir Path dir;

  @BeforeAll
  static void up() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    vertx.close();
  }

  QuiverConfig load(String configPath, Map<String, String> env) throws Exception {
    return ConfigLoader.load(vertx, dir, configPath, env).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  Throwable failure(String configPath, Map<String, String> env) throws Exception {
    try {
      load(configPath, env);
      throw new AssertionError("expected a configuration error");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  @Test
  void defaultsWithoutAnyFile() throws Exception {
    QuiverConfig c = load(null, Map.of());
    assertEquals(6333, c.service().httpPort());
    assertEquals(Path.of("./storage"), c.storage().storagePath());
    assertFalse(c.storage().recoveryModeOn());
    assertEquals("INFO", c.logLevel());
    assertEquals(List.of("defaults"), c.sources());
  }

  @Test
  void laterLayersWin() throws Exception {
    Files.writeString(dir.resolve("config.yaml"), "service:\n  http_port: 7001\n  host: 10.0.0.1\nlog_level: warn\n");
    Files.writeString(dir.resolve("production.yaml"), "service:\n  http_port: 7002\n");
    Files.writeString(dir.resolve("local.yaml"), "storage:\n  storage_path: /from/local\n");
    Path extra = dir.resolve("extra.yaml");
    Files.writeString(extra, "service:\n  http_port: 7003\n  max_request_size_mb: 5\n");

    QuiverConfig files = load(extra.toString(), Map.of("RUN_MODE", "production"));
    assertEquals(7003, files.service().httpPort());
    assertEquals(5, files.service().maxRequestSizeMb());
    assertEquals("10.0.0.1", files.service().host());
    assertEquals(Path.of("/from/local"), files.storage().storagePath());
    assertEquals("WARN", files.logLevel());

    QuiverConfig env = load(extra.toString(), Map.of(
        "RUN_MODE", "production",
        "QDRANT__SERVICE__HTTP_PORT", "7000",
        "QDRANT__STORAGE__STORAGE_PATH", "/data",
        "QDRANT__LOG_LEVEL", "DEBUG",
        "QDRANT__STORAGE__RECOVERY_MODE", "My recovery message",
        "QDRANT_ALLOW_RECOVERY_MODE", "true",
        "QDRANT__CLUSTER__MEMBERS", "127.0.0.1:6335, 127.0.0.1:6345"));
    assertEquals(7000, env.service().httpPort());
    assertEquals(Path.of("/data"), env.storage().storagePath());
    assertEquals("DEBUG", env.logLevel());
    assertEquals("My recovery message", env.storage().recoveryMode());
    assertTrue(env.storage().allowRecoveryModeFallback());
    assertEquals(List.of("127.0.0.1:6335", "127.0.0.1:6345"), env.cluster().members());
    assertEquals("environment", env.sources().get(env.sources().size() - 1));
  }

  @Test
  void grpcPortIs6334UnlessNullTurnsItOff() throws Exception {
    assertEquals(6334, load(null, Map.of()).service().grpcPort());
    Files.copy(Path.of("conf/config.yaml"), dir.resolve("config.yaml"));
    assertEquals(6334, load(null, Map.of()).service().grpcPort(), "the shipped conf/config.yaml");
    Files.writeString(dir.resolve("config.yaml"), "service:\n  grpc_port: null\n");
    assertNull(load(null, Map.of()).service().grpcPort(), "grpc_port: null in a file");
    Files.writeString(dir.resolve("config.yaml"), "service:\n  grpc_port: 7334\n");
    assertEquals(7334, load(null, Map.of()).service().grpcPort());
    assertNull(load(null, Map.of("QDRANT__SERVICE__GRPC_PORT", "null")).service().grpcPort());
    assertNull(load(null, Map.of("QDRANT__SERVICE__GRPC_PORT", "")).service().grpcPort());
    Throwable same = failure(null, Map.of("QDRANT__SERVICE__HTTP_PORT", "7334"));
    assertTrue(same.getMessage().contains("service.grpc_port"), same.getMessage());
  }

  @Test
  void envStringsStayStringsWhereAStringIsExpected() throws Exception {
    QuiverConfig c = load(null, Map.of("QDRANT__SERVICE__API_KEY", "12345"));
    assertEquals("12345", c.service().apiKey());
    assertNull(c.service().readOnlyApiKey());
  }

  @Test
  void invalidValueNamesKeyAndSource() throws Exception {
    Throwable env = failure(null, Map.of("QDRANT__SERVICE__HTTP_PORT", "abc"));
    assertInstanceOf(ConfigException.class, env);
    assertTrue(env.getMessage().contains("service.http_port"), env.getMessage());
    assertTrue(env.getMessage().contains("QDRANT__SERVICE__HTTP_PORT"), env.getMessage());

    Files.writeString(dir.resolve("config.yaml"), "log_level: LOUD\n");
    Throwable file = failure(null, Map.of());
    assertTrue(file.getMessage().contains("log_level"), file.getMessage());
    assertTrue(file.getMessage().contains("config.yaml"), file.getMessage());

    Throwable range = failure(null, Map.of("QDRANT__SERVICE__HTTP_PORT", "70000"));
    assertTrue(range.getMessage().contains("0 to 65535"), range.getMessage());
  }

  @Test
  void p2pTlsNeedsCertificateKeyAndCa() throws Exception {
    assertNull(load(null, Map.of()).cluster().p2pTls());
    Throwable missing = failure(null, Map.of("QDRANT__CLUSTER__P2P__ENABLE_TLS", "true"));
    assertTrue(missing.getMessage().contains("`tls.cert`") && missing.getMessage().contains("cluster.p2p.enable_tls"),
        missing.getMessage());
    Path pem = Files.writeString(dir.resolve("any.pem"), "not checked here");
    Throwable noCa = failure(null, Map.of("QDRANT__CLUSTER__P2P__ENABLE_TLS", "true", "QDRANT__TLS__CERT", pem.toString(),
        "QDRANT__TLS__KEY", pem.toString()));
    assertTrue(noCa.getMessage().contains("`tls.ca_cert`"), noCa.getMessage());
    var tls = load(null, Map.of("QDRANT__CLUSTER__P2P__ENABLE_TLS", "true", "QDRANT__TLS__CERT", pem.toString(),
        "QDRANT__TLS__KEY", pem.toString(), "QDRANT__TLS__CA_CERT", pem.toString())).cluster().p2pTls();
    assertEquals(pem, tls.caCert());
  }

  @Test
  void missingConfigPathIsAnError() throws Exception {
    Throwable t = failure(dir.resolve("nope.yaml").toString(), Map.of());
    assertTrue(t.getMessage().contains("--config-path"), t.getMessage());
  }

  @Test
  void brokenYamlIsAnError() throws Exception {
    Files.writeString(dir.resolve("config.yaml"), "service: [unclosed\n");
    Throwable t = failure(null, Map.of());
    assertTrue(t.getMessage().contains("config.yaml"), t.getMessage());
  }

  @Test
  void diskWatermarks() throws Exception {
    var defaults = load(null, Map.of()).storage().diskWatermarks();
    assertEquals(new QuiverConfig.DiskWatermarks(256, 512, 1000), defaults);
    Files.writeString(dir.resolve("config.yaml"), "storage:\n  disk_watermarks:\n    block_below_mb: 10\n    resume_above_mb: 20\n");
    var fromFile = load(null, Map.of()).storage().diskWatermarks();
    assertEquals(10L << 20, fromFile.blockBelowBytes());
    assertEquals(20L << 20, fromFile.resumeAboveBytes());
    Throwable e = failure(null, Map.of("QDRANT__STORAGE__DISK_WATERMARKS__RESUME_ABOVE_MB", "5"));
    assertInstanceOf(ConfigException.class, e);
    assertTrue(e.getMessage().contains("storage.disk_watermarks.resume_above_mb"), e.getMessage());
    assertTrue(e.getMessage().contains("environment variable"), e.getMessage());
  }

  @Test
  void shardTransferRateTakesDecimalsAndRefusesNegatives() throws Exception {
    assertEquals(0.0, load(null, Map.of()).storage().shardTransferMaxMbPerSec());
    Files.writeString(dir.resolve("config.yaml"), "storage:\n  performance:\n    shard_transfer_max_mb_per_sec: 40\n");
    assertEquals(40.0, load(null, Map.of()).storage().shardTransferMaxMbPerSec());
    assertEquals(0.5, load(null, Map.of("QDRANT__STORAGE__PERFORMANCE__SHARD_TRANSFER_MAX_MB_PER_SEC", "0.5")).storage()
        .shardTransferMaxMbPerSec());
    for (String bad : List.of("-1", "fast", "NaN")) {
      Throwable e = failure(null, Map.of("QDRANT__STORAGE__PERFORMANCE__SHARD_TRANSFER_MAX_MB_PER_SEC", bad));
      assertInstanceOf(ConfigException.class, e, bad);
      assertTrue(e.getMessage().contains("storage.performance.shard_transfer_max_mb_per_sec"), e.getMessage());
    }
  }
}
