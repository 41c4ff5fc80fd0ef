package io.quiver.storage.collection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.json.Json;
import org.junit.jupiter.api.Test;

/** The engine's view of a stored collection config. */
class CollectionConfigsTest {
  static ObjectNode config(String vectors, String quantization) throws Exception {
    return (ObjectNode) Json.MAPPER.readTree("{\"params\":{\"vectors\":" + vectors + "},\"hnsw_config\":{\"m\":16,"
        + "\"ef_construct\":100},\"optimizer_config\":{},\"quantization_config\":" + quantization + "}");
  }

  static boolean inRam(String vectors, String quantization) throws Exception {
    return CollectionConfigs.schema(config(vectors, quantization), PayloadSchema.EMPTY).quantizedInRam();
  }

  @Test
  void quantizedCodesAreKeptInMemoryWhenSomeVectorsQuantizationAsksAlwaysRam() throws Exception {
    String one = "{\"size\":4,\"distance\":\"Dot\"}";
    String scalarInRam = "{\"scalar\":{\"type\":\"int8\",\"always_ram\":true}}";
    assertEquals(true, inRam(one, scalarInRam));
    assertEquals(true, inRam(one, "{\"binary\":{\"always_ram\":true}}"));
    assertEquals(false, inRam(one, "{\"scalar\":{\"type\":\"int8\",\"always_ram\":false}}"));
    assertEquals(false, inRam(one, "{\"scalar\":{\"type\":\"int8\"}}"));
    assertEquals(false, inRam(one, "null"));
    // named vectors: each its own quantization, else the collection's
    assertEquals(true, inRam("{\"a\":{\"size\":4,\"distance\":\"Dot\"},\"b\":{\"size\":4,\"distance\":\"Dot\","
        + "\"quantization_config\":" + scalarInRam + "}}", "null"));
    assertEquals(true, inRam("{\"a\":{\"size\":4,\"distance\":\"Dot\"}}", scalarInRam));
    assertEquals(false, inRam("{\"a\":{\"size\":4,\"distance\":\"Dot\",\"quantization_config\":{\"scalar\":"
        + "{\"type\":\"int8\"}}}}", scalarInRam), "every vector overrides the collection's");
  }
}
