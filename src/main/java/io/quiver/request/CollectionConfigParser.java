package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Distance;
import io.quiver.error.ApiException;
import static io.quiver.request.JsonFields.bool;
import static io.quiver.request.JsonFields.object;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Qdrant's collection configuration requests: validates a create request into the normalised config
 * that {@code GET /collections/{name}} reports and {@code config.json} stores, and an update request
 * into a {@link CollectionUpdate} (a validated diff applied to the current config when it runs).
 * Configs are Qdrant's JSON documents; they are only ever built here and read by the storage.
 */
public final class CollectionConfigParser {
  public static final int MAX_DIM = 65536;
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Set<String> DATATYPES = Set.of("float32", "float16", "uint8");

  private CollectionConfigParser() {}

  /** The normalised config of a new collection; throws 4xx {@link ApiException}s on bad input. */
  public static ObjectNode create(JsonNode req) {
    if (req == null || req.isNull()) {
      req = F.objectNode();
    }
    if (!req.isObject()) {
      throw ApiException.formatError("invalid type: " + Validation.kind(req) + ", expected struct CreateCollection");
    }
    var v = Validation.body();
    ObjectNode params = F.objectNode();
    JsonNode vectors = req.get("vectors");
    params.set("vectors", vectors == null || vectors.isNull() ? F.objectNode() : vectorsConfig(vectors, v));
    // left null when not given: the default depends on where the collection is created (one
    // shard on a single node, one per peer in a cluster), so the storage fills it in
    Long shards = v.range(req.get("shard_number"), "shard_number", 1, 1 << 20);
    if (shards == null) {
      params.putNull("shard_number");
    } else {
      params.put("shard_number", shards);
    }
    JsonNode sharding = req.get("sharding_method");
    if (sharding != null && !sharding.isNull()) {
      if (!sharding.isTextual() || !Set.of("auto", "custom").contains(sharding.asText())) {
        throw ApiException.formatError("sharding_method: unknown variant " + sharding + ", expected `auto` or `custom`");
      }
      params.put("sharding_method", sharding.asText());
    }
    params.put("replication_factor", orDefault(v.range(req.get("replication_factor"), "replication_factor", 1, 1 << 20), 1));
    params.put("write_consistency_factor",
        orDefault(v.range(req.get("write_consistency_factor"), "write_consistency_factor", 1, 1 << 20), 1));
    JsonNode onDiskPayload = req.get("on_disk_payload");
    params.put("on_disk_payload", onDiskPayload == null || onDiskPayload.isNull() || bool(onDiskPayload, "on_disk_payload"));
    JsonNode sparse = req.get("sparse_vectors");
    if (sparse != null && !sparse.isNull()) {
      params.set("sparse_vectors", sparseConfig(sparse, v));
    }
    checkNameClash(params);

    ObjectNode config = F.objectNode();
    config.set("params", params);
    config.set("hnsw_config", merge(defaultHnsw(), hnswDiff(req.get("hnsw_config"), "hnsw_config", v)));
    config.set("optimizer_config", merge(defaultOptimizers(), optimizersDiff(req.get("optimizers_config"), v)));
    config.set("wal_config", merge(defaultWal(), walDiff(req.get("wal_config"), v)));
    // Qdrant accepts `quantization` as an alias
    JsonNode quantization = req.has("quantization_config") ? req.get("quantization_config") : req.get("quantization");
    config.set("quantization_config", quantization == null || quantization.isNull() ? F.nullNode() : quantization(quantization, "quantization_config"));
    JsonNode strict = req.get("strict_mode_config");
    config.set("strict_mode_config", strict == null || strict.isNull() ? F.objectNode().put("enabled", false) : object(strict, "strict_mode_config"));
    JsonNode metadata = req.get("metadata");
    if (metadata != null && !metadata.isNull()) {
      config.set("metadata", object(metadata, "metadata"));
    }
    // init_from (the source collection to copy) is read and carried out by the storage service
    v.throwIfAny();
    return config;
  }

