package io.quiver.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.quiver.json.Json;
import io.quiver.testing.Browser;
import io.quiver.testing.GrpcCalls;
import io.quiver.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dashboard in headless Chromium against a real node: a collection created through the API shows
 * on the page, the write lock is set and released from the page (and an upsert is refused between),
 * with and without an API key; in recovery mode the banner shows and a collection is deleted after
 * confirmation; the metrics view counts REST and gRPC calls and renders canned replication metrics; the
 * cluster and collection views show a collection's shards by node, and the cluster view renders a
 * canned answer of three peers with replicated shards (states, primaries, a running transfer).
 * Screenshots are kept in {@code target/dashboard-artifacts/}. Skipped when chromium or chromedriver
 * is missing; {@code .ci/run} installs them and sets {@code QUIVER_REQUIRE_BROWSER} so that CI never
 * skips it.
 */
@Timeout(300)
class DashboardIT {
  static final Path ARTIFACTS = artifacts();
  static final String KEY = "dashboard-secret";
  static final String UPSERT = "{\"points\": [{\"id\": 10, \"vector\": [0.5, 0.5, 0, 0], \"payload\": {\"city\": \"Lyon\"}}]}";

  @TempDir Path dir;

  @BeforeAll
  static void browserInstalled() {
    if (System.getenv("QUIVER_REQUIRE_BROWSER") != null) {
      assertTrue(Browser.installation().isPresent(), "QUIVER_REQUIRE_BROWSER is set but chromium or chromedriver is missing");
    }
    Assumptions.assumeTrue(Browser.installation().isPresent(),
        "DashboardIT skipped: chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)");
  }

  static Path artifacts() {
    String jar = System.getProperty("quiver.jar");
    return (jar == null ? Path.of("target") : Path.of(jar).getParent()).resolve("dashboard-artifacts");
  }

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  @ParameterizedTest(name = "api key set: {0}")
  @ValueSource(booleans = {false, true})
  void lockAndUnlockWritesFromThePage(boolean withKey) throws Exception {
    Map<String, String> env = withKey ? Map.of("QDRANT__SERVICE__API_KEY", KEY) : Map.of();
    Map<String, String> auth = withKey ? Map.of("api-key", KEY) : Map.of();
    String name = withKey ? "with-key" : "no-key";
    try (TestNode node = TestNode.start(dir.resolve("storage"), env);
        Browser browser = Browser.start(ARTIFACTS.resolve("chromedriver-" + name + ".log"))) {
      ok(node.send("PUT", "/collections/cities", "{\"vectors\": {\"size\": 4, \"distance\": \"Cosine\"}}", auth));
      ok(node.send("PUT", "/collections/cities/points?wait=true", """
          {"points": [
            {"id": 1, "vector": [1, 0, 0, 0], "payload": {"city": "Berlin"}},
            {"id": 2, "vector": [0.9, 0.1, 0, 0], "payload": {"city": "Paris"}},
            {"id": 3, "vector": [0, 1, 0, 0], "payload": {"city": "Rome"}}
          ]}""", auth));
      ok(node.send("PUT", "/collections/cities/index?wait=true", "{\"field_name\": \"city\", \"field_schema\": \"keyword\"}", auth));
      try {
        browser.open("http://127.0.0.1:" + node.port() + "/dashboard");
        if (withKey) {
          // the page is public; its first API call answers 401 and the page asks for the key
          browser.find("[data-test=key-dialog]");
          browser.type("[data-test=api-key-input]", KEY);
          browser.click("[data-test=key-dialog] [data-test=confirm-button]");
        }

        String row = "[data-test=collection-row][data-name=cities]";
        browser.find(row);
        assertEquals("3", browser.textOf(row + " [data-test=points-count]"));
        assertTrue(browser.textOf(row).contains("city: keyword"), browser.textOf(row));

        browser.click(row + " [data-test=collection-link]");
        browser.waitUntil("three points in the browser", () -> browser.all("[data-test=point-row]").size() == 3);
        browser.type("[data-test=scroll-filter]", "{\"must\": [{\"key\": \"city\", \"match\": {\"value\": \"Rome\"}}]}");
        browser.click("[data-test=scroll-button]");
        browser.waitUntil("the filtered page", () -> browser.all("[data-test=point-row]").size() == 1
            && browser.textOf("[data-test=point-row]").contains("Rome"));
        browser.type("[data-test=search-id]", "1");
        browser.click("[data-test=search-button]");
        browser.waitUntil("neighbours of point 1", () -> !browser.all("[data-test=search-row]").isEmpty());
        assertTrue(browser.textOf("[data-test=search-row]").startsWith("2"), "Paris is nearest to Berlin");

        browser.click("[data-test=nav-lock]");
        browser.click("[data-test=lock-toggle]");
        browser.find("[data-test=lock-dialog]");
        browser.type("[data-test=lock-message-input]", "backup from the dashboard");
        assertFalse(browser.enabled(browser.find("[data-test=lock-dialog] [data-test=confirm-button]")),
            "locking waits for the confirmation");
        browser.click("[data-test=confirm-check]");
        browser.click("[data-test=lock-dialog] [data-test=confirm-button]");
        browser.waitUntil("the page to show the lock",
            () -> "true".equals(browser.attribute(browser.find("[data-test=lock-state]"), "data-locked")));

        var refused = node.send("PUT", "/collections/cities/points?wait=true", UPSERT, auth);
        assertEquals(403, refused.status(), refused.body());
        assertEquals("Storage locked: backup from the dashboard", refused.error());
        browser.waitUntil("the change in the history", () -> browser.textOf("[data-test=history-table]").contains("backup from the dashboard"));
        assertTrue(browser.textOf("[data-test=history-row]").contains(withKey ? "read-write key" : "no keys configured"));
        browser.waitUntil("the refused write counted on the page", () -> browser.textOf("[data-test=rejected-writes]").equals("1"));
        browser.waitUntil("the top bar to show the lock",
            () -> "true".equals(browser.attribute(browser.find("[data-test=lock-pill]"), "data-locked")));
        browser.screenshot(ARTIFACTS.resolve("dashboard-locked-" + name + ".png"));

        browser.click("[data-test=lock-toggle]");
        browser.click("[data-test=confirm-check]");
        browser.click("[data-test=unlock-dialog] [data-test=confirm-button]");
        browser.waitUntil("the page to show writes open",
            () -> "false".equals(browser.attribute(browser.find("[data-test=lock-state]"), "data-locked")));
        ok(node.send("PUT", "/collections/cities/points?wait=true", UPSERT, auth));
        assertEquals(4, node.send("GET", "/collections/cities", null, auth).result().get("points_count").asInt());

        browser.click("[data-test=nav-collections]");
        browser.waitUntil("the new count", () -> browser.textOf(row + " [data-test=points-count]").equals("4"));
        browser.screenshot(ARTIFACTS.resolve("dashboard-collections-" + name + ".png"));
      } catch (Throwable e) {
        keepFailure(browser, "lock-" + name);
        throw e;
      }
    }
  }

