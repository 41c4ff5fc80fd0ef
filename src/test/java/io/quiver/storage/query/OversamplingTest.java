package io.quiver.storage.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Distance;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.request.SearchParams;
import io.quiver.request.Stage;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Quantization oversampling widens the graph's candidates of a quantized vector only. */
class OversamplingTest {
  static final CollectionSchema SCHEMA = new CollectionSchema(Map.of(
      "", new VectorSpec("", 8, Distance.COSINE, 16, 100, VectorSpec.Quantization.BINARY),
      "plain", new VectorSpec("plain", 8, Distance.COSINE, 16, 100, VectorSpec.Quantization.NONE)), Map.of(), PayloadSchema.EMPTY);

  static Stage stage(String using, Integer ef, Double oversampling) {
    return new Stage(List.of(), null, using, null, new SearchParams(ef, false, oversampling), null, 10, null);
  }

  @Test
  void oversamplingWidensTheCandidatesOfAQuantizedVector() {
    assertEquals(400, QueryPlanner.ef(SCHEMA, stage("", 64, 4.0), 100)); // 100 x 4 beyond hnsw_ef 64
    assertEquals(128, QueryPlanner.ef(SCHEMA, stage("", 128, 2.0), 10)); // hnsw_ef already wider
    assertEquals(300, QueryPlanner.ef(SCHEMA, stage("", null, 3.0), 100)); // default ef max(limit, 100)
    assertEquals(100, QueryPlanner.ef(SCHEMA, stage("", null, 2.0), 10));
  }

  @Test
  void theOversamplingCountsOnAQuantizedVectorOnly() {
    assertEquals(2.5, QueryPlanner.oversampling(SCHEMA, stage("", 64, 2.5)));
    assertEquals(1, QueryPlanner.oversampling(SCHEMA, stage("plain", 64, 2.5)));
    assertEquals(1, QueryPlanner.oversampling(SCHEMA, stage("", 64, null)));
    assertEquals(1, QueryPlanner.oversampling(SCHEMA, stage("", 64, 0.5)));
  }

  @Test
  void otherwiseTheEfIsAsGiven() {
    assertEquals(64, QueryPlanner.ef(SCHEMA, stage("plain", 64, 4.0), 100)); // not quantized
    assertEquals(64, QueryPlanner.ef(SCHEMA, stage("", 64, null), 100));
    assertEquals(64, QueryPlanner.ef(SCHEMA, stage("", 64, 1.0), 100));
    assertNull(QueryPlanner.ef(SCHEMA, stage("", null, null), 100));
  }
}
