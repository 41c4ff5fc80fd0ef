package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.json.Json;
import io.quiver.testing.DiskFaults;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk under a shard, injected into its WAL channels and its Lucene directory: refused
 * writes leave no trace, acknowledged ones are never lost, and the shard heals itself.
 */
@Timeout(120)
class ShardDiskFullTest {
  @TempDir Path dir;
  final DiskFaults faults = new DiskFaults();
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final ActionCodec codec = new ActionCodec(Json.MAPPER);
  final DocMapper docs = new DocMapper(Json.MAPPER);

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  /**
   * ShardTest's schema, but no merges at this size: a background merge that meets the full disk is a
   * tragic event that closes the writer (healed from the WAL), which would race with the steps here.
   */
  static final CollectionSchema SCHEMA = new CollectionSchema(ShardTest.SCHEMA.dense(), ShardTest.SCHEMA.sparse(),
      PayloadSchema.EMPTY, Optimizers.resolve(8, null, 0.2, 1000, null, Optimizers.DEFAULT_INDEXING_THRESHOLD_KB));

  Shard open() throws IOException {
    return Shard.open(dir, SCHEMA, ShardTest.OPTIONS, codec, docs, scheduler,
        new StorageIo(faults.opener(), faults.directory()));
  }

  static Point point(long id) {
    ObjectNode payload = Json.MAPPER.createObjectNode().put("n", id);
    return new Point(PointId.of(id), Map.of("", new float[] {id, 1, 0, 0}), Map.of(), payload);
  }

  static long put(Shard shard, long... ids) throws IOException {
    List<Action> actions = new ArrayList<>();
    for (long id : ids) {
      actions.add(new Action.Put(point(id)));
    }
    return shard.write(view -> actions, true);
  }

  /** The points a reader sees, by the number in their payload (sorted, since ids are). */
  static List<Long> ids(Shard shard) throws IOException {
    List<Long> out = new ArrayList<>();
    for (Point p : shard.read(r -> r.scroll(null, null, 1000, DocMapper.Selector.ALL)).points()) {
      out.add(p.payload().get("n").asLong());
    }
    return out;
  }

  @Test
  void aWriteTheWalCannotTakeIsRefusedAndLeavesNoTrace() throws IOException {
    try (Shard shard = open()) {
      put(shard, 1, 2);
      faults.walBytesLeft.set(20); // the next frame is torn
      IOException e = assertThrows(IOException.class, () -> put(shard, 3));
      assertEquals(DiskFaults.ENOSPC, e.getMessage());
      assertEquals(List.of(1L, 2L), ids(shard));
      faults.walUnlimited();
      put(shard, 4);
      assertEquals(List.of(1L, 2L, 4L), ids(shard));
    }
    try (Shard shard = open()) {
      assertEquals(List.of(1L, 2L, 4L), ids(shard));
    }
  }

  @Test
  void aFullIndexDiskRefusesWritesKeepsReadsAndLosesNothingAcknowledged() throws IOException {
    Shard shard = open();
    put(shard, 1);
    shard.commit();
    put(shard, 2, 3); // acknowledged and visible, not committed
    faults.indexFull = true;
    assertThrows(IOException.class, shard::commit);
    // Lucene writes stored fields as it indexes: with no room, the write is refused and undone
    IOException e = assertThrows(IOException.class, () -> put(shard, 4));
    assertEquals(DiskFaults.ENOSPC, e.getMessage());
    assertEquals(List.of(1L, 2L, 3L), ids(shard), "reads keep working");
    shard.close(); // nothing to commit: the writer was rolled back with the refused write; the WAL keeps 2 and 3
    faults.indexFull = false;
    try (Shard reopened = open()) {
      assertEquals(List.of(1L, 2L, 3L), ids(reopened), "replayed from the WAL; the refused write is gone");
      put(reopened, 5);
      reopened.commit();
      assertEquals(reopened.appliedSeq(), reopened.committedSeq());
      assertEquals(List.of(1L, 2L, 3L, 5L), ids(reopened));
    }
  }

  @Test
  void theShardHealsItselfOnceTheDiskHasRoomAgain() throws Exception {
    try (Shard shard = open()) {
      put(shard, 1);
      shard.commit();
      put(shard, 2);
      faults.indexFull = true;
      assertThrows(IOException.class, () -> put(shard, 3)); // undone; the rebuild fails for now
      assertEquals(List.of(1L, 2L), ids(shard), "served from the last searcher");
      assertThrows(IOException.class, () -> put(shard, 3));
      faults.indexFull = false;
      put(shard, 4); // heals first: a new writer from the commit plus the WAL
      assertTrue(shard.writer().isOpen());
      assertEquals(List.of(1L, 2L, 4L), ids(shard));
      shard.commit();
    }
    try (Shard shard = open()) {
      assertEquals(List.of(1L, 2L, 4L), ids(shard));
    }
  }

  @Test
  void aFailedWalFsyncFailsTheWriteAndTheShardReopensItsWal() throws IOException {
    try (Shard shard = open()) {
      put(shard, 1);
      faults.walFsyncFails = true;
      assertThrows(IOException.class, () -> put(shard, 2)); // not acknowledged; its outcome is unknown
      assertThrows(IOException.class, () -> put(shard, 3)); // the WAL refuses until reopened, and cannot be yet
      assertTrue(ids(shard).contains(1L), "reads go on");
      faults.walFsyncFails = false;
      put(shard, 4); // reopens the WAL and rebuilds the index from the commit plus the WAL
      List<Long> ids = ids(shard);
      assertTrue(ids.containsAll(List.of(1L, 4L)) && !ids.contains(3L), ids.toString());
    }
    try (Shard shard = open()) {
      List<Long> ids = ids(shard);
      assertTrue(ids.containsAll(List.of(1L, 4L)) && !ids.contains(3L), ids.toString());
    }
  }

  @Test
  void anUpdateTheIndexRejectsIsUndoneWhole() throws IOException {
    try (Shard shard = open()) {
      put(shard, 1);
      Point bad = new Point(PointId.of(9), Map.of("", new float[] {1, 2, 3, 4, 5, 6, 7}), Map.of(),
          Json.MAPPER.createObjectNode().put("n", 9));
      long before = shard.appliedSeq();
      assertThrows(RuntimeException.class,
          () -> shard.write(view -> List.of(new Action.Put(point(2)), new Action.Put(bad)), true));
      assertEquals(List.of(1L), ids(shard), "no part of the refused batch is visible");
      assertEquals(before + 1, put(shard, 3), "the refused frame was discarded; numbering goes on");
      assertEquals(List.of(1L, 3L), ids(shard));
    }
    try (Shard shard = open()) {
      assertEquals(List.of(1L, 3L), ids(shard));
    }
  }
}