  /**
   * Validates a {@code PATCH /collections/{name}} body into a normalised diff: the same shape as the
   * body, each part checked and completed as on creation ({@code null} quantization disables it;
   * strict-mode options given as null are dropped, since Qdrant does not unset them).
   */
  public static CollectionUpdate update(JsonNode req) {
    if (req == null || !req.isObject()) {
      throw ApiException.formatError("expected struct UpdateCollection");
    }
    var v = Validation.body();
    ObjectNode diff = F.objectNode();
    JsonNode vectors = req.get("vectors");
    if (vectors != null && !vectors.isNull()) {
      ObjectNode out = diff.putObject("vectors");
      object(vectors, "vectors").properties().forEach(e -> {
        JsonNode d = e.getValue();
        String path = "vectors." + e.getKey();
        ObjectNode one = out.putObject(e.getKey());
        if (d.has("hnsw_config") && !d.get("hnsw_config").isNull()) {
          one.set("hnsw_config", hnswDiff(d.get("hnsw_config"), path + ".hnsw_config", v));
        }
        if (d.has("quantization_config")) {
          JsonNode q = d.get("quantization_config");
          one.set("quantization_config", disabled(q) ? F.nullNode() : quantization(q, path + ".quantization_config"));
        }
        if (d.has("on_disk") && !d.get("on_disk").isNull()) {
          one.put("on_disk", bool(d.get("on_disk"), path + ".on_disk"));
        }
      });
    }
    JsonNode p = req.get("params");
    if (p != null && !p.isNull()) {
      object(p, "params");
      ObjectNode params = diff.putObject("params");
      for (String key : new String[] {"replication_factor", "write_consistency_factor", "read_fan_out_factor"}) {
        Long value = v.range(p.get(key), "params." + key, key.equals("read_fan_out_factor") ? 0 : 1, 1 << 20);
        if (value != null) {
          params.put(key, value);
        }
      }
      if (p.has("on_disk_payload") && !p.get("on_disk_payload").isNull()) {
        params.put("on_disk_payload", bool(p.get("on_disk_payload"), "params.on_disk_payload"));
      }
    }
    if (req.has("hnsw_config") && !req.get("hnsw_config").isNull()) {
      diff.set("hnsw_config", hnswDiff(req.get("hnsw_config"), "hnsw_config", v));
    }
    if (req.has("optimizers_config") && !req.get("optimizers_config").isNull()) {
      diff.set("optimizers_config", optimizersDiff(req.get("optimizers_config"), v));
    }
    if (req.has("quantization_config")) {
      JsonNode q = req.get("quantization_config");
      diff.set("quantization_config", disabled(q) ? F.nullNode() : quantization(q, "quantization_config"));
    }
    JsonNode sparse = req.get("sparse_vectors");
    if (sparse != null && !sparse.isNull()) {
      ObjectNode out = diff.putObject("sparse_vectors");
      object(sparse, "sparse_vectors").properties().forEach(e ->
          out.set(e.getKey(), sparseParams(e.getValue(), "sparse_vectors." + e.getKey(), v)));
    }
    if (req.has("strict_mode_config") && !req.get("strict_mode_config").isNull()) {
      ObjectNode strict = object(req.get("strict_mode_config"), "strict_mode_config").deepCopy();
      strict.properties().removeIf(e -> e.getValue().isNull());
      diff.set("strict_mode_config", strict);
    }
    JsonNode metadata = req.get("metadata");
    if (metadata != null && !metadata.isNull()) {
      diff.set("metadata", object(metadata, "metadata").deepCopy());
    }
    v.throwIfAny();
    return new CollectionUpdate(diff);
  }

  private static boolean disabled(JsonNode quantization) {
    return quantization.isNull() || quantization.isTextual() && quantization.asText().equals("Disabled");
  }

