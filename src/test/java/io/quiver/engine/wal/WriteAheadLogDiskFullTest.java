package io.quiver.engine.wal;

import static io.quiver.engine.wal.WriteAheadLog.FRAME_HEADER_BYTES;
import static io.quiver.engine.wal.WriteAheadLog.HEADER_BYTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quiver.testing.DiskFaults;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A full disk during appends: the failed record leaves no trace and the log goes on. */
@Timeout(60)
class WriteAheadLogDiskFullTest {
  @TempDir Path tmp;
  final DiskFaults faults = new DiskFaults();

  WriteAheadLog open(Path dir, long segmentBytes) throws IOException {
    return WriteAheadLog.open(dir, new WalOptions(FsyncPolicy.ALWAYS, 0, segmentBytes), faults.opener());
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> replay(WriteAheadLog wal) throws IOException {
    List<String> out = new ArrayList<>();
    wal.replay(0, (seq, payload) -> out.add(seq + ":" + new String(payload, StandardCharsets.UTF_8)));
    return out;
  }

  static long size(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".log")).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /** A torn frame (0 bytes, part of the header, part of the payload) is cut off; the next append follows clean data. */
  @ParameterizedTest
  @ValueSource(longs = {0, 7, FRAME_HEADER_BYTES + 3})
  void tornAppendIsCutOffAndTheLogGoesOn(long bytesThatFit) throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = open(dir, 1 << 20)) {
      wal.appendDurable(bytes("a"));
      wal.appendDurable(bytes("b"));
      long before = size(dir);
      faults.walBytesLeft.set(bytesThatFit);
      IOException e = assertThrows(IOException.class, () -> wal.appendDurable(bytes("a payload too large for the disk")));
      assertEquals(DiskFaults.ENOSPC, e.getMessage());
      assertEquals(2, wal.lastSequence());
      assertEquals(before, size(dir), "the partial frame is gone");
      assertEquals(before, wal.sizeBytes());
      assertEquals(List.of("1:a", "2:b"), replay(wal));

      faults.walUnlimited();
      assertEquals(3, wal.appendDurable(bytes("c")));
      assertEquals(List.of("1:a", "2:b", "3:c"), replay(wal));
    }
    try (var wal = open(dir, 1 << 20)) {
      assertEquals(List.of("1:a", "2:b", "3:c"), replay(wal));
      assertEquals(4, wal.appendDurable(bytes("d")));
    }
  }

  @Test
  void aSegmentThatCannotBeCreatedLeavesThePreviousOneActive() throws IOException {
    Path dir = tmp.resolve("wal");
    long segment = HEADER_BYTES + 2 * (FRAME_HEADER_BYTES + 1);
    try (var wal = open(dir, segment)) {
      wal.appendDurable(bytes("a"));
      wal.appendDurable(bytes("b")); // the segment is full now
      faults.walBytesLeft.set(5); // not even a segment header fits
      assertThrows(IOException.class, () -> wal.appendDurable(bytes("c")));
      try (Stream<Path> files = Files.list(dir)) {
        assertEquals(List.of(WriteAheadLog.segmentName(1)),
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log")).toList());
      }
      assertEquals(2, wal.lastSequence());

      faults.walUnlimited();
      assertEquals(3, wal.appendDurable(bytes("c")));
      assertEquals(List.of("1:a", "2:b", "3:c"), replay(wal));
    }
    try (var wal = open(dir, segment)) {
      assertEquals(List.of("1:a", "2:b", "3:c"), replay(wal));
    }
  }

  @Test
  void discardAfterRemovesRecordsTheCallerCouldNotApply() throws IOException {
    Path dir = tmp.resolve("wal");
    try (var wal = open(dir, 1 << 20)) {
      for (String s : List.of("a", "b", "c", "d")) {
        wal.appendDurable(bytes(s));
      }
      wal.discardAfter(2);
      assertEquals(2, wal.lastSequence());
      assertEquals(List.of("1:a", "2:b"), replay(wal));
      assertEquals(3, wal.appendDurable(bytes("x")));
      wal.discardAfter(3); // nothing above 3: a no-op
      assertThrows(IllegalArgumentException.class, () -> wal.discardAfter(4));
    }
    try (var wal = open(dir, 1 << 20)) {
      assertEquals(List.of("1:a", "2:b", "3:x"), replay(wal));
    }
  }

  @Test
  void discardAfterStaysInTheActiveSegment() throws IOException {
    Path dir = tmp.resolve("wal");
    long segment = HEADER_BYTES + 2 * (FRAME_HEADER_BYTES + 1);
    try (var wal = open(dir, segment)) {
      for (String s : List.of("a", "b", "c")) {
        wal.appendDurable(bytes(s)); // c starts segment 2
      }
      assertThrows(IllegalArgumentException.class, () -> wal.discardAfter(1));
      wal.discardAfter(2); // the active segment keeps only its header
      assertEquals(List.of("1:a", "2:b"), replay(wal));
      assertEquals(3, wal.appendDurable(bytes("y")));
    }
    try (var wal = open(dir, segment)) {
      assertEquals(List.of("1:a", "2:b", "3:y"), replay(wal));
    }
  }
}
