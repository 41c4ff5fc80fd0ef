package io.quiver.cluster.shard;

import io.quiver.cluster.meta.ReplicaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings this node's Dead replicas back by themselves: every second, while fewer than {@code
 * limit} recoveries run ({@code storage.performance.incoming_shard_transfers_limit}), a Dead
 * replica of a shard whose primary is Active starts recovering from it ({@link Replica#recover}).
 * A replica left Partial by an interrupted recovery starts again. A limit of 0 turns automatic
 * recovery off.
 */
public final class Recoveries implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Recoveries.class);
  private static final long PERIOD_MS = 1000;

  private final Vertx vertx;
  private final Replication r;
  private final Catalogue catalogue;
  private final int limit;
  private final AtomicInteger running = new AtomicInteger();
  /** After failed attempts: when a replica may try again, and the pause before the next one (doubling up to {@link #MAX_BACKOFF_MS}). */
  private final java.util.Map<String, long[]> backoff = new java.util.concurrent.ConcurrentHashMap<>();
  private static final long MAX_BACKOFF_MS = 30_000;
  private final long timer;

  public Recoveries(Vertx vertx, Replication replication, Catalogue catalogue, int limit) {
    this.vertx = vertx;
    this.r = replication;
    this.catalogue = catalogue;
    this.limit = limit;
    this.timer = limit > 0 ? vertx.setPeriodic(PERIOD_MS, t -> scan()) : -1;
  }

  private void scan() {
    if (running.get() >= limit) {
      return;
    }
    for (String name : catalogue.names()) {
      Collection col;
      try {
        col = catalogue.resolve(name);
      } catch (RuntimeException e) {
        continue;
      }
      for (ShardEndpoint e : col.endpoints().values()) {
        if (!(e instanceof ReplicatedShard rs) || rs.replica() == null || rs.replica().recovering()) {
          continue;
        }
        ShardMeta s;
        try {
          s = r.shard(name, e.id());
        } catch (RuntimeException gone) {
          continue;
        }
        ReplicaState state = s.state(r.self);
        if ((state != ReplicaState.DEAD && state != ReplicaState.PARTIAL) || s.primary() == -1 || s.primary() == r.self) {
          continue;
        }
        String key = name + "/" + e.id();
        long[] wait = backoff.get(key);
        if (wait != null && System.currentTimeMillis() < wait[0]) {
          continue;
        }
        if (running.incrementAndGet() > limit) {
          running.decrementAndGet();
          return;
        }
        rs.replica().recover().whenComplete((v, err) -> {
          running.decrementAndGet();
          if (err == null) {
            backoff.remove(key);
          } else {
            long pause = wait == null ? PERIOD_MS : Math.min(MAX_BACKOFF_MS, wait[1] * 2);
            backoff.put(key, new long[] {System.currentTimeMillis() + pause, pause});
          }
        });
      }
    }
  }

  @Override
  public void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