  /** Applies a validated diff to a copy of {@code current}; an unknown vector name is 400 "Not existing vector name". */
  static ObjectNode apply(ObjectNode current, ObjectNode diff) {
    ObjectNode config = current.deepCopy();
    ObjectNode params = (ObjectNode) config.get("params");
    if (diff.get("vectors") instanceof ObjectNode vectors) {
      vectors.properties().forEach(e -> {
        ObjectNode target = vectorParams(params, e.getKey());
        JsonNode d = e.getValue();
        if (d.has("hnsw_config")) {
          JsonNode base = target.has("hnsw_config") ? target.get("hnsw_config") : F.objectNode();
          target.set("hnsw_config", merge((ObjectNode) base.deepCopy(), (ObjectNode) d.get("hnsw_config")));
        }
        if (d.has("quantization_config")) {
          if (d.get("quantization_config").isNull()) {
            target.remove("quantization_config");
          } else {
            target.set("quantization_config", d.get("quantization_config"));
          }
        }
        if (d.has("on_disk")) {
          target.set("on_disk", d.get("on_disk"));
        }
      });
    }
    if (diff.get("params") instanceof ObjectNode p) {
      params.setAll(p);
    }
    if (diff.get("hnsw_config") instanceof ObjectNode h) {
      merge((ObjectNode) config.get("hnsw_config"), h);
    }
    if (diff.get("optimizers_config") instanceof ObjectNode o) {
      merge((ObjectNode) config.get("optimizer_config"), o);
    }
    if (diff.has("quantization_config")) {
      config.set("quantization_config", diff.get("quantization_config"));
    }
    if (diff.get("sparse_vectors") instanceof ObjectNode sparse) {
      ObjectNode existing = params.has("sparse_vectors") ? (ObjectNode) params.get("sparse_vectors") : F.objectNode();
      sparse.properties().forEach(e -> {
        if (!existing.has(e.getKey())) {
          throw ApiException.wrongInput("Not existing vector name error: " + e.getKey());
        }
        ObjectNode target = (ObjectNode) existing.get(e.getKey());
        JsonNode d = e.getValue();
        if (d.has("index")) {
          ObjectNode base = target.has("index") ? (ObjectNode) target.get("index") : F.objectNode();
          target.set("index", merge(base, (ObjectNode) d.get("index")));
        }
        if (d.has("modifier")) {
          target.set("modifier", d.get("modifier"));
        }
      });
    }
    if (diff.get("strict_mode_config") instanceof ObjectNode strict) {
      ObjectNode base = config.get("strict_mode_config") instanceof ObjectNode o ? o : F.objectNode();
      config.set("strict_mode_config", merge(base.deepCopy(), strict));
    }
    if (diff.get("metadata") instanceof ObjectNode m) {
      if (m.isEmpty()) {
        config.remove("metadata");
      } else {
        ObjectNode base = config.get("metadata") instanceof ObjectNode o ? o : F.objectNode();
        // merge; a null value removes its key
        m.properties().forEach(e -> {
          if (e.getValue().isNull()) {
            base.remove(e.getKey());
          } else {
            base.set(e.getKey(), e.getValue());
          }
        });
        if (base.isEmpty()) {
          config.remove("metadata");
        } else {
          config.set("metadata", base);
        }
      }
    }
    return config;
  }

  /** The params object of a named (or, with "", the unnamed) vector. */
  private static ObjectNode vectorParams(ObjectNode params, String name) {
    JsonNode vectors = params.get("vectors");
    if (vectors.has("size")) {
      if (name.isEmpty()) {
        return (ObjectNode) vectors;
      }
    } else if (vectors.get(name) instanceof ObjectNode o) {
      return o;
    }
    throw ApiException.wrongInput("Not existing vector name error: " + name);
  }

