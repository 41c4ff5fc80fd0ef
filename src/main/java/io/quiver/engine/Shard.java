package io.quiver.engine;

import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.engine.wal.WriteAheadLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.lucene.index.ConcurrentMergeScheduler;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.AlreadyClosedException;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;

/**
 * One shard of a collection: a write-ahead log in front of a Lucene index.
 *
 * <p>Writes: {@link #write} resolves an update into whole-point {@link Action}s under the shard's
 * write lock, appends them to the WAL as one frame and applies them to the index writer, so writes
 * apply in WAL order. With {@code fsync=ALWAYS} the frame is fsynced (group commit) before {@code
 * write} returns; with {@code wait=true} the change is also visible to readers when it returns.
 *
 * <p>Durability: Lucene commits every {@code commitInterval} and on close, recording the last
 * applied WAL sequence number in the commit's user data; the WAL up to it is then truncated. Opening
 * replays the WAL above the committed sequence number. A torn WAL tail is cut by the WAL itself; a
 * WAL that ends below the commit (its unsynced tail lost in a crash) restarts after it.
 *
 * <p>Failures (a full disk above all): a write whose WAL append fails leaves nothing behind (the
 * WAL cuts the partial frame) and is not applied. A write whose frame is logged but cannot be
 * applied to the index has its frame discarded and the index rebuilt from the last commit plus the
 * WAL, so a refused update is never partly visible. A failed commit loses nothing (the WAL keeps
 * every write above the last commit) and is retried at the next interval. When the index writer is
 * closed by a tragic event (a failed flush or merge) or the WAL has failed (a failed fsync), the
 * shard reopens them from the last commit plus the WAL replay: at once in the background, or on
 * the next read or write. The outcome of writes caught in a failed fsync is unknown, as after a
 * crash: they were not acknowledged, but their frames may have reached the disk.
 *
 * <p>Replication (primary-backup): a primary hands every frame it writes to a {@link
 * FrameListener}; a replica applies them with {@link #applyFrame}, which logs each under the
 * primary's sequence number, so both end with the same WAL numbering and the same points and
 * versions. A replica too far behind is rebuilt from a point-in-time {@link #export} of the
 * primary: {@link #beginRecovery} empties it at the export's sequence number, frames above it are
 * applied as they arrive, {@link #installPoints} adds the exported points no such frame has
 * touched, and {@link #endRecovery} makes them durable.
 *
 * <p>Thread-safety: all methods are safe to call concurrently. Reads see the last refreshed state.
 */
public final class Shard implements Closeable {
  private static final System.Logger log = System.getLogger(Shard.class.getName());
  static final String WAL_SEQ = "wal_seq";

  /** Tuning of a shard. */
  public record Options(WalOptions wal, long commitIntervalMs, long refreshIntervalMs) {}

  /** Resolves an update into actions, reading the current state through the view if it needs to. */
  @FunctionalInterface
  public interface Planner {
    List<Action> plan(View view) throws IOException;
  }

  /**
   * Hears of every frame a {@link #write} logged and applied, for a primary to forward to its
   * replicas. Called under the shard's write lock, so frames arrive in sequence order, and before
   * the frame is fsynced. It must neither block nor throw: it holds every write of the shard up
   * while it runs, and what it throws is logged, not passed on (the write stands).
   */
  @FunctionalInterface
  public interface FrameListener {
    FrameListener NONE = (seq, payload) -> { };

    /** @param payload the frame's bytes as logged; not to be modified */
    void written(long seq, byte[] payload);
  }

  /** A point with its version: the WAL sequence number of the write that last put it. */
  public record Versioned(long version, Point point) {}

  /** A replicated frame that does not follow the last applied one: the frames in between are missing. */
  public static final class SequenceGap extends IOException {
    private static final long serialVersionUID = 1L;
    private final long expected;
    private final long received;

    public SequenceGap(long expected, long received) {
      super("expected WAL sequence " + expected + ", received " + received);
      this.expected = expected;
      this.received = received;
    }

    /** The sequence number the shard can apply next. */
    public long expected() {
      return expected;
    }

    public long received() {
      return received;
    }
  }

  /** The ids of the points frames touched since {@link #beginRecovery}. */
  private static final class Recovery {
    final Set<PointId> touched = ConcurrentHashMap.newKeySet();
    volatile boolean lost; // the index was rebuilt from its commit: uncommitted installed points are gone
  }

  /** Holds the base sequence of a {@link #beginRecovery} until the shard is empty at it. */
  static final String RECOVERY_MARKER = "recovery-base";
  /**
   * An indexing buffer below this counts as settled for {@link HeapReturn}: the heap it would
   * collect is the merge's garbage, not a bulk ingest's live buffer (up to 128 MB per shard).
   */
  private static final long SETTLED_BUFFER_BYTES = 8L << 20;

  private static final boolean CAN_FSYNC_DIRECTORY = !System.getProperty("os.name", "").startsWith("Windows");

  private final Path dir;
  private final Options options;
  private final StorageIo io;
  private final Directory directory;
  // Replaced only by reopen(), under writeLock and commitLock.
  private volatile WriteAheadLog wal;
  private volatile IndexWriter writer;
  /** The merges the searchers show: {@link SegmentPolicy#finished()} when they were last reopened. */
  private volatile long mergesSeen;
  /** As {@link #mergesSeen}, of {@link SegmentPolicy#finishedAny()}. */
  private volatile long anyMergesSeen;
  /** The size of the segments the searchers show, when they were last reopened. */
  private volatile long searchedBytes;
  /** The vector bytes of the largest searched segment held plain though it could be indexed. */
  private volatile long searchedPlainBytes;
  private volatile SearcherManager searchers;
  private volatile boolean reopenPending; // written under writeLock: a reopen failed half-way and must be retried
  private volatile long lastReadHealMs; // readers try to heal at most once a second
  private volatile long lastDegradedLogMs;
  private volatile long lastReportMs;
  private volatile Consumer<String> noSpaceListener = message -> { };
  private final ActionCodec codec;
  private final DocMapper mapper;
  private final boolean syncEachWrite;
  private final Object writeLock = new Object();
  private final Object commitLock = new Object();
  private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
  private volatile CollectionSchema schema;
  private volatile long appliedSeq;
  private volatile long visibleSeq;
  private volatile long visibleResets; // incremented under this whenever visibleSeq is set back
  private volatile boolean installsPending; // installed points the searchers may not show yet
  private volatile Recovery recovery; // set between beginRecovery and endRecovery
  private volatile long committedSeq;
  private volatile boolean closed;
  /**
   * Payload storage bytes the frames up to {@code seq} wrote since the shard opened: as of the last
   * applied frame, and as of the last commit. Their difference is what the frames since the commit wrote.
   */
  private record PayloadMark(long seq, long bytes) {}

  private volatile PayloadMark payloadApplied = new PayloadMark(0, 0);
  private volatile PayloadMark payloadCommitted = new PayloadMark(0, 0);

  private Shard(Path dir, Options options, StorageIo io, Directory directory, WriteAheadLog wal, IndexWriter writer,
      ActionCodec codec, DocMapper mapper, CollectionSchema schema, boolean syncEachWrite) throws IOException {
    this.dir = dir;
    this.options = options;
    this.io = io;
    this.directory = directory;
    this.wal = wal;
    this.writer = writer;
    this.codec = codec;
    this.mapper = mapper;
    this.schema = schema;
    this.syncEachWrite = syncEachWrite;
    this.searchers = new SearcherManager(writer, null);
  }

