package io.quiver.engine.wal;

import static io.quiver.engine.wal.WriteAheadLog.FRAME_HEADER_BYTES;
import static io.quiver.engine.wal.WriteAheadLog.HEADER_BYTES;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class WriteAheadLogTest {
  @TempDir Path tmp;

  private record Rec(long seq, byte[] payload) {}

  @Test
  void emptyLog() throws IOException {
    try (var wal = WriteAheadLog.open(tmp.resolve("wal"), WalOptions.defaults())) {
      assertEquals(0, wal.lastSequence());
      assertEquals(0, wal.firstSequence());
      assertEquals(HEADER_BYTES, wal.sizeBytes());
      assertEquals(List.of(), replay(wal, 0));
      wal.sync(10); // nothing to sync
    }
  }

  @Test
  void roundTripAcrossSegments() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(42), 2_000, 700);
    try (var wal = WriteAheadLog.open(dir, options(4096))) {
      for (int i = 0; i < written.size(); i++) {
        long seq = i % 3 == 0 ? wal.appendDurable(written.get(i)) : wal.append(written.get(i));
        assertEquals(i + 1, seq);
      }
      wal.sync(wal.lastSequence());
      assertPayloads(written, 1, replay(wal, 0));
    }
    assertTrue(segments(dir).size() > 100, "expected many segments: " + segments(dir).size());
    try (var wal = WriteAheadLog.open(dir, options(4096))) {
      assertEquals(1, wal.firstSequence());
      assertEquals(written.size(), wal.lastSequence());
      assertEquals(totalSize(dir), wal.sizeBytes());
      assertPayloads(written, 1, replay(wal, 0));
      assertEquals(written.size() + 1, wal.append(new byte[0]));
    }
    try (var wal = WriteAheadLog.open(dir, options(4096))) {
      List<Rec> all = replay(wal, 0);
      assertEquals(written.size() + 1, all.size());
      assertArrayEquals(new byte[0], all.getLast().payload());
    }
  }

  @Test
  void replayAfterSequenceSkips() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(7), 500, 300);
    try (var wal = WriteAheadLog.open(dir, options(2048))) {
      for (byte[] payload : written) {
        wal.append(payload);
      }
      assertPayloads(written.subList(123, 500), 124, replay(wal, 123));
    }
    try (var wal = WriteAheadLog.open(dir, options(2048))) {
      for (long after : new long[] {0, 1, 37, 250, 499}) {
        assertPayloads(written.subList((int) after, 500), after + 1, replay(wal, after));
      }
      assertEquals(List.of(), replay(wal, 500));
      assertEquals(List.of(), replay(wal, Long.MAX_VALUE));
    }
  }

  @Test
  void frameLargerThanSegmentGetsItsOwnSegment() throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = WriteAheadLog.open(dir, options(100))) {
      wal.append(new byte[10]);
      wal.append(new byte[500]);
      wal.append(new byte[10]);
    }
    assertEquals(
        List.of(
            WriteAheadLog.segmentName(1),
            WriteAheadLog.segmentName(2),
            WriteAheadLog.segmentName(3)),
        segments(dir).stream().map(p -> p.getFileName().toString()).toList());
    assertEquals(HEADER_BYTES + FRAME_HEADER_BYTES + 500, Files.size(segments(dir).get(1)));
  }

  @Test
  void truncateDeletesOldSegmentsOnly() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(3), 1_000, 200);
    long first;
    try (var wal = WriteAheadLog.open(dir, options(2048))) {
      for (byte[] payload : written) {
        wal.append(payload);
      }
      int before = segments(dir).size();
      wal.truncateUpTo(500);
      first = wal.firstSequence();
      assertTrue(first > 1 && first <= 501, "first kept: " + first);
      assertTrue(segments(dir).size() < before);
      assertEquals(WriteAheadLog.segmentName(first), segments(dir).getFirst().getFileName().toString());
      assertEquals(totalSize(dir), wal.sizeBytes());
      assertPayloads(written.subList((int) first - 1, 1_000), first, replay(wal, 0));

      assertThrows(IllegalStateException.class, () -> wal.replay(0, (s, p) -> wal.truncateUpTo(s)));
    }
    try (var wal = WriteAheadLog.open(dir, options(2048))) {
      assertEquals(first, wal.firstSequence());
      assertEquals(1_000, wal.lastSequence());
      assertEquals(1_001, wal.append("next".getBytes(StandardCharsets.UTF_8)));
      wal.truncateUpTo(Long.MAX_VALUE);
      assertEquals(1, segments(dir).size(), "the active segment must survive");
      assertEquals(totalSize(dir), wal.sizeBytes());
      assertEquals(1_002, wal.append("after".getBytes(StandardCharsets.UTF_8)));
    }
    try (var wal = WriteAheadLog.open(dir, options(2048))) {
      List<Rec> rest = replay(wal, 1_000);
      assertEquals(List.of(1_001L, 1_002L), rest.stream().map(Rec::seq).toList());
      assertEquals("after", new String(rest.get(1).payload(), StandardCharsets.UTF_8));
      assertEquals(1_003, wal.append(new byte[1]));
    }
  }

  @Test
  void tornTailAtEveryOffsetOfTheLastFrame() throws IOException {
    Path original = tmp.resolve("original");
    List<byte[]> written = randomPayloads(new Random(11), 20, 64);
    written.set(19, new byte[40]);
    writeAll(original, written, WalOptions.defaults());
    Path segment = segments(original).getFirst();
    long size = Files.size(segment);
    long lastFrame = size - FRAME_HEADER_BYTES - 40;

    for (long cut = lastFrame; cut < size; cut++) {
      Path dir = copy(original, tmp.resolve("cut-" + cut));
      try (FileChannel ch = FileChannel.open(dir.resolve(segment.getFileName()), StandardOpenOption.WRITE)) {
        ch.truncate(cut);
      }
      byte[] fresh = ("fresh " + cut).getBytes(StandardCharsets.UTF_8);
      try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
        assertEquals(19, wal.lastSequence(), "cut at " + cut);
        assertPayloads(written.subList(0, 19), 1, replay(wal, 0));
        assertEquals(20, wal.appendDurable(fresh));
      }
      try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
        List<Rec> all = replay(wal, 0);
        assertEquals(20, all.size(), "cut at " + cut);
        assertArrayEquals(fresh, all.getLast().payload());
      }
    }
  }

  enum Corruption {
    PAYLOAD_BYTE(FRAME_HEADER_BYTES + 5, null),
    CRC_BYTE(13, null),
    SEQUENCE_BYTE(11, null),
    NEGATIVE_LENGTH(0, -1),
    OVERSIZED_LENGTH(0, WriteAheadLog.MAX_PAYLOAD + 1),
    LENGTH_PAST_END_OF_FILE(0, 1 << 29);

    final int offsetInFrame;
    final Integer length; // replaces the length field; null flips the byte at offsetInFrame

    Corruption(int offsetInFrame, Integer length) {
      this.offsetInFrame = offsetInFrame;
      this.length = length;
    }
  }

  @ParameterizedTest
  @EnumSource(Corruption.class)
  void corruptLastFrameIsCut(Corruption corruption) throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(5), 10, 64);
    written.set(9, new byte[30]);
    writeAll(dir, written, WalOptions.defaults());
    Path segment = segments(dir).getFirst();
    long lastFrame = Files.size(segment) - FRAME_HEADER_BYTES - 30;
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long at = lastFrame + corruption.offsetInFrame;
      ByteBuffer bytes = ByteBuffer.allocate(4);
      if (corruption.length != null) {
        bytes.putInt(corruption.length).flip();
      } else {
        ch.read(bytes.limit(1), at);
        bytes.put(0, (byte) ~bytes.get(0)).flip();
      }
      ch.write(bytes, at);
    }
    assertReopensWith(dir, written.subList(0, 9));
    assertEquals(lastFrame + FRAME_HEADER_BYTES + 3, Files.size(segment)); // plus the new frame
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void garbageAfterLastFrameIsCut(boolean zeros) throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(9), 10, 64);
    writeAll(dir, written, WalOptions.defaults());
    Path segment = segments(dir).getFirst();
    long goodSize = Files.size(segment);
    byte[] garbage = new byte[zeros ? 4096 : 37];
    if (!zeros) {
      new Random(1).nextBytes(garbage);
    }
    Files.write(segment, garbage, StandardOpenOption.APPEND);
    assertReopensWith(dir, written);
    assertEquals(goodSize + FRAME_HEADER_BYTES + 3, Files.size(segment)); // plus the new frame
  }

  @Test
  void corruptionInEarlierSegmentDropsTheRest() throws IOException {
    Path dir = tmp.resolve("wal");
    // 40-byte payloads, 256-byte segments: 4 frames of 56 bytes per segment.
    List<byte[]> written = payloads(new Random(13), 60, 40);
    writeAll(dir, written, options(256));
    assertEquals(15, segments(dir).size());
    Path third = segments(dir).get(2); // seqs 9..12
    long payloadOfSeq10 = HEADER_BYTES + 56 + FRAME_HEADER_BYTES;
    try (FileChannel ch = FileChannel.open(third, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), payloadOfSeq10 + 7);
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(9, wal.lastSequence());
      assertEquals(3, segments(dir).size());
      assertPayloads(written.subList(0, 9), 1, replay(wal, 0));
      assertEquals(10, wal.append(written.get(9)));
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertPayloads(written.subList(0, 10), 1, replay(wal, 0));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 15, 16})
  void tornOrEmptyLastSegmentHeader(int length) throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = payloads(new Random(17), 8, 40);
    writeAll(dir, written, options(256)); // segments 1..4, 5..8
    Path last = segments(dir).getLast();
    try (FileChannel ch = FileChannel.open(last, StandardOpenOption.WRITE)) {
      ch.truncate(length);
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(4, wal.lastSequence());
      assertEquals(length == HEADER_BYTES ? 2 : 1, segments(dir).size());
      assertEquals(5, wal.append(new byte[40]));
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(5, replay(wal, 0).size());
    }
  }

  @Test
  void emptyLastSegmentKeepsTheNumberingAfterTruncation() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = payloads(new Random(19), 8, 40);
    writeAll(dir, written, options(256));
    try (FileChannel ch = FileChannel.open(segments(dir).getLast(), StandardOpenOption.WRITE)) {
      ch.truncate(HEADER_BYTES);
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      wal.truncateUpTo(4);
      assertEquals(0, wal.firstSequence());
      assertEquals(4, wal.lastSequence());
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(4, wal.lastSequence());
      assertEquals(5, wal.append(new byte[1]));
      assertEquals(5, wal.firstSequence());
    }
  }

  @Test
  void openAtBeginsAfterTheGivenSequenceAndReopensWithIt() throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = WriteAheadLog.openAt(dir, options(256), ChannelOpener.DEFAULT, 41)) {
      assertEquals(41, wal.lastSequence());
      assertEquals(0, wal.firstSequence());
      assertEquals(List.of(), replay(wal, 0));
    }
    assertEquals(List.of(WriteAheadLog.segmentName(42)),
        segments(dir).stream().map(p -> p.getFileName().toString()).toList());
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(41, wal.lastSequence(), "an empty log keeps its numbering");
      assertEquals(0, wal.firstSequence());
      assertEquals(42, wal.append(new byte[] {1}));
      assertEquals(42, wal.firstSequence());
    }
    List<byte[]> more = payloads(new Random(23), 20, 50);
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(42, wal.lastSequence());
      for (byte[] payload : more) {
        wal.append(payload);
      }
      assertTrue(segments(dir).size() > 2, "rolled over: " + segments(dir).size());
      assertPayloads(more, 43, replay(wal, 42));
    }
    try (var wal = WriteAheadLog.open(dir, options(256))) {
      assertEquals(62, wal.lastSequence());
      assertEquals(42, wal.firstSequence());
      assertEquals(21, replay(wal, 0).size());
      assertPayloads(more.subList(10, 20), 53, replay(wal, 52));
      wal.truncateUpTo(62);
      assertTrue(wal.firstSequence() > 42);
      assertEquals(63, wal.append(new byte[0]));
    }
  }

  @Test
  void openAtUndoesItsFirstRecordLikeAnyOther() throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = WriteAheadLog.openAt(dir, WalOptions.defaults(), ChannelOpener.DEFAULT, 7)) {
      assertEquals(8, wal.append(new byte[] {1}));
      wal.discardAfter(7);
      assertEquals(7, wal.lastSequence());
      assertEquals(0, wal.firstSequence());
      assertEquals(8, wal.append(new byte[] {2}));
    }
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      List<Rec> records = replay(wal, 0);
      assertEquals(1, records.size());
      assertEquals(8, records.getFirst().seq());
      assertArrayEquals(new byte[] {2}, records.getFirst().payload());
    }
  }

  @Test
  void openAtNeedsADirectoryWithoutALog() throws IOException {
    Path dir = tmp.resolve("wal");
    assertThrows(IllegalArgumentException.class,
        () -> WriteAheadLog.openAt(dir, WalOptions.defaults(), ChannelOpener.DEFAULT, -1));
    writeAll(dir, List.of(new byte[3]), WalOptions.defaults());
    assertThrows(IOException.class, () -> WriteAheadLog.openAt(dir, WalOptions.defaults(), ChannelOpener.DEFAULT, 5));
    assertReopensWith(dir, List.of(new byte[3]));

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    try (var wal = WriteAheadLog.openAt(empty, WalOptions.defaults(), ChannelOpener.DEFAULT, 0)) {
      assertEquals(0, wal.lastSequence());
      assertEquals(1, wal.append(new byte[1]));
    }
    for (Path segment : segments(empty)) {
      Files.delete(segment);
    }
    try (var wal = WriteAheadLog.openAt(empty, WalOptions.defaults(), ChannelOpener.DEFAULT, 100)) {
      assertEquals(101, wal.append(new byte[1]), "a leftover lock file is no log");
    }
  }

  @Test
  void unknownFormatVersionRefusesToOpen() throws IOException {
    Path dir = tmp.resolve("wal");
    writeAll(dir, List.of(new byte[3]), WalOptions.defaults());
    try (FileChannel ch = FileChannel.open(segments(dir).getFirst(), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).putInt(0, 2), 4);
    }
    assertThrows(IOException.class, () -> WriteAheadLog.open(dir, WalOptions.defaults()));
  }

  @Test
  void directoryCanBeOpenedOnlyOnce() throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      assertThrows(IOException.class, () -> WriteAheadLog.open(dir, WalOptions.defaults()));
      wal.append(new byte[1]);
    }
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      assertEquals(1, wal.lastSequence());
    }
  }

  @Test
  void concurrentAppendsAreGapFreeAndReplayOnce() throws Exception {
    Path dir = tmp.resolve("wal");
    int threads = 8;
    int perThread = 400;
    Map<Long, String> bySeq = new ConcurrentHashMap<>();
    AtomicBoolean writing = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    try (var wal = WriteAheadLog.open(dir, options(8192))) {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> writers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        writers.add(
            pool.submit(
                () -> {
                  start.await();
                  Random random = new Random(thread);
                  for (int i = 0; i < perThread; i++) {
                    String text = "t" + thread + "-" + i + "-" + "x".repeat(random.nextInt(200));
                    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
                    long seq = i % 2 == 0 ? wal.appendDurable(payload) : wal.append(payload);
                    if (i % 7 == 0) {
                      wal.sync(seq);
                    }
                    assertNull(bySeq.put(seq, text), "seq handed out twice: " + seq);
                  }
                  return null;
                }));
      }
      // A concurrent replay must always see a gap-free prefix.
      Future<?> reader =
          pool.submit(
              () -> {
                while (writing.get()) {
                  List<Rec> seen = replay(wal, 0);
                  for (int i = 0; i < seen.size(); i++) {
                    assertEquals(i + 1, seen.get(i).seq());
                  }
                }
                return null;
              });
      start.countDown();
      for (Future<?> writer : writers) {
        writer.get();
      }
      writing.set(false);
      reader.get();
      assertEquals(threads * perThread, wal.lastSequence());
    } finally {
      pool.shutdownNow();
    }
    assertEquals(
        LongStream.rangeClosed(1, threads * perThread).boxed().toList(),
        bySeq.keySet().stream().sorted().toList());
    try (var wal = WriteAheadLog.open(dir, options(8192))) {
      List<Rec> all = replay(wal, 0);
      assertEquals(threads * perThread, all.size());
      for (Rec rec : all) {
        assertEquals(bySeq.get(rec.seq()), new String(rec.payload(), StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void everyMillisPolicyPersistsAfterClose() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = randomPayloads(new Random(23), 300, 100);
    var options = new WalOptions(FsyncPolicy.EVERY_MILLIS, 5, 4096);
    try (var wal = WriteAheadLog.open(dir, options)) {
      for (byte[] payload : written) {
        wal.appendDurable(payload);
      }
      assertTrue(flusherRunning(dir));
    }
    assertFalse(flusherRunning(dir), "close must stop the flusher thread");
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      assertPayloads(written, 1, replay(wal, 0));
    }
  }

  @Test
  void closeIsIdempotent() throws IOException {
    var wal = WriteAheadLog.open(tmp.resolve("wal"), WalOptions.defaults());
    wal.append(new byte[] {1});
    wal.close();
    wal.close();
    assertEquals(1, wal.lastSequence());
    wal.sync(1); // close synced everything
    assertThrows(IOException.class, () -> wal.append(new byte[] {2}));
    assertThrows(IOException.class, () -> replay(wal, 0));
    assertThrows(IOException.class, () -> wal.truncateUpTo(1));
  }

  @Test
  void optionsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> new WalOptions(FsyncPolicy.EVERY_MILLIS, 0, 1024));
    assertThrows(IllegalArgumentException.class, () -> new WalOptions(FsyncPolicy.ALWAYS, -1, 1024));
    assertThrows(IllegalArgumentException.class, () -> new WalOptions(FsyncPolicy.ALWAYS, 0, 0));
    assertEquals(new WalOptions(FsyncPolicy.ALWAYS, 0, 32 << 20), WalOptions.defaults());
  }

  private static WalOptions options(long segmentBytes) {
    return new WalOptions(FsyncPolicy.ALWAYS, 0, segmentBytes);
  }

  private static List<byte[]> randomPayloads(Random random, int count, int maxLength) {
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      payloads.add(randomBytes(random, random.nextInt(maxLength + 1)));
    }
    return payloads;
  }

  private static List<byte[]> payloads(Random random, int count, int length) {
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      payloads.add(randomBytes(random, length));
    }
    return payloads;
  }

  private static byte[] randomBytes(Random random, int length) {
    byte[] bytes = new byte[length];
    random.nextBytes(bytes);
    return bytes;
  }

  private static void writeAll(Path dir, List<byte[]> payloads, WalOptions options)
      throws IOException {
    try (var wal = WriteAheadLog.open(dir, options)) {
      for (byte[] payload : payloads) {
        wal.append(payload);
      }
    }
  }

  /** Reopens, expects exactly {@code expected}, then checks that appends continue and persist. */
  private static void assertReopensWith(Path dir, List<byte[]> expected) throws IOException {
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      assertEquals(expected.size(), wal.lastSequence());
      assertPayloads(expected, 1, replay(wal, 0));
      assertEquals(expected.size() + 1, wal.appendDurable(new byte[] {7, 7, 7}));
    }
    try (var wal = WriteAheadLog.open(dir, WalOptions.defaults())) {
      assertEquals(expected.size() + 1, replay(wal, 0).size());
    }
  }

  private static List<Rec> replay(WriteAheadLog wal, long afterSeq) throws IOException {
    List<Rec> records = new ArrayList<>();
    wal.replay(afterSeq, (seq, payload) -> records.add(new Rec(seq, payload)));
    return records;
  }

  private static void assertPayloads(List<byte[]> expected, long firstSeq, List<Rec> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(firstSeq + i, actual.get(i).seq());
      assertArrayEquals(expected.get(i), actual.get(i).payload(), "seq " + (firstSeq + i));
    }
  }

  private static List<Path> segments(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("wal-")).sorted().toList();
    }
  }

  private static long totalSize(Path dir) throws IOException {
    long total = 0;
    for (Path segment : segments(dir)) {
      total += Files.size(segment);
    }
    return total;
  }

  private static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    for (Path segment : segments(from)) {
      Files.copy(segment, to.resolve(segment.getFileName()));
    }
    return to;
  }

  private static boolean flusherRunning(Path dir) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("wal-flusher " + dir) && t.isAlive());
  }
}