  private static JsonNode vectorsConfig(JsonNode vectors, Validation v) {
    ObjectNode obj = object(vectors, "vectors");
    if (obj.has("size") || obj.has("distance")) {
      return vectorParamsOf(obj, "vectors", v);
    }
    ObjectNode out = F.objectNode();
    obj.fields().forEachRemaining(e -> {
      if (e.getKey().isEmpty() || e.getKey().length() > 255) {
        v.add("vectors", "vector name must be 1 to 255 characters long");
      }
      out.set(e.getKey(), vectorParamsOf(object(e.getValue(), "vectors." + e.getKey()), "vectors." + e.getKey(), v));
    });
    return out;
  }

  private static ObjectNode vectorParamsOf(ObjectNode p, String path, Validation v) {
    ObjectNode out = F.objectNode();
    if (!p.has("size") || p.get("size").isNull()) {
      throw ApiException.formatError(path + ": missing field `size`");
    }
    if (!p.has("distance") || p.get("distance").isNull()) {
      throw ApiException.formatError(path + ": missing field `distance`");
    }
    Long size = v.range(p.get("size"), path + ".size", 1, MAX_DIM);
    out.put("size", size);
    try {
      out.put("distance", Distance.parse(p.get("distance").asText()).json());
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(path + ".distance: " + e.getMessage());
    }
    if (p.has("hnsw_config") && !p.get("hnsw_config").isNull()) {
      out.set("hnsw_config", hnswDiff(p.get("hnsw_config"), path + ".hnsw_config", v));
    }
    if (p.has("quantization_config") && !p.get("quantization_config").isNull()) {
      out.set("quantization_config", quantization(p.get("quantization_config"), path + ".quantization_config"));
    }
    if (p.has("on_disk") && !p.get("on_disk").isNull()) {
      out.put("on_disk", bool(p.get("on_disk"), path + ".on_disk"));
    }
    if (p.has("datatype") && !p.get("datatype").isNull()) {
      String dt = p.get("datatype").asText();
      if (!DATATYPES.contains(dt)) {
        throw ApiException.formatError(path + ".datatype: unknown variant `" + dt + "`, expected one of `float32`, `uint8`, `float16`");
      }
      out.put("datatype", dt);
    }
    if (p.has("multivector_config") && !p.get("multivector_config").isNull()) {
      ObjectNode mv = object(p.get("multivector_config"), path + ".multivector_config");
      JsonNode comparator = mv.get("comparator");
      if (comparator == null || comparator.isNull()) {
        throw ApiException.formatError(path + ".multivector_config: missing field `comparator`");
      }
      if (!"max_sim".equals(comparator.asText())) {
        throw ApiException.formatError(path + ".multivector_config.comparator: unknown variant `" + comparator.asText()
            + "`, expected `max_sim`");
      }
      out.putObject("multivector_config").put("comparator", "max_sim");
    }
    return out;
  }

  private static JsonNode sparseConfig(JsonNode sparse, Validation v) {
    ObjectNode out = F.objectNode();
    object(sparse, "sparse_vectors").fields().forEachRemaining(e ->
        out.set(e.getKey(), sparseParams(e.getValue(), "sparse_vectors." + e.getKey(), v)));
    return out;
  }

  private static ObjectNode sparseParams(JsonNode p, String path, Validation v) {
    ObjectNode in = p == null || p.isNull() ? F.objectNode() : object(p, path);
    ObjectNode out = F.objectNode();
    JsonNode index = in.get("index");
    if (index != null && !index.isNull()) {
      ObjectNode idx = object(index, path + ".index");
      ObjectNode o = F.objectNode();
      Long fst = v.range(idx.get("full_scan_threshold"), path + ".index.full_scan_threshold", 0, Long.MAX_VALUE);
      if (fst != null) {
        o.put("full_scan_threshold", fst);
      }
      if (idx.has("on_disk") && !idx.get("on_disk").isNull()) {
        o.put("on_disk", bool(idx.get("on_disk"), path + ".index.on_disk"));
      }
      if (idx.has("datatype") && !idx.get("datatype").isNull()) {
        String dt = idx.get("datatype").asText();
        if (!DATATYPES.contains(dt)) {
          throw ApiException.formatError(path + ".index.datatype: unknown variant `" + dt + "`");
        }
        o.put("datatype", dt);
      }
      out.set("index", o);
    }
    JsonNode modifier = in.get("modifier");
    if (modifier != null && !modifier.isNull()) {
      if (!modifier.isTextual() || !Set.of("none", "idf").contains(modifier.asText())) {
        throw ApiException.formatError(path + ".modifier: unknown variant " + modifier + ", expected `none` or `idf`");
      }
      out.put("modifier", modifier.asText());
    }
    return out;
  }

