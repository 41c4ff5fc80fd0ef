package io.quiver.engine;

import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.engine.wal.WriteAheadLog;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.SortedDocValues;
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
 * replays the WAL above the committed sequence number. A torn WAL tail is cut by the WAL itself.
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

  private final Path dir;
  private final Options options;
  private final StorageIo io;
  private final Directory directory;
  // Replaced only by reopen(), under writeLock and commitLock.
  private volatile WriteAheadLog wal;
  private volatile IndexWriter writer;
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

  /** As {@link #open(Path, CollectionSchema, Options, ActionCodec, DocMapper, ScheduledExecutorService)}, with files reached through {@code io}. */
  public static Shard open(Path dir, CollectionSchema schema, Options options, ActionCodec codec, DocMapper mapper,
      ScheduledExecutorService scheduler, StorageIo io) throws IOException {
    Files.createDirectories(dir);
    var holder = new CollectionSchema[] {schema};
    Directory directory = io.index().apply(FSDirectory.open(dir.resolve("index")));
    IndexWriter writer;
    try {
      writer = new IndexWriter(directory, writerConfig(holder));
    } catch (IOException | RuntimeException e) {
      directory.close();
      throw e;
    }
    WriteAheadLog wal = null;
    try {
      wal = WriteAheadLog.open(dir.resolve("wal"), options.wal(), io.wal());
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
    return new IndexWriterConfig()
        .setCodec(new VectorCodec(() -> schema[0]))
        .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
        .setRAMBufferSizeMB(128)
        .setCommitOnClose(false);
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
    synchronized (writeLock) {
      schema = next;
      schemaRef[0] = next;
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
      // A failed append leaves no frame behind: nothing to undo.
      seq = journal.append(codec.encode(actions));
      long payloadBytes;
      try {
        payloadBytes = apply(writer, actions, seq);
      } catch (IOException | RuntimeException e) {
        undo(seq, e);
        throw e;
      }
      payloadApplied = new PayloadMark(seq, payloadApplied.bytes() + payloadBytes);
      appliedSeq = seq;
    }
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
    return seq;
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
      log.log(System.Logger.Level.WARNING, "Shard {0}: reopening from the last commit and the WAL, because {1}", dir, why);
      try {
        writer.rollback();
      } catch (IOException | RuntimeException e) {
        log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": rollback of the old writer failed", e);
      }
      if (!wal.isWritable()) {
        try {
          wal.close();
        } catch (IOException e) {
          log.log(System.Logger.Level.DEBUG, "Shard " + dir + ": closing the failed WAL", e);
        }
        wal = WriteAheadLog.open(dir.resolve("wal"), options.wal(), io.wal());
      }
      IndexWriter next = new IndexWriter(directory, writerConfig(schemaRef));
      SearcherManager nextSearchers;
      long committed;
      long applied;
      try {
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
      synchronized (this) {
        visibleSeq = applied;
      }
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

  /** For the background tasks and readers: reopens at once if a failure has closed the writer or the WAL. */
  private void healNow() throws IOException {
    synchronized (writeLock) {
      if (!closed) {
        heal();
      }
    }
  }

  /** Makes every applied write visible to readers. */
  public void refresh() throws IOException {
    long target = appliedSeq;
    if (visibleSeq >= target) {
      return;
    }
    searchers.maybeRefreshBlocking();
    synchronized (this) {
      visibleSeq = Math.max(visibleSeq, target);
    }
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
        searchers.maybeRefresh();
      }
    } catch (Exception e) {
      if (!closed) {
        noticed(e, "refresh failed");
      }
    }
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
      return mapper.read(leaf, leaf.storedFields(), doc - ctx.docBase, id, sel, schema);
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
      return mapper.read(ctx.reader(), ctx.reader().storedFields(), doc - ctx.docBase, id, sel, schema);
    }

    /** The version (WAL sequence of its last write) of a document's point. */
    public long version(int doc) throws IOException {
      LeafReaderContext ctx = leaf(doc);
      var versions = ctx.reader().getNumericDocValues(Fields.VERSION);
      return versions != null && versions.advanceExact(doc - ctx.docBase) ? versions.longValue() : 0;
    }

    /** The point id of a document. */
    public PointId idOf(int doc) throws IOException {
      LeafReaderContext ctx = leaf(doc);
      SortedDocValues ids = ctx.reader().getSortedDocValues(Fields.ID);
      if (ids == null || !ids.advanceExact(doc - ctx.docBase)) {
        throw new IOException("document without id");
      }
      return PointId.fromTerm(ids.lookupOrd(ids.ordValue()));
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

  /** For tests: the sequence numbers the shard has applied and committed. */
  long appliedSeq() {
    return appliedSeq;
  }

  long committedSeq() {
    return committedSeq;
  }

  /** For tests: the current index writer. */
  IndexWriter writer() {
    return writer;
  }

}
