package io.quiver.cluster.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.query.Sampling;
import io.quiver.json.Json;
import io.quiver.storage.collection.ShardEndpoint;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What crosses between nodes comes back the same, floats to the last bit. */
class ShardCodecTest {
  final Random rnd = new Random(7);

  /** Any float but NaN, with its bits: subnormals, infinities, negative zero included. */
  float anyFloat() {
    float f;
    do {
      f = Float.intBitsToFloat(rnd.nextInt());
    } while (Float.isNaN(f));
    return f;
  }

  PointId anyId() {
    return rnd.nextBoolean() ? PointId.of(rnd.nextLong()) : new PointId.Uuid(new UUID(rnd.nextLong(), rnd.nextLong()));
  }

  @Test
  void hitsKeepScoresOrderValuesAndRecords() throws Exception {
    for (int i = 0; i < 2000; i++) {
      Number order = switch (i % 3) {
        case 0 -> null;
        case 1 -> rnd.nextLong();
        default -> Double.longBitsToDouble(rnd.nextLong() & 0x7fefffffffffffffL);
      };
      ObjectNode payload = i % 4 == 0 ? null : JsonNodeFactory.instance.objectNode().put("n", rnd.nextInt()).put("s", "x" + i);
      var h = new ShardEndpoint.Hit(anyId(), anyFloat(), order, rnd.nextLong() & Long.MAX_VALUE, payload, null);
      var back = ShardCodec.hit(Json.MAPPER.readTree(Json.MAPPER.writeValueAsBytes(ShardCodec.hit(h))));
      assertEquals(h.id(), back.id());
      assertEquals(Float.floatToRawIntBits(h.score()), Float.floatToRawIntBits(back.score()));
      assertEquals(h.orderValue(), back.orderValue());
      assertEquals(h.version(), back.version());
      assertEquals(h.payload(), back.payload());
    }
  }

  @Test
  void pointsExamplesFacetsAndSamplesRoundTrip() throws Exception {
    for (int i = 0; i < 300; i++) {
      float[] dense = new float[rnd.nextInt(20)];
      for (int d = 0; d < dense.length; d++) {
        dense[d] = anyFloat();
      }
      var sparse = SparseVector.of(new int[] {1, 5, rnd.nextInt(1000) + 6}, new float[] {anyFloat(), anyFloat(), anyFloat()});
      Point p = new Point(anyId(), Map.of("d", dense), Map.of("s", sparse), JsonNodeFactory.instance.objectNode().put("k", i));
      Point back = ShardCodec.point(Json.MAPPER.readTree(Json.MAPPER.writeValueAsBytes(ShardCodec.point(p))));
      assertEquals(p.id(), back.id());
      assertArrayEquals(floatBits(dense), floatBits(back.dense().get("d")));
      assertArrayEquals(sparse.indices(), back.sparse().get("s").indices());
      assertArrayEquals(floatBits(sparse.values()), floatBits(back.sparse().get("s").values()));
      assertEquals(p.payload(), back.payload());

      var examples = new ShardEndpoint.Examples("d", Map.of(p.id(), p));
      var ex = ShardCodec.examples(ShardCodec.examples(examples));
      assertEquals("d", ex.vector());
      assertEquals(p.id(), ex.points().keySet().iterator().next());

      var sampled = new Sampling.Sampled(p.id(), dense);
      assertArrayEquals(floatBits(dense), floatBits(ShardCodec.sampled(ShardCodec.sampled(sampled)).vector()));
    }
    for (Object v : List.of("Berlin", 42L, -7L, true, false)) {
      var h = new Facets.Hit(v, 9);
      assertEquals(h, ShardCodec.facetHit(ShardCodec.facetHit(h)));
    }
  }

  static int[] floatBits(float[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Float.floatToRawIntBits(v[i]);
    }
    return out;
  }
}
