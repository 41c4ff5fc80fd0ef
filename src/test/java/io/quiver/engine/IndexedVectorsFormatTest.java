package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.lucene.codecs.hnsw.HnswGraphProvider;
import org.apache.lucene.index.FilterLeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentReader;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.MergeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments below {@code indexing_threshold} hold plain vectors searched exactly; merges that reach it
 * build the graph, and a plain segment that reaches it alone is indexed; both kinds reopen.
 */
@Timeout(120)
class IndexedVectorsFormatTest {
  static final int DIM = 8;
  static final long MB = 1 << 20;

  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final Random random = new Random(11);

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  /** A shard settling into one segment, indexing from {@code thresholdBytes} of vectors. */
  Shard open(long thresholdBytes, VectorSpec.Quantization quantization) throws IOException {
    var schema = new CollectionSchema(Map.of("", new VectorSpec("", DIM, Distance.EUCLID, 16, 100, quantization)), Map.of(),
        PayloadSchema.EMPTY, new Optimizers(1, 512 * MB, 0.2, 1000, 1, thresholdBytes));
    var options = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100);
    return Shard.open(dir, schema, options, new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler);
  }

  void write(Shard shard, int from, int count) throws IOException {
    List<Action> actions = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      actions.add(new Action.Put(new Point(PointId.of(i), Map.of("", ShardTest.floats(random, DIM)), Map.of(),
          Json.MAPPER.createObjectNode().put("even", i % 2 == 0))));
    }
    shard.write(v -> actions, true); // visible: a flush, a segment
  }

  static void settle(Shard shard) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (shard.optimizing() && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(shard.optimizing(), "still optimizing");
  }

  /** Per segment: whether it has a graph, and whether it is marked plain. */
  static List<boolean[]> kinds(IndexSearcher searcher) throws IOException {
    List<boolean[]> out = new ArrayList<>();
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      var leaf = FilterLeafReader.unwrap(ctx.reader());
      var vectors = VectorSearch.vectorReader(leaf, Fields.dense(""));
      boolean plain = ((SegmentReader) leaf).getSegmentInfo().info.getAttribute(IndexedVectorsFormat.PLAIN_BYTES) != null;
      out.add(new boolean[] {vectors instanceof HnswGraphProvider, plain});
    }
    return out;
  }

  /** Per segment: the bytes of its vectors as the merge policy counts them. */
  static List<Long> vectorBytes(IndexSearcher searcher) {
    List<Long> out = new ArrayList<>();
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      out.add(IndexedVectorsFormat.vectorBytes(((SegmentReader) FilterLeafReader.unwrap(ctx.reader())).getSegmentInfo().info));
    }
    return out;
  }

  /** Per segment: its name and whether it says it has a graph. */
  static List<String> graphs(IndexSearcher searcher) {
    List<String> out = new ArrayList<>();
    for (LeafReaderContext ctx : searcher.getIndexReader().leaves()) {
      var info = ((SegmentReader) FilterLeafReader.unwrap(ctx.reader())).getSegmentInfo().info;
      out.add(info.name + (IndexedVectorsFormat.hasGraph(info) ? " graph" : " plain"));
    }
    return out;
  }

  @Test
  void aGraphWithDeletionsStaysOutOfMergesUntilItsVacuum() throws Exception {
    try (Shard shard = open(1000L * DIM * Float.BYTES, VectorSpec.Quantization.NONE)) {
      for (int b = 0; b < 8; b++) {
        write(shard, b * 300, 300);
      }
      settle(shard);
      List<String> merged = shard.read(r -> graphs(r.searcher()));
      assertEquals(1, merged.size());
      assertTrue(merged.get(0).endsWith(" graph"), merged.toString());

      // a few deletions: merging it would rebuild its whole graph for 600 new points, so the new
      // segments merge beside it, and it stays as it was
      shard.write(v -> java.util.stream.IntStream.range(0, 10).<Action>mapToObj(i -> new Action.Delete(PointId.of(i))).toList(),
          true);
      write(shard, 10_000, 300);
      write(shard, 10_300, 300);
      settle(shard);
      List<String> beside = shard.read(r -> graphs(r.searcher()));
      assertEquals(2, beside.size(), beside.toString());
      assertTrue(beside.contains(merged.get(0)), beside + " keeps " + merged.get(0));
      assertEquals(2990, (int) shard.read(Shard.Reader::numDocs));

      // deletions enough for a vacuum (1,000 and a fifth of it): rewritten alone, then joined again
      shard.write(v -> java.util.stream.IntStream.range(10, 1010).<Action>mapToObj(i -> new Action.Delete(PointId.of(i))).toList(),
          true);
      write(shard, 20_000, 300);
      settle(shard);
      List<String> after = shard.read(r -> graphs(r.searcher()));
      assertEquals(1, after.size(), after.toString());
      assertTrue(after.get(0).endsWith(" graph"), after.toString());
      assertEquals(2290, (int) shard.read(Shard.Reader::numDocs));
    }
  }

  @Test
  void maxSegmentSizeCountsTheVectorsNotTheOtherFiles() throws Exception {
    long vectors = 900L * DIM * Float.BYTES;
    for (long max : new long[] {vectors + 1, vectors}) {
      Path own = dir.resolve("max" + max);
      try (Shard shard = Shard.open(own, new CollectionSchema(
              Map.of("", new VectorSpec("", DIM, Distance.EUCLID, 16, 100, VectorSpec.Quantization.NONE)), Map.of(),
              PayloadSchema.EMPTY, new Optimizers(1, max, 0.2, 1000, 1, 100L * DIM * Float.BYTES)), // merges reported: settle waits
          new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100), new ActionCodec(Json.MAPPER),
          new DocMapper(Json.MAPPER), scheduler)) {
        for (int b = 0; b < 3; b++) {
          write(shard, b * 300, 300);
        }
        settle(shard);
        // as Qdrant's merge optimizer: the sizes summed stay below max_segment_size
        List<Long> sizes = shard.read(r -> vectorBytes(r.searcher()));
        assertEquals(max > vectors ? List.of(vectors) : List.of(vectors * 2 / 3, vectors / 3), sizes.stream().sorted(
            java.util.Comparator.reverseOrder()).toList(), "max_segment_size " + max);
      }
    }
  }

  /** Ids of the approximate (small beam) and exact top 10 of a few queries, optionally filtered. */
  static List<List<List<Integer>>> searches(Shard shard, Query filter) throws IOException {
    Random r = new Random(3);
    List<List<List<Integer>>> out = new ArrayList<>();
    VectorSpec spec = new VectorSpec("", DIM, Distance.EUCLID, 16, 100, VectorSpec.Quantization.NONE);
    for (int q = 0; q < 5; q++) {
      float[] query = ShardTest.floats(r, DIM);
      out.add(shard.read(reader -> {
        List<List<Integer>> both = new ArrayList<>();
        for (boolean exact : new boolean[] {false, true}) {
          both.add(VectorSearch.search(reader.searcher(), spec, query, filter, 10, 10, exact, null).stream()
              .map(VectorSearch.Hit::doc).toList());
        }
        return both;
      }));
    }
    return out;
  }

  @Test
  void smallSegmentsArePlainAndSearchedExactly() throws Exception {
    try (Shard shard = open(MB, VectorSpec.Quantization.NONE)) {
      for (int b = 0; b < 3; b++) {
        write(shard, b * 300, 300);
      }
      settle(shard);
      for (boolean[] kind : shard.read(r -> kinds(r.searcher()))) {
        assertFalse(kind[0], "no graph below the threshold");
        assertTrue(kind[1]);
      }
      assertEquals(0, (int) shard.read(r -> r.countIndexedWithVector(List.of(""))));
      assertEquals(900, (int) shard.read(r -> r.countWithVector(List.of(""))));
      // a plain segment answers the graph search with the exact hits, filtered or not
      for (var both : searches(shard, null)) {
        assertEquals(both.get(1), both.get(0));
      }
      List<org.apache.lucene.util.BytesRef> some = new ArrayList<>();
      for (int id = 0; id < 900; id += 7) {
        some.add(PointId.of(id).term());
      }
      Query filter = new org.apache.lucene.search.TermInSetQuery(Fields.ID, some);
      for (var both : searches(shard, filter)) {
        assertEquals(10, both.get(1).size());
        assertEquals(both.get(1), both.get(0));
      }
    }
  }

  @Test
  void mergesReachingTheThresholdBuildTheGraphAndBothKindsReopen() throws Exception {
    long threshold = 1000L * DIM * Float.BYTES; // 1,000 points
    List<List<List<Integer>>> before;
    try (Shard shard = open(threshold, VectorSpec.Quantization.NONE)) {
      for (int b = 0; b < 8; b++) {
        write(shard, b * 300, 300);
      }
      settle(shard);
      List<boolean[]> kinds = shard.read(r -> kinds(r.searcher()));
      assertEquals(1, kinds.size(), "settled into one segment");
      assertTrue(kinds.get(0)[0], "a graph at the threshold");
      assertFalse(kinds.get(0)[1]);
      assertEquals(2400, (int) shard.read(r -> r.countIndexedWithVector(List.of(""))));
      assertEquals(List.of(2400L * DIM * Float.BYTES), shard.read(r -> vectorBytes(r.searcher())));
      // and a plain segment beside it, below the threshold
      write(shard, 10_000, 10);
      assertEquals(List.of(2400L * DIM * Float.BYTES, 10L * DIM * Float.BYTES), shard.read(r -> vectorBytes(r.searcher())));
      assertEquals(List.of(true, false), shard.read(r -> graphs(r.searcher())).stream().map(g -> g.endsWith(" graph")).toList());
      before = searches(shard, null);
      for (var both : before) {
        assertEquals(both.get(1).get(0), both.get(0).get(0), "the nearest point found through the graph");
      }
    }
    try (Shard shard = open(threshold, VectorSpec.Quantization.NONE)) {
      assertEquals(before, searches(shard, null));
      assertEquals(2410, (int) shard.read(Shard.Reader::numDocs));
    }
  }

  @Test
  void aPlainSegmentReachingTheThresholdAloneIsIndexed() throws Exception {
    long threshold = 1000L * DIM * Float.BYTES;
    for (var quantization : VectorSpec.Quantization.values()) {
      Path own = dir.resolve(quantization.name());
      try (Shard shard = Shard.open(own, new CollectionSchema(
              Map.of("", new VectorSpec("", DIM, Distance.EUCLID, 16, 100, quantization)), Map.of(), PayloadSchema.EMPTY,
              new Optimizers(1, 512 * MB, 0.2, 1000, 1, threshold)),
          new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100), new ActionCodec(Json.MAPPER),
          new DocMapper(Json.MAPPER), scheduler)) {
        write(shard, 0, 1500);
        settle(shard);
        List<boolean[]> kinds = shard.read(r -> kinds(r.searcher()));
        assertEquals(1, kinds.size());
        assertTrue(kinds.get(0)[0], quantization + ": indexed");
        assertEquals(1500, (int) shard.read(r -> r.countIndexedWithVector(List.of(""))));
        // a graph over floats is walked by the search's own walker; quantized ones by Lucene's reader
        boolean walked = shard.read(r -> {
          var leaf = r.searcher().getIndexReader().leaves().get(0).reader();
          return VectorSearch.floatGraph(leaf, leaf.getFieldInfos().fieldInfo(Fields.dense(""))) != null;
        });
        assertEquals(quantization == VectorSpec.Quantization.NONE, walked, quantization.name());
        // and it walks as Lucene's reader does: the same candidates with the same scores
        Random r = new Random(5);
        for (int q = 0; q < 20; q++) {
          float[] query = ShardTest.floats(r, DIM);
          int k = 1 + r.nextInt(50);
          shard.read(reader -> {
            var leaf = reader.searcher().getIndexReader().leaves().get(0).reader();
            var ours = VectorSearch.searchGraph(leaf, Fields.dense(""), query, k).scoreDocs;
            var lucene = leaf.searchNearestVectors(Fields.dense(""), query, k,
                org.apache.lucene.search.AcceptDocs.fromLiveDocs(leaf.getLiveDocs(), leaf.maxDoc()), Integer.MAX_VALUE).scoreDocs;
            assertEquals(lucene.length, ours.length);
            for (int i = 0; i < ours.length; i++) {
              assertEquals(lucene[i].doc, ours[i].doc, quantization + " rank " + i);
              assertEquals(lucene[i].score, ours[i].score, quantization + " rank " + i);
            }
            return null;
          });
        }
      }
    }
  }
  @Test
  void aQuantizedSearchRescoresTheOversampledBestOfTheQuantizedScores() throws Exception {
    long threshold = 1000L * DIM * Float.BYTES;
    for (var quantization : List.of(VectorSpec.Quantization.SCALAR, VectorSpec.Quantization.BINARY)) {
      VectorSpec spec = new VectorSpec("", DIM, Distance.EUCLID, 16, 100, quantization);
      try (Shard shard = Shard.open(dir.resolve(quantization.name()), new CollectionSchema(Map.of("", spec), Map.of(),
              PayloadSchema.EMPTY, new Optimizers(1, 512 * MB, 0.2, 1000, 1, threshold)),
          new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100), new ActionCodec(Json.MAPPER),
          new DocMapper(Json.MAPPER), scheduler)) {
        write(shard, 0, 1500);
        settle(shard);
        Random r = new Random(8);
        for (int q = 0; q < 10; q++) {
          float[] query = ShardTest.floats(r, DIM);
          for (double oversampling : new double[] {1, 2.5, 150}) {
            shard.read(reader -> {
              IndexSearcher searcher = reader.searcher();
              var leaf = searcher.getIndexReader().leaves().get(0).reader();
              // the graph's 200 best by the quantized score, and every point ranked by the exact one
              var quantized = leaf.searchNearestVectors(Fields.dense(""), query, 200,
                  org.apache.lucene.search.AcceptDocs.fromLiveDocs(leaf.getLiveDocs(), leaf.maxDoc()), Integer.MAX_VALUE).scoreDocs;
              var rescored = new java.util.HashSet<Integer>();
              for (int i = 0; i < Math.min(quantized.length, (int) (oversampling * 10)); i++) {
                rescored.add(quantized[i].doc);
              }
              List<VectorSearch.Hit> exact = VectorSearch.search(searcher, spec, query, null, 1500, null, true, null);
              List<VectorSearch.Hit> expected = exact.stream().filter(h -> rescored.contains(h.doc())).limit(10).toList();
              assertEquals(expected, VectorSearch.search(searcher, spec, query, null, 10, 200, false, null, oversampling),
                  quantization + " oversampling " + oversampling);
              // a beam and an oversampling beyond every point: all of them, rescored (no queue that large)
              assertEquals(exact.subList(0, 10),
                  VectorSearch.search(searcher, spec, query, null, 10, Integer.MAX_VALUE, false, null, 1e12));
              return null;
            });
          }
        }
      }
    }
  }

  @Test
  void alwaysRamLoadsTheQuantizedCodesOfSegmentsOpenedForSearches() throws Exception {
    VectorSpec spec = new VectorSpec("", DIM, Distance.EUCLID, 16, 100, VectorSpec.Quantization.SCALAR);
    var optimizers = new Optimizers(1, 512 * MB, 0.2, 1000, 1, 1000L * DIM * Float.BYTES);
    var inRam = new CollectionSchema(Map.of("", spec), Map.of(), PayloadSchema.EMPTY, optimizers, true);
    var mapped = new CollectionSchema(Map.of("", spec), Map.of(), PayloadSchema.EMPTY, optimizers);
    var merge = IOContext.merge(new MergeInfo(1500, 1 << 20, false, 1));
    for (String codes : List.of("_3_QuiverIndexedVectors_0.veq", "_3_QuiverIndexedVectors_0.veb")) {
      assertTrue(Shard.preloaded(inRam, codes, IOContext.DEFAULT), codes);
      assertFalse(Shard.preloaded(inRam, codes, merge), "a merge reads its inputs as it goes: " + codes);
      assertFalse(Shard.preloaded(mapped, codes, IOContext.DEFAULT), "without always_ram: " + codes);
    }
    for (String other : List.of("_3_QuiverIndexedVectors_0.vec", "_3_QuiverIndexedVectors_0.vex", "_3.cfs", "_3.fdt")) {
      assertFalse(Shard.preloaded(inRam, other, IOContext.DEFAULT), other);
    }
    // a shard that asks for it opens its segments with the codes loaded, and searches them
    try (Shard shard = Shard.open(dir, inRam, new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100),
        new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler)) {
      write(shard, 0, 1500);
      settle(shard);
      try (var files = java.nio.file.Files.list(dir.resolve("index"))) {
        assertTrue(files.anyMatch(f -> f.toString().endsWith(".veq")), "a segment of its own files, codes in a .veq");
      }
      float[] query = ShardTest.floats(new Random(3), DIM);
      shard.read(reader -> {
        IndexSearcher searcher = reader.searcher();
        List<VectorSearch.Hit> exact = VectorSearch.search(searcher, spec, query, null, 1500, null, true, null);
        assertEquals(exact.subList(0, 10), VectorSearch.search(searcher, spec, query, null, 10, Integer.MAX_VALUE, false, null, 1e12));
        return null;
      });
    }
  }
}
