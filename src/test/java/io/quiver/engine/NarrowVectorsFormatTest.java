package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.json.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.lucene.codecs.hnsw.HnswGraphProvider;
import org.apache.lucene.index.LeafReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * float16 and uint8 vectors are stored in two and one bytes per dimension, plain and under a graph,
 * dense and sparse fields alike; they read back as the floats that were written (rounded to the
 * datatype), search as float32 vectors of the same values do, and reopen.
 */
@Timeout(120)
class NarrowVectorsFormatTest {
  static final int DIM = 16;
  static final long MB = 1 << 20;

  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  static VectorSpec spec(String name, Distance distance, VectorSpec.Datatype datatype) {
    return spec(name, distance, datatype, VectorSpec.Quantization.NONE);
  }

  static VectorSpec spec(String name, Distance distance, VectorSpec.Datatype datatype, VectorSpec.Quantization quantization) {
    return new VectorSpec(name, DIM, distance, 16, 100, quantization, false, datatype);
  }

  Shard open(Path path, Distance distance, VectorSpec.Datatype datatype, long thresholdBytes) throws IOException {
    return open(path, distance, datatype, VectorSpec.Quantization.NONE, thresholdBytes);
  }

  /** Two vectors: "a" on every point, "b" on every third (a sparse field). */
  Shard open(Path path, Distance distance, VectorSpec.Datatype datatype, VectorSpec.Quantization quantization,
      long thresholdBytes) throws IOException {
    var schema = new CollectionSchema(Map.of("a", spec("a", distance, datatype, quantization),
        "b", spec("b", distance, datatype, quantization)), Map.of(),
        PayloadSchema.EMPTY, new Optimizers(1, 512 * MB, 0.2, 1000, 1, thresholdBytes));
    var options = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * MB), 3_600_000, 100);
    return Shard.open(path, schema, options, new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler);
  }

  /** A vector as the storage layer hands it to the engine: rounded to the datatype, normalised for cosine. */
  static float[] vector(Random r, Distance distance, VectorSpec.Datatype datatype) {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = datatype.round(datatype == VectorSpec.Datatype.UINT8 ? r.nextInt(256) : r.nextFloat() * 2 - 1);
    }
    return distance.prepare(v);
  }

  /**
   * What a vector reads back as: a float16 one rounded to half precision once more (a normalised
   * cosine vector is no longer half precision, as in Qdrant, which stores the normalised vector in
   * float16); a uint8 one as it is (integers, or a normalised cosine vector kept in float32).
   */
  static float[] stored(float[] v, VectorSpec.Datatype datatype) {
    float[] out = v.clone();
    if (datatype == VectorSpec.Datatype.FLOAT16) {
      for (int i = 0; i < out.length; i++) {
        out[i] = datatype.round(out[i]);
      }
    }
    return out;
  }

  /** Writes points; returns the vectors they read back as. */
  Map<Integer, Map<String, float[]>> write(Shard shard, Random r, Distance distance, VectorSpec.Datatype datatype, int from,
      int count) throws IOException {
    Map<Integer, Map<String, float[]>> written = new HashMap<>();
    List<Action> actions = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      Map<String, float[]> vectors = new HashMap<>();
      vectors.put("a", vector(r, distance, datatype));
      if (i % 3 == 0) {
        vectors.put("b", vector(r, distance, datatype));
      }
      Map<String, float[]> readBack = new HashMap<>();
      vectors.forEach((name, v) -> readBack.put(name, stored(v, datatype)));
      written.put(i, readBack);
      actions.add(new Action.Put(new Point(PointId.of(i), vectors, Map.of(), Json.MAPPER.createObjectNode())));
    }
    shard.write(v -> actions, true);
    return written;
  }

  /** Per segment and vector: the vector files' extensions and bytes, and whether it has a graph. */
  static List<String> layout(Shard shard) throws IOException {
    return shard.read(r -> {
      List<String> out = new ArrayList<>();
      for (var ctx : r.searcher().getIndexReader().leaves()) {
        LeafReader leaf = ctx.reader();
        for (String name : List.of("a", "b")) {
          var info = leaf.getFieldInfos().fieldInfo(Fields.dense(name));
          var reader = VectorSearch.vectorReader(leaf, Fields.dense(name));
          out.add(name + (reader instanceof HnswGraphProvider ? " graph " : " plain ") + new java.util.TreeMap<>(reader.getOffHeapByteSize(info)).keySet()
              + " " + reader.getOffHeapByteSize(info).entrySet().stream().filter(e -> !e.getKey().equals("vex"))
                  .mapToLong(Map.Entry::getValue).sum());
        }
      }
      return out;
    });
  }

  /** The layout once the shard has merged into one segment (small merges are not reported as optimizing). */
  static List<String> settled(Shard shard) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    List<String> layout = layout(shard);
    while ((layout.size() > 2 || shard.optimizing()) && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
      layout = layout(shard);
    }
    return layout;
  }

  static void assertReadBack(Shard shard, Map<Integer, Map<String, float[]>> written, String what) throws IOException {
    shard.read(r -> {
      for (var e : written.entrySet()) {
        Point p = r.get(PointId.of(e.getKey()), DocMapper.Selector.ALL);
        assertEquals(e.getValue().keySet(), p.dense().keySet(), "point " + e.getKey());
        for (var v : e.getValue().entrySet()) {
          assertArrayEquals(v.getValue(), p.dense().get(v.getKey()), what + ": point " + e.getKey() + " vector " + v.getKey());
        }
      }
      return null;
    });
  }

  /** Exact and graph search of both vectors: the exact hits are the brute-force order of what was written. */
  void assertSearches(Shard shard, Map<Integer, Map<String, float[]>> written, Distance distance, VectorSpec.Datatype datatype)
      throws IOException {
    Random r = new Random(17);
    for (String name : List.of("a", "b")) {
      VectorSpec s = spec(name, distance, datatype);
      for (int q = 0; q < 5; q++) {
        float[] query = vector(r, distance, datatype);
        List<Integer> expected = written.entrySet().stream().filter(e -> e.getValue().containsKey(name))
            .sorted((x, y) -> {
              float a = distance.score(query, x.getValue().get(name));
              float b = distance.score(query, y.getValue().get(name));
              int c = distance.higherIsBetter() ? Float.compare(b, a) : Float.compare(a, b);
              return c != 0 ? c : Integer.compare(x.getKey(), y.getKey());
            })
            .limit(10).map(Map.Entry::getKey).toList();
        shard.read(reader -> {
          List<Integer> exact = new ArrayList<>();
          for (var hit : VectorSearch.search(reader.searcher(), s, query, null, 10, 10, true, null)) {
            exact.add((int) ((PointId.Num) reader.idOf(hit.doc())).value());
          }
          assertEquals(expected, exact, name + " exact");
          var approximate = VectorSearch.search(reader.searcher(), s, query, null, 10, 200, false, null);
          assertEquals(expected.get(0), (int) ((PointId.Num) reader.idOf(approximate.get(0).doc())).value(), name + " nearest through the graph");
          return null;
        });
      }
    }
  }

  @Test
  void float16AndUint8AreStoredInTheirWidthAndReadBackExactly() throws Exception {
    record Case(Distance distance, VectorSpec.Datatype datatype, String files, int width) {}
    for (Case c : List.of(new Case(Distance.EUCLID, VectorSpec.Datatype.FLOAT16, "[qnd]", 2),
        new Case(Distance.COSINE, VectorSpec.Datatype.FLOAT16, "[qnd]", 2),
        new Case(Distance.DOT, VectorSpec.Datatype.UINT8, "[qnd]", 1),
        new Case(Distance.MANHATTAN, VectorSpec.Datatype.UINT8, "[qnd]", 1),
        // cosine vectors are stored normalised: no longer integers, so they stay float32
        new Case(Distance.COSINE, VectorSpec.Datatype.UINT8, "[vec]", 4))) {
      String what = c.distance + " " + c.datatype;
      Path path = dir.resolve(c.distance + "-" + c.datatype);
      long threshold = 1000L * DIM * c.width; // 1,000 points, counted in their stored width
      Random r = new Random(c.hashCode());
      Map<Integer, Map<String, float[]>> written = new HashMap<>();
      try (Shard shard = open(path, c.distance, c.datatype, threshold)) {
        // small flushes: plain segments
        written.putAll(write(shard, r, c.distance, c.datatype, 0, 300));
        written.putAll(write(shard, r, c.distance, c.datatype, 300, 300));
        for (String l : layout(shard)) {
          assertTrue(l.matches("[ab] plain \\Q" + c.files + "\\E \\d+"), what + ": " + l);
        }
        assertReadBack(shard, written, what);
        assertSearches(shard, written, c.distance, c.datatype);
        // merged past the threshold: a graph over the same vectors
        for (int b = 2; b < 6; b++) {
          written.putAll(write(shard, r, c.distance, c.datatype, b * 300, 300));
        }
        List<String> layout = settled(shard);
        assertEquals(List.of("a graph " + c.files.replace("]", ", vex]") + " " + 1800L * DIM * c.width,
            "b graph " + c.files.replace("]", ", vex]") + " " + 600L * DIM * c.width), layout, what);
        assertReadBack(shard, written, what);
        assertSearches(shard, written, c.distance, c.datatype);
      }
      try (Shard shard = open(path, c.distance, c.datatype, threshold)) {
        assertReadBack(shard, written, what);
        assertSearches(shard, written, c.distance, c.datatype);
      }
    }
  }

  /**
   * Under a scalar quantized graph the original vectors stay narrow beside the int8 codes; a binary
   * quantized graph keeps them in float32. Both read back exactly and rescore to the exact order.
   */
  @Test
  void quantizedGraphsKeepNarrowVectorsWhereLuceneLets() throws Exception {
    for (var q : List.of(VectorSpec.Quantization.SCALAR, VectorSpec.Quantization.BINARY)) {
      for (var datatype : List.of(VectorSpec.Datatype.FLOAT16, VectorSpec.Datatype.UINT8)) {
        String what = q + " " + datatype;
        Path path = dir.resolve(q + "-" + datatype);
        int width = datatype == VectorSpec.Datatype.FLOAT16 ? 2 : 1;
        Random r = new Random(what.hashCode());
        Map<Integer, Map<String, float[]>> written = new HashMap<>();
        try (Shard shard = open(path, Distance.EUCLID, datatype, q, 1000L * DIM * width)) {
          for (int b = 0; b < 6; b++) {
            written.putAll(write(shard, r, Distance.EUCLID, datatype, b * 300, 300));
          }
          List<String> layout = settled(shard);
          String files = q == VectorSpec.Quantization.SCALAR ? "[qnd, veq, vex]" : "[veb, vec, vex]";
          assertEquals(2, layout.size(), what + ": " + layout);
          for (String l : layout) {
            assertTrue(l.matches("[ab] graph \\Q" + files + "\\E \\d+"), what + ": " + l);
          }
          assertReadBack(shard, written, what);
          Random qr = new Random(4);
          for (int i = 0; i < 5; i++) {
            float[] query = vector(qr, Distance.EUCLID, datatype);
            VectorSpec s = spec("a", Distance.EUCLID, datatype, q);
            shard.read(reader -> {
              // every candidate rescored with the stored vectors: the exact order
              assertEquals(VectorSearch.search(reader.searcher(), s, query, null, 10, 10, true, null),
                  VectorSearch.search(reader.searcher(), s, query, null, 10, Integer.MAX_VALUE, false, null, 1e12), what);
              return null;
            });
          }
        }
      }
    }
  }

  @Test
  void elementsEncodeExactlyAndRoundWhatTheyCannotHold() {
    float[] v = {0f, 1f, 127f, 128f, 255f};
    byte[] bytes = new byte[v.length];
    NarrowVectorsFormat.Element.UINT8.encode(v, bytes);
    float[] back = new float[v.length];
    NarrowVectorsFormat.Element.UINT8.decode(bytes, back);
    assertArrayEquals(v, back);
    // what the storage layer would have rounded is rounded the same way, never refused (a flush must not fail)
    float[] odd = {256f, 0.5f, -3f, Float.NaN, 254.9f};
    byte[] oddBytes = new byte[odd.length];
    NarrowVectorsFormat.Element.UINT8.encode(odd, oddBytes);
    float[] oddBack = new float[odd.length];
    NarrowVectorsFormat.Element.UINT8.decode(oddBytes, oddBack);
    assertArrayEquals(new float[] {255f, 0f, 0f, 0f, 254f}, oddBack);
    float[] h = {0f, -0f, 1.5f, -65504f, 65504f, 6.1035156E-5f, Float.POSITIVE_INFINITY};
    byte[] halves = new byte[h.length * 2];
    NarrowVectorsFormat.Element.FLOAT16.encode(h, halves);
    float[] hb = new float[h.length];
    NarrowVectorsFormat.Element.FLOAT16.decode(halves, hb);
    assertArrayEquals(h, hb);
  }
}