  private static void checkNameClash(ObjectNode params) {
    JsonNode vectors = params.get("vectors");
    JsonNode sparse = params.get("sparse_vectors");
    if (sparse == null) {
      return;
    }
    sparse.fieldNames().forEachRemaining(n -> {
      if (vectors.has("size") ? n.isEmpty() : vectors.has(n)) {
        throw ApiException.badRequest("Dense and sparse vector names must be unique - duplicate found with '" + n + "'");
      }
    });
  }

  private static ObjectNode defaultHnsw() {
    return F.objectNode().put("m", 16).put("ef_construct", 100).put("full_scan_threshold", 10000)
        .put("max_indexing_threads", 0).put("on_disk", false);
  }

  private static ObjectNode defaultOptimizers() {
    ObjectNode o = F.objectNode().put("deleted_threshold", 0.2).put("vacuum_min_vector_number", 1000)
        .put("default_segment_number", 0);
    o.putNull("max_segment_size");
    o.putNull("memmap_threshold");
    o.put("indexing_threshold", 10000).put("flush_interval_sec", 5);
    o.putNull("max_optimization_threads");
    return o;
  }

  private static ObjectNode defaultWal() {
    return F.objectNode().put("wal_capacity_mb", 32).put("wal_segments_ahead", 0);
  }

  private static ObjectNode hnswDiff(JsonNode n, String path, Validation v) {
    ObjectNode out = F.objectNode();
    if (n == null || n.isNull()) {
      return out;
    }
    ObjectNode in = object(n, path);
    putLong(out, "m", v.range(in.get("m"), path + ".m", 0, 10_000));
    putLong(out, "ef_construct", v.range(in.get("ef_construct"), path + ".ef_construct", 4, Long.MAX_VALUE));
    putLong(out, "full_scan_threshold", v.range(in.get("full_scan_threshold"), path + ".full_scan_threshold", 10, Long.MAX_VALUE));
    putLong(out, "max_indexing_threads", v.range(in.get("max_indexing_threads"), path + ".max_indexing_threads", 0, 1024));
    putLong(out, "payload_m", v.range(in.get("payload_m"), path + ".payload_m", 0, 10_000));
    if (in.has("on_disk") && !in.get("on_disk").isNull()) {
      out.put("on_disk", bool(in.get("on_disk"), path + ".on_disk"));
    }
    if (in.has("copy_vectors") && !in.get("copy_vectors").isNull()) {
      out.put("copy_vectors", bool(in.get("copy_vectors"), path + ".copy_vectors"));
    }
    return out;
  }

