package io.quiver.cluster.shard;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Sends a primary's frames to one replica, in sequence order: one batch in flight at a time, and
 * whatever queued meanwhile goes in the next batch (so concurrent writes share messages). After a
 * failure every frame queued or sent later fails too: the replica has missed a frame and must be
 * marked Dead; a new sender is made for it once it takes writes again.
 */
final class FrameSender {
  private static final int MAX_FRAMES = 256;
  private static final long MAX_BYTES = 8L << 20;

  private record Pending(long seq, byte[] payload, boolean visible, CompletableFuture<Void> done) {}

  private final Replication replication;
  private final String collection;
  private final int shard;
  final long target;
  final long term;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private boolean inFlight;
  private Throwable broken;

  FrameSender(Replication replication, String collection, int shard, long target, long term) {
    this.replication = replication;
    this.collection = collection;
    this.shard = shard;
    this.target = target;
    this.term = term;
  }

  /** Whether a failure has ended this sender. */
  synchronized boolean broken() {
    return broken != null;
  }

  /** Queues frame {@code seq}; completes once the replica applied it. Never blocks. */
  CompletableFuture<Void> send(long seq, byte[] payload, boolean wait) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    boolean start;
    synchronized (this) {
      if (broken != null) {
        done.completeExceptionally(broken);
        return done;
      }
      queue.add(new Pending(seq, payload, wait, done));
      start = !inFlight;
      inFlight = true;
    }
    if (start) {
      CompletableFuture.runAsync(this::pump);
    }
    return done;
  }

  private void pump() {
    List<Pending> batch = new ArrayList<>();
    synchronized (this) {
      long bytes = 0;
      while (!queue.isEmpty() && batch.size() < MAX_FRAMES && (batch.isEmpty() || bytes + queue.peek().payload.length <= MAX_BYTES)) {
        Pending p = queue.poll();
        bytes += p.payload.length;
        batch.add(p);
      }
      if (batch.isEmpty()) {
        inFlight = false;
        return;
      }
    }
    ObjectNode args = ShardCodec.F.objectNode().put("term", term);
    boolean wait = false;
    ArrayNode frames = args.putArray("frames");
    Base64.Encoder b64 = Base64.getEncoder();
    for (Pending p : batch) {
      frames.addObject().put("seq", p.seq).put("data", b64.encodeToString(p.payload));
      wait |= p.visible;
    }
    args.put("wait", wait);
    replication.remote(collection, shard, target).call("frames", args, Replication.FRAMES_TIMEOUT_MS).whenComplete((r, e) -> {
      if (e == null) {
        batch.forEach(p -> p.done.complete(null));
        pump();
        return;
      }
      List<Pending> failed = new ArrayList<>(batch);
      synchronized (this) {
        broken = io.quiver.storage.collection.Shards.cause(e);
        failed.addAll(queue);
        queue.clear();
        inFlight = false;
      }
      failed.forEach(p -> p.done.completeExceptionally(broken));
    });
  }
}