  @Test
  void recoveryModeShowsTheBannerAndDeletesAfterConfirmation() throws Exception {
    Path storage = dir.resolve("storage");
    try (TestNode node = TestNode.start(storage)) {
      for (String c : new String[] {"a", "b"}) {
        ok(node.send("PUT", "/collections/" + c, "{\"vectors\": {\"size\": 3, \"distance\": \"Dot\"}}"));
        ok(node.send("PUT", "/collections/" + c + "/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 2, 3]}]}"));
      }
    }
    Map<String, String> env = new HashMap<>();
    env.put("QDRANT__STORAGE__RECOVERY_MODE", "collection b ran out of memory");
    try (TestNode node = TestNode.start(storage, env);
        Browser browser = Browser.start(ARTIFACTS.resolve("chromedriver-recovery.log"))) {
      try {
        browser.open("http://127.0.0.1:" + node.port() + "/dashboard/");
        browser.waitUntil("the recovery banner", () -> browser.textOf("[data-test=recovery-message]").equals("collection b ran out of memory"));
        String rowB = "[data-test=collection-row][data-name=b]";
        browser.waitUntil("a size on disk", () -> browser.textOf(rowB + " [data-test=size-on-disk]").matches("[0-9.]+ (B|KiB|MiB)"));
        browser.click(rowB + " [data-test=delete-collection]");
        browser.find("[data-test=delete-dialog]");
        browser.type("[data-test=delete-name]", "b");
        browser.click("[data-test=confirm-check]");
        browser.screenshot(ARTIFACTS.resolve("dashboard-recovery-delete.png"));
        browser.click("[data-test=delete-dialog] [data-test=confirm-button]");
        browser.waitUntil("b gone from the page", () -> browser.all(rowB).isEmpty());
        assertEquals(1, browser.all("[data-test=collection-row]").size());
        assertEquals(1, node.get("/collections").result().get("collections").size());
        assertEquals(404, node.get("/collections/b").status());
        assertTrue(Files.notExists(storage.resolve("collections").resolve("b")));
      } catch (Throwable e) {
        keepFailure(browser, "recovery");
        throw e;
      }
    }
  }

