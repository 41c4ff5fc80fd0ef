package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.Commands;
import io.quiver.testing.TestNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Qdrant's official JavaScript REST client ({@code @qdrant/js-client-rest} {@value #CLIENT_VERSION},
 * installed with npm into {@code target/official-client/}) drives a real node through
 * {@code src/test/js/official-client.mjs}: collections, payload indexes, points, every search and
 * query form, payload and vector updates, batches, aliases, snapshots, the write lock and bad input,
 * with and without an API key. Skipped when node or npm is missing; {@code .ci/run} installs them and
 * sets {@code QUIVER_REQUIRE_NODE} so that CI never skips it.
 */
@Timeout(600)
class OfficialClientIT {
  static final String CLIENT_VERSION = "1.18.0";
  static final String KEY = "official-client-secret";

  @TempDir Path dir;

  static Path home() {
    String jar = System.getProperty("quiver.jar");
    return (jar == null ? Path.of("target") : Path.of(jar).getParent()).resolve("official-client").toAbsolutePath();
  }

  @BeforeAll
  static void install() throws Exception {
    boolean required = System.getenv("QUIVER_REQUIRE_NODE") != null;
    boolean present = Commands.succeeds("node", "--version") && Commands.succeeds("npm", "--version");
    if (required) {
      assertTrue(present, "QUIVER_REQUIRE_NODE is set but node or npm does not run");
    }
    Assumptions.assumeTrue(present, "OfficialClientIT skipped: node and npm are not installed (Debian: apt-get install nodejs npm)");
    Path home = Files.createDirectories(home());
    Path installed = home.resolve("node_modules/@qdrant/js-client-rest/package.json");
    if (!Files.exists(installed) || !Files.readString(installed).contains("\"version\": \"" + CLIENT_VERSION + "\"")) {
      // exact version, no lock file: the client's own dependencies are few and pinned by it
      Process npm = new ProcessBuilder("npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error",
          "--prefix", home.toString(), "@qdrant/js-client-rest@" + CLIENT_VERSION)
          .redirectErrorStream(true).redirectOutput(home.resolve("npm-install.log").toFile()).start();
      assertTrue(npm.waitFor(5, TimeUnit.MINUTES), "npm install did not finish in 5 minutes");
      String npmLog = read(home.resolve("npm-install.log"));
      assertEquals(0, npm.exitValue(), () -> "npm install failed: " + npmLog);
    }
    Files.copy(Path.of("src/test/js/official-client.mjs"), home.resolve("official-client.mjs"), StandardCopyOption.REPLACE_EXISTING);
  }

  @ParameterizedTest(name = "api key set: {0}")
  @ValueSource(booleans = {false, true})
  void theOfficialClientWorksAgainstANode(boolean withKey) throws Exception {
    Map<String, String> env = withKey ? Map.of("QDRANT__SERVICE__API_KEY", KEY) : Map.of();
    try (TestNode node = TestNode.start(dir.resolve("storage"), env)) {
      Path log = home().resolve("run-" + (withKey ? "with-key" : "no-key") + ".log");
      var pb = new ProcessBuilder("node", "official-client.mjs", "http://127.0.0.1:" + node.port())
          .directory(home().toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().remove("QDRANT_API_KEY");
      if (withKey) {
        pb.environment().put("QDRANT_API_KEY", KEY);
      }
      Process p = pb.start();
      assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the client script did not finish in 5 minutes");
      String out = read(log);
      System.out.print(out);
      assertEquals(0, p.exitValue(), out);
      List<String> lines = out.lines().toList();
      int steps = withKey ? 24 : 23;
      assertEquals("official client: " + steps + " steps passed", lines.get(lines.size() - 1), out);
    }
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }
}
