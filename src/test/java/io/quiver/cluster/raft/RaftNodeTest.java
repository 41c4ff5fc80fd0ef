package io.quiver.cluster.raft;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * RaftNode on loopback: groups of one and three, followers and leaders lost and restarted,
 * catch-up from the log and from a snapshot, a lost quorum, a peer that moves to another port.
 * Election timeouts are shortened (0.4-0.8 s) to keep the class short.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RaftNodeTest {
  private static final Duration PROPOSE = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path tmp;
  private final List<RaftNode> nodes = new ArrayList<>();

  @AfterEach
  void closeAll() {
    nodes.forEach(RaftNode::close);
  }

  @Test
  void aNodeAloneFormsAGroupAppliesProposalsAndResumesFromItsDirectory() throws Exception {
    ListMachine m = new ListMachine();
    RaftNode n = start(options(1), m);
    for (int i = 1; i <= 5; i++) {
      assertEquals(Integer.toString(i), propose(n, "op" + i));
    }
    assertEquals(List.of("op1", "op2", "op3", "op4", "op5"), m.entries());
    RaftNode.Info info = n.info();
    assertEquals(RaftNode.Role.LEADER, info.role());
    assertEquals(1L, info.leaderId());
    assertTrue(info.voter());
    assertEquals(List.of(new RaftNode.Peer(1, n.address(), true)), info.peers());
    assertEquals(0, info.pendingOperations());
    String address = n.address();
    n.close();

    ListMachine again = new ListMachine();
    RaftNode resumed = start(options(1), again);
    assertEquals(address, resumed.address(), "the remembered port is reused");
    await(() -> again.entries().size() == 5, "the log is replayed");
    assertEquals("6", propose(resumed, "op6"));
    assertEquals(List.of("op1", "op2", "op3", "op4", "op5", "op6"), again.entries());
    assertThrows(IllegalStateException.class,
        () -> RaftNode.start(RaftNode.Options.of(2, "127.0.0.1", 0, tmp.resolve("node-1")), new ListMachine()),
        "a directory of another peer is refused");
  }

  @Test
  void threePeersApplyEveryProposalInTheSameOrderAndAgreeOnTheLeader() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, options(1), options(2), options(3));
    List<CompletableFuture<byte[]>> all = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      all.add(c.get(i % 3).propose(("op" + i).getBytes(UTF_8), PROPOSE).toCompletableFuture());
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    // applied on the proposer when its future completes, on the others soon after
    await(() -> ms.stream().allMatch(m -> m.entries().size() == 12), "every peer applies all");
    assertEquals(ms.get(0).entries(), ms.get(1).entries());
    assertEquals(ms.get(0).entries(), ms.get(2).entries());
    assertEquals(12, Set.copyOf(ms.get(0).entries()).size());

    await(() -> c.stream().map(n -> n.info().term()).distinct().count() == 1
        && c.stream().map(n -> n.info().leaderId()).distinct().count() == 1, "one term, one leader");
    RaftNode.Info info = c.get(0).info();
    assertNotNull(info.leaderId());
    assertEquals(1, c.stream().filter(n -> n.info().role() == RaftNode.Role.LEADER).count());
    assertEquals(List.of(1L, 2L, 3L), info.peers().stream().map(RaftNode.Peer::id).toList());
    for (RaftNode n : c) {
      assertEquals(info.peers(), n.info().peers());
      assertTrue(n.info().voter());
    }
    // a follower learns a commit (the leader's own entries too) a moment before it applies it
    await(() -> c.stream().allMatch(n -> n.info().commitIndex() == n.info().appliedIndex()), "every peer applies what it commits");

    c.get(0).removePeer(3).toCompletableFuture().get(20, TimeUnit.SECONDS);
    await(() -> c.subList(0, 2).stream().allMatch(n -> n.info().peers().size() == 2), "peer 3 is removed");
    assertEquals("13", propose(c.get(1), "after-removal"));
    await(() -> !c.get(2).info().voter(), "peer 3 knows it is out");
  }

  @Test
  void aJoinThatNoPeerAnswersFailsWithinItsTimeout() throws Exception {
    RaftNode.Options o = options(9).withRequestTimeout(Duration.ofMillis(500)).withJoinTimeout(Duration.ofSeconds(1));
    ExecutionException e = assertThrows(ExecutionException.class, () -> RaftNode.join(o, new ListMachine(),
        List.of(new InetSocketAddress("127.0.0.1", freePort()))).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(RaftException.Kind.TIMEOUT, assertInstanceOf(RaftException.class, e.getCause()).kind());
  }

  @Test
  void aStoppedFollowerCatchesUpFromTheLog() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, options(1), options(2), options(3));
    int f = follower(c);
    c.get(f).close();
    RaftNode other = c.get(leader(c));
    for (int i = 0; i < 5; i++) {
      propose(other, "while-down-" + i);
    }
    ListMachine back = new ListMachine();
    RaftNode restarted = start(options(f + 1), back);
    await(() -> back.entries().equals(ms.get(leader(c)).entries()) && back.entries().size() == 5,
        "the follower catches up");
    assertEquals(List.of(), back.restores().stream().filter(r -> !r.isEmpty()).toList(),
        "caught up from the log: no snapshot installed");
    assertEquals("6", propose(restarted, "after"));
  }

  @Test
  void aFollowerBehindThePurgedLogGetsTheLeadersSnapshot() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, snapshotting(1), snapshotting(2), snapshotting(3));
    propose(c.get(0), "before");
    int f = follower(c);
    await(() -> ms.get(f).entries().size() == 1, "the follower has the first entry");
    c.get(f).close();
    RaftNode other = c.get(leader(c));
    for (int i = 0; i < 60; i++) {
      propose(other, "while-down-" + i);
    }
    ListMachine back = new ListMachine();
    RaftNode restarted = start(snapshotting(f + 1), back);
    await(() -> back.entries().equals(ms.get(leader(c)).entries()), "the follower catches up");
    assertTrue(back.restores().stream().anyMatch(r -> r.contains("while-down-30")),
        "caught up through a snapshot the leader installed: " + back.restores().size() + " restore(s)");
    propose(restarted, "after");
    await(() -> ms.get(leader(c)).entries().size() == 62 && back.entries().size() == 62, "both apply the next one");
  }

  @Test
  void aKilledLeaderIsReplacedAndCatchesUpWhenItReturns() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, options(1), options(2), options(3));
    propose(c.get(0), "first");
    int l = leader(c);
    c.get(l).close();
    List<RaftNode> rest = c.stream().filter(n -> n != c.get(l)).toList();
    await(() -> rest.stream().anyMatch(n -> n.info().role() == RaftNode.Role.LEADER), "a new leader");
    RaftNode newLeader = rest.stream().filter(n -> n.info().role() == RaftNode.Role.LEADER).findFirst().orElseThrow();
    assertNotEquals(l + 1L, newLeader.peerId());
    for (RaftNode n : rest) {
      propose(n, "without-" + (l + 1) + "-on-" + n.peerId());
    }
    ListMachine back = new ListMachine();
    start(options(l + 1), back);
    ListMachine reference = ms.get((int) newLeader.peerId() - 1);
    await(() -> back.entries().equals(reference.entries()) && back.entries().size() == 3, "the old leader catches up");
  }

  @Test
  void withoutAQuorumAProposalTimesOutAndIsAppliedAtMostOnceWhenTheQuorumReturns() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, options(1), options(2), options(3));
    propose(c.get(0), "first");
    int l = leader(c);
    List<Integer> followers = new ArrayList<>(List.of(0, 1, 2));
    followers.remove(Integer.valueOf(l));
    followers.forEach(i -> c.get(i).close());

    long t0 = System.nanoTime();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> c.get(l).propose("lost".getBytes(UTF_8), Duration.ofSeconds(2)).toCompletableFuture().get());
    long ms0 = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    RaftException re = assertInstanceOf(RaftException.class, e.getCause());
    assertEquals(RaftException.Kind.TIMEOUT, re.kind());
    assertTrue(ms0 < 3000, "fails within its timeout, took " + ms0 + " ms");
    assertTrue(re.getMessage().contains("no quorum"), re.getMessage());
    assertEquals(List.of("first"), ms.get(l).entries(), "nothing is applied without a quorum");
    assertEquals(0, c.get(l).info().pendingOperations());

    int f = followers.get(0);
    ListMachine back = new ListMachine();
    RaftNode restarted = start(options(f + 1), back);
    propose(restarted, "after");
    await(() -> ms.get(l).entries().contains("after") && back.entries().contains("after"), "the pair applies");
    List<String> entries = ms.get(l).entries();
    assertTrue(Collections.frequency(entries, "lost") <= 1, "applied at most once: " + entries);
    assertEquals(entries, back.entries());
    System.out.println("after the quorum returned: " + entries);
  }

  @Test
  void aPeerRestartedOnAnotherPortIsReachedThere() throws Exception {
    List<ListMachine> ms = List.of(new ListMachine(), new ListMachine(), new ListMachine());
    List<RaftNode> c = cluster(ms, options(1), options(2), options(3));
    propose(c.get(0), "first");
    RaftNode moved = c.get(2);
    String oldAddress = moved.address();
    moved.close();
    propose(c.get(0), "while-away");

    int newPort = freePort();
    ListMachine back = new ListMachine();
    RaftNode again = start(options(3).withPort(newPort), back);
    assertEquals("127.0.0.1:" + newPort, again.address());
    assertNotEquals(oldAddress, again.address());
    await(() -> c.subList(0, 2).stream().allMatch(n -> n.info().peers().contains(new RaftNode.Peer(3, again.address(), true))),
        "the others learn the new address");
    propose(c.get(0), "after-move");
    await(() -> back.entries().equals(List.of("first", "while-away", "after-move")), "the moved peer gets new entries");
    propose(again, "from-the-moved-peer");
    await(() -> ms.get(0).entries().contains("from-the-moved-peer"), "and proposes");

    // its new address is now the one the group has: a restart of another peer finds it there
    int l = leader(List.of(c.get(0), c.get(1), again));
    RaftNode other = l == 0 ? c.get(1) : c.get(0);
    int otherIndex = other == c.get(0) ? 0 : 1;
    other.close();
    ListMachine otherBack = new ListMachine();
    RaftNode otherAgain = start(options(otherIndex + 1), otherBack);
    propose(again, "last");
    await(() -> otherBack.entries().contains("last"), "a restarted peer reaches the moved one");
    assertEquals(otherBack.entries(), back.entries());
    assertTrue(otherAgain.info().peers().contains(new RaftNode.Peer(3, again.address(), true)));
  }

  // ---------------------------------------------------------------- helpers

  private RaftNode.Options options(long peerId) {
    return RaftNode.Options.of(peerId, "127.0.0.1", 0, tmp.resolve("node-" + peerId))
        .withElectionTimeout(Duration.ofMillis(400), Duration.ofMillis(800))
        .withRequestTimeout(Duration.ofSeconds(2))
        .withJoinTimeout(Duration.ofSeconds(20));
  }

  /** Snapshots every 10 entries into 1 KiB log segments, so the log is purged early. */
  private RaftNode.Options snapshotting(long peerId) {
    return options(peerId).withSnapshotEveryEntries(10).withLogSegmentBytes(1024);
  }

  private RaftNode start(RaftNode.Options o, MetaMachine m) throws IOException {
    RaftNode n = RaftNode.start(o, m);
    nodes.add(n);
    return n;
  }

  /** The first peer forms the group; the others join through its address. */
  private List<RaftNode> cluster(List<ListMachine> ms, RaftNode.Options... os) throws Exception {
    List<RaftNode> c = new ArrayList<>();
    c.add(start(os[0], ms.get(0)));
    InetSocketAddress first = socketAddress(c.get(0).address());
    for (int i = 1; i < os.length; i++) {
      RaftNode n = RaftNode.join(os[i], ms.get(i), List.of(first)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      nodes.add(n);
      c.add(n);
      assertTrue(n.info().voter());
    }
    await(() -> c.stream().allMatch(n -> n.info().peers().size() == os.length && n.info().leaderId() != null),
        "every peer knows the group and its leader");
    return c;
  }

  private static int leader(List<RaftNode> c) {
    for (int i = 0; i < c.size(); i++) {
      if (c.get(i).info().role() == RaftNode.Role.LEADER) {
        return i;
      }
    }
    throw new AssertionError("no leader");
  }

  private static int follower(List<RaftNode> c) {
    return (leader(c) + 1) % c.size();
  }

  private static String propose(RaftNode n, String op) throws Exception {
    return new String(n.propose(op.getBytes(UTF_8), PROPOSE).toCompletableFuture().get(10, TimeUnit.SECONDS), UTF_8);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }

  private static InetSocketAddress socketAddress(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** An append-only list of strings; apply answers the new size; snapshots are the lines. */
  static final class ListMachine implements MetaMachine {
    private final List<String> entries = new ArrayList<>();
    private final List<List<String>> restores = new ArrayList<>();

    @Override
    public synchronized byte[] apply(long index, byte[] operation) {
      entries.add(new String(operation, UTF_8));
      return Integer.toString(entries.size()).getBytes(UTF_8);
    }

    @Override
    public synchronized byte[] snapshot() {
      return String.join("\n", entries).getBytes(UTF_8);
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
      String s = new String(snapshot, UTF_8);
      entries.clear();
      if (!s.isEmpty()) {
        entries.addAll(Arrays.asList(s.split("\n")));
      }
      restores.add(List.copyOf(entries));
    }

    synchronized List<String> entries() {
      return List.copyOf(entries);
    }

    synchronized List<List<String>> restores() {
      return List.copyOf(restores);
    }

    @Override
    public synchronized String toString() {
      return entries.stream().collect(Collectors.joining(",", "[", "]"));
    }
  }
}
