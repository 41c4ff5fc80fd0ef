package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.json.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.index.MergeTrigger;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.InfoStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Merges planned as Qdrant's merge and vacuum optimizers plan them, and a shard that settles into its segment number. */
@Timeout(120)
class SegmentPolicyTest {
  static final long MB = 1 << 20;

  static SegmentPolicy.Candidate seg(long mb) {
    return new SegmentPolicy.Candidate(null, mb * MB, 1000, 0);
  }

  static Optimizers opts(int segments, long maxMb) {
    return new Optimizers(segments, maxMb * MB, 0.2, 1000, 1, 0);
  }

  static List<List<Long>> sizes(List<List<SegmentPolicy.Candidate>> plan) {
    return plan.stream().map(b -> b.stream().map(c -> c.bytes() / MB).toList()).toList();
  }

  @Test
  void atOrBelowTheSegmentNumberNothingMerges() {
    assertEquals(List.of(), SegmentPolicy.plan(List.of(seg(1), seg(2)), 0, opts(2, 512)));
    assertEquals(List.of(), SegmentPolicy.plan(List.of(seg(1)), 1, opts(2, 512)));
  }

  @Test
  void theSmallestMergeUntilTheNumberIsBack() {
    // three segments for two: the two smallest become one (Lucene opens no empty segment as Qdrant's merge does)
    assertEquals(List.of(List.of(1L, 2L)), sizes(SegmentPolicy.plan(List.of(seg(3), seg(1), seg(2)), 0, opts(2, 512))));
    // two for one: they merge
    assertEquals(List.of(List.of(1L, 2L)), sizes(SegmentPolicy.plan(List.of(seg(2), seg(1)), 0, opts(1, 512))));
    // six for two: the five smallest become one
    assertEquals(List.of(List.of(1L, 1L, 1L, 1L, 1L)),
        sizes(SegmentPolicy.plan(List.of(seg(1), seg(1), seg(1), seg(1), seg(1), seg(100)), 0, opts(2, 512))));
    // a running merge counts as the segment it will produce
    assertEquals(List.of(List.of(1L, 2L)), sizes(SegmentPolicy.plan(List.of(seg(3), seg(1), seg(2)), 1, opts(3, 512))));
    assertEquals(List.of(), SegmentPolicy.plan(List.of(seg(3)), 1, opts(1, 512)));
  }

  @Test
  void noMergeGrowsPastTheMaximumSize() {
    // 100 + 200 < 500 <= 100 + 200 + 300: the two smallest merge, the largest stays
    assertEquals(List.of(List.of(100L, 200L)), sizes(SegmentPolicy.plan(List.of(seg(300), seg(100), seg(200)), 0, opts(1, 500))));
    // a batch cut by the size, then the next one
    assertEquals(List.of(List.of(300L, 300L), List.of(300L, 300L)),
        sizes(SegmentPolicy.plan(List.of(seg(300), seg(300), seg(300), seg(300)), 0, opts(1, 800))));
    // each at its maximum: nothing merges however many there are
    assertEquals(List.of(), SegmentPolicy.plan(List.of(seg(300), seg(300), seg(300), seg(300)), 0, opts(2, 500)));
  }

  @Test
  void autoIsOneSegment() {
    assertEquals(1, Optimizers.resolve(0, null, 0.2, 1000, null, 10_000).segments());
    assertEquals(3, Optimizers.resolve(3, null, 0.2, 1000, null, 10_000).segments());
  }

  @Test
  void segmentsWithManyDeletesAreVacuumed() {
    var o = new Optimizers(8, 512 * MB, 0.2, 100, 1, 0);
    var heavy = new SegmentPolicy.Candidate(null, MB, 1000, 300);
    var light = new SegmentPolicy.Candidate(null, MB, 1000, 150);
    var few = new SegmentPolicy.Candidate(null, MB, 200, 90);
    var plan = SegmentPolicy.plan(List.of(heavy, light, few), 0, o);
    assertEquals(List.of(List.of(heavy)), plan);
  }

