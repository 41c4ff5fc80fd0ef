package io.quiver.examples;

import io.quiver.config.QuiverConfig;
import io.quiver.bus.Addresses;
import io.quiver.cluster.ClusterSetup;
import io.quiver.cluster.Peer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A plain Vert.x application that joins a Quiver cluster and talks to every node over the public
 * event-bus API (no HTTP): lists the nodes, asks each for write permission, lists its collections
 * and, when given a collection and a vector, searches it on every node that has it.
 *
 * <pre>
 * java -cp target/quiver.jar:target/test-classes io.quiver.examples.BusClientExample \
 *     127.0.0.1:6335,127.0.0.1:6345 6400 [collection '[0.1, 0.2, 0.3]']
 * </pre>
 *
 * The first argument lists the nodes' p2p addresses, the second is this client's own Hazelcast port
 * on 127.0.0.1 (its event bus uses the next one). {@code ClusterIT} runs the same methods.
 */
public final class BusClientExample {
  private final Vertx vertx;
  private final ClusterManager clusterManager;

  private BusClientExample(Vertx vertx, ClusterManager clusterManager) {
    this.vertx = vertx;
    this.clusterManager = clusterManager;
  }

  /** Joins the cluster as a member that deploys nothing of Quiver. */
  public static Future<BusClientExample> join(String host, int p2pPort, List<String> members) {
    return join(host, p2pPort, members, null);
  }

  /**
   * Joins a cluster whose nodes run with {@code cluster.p2p.enable_tls}: {@code tls} holds this
   * client's certificate and key and the cluster's CA (null for a cluster without TLS).
   */
  public static Future<BusClientExample> join(String host, int p2pPort, List<String> members, QuiverConfig.P2pTls tls) {
    var cluster = new QuiverConfig.Cluster(true, host, p2pPort, members, null, tls);
    return ClusterSetup.start(cluster, new VertxOptions())
        .map(c -> new BusClientExample(c.vertx(), c.clusterManager()));
  }

  /** The Quiver nodes: entries of the public {@code quiver.peers} map whose process is a live member. */
  public Future<List<Peer>> nodes() {
    Set<String> live = new HashSet<>(clusterManager.getNodes());
    return vertx.sharedData().<String, JsonObject>getAsyncMap(Addresses.PEERS_MAP)
        .compose(map -> map.entries())
        .map(entries -> {
          List<Peer> out = new ArrayList<>();
          entries.values().forEach(v -> {
            Peer p = Peer.fromJson(v);
            if (p != null && live.contains(p.nodeId())) {
              out.add(p);
            }
          });
          return out;
        });
  }

  /**
   * Asks a node whether it accepts writes now: {@code {"allowed": true, "permit": n}} or {@code
   * {"allowed": false, "error_message": "Storage locked: ..."}}. A granted permit is handed back at
   * once, since this client writes nothing with it.
   */
  public Future<JsonObject> writePermission(long peerId) {
    return writePermission(peerId, new io.vertx.core.eventbus.DeliveryOptions().getSendTimeout());
  }

  /** As {@link #writePermission(long)}, failing after {@code timeoutMs} without an answer. */
  public Future<JsonObject> writePermission(long peerId, long timeoutMs) {
    var node = new Addresses(Long.toString(peerId));
    var options = new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeoutMs);
    return vertx.eventBus().<JsonObject>request(node.lockPermission(), new JsonObject(), options).map(m -> {
      JsonObject answer = m.body();
      if (answer.getBoolean("allowed", false)) {
        vertx.eventBus().send(node.lockRelease(), new JsonObject().put("permit", answer.getLong("permit")));
      }
      return answer;
    });
  }

  /** Sets a node's write lock; the answer is its previous state. */
  public Future<JsonObject> setLock(long peerId, boolean write, String message) {
    var node = new Addresses(Long.toString(peerId));
    return vertx.eventBus().<JsonObject>request(node.lockSet(), new JsonObject().put("write", write).put("error_message", message))
        .map(m -> m.body());
  }

  /**
   * One storage operation on a node: {@code op} is a REST operation's name ({@code list_collections},
   * {@code upsert_points}, {@code search_points}, ...); the answer is the REST {@code result}.
   */
  public Future<Object> storage(long peerId, String op, String collection, JsonObject body) {
    var node = new Addresses(Long.toString(peerId));
    var message = new JsonObject().put("op", op).put("collection", collection).put("body", body);
    return vertx.eventBus().<JsonObject>request(node.storageJson(), message).map(m -> m.body().getValue("result"));
  }

  public Future<Void> close() {
    return vertx.close();
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: BusClientExample MEMBERS OWN_P2P_PORT [COLLECTION VECTOR_JSON]");
      System.exit(2);
    }
    List<String> members = Arrays.asList(args[0].split(","));
    var client = join("127.0.0.1", Integer.parseInt(args[1]), members).toCompletionStage().toCompletableFuture()
        .get(120, TimeUnit.SECONDS);
    try {
      for (Peer node : get(client.nodes())) {
        System.out.println("node " + node.peerId() + " at " + node.uri());
        System.out.println("  write permission: " + get(client.writePermission(node.peerId())).encode());
        System.out.println("  collections: " + get(client.storage(node.peerId(), "list_collections", null, null)));
        if (args.length >= 4) {
          var search = new JsonObject().put("vector", new JsonArray(args[3])).put("limit", 3).put("with_payload", true);
          Future<Object> hits = client.storage(node.peerId(), "search_points", args[2], search)
              .recover(err -> Future.succeededFuture("failed: " + err.getMessage()));
          System.out.println("  search " + args[2] + ": " + get(hits));
        }
      }
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
