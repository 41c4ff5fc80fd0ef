package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Randomized round trips against an in-memory model, across clean restarts and crashes. */
@Timeout(120)
class ShardTest {
  static final CollectionSchema SCHEMA = new CollectionSchema(
      Map.of("", new VectorSpec("", 4, Distance.EUCLID, 16, 100, VectorSpec.Quantization.NONE),
          "img", new VectorSpec("img", 3, Distance.DOT, 16, 100, VectorSpec.Quantization.SCALAR)),
      Map.of("text", new SparseSpec("text", false)),
      PayloadSchema.EMPTY);
  static final Shard.Options OPTIONS = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * 1024), 3_600_000, 3_600_000);

  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final ActionCodec codec = new ActionCodec(Json.MAPPER);
  final DocMapper docs = new DocMapper(Json.MAPPER);

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  Shard open() throws IOException {
    return Shard.open(dir, SCHEMA, OPTIONS, codec, docs, scheduler);
  }

  static Point randomPoint(Random r, PointId id) {
    Map<String, float[]> dense = new HashMap<>();
    if (r.nextInt(5) > 0) {
      dense.put("", floats(r, 4));
    }
    if (r.nextBoolean()) {
      dense.put("img", floats(r, 3));
    }
    Map<String, SparseVector> sparse = new HashMap<>();
    if (r.nextBoolean()) {
      sparse.put("text", SparseVector.of(new int[] {r.nextInt(10), 10 + r.nextInt(10)}, new float[] {r.nextFloat(), r.nextFloat()}));
    }
    ObjectNode payload = Json.MAPPER.createObjectNode();
    if (r.nextBoolean()) {
      payload.put("n", r.nextInt(100));
      payload.put("s", "v" + r.nextInt(5));
      payload.putArray("a").add(r.nextInt(3)).add("x").addNull();
      payload.putObject("o").put("deep", r.nextDouble()).putObject("er").put("k", r.nextBoolean());
    }
    return new Point(id, dense, sparse, payload);
  }

  static float[] floats(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return v;
  }

  static PointId randomId(Random r) {
    return r.nextInt(4) == 0
        ? new PointId.Uuid(new UUID(0x1234L, r.nextInt(40)))
        : PointId.of(r.nextInt(200));
  }

  static Map<PointId, Point> contents(Shard shard) throws IOException {
    shard.refresh();
    Map<PointId, Point> out = new TreeMap<>();
    for (Point p : shard.read(r -> r.scroll(null, null, 1_000_000, DocMapper.Selector.ALL)).points()) {
      out.put(p.id(), p);
    }
    return out;
  }

  @Test
  void randomOperationsSurviveRestartsAndCrashes() throws IOException {
    Random r = new Random(42);
    Map<PointId, Point> model = new TreeMap<>();
    Shard shard = open();
    for (int round = 0; round < 12; round++) {
      for (int i = 0; i < 40; i++) {
        int kind = r.nextInt(10);
        List<Action> actions = new ArrayList<>();
        if (kind < 6) {
          for (int k = 0; k < 1 + r.nextInt(20); k++) {
            Point p = randomPoint(r, randomId(r));
            actions.add(new Action.Put(p));
          }
        } else if (kind < 8) {
          for (int k = 0; k < 1 + r.nextInt(5); k++) {
            actions.add(new Action.Delete(randomId(r)));
          }
        } else {
          // read-modify-write through the planner's view, as payload updates do
          PointId id = randomId(r);
          int value = r.nextInt();
          shard.write(view -> {
            Point p = view.read(rd -> rd.get(id, DocMapper.Selector.ALL));
            if (p == null) {
              return List.of();
            }
            ObjectNode next = p.payload().deepCopy().put("rmw", value);
            return List.of(new Action.Put(p.withPayload(next)));
          }, r.nextBoolean());
          Point p = model.get(id);
          if (p != null) {
            model.put(id, p.withPayload(p.payload().deepCopy().put("rmw", value)));
          }
          continue;
        }
        shard.write(view -> actions, r.nextBoolean());
        for (Action a : actions) {
          switch (a) {
            case Action.Put put -> model.put(put.id(), put.point());
            case Action.Delete del -> model.remove(del.id());
          }
        }
      }
      assertEquals(model, contents(shard), "round " + round);
      switch (round % 3) {
        case 0 -> shard.close();
        case 1 -> shard.abandon();
        default -> {
          shard.commit();
          shard.abandon();
        }
      }
      shard = open();
      assertEquals(model, contents(shard), "after reopen in round " + round);
    }
    shard.close();
  }

  @Test
  void tornWalTailLosesOnlyTheUnfinishedFrame() throws IOException {
    Random r = new Random(7);
    Shard shard = open();
    Point a = randomPoint(r, PointId.of(1));
    Point b = randomPoint(r, PointId.of(2));
    shard.write(v -> List.of(new Action.Put(a)), true);
    shard.write(v -> List.of(new Action.Put(b)), true);
    shard.abandon();

    Path segment;
    try (Stream<Path> s = Files.list(dir.resolve("wal"))) {
      segment = s.filter(p -> p.getFileName().toString().endsWith(".log")).max(Path::compareTo).orElseThrow();
    }
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 3);
    }
    shard = open();
    Map<PointId, Point> after = contents(shard);
    assertEquals(a, after.get(PointId.of(1)));
    assertNull(after.get(PointId.of(2)));
    Point c = randomPoint(r, PointId.of(3));
    shard.write(v -> List.of(new Action.Put(c)), true);
    shard.abandon();
    shard = open();
    assertEquals(2, contents(shard).size());
    shard.close();
  }

  @Test
  void commitTruncatesTheWal() throws IOException {
    Random r = new Random(3);
    Shard shard = open();
    for (int i = 0; i < 2000; i++) {
      Point p = randomPoint(r, PointId.of(i));
      shard.write(v -> List.of(new Action.Put(p)), false);
    }
    long before = sizeOf(dir.resolve("wal"));
    shard.commit();
    assertEquals(shard.appliedSeq(), shard.committedSeq());
    assertTrue(sizeOf(dir.resolve("wal")) < before, "WAL segments below the commit are deleted");
    shard.close();
    shard = open();
    assertEquals(2000, contents(shard).size());
    shard.close();
  }

  @Test
  void payloadWrittenSinceCommitCountsBlocksUntilTheCommit() throws IOException {
    Shard shard = open();
    for (int i = 0; i < 5; i++) {
      Point p = small(i % 2, "v" + i); // overwrites: replaced payloads count too
      shard.write(v -> List.of(new Action.Put(p)), false);
    }
    Point bare = new Point(PointId.of(3), Map.of("", new float[] {1, 2, 3, 4}), Map.of(), Json.MAPPER.createObjectNode());
    shard.write(v -> List.of(new Action.Put(bare)), false); // an empty payload takes nothing
    shard.write(v -> List.of(new Action.Delete(PointId.of(0))), false); // nor does a delete
    long[] written = shard.payloadWrittenSinceCommit();
    assertEquals(0, written[0]);
    assertEquals(5 * 128, written[1], "each small payload takes one 128-byte block");
    shard.commit();
    assertEquals(shard.committedSeq(), shard.payloadWrittenSinceCommit()[0]);
    assertEquals(0, shard.payloadWrittenSinceCommit()[1]);
    Point large = small(1, "x".repeat(300));
    shard.write(v -> List.of(new Action.Put(large)), false);
    assertEquals(3 * 128, shard.payloadWrittenSinceCommit()[1]);
    shard.abandon(); // a crash: opening replays the frame above the commit, and commits it
    shard = open();
    assertEquals(shard.committedSeq(), shard.payloadWrittenSinceCommit()[0]);
    assertEquals(0, shard.payloadWrittenSinceCommit()[1]);
    assertEquals(0, Shard.payloadStorageBytes(2)); // {}: no payload stored
    assertEquals(128, Shard.payloadStorageBytes(3));
    assertEquals(256, Shard.payloadStorageBytes(129));
    shard.close();
  }

  static Point small(long id, String value) {
    ObjectNode payload = Json.MAPPER.createObjectNode().put("k", value);
    return new Point(PointId.of(id), Map.of("", new float[] {1, 2, 3, 4}), Map.of(), payload);
  }

  @Test
  void scrollPagesInIdOrderNumbersBeforeUuids() throws IOException {
    Shard shard = open();
    List<PointId> ids = List.of(PointId.of(5), new PointId.Uuid(new UUID(0, 1)), PointId.of(1), PointId.of(Long.parseUnsignedLong("18446744073709551615")));
    Random r = new Random(1);
    for (PointId id : ids) {
      Point p = randomPoint(r, id);
      shard.write(v -> List.of(new Action.Put(p)), true);
    }
    var first = shard.read(rd -> rd.scroll(null, null, 2, DocMapper.Selector.ID_ONLY));
    assertEquals(List.of(PointId.of(1), PointId.of(5)), first.points().stream().map(Point::id).toList());
    assertEquals(PointId.of(Long.parseUnsignedLong("18446744073709551615")), first.next());
    var second = shard.read(rd -> rd.scroll(null, first.next(), 2, DocMapper.Selector.ID_ONLY));
    assertEquals(2, second.points().size());
    assertNull(second.next());
    assertEquals(new PointId.Uuid(new UUID(0, 1)), second.points().get(1).id());
    shard.close();
  }

  @Test
  void idsReadBackFromSegmentsOfUuidsIntegersAndBoth() throws IOException {
    Shard shard = open();
    Random r = new Random(3);
    List<List<PointId>> batches = List.of(
        List.of(new PointId.Uuid(new UUID(7, 1)), new PointId.Uuid(new UUID(7, 2))), // a segment without integer ids
        List.of(PointId.of(0), PointId.of(Long.parseUnsignedLong("18446744073709551615"))),
        List.of(PointId.of(9), new PointId.Uuid(new UUID(7, 3)), PointId.of(4)));
    Set<PointId> all = new TreeSet<>();
    for (List<PointId> batch : batches) {
      shard.write(v -> batch.stream().<Action>map(id -> new Action.Put(randomPoint(r, id))).toList(), true);
      shard.commit();
      all.addAll(batch);
    }
    assertEquals(all, contents(shard).keySet());
    shard.close();
  }

  static long sizeOf(Path p) throws IOException {
    return FileSizes.sizeOf(p);
  }
}
