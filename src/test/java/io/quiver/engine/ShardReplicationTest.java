package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A replica fed a primary's frames, or rebuilt from its export plus the frames above it, ends identical. */
@Timeout(120)
class ShardReplicationTest {
  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final ActionCodec codec = new ActionCodec(Json.MAPPER);
  final DocMapper docs = new DocMapper(Json.MAPPER);

  /** A frame as the primary's listener saw it. */
  record Frame(long seq, byte[] payload) {}

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  Shard open(String name) throws IOException {
    return Shard.open(dir.resolve(name), ShardTest.SCHEMA, ShardTest.OPTIONS, codec, docs, scheduler);
  }

  /** Every live point with its version, by id. */
  static Map<PointId, Shard.Versioned> state(Shard shard) throws IOException {
    shard.refresh();
    return shard.read(r -> {
      Map<PointId, Shard.Versioned> out = new TreeMap<>();
      for (Point p : r.scroll(null, null, 1_000_000, DocMapper.Selector.ALL).points()) {
        out.put(p.id(), new Shard.Versioned(r.version(r.doc(p.id())), p));
      }
      return out;
    });
  }

  /** Writes one random batch of the kind {@code round} picks: puts, overwrites, a payload update, deletes. */
  static void randomBatch(Shard shard, Random r, int round, List<PointId> known, Shard.FrameListener listener)
      throws IOException {
    switch (round % 4) {
      case 0, 1 -> {
        List<Action> actions = new ArrayList<>();
        for (int k = 0; k < 1 + r.nextInt(15); k++) {
          PointId id = round % 4 == 1 && !known.isEmpty() ? known.get(r.nextInt(known.size())) : PointId.of(r.nextInt(500));
          actions.add(new Action.Put(withDense(ShardTest.randomPoint(r, id), r)));
          known.add(id);
        }
        shard.write(view -> actions, r.nextBoolean(), listener);
      }
      case 2 -> {
        PointId id = known.isEmpty() ? PointId.of(0) : known.get(r.nextInt(known.size()));
        int value = r.nextInt();
        shard.write(view -> {
          Point p = view.read(rd -> rd.get(id, DocMapper.Selector.ALL));
          return p == null ? List.of() : List.of(new Action.Put(p.withPayload(p.payload().deepCopy().put("rmw", value))));
        }, r.nextBoolean(), listener);
      }
      default -> {
        List<Action> actions = new ArrayList<>();
        for (int k = 0; k < 1 + r.nextInt(4); k++) {
          actions.add(new Action.Delete(known.isEmpty() ? PointId.of(1) : known.get(r.nextInt(known.size()))));
        }
        shard.write(view -> actions, r.nextBoolean(), listener);
      }
    }
  }

  /** Every point gets at least the default dense vector. */
  static Point withDense(Point p, Random r) {
    if (p.dense().containsKey("")) {
      return p;
    }
    Map<String, float[]> dense = new HashMap<>(p.dense());
    dense.put("", ShardTest.floats(r, 4));
    return new Point(p.id(), dense, p.sparse(), p.payload());
  }

  static List<Frame> logged(Shard shard, long afterSeq) throws IOException {
    List<Frame> out = new ArrayList<>();
    shard.replayFrames(afterSeq, (seq, payload) -> out.add(new Frame(seq, payload)));
    return out;
  }