  @Test
  void theMetricsViewCountsRestAndGrpcCalls() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"));
        Browser browser = Browser.start(ARTIFACTS.resolve("chromedriver-metrics.log"))) {
      ok(node.send("PUT", "/collections/m", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
      ManagedChannel channel = GrpcCalls.channel(node);
      try {
        var collections = CollectionsGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++) {
          collections.list(ListCollectionsRequest.getDefaultInstance());
        }
        // an invalid name: a failed call
        assertThrows(StatusRuntimeException.class, () -> collections.collectionExists(CollectionExistsRequest.newBuilder()
            .setCollectionName("a/b").build()));
        browser.open("http://127.0.0.1:" + node.port() + "/dashboard/#metrics");
        browser.waitUntil("the gRPC calls in the endpoint table",
            () -> browser.textOf("[data-test=endpoint-table]").contains("gRPC /qdrant.Collections/CollectionExists"));
        String table = browser.textOf("[data-test=endpoint-table]");
        assertTrue(Pattern.compile("gRPC /qdrant\\.Collections/List\\s+3\\s+0\\b").matcher(table).find(), table);
        assertTrue(Pattern.compile("gRPC /qdrant\\.Collections/CollectionExists\\s+1\\s+1\\b").matcher(table).find(), table);
        assertTrue(table.contains("PUT /collections/{collection_name}"), table);
        // the rate chart takes gRPC calls made while the page samples
        for (int i = 0; i < 20; i++) {
          collections.list(ListCollectionsRequest.getDefaultInstance());
        }
        browser.waitUntil("the new gRPC calls counted",
            () -> Pattern.compile("gRPC /qdrant\\.Collections/List\\s+23\\s").matcher(browser.textOf("[data-test=endpoint-table]")).find());
        assertTrue(browser.all("[data-test=replication-metrics]").isEmpty(), "a single node has no replication metrics");
        browser.screenshot(ARTIFACTS.resolve("dashboard-metrics.png"));

        // the replication card, a pure function of a cluster node's /metrics
        Object canned = browser.script("""
            const [url, text] = arguments;
            return import(url).then((m) => {
              if (m.summarize('collections_total 1\\n').replication !== null) return false;
              const box = document.createElement('div');
              box.dataset.test = 'canned-metrics';
              box.append(m.replicationCard(m.summarize(text).replication));
              document.body.append(box);
              return true;
            });""", "http://127.0.0.1:" + node.port() + "/dashboard/views/metrics.js", REPLICATION_METRICS);
        assertEquals(true, canned);
        String card = "[data-test=canned-metrics] ";
        assertEquals("5 Active · 1 Dead · 1 Partial", browser.textOf(card + "[data-test=metric-cluster-replicas] .stat-value"));
        assertEquals("1 Active · 1 Partial", browser.textOf(card + "[data-test=metric-local-replicas] .stat-value"));
        assertEquals("1", browser.textOf(card + "[data-test=metric-transfers] .stat-value"));
        assertEquals("3 / 1", browser.textOf(card + "[data-test=metric-transfer-results] .stat-value"));
        assertEquals("2", browser.textOf(card + "[data-test=metric-marked-dead] .stat-value"));
      } catch (Throwable e) {
        keepFailure(browser, "metrics");
        throw e;
      } finally {
        GrpcCalls.close(channel);
      }
    }
  }

  @Test
  void theClusterAndCollectionViewsShowShardsByNode() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"));
        Browser browser = Browser.start(ARTIFACTS.resolve("chromedriver-shards.log"))) {
      ok(node.send("PUT", "/collections/sharded", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 3}"));
      StringBuilder points = new StringBuilder();
      for (int i = 1; i <= 30; i++) {
        points.append(i == 1 ? "" : ", ").append("{\"id\": ").append(i).append(", \"vector\": [1, ").append(i).append("]}");
      }
      ok(node.send("PUT", "/collections/sharded/points?wait=true", "{\"points\": [" + points + "]}"));
      String base = "http://127.0.0.1:" + node.port() + "/dashboard/";
      try {
        browser.open(base + "#cluster");
        browser.find("[data-test=single-node]");
        String shards = "[data-test=collection-shards][data-name=sharded] [data-test=shard-row]";
        browser.waitUntil("three shards of one collection", () -> browser.all(shards).size() == 3);
        assertEquals(3, browser.all(shards + "[data-local=true]").size(), "one node holds every shard");
        assertEquals(30, pointsShown(browser, shards));

        browser.click("[data-test=collection-shards][data-name=sharded] a");
        String own = "[data-test=collection-shards] [data-test=shard-row]";
        browser.waitUntil("the collection's shards", () -> browser.all(own).size() == 3);
        assertEquals(30, pointsShown(browser, own));
        assertEquals("this node", browser.textOf(own + " td:nth-child(2)"), "a single node names no rounded peer id");
        browser.screenshot(ARTIFACTS.resolve("dashboard-collection-shards.png"));

        // the cluster view is a pure function of the API's answers: a canned three-node answer
        browser.open(base + "#cluster");
        browser.find("[data-test=single-node]");
        Object rendered = browser.script("""
            const [url, answers] = arguments;
            return import(url).then((m) => {
              m.leave(); // the view stops following this node's answers
              const box = document.createElement('div');
              box.dataset.test = 'canned';
              box.append(...m.render(answers));
              document.getElementById('view').replaceChildren(box);
              return true;
            });""", base + "views/cluster.js", Json.MAPPER.readTree(THREE_NODES));
        assertEquals(true, rendered);
        String a = "5318008123456789012";
        String b = "7340032123456789013";
        String c = "9007199254740993"; // 2^53 + 1: a JSON number rounds it, its key in `peers` does not
        assertEquals(b, browser.textOf("[data-test=canned] [data-test=raft-leader] .stat-value"));
        assertEquals("7", browser.textOf("[data-test=raft-term] .stat-value"));
        assertTrue(browser.textOf("[data-test=raft-role]").contains("Follower"), browser.textOf("[data-test=raft-role]"));
        assertEquals(3, browser.all("[data-test=canned] [data-test=peer-row]").size());
        String rowA = browser.textOf("[data-test=peer-row][data-peer='" + a + "']");
        assertTrue(rowA.contains("(this node)") && rowA.contains("http://node-a:6335/") && rowA.contains("http://node-a:6333"), rowA);
        String rowB = browser.textOf("[data-test=peer-row][data-peer='" + b + "']");
        assertEquals("true", browser.attribute(browser.find("[data-test=peer-row][data-peer='" + b + "']"), "data-leader"));
        assertTrue(rowB.contains("Leader") && rowB.contains("locked: backup"), rowB);
        assertEquals("false", browser.attribute(browser.find("[data-test=peer-row][data-peer='" + c + "']"), "data-live"));
        String canned = "[data-test=collection-shards][data-name=docs] [data-test=shard-row]";
        assertEquals(7, browser.all(canned).size(), "every replica of the three shards");
        assertEquals("5", browser.textOf(canned + "[data-shard='0'][data-local=true] [data-test=shard-points]"));
        String shard1 = browser.textOf(canned + "[data-shard='1'][data-peer='" + b + "']");
        assertTrue(shard1.contains("Active") && !shard1.contains("down"), shard1);
        assertTrue(browser.textOf(canned + "[data-shard='2'][data-peer='" + c + "']").contains("peer down"));
        // the primary is the Active replica on the highest peer id, compared as numbers: c's id sorts
        // above b's as text but is smaller
        assertEquals(b, browser.attribute(browser.find(canned + "[data-shard='0'][data-primary=true]"), "data-peer"));
        assertEquals(b, browser.attribute(browser.find(canned + "[data-shard='1'][data-primary=true]"), "data-peer"));
        assertEquals(c, browser.attribute(browser.find(canned + "[data-shard='2'][data-primary=true]"), "data-peer"));
        assertEquals(1, browser.all(canned + "[data-shard='1'][data-primary=true]").size());
        assertEquals("primary", browser.textOf(canned + "[data-shard='1'][data-peer='" + b + "'] [data-test=shard-role]"));
        assertEquals("replica", browser.textOf(canned + "[data-shard='1'][data-peer='" + c + "'] [data-test=shard-role]"));
        String dead = canned + "[data-shard='0'][data-peer='" + c + "'] .badge";
        assertEquals("Dead", browser.textOf(dead));
        assertTrue(browser.attribute(browser.find(dead), "class").contains("bad"));
        String partial = canned + "[data-shard='2'][data-local=true] .badge";
        assertEquals("Partial", browser.textOf(partial));
        assertTrue(browser.attribute(browser.find(partial), "class").contains("warn"));
        String docs = "[data-test=collection-shards][data-name=docs] ";
        String summary = browser.textOf(docs + "[data-test=replica-summary]");
        assertTrue(summary.startsWith("5 Active") && summary.contains("1 Dead") && summary.contains("1 Partial")
            && summary.endsWith("1 transfer running"), summary);
        String transfer = docs + "[data-test=transfer-row]";
        assertEquals(1, browser.all(transfer).size());
        assertEquals(c, browser.attribute(browser.find(transfer), "data-from"));
        assertEquals(a, browser.attribute(browser.find(transfer), "data-to"));
        String transferText = browser.textOf(transfer);
        assertTrue(transferText.contains(c + " → " + a + " (this node)") && transferText.contains("move")
            && transferText.contains("stream_records"), transferText);
        assertEquals("Transferring records (1200/5000), started 3s ago", browser.textOf(transfer + " [data-test=transfer-progress]"));
        assertTrue(browser.textOf("[data-test=collection-shards][data-name=broken]").contains("shards not answered"));
        browser.screenshot(ARTIFACTS.resolve("dashboard-cluster-canned.png"));
      } catch (Throwable e) {
        keepFailure(browser, "shards");
        throw e;
      }
    }
  }

  static int pointsShown(Browser browser, String rows) {
    return browser.all(rows + " [data-test=shard-points]").stream().mapToInt(e -> Integer.parseInt(browser.text(e))).sum();
  }

  /** The answers the cluster view is given on the first of three peers, the third one down. */
  static final String THREE_NODES = """
      {"status": {"status": "enabled", "peer_id": 5318008123456789012,
         "peers": {"5318008123456789012": {"uri": "http://node-a:6335/"}, "7340032123456789013": {"uri": "http://node-b:6335/"},
                   "9007199254740993": {"uri": "http://node-c:6335/"}},
         "raft_info": {"term": 7, "commit": 42, "pending_operations": 1, "leader": 7340032123456789013, "role": "Follower",
                       "is_voter": true},
         "consensus_thread_status": {"consensus_thread_status": "working", "last_update": "2025-01-01T00:00:00Z"},
         "message_send_failures": {}},
       "locks": {"scope": "cluster",
         "peers": {"5318008123456789012": {"uri": "http://node-a:6333", "write": false, "error_message": null},
                   "7340032123456789013": {"uri": "http://node-b:6333", "write": true, "error_message": "backup"}},
         "not_answered": {}},
       "collections": [
         {"name": "docs", "info": {"peer_id": 5318008123456789012, "shard_count": 3,
           "local_shards": [{"shard_id": 0, "points_count": 5, "state": "Active"},
                            {"shard_id": 2, "points_count": 2, "state": "Partial"}],
           "remote_shards": [{"shard_id": 0, "peer_id": 7340032123456789013, "state": "Active"},
                             {"shard_id": 0, "peer_id": 9007199254740993, "state": "Dead"},
                             {"shard_id": 1, "peer_id": 7340032123456789013, "state": "Active"},
                             {"shard_id": 1, "peer_id": 9007199254740993, "state": "Active"},
                             {"shard_id": 2, "peer_id": 9007199254740993, "state": "Active"}],
           "shard_transfers": [{"shard_id": 2, "from": 9007199254740993, "to": 5318008123456789012, "sync": false,
                                "method": "stream_records", "comment": "Transferring records (1200/5000), started 3s ago"}]}},
         {"name": "broken", "error": {"message": "shards not answered"}}],
       "remote": {"7340032123456789013": {"role": "Leader", "mode": "normal"}},
       "node": {"peerId": 5318008123456789012, "recovery": false, "lock": {"write": false}}}
      """;

  /** A cluster node's replication metrics. */
  static final String REPLICATION_METRICS = """
      # TYPE quiver_cluster_replicas gauge
      quiver_cluster_replicas{state="Active"} 5
      quiver_cluster_replicas{state="Dead"} 1
      quiver_cluster_replicas{state="Listener"} 0
      quiver_cluster_replicas{state="Partial"} 1
      quiver_local_replicas{state="Active"} 1
      quiver_local_replicas{state="Dead"} 0
      quiver_local_replicas{state="Partial"} 1
      quiver_shard_transfers 1
      quiver_replicas_marked_dead_total 2
      quiver_shard_transfers_total{result="done"} 3
      quiver_shard_transfers_total{result="failed"} 1
      quiver_transfer_points_received_total 1200
      quiver_frames_forwarded_total 40
      """;

  /** What the page looked like when a step failed, to read in CI's artifacts. */
  static void keepFailure(Browser browser, String name) {
    try {
      browser.screenshot(ARTIFACTS.resolve("failure-" + name + ".png"));
      Files.writeString(ARTIFACTS.resolve("failure-" + name + ".html"), browser.pageSource());
    } catch (Exception | AssertionError ignored) {
      // the original failure matters more
    }
  }
}
