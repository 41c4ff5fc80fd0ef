package io.quiver.engine.wal;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * An append-only log of opaque records, each identified by a sequence number that starts at 1 and
 * grows by exactly 1 per record.
 *
 * <h2>File format</h2>
 *
 * The log is a directory of segment files named {@code wal-<first seq, 20 digits zero-padded>.log}
 * plus a {@code wal.lock} file that keeps a second process (or a second instance in this JVM) from
 * opening the same directory. All integers are big-endian.
 *
 * <pre>
 * segment = header frame*
 * header  = magic:int32 (0x5157414C, "QWAL") | version:int32 (1) | firstSeq:int64   (16 bytes)
 * frame   = length:int32 | seq:int64 | crc:int32 | payload:byte[length]           (16 + length)
 * </pre>
 *
 * {@code crc} is CRC32C over the 8 {@code seq} bytes followed by the payload. The first frame of a
 * segment carries the header's {@code firstSeq}, every further frame the previous seq + 1, and
 * every segment starts where the previous one ended. Payloads hold at most 1 GiB. The log rolls
 * over to a new segment before a frame would push the active one past {@link
 * WalOptions#segmentBytes()}; a frame larger than that gets a segment of its own.
 *
 * <h2>Recovery</h2>
 *
 * {@link #open} reads every segment in order and checks headers, frame lengths, sequence
 * continuity and CRCs. At the first frame that is incomplete or invalid it truncates the segment
 * there (and fsyncs it), deletes all later segments and continues appending after the last good
 * frame; a segment whose header is torn or invalid is deleted as a whole. In the last segment this
 * is the normal result of a crash during a write and is logged as a WARNING. Anywhere else it is
 * real corruption, logged as an ERROR, and every frame after it is lost: a node that starts with a
 * shortened log beats one that cannot start. The one finding that makes {@code open} fail instead
 * is a segment written in an unknown format version. If no segment survives, the numbering
 * restarts at 1. A segment that holds only its header is valid: it carries the numbering of a log
 * whose records were all removed, or of one created by {@link #openAt} to begin after a given
 * sequence number.
 *
 * <h2>Durability</h2>
 *
 * {@link #append} only writes to the OS; a frame is durable once {@link #sync} has covered it, as
 * {@link #appendDurable} does under {@link FsyncPolicy#ALWAYS}. Segment headers and directory
 * entries are fsynced when a segment is created, and a segment is fsynced when it is sealed, so
 * {@code sync} needs to force only the active file. After any failed write or fsync the log refuses
 * further writes and syncs (the kernel may have dropped the unsynced pages, so a retried fsync
 * could lie); reopening it recovers what reached the disk.
 *
 * <h2>Failed appends (a full disk)</h2>
 *
 * When writing a frame fails (typically {@code No space left on device}), the active segment is
 * truncated back to where the frame began, so the log ends at the last whole frame, the failed
 * record gets no sequence number and the next append starts on clean ground. Only if that
 * truncation fails too does the log fail as above. Likewise a segment that cannot be created is
 * removed again and the previous one stays active. {@link #discardAfter} removes records that were
 * appended but must not be kept (their caller could not apply them).
 *
 * <h2>Thread-safety</h2>
 *
 * All methods may be called from any thread. Appends are serialised by a lock; fsyncs run outside
 * it and are shared between concurrent callers (group commit). Do not interrupt a thread inside
 * {@code append}, {@code sync} or {@code close}: {@link FileChannel} closes itself when a thread
 * blocked on it is interrupted, which fails the log until it is reopened.
 */
public final class WriteAheadLog implements Closeable {
  static final int MAGIC = 0x5157414C;
  static final int VERSION = 1;
  static final int HEADER_BYTES = 16;
  static final int FRAME_HEADER_BYTES = 16;
  static final int MAX_PAYLOAD = 1 << 30;

  private static final Pattern SEGMENT_NAME = Pattern.compile("wal-\\d{20}\\.log");
  private static final int WRITE_BUFFER_BYTES = 256 << 10;
  private static final int READ_BUFFER_BYTES = 64 << 10;
  // Windows cannot open a directory as a channel, so there is no way to fsync one there.
  private static final boolean CAN_FSYNC_DIRECTORY =
      !System.getProperty("os.name", "").startsWith("Windows");
  private static final Logger log = System.getLogger(WriteAheadLog.class.getName());

  private final Path dir;
  private final WalOptions options;
  private final ChannelOpener opener;
  private final FileChannel lockChannel;

  // Lock order: retention, then appendLock, then syncLock. retention keeps truncateUpTo from
  // deleting segments under a running replay.
  private final ReentrantReadWriteLock retention = new ReentrantReadWriteLock();
  private final ReentrantLock appendLock = new ReentrantLock();
  private final ReentrantLock syncLock = new ReentrantLock();
  private final Condition syncDone = syncLock.newCondition();

  // Guarded by appendLock.
  private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
  private final CRC32C crc = new CRC32C();
  private final ArrayDeque<Segment> sealed = new ArrayDeque<>();
  private FileChannel channel;
  private Path activePath;
  private long activeFirstSeq;
  private long activeBytes;
  private volatile boolean closed; // written under appendLock

  // Written under appendLock, read without it.
  private volatile long lastSeq;
  private volatile long oldestFirstSeq;
  private volatile long totalBytes;

  private volatile IOException failure; // first write or fsync error, set by fail(), never cleared

  // Written under syncLock, read without it.
  private volatile long syncedSeq;
  private boolean syncInProgress; // guarded by syncLock

  private final ScheduledExecutorService flusher; // null unless EVERY_MILLIS

  /** A segment file; for the active segment {@code lastSeq} and {@code bytes} are a snapshot. */
  private record Segment(long firstSeq, long lastSeq, Path path, long bytes) {}

  /** Receives the records of a {@link #replay}; throwing aborts the replay with that exception. */
  @FunctionalInterface
  public interface RecordConsumer {
    void accept(long seq, byte[] payload) throws IOException;
  }

  /** @param startAfter for {@link #openAt}: the sequence number the new log begins after; -1 for {@link #open} */
  private WriteAheadLog(
      Path dir, WalOptions options, ChannelOpener opener, FileChannel lockChannel, long startAfter)
      throws IOException {
    this.dir = dir;
    this.options = options;
    this.opener = opener;
    this.lockChannel = lockChannel;
    recover(startAfter);
    flusher = options.fsync() == FsyncPolicy.EVERY_MILLIS ? startFlusher() : null;
  }

  /**
   * Opens the log in {@code dir}, creating the directory if missing, and recovers it as described
   * in the class comment. Everything recovered is durable when this returns.
   *
   * @throws IOException if the directory is in use by another instance, holds a segment of an
   *     unknown format version, or cannot be read or repaired
   */
  public static WriteAheadLog open(Path dir, WalOptions options) throws IOException {
    return open(dir, options, ChannelOpener.DEFAULT);
  }

  /** As {@link #open(Path, WalOptions)}, opening every file through {@code opener}. */
  public static WriteAheadLog open(Path dir, WalOptions options, ChannelOpener opener)
      throws IOException {
    return open(dir, options, opener, -1);
  }

  /**
   * Creates a log whose numbering begins after {@code lastSeq}: {@link #lastSequence()} is {@code
   * lastSeq}, {@link #firstSequence()} 0, and the first append gets {@code lastSeq + 1}. The log is
   * one segment holding only its header, durable when this returns, so {@link #open} later recovers
   * the same numbering, with or without records appended meanwhile. For a replica that takes over a
   * primary's numbering, or a log restarted after an index that holds everything up to {@code
   * lastSeq}.
   *
   * @param dir a missing directory, or one that holds no segment (an empty one, say)
   * @throws IllegalArgumentException if {@code lastSeq} is negative
   * @throws IOException if {@code dir} holds a segment, is in use by another instance, or the
   *     segment cannot be created
   */
  public static WriteAheadLog openAt(Path dir, WalOptions options, ChannelOpener opener, long lastSeq)
      throws IOException {
    if (lastSeq < 0) {
      throw new IllegalArgumentException("lastSeq must not be negative: " + lastSeq);
    }
    return open(dir, options, opener, lastSeq);
  }

  private static WriteAheadLog open(Path dir, WalOptions options, ChannelOpener opener, long startAfter)
      throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(opener, "opener");
    Files.createDirectories(dir);
    FileChannel lockChannel =
        opener.open(
            dir.resolve("wal.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      if (lockChannel.tryLock() == null) {
        throw new IOException("WAL directory " + dir + " is in use by another process");
      }
      return new WriteAheadLog(dir, options, opener, lockChannel, startAfter);
    } catch (OverlappingFileLockException e) {
      lockChannel.close();
      throw new IOException("WAL directory " + dir + " is already open in this JVM", e);
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
  }

  /**
   * Appends one record and returns its sequence number, {@link #lastSequence()} + 1. Thread-safe;
   * concurrent appends are serialised and numbered in the order they take the lock. The frame is
   * handed to the OS but not fsynced, so it may be lost in a crash until {@link #sync} covers it.
   *
   * @throws IllegalArgumentException if the payload exceeds 1 GiB
   * @throws IOException if the log is closed or failed earlier, or if the write fails: then the
   *     partial frame is cut off again and the log stays usable, unless that fails too (which
   *     fails the log)
   */
  public long append(byte[] payload) throws IOException {
    if (payload.length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("WAL payload of " + payload.length + " bytes exceeds 1 GiB");
    }
    long frameBytes = FRAME_HEADER_BYTES + (long) payload.length;
    appendLock.lock();
    try {
      ensureWritable();
      long seq = lastSeq + 1;
      try {
        if (activeBytes > HEADER_BYTES && activeBytes + frameBytes > options.segmentBytes()) {
          rotate();
        }
        writeFrame(seq, payload);
      } catch (IOException e) {
        throw abandonFrame(e);
      }
      activeBytes += frameBytes;
      totalBytes += frameBytes;
      lastSeq = seq;
      return seq;
    } finally {
      appendLock.unlock();
    }
  }

  /**
   * Makes every frame up to {@code upToSeq} durable; sequence numbers not yet appended are ignored.
   * Thread-safe and group-committing: returns at once if those frames are already durable, and
   * otherwise either runs one fsync covering everything appended so far or waits for the fsync in
   * progress and then, if that did not cover {@code upToSeq}, runs the next one. Appends proceed
   * while an fsync runs. Returns normally after {@link #close()}, which syncs everything.
   *
   * @throws IOException if the fsync fails (which fails the log) or the log failed earlier
   */
  public void sync(long upToSeq) throws IOException {
    syncLock.lock();
    try {
      while (true) {
        if (syncedSeq >= Math.min(upToSeq, lastSeq)) {
          return;
        }
        if (failure != null) {
          throw failed();
        }
        if (!syncInProgress) {
          break;
        }
        syncDone.await();
      }
      syncInProgress = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while waiting for a WAL fsync");
    } finally {
      syncLock.unlock();
    }
    long covered = 0;
    try {
      covered = forceActive();
    } finally {
      syncLock.lock();
      try {
        syncInProgress = false;
        advanceSynced(covered);
      } finally {
        syncLock.unlock();
      }
    }
  }

  /**
   * Appends one record and applies the {@link WalOptions#fsync() fsync policy}: under {@link
   * FsyncPolicy#ALWAYS} the record is durable when this returns; under {@link
   * FsyncPolicy#EVERY_MILLIS} it returns at once and the background fsync makes the record durable
   * within about one interval. Thread-safe, like {@link #append} and {@link #sync}.
   */
  public long appendDurable(byte[] payload) throws IOException {
    long seq = append(payload);
    if (options.fsync() == FsyncPolicy.ALWAYS) {
      sync(seq);
    }
    return seq;
  }

  /**
   * The sequence number of the last appended record (durable or not), 0 if none was ever appended.
   * Thread-safe, lock-free; still answers after close.
   */
  public long lastSequence() {
    return lastSeq;
  }

  /**
   * The sequence number of the oldest record still kept, 0 if no record is kept (never appended,
   * or all removed by {@link #truncateUpTo}). Thread-safe, lock-free; still answers after close.
   */
  public long firstSequence() {
    long first = oldestFirstSeq;
    return first <= lastSeq ? first : 0;
  }

  /**
   * Passes every kept record with a sequence number above {@code afterSeq} to {@code consumer}, in
   * order. Records removed by {@link #truncateUpTo} are silently absent; check {@link
   * #firstSequence()} if that matters. Thread-safe: sees exactly the records appended before the
   * call, whether durable or not; appends may continue meanwhile and the consumer may append
   * itself, but {@code truncateUpTo} waits until the replay is over and must not be called from
   * the consumer.
   *
   * @throws IOException if the log is closed, a file cannot be read, a frame fails validation
   *     (which means corruption after open), or the consumer throws
   */
  public void replay(long afterSeq, RecordConsumer consumer) throws IOException {
    Objects.requireNonNull(consumer, "consumer");
    retention.readLock().lock();
    try {
      List<Segment> segments;
      long limit;
      appendLock.lock();
      try {
        ensureOpen();
        limit = lastSeq;
        segments = new ArrayList<>(sealed);
        segments.add(new Segment(activeFirstSeq, limit, activePath, activeBytes));
      } finally {
        appendLock.unlock();
      }
      long nextSeq = 0;
      for (Segment segment : segments) {
        if (segment.lastSeq() <= afterSeq) {
          continue;
        }
        // Frames past the limit may still be half written by a concurrent append.
        SegmentReader reader = new SegmentReader(segment.path(), nextSeq, limit);
        try (reader) {
          while (reader.next()) {
            if (reader.seq() > afterSeq) {
              consumer.accept(reader.seq(), reader.payload);
            }
          }
        }
        String problem =
            reader.problem != null
                ? reader.problem
                : reader.nextSeq <= segment.lastSeq()
                    ? "segment ends before sequence " + segment.lastSeq()
                    : null;
        if (problem != null) {
          throw new IOException(
              "Corrupt WAL segment %s at offset %d: %s"
                  .formatted(segment.path(), reader.offset, problem));
        }
        nextSeq = reader.nextSeq;
      }
    } finally {
      retention.readLock().unlock();
    }
  }

  /**
   * Deletes the segment files whose records all have sequence numbers {@code <= seq}, oldest
   * first; the active segment is never deleted, so up to one segment's worth of older records
   * stays. Thread-safe; waits for running replays. The deletions are not fsynced: segments that
   * reappear after a crash are simply kept.
   *
   * @throws IllegalStateException if called from a {@link #replay} consumer
   * @throws IOException if the log is closed or a file cannot be deleted
   */
  public void truncateUpTo(long seq) throws IOException {
    if (retention.getReadHoldCount() > 0) {
      throw new IllegalStateException("truncateUpTo cannot run inside a replay consumer");
    }
    retention.writeLock().lock();
    try {
      List<Segment> doomed = new ArrayList<>();
      appendLock.lock();
      try {
        ensureOpen();
        while (!sealed.isEmpty() && sealed.peekFirst().lastSeq() <= seq) {
          Segment segment = sealed.removeFirst();
          doomed.add(segment);
          totalBytes -= segment.bytes();
        }
        oldestFirstSeq = sealed.isEmpty() ? activeFirstSeq : sealed.peekFirst().firstSeq();
      } finally {
        appendLock.unlock();
      }
      // Oldest first, so a crash in between leaves a gap-free suffix of the log.
      for (Segment segment : doomed) {
        Files.deleteIfExists(segment.path());
      }
    } finally {
      retention.writeLock().unlock();
    }
  }

  /**
   * Removes the records above {@code seq}, for a caller that appended them but could not apply
   * them. They must all lie in the active segment, as records appended since the last rotation do
   * (in particular the last record alone). Waits for a running fsync and holds further ones off;
   * the log is fsynced up to {@code seq} when this returns, and the next append gets {@code seq + 1}.
   * Thread-safe.
   *
   * @throws IllegalArgumentException if {@code seq} is above {@link #lastSequence()}, or if some of
   *     the records above it are in a sealed segment
   * @throws IOException if the log is closed or failed, or the truncation fails (which fails the
   *     log)
   */
  public void discardAfter(long seq) throws IOException {
    syncLock.lock();
    try {
      while (syncInProgress) {
        syncDone.await();
      }
      syncInProgress = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while waiting for a WAL fsync");
    } finally {
      syncLock.unlock();
    }
    try {
      appendLock.lock();
      try {
        ensureWritable();
        if (seq > lastSeq) {
          throw new IllegalArgumentException("sequence " + seq + " is above the last one, " + lastSeq);
        }
        if (seq == lastSeq) {
          return;
        }
        if (seq < activeFirstSeq - 1) {
          throw new IllegalArgumentException(
              "records above " + seq + " reach into a sealed segment (active starts at " + activeFirstSeq + ")");
        }
        long offset = HEADER_BYTES;
        if (seq >= activeFirstSeq) {
          try (SegmentReader reader = new SegmentReader(activePath, activeFirstSeq, seq)) {
            while (reader.next()) {
              // Skipping to the end of record seq.
            }
            if (reader.problem != null || reader.nextSeq != seq + 1) {
              throw fail(new IOException("Corrupt WAL segment " + activePath + " at offset "
                  + reader.offset + ": " + reader.problem));
            }
            offset = reader.offset;
          }
        }
        try {
          channel.truncate(offset);
          channel.position(offset);
          channel.force(false);
        } catch (IOException e) {
          throw fail(e);
        }
        log.log(Level.WARNING, "WAL in %s: discarded records %d to %d".formatted(dir, seq + 1, lastSeq));
        totalBytes -= activeBytes - offset;
        activeBytes = offset;
        lastSeq = seq;
        syncLock.lock();
        try {
          syncedSeq = seq; // lowered if a sync had covered the discarded records
        } finally {
          syncLock.unlock();
        }
      } finally {
        appendLock.unlock();
      }
    } finally {
      syncLock.lock();
      try {
        syncInProgress = false;
        syncDone.signalAll();
      } finally {
        syncLock.unlock();
      }
    }
  }

  /**
   * False once the log is closed or has failed (a write that could not be cut back, a failed
   * fsync): then it must be reopened to take writes again. Thread-safe, lock-free.
   */
  public boolean isWritable() {
    return !closed && failure == null;
  }

  /** Total size of the segment files in bytes. Thread-safe, lock-free; still answers after close. */
  public long sizeBytes() {
    return totalBytes;
  }

  /**
   * Stops the background fsync, fsyncs everything appended and releases the files. Idempotent:
   * later calls return at once. Thread-safe; appends and syncs that run concurrently either
   * complete before the final fsync or fail with "closed".
   *
   * @throws IOException if the final fsync fails or the log had failed earlier; the files are
   *     released either way
   */
  @Override
  public void close() throws IOException {
    if (flusher != null) {
      flusher.close(); // lets a running fsync finish rather than interrupting it
    }
    appendLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      try (lockChannel;
          FileChannel active = channel) {
        if (failure != null) {
          throw failed();
        }
        try {
          active.force(false);
        } catch (IOException e) {
          throw fail(e);
        }
        advanceSynced(lastSeq);
      }
    } finally {
      appendLock.unlock();
    }
  }

  static String segmentName(long firstSeq) {
    return "wal-%020d.log".formatted(firstSeq);
  }

  private void recover(long startAfter) throws IOException {
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files =
          listing
              .filter(p -> SEGMENT_NAME.matcher(p.getFileName().toString()).matches())
              .sorted()
              .toList();
    }
    if (startAfter >= 0 && !files.isEmpty()) {
      throw new IOException("WAL directory " + dir + " already holds a log");
    }
    List<Segment> kept = new ArrayList<>();
    long nextSeq = 0;
    for (int i = 0; i < files.size(); i++) {
      Path file = files.get(i);
      SegmentReader reader = new SegmentReader(file, nextSeq, Long.MAX_VALUE);
      try (reader) {
        while (reader.next()) {
          // Only validating.
        }
      }
      if (reader.offset >= HEADER_BYTES) {
        kept.add(new Segment(reader.firstSeq, reader.nextSeq - 1, file, reader.offset));
        nextSeq = reader.nextSeq;
      }
      if (reader.problem == null) {
        continue;
      }
      List<Path> later = files.subList(i + 1, files.size());
      boolean tornTail = later.isEmpty();
      log.log(
          tornTail ? Level.WARNING : Level.ERROR,
          "%s WAL segment %s at offset %d: %s; %s%s"
              .formatted(
                  tornTail ? "Torn tail in" : "Corrupt",
                  file,
                  reader.offset,
                  reader.problem,
                  reader.offset < HEADER_BYTES ? "deleting the segment" : "truncating it there",
                  tornTail ? "" : " and deleting " + later.size() + " later segment(s)"));
      if (reader.offset < HEADER_BYTES) {
        Files.delete(file);
      }
      for (Path path : later) {
        Files.delete(path);
      }
      break;
    }
    totalBytes = kept.stream().mapToLong(Segment::bytes).sum();
    if (kept.isEmpty()) {
      startSegment(Math.max(startAfter, 0) + 1);
      lastSeq = activeFirstSeq - 1;
    } else {
      Segment active = kept.removeLast();
      sealed.addAll(kept);
      channel = opener.open(active.path(), StandardOpenOption.WRITE);
      try {
        channel.truncate(active.bytes());
        channel.position(active.bytes());
        // The previous process may have died before fsyncing; syncedSeq starts at lastSeq.
        channel.force(true);
      } catch (IOException e) {
        channel.close();
        throw e;
      }
      activePath = active.path();
      activeFirstSeq = active.firstSeq();
      activeBytes = active.bytes();
      lastSeq = active.lastSeq();
    }
    syncedSeq = lastSeq;
    oldestFirstSeq = sealed.isEmpty() ? activeFirstSeq : sealed.peekFirst().firstSeq();
    fsyncDirectory(dir); // makes the deletions above stick
  }

  private ScheduledExecutorService startFlusher() {
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("wal-flusher " + dir).factory());
    long interval = options.fsyncIntervalMillis();
    executor.scheduleWithFixedDelay(
        () -> {
          try {
            sync(Long.MAX_VALUE);
          } catch (IOException e) {
            // fail() has logged the cause and every later write reports it; throwing cancels the
            // task instead of failing again every interval.
            throw new UncheckedIOException(e);
          }
        },
        interval,
        interval,
        TimeUnit.MILLISECONDS);
    return executor;
  }

  private void rotate() throws IOException {
    // sync() forces only the active channel, so the segment being sealed is made durable here.
    try {
      channel.force(false);
    } catch (IOException e) {
      throw fail(e);
    }
    advanceSynced(lastSeq);
    // The new segment is complete before the old one is let go: if it cannot be created (a full
    // disk), the old one simply stays active.
    Path previousPath = activePath;
    FileChannel previous = channel;
    long previousFirst = activeFirstSeq;
    long previousBytes = activeBytes;
    startSegment(lastSeq + 1);
    sealed.addLast(new Segment(previousFirst, lastSeq, previousPath, previousBytes));
    try {
      previous.close();
    } catch (IOException e) {
      log.log(Level.WARNING, "Closing sealed WAL segment " + previousPath + " failed", e);
    }
  }

  private void startSegment(long firstSeq) throws IOException {
    Path path = dir.resolve(segmentName(firstSeq));
    FileChannel created =
        opener.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try {
      writeFully(created, writeBuffer.clear().putInt(MAGIC).putInt(VERSION).putLong(firstSeq).flip());
      // Durable up front: once truncateUpTo has removed the older segments, this header alone
      // carries the numbering across a crash.
      created.force(true);
      fsyncDirectory(dir);
    } catch (IOException e) {
      created.close();
      try {
        Files.deleteIfExists(path);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
        // A header-only segment left behind would still be valid; a torn one is cut at open.
      }
      throw e;
    }
    channel = created;
    activePath = path;
    activeFirstSeq = firstSeq;
    activeBytes = HEADER_BYTES;
    totalBytes += HEADER_BYTES;
  }

  private void writeFrame(long seq, byte[] payload) throws IOException {
    ByteBuffer buffer = writeBuffer.clear().putInt(payload.length).putLong(seq);
    crc.reset();
    crc.update(buffer.slice(4, Long.BYTES));
    crc.update(payload);
    buffer.putInt((int) crc.getValue());
    // Header and payload go out in one write when they fit the direct buffer, larger payloads in
    // chunks through it. Handing the heap array to the channel instead would make the JDK copy it
    // into a temporary direct buffer as large as the payload and cache that per thread.
    int written = 0;
    do {
      int chunk = Math.min(buffer.remaining(), payload.length - written);
      buffer.put(payload, written, chunk);
      written += chunk;
      writeFully(channel, buffer.flip());
      buffer.clear();
    } while (written < payload.length);
  }

  /** Forces the active segment; returns the sequence number that is durable afterwards. */
  private long forceActive() throws IOException {
    FileChannel active;
    long target;
    appendLock.lock();
    try {
      ensureWritable();
      active = channel;
      target = lastSeq;
    } finally {
      appendLock.unlock();
    }
    try {
      active.force(false);
    } catch (ClosedChannelException e) {
      // rotate() and close() force a channel and advance syncedSeq before closing it.
      if (syncedSeq >= target) {
        return target;
      }
      throw fail(e);
    } catch (IOException e) {
      throw fail(e);
    }
    return target;
  }

  private void advanceSynced(long seq) {
    syncLock.lock();
    try {
      syncedSeq = Math.max(syncedSeq, seq);
      syncDone.signalAll();
    } finally {
      syncLock.unlock();
    }
  }

  /**
   * After a failed frame write: cuts the active segment back to where the frame began, so that the
   * log ends at its last whole frame and stays usable. Returns {@code e} for the caller to throw.
   */
  private IOException abandonFrame(IOException e) {
    if (failure != null) {
      return e; // rotate() failed an fsync: nothing to repair
    }
    try {
      channel.truncate(activeBytes);
      channel.position(activeBytes);
      log.log(
          Level.WARNING,
          "WAL append in %s failed (%s); cut the partial frame off, the log stays usable"
              .formatted(dir, e.getMessage()));
      return e;
    } catch (IOException truncation) {
      e.addSuppressed(truncation);
      // Part of the frame may be on disk; frames written behind it would be cut off by recovery,
      // so no further write may be acknowledged.
      return fail(e);
    }
  }

  private IOException fail(IOException e) {
    if (failure == null) {
      failure = e;
      log.log(Level.ERROR, "WAL in " + dir + " failed; refusing writes until reopened", e);
    }
    return e;
  }

  private IOException failed() {
    return new IOException("WAL in " + dir + " failed earlier; reopen it to recover", failure);
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("WAL in " + dir + " is closed");
    }
  }

  private void ensureWritable() throws IOException {
    ensureOpen();
    if (failure != null) {
      throw failed();
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  private void fsyncDirectory(Path dir) throws IOException {
    if (CAN_FSYNC_DIRECTORY) {
      try (FileChannel channel = opener.open(dir, StandardOpenOption.READ)) {
        channel.force(true);
      }
    }
  }

  /**
   * Reads one segment's frames in order and stops at the first one that is incomplete or fails
   * validation, leaving {@code offset} at its start and the reason in {@code problem}.
   */
  private static final class SegmentReader implements Closeable {
    private final long fileSize;
    private final long limit;
    private final InputStream in;
    private final byte[] frameHeader = new byte[FRAME_HEADER_BYTES];
    private final CRC32C crc = new CRC32C();
    long firstSeq;
    long offset; // end of the valid part read so far; 0 if the header is invalid
    long nextSeq; // sequence number the next frame must carry
    byte[] payload; // of the frame last returned by next()
    String problem; // why reading stopped early; null at a clean end

    /**
     * @param expectedFirst the sequence number the segment must start with, 0 for any
     * @param limit frames above this sequence number are not read
     * @throws IOException if the file cannot be read or is written in an unknown format version
     */
    SegmentReader(Path file, long expectedFirst, long limit) throws IOException {
      this.limit = limit;
      fileSize = Files.size(file);
      in = new BufferedInputStream(Files.newInputStream(file), READ_BUFFER_BYTES);
      try {
        readHeader(file, expectedFirst);
      } catch (IOException | RuntimeException e) {
        in.close();
        throw e;
      }
    }

    private void readHeader(Path file, long expectedFirst) throws IOException {
      ByteBuffer header = ByteBuffer.wrap(in.readNBytes(HEADER_BYTES));
      if (header.remaining() < HEADER_BYTES) {
        problem = "torn segment header";
        return;
      }
      int magic = header.getInt();
      int version = header.getInt();
      firstSeq = header.getLong();
      if (magic == MAGIC && version != VERSION) {
        // Not a crash artefact: deleting it could destroy a newer node's data.
        throw new IOException("WAL segment " + file + " has unknown format version " + version);
      }
      problem =
          magic != MAGIC
              ? "bad magic 0x" + Integer.toHexString(magic)
              : firstSeq < 1 || !file.getFileName().toString().equals(segmentName(firstSeq))
                  ? "header sequence " + firstSeq + " does not match the file name"
                  : expectedFirst != 0 && firstSeq != expectedFirst
                      ? "starts at sequence " + firstSeq + " instead of " + expectedFirst
                      : null;
      if (problem == null) {
        offset = HEADER_BYTES;
        nextSeq = firstSeq;
      }
    }

    boolean next() throws IOException {
      if (problem != null || nextSeq > limit) {
        return false;
      }
      int read = in.readNBytes(frameHeader, 0, FRAME_HEADER_BYTES);
      if (read == 0) {
        return false;
      }
      if (read < FRAME_HEADER_BYTES) {
        return stop("incomplete frame header");
      }
      ByteBuffer header = ByteBuffer.wrap(frameHeader);
      int length = header.getInt(0);
      long seq = header.getLong(4);
      if (length < 0 || length > MAX_PAYLOAD) {
        return stop("invalid payload length " + length);
      }
      if (seq != nextSeq) {
        return stop("sequence " + seq + " instead of " + nextSeq);
      }
      // Checked before allocating, so that a garbage length cannot cost a huge array.
      if (offset + FRAME_HEADER_BYTES + length > fileSize) {
        return stop("incomplete payload");
      }
      byte[] data = in.readNBytes(length);
      crc.reset();
      crc.update(frameHeader, 4, Long.BYTES);
      crc.update(data);
      if ((int) crc.getValue() != header.getInt(12)) {
        return stop("CRC mismatch");
      }
      payload = data;
      offset += FRAME_HEADER_BYTES + length;
      nextSeq++;
      return true;
    }

    long seq() {
      return nextSeq - 1;
    }

    private boolean stop(String reason) {
      problem = reason;
      return false;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