  static void assertSameFrames(List<Frame> expected, List<Frame> actual) {
    assertEquals(expected.stream().map(Frame::seq).toList(), actual.stream().map(Frame::seq).toList());
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i).payload(), actual.get(i).payload(), "frame " + expected.get(i).seq());
    }
  }

  @Test
  void replicaAppliesThePrimaryFramesAndEndsIdentical() throws IOException {
    Random r = new Random(11);
    Shard primary = open("primary");
    Shard replica = open("replica");
    List<Frame> frames = new ArrayList<>();
    Shard.FrameListener capture = (seq, payload) -> frames.add(new Frame(seq, payload));
    List<PointId> known = new ArrayList<>();
    for (int round = 0; round < 60; round++) {
      randomBatch(primary, r, round, known, capture);
    }
    primary.write(view -> List.of(), true, capture);
    assertThrows(IOException.class, () -> primary.write(view -> {
      throw new IOException("planner refuses");
    }, true, capture));
    assertEquals(primary.appliedSeq(), frames.size(), "one frame per write that changed something, none for the others");
    for (int i = 0; i < frames.size(); i++) {
      assertEquals(i + 1, frames.get(i).seq());
    }
    assertSameFrames(frames, logged(primary, 0));

    for (Frame f : frames) {
      assertTrue(replica.applyFrame(f.seq(), f.payload(), r.nextBoolean()));
    }
    Map<PointId, Shard.Versioned> expected = state(primary);
    assertTrue(expected.size() > 50, "points: " + expected.size());
    assertEquals(expected, state(replica));
    assertEquals(primary.appliedSeq(), replica.appliedSeq());
    assertSameFrames(frames, logged(replica, 0));

    assertFalse(replica.applyFrame(frames.getFirst().seq(), frames.getFirst().payload(), true));
    assertFalse(replica.applyFrame(frames.getLast().seq(), frames.getLast().payload(), true));
    long applied = replica.appliedSeq();
    var gap = assertThrows(Shard.SequenceGap.class, () -> replica.applyFrame(applied + 2, frames.getLast().payload(), true));
    assertEquals(applied + 1, gap.expected());
    assertEquals(applied + 2, gap.received());
    assertEquals(applied, replica.appliedSeq());
    assertEquals(expected, state(replica));
    assertEquals(frames.size(), logged(replica, 0).size());

    replica.close();
    Shard reopened = open("replica");
    assertEquals(expected, state(reopened));
    assertEquals(applied, reopened.appliedSeq());
    int before = frames.size();
    for (int round = 0; round < 8; round++) {
      randomBatch(primary, r, round, known, capture);
    }
    for (Frame f : frames.subList(before, frames.size())) {
      assertTrue(reopened.applyFrame(f.seq(), f.payload(), false));
    }
    reopened.abandon(); // a crash: the frames above the last commit are replayed
    Shard recovered = open("replica");
    assertEquals(state(primary), state(recovered));
    assertEquals(primary.appliedSeq(), recovered.appliedSeq());
    assertSameFrames(frames, logged(recovered, 0));
    recovered.close();
    primary.close();
  }

  @Test
  void replicaRecoversFromAnExportPlusTheFramesAboveIt() throws IOException {
    Random r = new Random(5);
    Shard source = open("source");
    List<PointId> known = new ArrayList<>();
    for (int round = 0; round < 80; round++) {
      randomBatch(source, r, round, known, Shard.FrameListener.NONE);
      if (round == 40) {
        source.commit(); // more than one segment, some of them with deleted documents
      }
    }
    Shard target = open("target");
    for (int i = 0; i < 100; i++) { // a state of its own, further on than the export, that the recovery removes
      Point p = withDense(ShardTest.randomPoint(r, PointId.of(1000 + i)), r);
      target.write(v -> List.of(new Action.Put(p)), false);
    }
    Map<PointId, Shard.Versioned> atExport = state(source);
    List<Shard.Versioned> exported = new ArrayList<>();
    List<Frame> frames = new ArrayList<>();
    Shard.FrameListener capture = (seq, payload) -> frames.add(new Frame(seq, payload));
    long base;
    try (Shard.Export export = source.export()) {
      base = export.seq();
      assertEquals(source.appliedSeq(), base);
      assertEquals(atExport.size(), export.total());

      // Meanwhile: deletes and overwrites of exported points, payload updates, new points.
      List<PointId> exportedIds = new ArrayList<>(atExport.keySet());
      for (int round = 0; round < 40; round++) {
        List<Action> actions = new ArrayList<>();
        PointId old = exportedIds.get(r.nextInt(exportedIds.size()));
        switch (round % 4) {
          case 0 -> actions.add(new Action.Delete(old));
          case 1 -> actions.add(new Action.Put(withDense(ShardTest.randomPoint(r, old), r)));
          case 2 -> actions.add(new Action.Put(withDense(ShardTest.randomPoint(r, PointId.of(600 + round)), r)));
          default -> {
            int value = round;
            source.write(view -> {
              Point p = view.read(rd -> rd.get(old, DocMapper.Selector.ALL));
              return p == null ? List.of() : List.of(new Action.Put(p.withPayload(p.payload().deepCopy().put("rmw", value))));
            }, false, capture);
            continue;
          }
        }
        source.write(v -> actions, false, capture);
      }
      assertTrue(frames.getFirst().seq() == base + 1 && frames.getLast().seq() == source.appliedSeq());

      assertTrue(target.appliedSeq() > base);
      target.beginRecovery(base);
      assertEquals(base, target.appliedSeq());
      assertEquals(Map.of(), state(target));
      assertEquals(0, target.firstKeptSeq());
      assertFalse(target.applyFrame(base, frames.getFirst().payload(), true), "the export holds it");

      int early = frames.size() / 3;
      for (Frame f : frames.subList(0, early)) {
        assertTrue(target.applyFrame(f.seq(), f.payload(), false));
      }
      List<Shard.Versioned> page = export.next(7);
      exported.addAll(page);
      target.installPoints(page);
      for (Frame f : frames.subList(early, 2 * early)) {
        assertTrue(target.applyFrame(f.seq(), f.payload(), r.nextBoolean()));
      }
      target.commit(); // a background commit in the middle of the recovery
      while (!(page = export.next(13)).isEmpty()) {
        exported.addAll(page);
        target.installPoints(page);
      }
      assertEquals(List.of(), export.next(5));
      for (Frame f : frames.subList(2 * early, frames.size())) {
        assertTrue(target.applyFrame(f.seq(), f.payload(), false));
      }
      target.endRecovery();
    }
    Map<PointId, Shard.Versioned> fromExport = new TreeMap<>();
    for (Shard.Versioned v : exported) {
      assertEquals(null, fromExport.put(v.point().id(), v), "exported twice: " + v.point().id());
    }
    assertEquals(atExport, fromExport, "the export is the state at its sequence number");

    Map<PointId, Shard.Versioned> expected = state(source);
    assertNotEquals(atExport, expected);
    assertEquals(expected, state(target));
    assertEquals(source.appliedSeq(), target.appliedSeq());
    assertSameFrames(frames, logged(target, 0));

    target.abandon(); // a crash right after the recovery
    target = open("target");
    assertEquals(expected, state(target));
    assertEquals(source.appliedSeq(), target.appliedSeq());
    target.close();
    target = open("target");
    assertEquals(expected, state(target));
    Frame next = write(source, PointId.of(7), r);
    assertTrue(target.applyFrame(next.seq(), next.payload(), true));
    assertEquals(state(source), state(target));
    target.close();
    source.close();
  }

  static Frame write(Shard shard, PointId id, Random r) throws IOException {
    List<Frame> out = new ArrayList<>();
    Point p = withDense(ShardTest.randomPoint(r, id), r);
    shard.write(v -> List.of(new Action.Put(p)), true, (seq, payload) -> out.add(new Frame(seq, payload)));
    return out.getFirst();
  }

  @Test
  void installingNeedsARecoveryAndARebuiltIndexFailsIt() throws IOException {
    Random r = new Random(3);
    Shard shard = open("s");
    var point = new Shard.Versioned(3, withDense(ShardTest.randomPoint(r, PointId.of(1)), r));
    assertThrows(IllegalStateException.class, () -> shard.installPoints(List.of(point)));
    assertThrows(IllegalStateException.class, shard::endRecovery);

    shard.beginRecovery(10);
    shard.installPoints(List.of(point));
    shard.installPoints(List.of(point)); // a page sent again
    assertEquals(Map.of(PointId.of(1), point), state(shard));
    Point bad = new Point(PointId.of(2), Map.of("no such vector", new float[] {1}), Map.of(), Json.MAPPER.createObjectNode());
    byte[] frame = codec.encode(List.of(new Action.Put(bad)));
    assertThrows(RuntimeException.class, () -> shard.applyFrame(11, frame, true));
    assertEquals(10, shard.appliedSeq(), "the refused frame left no trace");
    assertThrows(IOException.class, shard::endRecovery, "the rebuilt index lost the installed point");
    assertThrows(IllegalStateException.class, shard::endRecovery);

    shard.beginRecovery(10); // done again
    shard.installPoints(List.of(point));
    shard.endRecovery();
    shard.abandon();
    Shard reopened = open("s");
    assertEquals(Map.of(PointId.of(1), point), state(reopened));
    assertEquals(10, reopened.appliedSeq());
    reopened.close();
  }

  @Test
  void aCrashWhileEmptyingTheShardIsFinishedAtOpen() throws IOException {
    Random r = new Random(8);
    Shard shard = open("s");
    for (int i = 0; i < 20; i++) {
      write(shard, PointId.of(i), r);
    }
    shard.abandon();
    Files.writeString(dir.resolve("s").resolve(Shard.RECOVERY_MARKER), "7");
    shard = open("s");
    assertEquals(Map.of(), state(shard));
    assertEquals(7, shard.appliedSeq());
    assertFalse(Files.exists(dir.resolve("s").resolve(Shard.RECOVERY_MARKER)));
    assertEquals(8, write(shard, PointId.of(1), r).seq());
    shard.abandon();
    shard = open("s");
    assertEquals(8, shard.appliedSeq());
    assertEquals(1, state(shard).size());

    shard.beginRecovery(20);
    shard.installPoints(List.of(new Shard.Versioned(5, withDense(ShardTest.randomPoint(r, PointId.of(2)), r))));
    shard.abandon(); // a crash in the middle of the recovery: the uncommitted point is lost, the shard opens
    shard = open("s");
    assertEquals(20, shard.appliedSeq());
    assertEquals(Map.of(), state(shard));
    assertEquals(21, write(shard, PointId.of(3), r).seq());
    shard.close();
  }

  @Test
  void aWalThatEndsBelowTheCommitRestartsAfterIt() throws IOException {
    Random r = new Random(9);
    Shard shard = open("s");
    for (int i = 0; i < 5; i++) {
      write(shard, PointId.of(i), r);
    }
    shard.close();
    try (Stream<Path> files = Files.list(dir.resolve("s").resolve("wal"))) {
      for (Path f : files.toList()) {
        Files.delete(f); // as if the log's tail had not reached the disk
      }
    }
    shard = open("s");
    assertEquals(5, shard.appliedSeq());
    assertEquals(6, write(shard, PointId.of(9), r).seq(), "new frames are numbered above the commit");
    shard.abandon();
    shard = open("s");
    assertEquals(6, state(shard).size(), "the frame above the commit was replayed");
    shard.close();
  }

  @Test
  void exportIsAPointInTimeAndClosesOnce() throws IOException {
    Random r = new Random(4);
    Shard shard = open("s");
    for (int i = 0; i < 10; i++) {
      write(shard, PointId.of(i), r);
    }
    Map<PointId, Shard.Versioned> before = state(shard);
    Shard.Export export = shard.export();
    shard.write(v -> List.of(new Action.Delete(PointId.of(3))), true);
    write(shard, PointId.of(4), r);
    write(shard, PointId.of(42), r);
    assertEquals(10, export.seq());
    assertEquals(10, export.total());
    Map<PointId, Shard.Versioned> seen = new TreeMap<>();
    for (Shard.Versioned v : export.next(100)) {
      seen.put(v.point().id(), v);
    }
    assertEquals(before, seen);
    export.close();
    export.close();
    assertThrows(IllegalStateException.class, () -> export.next(1));
    Map<PointId, Shard.Versioned> now = state(shard);
    assertFalse(now.containsKey(PointId.of(3)));
    assertEquals(13, now.get(PointId.of(42)).version());
    shard.close();
  }

  @Test
  void aFailingListenerDoesNotFailTheWrite() throws IOException {
    Shard shard = open("s");
    Point p = withDense(ShardTest.randomPoint(new Random(2), PointId.of(1)), new Random(2));
    long seq = shard.write(v -> List.of(new Action.Put(p)), true, (s, payload) -> {
      throw new IllegalStateException("listener bug");
    });
    assertEquals(1, seq);
    assertEquals(p, state(shard).get(PointId.of(1)).point());
    shard.close();
  }
}