  // --- a shard

  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  @Test
  void aShardSettlesIntoItsSegmentNumberAndSaysWhenItHas() throws Exception {
    var schema = new CollectionSchema(Map.of("", new VectorSpec("", 8, Distance.EUCLID, 16, 100, VectorSpec.Quantization.NONE)),
        Map.of(), PayloadSchema.EMPTY, new Optimizers(2, 512 * MB, 0.2, 1000, 1, 0));
    var options = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * 1024 * 1024), 3_600_000, 100);
    Random r = new Random(7);
    try (Shard shard = Shard.open(dir, schema, options, new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler)) {
      // the status is asked while merges start and end (a live set of the writer's underneath)
      var stop = new java.util.concurrent.atomic.AtomicBoolean();
      var asked = new java.util.concurrent.atomic.AtomicInteger();
      var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
      Thread poller = Thread.ofPlatform().start(() -> {
        try {
          while (!stop.get()) {
            shard.optimizing();
            asked.incrementAndGet();
          }
        } catch (Throwable t) {
          failure.set(t);
        }
      });
      for (int batch = 0; batch < 12; batch++) {
        List<Action> actions = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          actions.add(new Action.Put(new Point(PointId.of(batch * 200L + i), Map.of("", ShardTest.floats(r, 8)), Map.of(),
              Json.MAPPER.createObjectNode())));
        }
        shard.write(v -> actions, true); // wait=true makes it visible: a flush, a segment
      }
      stop.set(true);
      poller.join();
      assertNull(failure.get());
      assertTrue(asked.get() > 0);
      long deadline = System.currentTimeMillis() + 60_000;
      while (shard.optimizing() && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      assertFalse(shard.optimizing());
      int segments = shard.read(Shard.Reader::segments);
      assertTrue(segments <= 3, "segments after settling: " + segments);
      assertEquals(2400, (int) shard.read(Shard.Reader::numDocs));
    }
  }

  @Test
  void theLargestGraphWithDeletionsStaysOutUntilItsVacuum() {
    var graph = new SegmentPolicy.Candidate(null, 100 * MB, 1000, 10, 0, true);
    // one segment asked: the others merge beside it, one segment over
    assertEquals(List.of(List.of(1L, 2L, 3L)), sizes(SegmentPolicy.plan(List.of(graph, seg(3), seg(1), seg(2)), 0, opts(1, 512))));
    assertEquals(List.of(), SegmentPolicy.plan(List.of(graph, seg(1)), 0, opts(1, 512)));
    // two asked: no segment over
    assertEquals(List.of(List.of(1L, 2L, 3L)), sizes(SegmentPolicy.plan(List.of(graph, seg(3), seg(1), seg(2)), 0, opts(2, 512))));
    // without deletions, or plain, it merges as any other
    var whole = new SegmentPolicy.Candidate(null, 100 * MB, 1000, 0, 0, true);
    assertEquals(List.of(List.of(1L, 100L)), sizes(SegmentPolicy.plan(List.of(whole, seg(1)), 0, opts(1, 512))));
    var plain = new SegmentPolicy.Candidate(null, 100 * MB, 1000, 10, 0, false);
    assertEquals(List.of(List.of(1L, 100L)), sizes(SegmentPolicy.plan(List.of(plain, seg(1)), 0, opts(1, 512))));
    // deletions enough for a vacuum: rewritten alone
    var worn = new SegmentPolicy.Candidate(null, 100 * MB, 5000, 1200, 0, true);
    assertEquals(List.of(List.of(100L)), sizes(SegmentPolicy.plan(List.of(worn, seg(1)), 0, opts(1, 512))));
  }

  @Test
  void noMoreMergesAtOnceThanThreadsSoSegmentsFlushedMeanwhileJoinTheMergedOne() throws Exception {
    try (var d = FSDirectory.open(dir.resolve("index"));
        var w = new IndexWriter(d, new IndexWriterConfig().setMergePolicy(NoMergePolicy.INSTANCE))) {
      for (int i = 0; i < 4; i++) {
        w.addDocument(new Document());
        w.flush();
      }
      w.commit();
      var policy = new SegmentPolicy(() -> new Optimizers(1, 512 * MB, 0.2, 1000, 1, 0));
      Set<SegmentCommitInfo> merging = new HashSet<>();
      MergePolicy.MergeContext context = new MergePolicy.MergeContext() {
        @Override
        public int numDeletesToMerge(SegmentCommitInfo info) {
          return 0;
        }

        @Override
        public int numDeletedDocs(SegmentCommitInfo info) {
          return 0;
        }

        @Override
        public InfoStream getInfoStream() {
          return InfoStream.NO_OUTPUT;
        }

        @Override
        public Set<SegmentCommitInfo> getMergingSegments() {
          return merging;
        }
      };
      var first = policy.findMerges(MergeTrigger.FULL_FLUSH, SegmentInfos.readLatestCommit(d), context);
      assertEquals(1, first.merges.size());
      assertEquals(4, first.merges.get(0).segments.size());
      merging.addAll(first.merges.get(0).segments);

      // two segments flushed while the merge runs (one merge thread): they wait for it
      for (int i = 0; i < 2; i++) {
        w.addDocument(new Document());
        w.flush();
      }
      w.commit();
      assertNull(policy.findMerges(MergeTrigger.FULL_FLUSH, SegmentInfos.readLatestCommit(d), context));

      // it ends: the next merge takes them with what it made (here its four segments still)
      first.merges.get(0).mergeFinished(true, false);
      merging.clear();
      var next = policy.findMerges(MergeTrigger.MERGE_FINISHED, SegmentInfos.readLatestCommit(d), context);
      assertEquals(1, next.merges.size());
      assertEquals(6, next.merges.get(0).segments.size());

      // a planned merge the writer did not take (its segments never merging) does not hold the next back
      var again = policy.findMerges(MergeTrigger.FULL_FLUSH, SegmentInfos.readLatestCommit(d), context);
      assertEquals(1, again.merges.size());
    }
  }
}
