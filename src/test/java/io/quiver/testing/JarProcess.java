package io.quiver.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real server jar ({@code target/quiver.jar}) as a child process on 127.0.0.1 and a free port,
 * with its storage in a given folder. {@link #kill()} is SIGKILL; {@link #close()} stops it.
 */
public final class JarProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Process process;
  public final int port;
  public final Path log;

  private JarProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  public static Path jar() {
    Path jar = Path.of(System.getProperty("quiver.jar", "target/quiver.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("no server jar at " + jar + ": run the tests through `mvn verify`");
    }
    return jar;
  }

  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A free loopback port below the kernel's ephemeral range, never the same twice in this JVM: a
   * node binds its ports some time after they were picked, and meanwhile another node's free-port
   * binds (event bus, Raft) take theirs from the ephemeral range, so the two never collide.
   */
  public static int freePort() throws IOException {
    var random = java.util.concurrent.ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 20_000 + random.nextInt(12_000);
      if (!HANDED_OUT.add(port)) {
        continue;
      }
      try (var s = new ServerSocket(port, 0, java.net.InetAddress.getLoopbackAddress())) {
        return s.getLocalPort();
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free port below the ephemeral range");
  }

  /** The environment of node {@code index} of a cluster on 127.0.0.1 whose members are the p2p ports {@code p2p} (mutable). */
  public static Map<String, String> clusterEnv(int index, int[] p2p) {
    List<String> members = new ArrayList<>();
    for (int p : p2p) {
      members.add("127.0.0.1:" + p);
    }
    Map<String, String> env = new java.util.HashMap<>();
    env.put("QDRANT__CLUSTER__ENABLED", "true");
    env.put("QDRANT__CLUSTER__P2P__HOST", "127.0.0.1");
    env.put("QDRANT__CLUSTER__P2P__PORT", Integer.toString(p2p[index]));
    env.put("QDRANT__CLUSTER__MEMBERS", String.join(",", members));
    return env;
  }

  public static JarProcess start(Path storage, Map<String, String> env, String... jvmArgs) throws Exception {
    int port = freePort();
    Path work = Files.createDirectories(storage.resolveSibling(storage.getFileName() + "-work"));
    Path log = work.resolve("server-" + System.nanoTime() + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
    cmd.addAll(List.of(jvmArgs));
    cmd.addAll(List.of("-jar", jar().toAbsolutePath().toString()));
    var pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("QDRANT"));
    pb.environment().put("QDRANT__SERVICE__HOST", "127.0.0.1");
    pb.environment().put("QDRANT__SERVICE__HTTP_PORT", Integer.toString(port));
    pb.environment().put("QDRANT__SERVICE__GRPC_PORT", "0"); // nodes of one machine never fight over 6334
    pb.environment().put("QDRANT__STORAGE__STORAGE_PATH", storage.toAbsolutePath().toString());
    pb.environment().putAll(env);
    var jp = new JarProcess(pb.start(), port, log);
    // generous: a cluster node first waits for Hazelcast's join on a busy machine
    jp.awaitReady(Duration.ofSeconds(120));
    return jp;
  }

  private void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("server exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (send("GET", "/readyz", null).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    kill();
    throw new IllegalStateException("server not ready in time:\n" + Files.readString(log));
  }

  public HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
    var req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(60))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook runs. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits for the exit code. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      kill();
      return -1;
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
