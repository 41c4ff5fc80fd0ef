package io.quiver.cluster;

import io.quiver.bus.Addresses;
import io.quiver.cluster.meta.ClusterMeta;
import io.quiver.cluster.meta.LocalSync;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.MetaState;
import io.quiver.cluster.meta.PeerMeta;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.cluster.raft.RaftNode;
import io.quiver.cluster.shard.Recoveries;
import io.quiver.cluster.shard.Replica;
import io.quiver.cluster.shard.ReplicatedShard;
import io.quiver.cluster.shard.Replication;
import io.quiver.cluster.shard.ShardServer;
import io.quiver.config.QuiverConfig;
import io.quiver.storage.EngineStorageService;
import io.quiver.storage.collection.Collection;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a node's part in the cluster's metadata consensus, then hands out the cluster-mode storage
 * service. Blocking: runs on the storage verticle's worker thread while the node is not yet ready.
 *
 * <p>How a node finds its place, as Qdrant's peers do:
 * <ol>
 *   <li>Raft state on disk: the node resumes its membership (wherever its address is now).
 *   <li>Else, with {@code --bootstrap}: it joins the group through the peers that answer on the
 *       event bus.
 *   <li>Else it forms a new group of one when it is the first of the configured members (or, with
 *       Kubernetes DNS and no member list, the oldest member of the Hazelcast cluster) and no group
 *       answers; otherwise it joins the group once one answers.
 * </ol>
 * A new group takes in the collections already in the node's storage; a node joining an existing
 * group must have none (it would otherwise lose them: the group's metadata wins), and refuses to
 * start rather than delete them.
 */
public final class ClusterBoot {
  private static final Logger log = LoggerFactory.getLogger(ClusterBoot.class);
  /** Where the Raft state lives under the storage directory. */
  public static final String RAFT_DIR = "raft";
  /** The p2p addresses of the peers this node knew, one {@code host:port} per line, for Hazelcast's next join. */
  public static final String KNOWN_PEERS = "known_peers";
  private static final Duration JOIN_WAIT = Duration.ofMinutes(5);

  private ClusterBoot() {}

  /** Reads the p2p addresses remembered by a previous run (empty when there are none). */
  public static List<String> knownPeers(Path storage) {
    Path file = storage.resolve(RAFT_DIR).resolve(KNOWN_PEERS);
    try {
      return Files.isRegularFile(file) ? Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList()
          : List.of();
    } catch (IOException e) {
      log.warn("Could not read {}: {}", file, e.toString());
      return List.of();
    }
  }

  /**
   * Opens the local engine, starts or joins consensus and returns the cluster storage service.
   *
   * @param started hears of the consensus once it runs (for {@code GET /cluster})
   */
  public static ClusterStorageService open(Vertx vertx, ClusterManager manager, QuiverConfig config, long peerId,
      Consumer<Consensus> started) throws Exception {
    ClusterMeta meta = new ClusterMeta();
    Replication replication = new Replication(vertx, peerId, meta).transferMethod(config.storage().shardTransferMethod())
        .outgoingLimit(config.storage().outgoingShardTransfersLimit()).transferRate(config.storage().shardTransferMaxMbPerSec());
    EngineStorageService engine = EngineStorageService.open(config, io.quiver.engine.StorageIo.REAL,
        new EngineStorageService.RemoteShards() {
          @Override
          public io.quiver.storage.collection.ShardEndpoint endpoint(String collection, int id) {
            return new ReplicatedShard(replication, collection, id, null);
          }

          @Override
          public io.quiver.storage.collection.ShardEndpoint local(Collection collection, int id, io.quiver.engine.Shard shard,
              io.quiver.storage.collection.ShardEndpoint local) {
            return new ReplicatedShard(replication, collection.name, id,
                new Replica(replication, collection.name, id, (io.quiver.storage.query.LocalShard) local));
          }
        });
    try {
      return open(vertx, manager, config, peerId, meta, replication, engine, started);
    } catch (Exception | Error e) {
      engine.close();
      throw e;
    }
  }

  private static ClusterStorageService open(Vertx vertx, ClusterManager manager, QuiverConfig config, long peerId,
      ClusterMeta meta, Replication replication, EngineStorageService engine, Consumer<Consensus> started) throws Exception {
    var cluster = config.cluster();
    Path storage = config.storage().storagePath();
    Path dir = storage.resolve(RAFT_DIR);
    boolean resumed = RaftNode.hasState(dir);
    String host = advertisedHost(cluster, manager);
    var options = RaftNode.Options.of(peerId, host, cluster.raftPort(), dir);

    LocalSync sync = new LocalSync(engine, peerId);
    meta.listen(sync);
    meta.listen(new KnownPeers(dir));
    var machine = RaftConsensus.machine(meta);

    List<String> local = engine.catalogue().names();
    boolean formed = !resumed;
    RaftNode raft = startRaft(vertx, manager, cluster, options, machine, local);
    formed &= raft.info().peers().size() == 1 && meta.state().peers().isEmpty();
    var consensus = new RaftConsensus(raft, meta);
    try {
      announce(consensus, meta, new PeerMeta(peerId, p2pUri(cluster, host), null, raft.address()));
      if (formed) {
        adopt(consensus, engine, peerId);
      }
      // the local storage follows the state the log's replay ends in, not each step of the replay
      awaitReplay(raft, meta);
      sync.live();
      sync.reconcile(meta.state());
      MessageConsumer<JsonObject> members = answerJoins(vertx, consensus);
      MessageConsumer<JsonObject> applied = answerApplied(vertx, peerId, meta);
      replication.started(consensus);
      long membersWatch = watchMembers(vertx, manager, replication);
      ShardServer shards = new ShardServer(vertx, new Addresses(Long.toString(peerId)), engine.catalogue(), replication);
      Recoveries recoveries = new Recoveries(vertx, replication, engine.catalogue(),
          config.storage().incomingShardTransfersLimit());
      started.accept(consensus);
      return new ClusterStorageService(engine, consensus, () -> {
        vertx.cancelTimer(membersWatch);
        recoveries.close();
        members.unregister();
        applied.unregister();
        shards.close();
        replication.close();
      }, peer -> appliedIndexOf(vertx, peer)).withProgress(replication::progress);
    } catch (Exception | Error e) {
      consensus.close();
      throw e;
    }
  }

  /**
   * Puts this peer's addresses in the metadata. A new peer waits for it (the others must know its
   * URI); a known peer whose addresses changed (a pod restarted with a new IP) does it in the
   * background, retrying, so that a restart does not wait for a majority of the peers to be up.
   */
  private static void announce(Consensus consensus, ClusterMeta meta, PeerMeta self) throws Exception {
    PeerMeta known = meta.state().peers().get(self.id());
    if (self.equals(known)) {
      return;
    }
    if (known == null) {
      await(consensus.propose(new MetaOp.PutPeer(self), JOIN_WAIT));
      return;
    }
    Thread.ofVirtual().name("quiver-announce").start(() -> {
      for (int attempt = 0; attempt < 600 && !self.equals(meta.state().peers().get(self.id())); attempt++) {
        try {
          await(consensus.propose(new MetaOp.PutPeer(self), Duration.ofSeconds(30)));
        } catch (Exception e) {
          if (attempt % 10 == 0) {
            log.warn("This peer's new addresses are not in the cluster's metadata yet: {}", e.toString());
          }
          try {
            Thread.sleep(1000);
          } catch (InterruptedException stop) {
            return;
          }
        }
      }
      log.info("The cluster knows this peer's new addresses: {}", self);
    });
  }

  /** Resumes this node's Raft membership, forms a new group, or joins the existing one. */
  private static RaftNode startRaft(Vertx vertx, ClusterManager manager, QuiverConfig.Cluster cluster, RaftNode.Options options,
      io.quiver.cluster.raft.MetaMachine machine, List<String> localCollections) throws Exception {
    if (RaftNode.hasState(options.dir())) {
      RaftNode raft = RaftNode.join(options, machine, List.of()).toCompletableFuture().get(JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
      log.info("Resumed the cluster's consensus at {} (Raft state in {})", raft.address(), options.dir());
      return raft;
    }
    List<InetSocketAddress> group = new Forming(vertx, manager, cluster, options.host()).await();
    if (group.isEmpty()) {
      RaftNode raft = RaftNode.start(options, machine);
      log.info("Formed a new cluster: this peer is the first member of its Raft group, at {}", raft.address());
      return raft;
    }
    if (!localCollections.isEmpty()) {
      throw new IllegalStateException("This node's storage holds collections " + localCollections + " and it is joining an "
          + "existing cluster whose metadata would replace them: start it with an empty storage directory, or move them away first");
    }
    log.info("Joining the cluster's consensus through {}", group);
    RaftNode raft = RaftNode.join(options, machine, group).toCompletableFuture().get(JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
    log.info("Joined the cluster's consensus at {}", raft.address());
    return raft;
  }

  /**
   * A node in recovery mode: it keeps its place in the Raft group (resumes or joins it) and serves
   * the metadata-only storage. Its shards are not served: other peers' reads of them fail with 503
   * naming the shard and this peer. A collection deleted here is deleted cluster-wide through
   * consensus, and every deletion the group commits removes the local copy; other changes are put
   * right when the node starts normally again.
   */
  public static ClusterStorageService openRecovery(Vertx vertx, ClusterManager manager, QuiverConfig config, long peerId,
      io.quiver.storage.StorageService metadataOnly, Consumer<Consensus> started) throws Exception {
    var cluster = config.cluster();
    Path dir = config.storage().storagePath().resolve(RAFT_DIR);
    String host = advertisedHost(cluster, manager);
    ClusterMeta meta = new ClusterMeta();
    meta.listen(new KnownPeers(dir));
    meta.listen(new ClusterMeta.Listener() {
      @Override
      public void applied(MetaOp op, MetaState before, MetaState after) {
        before.collections().keySet().stream().filter(n -> !after.collections().containsKey(n)).forEach(this::drop);
      }

      @Override
      public void restored(MetaState state) {
        // deletions only: whatever else changed is put right by a normal start
      }

      private void drop(String name) {
        try {
          metadataOnly.execute(new io.quiver.request.CollectionRequest.Delete(name, null)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          log.warn("Recovery mode: the local copy of deleted collection {} was not removed: {}", name, e.toString());
        }
      }
    });
    RaftNode raft = startRaft(vertx, manager, cluster, RaftNode.Options.of(peerId, host, cluster.raftPort(), dir),
        RaftConsensus.machine(meta), List.of());
    var consensus = new RaftConsensus(raft, meta);
    try {
      announce(consensus, meta, new PeerMeta(peerId, p2pUri(cluster, host), null, raft.address()));
      MessageConsumer<JsonObject> members = answerJoins(vertx, consensus);
      deactivateReplicas(consensus, peerId);
      started.accept(consensus);
      return new ClusterStorageService(metadataOnly, consensus, members::unregister);
    } catch (Exception | Error e) {
      consensus.close();
      throw e;
    }
  }

  /**
   * Tells the replication when a member leaves Hazelcast's cluster: the peer it was (from the peers
   * map, which records each peer's node id) has its calls in flight failed at once. Answers the
   * timer that refreshes the node ids (-1: none).
   */
  /** The member attribute in which Vert.x's Hazelcast cluster manager keeps its node id. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";

  private static long watchMembers(Vertx vertx, ClusterManager manager, Replication replication) {
    if (!(manager instanceof io.vertx.spi.cluster.hazelcast.HazelcastClusterManager hz) || hz.getHazelcastInstance() == null) {
      return -1;
    }
    java.util.Map<String, Long> peers = new java.util.concurrent.ConcurrentHashMap<>();
    Runnable refresh = () -> vertx.sharedData().<String, JsonObject>getAsyncMap(Addresses.PEERS_MAP)
        .compose(io.vertx.core.shareddata.AsyncMap::entries)
        .onSuccess(entries -> entries.values().forEach(v -> {
          Peer p = Peer.fromJson(v);
          if (p != null && p.nodeId() != null) {
            peers.put(p.nodeId(), p.peerId());
          }
        }))
        .onFailure(e -> log.debug("Peers map not read: {}", e.toString()));
    refresh.run();
    long timer = vertx.setPeriodic(5_000, t -> refresh.run());
    hz.getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
      @Override
      public void memberAdded(com.hazelcast.cluster.MembershipEvent event) {
        vertx.setTimer(1000, t -> refresh.run());
      }

      @Override
      public void memberRemoved(com.hazelcast.cluster.MembershipEvent event) {
        String node = event.getMember().getAttribute(VERTX_NODE_ID); // Vert.x's node id, not Hazelcast's member id
        Long peer = node == null ? null : peers.get(node);
        if (peer != null) {
          replication.peerLeft(peer);
        }
      }
    });
    return timer;
  }

  /** Waits (a minute at most) until the metadata has applied every entry this node knows committed. */
  private static void awaitReplay(RaftNode raft, ClusterMeta meta) throws InterruptedException {
    long commit = raft.info().commitIndex();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (raft.info().appliedIndex() < commit && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  /**
   * A node in recovery mode serves none of its replicas: they are marked Dead at once (the others
   * take the writes; the last Active replica of a shard stays as it is) and recover when the node
   * starts normally again.
   */
  private static void deactivateReplicas(Consensus consensus, long self) {
    for (MetaState.CollectionMeta c : consensus.meta().state().collections().values()) {
      for (ShardMeta s : c.shardsOn(self)) {
        if (s.state(self) == io.quiver.cluster.meta.ReplicaState.ACTIVE && s.in(io.quiver.cluster.meta.ReplicaState.ACTIVE).size() > 1) {
          consensus.propose(new MetaOp.SetReplicaState(c.name(), s.id(), self, io.quiver.cluster.meta.ReplicaState.DEAD,
              io.quiver.cluster.meta.ReplicaState.ACTIVE, 0), Duration.ofSeconds(30)).whenComplete((v, e) -> {
                if (e != null) {
                  log.warn("Recovery mode: replica of shard {} of collection {} not marked dead: {}", s.id(), c.name(), e.toString());
                }
              });
        }
      }
    }
  }

  /** Proposes the collections already in storage (and their indexes and aliases) to a group this node just formed. */
  private static void adopt(Consensus consensus, EngineStorageService engine, long self) throws Exception {
    for (String name : engine.catalogue().names()) {
      Collection c = engine.catalogue().resolve(name);
      List<ShardMeta> placement = new ArrayList<>();
      var layout = c.layout();
      for (int id : layout.shardIds()) {
        Object key = layout.keyOf(id);
        placement.add(new ShardMeta(id, List.of(self), key == null ? null
            : key instanceof Long n ? com.fasterxml.jackson.databind.node.LongNode.valueOf(n)
            : com.fasterxml.jackson.databind.node.TextNode.valueOf((String) key)));
      }
      await(consensus.propose(new MetaOp.CreateCollection(name, c.config(), placement), JOIN_WAIT));
      var index = c.schema().payload().toJson();
      for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : index.properties()) {
        await(consensus.propose(new MetaOp.CreateIndex(name, e.getKey(), e.getValue()), JOIN_WAIT));
      }
      log.info("Collection {} of this node's storage is now in the cluster's metadata", name);
    }
    List<io.quiver.request.AliasRequest.Action> aliases = new ArrayList<>();
    engine.catalogue().aliases().forEach((alias, target) -> aliases.add(new io.quiver.request.AliasRequest.Create(target, alias)));
    if (!aliases.isEmpty()) {
      await(consensus.propose(new MetaOp.ChangeAliases(aliases), JOIN_WAIT));
    }
  }

  private static void await(java.util.concurrent.CompletionStage<?> stage) throws Exception {
    stage.toCompletableFuture().get(JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** Answers {@link Addresses#raftApplied()}: the metadata index this node has applied. */
  private static MessageConsumer<JsonObject> answerApplied(Vertx vertx, long peerId, ClusterMeta meta) {
    return vertx.eventBus().consumer(new Addresses(Long.toString(peerId)).raftApplied(),
        msg -> msg.reply(new JsonObject().put("applied", meta.appliedIndex())));
  }

  /** The metadata index another peer has applied; fails when it does not answer within a second. */
  static java.util.concurrent.CompletionStage<Long> appliedIndexOf(Vertx vertx, long peer) {
    return vertx.eventBus().<JsonObject>request(new Addresses(Long.toString(peer)).raftApplied(), new JsonObject(),
        new DeliveryOptions().setSendTimeout(1000)).map(m -> m.body().getLong("applied", 0L)).toCompletionStage();
  }

  /**
   * Answers joining peers on the cluster-wide {@link Addresses#RAFT_MEMBERS}: the Raft addresses of
   * the group's members, through which they ask to be admitted.
   */
  private static MessageConsumer<JsonObject> answerJoins(Vertx vertx, RaftConsensus consensus) {
    return vertx.eventBus().consumer(Addresses.RAFT_MEMBERS, msg -> {
      JsonArray peers = new JsonArray();
      for (RaftNode.Peer p : consensus.raft().info().peers()) {
        peers.add(p.address());
      }
      msg.reply(new JsonObject().put("peers", peers));
    });
  }

  /** Waits until a group answers (its members' Raft addresses), or until this node should form one (empty). */
  private static final class Forming {
    private final Vertx vertx;
    private final ClusterManager manager;
    private final QuiverConfig.Cluster cluster;
    private final String host;

    Forming(Vertx vertx, ClusterManager manager, QuiverConfig.Cluster cluster, String host) {
      this.vertx = vertx;
      this.manager = manager;
      this.cluster = cluster;
      this.host = host;
    }

    List<InetSocketAddress> await() throws Exception {
      long deadline = System.nanoTime() + JOIN_WAIT.toNanos();
      boolean mayForm = cluster.bootstrap() == null && firstOfMembers();
      long quietSince = System.nanoTime();
      while (System.nanoTime() < deadline) {
        List<InetSocketAddress> group = ask();
        if (group != null && !group.isEmpty()) {
          return group;
        }
        // no group answered: the first configured member forms one once it has waited out a short join
        // window (without a member list, the oldest member of the Hazelcast cluster does)
        if (mayForm && (hasMemberList() || oldest()) && System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(2)) {
          return List.of();
        }
        Thread.sleep(500);
      }
      throw new IllegalStateException("No Raft group answered within " + JOIN_WAIT.toMinutes() + " minutes"
          + (cluster.bootstrap() != null ? " (bootstrap " + cluster.bootstrap() + ")" : "")
          + ": is the cluster's first peer running?");
    }

    /** The members' Raft addresses from whichever group member answers, or null when none does. */
    private List<InetSocketAddress> ask() throws InterruptedException {
      try {
        JsonObject reply = vertx.eventBus().<JsonObject>request(Addresses.RAFT_MEMBERS, new JsonObject(),
            new DeliveryOptions().setSendTimeout(3000)).map(m -> m.body()).toCompletionStage().toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
        List<InetSocketAddress> out = new ArrayList<>();
        for (Object a : reply.getJsonArray("peers", new JsonArray())) {
          String s = a.toString();
          int colon = s.lastIndexOf(':');
          out.add(InetSocketAddress.createUnresolved(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1))));
        }
        return out;
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
          return null;
        }
        log.debug("Asking for the Raft group failed: {}", e.getCause().toString());
        return null;
      } catch (java.util.concurrent.TimeoutException e) {
        return null;
      }
    }

    private boolean hasMemberList() {
      return cluster.kubernetesService() == null && !ClusterSetup.members(cluster).isEmpty();
    }

    /** Whether this node is the first of {@code cluster.members} (always, without a member list). */
    private boolean firstOfMembers() {
      List<String> members = ClusterSetup.members(cluster);
      if (members.isEmpty() || cluster.kubernetesService() != null) {
        return true;
      }
      String first = members.get(0);
      int colon = first.lastIndexOf(':');
      try {
        InetAddress a = InetAddress.getByName(first.substring(0, colon));
        InetAddress b = InetAddress.getByName(host);
        return a.equals(b) && Integer.parseInt(first.substring(colon + 1)) == cluster.p2pPort();
      } catch (IOException | RuntimeException e) {
        return false;
      }
    }

    /** Whether this node is the oldest member of the Hazelcast cluster (the first in its member list). */
    private boolean oldest() {
      List<String> nodes = manager.getNodes();
      return nodes.isEmpty() || nodes.get(0).equals(manager.getNodeId());
    }
  }

  /** The host peers reach this node at: the p2p host, else the host of {@code --uri}, else the one Hazelcast advertises. */
  static String advertisedHost(QuiverConfig.Cluster cluster, ClusterManager manager) {
    if (!ClusterSetup.isWildcard(cluster.p2pHost())) {
      return cluster.p2pHost();
    }
    String fromUri = ClusterSetup.uriHost(cluster.uri());
    if (fromUri != null) {
      return fromUri;
    }
    var info = manager instanceof io.vertx.spi.cluster.hazelcast.HazelcastClusterManager hz ? hz.getNodeInfo() : null;
    return info != null ? info.host() : manager.clusterHost();
  }

  /** This peer's p2p URI: {@code --uri} as given, else {@code http://host:p2p-port/}. */
  static String p2pUri(QuiverConfig.Cluster cluster, String host) {
    if (cluster.uri() != null) {
      return cluster.uri();
    }
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + cluster.p2pPort() + "/";
  }

  /** Remembers the peers' p2p addresses, so that a restarted node finds them even if its bootstrap peer is gone. */
  private static final class KnownPeers implements ClusterMeta.Listener {
    private final Path dir;

    KnownPeers(Path dir) {
      this.dir = dir;
    }

    @Override
    public void applied(MetaOp op, MetaState before, MetaState after) {
      if (op instanceof MetaOp.PutPeer || op instanceof MetaOp.RemovePeer) {
        write(after);
      }
    }

    @Override
    public void restored(MetaState state) {
      write(state);
    }

    private void write(MetaState state) {
      StringBuilder sb = new StringBuilder();
      for (PeerMeta p : state.peers().values()) {
        String hp = ClusterSetup.hostPort(p.uri());
        if (hp != null) {
          sb.append(hp).append('\n');
        }
      }
      try {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(KNOWN_PEERS + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(KNOWN_PEERS), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        log.warn("Could not remember the cluster's peers in {}: {}", dir, e.toString());
      }
    }
  }
}