  /**
   * Opens (or creates) the shard in {@code dir}, replaying the WAL tail above the last commit.
   *
   * @param scheduler runs the periodic refresh and commit; not owned by the shard
   */
  public static Shard open(Path dir, CollectionSchema schema, Options options, ActionCodec codec, DocMapper mapper,
      ScheduledExecutorService scheduler) throws IOException {
    return open(dir, schema, options, codec, mapper, scheduler, StorageIo.REAL);
  }

  /**
   * Whether a file opened from the index is loaded into memory at once: the quantized codes (scalar
   * {@code .veq}, binary {@code .veb}) of a segment opened for searches when the collection asks
   * {@code always_ram}, as Elasticsearch preloads its vector files. The codes stay memory-mapped
   * (the kernel may still drop them under memory pressure, as any page it caches); merges read
   * theirs as they go. Segments small enough to be written as one compound file are left as they
   * are (written moments ago, in the page cache).
   */
  static boolean preloaded(CollectionSchema schema, String file, IOContext context) {
    return schema.quantizedInRam() && context.context() != IOContext.Context.MERGE
        && (file.endsWith(".veq") || file.endsWith(".veb"));
  }

  /** As {@link #open(Path, CollectionSchema, Options, ActionCodec, DocMapper, ScheduledExecutorService)}, with files reached through {@code io}. */
  public static Shard open(Path dir, CollectionSchema schema, Options options, ActionCodec codec, DocMapper mapper,
      ScheduledExecutorService scheduler, StorageIo io) throws IOException {
    Files.createDirectories(dir);
    var holder = new CollectionSchema[] {schema};
    FSDirectory files = FSDirectory.open(dir.resolve("index"));
    if (files instanceof MMapDirectory mapped) {
      mapped.setPreload((name, context) -> preloaded(holder[0], name, context));
    }
    Directory directory = io.index().apply(files);
    IndexWriter writer;
    try {
      writer = new IndexWriter(directory, writerConfig(holder));
    } catch (IOException | RuntimeException e) {
      directory.close();
      throw e;
    }
    WriteAheadLog wal = null;
    try {
      long recoveryBase = recoveryBase(dir);
      if (recoveryBase >= 0) {
        log.log(System.Logger.Level.WARNING, "Shard {0}: finishing an interrupted start of a recovery: empty at sequence {1}",
            dir, recoveryBase);
        wal = emptyAt(dir, writer, recoveryBase, options, io);
      } else {
        wal = openWal(dir, options, io, committedSeqOf(writer));
      }
      var shard = new Shard(dir, options, io, directory, wal, writer, codec, mapper, schema,
          options.wal().fsync() == FsyncPolicy.ALWAYS);
      shard.schemaRef = holder;
      shard.recover();
      shard.tasks.add(scheduler.scheduleWithFixedDelay(shard::refreshQuietly,
          options.refreshIntervalMs(), options.refreshIntervalMs(), TimeUnit.MILLISECONDS));
      shard.tasks.add(scheduler.scheduleWithFixedDelay(shard::commitQuietly,
          options.commitIntervalMs(), options.commitIntervalMs(), TimeUnit.MILLISECONDS));
      return shard;
    } catch (IOException | RuntimeException e) {
      try {
        if (wal != null) {
          wal.close();
        }
        writer.rollback();
      } finally {
        directory.close();
      }
      throw e;
    }
  }

  private CollectionSchema[] schemaRef;

  /** A fresh config for every writer: Lucene does not let two writers share one. */
  private static IndexWriterConfig writerConfig(CollectionSchema[] schema) {
    var merges = new ConcurrentMergeScheduler();
    mergeThreads(merges, schema[0].optimizers());
    return new IndexWriterConfig()
        .setCodec(new VectorCodec(() -> schema[0]))
        .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
        .setRAMBufferSizeMB(128)
        .setMergePolicy(new SegmentPolicy(() -> schema[0].optimizers()))
        .setMergeScheduler(merges)
        .setCommitOnClose(false);
  }

  /** At most {@code max_optimization_threads} merge threads (a merge's graph building included); more merges queue, then writes wait. */
  private static void mergeThreads(ConcurrentMergeScheduler merges, Optimizers o) {
    int threads = Math.max(1, o.threads());
    merges.setMaxMergesAndThreads(threads + 5, threads);
  }

  /**
   * Whether merges of at least {@link Optimizers#reportBytes()} run or wait to run, or ended but
   * searchers do not show their segments yet: the shard has not settled (Qdrant's collection status
   * {@code yellow}). Once the shard itself holds that much, any merge counts: a shard that Qdrant
   * would index is {@code green} only when its segments are final, not while small ones still merge.
   */
  public boolean optimizing() {
    IndexWriter w = writer;
    try {
      long merging = 0;
      for (var info : mergingSegments(w)) {
        merging += info.sizeInBytes();
      }
      Optimizers o = schema.optimizers();
      long threshold = o.reportBytes();
      boolean large = searchedBytes >= threshold;
      if (merging > 0 && (large || merging >= threshold)) {
        return true;
      }
      if (o.threads() > 0 && searchedPlainBytes > 0 && searchedPlainBytes >= threshold) {
        return true; // a segment to index, its merge not planned yet
      }
      return w.getConfig().getMergePolicy() instanceof SegmentPolicy p
          && (large ? p.finishedAny() != anyMergesSeen : p.finished() != mergesSeen);
    } catch (AlreadyClosedException | IOException e) {
      return false;
    }
  }

  private void recover() throws IOException {
    committedSeq = committedSeqOf(writer);
    appliedSeq = replay(writer, committedSeq);
    if (appliedSeq > committedSeq) {
      try {
        commit();
      } catch (IOException e) {
        // A full disk must not keep the shard from opening: the WAL still holds what was replayed.
        log.log(System.Logger.Level.WARNING, "Shard " + dir + ": commit after replay failed; the WAL keeps the data", e);
      }
    }
    refresh();
  }

  private static long committedSeqOf(IndexWriter w) {
    Map<String, String> data = new HashMap<>();
    w.getLiveCommitData().forEach(e -> data.put(e.getKey(), e.getValue()));
    return Long.parseLong(data.getOrDefault(WAL_SEQ, "0"));
  }

  /** Applies the WAL above {@code afterSeq} to {@code w}; returns the last sequence applied. */
  private long replay(IndexWriter w, long afterSeq) throws IOException {
    long[] last = {afterSeq, 0, 0};
    wal.replay(afterSeq, (seq, payload) -> {
      last[2] += apply(w, codec.decode(payload), seq);
      last[0] = seq;
      last[1]++;
    });
    payloadCommitted = new PayloadMark(afterSeq, 0);
    payloadApplied = new PayloadMark(last[0], last[2]);
    if (last[1] > 0) {
      log.log(System.Logger.Level.INFO, "Shard {0}: replayed {1} WAL record(s) above committed sequence {2}",
          dir, last[1], afterSeq);
    }
    return last[0];
  }

  public CollectionSchema schema() {
    return schema;
  }

