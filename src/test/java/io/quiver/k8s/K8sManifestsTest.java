package io.quiver.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import io.quiver.testing.Commands;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes manifests: the ConfigMap carries {@code conf/config.yaml} unchanged, and {@code
 * kubectl apply --dry-run=client --validate=false -f k8s/} accepts every object. kubectl needs an
 * API server for discovery even for a client-side dry run, so this test serves a minimal one (the
 * discovery documents of the kinds used, 404 for every object) on 127.0.0.1. Skipped when kubectl
 * is not installed; {@code .ci/run} installs it and sets {@code QUIVER_REQUIRE_KUBECTL} so that CI
 * never skips it.
 */
@Timeout(120)
class K8sManifestsTest {
  static final Path K8S = Path.of("k8s");

  @TempDir Path dir;

  @Test
  void configMapCarriesTheConfigFile() throws Exception {
    String conf = Files.readString(Path.of("conf/config.yaml"));
    String map = Files.readString(K8S.resolve("configmap.yaml"));
    String embedded = map.substring(map.indexOf("  config.yaml: |\n") + "  config.yaml: |\n".length())
        .lines().map(l -> l.startsWith("    ") ? l.substring(4) : l).collect(Collectors.joining("\n", "", "\n"));
    assertEquals(conf, embedded, "k8s/configmap.yaml is stale: regenerate it from conf/config.yaml");
  }

  @Test
  void kubectlAcceptsTheManifests() throws Exception {
    if (System.getenv("QUIVER_REQUIRE_KUBECTL") != null) {
      assertTrue(kubectlPresent(), "QUIVER_REQUIRE_KUBECTL is set but kubectl does not run");
    }
    Assumptions.assumeTrue(kubectlPresent(), "kubectl not installed");
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer server = vertx.createHttpServer().requestHandler(req -> {
        JsonObject doc = DISCOVERY.get(req.path());
        var resp = req.response().putHeader("content-type", "application/json");
        if (doc != null) {
          resp.end(doc.encode());
        } else {
          resp.setStatusCode(404).end(new JsonObject().put("kind", "Status").put("apiVersion", "v1")
              .put("status", "Failure").put("reason", "NotFound").put("code", 404).put("message", "not found").encode());
        }
      }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      Path kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, """
          apiVersion: v1
          kind: Config
          clusters: [{name: offline, cluster: {server: "http://127.0.0.1:%d"}}]
          users: [{name: offline, user: {}}]
          contexts: [{name: offline, context: {cluster: offline, user: offline, namespace: default}}]
          current-context: offline
          """.formatted(server.actualPort()));
      var pb = new ProcessBuilder("kubectl", "apply", "--dry-run=client", "--validate=false", "-f", K8S.toString())
          .redirectErrorStream(true);
      pb.environment().put("KUBECONFIG", kubeconfig.toString());
      pb.environment().put("HOME", dir.toString()); // its discovery cache goes there
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), out);
      for (String object : List.of("configmap/quiver-config", "service/quiver-headless", "service/quiver",
          "statefulset.apps/quiver", "networkpolicy.networking.k8s.io/quiver-cluster-ports")) {
        assertTrue(out.contains(object + " created (dry run)"), object + " in:\n" + out);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static boolean kubectlPresent() {
    return Commands.succeeds("kubectl", "version", "--client");
  }

  static JsonObject resources(String groupVersion, String... nameKind) {
    var list = new JsonArray();
    for (int i = 0; i < nameKind.length; i += 2) {
      list.add(new JsonObject().put("name", nameKind[i]).put("singularName", nameKind[i + 1].toLowerCase())
          .put("namespaced", true).put("kind", nameKind[i + 1])
          .put("verbs", new JsonArray(List.of("create", "delete", "get", "list", "patch", "update", "watch"))));
    }
    return new JsonObject().put("kind", "APIResourceList").put("apiVersion", "v1").put("groupVersion", groupVersion).put("resources", list);
  }

  static JsonObject group(String name) {
    var version = new JsonObject().put("groupVersion", name + "/v1").put("version", "v1");
    return new JsonObject().put("name", name).put("versions", new JsonArray().add(version)).put("preferredVersion", version);
  }

  static final Map<String, JsonObject> DISCOVERY = Map.of(
      "/api", new JsonObject().put("kind", "APIVersions").put("versions", new JsonArray().add("v1"))
          .put("serverAddressByClientCIDRs", new JsonArray().add(new JsonObject().put("clientCIDR", "0.0.0.0/0").put("serverAddress", "127.0.0.1"))),
      "/apis", new JsonObject().put("kind", "APIGroupList").put("apiVersion", "v1")
          .put("groups", new JsonArray().add(group("apps")).add(group("networking.k8s.io"))),
      "/api/v1", resources("v1", "configmaps", "ConfigMap", "services", "Service"),
      "/apis/apps/v1", resources("apps/v1", "statefulsets", "StatefulSet"),
      "/apis/networking.k8s.io/v1", resources("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"));
}