  private static ObjectNode optimizersDiff(JsonNode n, Validation v) {
    ObjectNode out = F.objectNode();
    if (n == null || n.isNull()) {
      return out;
    }
    ObjectNode in = object(n, "optimizers_config");
    Double dt = v.range(in.get("deleted_threshold"), "optimizers_config.deleted_threshold", 0.0, 1.0);
    if (dt != null) {
      out.put("deleted_threshold", dt);
    }
    putLong(out, "vacuum_min_vector_number", v.range(in.get("vacuum_min_vector_number"), "optimizers_config.vacuum_min_vector_number", 100, Long.MAX_VALUE));
    putLong(out, "default_segment_number", v.range(in.get("default_segment_number"), "optimizers_config.default_segment_number", 0, Long.MAX_VALUE));
    putLong(out, "max_segment_size", v.range(in.get("max_segment_size"), "optimizers_config.max_segment_size", 1, Long.MAX_VALUE));
    putLong(out, "memmap_threshold", v.range(in.get("memmap_threshold"), "optimizers_config.memmap_threshold", 0, Long.MAX_VALUE));
    putLong(out, "indexing_threshold", v.range(in.get("indexing_threshold"), "optimizers_config.indexing_threshold", 0, Long.MAX_VALUE));
    putLong(out, "flush_interval_sec", v.range(in.get("flush_interval_sec"), "optimizers_config.flush_interval_sec", 0, Long.MAX_VALUE));
    JsonNode threads = in.get("max_optimization_threads");
    if (threads != null && threads.isTextual() && threads.textValue().equals("auto")) {
      // Qdrant's MaxOptimizationThreads setting: no limit, shown as null
      out.putNull("max_optimization_threads");
    } else {
      putLong(out, "max_optimization_threads", v.range(threads, "optimizers_config.max_optimization_threads", 0, Long.MAX_VALUE));
    }
    return out;
  }

  private static ObjectNode walDiff(JsonNode n, Validation v) {
    ObjectNode out = F.objectNode();
    if (n == null || n.isNull()) {
      return out;
    }
    ObjectNode in = object(n, "wal_config");
    putLong(out, "wal_capacity_mb", v.range(in.get("wal_capacity_mb"), "wal_config.wal_capacity_mb", 1, Long.MAX_VALUE));
    putLong(out, "wal_segments_ahead", v.range(in.get("wal_segments_ahead"), "wal_config.wal_segments_ahead", 0, Long.MAX_VALUE));
    putLong(out, "wal_retain_closed", v.range(in.get("wal_retain_closed"), "wal_config.wal_retain_closed", 1, Long.MAX_VALUE));
    return out;
  }

  /** Quantization is stored as given once its shape is recognised; Lucene applies scalar and binary. */
  private static JsonNode quantization(JsonNode q, String path) {
    ObjectNode obj = object(q, path);
    if (!(obj.has("scalar") || obj.has("product") || obj.has("binary")) || obj.size() != 1) {
      throw ApiException.formatError(path + ": expected one of `scalar`, `product`, `binary`");
    }
    String kind = obj.fieldNames().next();
    ObjectNode body = object(obj.get(kind), path + "." + kind);
    if (kind.equals("scalar")) {
      if (!"int8".equals(body.path("type").asText())) {
        throw ApiException.formatError(path + ".scalar.type: unknown variant, expected `int8`");
      }
      if (body.has("quantile") && !body.get("quantile").isNull()) {
        double quantile = body.get("quantile").asDouble();
        if (quantile < 0.5 || quantile > 1.0) {
          throw new ApiException(422, "Validation error in JSON body: [" + path + ".scalar.quantile: value " + body.get("quantile").asText() + " invalid, must be from 0.5 to 1]");
        }
      }
    } else if (kind.equals("product") && !body.has("compression")) {
      throw ApiException.formatError(path + ".product: missing field `compression`");
    }
    return obj;
  }

  private static void putLong(ObjectNode out, String key, Long value) {
    if (value != null) {
      out.put(key, value);
    }
  }

  private static ObjectNode merge(ObjectNode base, ObjectNode diff) {
    base.setAll(diff);
    return base;
  }

  /**
   * The config with {@code shard_number} set to {@code shards} where the request left it open (see
   * {@link #create}); a given number is kept.
   */
  public static ObjectNode withDefaultShardNumber(ObjectNode config, int shards) {
    if (!config.path("params").path("shard_number").isNull()) {
      return config;
    }
    ObjectNode out = config.deepCopy();
    ((ObjectNode) out.get("params")).put("shard_number", shards);
    return out;
  }

  private static long orDefault(Long v, long d) {
    return v == null ? d : v;
  }

}