  /** Replaces the schema; documents written from now on follow it. */
  public void setSchema(CollectionSchema next) {
    boolean merges;
    synchronized (writeLock) {
      merges = !next.optimizers().equals(schema.optimizers());
      schema = next;
      schemaRef[0] = next;
      if (merges && writer.getConfig().getMergeScheduler() instanceof ConcurrentMergeScheduler scheduler) {
        mergeThreads(scheduler, next.optimizers());
      }
    }
    if (merges) {
      try {
        writer.maybeMerge(); // a lower segment number or vacuum threshold may ask for merges now
      } catch (IOException | RuntimeException e) {
        log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": merges after a change of the optimizer config", e);
      }
    }
  }

  /**
   * Applies one update: plans it under the write lock, logs and applies the actions. With {@code
   * wait}, also makes it visible; if that alone fails (the index cannot flush on a full disk), the
   * write still stands, durable in the WAL, and becomes visible once the index can take it: check
   * {@link #isVisible}.
   *
   * @return the operation id (the WAL sequence number of the frame, or the last one if nothing changed)
   * @throws IOException if the write was not applied (a full disk among other causes); it left no trace
   */
  public long write(Planner planner, boolean wait) throws IOException {
    return write(planner, wait, FrameListener.NONE);
  }

  /**
   * As {@link #write(Planner, boolean)}, and hands the frame to {@code listener} once it is logged
   * and applied: not when the plan is empty or the write fails.
   */
  public long write(Planner planner, boolean wait, FrameListener listener) throws IOException {
    ensureOpen();
    long seq;
    WriteAheadLog journal;
    synchronized (writeLock) {
      ensureOpen();
      heal();
      List<Action> actions = planner.plan(new View(this));
      journal = wal;
      if (actions.isEmpty()) {
        return journal.lastSequence();
      }
      byte[] payload = codec.encode(actions);
      seq = logAndApply(actions, payload);
      try {
        listener.written(seq, payload);
      } catch (RuntimeException e) {
        log.log(System.Logger.Level.WARNING, "Shard " + dir + ": the frame listener failed on frame " + seq, e);
      }
    }
    settle(journal, seq, wait);
    return seq;
  }

  /**
   * The replica's side of {@link FrameListener}: logs a frame of the primary under the primary's
   * sequence number and applies it as {@link #write} applies its own (same fsync policy, same undo
   * on failure); with {@code wait}, also makes it visible. A frame at or below the applied sequence
   * number is a retransmission: it changes nothing, and returns once it is as durable and visible as
   * asked. Frames applied here are handed to no listener. Thread-safe; frames are applied one at a
   * time, in the order the calls take the write lock.
   *
   * @return true if the frame was applied, false if it had been already
   * @throws SequenceGap if {@code seq} is above {@link #appliedSeq()} + 1; nothing changed
   * @throws IOException if the payload cannot be decoded or the frame was not applied (a full disk
   *     among other causes); it left no trace
   */
  public boolean applyFrame(long seq, byte[] payload, boolean wait) throws IOException {
    ensureOpen();
    WriteAheadLog journal;
    boolean applied;
    synchronized (writeLock) {
      ensureOpen();
      heal();
      journal = wal;
      long last = appliedSeq;
      applied = seq > last;
      if (applied) {
        if (seq != last + 1) {
          throw new SequenceGap(last + 1, seq);
        }
        List<Action> actions;
        try {
          actions = codec.decode(payload);
        } catch (RuntimeException e) {
          throw new IOException("undecodable frame " + seq, e);
        }
        if (journal.lastSequence() != last) {
          throw new IOException("the WAL ends at sequence " + journal.lastSequence() + " but the shard applied " + last);
        }
        logAndApply(actions, payload);
      }
    }
    settle(journal, seq, wait);
    return applied;
  }

  /**
   * Logs one frame, applies its actions and notes the points they touched for a running recovery.
   * Caller holds writeLock. Returns the frame's sequence number.
   */
  private long logAndApply(List<Action> actions, byte[] payload) throws IOException {
    // A failed append leaves no frame behind: nothing to undo.
    long seq = wal.append(payload);
    long payloadBytes;
    try {
      payloadBytes = apply(writer, actions, seq);
    } catch (IOException | RuntimeException e) {
      undo(seq, e);
      throw e;
    }
    payloadApplied = new PayloadMark(seq, payloadApplied.bytes() + payloadBytes);
    appliedSeq = seq;
    Recovery r = recovery;
    if (r != null) {
      for (Action a : actions) {
        r.touched.add(a.id());
      }
    }
    return seq;
  }

  /** After a frame was applied: fsyncs it if the policy says so and, with {@code wait}, refreshes. */
  private void settle(WriteAheadLog journal, long seq, boolean wait) throws IOException {
    if (syncEachWrite) {
      journal.sync(seq);
    }
    if (wait) {
      try {
        refresh();
      } catch (IOException | RuntimeException e) {
        if (closed) {
          throw e;
        }
        noticed(e, "the write is durable but not yet visible");
      }
    }
  }

  /** Whether the write with this operation id is visible to readers. */
  public boolean isVisible(long seq) {
    return visibleSeq >= seq;
  }

  /**
   * Registers who hears of failures for lack of disk space that no caller sees (background commits
   * and refreshes, refreshes after a write): the storage service, which turns the disk write block
   * on. Called on the thread that saw the failure.
   */
  public void onNoSpace(Consumer<String> listener) {
    noSpaceListener = listener;
  }

  /** A failure no caller will see: logged (a full disk on one line, at most every 10 s) and reported. */
  private void noticed(Throwable e, String consequence) {
    String noSpace = NoSpace.message(e);
    long now = System.currentTimeMillis();
    if (noSpace == null) {
      log.log(System.Logger.Level.WARNING, "Shard " + dir + ": " + consequence, e);
    } else {
      if (now - lastReportMs >= 1000) { // reads may notice it many times a second
        lastReportMs = now;
        noSpaceListener.accept(noSpace);
      }
      if (now - lastDegradedLogMs > 10_000) {
        lastDegradedLogMs = now;
        log.log(System.Logger.Level.WARNING, "Shard " + dir + ": " + noSpace + "; " + consequence);
      }
    }
  }

  /** Applies one frame's actions; returns the payload storage bytes it wrote. */
  private long apply(IndexWriter w, List<Action> actions, long seq) throws IOException {
    CollectionSchema s = schema;
    long payloadBytes = 0;
    for (Action a : actions) {
      Term term = new Term(Fields.ID, a.id().term());
      switch (a) {
        case Action.Put put -> {
          var doc = mapper.toDocument(put.point(), s, seq);
          payloadBytes += payloadStorageBytes(doc.getField(Fields.PAYLOAD).binaryValue().length);
          w.updateDocument(term, doc);
        }
        case Action.Delete del -> w.deleteDocuments(term);
      }
    }
    return payloadBytes;
  }

  /**
   * Payload storage bytes of one stored payload of {@code length} bytes (its JSON), counted as
   * Qdrant's on-disk payload storage counts them: whole blocks of 128 bytes, none for an empty
   * payload (Qdrant stores none). Strict mode's {@code max_collection_payload_size_bytes} compares
   * against this count, so a limit means the same on both servers.
   */
  public static long payloadStorageBytes(long length) {
    return length <= EMPTY_PAYLOAD_LENGTH ? 0 : (length + 127) / 128 * 128;
  }

  /** The length of the JSON of an empty payload, {@code {}}. */
  public static final int EMPTY_PAYLOAD_LENGTH = 2;

  /**
   * The payload storage written since the last commit: {committed sequence, bytes of the payloads
   * that frames above it wrote}. Payloads those writes replaced still count until the commit, as
   * replaced values keep their blocks until Qdrant flushes its payload storage.
   */
  public long[] payloadWrittenSinceCommit() {
    PayloadMark committed = payloadCommitted;
    PayloadMark applied = payloadApplied;
    return new long[] {committed.seq(), Math.max(0, applied.bytes() - committed.bytes())};
  }

  /**
   * The frame {@code seq} is logged but the index may hold part of it: drops the frame and rebuilds
   * the index from the last commit plus the WAL, so the refused update leaves no trace. Caller holds
   * writeLock; a failure here is added to {@code cause} and the rebuild is retried later.
   */
  private void undo(long seq, Exception cause) {
    try {
      wal.discardAfter(seq - 1);
      reopen("a write could not be applied to the index: " + cause);
    } catch (IOException | RuntimeException e) {
      cause.addSuppressed(e);
      reopenPending = true;
      log.log(System.Logger.Level.WARNING, "Shard " + dir + ": the index cannot be rebuilt yet (" + e
          + "); retrying in the background and on the next access");
    }
  }

  /** Reopens what a failure has closed; caller holds writeLock. */
  private void heal() throws IOException {
    if (reopenPending || !wal.isWritable() || !writer.isOpen()) {
      Throwable tragedy = writer.getTragicException();
      reopen(tragedy != null ? "the index writer hit " + tragedy
          : !wal.isWritable() ? "the WAL failed" : "an earlier reopen did not finish");
    }
  }

  /**
   * Throws the index writer's uncommitted state away and rebuilds it from the last commit plus the
   * WAL, reopening the WAL first if it failed. Readers keep their searchers until the new ones are
   * in place. Caller holds writeLock; on failure the shard stays marked and the next access retries.
   */
  private void reopen(String why) throws IOException {
    synchronized (commitLock) {
      reopenPending = true;
      Recovery r = recovery;
      if (r != null) {
        r.lost = true;
      }
      log.log(System.Logger.Level.WARNING, "Shard {0}: reopening from the last commit and the WAL, because {1}", dir, why);
      try {
        writer.rollback();
      } catch (IOException | RuntimeException e) {
        log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": rollback of the old writer failed", e);
      }
      long recoveryBase = recoveryBase(dir);
      if (recoveryBase >= 0 || !wal.isWritable()) {
        try {
          wal.close();
        } catch (IOException e) {
          log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": closing the failed WAL", e);
        }
      }
      IndexWriter next = new IndexWriter(directory, writerConfig(schemaRef));
      SearcherManager nextSearchers;
      long committed;
      long applied;
      try {
        if (recoveryBase >= 0) {
          wal = emptyAt(dir, next, recoveryBase, options, io);
        } else if (!wal.isWritable()) {
          wal = openWal(dir, options, io, committedSeqOf(next));
        }
        committed = committedSeqOf(next);
        applied = replay(next, committed);
        nextSearchers = new SearcherManager(next, null);
      } catch (IOException | RuntimeException e) {
        try {
          next.rollback();
        } catch (IOException | RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
      SearcherManager old = searchers;
      writer = next;
      searchers = nextSearchers;
      committedSeq = committed;
      appliedSeq = applied;
      resetVisible(applied);
      reopenPending = false;
      try {
        old.close();
      } catch (IOException | RuntimeException e) {
        log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": closing the old searchers", e);
      }
      log.log(System.Logger.Level.INFO, "Shard {0}: reopened at WAL sequence {1} (committed {2})", dir, applied, committed);
    }
  }

  /**
   * Takes a consistent copy of the index at one WAL point: writes are held off only while the index
   * is committed and the commit's files are hard-linked (copied where links are impossible) into
   * {@code target}, which must not exist yet; writes continue while the caller archives them.
   * The commit holds every applied write, so the copy needs no WAL. Thread-safe.
   *
   * @return the WAL sequence number the copy holds everything up to
   * @throws IOException if the commit or the copy fails; {@code target} may then hold part of it
   */
  public long snapshotInto(Path target) throws IOException {
    ensureOpen();
    // Most of the flushing (HNSW graphs of buffered documents) happens here, while writes go on;
    // the commit under the write lock below then only has what arrived meanwhile.
    commit();
    synchronized (writeLock) {
      ensureOpen();
      heal();
      synchronized (commitLock) {
        IndexWriter w = writer;
        w.setLiveCommitData(Map.of(WAL_SEQ, Long.toString(appliedSeq)).entrySet());
        PayloadMark mark = payloadApplied;
        w.commit();
        committedSeq = appliedSeq;
        payloadCommitted = mark;
        Files.createDirectories(target);
        Path index = dir.resolve("index");
        for (String file : org.apache.lucene.index.SegmentInfos.readLatestCommit(directory).files(true)) {
          try {
            Files.createLink(target.resolve(file), index.resolve(file));
          } catch (UnsupportedOperationException | IOException e) {
            Files.copy(index.resolve(file), target.resolve(file));
          }
        }
        return committedSeq;
      }
    }
  }

  /**
   * Prepares an index copied by {@link #snapshotInto} to be opened with a fresh, empty WAL in
   * {@code shardDir}: its commit then claims no WAL sequence, so the new log's numbering (from 1)
   * is replayed in full after a crash. Call before {@link #open}; not while the shard is open.
   */
  public static void rebaseOnEmptyWal(Path shardDir, CollectionSchema schema) throws IOException {
    try (Directory directory = FSDirectory.open(shardDir.resolve("index"));
        IndexWriter w = new IndexWriter(directory, writerConfig(new CollectionSchema[] {schema})
            .setOpenMode(IndexWriterConfig.OpenMode.APPEND))) {
      w.setLiveCommitData(Map.of(WAL_SEQ, "0").entrySet());
      w.commit();
    }
  }

  /**
   * Starts rebuilding this shard, a replica, from a primary's {@link #export} taken at {@code
   * baseSeq}: empties the shard at that sequence number. The index loses every point and is
   * committed as holding everything up to {@code baseSeq}; the WAL is replaced by an empty one whose
   * next frame is {@code baseSeq + 1}; applied, committed and visible sequence numbers become {@code
   * baseSeq}. From then on until {@link #endRecovery} the shard notes the ids of the points every
   * applied frame touches, so that {@link #installPoints} leaves them alone: the frame is newer.
   * Calling it again restarts the recovery. Thread-safe; holds writes and commits off while it runs.
   *
   * <p>Crash safety: a marker file holds {@code baseSeq} until the shard is empty at it, and
   * opening (or healing) the shard finishes the job if it finds one. After a crash the shard thus
   * opens either in its old state or empty at {@code baseSeq} plus what was applied and committed
   * since; either way the recovery has to be done again.
   *
   * @throws IOException if the shard could not be emptied; it then finishes the job the next time
   *     it heals (on the next access or in the background), or keeps its old state if the marker
   *     could not be written
   */
  public void beginRecovery(long baseSeq) throws IOException {
    if (baseSeq < 0) {
      throw new IllegalArgumentException("baseSeq must not be negative: " + baseSeq);
    }
    ensureOpen();
    synchronized (writeLock) {
      ensureOpen();
      heal();
      synchronized (commitLock) {
        recovery = null;
        writeRecoveryBase(dir, baseSeq, io);
        reopenPending = true; // until the shard is empty, healing finishes the job
        try {
          wal.close();
        } catch (IOException e) {
          log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": closing the WAL it replaces", e);
        }
        wal = emptyAt(dir, writer, baseSeq, options, io);
        committedSeq = baseSeq;
        appliedSeq = baseSeq;
        payloadCommitted = new PayloadMark(baseSeq, 0);
        payloadApplied = payloadCommitted;
        searchers.maybeRefreshBlocking();
        resetVisible(baseSeq);
        reopenPending = false;
        recovery = new Recovery();
      }
    }
    log.log(System.Logger.Level.INFO, "Shard {0}: recovery started, empty at sequence {1}", dir, baseSeq);
  }

  /**
   * Writes exported points into the index with their own versions, skipping those whose id a frame
   * has touched since {@link #beginRecovery}. They are not logged (they are older than the WAL),
   * become visible at the next {@link #refresh} and durable at the next commit; a point installed
   * twice is kept once. Thread-safe.
   *
   * @throws IllegalStateException if no recovery is running
   * @throws IOException if the index refuses a point; those before it may be installed, and calling
   *     again with the same points is harmless
   */
  public void installPoints(List<Versioned> points) throws IOException {
    ensureOpen();
    synchronized (writeLock) {
      ensureOpen();
      Recovery r = recovery;
      if (r == null) {
        throw new IllegalStateException("shard " + dir + " is not recovering");
      }
      heal();
      IndexWriter w = writer;
      CollectionSchema s = schema;
      try {
        for (Versioned v : points) {
          PointId id = v.point().id();
          if (!r.touched.contains(id)) {
            w.updateDocument(new Term(Fields.ID, id.term()), mapper.toDocument(v.point(), s, v.version()));
          }
        }
      } finally {
        installsPending = true;
      }
    }
  }

  /**
   * Ends the recovery begun by {@link #beginRecovery}: commits, so that the installed points are
   * durable, and stops noting touched points. Until this commit a crash may lose installed points
   * (a background commit may have saved some); so may a failure that made the shard rebuild its
   * index from the last commit, which this reports. Thread-safe.
   *
   * @throws IllegalStateException if no recovery is running
   * @throws IOException if the commit failed (the recovery is still running: call again), or if
   *     installed points were lost (the recovery is over and must be done again)
   */
  public void endRecovery() throws IOException {
    ensureOpen();
    if (recovery == null) {
      throw new IllegalStateException("shard " + dir + " is not recovering");
    }
    commit(); // most of the flushing, while writes go on
    synchronized (writeLock) {
      ensureOpen();
      Recovery r = recovery;
      if (r == null) {
        throw new IllegalStateException("shard " + dir + " is not recovering");
      }
      heal();
      if (!r.lost) {
        IndexWriter w = writer;
        commit();
        r.lost = !w.isOpen();
      }
      recovery = null;
      if (r.lost) {
        throw new IOException("shard " + dir + " rebuilt its index during the recovery and lost installed points; recover again");
      }
    }
    log.log(System.Logger.Level.INFO, "Shard {0}: recovery ended at sequence {1}", dir, appliedSeq);
    refresh();
  }

  /**
   * A point-in-time copy of the live points, as of the frame {@link Export#seq()}: it holds every
   * frame up to that one and none above. Taken under the write lock after a refresh; holds a
   * searcher, and with it the index files it reads, until closed, while writes go on. Thread-safe.
   * Close it before the shard.
   *
   * @throws IOException if the shard cannot make its applied writes visible (a full disk)
   */
  public Export export() throws IOException {
    ensureOpen();
    synchronized (writeLock) {
      ensureOpen();
      heal();
      refresh();
      SearcherManager manager = searchers;
      return new Export(manager, manager.acquire(), appliedSeq, mapper, schema);
    }
  }

  /**
   * The points of an {@link #export}, page by page, each live point once, in index order, with all
   * its vectors, its payload and its version. Thread-safe; close is idempotent.
   */
  public static final class Export implements AutoCloseable {
    private final SearcherManager manager;
    private final IndexSearcher searcher;
    private final long seq;
    private final DocMapper mapper;
    private final CollectionSchema schema;
    private final List<LeafReaderContext> leaves;
    // Guarded by this: the position of the next document to read.
    private int leafIndex = -1;
    private LeafReader leaf;
    private Bits live;
    private StoredFields stored;
    private SortedDocValues ids;
    private NumericDocValues versions;
    private int doc;
    private boolean closed;

    private Export(SearcherManager manager, IndexSearcher searcher, long seq, DocMapper mapper, CollectionSchema schema) {
      this.manager = manager;
      this.searcher = searcher;
      this.seq = seq;
      this.mapper = mapper;
      this.schema = schema;
      this.leaves = searcher.getIndexReader().leaves();
    }

    /** The sequence number of the last frame the export holds. */
    public long seq() {
      return seq;
    }

    /** The number of live points in the export. */
    public long total() {
      return searcher.getIndexReader().numDocs();
    }

    /**
     * The next up to {@code max} points; an empty list once all were returned.
     *
     * @throws IllegalStateException if the export is closed
     */
    public synchronized List<Versioned> next(int max) throws IOException {
      if (closed) {
        throw new IllegalStateException("export is closed");
      }
      if (max < 1) {
        throw new IllegalArgumentException("max must be positive: " + max);
      }
      List<Versioned> out = new ArrayList<>(Math.min(max, 1024));
      while (out.size() < max) {
        if (leaf == null || doc >= leaf.maxDoc()) {
          if (leafIndex + 1 >= leaves.size()) {
            break;
          }
          openLeaf(leaves.get(++leafIndex).reader());
          continue;
        }
        int d = doc++;
        if (live != null && !live.get(d)) {
          continue;
        }
        if (ids == null || !ids.advanceExact(d)) {
          throw new IOException("document without id");
        }
        PointId id = PointId.fromTerm(ids.lookupOrd(ids.ordValue()));
        long version = versions != null && versions.advanceExact(d) ? versions.longValue() : 0;
        out.add(new Versioned(version, mapper.read(leaf, stored, d, id, DocMapper.Selector.ALL, schema)));
      }
      return out;
    }

    private void openLeaf(LeafReader next) throws IOException {
      leaf = next;
      live = next.getLiveDocs();
      stored = next.storedFields();
      ids = next.getSortedDocValues(Fields.ID);
      versions = next.getNumericDocValues(Fields.VERSION);
      doc = 0;
    }

    /** Releases the searcher. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
      if (!closed) {
        closed = true;
        manager.release(searcher);
      }
    }
  }

  /**
   * Passes the logged frames above {@code afterSeq} to {@code consumer}, in order, as {@link
   * WriteAheadLog#replay} does: frames below {@link #firstKeptSeq()} are gone. For a replica that
   * catches up from the WAL. Thread-safe; commits cannot truncate the WAL while it runs, so the
   * consumer should be quick (buffer rather than wait on a network).
   *
   * @throws IOException if the WAL cannot be read, is replaced meanwhile (a reopen, a recovery), or
   *     the consumer throws
   */
  public void replayFrames(long afterSeq, WriteAheadLog.RecordConsumer consumer) throws IOException {
    ensureOpen();
    wal.replay(afterSeq, consumer);
  }

  /**
   * The sequence number of the oldest frame the WAL still holds, 0 if it holds none (then every
   * frame up to {@link #appliedSeq()} is only in the index). Thread-safe, lock-free.
   */
  public long firstKeptSeq() {
    return wal.firstSequence();
  }

  /**
   * Opens the shard's WAL. A log that ends below the index commit lost its tail in a crash (the
   * index committed frames not yet fsynced) or its files: it is restarted after the commit, which
   * holds all its frames, so that new frames are numbered above it and replayed after a crash.
   */
  private static WriteAheadLog openWal(Path dir, Options options, StorageIo io, long committedSeq) throws IOException {
    Path walDir = dir.resolve("wal");
    WriteAheadLog wal = WriteAheadLog.open(walDir, options.wal(), io.wal());
    if (wal.lastSequence() >= committedSeq) {
      return wal;
    }
    log.log(System.Logger.Level.WARNING, "Shard {0}: the WAL ends at sequence {1}, below the index commit at {2}; "
        + "restarting it after the commit", dir, wal.lastSequence(), committedSeq);
    wal.close();
    deleteLog(walDir);
    return WriteAheadLog.openAt(walDir, options.wal(), io.wal(), committedSeq);
  }

  /**
   * The second half of {@link #beginRecovery}, after the marker was written and the old WAL closed:
   * commits {@code w} empty at {@code baseSeq}, replaces the WAL by an empty one that begins after
   * it and removes the marker. Repeated from the start when a crash interrupts it.
   */
  private static WriteAheadLog emptyAt(Path dir, IndexWriter w, long baseSeq, Options options, StorageIo io)
      throws IOException {
    w.deleteAll();
    w.setLiveCommitData(Map.of(WAL_SEQ, Long.toString(baseSeq)).entrySet());
    w.commit();
    Path walDir = dir.resolve("wal");
    deleteLog(walDir);
    WriteAheadLog wal = WriteAheadLog.openAt(walDir, options.wal(), io.wal(), baseSeq);
    try {
      Files.delete(dir.resolve(RECOVERY_MARKER));
      fsyncDirectory(dir, io);
    } catch (IOException | RuntimeException e) {
      try {
        wal.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return wal;
  }

  /** Deletes the files of a closed WAL, newest segment first, so that a crash leaves a gap-free log. */
  private static void deleteLog(Path walDir) throws IOException {
    if (!Files.isDirectory(walDir)) {
      return;
    }
    List<Path> files;
    try (Stream<Path> listing = Files.list(walDir)) {
      files = listing.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path file : files) {
      Files.delete(file);
    }
  }

  private static void writeRecoveryBase(Path dir, long baseSeq, StorageIo io) throws IOException {
    Path marker = dir.resolve(RECOVERY_MARKER);
    Path temp = dir.resolve(RECOVERY_MARKER + ".tmp");
    try {
      try (FileChannel ch = io.wal().open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer bytes = ByteBuffer.wrap(Long.toString(baseSeq).getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
          ch.write(bytes);
        }
        ch.force(true);
      }
      Files.move(temp, marker, StandardCopyOption.ATOMIC_MOVE);
      fsyncDirectory(dir, io);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(temp);
        Files.deleteIfExists(marker);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed); // a marker left behind empties the shard when it next heals or opens
      }
      throw e;
    }
  }

  /** The base sequence number of a {@link #beginRecovery} that has not emptied the shard yet, or -1. */
  private static long recoveryBase(Path dir) throws IOException {
    Path marker = dir.resolve(RECOVERY_MARKER);
    if (!Files.exists(marker)) {
      return -1;
    }
    String text = Files.readString(marker, StandardCharsets.US_ASCII).trim();
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IOException("unreadable recovery marker " + marker + ": " + text, e);
    }
  }

  private static void fsyncDirectory(Path dir, StorageIo io) throws IOException {
    if (CAN_FSYNC_DIRECTORY) {
      try (FileChannel ch = io.wal().open(dir, StandardOpenOption.READ)) {
        ch.force(true);
      }
    }
  }

  /** For the background tasks and readers: reopens at once if a failure has closed the writer or the WAL. */
  private void healNow() throws IOException {
    synchronized (writeLock) {
      if (!closed) {
        heal();
      }
    }
  }

  /** Makes every applied write and every installed point visible to readers. */
  public void refresh() throws IOException {
    long resets = visibleResets;
    long target = appliedSeq;
    if (visibleSeq >= target && !installsPending) {
      return;
    }
    installsPending = false;
    searchers.maybeRefreshBlocking();
    synchronized (this) {
      // A reset meanwhile (a reopen, a recovery) may have set visibleSeq below target for good reason.
      if (visibleResets == resets) {
        visibleSeq = Math.max(visibleSeq, target);
      }
    }
  }

  /** Sets the visible sequence number, possibly lower, once the searchers show the state at {@code seq}. */
  private synchronized void resetVisible(long seq) {
    visibleResets++;
    visibleSeq = seq;
  }

  /** Commits the index with the applied WAL sequence and truncates the WAL below it. */
  public void commit() throws IOException {
    synchronized (commitLock) {
      IndexWriter writer = this.writer;
      if (!writer.isOpen()) {
        return; // a tragic event closed it; heal() reopens from the last commit plus the WAL
      }
      long seq = appliedSeq;
      if (seq == committedSeq && !writer.hasUncommittedChanges()) {
        return;
      }
      writer.setLiveCommitData(Map.of(WAL_SEQ, Long.toString(seq)).entrySet());
      PayloadMark mark = payloadApplied; // frames up to mark.seq are applied: the commit holds them
      writer.commit();
      committedSeq = seq;
      payloadCommitted = mark;
      wal.truncateUpTo(seq);
    }
  }

  private void refreshQuietly() {
    try {
      if (!closed) {
        if (reopenPending || !writer.isOpen() || !wal.isWritable()) {
          healNow();
        }
        refresh();
        // also when no write is pending: background merges replace segments, and searchers should
        // move to the merged ones (fewer segments to search, old files released)
        var policy = writer.getConfig().getMergePolicy() instanceof SegmentPolicy p ? p : null;
        long merges = policy == null ? 0 : policy.finished();
        long anyMerges = policy == null ? 0 : policy.finishedAny();
        SearcherManager manager = searchers;
        manager.maybeRefreshBlocking();
        Shown shown = shown(manager);
        searchedBytes = shown.bytes();
        searchedPlainBytes = shown.plainBytes();
        boolean largeMergeShown = merges != mergesSeen;
        mergesSeen = merges;
        anyMergesSeen = anyMerges;
        if (largeMergeShown && mergingSegments(writer).isEmpty() && writer.ramBytesUsed() < SETTLED_BUFFER_BYTES) {
          HeapReturn.afterLargeMerge();
        }
      }
    } catch (Exception e) {
      if (!closed) {
        noticed(e, "refresh failed");
      }
    }
  }

  /** The segments {@code w} merges now, copied: its own set is a live view it changes under its monitor. */
  private static List<org.apache.lucene.index.SegmentCommitInfo> mergingSegments(IndexWriter w) {
    synchronized (w) {
      return new ArrayList<>(w.getMergingSegments());
    }
  }

  /**
   * What a searcher shows: the size of its segments, and the vector bytes of the largest of them held
   * plain though it could be indexed ({@link IndexedVectorsFormat#plainBytes}).
   */
  private record Shown(long bytes, long plainBytes) {}

  private static Shown shown(SearcherManager manager) throws IOException {
    IndexSearcher searcher = manager.acquire();
    try {
      long bytes = 0;
      long plain = 0;
      for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
        org.apache.lucene.index.SegmentCommitInfo info = segmentOf(ctx);
        if (info != null) {
          bytes += info.sizeInBytes();
          plain = Math.max(plain, IndexedVectorsFormat.plainBytes(info.info));
        }
      }
      return new Shown(bytes, plain);
    } finally {
      manager.release(searcher);
    }
  }

  /** The segment a leaf reads, or null for a reader that is not a segment's. */
  private static org.apache.lucene.index.SegmentCommitInfo segmentOf(LeafReaderContext ctx) {
    return org.apache.lucene.index.FilterLeafReader.unwrap(ctx.reader()) instanceof org.apache.lucene.index.SegmentReader segment
        ? segment.getSegmentInfo() : null;
  }

  private void commitQuietly() {
    try {
      if (!closed) {
        commit();
      }
    } catch (Exception e) {
      if (!closed) {
        noticed(e, "commit failed; the WAL keeps the data");
      }
    }
  }

  /**
   * Reads against one point-in-time searcher that includes every write acknowledged before the
   * call (read-your-writes, as Qdrant clients expect even after {@code wait=false}).
   */
  public <T> T read(ReadFn<T> fn) throws IOException {
    ensureOpen();
    for (int attempt = 0; ; attempt++) {
      freshen();
      SearcherManager manager = searchers;
      IndexSearcher searcher;
      try {
        searcher = manager.acquire();
      } catch (AlreadyClosedException e) {
        if (closed || attempt >= 2) {
          throw e;
        }
        continue; // a reopen replaced the searchers meanwhile
      }
      try {
        return fn.apply(new Reader(searcher, mapper, schema));
      } finally {
        manager.release(searcher);
      }
    }
  }

  /**
   * Makes every applied write visible before a read. When a failure prevents that (the index cannot
   * flush on a full disk, or its writer is closed and cannot be reopened yet), the read is served
   * from the last searcher instead of failing: reads keep working, possibly without the writes of
   * the last second, until the disk has room again.
   */
  private void freshen() {
    try {
      if (reopenPending || !writer.isOpen() || !wal.isWritable()) {
        long now = System.currentTimeMillis();
        if (now - lastReadHealMs < 1000) {
          return;
        }
        lastReadHealMs = now;
        healNow();
      }
      refresh();
    } catch (IOException | RuntimeException e) {
      if (closed) {
        throw new IllegalStateException("shard is closed", e);
      }
      noticed(e, "serving reads from the last searcher until the index can take the latest writes");
    }
  }

  @FunctionalInterface
  public interface ReadFn<T> {
    T apply(Reader reader) throws IOException;
  }

  /** A planner's view: the state as of the last applied write (refreshed on first use). */
  public static final class View {
    private final Shard shard;
    private Reader reader;

    private View(Shard shard) {
      this.shard = shard;
    }

    public <T> T read(ReadFn<T> fn) throws IOException {
      return shard.read(fn);
    }

    public CollectionSchema schema() {
      return shard.schema;
    }
  }

  /** Read operations over one searcher. Not thread-safe; lives for one {@link #read} call. */
  public static final class Reader {
    private final IndexSearcher searcher;
    private final DocMapper mapper;
    private final CollectionSchema schema;

    Reader(IndexSearcher searcher, DocMapper mapper, CollectionSchema schema) {
      this.searcher = searcher;
      this.mapper = mapper;
      this.schema = schema;
    }

    public IndexSearcher searcher() {
      return searcher;
    }

    /** Live points matching the filter (null: all). */
    public int count(Filter filter) throws IOException {
      return filter == null ? numDocs() : searcher.count(FilterQueries.toQuery(filter, schema.payload()));
    }

    /** Live points that have at least one of the named vectors. */
    public int countWithVector(java.util.Collection<String> names) throws IOException {
      if (names.isEmpty()) {
        return 0;
      }
      return searcher.count(new org.apache.lucene.search.TermInSetQuery(Fields.HAS_VECTOR, names.stream().map(BytesRef::new).toList()));
    }

    /**
     * The points holding any of these vectors in segments with a graph (Qdrant's indexed vectors):
     * segments written plain ({@link IndexedVectorsFormat}), below {@code indexing_threshold} or not
     * indexed yet, are left out.
     */
    public int countIndexedWithVector(java.util.Collection<String> names) throws IOException {
      if (names.isEmpty()) {
        return 0;
      }
      Query query = new org.apache.lucene.search.TermInSetQuery(Fields.HAS_VECTOR, names.stream().map(BytesRef::new).toList());
      int count = 0;
      for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
        org.apache.lucene.index.SegmentCommitInfo info = segmentOf(ctx);
        if (info == null || IndexedVectorsFormat.plainBytes(info.info) == 0) {
          count += new IndexSearcher(ctx.reader()).count(query);
        }
      }
      return count;
    }

    public int numDocs() {
      return searcher.getIndexReader().numDocs();
    }

    public int segments() {
      return searcher.getIndexReader().leaves().size();
    }

    /** The points of these ids that exist, in the order given, each once. */
    public List<Point> get(List<PointId> ids, DocMapper.Selector sel) throws IOException {
      Map<PointId, Point> out = new LinkedHashMap<>();
      for (PointId id : ids) {
        if (!out.containsKey(id)) {
          Point p = get(id, sel);
          if (p != null) {
            out.put(id, p);
          }
        }
      }
      return new ArrayList<>(out.values());
    }

    /** The global doc id of the live point {@code id}, or -1 when there is none. */
    public int doc(PointId id) throws IOException {
      BytesRef term = id.term();
      for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
        LeafReader leaf = ctx.reader();
        Terms terms = leaf.terms(Fields.ID);
        if (terms == null) {
          continue;
        }
        TermsEnum te = terms.iterator();
        if (!te.seekExact(term)) {
          continue;
        }
        PostingsEnum pe = te.postings(null, PostingsEnum.NONE);
        Bits live = leaf.getLiveDocs();
        for (int doc = pe.nextDoc(); doc != PostingsEnum.NO_MORE_DOCS; doc = pe.nextDoc()) {
          if (live == null || live.get(doc)) {
            return ctx.docBase + doc;
          }
        }
      }
      return -1;
    }

    public Point get(PointId id, DocMapper.Selector sel) throws IOException {
      int doc = doc(id);
      if (doc < 0) {
        return null;
      }
      var leaves = searcher.getIndexReader().leaves();
      LeafReaderContext ctx = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
      LeafReader leaf = ctx.reader();
      return mapper.read(leaf, storedFields(ctx), doc - ctx.docBase, id, sel, schema);
    }

    /** Ids of all live points matching the filter, in id order. */
    public List<PointId> ids(Filter filter) throws IOException {
      List<PointId> out = new ArrayList<>();
      for (Point p : page(FilterQueries.toQuery(filter, schema.payload()), null, Integer.MAX_VALUE - 1, DocMapper.Selector.ID_ONLY).points()) {
        out.add(p.id());
      }
      return out;
    }

    /** A page of the points matching {@code filter} (null: all) in id order from {@code offset} (inclusive), and the next page's first id. */
    public Page scroll(Filter filter, PointId offset, int limit, DocMapper.Selector sel) throws IOException {
      return page(filter == null ? null : FilterQueries.toQuery(filter, schema.payload()), offset, limit, sel);
    }

    private Page page(Query filter, PointId offset, int limit, DocMapper.Selector sel) throws IOException {
      Query q = filter == null ? new MatchAllDocsQuery() : filter;
      if (offset != null) {
        q = new BooleanQuery.Builder()
            .add(q, BooleanClause.Occur.FILTER)
            .add(new TermRangeQuery(Fields.ID, offset.term(), null, true, false), BooleanClause.Occur.FILTER)
            .build();
      }
      int want = (int) Math.min((long) limit + 1, Math.max(1, numDocs()));
      TopDocs top = searcher.search(q, want, new Sort(new SortField(Fields.ID, SortField.Type.STRING)), false);
      List<Point> points = new ArrayList<>(Math.min(limit, top.scoreDocs.length));
      PointId next = null;
      for (int i = 0; i < top.scoreDocs.length; i++) {
        PointId id = idOf(top.scoreDocs[i].doc);
        if (i == limit) {
          next = id;
          break;
        }
        points.add(sel == DocMapper.Selector.ID_ONLY ? new Point(id, Map.of(), Map.of(), null) : load(top.scoreDocs[i].doc, id, sel));
      }
      return new Page(points, next);
    }

    /** The point of a document (a global doc id of this reader). */
    public Point load(int doc, PointId id, DocMapper.Selector sel) throws IOException {
      LeafReaderContext ctx = leaf(doc);
      return mapper.read(ctx.reader(), storedFields(ctx), doc - ctx.docBase, id, sel, schema);
    }

    /** The version (WAL sequence of its last write) of a document's point. */
    public long version(int doc) throws IOException {
      LeafReaderContext ctx = leaf(doc);
      int local = doc - ctx.docBase;
      NumericDocValues versions = versionCursors == null ? null : versionCursors[ctx.ord];
      if (versions == null || versions.docID() > local) { // doc values only go forward
        versions = ctx.reader().getNumericDocValues(Fields.VERSION);
        if (versions == null) {
          return 0;
        }
        cursors();
        versionCursors[ctx.ord] = versions;
      }
      return versions.advanceExact(local) ? versions.longValue() : 0;
    }

    /**
     * The point id of a document: an integer id from its plain doc values ({@link Fields#NUM_ID}), a
     * UUID (or a point of a segment written before those) from the id's sorted doc values, whose
     * compressed terms cost a block's decompression per lookup.
     */
    public PointId idOf(int doc) throws IOException {
      LeafReaderContext ctx = leaf(doc);
      int local = doc - ctx.docBase;
      if (numIdCursors == null) {
        cursors();
      }
      NumericDocValues nums = numIdCursors[ctx.ord];
      if (nums == null || nums.docID() > local) { // doc values only go forward
        NumericDocValues fresh = ctx.reader().getNumericDocValues(Fields.NUM_ID);
        nums = fresh == null ? DocValues.emptyNumeric() : fresh;
        numIdCursors[ctx.ord] = nums;
      }
      if (nums.advanceExact(local)) {
        return new PointId.Num(nums.longValue());
      }
      SortedDocValues ids = idCursors == null ? null : idCursors[ctx.ord];
      if (ids == null || ids.docID() > local) { // doc values only go forward
        ids = ctx.reader().getSortedDocValues(Fields.ID);
        if (ids == null) {
          throw new IOException("document without id");
        }
        cursors();
        idCursors[ctx.ord] = ids;
      }
      if (!ids.advanceExact(local)) {
        throw new IOException("document without id");
      }
      return PointId.fromTerm(ids.lookupOrd(ids.ordValue()));
    }

    /**
     * The point ids and versions of {@code docs} (versions 0 where {@code withVersion} is false), in
     * the order given. Reads them in doc order, so that each segment's doc values are opened once,
     * not once per document (opening them costs more than reading a value).
     */
    public Identity[] identify(int[] docs, boolean[] withVersion) throws IOException {
      long[] order = new long[docs.length]; // doc in the high half, position in the low half
      for (int i = 0; i < order.length; i++) {
        order[i] = ((long) docs[i] << 32) | i;
      }
      java.util.Arrays.sort(order);
      Identity[] out = new Identity[docs.length];
      for (long o : order) {
        int i = (int) o;
        out[i] = new Identity(idOf(docs[i]), withVersion[i] ? version(docs[i]) : 0);
      }
      return out;
    }

    /** A document's point id and version. */
    public record Identity(PointId id, long version) {}

    private SortedDocValues[] idCursors;
    private NumericDocValues[] numIdCursors;
    private NumericDocValues[] versionCursors;
    private StoredFields[] stored;

    private void cursors() {
      if (idCursors == null) {
        int leaves = searcher.getIndexReader().leaves().size();
        idCursors = new SortedDocValues[leaves];
        numIdCursors = new NumericDocValues[leaves];
        versionCursors = new NumericDocValues[leaves];
      }
    }

    /** A segment's stored fields, opened once per read (random access, unlike doc values). */
    private StoredFields storedFields(LeafReaderContext ctx) throws IOException {
      if (stored == null) {
        stored = new StoredFields[searcher.getIndexReader().leaves().size()];
      }
      if (stored[ctx.ord] == null) {
        stored[ctx.ord] = ctx.reader().storedFields();
      }
      return stored[ctx.ord];
    }

    /**
     * The payload storage of the live points, as Qdrant counts it: from the payload sizes' doc values
     * (the stored payload's length for documents written before those existed); with {@code onDisk},
     * whole {@link #payloadStorageBytes blocks} per payload plus those written since the commit
     * {@code written[0]} ({@code written[1]} bytes) that no live point holds any more; in memory, 4
     * bytes per point plus its JSON. Empty payloads take nothing.
     */
    public long payloadStorageBytes(boolean onDisk, long[] written) throws IOException {
      long live = 0;
      long liveSinceCommit = 0;
      for (var leaf : searcher.getIndexReader().leaves()) {
        var r = leaf.reader();
        var sizes = r.getNumericDocValues(Fields.PAYLOAD_SIZE);
        var versions = r.getNumericDocValues(Fields.VERSION);
        var liveDocs = r.getLiveDocs();
        org.apache.lucene.index.StoredFields stored = null;
        for (int doc = 0; doc < r.maxDoc(); doc++) {
          if (liveDocs != null && !liveDocs.get(doc)) {
            continue;
          }
          long length;
          if (sizes != null && sizes.advanceExact(doc)) {
            length = sizes.longValue();
          } else {
            stored = stored == null ? r.storedFields() : stored;
            var bytes = stored.document(doc, java.util.Set.of(Fields.PAYLOAD)).getBinaryValue(Fields.PAYLOAD);
            length = bytes == null ? 2 : bytes.length;
          }
          long bytes = onDisk ? Shard.payloadStorageBytes(length) : length <= Shard.EMPTY_PAYLOAD_LENGTH ? 0 : 4 + length;
          live += bytes;
          if (onDisk && versions != null && versions.advanceExact(doc) && versions.longValue() > written[0]) {
            liveSinceCommit += bytes;
          }
        }
      }
      return onDisk ? live + Math.max(0, written[1] - liveSinceCommit) : live;
    }

    private LeafReaderContext leaf(int doc) {
      var leaves = searcher.getIndexReader().leaves();
      return leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
    }

    public CollectionSchema schema() {
      return schema;
    }
  }

  /** One page of a scroll. {@code next} is null on the last page. */
  public record Page(List<Point> points, PointId next) {}

  /** WAL plus index size on disk, in bytes. */
  public long sizeOnDisk() throws IOException {
    return FileSizes.sizeOf(dir);
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("shard is closed");
    }
  }

  /** Commits and closes. Idempotent. */
  @Override
  public void close() throws IOException {
    synchronized (writeLock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    tasks.forEach(t -> t.cancel(false));
    synchronized (writeLock) {
      try {
        try {
          commit(); // if this fails (a full disk), the WAL replays the rest at the next open
        } finally {
          try {
            searchers.close();
          } finally {
            writer.close(); // without commitOnClose this is a rollback: it writes nothing
          }
        }
      } finally {
        try {
          wal.close();
        } finally {
          directory.close();
        }
      }
    }
  }

  /** Closes without committing: for deleting the shard. */
  public void abandon() throws IOException {
    synchronized (writeLock) {
      closed = true;
    }
    tasks.forEach(t -> t.cancel(false));
    synchronized (writeLock) {
      try {
        searchers.close();
        writer.rollback();
      } finally {
        try {
          wal.close();
        } finally {
          directory.close();
        }
      }
    }
  }

  /**
   * The sequence number of the last frame applied (and logged), 0 before the first. A replica
   * applies the frame numbered one above it next. Thread-safe, lock-free.
   */
  public long appliedSeq() {
    return appliedSeq;
  }

  /** For tests: the sequence number the shard has committed. */
  long committedSeq() {
    return committedSeq;
  }

  /** For tests: the current index writer. */
  IndexWriter writer() {
    return writer;
  }

}
