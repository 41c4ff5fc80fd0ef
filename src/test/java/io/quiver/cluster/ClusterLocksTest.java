package io.quiver.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.bus.Addresses;
import io.quiver.lock.DiskGuard;
import io.quiver.lock.LockState;
import io.quiver.lock.LockVerticle;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The cluster-wide lock over one Vert.x: two nodes' lock verticles and a third node that never answers. */
@Timeout(30)
class ClusterLocksTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static <T> T get(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The given nodes, all live. */
  static Peers peers(List<Peer> live) {
    return new Peers() {
      @Override
      public boolean clustered() {
        return true;
      }

      @Override
      public long selfId() {
        return 1;
      }

      @Override
      public io.vertx.core.Future<List<Peer>> live() {
        return io.vertx.core.Future.succeededFuture(live);
      }

      @Override
      public io.vertx.core.Future<Void> register(Peer self) {
        return io.vertx.core.Future.succeededFuture();
      }

      @Override
      public io.vertx.core.Future<Void> deregister() {
        return io.vertx.core.Future.succeededFuture();
      }
    };
  }

  @Test
  void locksEveryAnsweringNodeAndNamesTheOthers() throws Exception {
    get(vertx.deployVerticle(new LockVerticle(new Addresses("1"))));
    get(vertx.deployVerticle(new LockVerticle(new Addresses("2"))));
    // node 3 is listed but has no lock verticle: it cannot answer
    List<Peer> live = List.of(new Peer(1, "http://a:6333", "n1"), new Peer(2, "http://b:6333", "n2"), new Peer(3, "http://c:6333", "n3"));
    var failures = new SendFailures();
    var locks = new ClusterLocks(vertx, peers(live), failures);

    var report = get(locks.set(new LockState(true, "maintenance"), 2000));
    assertEquals(List.of("1", "2"), List.copyOf(report.answered().keySet()));
    report.answered().values().forEach(previous -> assertEquals(false, previous.get("write")));
    assertEquals(List.of("3"), List.copyOf(report.notAnswered().keySet()));
    assertEquals("http://c:6333", report.notAnswered().get("3").get("uri"));
    @SuppressWarnings("unchecked")
    var failure = (Map<String, Object>) failures.snapshot().get("http://c:6333");
    assertEquals(1L, failure.get("count"));

    var now = get(locks.get(2000));
    now.answered().values().forEach(state -> {
      assertEquals(true, state.get("write"));
      assertEquals("maintenance", state.get("error_message"));
    });
    assertTrue(now.toResult().containsKey("not_answered"));
    assertEquals(2L, ((Map<?, ?>) failures.snapshot().get("http://c:6333")).get("count"));
  }

  @Test
  void showsEachNodesDiskWriteBlockWhileItIsOn() throws Exception {
    get(vertx.deployVerticle(new LockVerticle(new Addresses("1"))));
    // node 2 has no room left: its probe reads 0 bytes free
    get(vertx.deployVerticle(new LockVerticle(new Addresses("2"), new DiskGuard(1 << 20, 2 << 20), () -> 0L, 20)));
    var locks = new ClusterLocks(vertx, peers(List.of(new Peer(1, "http://a:6333", "n1"), new Peer(2, "http://b:6333", "n2"))),
        new SendFailures());
    long deadline = System.currentTimeMillis() + 10_000;
    ClusterLocks.Report report;
    do {
      report = get(locks.get(2000));
    } while (!report.answered().get("2").containsKey("disk_write_block") && System.currentTimeMillis() < deadline);
    @SuppressWarnings("unchecked")
    var block = (Map<String, Object>) report.answered().get("2").get("disk_write_block");
    assertTrue(((String) block.get("error_message")).startsWith("Insufficient storage:"), block.toString());
    assertEquals(false, report.answered().get("2").get("write"), "the disk block is not the manual lock");
    assertFalse(report.answered().get("1").containsKey("disk_write_block"));
  }
}
