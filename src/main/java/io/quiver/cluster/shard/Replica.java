package io.quiver.cluster.shard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.cluster.meta.MetaOp;
import io.quiver.cluster.meta.ReplicaState;
import io.quiver.cluster.meta.ShardMeta;
import io.quiver.engine.Action;
import io.quiver.engine.Shard;
import io.quiver.error.ApiException;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.Shards;
import io.quiver.storage.point.PointWrites;
import io.quiver.storage.query.LocalShard;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's replica of one shard, in its three roles (see {@link Replication} for the protocol):
 *
 * <ul>
 *   <li><b>primary</b> ({@link #primaryWrite}): applies a write as one frame, forwards the frame to
 *       every other replica that takes writes, and acknowledges once each applied it or was marked
 *       Dead. On becoming primary of a new term it first fences the other replicas and marks Dead
 *       those whose last frame differs from its own;
 *   <li><b>follower</b> ({@link #applyFrames}, {@link #fence}): applies the primary's frames in
 *       sequence order, refusing frames of a term older than one it knows;
 *   <li><b>recovering</b> ({@link #recover}): turns itself from Dead to Partial, takes a
 *       point-in-time export from the primary while applying the primary's new frames, and turns
 *       Active once it holds exactly the primary's points.
 * </ul>
 */
public final class Replica {
  private static final Logger log = LoggerFactory.getLogger(Replica.class);
  /** The status of a call that reached a replica that cannot take it in its role now: the caller retries after the metadata moved on. */
  static final int MISDIRECTED = 421;
  private static final int PAGE = 256;
  private static final long PARTIAL_WAIT_MS = 10_000;

  private final Replication r;
  private final String collection;
  private final int id;
  private final LocalShard local;
  private final Shard engine;
  /** Held shared by the primary's writes, exclusively by a fence: after a fence no write of an older term is applied. */
  private final ReentrantReadWriteLock fence = new ReentrantReadWriteLock();
  private volatile long fencedTerm;
  private final Map<Long, FrameSender> senders = new ConcurrentHashMap<>();
  private long promotedTerm;
  private CompletableFuture<Void> promotion;
  /** Orders the follower's frame application, a fence and the switch to a recovery's base. */
  private final Object frames = new Object();
  /** Frames received while a recovery waits for its base (null otherwise). */
  private List<Frame> buffered;
  private volatile boolean recovering;
  /**
   * The primary term of the last frames this replica applied (written by a primary, or received),
   * kept in the shard's directory: a replica whose term is still the shard's term holds a prefix of
   * the primary's frames, so that a WAL delta can bring it up to date. 0: unknown (never a delta).
   */
  private volatile long lastTerm;
  private final java.nio.file.Path termFile;

  record Frame(long seq, byte[] payload) {}

  public Replica(Replication replication, String collection, int id, LocalShard local) {
    this.r = replication;
    this.collection = collection;
    this.id = id;
    this.local = local;
    this.engine = local.shard();
    this.termFile = io.quiver.storage.collection.ShardLayout.shardDir(local.collection().dir, id).resolve(TERM_FILE);
    long t = 0;
    try {
      if (java.nio.file.Files.isRegularFile(termFile)) {
        t = Long.parseLong(java.nio.file.Files.readString(termFile).trim());
      }
    } catch (IOException | NumberFormatException e) {
      log.warn("Shard {} of collection {}: unreadable {} ({}); the next recovery copies the whole shard", id, collection, termFile, e.toString());
    }
    this.lastTerm = t;
    replication.register(this);
  }

  /** Set when the replica left Partial while a recovery ran: that recovery ends as failed. */
  private volatile boolean interrupted;

  void interrupt() {
    if (recovering) {
      interrupted = true;
    }
  }

  private void checkNotInterrupted() throws IOException {
    if (interrupted) {
      throw new IOException("the transfer was aborted or restarted while it ran");
    }
  }

  /** The file holding {@link #lastTerm} in the shard's directory. */
  static final String TERM_FILE = "replica-term";

  private void lastTerm(long term) throws IOException {
    if (term != lastTerm) {
      io.quiver.storage.collection.AtomicFiles.write(termFile, Long.toString(term).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      lastTerm = term;
    }
  }

  /** The local shard, for reads. */
  public LocalShard local() {
    return local;
  }

  public int id() {
    return id;
  }

  public String collection() {
    return collection;
  }

  boolean recovering() {
    return recovering;
  }

  private ApiException misdirected(String why) {
    return new ApiException(MISDIRECTED, "Service unavailable: shard " + id + " of collection `" + collection + "` on peer " + r.self
        + " " + why);
  }

  // ---- primary ----

  private record Applied(long seq, boolean completed, Map<Long, CompletableFuture<Void>> forwards) {}

  /** Applies a write as the shard's primary: see the class comment. */
  public CompletionStage<ShardEndpoint.WriteResult> primaryWrite(ShardEndpoint.Write call) {
    ShardMeta s;
    try {
      s = r.shard(collection, id);
    } catch (ApiException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (s.primary() != r.self) {
      return CompletableFuture.failedFuture(misdirected("is not the shard's primary (term " + s.term() + ")"));
    }
    if ("strong".equals(call.ordering()) && s.highest() != r.self) {
      return CompletableFuture.failedFuture(new ApiException(503, "Service unavailable: a write with ordering `strong` goes to the "
          + "replica of shard " + id + " on peer " + s.highest() + ", which is " + s.state(s.highest()).shown()));
    }
    long term = s.term();
    return promoted(term)
        .thenCompose(v -> local.run(() -> applyAsPrimary(call, term)))
        .thenCompose(applied -> settle(applied, term));
  }

  private Applied applyAsPrimary(ShardEndpoint.Write call, long term) throws IOException {
    fence.readLock().lock();
    try {
      if (fencedTerm > term) {
        throw misdirected("was primary in term " + term + ", and term " + fencedTerm + " has begun");
      }
      if (term > lastTerm) {
        synchronized (frames) {
          lastTerm(term);
        }
      }
      Map<Long, CompletableFuture<Void>> forwards = new LinkedHashMap<>();
      long seq = PointWrites.applyToShard(engine, local.collection().schema(), call.operations(), call.waitForResult(),
          (frame, payload) -> forward(frame, payload, call.waitForResult(), term, forwards));
      return new Applied(seq, call.waitForResult() && engine.isVisible(seq), forwards);
    } finally {
      fence.readLock().unlock();
    }
  }

  /** Under the shard's write lock: hands the frame to the sender of every other replica that takes writes now. */
  private void forward(long seq, byte[] payload, boolean wait, long term, Map<Long, CompletableFuture<Void>> forwards) {
    ShardMeta now;
    try {
      now = r.shard(collection, id);
    } catch (ApiException e) {
      return;
    }
    for (long peer : now.replicas()) {
      if (peer != r.self && now.state(peer).takesWrites()) {
        FrameSender sender = senders.compute(peer, (p, old) -> old == null || old.broken() || old.term != term
            ? new FrameSender(r, collection, id, p, term) : old);
        forwards.put(peer, sender.send(seq, payload, wait));
        ReplicationMetrics.FRAMES_FORWARDED.incrementAndGet();
      }
    }
  }

  /** Waits for the forwards; marks the replicas that failed Dead before answering. */
  private CompletionStage<ShardEndpoint.WriteResult> settle(Applied applied, long term) {
    List<CompletableFuture<Void>> all = new ArrayList<>(applied.forwards().values());
    return CompletableFuture.allOf(all.stream().map(f -> f.handle((v, e) -> null)).toArray(CompletableFuture[]::new))
        .thenCompose(v -> {
          List<CompletableFuture<Void>> marks = new ArrayList<>();
          int ok = 1;
          for (var e : applied.forwards().entrySet()) {
            if (!e.getValue().isCompletedExceptionally()) {
              ok++;
              continue;
            }
            long peer = e.getKey();
            Throwable why = Shards.cause(e.getValue().handle((x, err) -> err).join());
            if (deposed(term)) {
              // a new primary took over (a transfer or a drop changed the replicas): a proposal made in this
              // term would be refused, and this node may be applying the change that deposed it, which waits
              // for this write; the coordinator sends the write to the new primary
              return CompletableFuture.<ShardEndpoint.WriteResult>failedFuture(misdirected("was primary in term " + term
                  + ", and a new term has begun (the replica on peer " + peer + " refused frame " + applied.seq() + ": " + why.getMessage() + ")"));
            }
            log.warn("Replica of shard {} of collection {} on peer {} missed frame {} ({}); marking it dead", id, collection, peer,
                applied.seq(), why.getMessage());
            marks.add(markDead(peer, term).toCompletableFuture().whenComplete((x, err) -> {
              if (err != null) {
                keepMarkingDead(peer, term); // the write fails, but the replica that missed it must not stay Active
              }
            }));
          }
          int successes = ok;
          return CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new)).handle((x, err) -> {
            if (err != null && deposed(term)) {
              throw misdirected("was primary in term " + term + ", and a new term began before a replica that missed frame "
                  + applied.seq() + " was marked dead");
            }
            if (err != null) {
              throw new ApiException(503, "Service unavailable: the write was applied on peer " + r.self + " but a replica of shard " + id
                  + " that missed it could not be marked dead: " + Shards.message(err));
            }
            int factor = r.writeConsistencyFactor(collection);
            if (successes < factor) {
              throw new ApiException(503, "Service unavailable: Failed to apply operation to at least `write_consistency_factor` "
                  + "replicas. Consistency factor: " + factor + ", successful: " + successes);
            }
            return new ShardEndpoint.WriteResult(applied.seq(), applied.completed());
          });
        });
  }

  /** Whether this node's metadata shows the shard past primary term {@code term}. */
  private boolean deposed(long term) {
    try {
      return r.shard(collection, id).term() != term;
    } catch (ApiException gone) {
      return false;
    }
  }

  /**
   * Proposes, every second until it is committed, that {@code peer}'s replica, which missed a
   * frame this primary applied, is Dead; stops when the shard's term moved on (the new primary's
   * take-over compares the replicas itself) or the replica no longer takes writes.
   */
  private void keepMarkingDead(long peer, long term) {
    Replication.delay(1000).thenCompose(v -> {
      ShardMeta s;
      try {
        s = r.shard(collection, id);
      } catch (ApiException gone) {
        return CompletableFuture.completedFuture(null);
      }
      if (s.term() != term || s.state(peer) == null || !s.state(peer).takesWrites()) {
        return CompletableFuture.completedFuture(null);
      }
      return markDead(peer, term).toCompletableFuture().whenComplete((x, err) -> {
        if (err != null) {
          keepMarkingDead(peer, term);
        }
      });
    });
  }

  private CompletionStage<Void> markDead(long peer, long term) {
    ReplicationMetrics.MARKED_DEAD.incrementAndGet();
    return r.propose(new MetaOp.SetReplicaState(collection, id, peer, ReplicaState.DEAD, null, term));
  }

  /** Completes once this peer may write as primary of {@code term}: the other replicas are fenced and agree with it, or are Dead. */
  private CompletionStage<Void> promoted(long term) {
    synchronized (this) {
      if (promotion != null && promotedTerm == term && !promotion.isCompletedExceptionally()) {
        return promotion;
      }
      promotedTerm = term;
      promotion = new CompletableFuture<>();
      CompletableFuture<Void> out = promotion;
      fence(term).thenCompose(seq -> syncReplicas(term, seq)).whenComplete((v, e) -> {
        if (e == null) {
          out.complete(null);
        } else {
          // the term moved on (or consensus is away) while taking over: the caller tries the primary of now
          out.completeExceptionally(misdirected("could not take over as primary in term " + term + ": " + Shards.message(e)));
        }
      });
      return out;
    }
  }

  private CompletionStage<Void> syncReplicas(long term, long seq) {
    ShardMeta s = r.shard(collection, id);
    List<CompletableFuture<Void>> checks = new ArrayList<>();
    for (long peer : s.replicas()) {
      if (peer == r.self || !s.state(peer).takesWrites() || s.state(peer) == ReplicaState.PARTIAL) {
        // a Partial replica is being filled from this primary's export, not at its frame: it is not
        // behind, and a change of primary has made the older ones Dead already
        continue;
      }
      ObjectNode args = ShardCodec.F.objectNode().put("term", term);
      checks.add(r.remote(collection, id, peer).call("fence", args, Replication.FRAMES_TIMEOUT_MS).handle((j, e) -> {
        if (e == null && j.path("seq").asLong(-1) == seq) {
          return CompletableFuture.<Void>completedFuture(null);
        }
        log.info("Shard {} of collection {}: the replica on peer {} {} primary {} at frame {}, term {}; marking it dead", id, collection,
            peer, e == null ? "is at frame " + j.path("seq").asLong() + ", not with" : "did not answer (" + Shards.message(e) + ") to",
            r.self, seq, term);
        return markDead(peer, term).toCompletableFuture();
      }).thenCompose(f -> f).toCompletableFuture());
    }
    return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new));
  }

  // ---- follower ----

  /** Fences the replica at {@code term}: frames of older terms are refused from now on. Answers the last frame applied. */
  public CompletionStage<Long> fence(long term) {
    return local.run(() -> {
      synchronized (frames) {
        fence.writeLock().lock();
        try {
          fencedTerm = Math.max(fencedTerm, term);
          return engine.appliedSeq();
        } finally {
          fence.writeLock().unlock();
        }
      }
    });
  }

  /** Applies the primary's frames of {@code term}, in order; answers the last frame applied. */
  public CompletionStage<Long> applyFrames(long term, List<Frame> batch, boolean wait) {
    return local.run(() -> {
      synchronized (frames) {
        long known = fencedTerm;
        try {
          known = Math.max(known, r.shard(collection, id).term());
        } catch (ApiException e) {
          // the collection is going away: the frames are refused below if it is gone
        }
        if (term < known) {
          throw misdirected("knows primary term " + known + " and refuses frames of term " + term);
        }
        fencedTerm = Math.max(fencedTerm, term);
        if (buffered != null) {
          buffered.addAll(batch);
          return engine.appliedSeq();
        }
        if (!recovering && awaitsRecovery()) {
          // a transfer's receiver before its recovery began: the primary applied these frames before
          // the export the recovery will start from, which holds them
          return engine.appliedSeq();
        }
        if (term != lastTerm) {
          lastTerm(term);
        }
        for (int i = 0; i < batch.size(); i++) {
          Frame f = batch.get(i);
          try {
            engine.applyFrame(f.seq(), f.payload(), wait && i == batch.size() - 1);
          } catch (Shard.SequenceGap gap) {
            throw new ApiException(409, "Conflict: replica of shard " + id + " of collection `" + collection + "` on peer " + r.self
                + ": " + gap.getMessage());
          }
        }
        return engine.appliedSeq();
      }
    });
  }

  /** Whether this node's metadata shows this replica Partial or Dead: it must recover (from an export) before it is read. */
  private boolean awaitsRecovery() {
    try {
      ReplicaState state = r.shard(collection, id).state(r.self);
      return state == ReplicaState.PARTIAL || state == ReplicaState.DEAD;
    } catch (ApiException e) {
      return false;
    }
  }

  static List<Frame> frames(JsonNode a) {
    Base64.Decoder b64 = Base64.getDecoder();
    List<Frame> out = new ArrayList<>(a.size());
    a.forEach(f -> out.add(new Frame(f.get("seq").asLong(), b64.decode(f.get("data").asText()))));
    return out;
  }

  // ---- serving a recovering replica ----

  /** Opens a point-in-time export for {@code target}, once the metadata shows it Partial in {@code term}: frames above the export's sequence are forwarded to it. */
  public CompletionStage<JsonNode> exportOpen(long target, long term) {
    return partial(target, term, System.nanoTime() + PARTIAL_WAIT_MS * 1_000_000)
        .thenCompose(v -> promoted(term))
        .thenCompose(v -> local.run(() -> {
          Shard.Export export = engine.export();
          String exportId = r.register(export);
          return ShardCodec.F.objectNode().put("export", exportId).put("seq", export.seq()).put("total", export.total());
        }));
  }

  private CompletionStage<Void> partial(long target, long term, long deadline) {
    ShardMeta s = r.shard(collection, id);
    if (s.term() == term && s.primary() == r.self && s.state(target) == ReplicaState.PARTIAL) {
      return CompletableFuture.completedFuture(null);
    }
    if (s.term() > term || System.nanoTime() > deadline) {
      return CompletableFuture.failedFuture(misdirected("cannot serve peer " + target + " in term " + term + ": the shard is in term "
          + s.term() + " with primary " + s.primary() + " and the replica is " + (s.state(target) == null ? "absent" : s.state(target).shown())));
    }
    return Replication.delay(50).thenCompose(v -> partial(target, term, deadline));
  }

  /** The next page of an export: points with their versions, in the WAL's encoding. */
  public CompletionStage<JsonNode> exportNext(String exportId, int max) {
    return local.run(() -> {
      List<Shard.Versioned> page = r.export(exportId).next(Math.min(Math.max(max, 1), 4096));
      ObjectNode o = ShardCodec.F.objectNode();
      ArrayNode versions = o.putArray("versions");
      List<Action> puts = new ArrayList<>(page.size());
      for (Shard.Versioned v : page) {
        versions.add(v.version());
        puts.add(new Action.Put(v.point()));
      }
      o.put("data", Base64.getEncoder().encodeToString(r.codec.encode(puts)));
      return o;
    });
  }

  public void exportClose(String exportId) {
    r.closeExport(exportId);
  }

  // ---- recovering ----

  /**
   * Brings this Dead (or Partial) replica back: see the class comment. By WAL delta when this
   * replica's frames are a prefix of the primary's (its last frames are of the shard's current
   * term) and the primary's WAL still holds the frames it misses, unless {@code stream_records} or
   * {@code snapshot} was asked for; else by a point-in-time export. Completes when it is Active, or
   * fails leaving it Dead.
   */
  public CompletionStage<Void> recover() {
    ShardMeta s = r.shard(collection, id);
    long primary = s.primary();
    long term = s.term();
    if (primary == -1 || primary == r.self || recovering) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (frames) {
      recovering = true;
      interrupted = false;
      buffered = new ArrayList<>(); // frames sent once the primary sees us Partial wait for the base
    }
    ShardMeta.Transfer asked = s.transferTo(r.self);
    String method = asked != null ? asked.method() : r.recoveryMethod(lastTerm == term);
    boolean delta = "wal_delta".equals(method) && lastTerm == term;
    log.info("Shard {} of collection {}: recovering from peer {} by {} (this replica's last frames are of term {}, the shard is in term {})",
        id, collection, primary, delta ? "WAL delta" : "streaming records", lastTerm, term);
    RemoteShard source = r.remote(collection, id, primary);
    String[] exportId = {null};
    long t0 = System.nanoTime();
    long[] points = {0};
    String[] how = {delta ? "WAL delta" : "streaming records"};
    CompletionStage<Void> partial = s.state(r.self) == ReplicaState.PARTIAL ? CompletableFuture.completedFuture(null)
        : r.propose(new MetaOp.StartTransfer(collection, id, primary, r.self, true, method));
    CompletionStage<Void> filled = partial.thenCompose(v -> delta
        ? walDelta(source, term, points).handle((done, e) -> {
          if (e == null && done) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          log.info("Shard {} of collection {}: WAL delta from peer {} not possible ({}); streaming records instead", id, collection,
              primary, e == null ? "its WAL no longer holds the frames this replica misses" : Shards.message(e));
          how[0] = "streaming records";
          return stream(source, term, exportId, points, t0);
        }).thenCompose(f -> f)
        : stream(source, term, exportId, points, t0));
    CompletionStage<Void> flow = filled
        .thenCompose(v -> local.run(() -> {
          synchronized (frames) {
            List<Frame> early = buffered;
            buffered = null;
            early.sort(Comparator.comparingLong(Frame::seq));
            for (Frame f : early) {
              if (f.seq() > engine.appliedSeq()) {
                engine.applyFrame(f.seq(), f.payload(), false);
              }
            }
            lastTerm(term);
          }
          checkNotInterrupted();
          return null;
        }))
        .thenCompose(v -> r.propose(new MetaOp.SetReplicaState(collection, id, r.self, ReplicaState.ACTIVE, ReplicaState.PARTIAL, term)));
    return flow.handle((v, e) -> {
      recovering = false;
      r.progress(collection, id, null);
      synchronized (frames) {
        buffered = null;
      }
      if (exportId[0] != null) {
        source.call("export_close", ShardCodec.F.objectNode().put("export", exportId[0]), 5_000);
      }
      if (e == null) {
        ReplicationMetrics.TRANSFERS_DONE.incrementAndGet();
        log.info("Shard {} of collection {}: recovered by {} from peer {} ({} points or frames) in {} ms; the replica is Active", id,
            collection, how[0], primary, points[0], (System.nanoTime() - t0) / 1_000_000);
        return CompletableFuture.<Void>completedFuture(null);
      }
      ReplicationMetrics.TRANSFERS_FAILED.incrementAndGet();
      log.warn("Shard {} of collection {}: recovery from peer {} failed: {}", id, collection, primary, Shards.message(e));
      // ending the engine's recovery commits: on the storage's pools, never on the thread that completed the call
      CompletionStage<Void> ended = local.run(() -> {
        try {
          engine.endRecovery();
        } catch (IOException | RuntimeException ignored) {
          // not in recovery, or the shard is closing
        }
        return null;
      });
      if (interrupted) {
        // the transfer that replaced it owns the replica's state
        return ended.handle((x, err) -> (Void) null).thenCompose(x -> CompletableFuture.<Void>failedFuture(Shards.cause(e)));
      }
      return ended.handle((x, err) -> (Void) null)
          .thenCompose(x -> r.propose(new MetaOp.SetReplicaState(collection, id, r.self, ReplicaState.DEAD, ReplicaState.PARTIAL, 0)))
          .handle((x, err) -> (Void) null)
          .thenCompose(x -> CompletableFuture.<Void>failedFuture(Shards.cause(e)));
    }).thenCompose(f -> f);
  }

  /** Fills the replica from a point-in-time export of the primary; the frames above it come forwarded. */
  private CompletionStage<Void> stream(RemoteShard source, long term, String[] exportId, long[] points, long t0) {
    long[] total = {0};
    return source.call("export_open", ShardCodec.F.objectNode().put("target", r.self).put("term", term), 30_000)
        .thenCompose(open -> {
          exportId[0] = open.get("export").asText();
          total[0] = open.path("total").asLong();
          long base = open.get("seq").asLong();
          return local.run(() -> {
            synchronized (frames) {
              lastTerm(0); // emptied: no prefix of anything until the copy is whole
              engine.beginRecovery(base);
            }
            return base;
          });
        })
        .thenCompose(base -> copy(source, exportId[0], points, total[0], t0))
        .thenCompose(v -> local.run(() -> {
          engine.endRecovery();
          return null;
        }));
  }

  /**
   * Brings the replica up to the primary by the frames it misses, read from the primary's WAL up to
   * the point from which the primary forwards new frames. False when the primary's WAL no longer
   * holds them.
   */
  private CompletionStage<Boolean> walDelta(RemoteShard source, long term, long[] frames) {
    long after = engine.appliedSeq();
    return source.call("delta_open", ShardCodec.F.objectNode().put("target", r.self).put("term", term).put("after", after), 30_000)
        .thenCompose(open -> {
          if (!open.path("covered").asBoolean()) {
            return CompletableFuture.completedFuture(false);
          }
          long until = open.get("seq").asLong();
          r.progress(collection, id, "Transferring WAL delta (0/" + (until - after) + " operations)");
          return deltaPages(source, after, until, after, frames).thenApply(v -> true);
        });
  }

  private CompletionStage<Void> deltaPages(RemoteShard source, long from, long until, long after, long[] count) {
    if (engine.appliedSeq() >= until) {
      return CompletableFuture.completedFuture(null);
    }
    long cur = engine.appliedSeq();
    return source.call("delta_next", ShardCodec.F.objectNode().put("after", cur).put("max", PAGE), 60_000)
        .thenCompose(page -> local.run(() -> {
          List<Frame> batch = frames(page.get("frames"));
          if (batch.isEmpty()) {
            throw new IOException("the primary's WAL ended at frame " + cur + " before frame " + until);
          }
          long bytes = 0;
          synchronized (frames) {
            for (Frame f : batch) {
              engine.applyFrame(f.seq(), f.payload(), false);
              count[0]++;
              bytes += f.payload().length;
            }
          }
          r.progress(collection, id, "Transferring WAL delta (" + (engine.appliedSeq() - after) + "/" + (until - after) + " operations)");
          return bytes;
        }))
        .thenCompose(r::pulled)
        .thenCompose(v -> deltaPages(source, from, until, after, count));
  }

  // ---- serving a WAL delta ----

  /**
   * Opens a WAL delta for {@code target}, once the metadata shows it Partial in {@code term}:
   * answers the frame up to which the target reads this replica's WAL ({@code seq}; every later
   * frame is forwarded to it) and whether the WAL still holds every frame above {@code after}.
   */
  public CompletionStage<JsonNode> deltaOpen(long target, long term, long after) {
    return partial(target, term, System.nanoTime() + PARTIAL_WAIT_MS * 1_000_000)
        .thenCompose(v -> promoted(term))
        .thenCompose(v -> local.run(() -> {
          long seq = engine.appliedSeq(); // read after the target shows Partial here: every later frame is forwarded to it
          long first = engine.firstKeptSeq();
          boolean covered = after <= seq && (after == seq || (first > 0 && first <= after + 1));
          return ShardCodec.F.objectNode().put("seq", seq).put("covered", covered);
        }));
  }

  /** Up to {@code max} frames of this replica's WAL above {@code after}, in order. */
  public CompletionStage<JsonNode> deltaNext(long after, int max) {
    return local.run(() -> {
      ObjectNode o = ShardCodec.F.objectNode();
      ArrayNode out = o.putArray("frames");
      Base64.Encoder b64 = Base64.getEncoder();
      int limit = Math.min(Math.max(max, 1), 4096);
      long[] bytes = {0};
      try {
        engine.replayFrames(after, (seq, payload) -> {
          if (out.size() >= limit || bytes[0] > (8L << 20)) {
            throw new PageFull();
          }
          out.addObject().put("seq", seq).put("data", b64.encodeToString(payload));
          bytes[0] += payload.length;
        });
      } catch (PageFull full) {
        // the page is full: the caller asks for the next one
      }
      return o;
    });
  }

  /** Ends a WAL replay once a page is full. */
  private static final class PageFull extends RuntimeException {
    PageFull() {
      super(null, null, false, false);
    }
  }

  private CompletionStage<Void> copy(RemoteShard source, String exportId, long[] points, long total, long t0) {
    r.progress(collection, id, "Transferring records (" + points[0] + "/" + total + "), started " + (System.nanoTime() - t0) / 1_000_000_000L
        + "s ago");
    return source.call("export_next", ShardCodec.F.objectNode().put("export", exportId).put("max", PAGE), 60_000)
        .thenCompose(page -> local.run(() -> {
          List<Action> puts = r.codec.decode(Base64.getDecoder().decode(page.get("data").asText()));
          JsonNode versions = page.get("versions");
          List<Shard.Versioned> batch = new ArrayList<>(puts.size());
          for (int i = 0; i < puts.size(); i++) {
            batch.add(new Shard.Versioned(versions.get(i).asLong(), ((Action.Put) puts.get(i)).point()));
          }
          if (!batch.isEmpty()) {
            engine.installPoints(batch);
          }
          checkNotInterrupted();
          points[0] += batch.size();
          ReplicationMetrics.POINTS_RECEIVED.addAndGet(batch.size());
          return batch.isEmpty() ? -1L : (long) page.get("data").asText().length();
        }))
        .thenCompose(bytes -> bytes < 0 ? CompletableFuture.completedFuture(null)
            : r.pulled(bytes).thenCompose(v -> copy(source, exportId, points, total, t0)));
  }
}
