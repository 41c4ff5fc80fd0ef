package io.quiver.cluster.raft;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.ClientRetryEvent;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.netty.NettyConfigKeys;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyClosedException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * This node's member of the cluster's metadata Raft group: an embedded Apache Ratis server over
 * Netty, replicating a {@link MetaMachine}.
 *
 * <p><b>Identity.</b> The Ratis peer id is Quiver's 64-bit peer id in unsigned decimal; the group
 * id is {@link #GROUP_ID}, one group per Quiver cluster.
 *
 * <p><b>Life cycle.</b> {@link #start} forms a new group of one on the cluster's first peer;
 * {@link #join} asks a running group to take this node in as a voter. Both resume from
 * {@link Options#dir()} when it holds this node's Raft state (log, snapshots, term, vote,
 * configuration), so a restarted node needs to be told nothing. A node that comes back on another
 * address (another port or host) has the group change its entry to the new address in the
 * background (see {@link #start}); {@link #close()} stops the node without leaving the group, as
 * a crash would.
 *
 * <p><b>Snapshots.</b> Every {@link Options#snapshotEveryEntries()} applied entries, Ratis has
 * the {@link MetaMachine} write a snapshot ({@link SnapshotFile}) and purges the log below it. A
 * peer whose next entry is no longer in the leader's log receives the leader's latest snapshot
 * file (Ratis's install-snapshot from the state machine's files, not notification mode), which
 * replaces its state through {@link MetaMachine#restore}.
 *
 * <p>Thread-safety: all public methods may be called from any thread; the blocking Ratis calls run
 * on the node's own threads, so the returned stages never block the caller (they do not complete
 * on a Vert.x context either: hop back onto one before touching its state).
 */
public final class RaftNode implements AutoCloseable {
  /** The Raft group of a Quiver cluster's metadata: the same on every node of every cluster. */
  public static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.fromString("51a6c1a3-5e4d-4b0d-9a5f-7175cc6b7e1e"));

  private static final System.Logger log = System.getLogger(RaftNode.class.getName());
  private static final String NODE_FILE = "raft-node.properties";
  private static final String RATIS_DIR = "ratis";
  private static final TimeDuration RETRY_SLEEP = TimeDuration.valueOf(100, TimeUnit.MILLISECONDS);
  private static final int ADMIN_ATTEMPTS = 10;

  /**
   * How a node runs.
   *
   * @param peerId Quiver's peer id of this node
   * @param host the address peers reach this node at; the Raft server binds it too
   * @param port the Raft port; 0 picks one: the port remembered in {@code dir} when it is free,
   *     else a free one, remembered for the next start
   * @param dir where the node keeps its Raft state (created if missing); one node per directory
   * @param electionTimeoutMin a follower that hears no leader for a random time between min and
   *     max starts an election
   * @param electionTimeoutMax see min
   * @param requestTimeout how long one Raft RPC may take before it is retried
   * @param joinTimeout how long {@link #join} and membership changes may take in all
   * @param snapshotEveryEntries log entries between two snapshots (the log is then purged); Ratis
   *     logs its own entries beside operations (a commit-index entry after most commits, leader
   *     no-ops, configurations), so this is about twice the number of operations
   * @param logSegmentBytes size of a log segment file; the log is purged by whole segments
   */
  public record Options(long peerId, String host, int port, Path dir, Duration electionTimeoutMin,
      Duration electionTimeoutMax, Duration requestTimeout, Duration joinTimeout, int snapshotEveryEntries,
      long logSegmentBytes) {

    public Options {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(dir, "dir");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, not " + port);
      }
      if (electionTimeoutMin.isNegative() || electionTimeoutMin.isZero()
          || electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
        throw new IllegalArgumentException("election timeouts must satisfy 0 < min < max, not "
            + electionTimeoutMin + ", " + electionTimeoutMax);
      }
      if (requestTimeout.compareTo(electionTimeoutMin) < 0 || joinTimeout.compareTo(requestTimeout) < 0) {
        throw new IllegalArgumentException("timeouts must satisfy electionTimeoutMin <= requestTimeout <= joinTimeout");
      }
      if (snapshotEveryEntries < 1) {
        throw new IllegalArgumentException("snapshotEveryEntries must be positive");
      }
      if (logSegmentBytes < 1024) {
        throw new IllegalArgumentException("logSegmentBytes must be at least 1024");
      }
    }

    /**
     * Defaults for a small cluster on a LAN: elections after 1-2 s without a leader, 3 s per RPC,
     * 30 s to join, a snapshot every 1000 entries, 8 MiB log segments.
     */
    public static Options of(long peerId, String host, int port, Path dir) {
      return new Options(peerId, host, port, dir, Duration.ofSeconds(1), Duration.ofSeconds(2),
          Duration.ofSeconds(3), Duration.ofSeconds(30), 1000, 8L << 20);
    }

    public Options withPort(int port) {
      return new Options(peerId, host, port, dir, electionTimeoutMin, electionTimeoutMax, requestTimeout,
          joinTimeout, snapshotEveryEntries, logSegmentBytes);
    }

    public Options withElectionTimeout(Duration min, Duration max) {
      return new Options(peerId, host, port, dir, min, max, requestTimeout, joinTimeout, snapshotEveryEntries,
          logSegmentBytes);
    }

    public Options withRequestTimeout(Duration requestTimeout) {
      return new Options(peerId, host, port, dir, electionTimeoutMin, electionTimeoutMax, requestTimeout,
          joinTimeout, snapshotEveryEntries, logSegmentBytes);
    }

    public Options withJoinTimeout(Duration joinTimeout) {
      return new Options(peerId, host, port, dir, electionTimeoutMin, electionTimeoutMax, requestTimeout,
          joinTimeout, snapshotEveryEntries, logSegmentBytes);
    }

    public Options withSnapshotEveryEntries(int entries) {
      return new Options(peerId, host, port, dir, electionTimeoutMin, electionTimeoutMax, requestTimeout,
          joinTimeout, entries, logSegmentBytes);
    }

    public Options withLogSegmentBytes(long bytes) {
      return new Options(peerId, host, port, dir, electionTimeoutMin, electionTimeoutMax, requestTimeout,
          joinTimeout, snapshotEveryEntries, bytes);
    }
  }

  /** A node's Raft role, named as Qdrant's {@code GET /cluster} names it. */
  public enum Role {
    LEADER("Leader"), FOLLOWER("Follower"), CANDIDATE("Candidate"), LISTENER("Listener");

    private final String label;

    Role(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** A member of the group as this node's configuration has it. */
  public record Peer(long id, String address, boolean voter) {}

  /**
   * This node's view of the group.
   *
   * @param leaderId null while this node knows no leader
   * @param voter whether this node is a voting member of the current configuration
   * @param pendingOperations proposals made on this node and not yet applied (nor failed)
   * @param peers the current configuration, by peer id
   */
  public record Info(long term, long commitIndex, long appliedIndex, Long leaderId, Role role, boolean voter,
      int pendingOperations, List<Peer> peers) {}

  private final Options options;
  private final RaftPeerId selfId;
  private final String address;
  private final MetaStateMachine stateMachine;
  private final ExecutorService io;
  private final ScheduledExecutorService timer;
  private final Map<Message, Long> deadlines = new ConcurrentHashMap<>();
  private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
  private final AtomicInteger pending = new AtomicInteger();
  private final Object clientLock = new Object();
  private volatile RaftServer server;
  private RaftClient client; // guarded by clientLock; rebuilt when the configuration changes
  private final List<RaftClient> retired = new ArrayList<>(); // guarded by clientLock
  private volatile boolean clientStale = true;
  private volatile boolean closed;

  private RaftNode(Options options, MetaMachine machine, int port) {
    this.options = options;
    this.selfId = peerIdOf(options.peerId());
    this.address = hostPort(options.host(), port);
    ThreadFactory threads = daemonThreads("raft-" + Long.toUnsignedString(options.peerId()));
    this.io = Executors.newCachedThreadPool(threads);
    this.timer = Executors.newSingleThreadScheduledExecutor(threads);
    this.stateMachine = new MetaStateMachine(machine, io, this::onConfigurationChanged);
  }

  /** Whether {@code dir} holds a node's Raft state from an earlier start (then {@link #join} resumes it). */
  public static boolean hasState(Path dir) {
    return java.nio.file.Files.isRegularFile(dir.resolve(NODE_FILE));
  }

  /**
   * Starts the cluster's first peer: on an empty {@code dir}, a new group whose only member is
   * this node (it elects itself at once); on a {@code dir} that holds this node's Raft state,
   * resumes it (the group, its peers, log and snapshot). If this node's address differs from the
   * one the group has for it, the group is asked in the background to change it.
   *
   * @throws IOException if the Raft server cannot start (port taken, storage unreadable)
   * @throws IllegalStateException if {@code dir} belongs to another peer id, or holds a node that
   *     is no longer (or never became) a member of its group: {@link #join} it instead
   */
  public static RaftNode start(Options options, MetaMachine machine) throws IOException {
    RaftNode node = open(options, machine, true);
    if (!node.isMember()) {
      node.close();
      throw new IllegalStateException("the Raft state in " + options.dir() + " is not a member of its group "
          + "(it was removed, or its join never completed): join the group instead");
    }
    node.reconcileAddressInBackground();
    return node;
  }

  /**
   * Starts a later peer. On a {@code dir} that holds this node's Raft state as a member, resumes it
   * as {@link #start} does and completes at once. Otherwise starts the node outside the group and
   * asks the group, reached through any of {@code knownPeers}' Raft addresses, to add it as a
   * voter; the leader first brings it up to date (log entries or a snapshot). Completes when this
   * node is a voting member and has applied everything the group had committed when it was
   * admitted; fails with a {@link RaftException} (the node closed) when no known peer admitted it
   * within {@link Options#joinTimeout()}.
   */
  public static CompletionStage<RaftNode> join(Options options, MetaMachine machine,
      List<InetSocketAddress> knownPeers) {
    RaftNode node;
    try {
      node = open(options, machine, false);
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (node.isMember()) {
      node.reconcileAddressInBackground();
      return CompletableFuture.completedFuture(node);
    }
    if (knownPeers.isEmpty()) {
      node.close();
      return CompletableFuture.failedFuture(new IllegalArgumentException("no known peer to join through"));
    }
    List<String> seeds = knownPeers.stream().map(a -> hostPort(a.getHostString(), a.getPort())).toList();
    return CompletableFuture.supplyAsync(() -> {
      node.joinGroup(seeds);
      return node;
    }, node.io).whenComplete((n, e) -> {
      if (e != null) {
        node.close();
      }
    });
  }

  /**
   * Proposes an operation to the group. Works on any member: a follower forwards it to the
   * leader. Completes with {@link MetaMachine#apply}'s result once the operation is committed and
   * applied on this node, so that a read of this node's state right after sees it.
   *
   * <p>Fails with a {@link RaftException}: {@link RaftException.Kind#TIMEOUT} when it was not
   * committed and applied here within {@code timeout} (no leader, or no quorum reachable). A timed
   * out operation may still be committed later, when a quorum is back: at most once, never twice
   * (Ratis's retry cache answers the retries of one proposal); callers that must know make
   * operations idempotent or check the state. {@link RaftException.Kind#APPLY_FAILED} when the
   * leader's {@link MetaMachine#apply} threw; {@link RaftException.Kind#CLOSED} when this node closed.
   */
  public CompletionStage<byte[]> propose(byte[] operation, Duration timeout) {
    Objects.requireNonNull(operation, "operation");
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    Proposal proposal = new Proposal(UnsafeByteOperations.unsafeWrap(operation.clone()));
    long deadline = System.nanoTime() + timeout.toNanos();
    CompletableFuture<byte[]> result = new CompletableFuture<>();
    track(result);
    pending.incrementAndGet();
    deadlines.put(proposal, deadline);
    io.execute(() -> {
      try {
        RaftClientReply reply = send(proposal, deadline);
        byte[] bytes = reply.getMessage().getContent().toByteArray();
        stateMachine.awaitApplied(reply.getLogIndex()).whenComplete((v, e) -> {
          if (e != null) {
            result.completeExceptionally(e);
          } else {
            result.complete(bytes);
          }
        });
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      } finally {
        deadlines.remove(proposal);
      }
    });
    ScheduledFuture<?> timer = this.timer.schedule(
        () -> result.completeExceptionally(timeoutException("operation", timeout, null)),
        timeout.toNanos(), TimeUnit.NANOSECONDS);
    result.whenComplete((r, e) -> {
      timer.cancel(false);
      pending.decrementAndGet();
    });
    return result;
  }

  /**
   * Removes a peer from the group's configuration (this node too: it then stops taking part and
   * should be closed). Completes once the new configuration is committed; fails with a
   * {@link RaftException} after {@link Options#joinTimeout()}. Removing a peer that is not a member
   * completes at once.
   */
  public CompletionStage<Void> removePeer(long peerId) {
    if (closed) {
      return CompletableFuture.failedFuture(closedException());
    }
    RaftPeerId id = peerIdOf(peerId);
    CompletableFuture<Void> result = CompletableFuture.runAsync(() -> {
      long deadline = System.nanoTime() + options.joinTimeout().toNanos();
      changeConfiguration(seedsFromConfiguration(), deadline, peers -> {
        List<RaftPeer> rest = peers.stream().filter(p -> !p.getId().equals(id)).toList();
        return rest.size() == peers.size() ? null : rest;
      });
    }, io);
    return track(result);
  }

  /** This node's view of the group, for {@code GET /cluster}. */
  public Info info() {
    RaftServer.Division d = division();
    RaftConfiguration conf = d.getRaftConf();
    List<Peer> peers = new ArrayList<>();
    for (RaftPeer p : conf.getAllPeers()) {
      peers.add(new Peer(quiverIdOf(p.getId()), p.getAddress(), true));
    }
    for (RaftPeer p : conf.getAllPeers(RaftPeerRole.LISTENER)) {
      peers.add(new Peer(quiverIdOf(p.getId()), p.getAddress(), false));
    }
    peers.sort(Comparator.comparing(Peer::id, Long::compareUnsigned));
    RaftPeerId leader = d.getInfo().getLeaderId();
    return new Info(d.getInfo().getCurrentTerm(), d.getRaftLog().getLastCommittedIndex(),
        stateMachine.appliedIndex(), leader == null ? null : quiverIdOf(leader), roleOf(d.getInfo().getCurrentRole()),
        isMember(), pending.get(), List.copyOf(peers));
  }

  /** The {@code host:port} this node's Raft server listens on, as peers reach it. */
  public String address() {
    return address;
  }

  /** Quiver's peer id of this node. */
  public long peerId() {
    return options.peerId();
  }

  /**
   * Stops the node without leaving the group (as a crash would, but with the log flushed): the
   * others carry on if they are a quorum, and the node resumes from its directory when started
   * again. Pending proposals fail with {@link RaftException.Kind#CLOSED}. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (server != null) {
        server.close();
      }
    } catch (IOException e) {
      log.log(System.Logger.Level.WARNING, "closing the Raft server of peer " + options.peerId(), e);
    }
    synchronized (clientLock) {
      closeQuietly(client);
      client = null;
      retired.forEach(RaftNode::closeQuietly);
      retired.clear();
    }
    for (CompletableFuture<?> f : inFlight) {
      f.completeExceptionally(closedException());
    }
    timer.shutdownNow();
    io.shutdownNow();
  }

  // ---------------------------------------------------------------- start

  private static RaftNode open(Options options, MetaMachine machine, boolean bootstrap) throws IOException {
    Files.createDirectories(options.dir());
    int port = choosePort(options);
    RaftNode node = new RaftNode(options, machine, port);
    RaftPeer self = node.selfPeer(0);
    RaftGroup group = bootstrap ? RaftGroup.valueOf(GROUP_ID, self) : RaftGroup.valueOf(GROUP_ID);
    try {
      node.server = RaftServer.newBuilder()
          .setServerId(node.selfId)
          .setGroup(group)
          .setProperties(serverProperties(options, port))
          .setStateMachine(node.stateMachine)
          .setOption(RaftStorage.StartupOption.RECOVER)
          .build();
      node.server.start();
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    node.onConfigurationChanged();
    return node;
  }

  /**
   * Settings for a small group on loopback or a LAN. Ratis's defaults suit large log volumes
   * (32 MiB segments, snapshots every 400k entries) and sub-second elections; metadata is small and
   * rare, and a peer should not lose its leader over a GC pause.
   */
  private static RaftProperties serverProperties(Options o, int port) {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.NETTY);
    NettyConfigKeys.Server.setHost(p, o.host());
    NettyConfigKeys.Server.setPort(p, port);
    RaftServerConfigKeys.setStorageDir(p, List.of(o.dir().resolve(RATIS_DIR).toFile()));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, duration(o.electionTimeoutMin()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, duration(o.electionTimeoutMax()));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, duration(o.requestTimeout()));
    // a leader that hears from no quorum for this long steps down (info() then shows no leader)
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, duration(o.electionTimeoutMax().multipliedBy(2)));
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, o.snapshotEveryEntries());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, o.snapshotEveryEntries());
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(o.logSegmentBytes()));
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(o.logSegmentBytes(), 4L << 20)));
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    return p;
  }

  private RaftProperties clientProperties() {
    RaftProperties p = new RaftProperties();
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.NETTY);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, duration(options.requestTimeout()));
    return p;
  }

  /** An explicit port; else the remembered one if it is free; else a free one. Remembers it. */
  private static int choosePort(Options o) throws IOException {
    Path file = o.dir().resolve(NODE_FILE);
    Properties props = new Properties();
    if (Files.exists(file)) {
      try (var in = Files.newInputStream(file)) {
        props.load(in);
      }
      String owner = props.getProperty("peer_id");
      if (owner != null && !owner.equals(Long.toUnsignedString(o.peerId()))) {
        throw new IllegalStateException(o.dir() + " holds the Raft state of peer " + owner
            + ", not of peer " + Long.toUnsignedString(o.peerId()));
      }
    }
    int port = o.port();
    if (port == 0) {
      String remembered = props.getProperty("port");
      if (remembered != null && isFree(o.host(), Integer.parseInt(remembered))) {
        port = Integer.parseInt(remembered);
      } else {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(o.host()))) {
          port = s.getLocalPort();
        }
      }
    }
    props.setProperty("peer_id", Long.toUnsignedString(o.peerId()));
    props.setProperty("port", Integer.toString(port));
    Path tmp = file.resolveSibling(NODE_FILE + ".tmp");
    try (var out = Files.newOutputStream(tmp)) {
      props.store(out, "Quiver Raft node");
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return port;
  }

  private static boolean isFree(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- membership

  /**
   * Joins through the seeds: reads the group's configuration from whichever answers, has the
   * leader add this node (or change its address), then waits until this node is a voter and has
   * applied what the group had committed when it admitted it.
   */
  private void joinGroup(List<String> seeds) {
    long deadline = System.nanoTime() + options.joinTimeout().toNanos();
    long committed = changeConfiguration(seeds, deadline, this::withSelf);
    while (!(isMember() && stateMachine.appliedIndex() >= committed)) {
      if (closed) {
        throw closedException();
      }
      if (System.nanoTime() > deadline) {
        throw timeoutException("join", options.joinTimeout(), null);
      }
      sleep(50);
    }
  }

  /** A member that resumed on another address has the group take its new address. */
  private void reconcileAddressInBackground() {
    RaftPeer inConf = division().getRaftConf().getPeer(selfId);
    if (inConf == null || address.equals(inConf.getAddress())) {
      return;
    }
    log.log(System.Logger.Level.INFO, "Raft peer {0} resumed on {1}; the group knows it at {2}: updating",
        selfId, address, inConf.getAddress());
    io.execute(() -> {
      while (!closed) {
        try {
          changeConfiguration(seedsFromConfiguration(), System.nanoTime() + options.joinTimeout().toNanos(),
              this::withSelf);
          return;
        } catch (RuntimeException e) {
          if (!closed) {
            log.log(System.Logger.Level.WARNING, "Raft peer " + selfId + " could not yet update its address", e);
          }
        }
      }
    });
  }

  /**
   * The configuration with this node in it at its current address, or null if it already is.
   * Changing an address must change the configuration in a way Ratis sees: it compares only ids
   * and priorities, so every peer's priority flips between 0 and 1 together (equal priorities keep
   * elections and leadership as they were).
   */
  private List<RaftPeer> withSelf(List<RaftPeer> peers) {
    int priority = peers.stream().mapToInt(RaftPeer::getPriority).max().orElse(0);
    Optional<RaftPeer> me = peers.stream().filter(p -> p.getId().equals(selfId)).findFirst();
    if (me.isEmpty()) {
      List<RaftPeer> next = new ArrayList<>(peers);
      next.add(selfPeer(priority));
      return next;
    }
    if (me.get().getAddress().equals(address)) {
      return null;
    }
    int flipped = priority == 0 ? 1 : 0;
    return peers.stream()
        .map(p -> RaftPeer.newBuilder(p).setPriority(flipped)
            .setAddress(p.getId().equals(selfId) ? address : p.getAddress()).build())
        .toList();
  }

  /**
   * Reads the current configuration from the group, derives the next one and has the leader set
   * it if the configuration is still the one read (compare-and-set), until done or the deadline.
   *
   * @param change the next peers from the current ones; null when nothing needs to change
   * @return the highest commit index the group reported when the change was committed
   */
  private long changeConfiguration(List<String> seeds, long deadline,
      java.util.function.Function<List<RaftPeer>, List<RaftPeer>> change) {
    Exception last = null;
    while (true) {
      if (closed) {
        throw closedException();
      }
      try {
        GroupInfoReply info = groupInfo(seeds);
        List<RaftPeer> current = List.copyOf(info.getGroup().getPeers());
        List<RaftPeer> next = change.apply(current);
        if (next == null) {
          return maxCommit(info.getCommitInfos());
        }
        try (RaftClient c = newClient(current, leaderOf(info), RetryPolicies.retryUpToMaximumCountWithFixedSleep(
            ADMIN_ATTEMPTS, RETRY_SLEEP))) {
          RaftClientReply reply = c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
              .setServersInCurrentConf(current)
              .setServersInNewConf(next)
              .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
              .build());
          if (reply.isSuccess()) {
            return maxCommit(reply.getCommitInfos());
          }
          last = reply.getException();
        }
      } catch (IOException | RuntimeException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw timeoutException("configuration change", options.joinTimeout(), last);
      }
      sleep(200);
    }
  }

  /**
   * The group's configuration as its leader has it, asked of the seeds in turn: the leader's
   * answer when a seed is the leader or names it, else the first answer (the compare-and-set then
   * catches a stale one).
   */
  private GroupInfoReply groupInfo(List<String> seeds) throws IOException {
    GroupInfoReply first = null;
    IOException last = null;
    for (String seed : seeds) {
      try {
        GroupInfoReply reply = groupInfoAt(seed);
        if (reply.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
          return reply;
        }
        if (first == null && !reply.getGroup().getPeers().isEmpty()) {
          first = reply;
        }
        RaftPeerId leader = leaderOf(reply);
        RaftPeer leaderPeer = leader == null ? null : reply.getGroup().getPeer(leader);
        if (leaderPeer != null && !leader.equals(selfId)) {
          GroupInfoReply fromLeader = groupInfoAt(leaderPeer.getAddress());
          if (fromLeader.getRoleInfoProto().getRole() == RaftPeerRole.LEADER) {
            return fromLeader;
          }
        }
      } catch (IOException e) {
        last = e;
      }
    }
    if (first != null) {
      return first;
    }
    throw last != null ? last : new IOException("no known Raft peer answered: " + seeds);
  }

  /** Asks whatever server listens at an address for its view of the group (its id is not needed). */
  private GroupInfoReply groupInfoAt(String address) throws IOException {
    RaftPeer seed = RaftPeer.newBuilder().setId("seed").setAddress(address).build();
    try (RaftClient c = newClient(List.of(seed), null, RetryPolicies.noRetry())) {
      return c.getGroupManagementApi(seed.getId()).info(GROUP_ID);
    }
  }

  private List<String> seedsFromConfiguration() {
    List<String> seeds = new ArrayList<>();
    for (RaftPeer p : division().getRaftConf().getAllPeers()) {
      seeds.add(p.getId().equals(selfId) ? address : p.getAddress());
    }
    if (seeds.isEmpty()) {
      seeds.add(address);
    }
    return seeds;
  }

  private boolean isMember() {
    return division().getRaftConf().getCurrentPeers().stream().anyMatch(p -> p.getId().equals(selfId));
  }

  /**
   * After a configuration change (and at start): points this server's connections at the new
   * addresses (see {@link PeerProxies}) and has proposals use a client that knows the new peers.
   */
  private void onConfigurationChanged() {
    RaftServer s = server;
    if (s == null) {
      return;
    }
    try {
      PeerProxies.refresh(s, s.getDivision(GROUP_ID).getRaftConf().getAllPeers());
    } catch (IOException | RuntimeException e) {
      log.log(System.Logger.Level.WARNING, "refreshing the Raft peers' addresses", e);
    }
    clientStale = true;
  }

  // ---------------------------------------------------------------- proposals

  /**
   * Sends a proposal through this node's client, which finds the leader and retries the same
   * request (deduplicated by the leader's retry cache) until the proposal's deadline. A leader
   * that is stepping down or handing over refuses before logging anything: sent again then.
   */
  private RaftClientReply send(Proposal proposal, long deadline) {
    while (true) {
      if (closed) {
        throw closedException();
      }
      try {
        RaftClientReply reply = client().io().send(proposal);
        if (reply.isSuccess()) {
          return reply;
        }
        throw failure(reply.getException());
      } catch (LeaderSteppingDownException | TransferLeadershipException e) {
        if (System.nanoTime() > deadline) {
          throw timeoutException("operation", null, e);
        }
        sleep(RETRY_SLEEP.toLong(TimeUnit.MILLISECONDS));
      } catch (IOException e) {
        throw failure(e);
      }
    }
  }

  private RuntimeException failure(Exception e) {
    if (closed || e instanceof AlreadyClosedException || e instanceof InterruptedIOException) {
      return closedException();
    }
    if (e instanceof StateMachineException) {
      return new RaftException(RaftException.Kind.APPLY_FAILED, "applying the operation failed on the leader", e);
    }
    return timeoutException("operation", null, e);
  }

  private RaftClient client() {
    synchronized (clientLock) {
      if (closed) {
        throw closedException();
      }
      if (client == null || clientStale) {
        clientStale = false;
        RaftClient old = client;
        List<RaftPeer> peers = new ArrayList<>();
        for (RaftPeer p : division().getRaftConf().getAllPeers()) {
          peers.add(p.getId().equals(selfId) ? RaftPeer.newBuilder(p).setAddress(address).build() : p);
        }
        if (peers.isEmpty()) {
          clientStale = true;
          throw new RaftException(RaftException.Kind.NOT_MEMBER, "this node has not joined the Raft group");
        }
        client = newClient(peers, division().getInfo().getLeaderId(), proposalRetries());
        if (old != null) {
          // proposals under way finish on the old client first
          retired.add(old);
          timer.schedule(() -> {
            synchronized (clientLock) {
              retired.remove(old);
            }
            closeQuietly(old);
          }, options.joinTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
      }
      return client;
    }
  }

  /** Retries a proposal until its deadline; other requests (none today) a few times. */
  private RetryPolicy proposalRetries() {
    RetryPolicy.Action retry = () -> RETRY_SLEEP;
    return event -> {
      if (closed) {
        return RetryPolicy.NO_RETRY_ACTION;
      }
      if (event instanceof ClientRetryEvent e && e.getRequest() != null && e.getRequest().getMessage() != null) {
        Long deadline = deadlines.get(e.getRequest().getMessage());
        if (deadline != null) {
          return System.nanoTime() < deadline ? retry : RetryPolicy.NO_RETRY_ACTION;
        }
      }
      return event.getAttemptCount() < ADMIN_ATTEMPTS ? retry : RetryPolicy.NO_RETRY_ACTION;
    };
  }

  private RaftClient newClient(Collection<RaftPeer> peers, RaftPeerId leader, RetryPolicy retries) {
    RaftClient.Builder b = RaftClient.newBuilder()
        .setProperties(clientProperties())
        .setRaftGroup(RaftGroup.valueOf(GROUP_ID, peers))
        .setRetryPolicy(retries);
    if (leader != null && peers.stream().anyMatch(p -> p.getId().equals(leader))) {
      b.setLeaderId(leader);
    }
    return b.build();
  }

  // ---------------------------------------------------------------- helpers

  /** Ratis's peer id for a Quiver peer id. */
  static RaftPeerId peerIdOf(long quiverPeerId) {
    return RaftPeerId.valueOf(Long.toUnsignedString(quiverPeerId));
  }

  /** Quiver's peer id for a Ratis peer id of this group. */
  static long quiverIdOf(RaftPeerId id) {
    return Long.parseUnsignedLong(id.toString());
  }

  private RaftPeer selfPeer(int priority) {
    return RaftPeer.newBuilder().setId(selfId).setAddress(address).setPriority(priority).build();
  }

  private RaftServer.Division division() {
    try {
      return server.getDivision(GROUP_ID);
    } catch (IOException e) {
      throw new RaftException(RaftException.Kind.CLOSED, "the Raft group is not running on this node", e);
    }
  }

  private static RaftPeerId leaderOf(GroupInfoReply info) {
    var role = info.getRoleInfoProto();
    if (role.getRole() == RaftPeerRole.LEADER) {
      return RaftPeerId.valueOf(role.getSelf().getId());
    }
    if (role.hasFollowerInfo() && role.getFollowerInfo().hasLeaderInfo()) {
      ByteString id = role.getFollowerInfo().getLeaderInfo().getId().getId();
      return id.isEmpty() ? null : RaftPeerId.valueOf(id);
    }
    return null;
  }

  private static long maxCommit(Collection<CommitInfoProto> infos) {
    return infos.stream().mapToLong(CommitInfoProto::getCommitIndex).max().orElse(-1);
  }

  private static Role roleOf(RaftPeerRole role) {
    return switch (role) {
      case LEADER -> Role.LEADER;
      case CANDIDATE -> Role.CANDIDATE;
      case LISTENER -> Role.LISTENER;
      default -> Role.FOLLOWER;
    };
  }

  private <T> CompletableFuture<T> track(CompletableFuture<T> f) {
    inFlight.add(f);
    f.whenComplete((r, e) -> inFlight.remove(f));
    return f;
  }

  private RaftException timeoutException(String what, Duration timeout, Exception cause) {
    Long leader = null;
    int peers = 0;
    try {
      RaftPeerId l = division().getInfo().getLeaderId();
      leader = l == null ? null : quiverIdOf(l);
      peers = division().getRaftConf().getCurrentPeers().size();
    } catch (RuntimeException ignored) {
      // closing: the message does without
    }
    return new RaftException(RaftException.Kind.TIMEOUT, what + " not committed"
        + (timeout == null ? "" : " within " + timeout.toMillis() + " ms")
        + ": no leader, or no quorum of the " + peers + " peer(s) reachable (leader known here: "
        + (leader == null ? "none" : Long.toUnsignedString(leader)) + ")"
        + (what.equals("operation") ? "; it may still be applied once a quorum is back" : ""), cause);
  }

  private static RaftException closedException() {
    return new RaftException(RaftException.Kind.CLOSED, "the Raft node is closed");
  }

  private static TimeDuration duration(Duration d) {
    return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw closedException();
    }
  }

  private static void closeQuietly(RaftClient c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException | RuntimeException e) {
        log.log(System.Logger.Level.DEBUG, "closing a Raft client", e);
      }
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** A proposal's bytes; compared by identity, so that retries of one proposal find its deadline. */
  private static final class Proposal implements Message {
    private final ByteString content;

    Proposal(ByteString content) {
      this.content = content;
    }

    @Override
    public ByteString getContent() {
      return content;
    }

    @Override
    public String toString() {
      return "Proposal(" + content.size() + " bytes)";
    }
  }
}
