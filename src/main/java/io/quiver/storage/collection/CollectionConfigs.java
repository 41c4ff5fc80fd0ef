package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Distance;
import io.quiver.engine.Optimizers;
import io.quiver.engine.SparseSpec;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.PayloadSchema;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Derives the engine's {@link CollectionSchema} from a collection's config (Qdrant's
 * CollectionConfig document, as {@link io.quiver.request.CollectionConfigParser} normalised it).
 */
public final class CollectionConfigs {
  private CollectionConfigs() {}

  /** The engine's view of a config. */
  public static CollectionSchema schema(ObjectNode config, PayloadSchema payload) {
    ObjectNode params = (ObjectNode) config.get("params");
    JsonNode vectors = params.get("vectors");
    JsonNode hnsw = config.get("hnsw_config");
    JsonNode quant = config.get("quantization_config");
    Map<String, VectorSpec> dense = new HashMap<>();
    if (vectors.has("size")) {
      dense.put("", spec("", vectors, hnsw, quant));
    } else {
      vectors.fields().forEachRemaining(e -> dense.put(e.getKey(), spec(e.getKey(), e.getValue(), hnsw, quant)));
    }
    // indexing_threshold 0 turns vector indexing off, as in Qdrant: no HNSW graph, exact search
    if (config.path("optimizer_config").path("indexing_threshold").asLong(1) == 0) {
      dense.replaceAll((name, s) -> new VectorSpec(s.name(), s.size(), s.distance(), 0, s.efConstruct(), s.quantization(),
          s.multi(), s.datatype()));
    }
    Map<String, SparseSpec> sparse = new HashMap<>();
    JsonNode sv = params.get("sparse_vectors");
    if (sv != null) {
      sv.fields().forEachRemaining(e -> sparse.put(e.getKey(),
          new SparseSpec(e.getKey(), "idf".equals(e.getValue().path("modifier").asText()))));
    }
    // each vector's own quantization, else the collection's
    boolean inRam = false;
    for (JsonNode v : vectors.has("size") ? List.of(vectors) : (Iterable<JsonNode>) vectors) {
      inRam |= alwaysRam(v.has("quantization_config") ? v.get("quantization_config") : quant);
    }
    return new CollectionSchema(dense, sparse, payload, optimizers(config.path("optimizer_config")), inRam);
  }

  /** Whether a quantization config keeps its codes in memory ({@code always_ram}, under any method). */
  static boolean alwaysRam(JsonNode quantization) {
    if (quantization == null || !quantization.isObject()) {
      return false;
    }
    for (JsonNode method : quantization) {
      if (method.path("always_ram").asBoolean(false)) {
        return true;
      }
    }
    return false;
  }

  /** The shard's segment settings from Qdrant's optimizer config. */
  static Optimizers optimizers(JsonNode o) {
    JsonNode max = o.path("max_segment_size");
    JsonNode threads = o.path("max_optimization_threads");
    return Optimizers.resolve(o.path("default_segment_number").asLong(0),
        max.isNumber() ? max.asLong() : null, o.path("deleted_threshold").asDouble(0.2),
        o.path("vacuum_min_vector_number").asLong(1000), threads.isNumber() ? threads.asInt() : null,
        o.path("indexing_threshold").asLong(Optimizers.DEFAULT_INDEXING_THRESHOLD_KB));
  }

  private static VectorSpec spec(String name, JsonNode p, JsonNode hnsw, JsonNode quant) {
    JsonNode own = p.path("hnsw_config");
    int m = own.has("m") ? own.get("m").asInt() : hnsw.path("m").asInt(16);
    int ef = own.has("ef_construct") ? own.get("ef_construct").asInt() : hnsw.path("ef_construct").asInt(100);
    JsonNode q = p.has("quantization_config") ? p.get("quantization_config") : quant;
    VectorSpec.Quantization qz = q == null || q.isNull() ? VectorSpec.Quantization.NONE
        : q.has("scalar") ? VectorSpec.Quantization.SCALAR
        : q.has("binary") ? VectorSpec.Quantization.BINARY
        : VectorSpec.Quantization.NONE;
    VectorSpec.Datatype datatype = switch (p.path("datatype").asText("float32")) {
      case "uint8" -> VectorSpec.Datatype.UINT8;
      case "float16" -> VectorSpec.Datatype.FLOAT16;
      default -> VectorSpec.Datatype.FLOAT32;
    };
    return new VectorSpec(name, p.get("size").asInt(), Distance.parse(p.get("distance").asText()), m, ef, qz,
        p.has("multivector_config"), datatype);
  }

}
