package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.Collections.BinaryQuantization;
import io.qdrant.client.grpc.Collections.BinaryQuantizationEncoding;
import io.qdrant.client.grpc.Collections.BinaryQuantizationQueryEncoding;
import io.qdrant.client.grpc.Collections.CollectionConfig;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionParams;
import io.qdrant.client.grpc.Collections.CollectionParamsDiff;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CompressionRatio;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Datatype;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.HnswConfigDiff;
import io.qdrant.client.grpc.Collections.MaxOptimizationThreads;
import io.qdrant.client.grpc.Collections.Modifier;
import io.qdrant.client.grpc.Collections.MultiVectorComparator;
import io.qdrant.client.grpc.Collections.MultiVectorConfig;
import io.qdrant.client.grpc.Collections.OptimizerStatus;
import io.qdrant.client.grpc.Collections.OptimizersConfigDiff;
import io.qdrant.client.grpc.Collections.ProductQuantization;
import io.qdrant.client.grpc.Collections.QuantizationConfig;
import io.qdrant.client.grpc.Collections.QuantizationConfigDiff;
import io.qdrant.client.grpc.Collections.QuantizationType;
import io.qdrant.client.grpc.Collections.ScalarQuantization;
import io.qdrant.client.grpc.Collections.ShardingMethod;
import io.qdrant.client.grpc.Collections.SparseIndexConfig;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.StrictModeConfig;
import io.qdrant.client.grpc.Collections.StrictModeMultivector;
import io.qdrant.client.grpc.Collections.StrictModeMultivectorConfig;
import io.qdrant.client.grpc.Collections.StrictModeSparse;
import io.qdrant.client.grpc.Collections.StrictModeSparseConfig;
import io.qdrant.client.grpc.Collections.UpdateCollection;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsDiff;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.Collections.WalConfigDiff;
import io.quiver.error.ApiException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.DoubleConsumer;
import java.util.function.LongConsumer;
import java.util.stream.Collectors;

/**
 * Qdrant's collection messages and the JSON that REST speaks, both ways. A {@code CreateCollection}
 * or {@code UpdateCollection} becomes the body REST would have received for it, which the request
 * model then parses and validates with REST's wording, so the two edges cannot drift apart; the
 * storage's REST-shaped collection info becomes a {@code CollectionInfo}. An unset proto3 optional
 * is a field not given. Where gRPC has an enum and REST a string, one {@link Spelling} maps both ways.
 */
final class CollectionConvert {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  static final Spelling<Distance> DISTANCE = new Spelling<>(Map.entry(Distance.Cosine, "Cosine"),
      Map.entry(Distance.Euclid, "Euclid"), Map.entry(Distance.Dot, "Dot"), Map.entry(Distance.Manhattan, "Manhattan"));
  static final Spelling<Datatype> DATATYPE = new Spelling<>(Map.entry(Datatype.Float32, "float32"),
      Map.entry(Datatype.Uint8, "uint8"), Map.entry(Datatype.Float16, "float16"));
  static final Spelling<Modifier> MODIFIER = new Spelling<>(Map.entry(Modifier.None, "none"), Map.entry(Modifier.Idf, "idf"));
  static final Spelling<MultiVectorComparator> COMPARATOR = new Spelling<>(Map.entry(MultiVectorComparator.MaxSim, "max_sim"));
  static final Spelling<QuantizationType> QUANTIZATION_TYPE = new Spelling<>(Map.entry(QuantizationType.Int8, "int8"));
  static final Spelling<CompressionRatio> COMPRESSION = new Spelling<>(Map.entry(CompressionRatio.x4, "x4"),
      Map.entry(CompressionRatio.x8, "x8"), Map.entry(CompressionRatio.x16, "x16"), Map.entry(CompressionRatio.x32, "x32"),
      Map.entry(CompressionRatio.x64, "x64"));
  static final Spelling<BinaryQuantizationEncoding> BINARY_ENCODING = new Spelling<>(
      Map.entry(BinaryQuantizationEncoding.OneBit, "one_bit"), Map.entry(BinaryQuantizationEncoding.TwoBits, "two_bits"),
      Map.entry(BinaryQuantizationEncoding.OneAndHalfBits, "one_and_half_bits"));
  static final Spelling<BinaryQuantizationQueryEncoding.Setting> QUERY_ENCODING = new Spelling<>(
      Map.entry(BinaryQuantizationQueryEncoding.Setting.Default, "default"),
      Map.entry(BinaryQuantizationQueryEncoding.Setting.Binary, "binary"),
      Map.entry(BinaryQuantizationQueryEncoding.Setting.Scalar4Bits, "scalar4bits"),
      Map.entry(BinaryQuantizationQueryEncoding.Setting.Scalar8Bits, "scalar8bits"));
  static final Spelling<ShardingMethod> SHARDING = new Spelling<>(Map.entry(ShardingMethod.Auto, "auto"),
      Map.entry(ShardingMethod.Custom, "custom"));
  static final Spelling<CollectionStatus> STATUS = new Spelling<>(Map.entry(CollectionStatus.Green, "green"),
      Map.entry(CollectionStatus.Yellow, "yellow"), Map.entry(CollectionStatus.Red, "red"), Map.entry(CollectionStatus.Grey, "grey"));

  private CollectionConvert() {}

  /**
   * A proto enum and REST's names for its values. A value REST has no name for ({@code Unknown...},
   * or a number this version does not know) goes to REST's parser as its proto name or number, to be
   * refused in REST's words; {@link #checked} refuses it here, for values REST stores unchecked.
   */
  static final class Spelling<E extends Enum<E>> {
    private final Map<E, String> rest = new LinkedHashMap<>();
    private final Map<String, E> proto = new LinkedHashMap<>();

    @SafeVarargs
    Spelling(Map.Entry<E, String>... pairs) {
      for (var p : pairs) {
        rest.put(p.getKey(), p.getValue());
        proto.put(p.getValue(), p.getKey());
      }
    }

    String rest(E value, int number) {
      String s = rest.get(value);
      return s != null ? s : value.name().equals("UNRECOGNIZED") ? Integer.toString(number) : value.name();
    }

    /** REST's name, or a 400 in serde's words ({@code path: unknown variant `x`, expected one of ...}). */
    String checked(E value, int number, String path) {
      String s = rest.get(value);
      if (s == null) {
        throw ApiException.formatError(path + ": unknown variant `" + rest(value, number) + "`, expected one of "
            + rest.values().stream().map(v -> "`" + v + "`").collect(Collectors.joining(", ")));
      }
      return s;
    }

    /** The value REST's name stands for, or {@code otherwise}. */
    E proto(JsonNode name, E otherwise) {
      return name != null && name.isTextual() ? proto.getOrDefault(name.textValue(), otherwise) : otherwise;
    }
  }

  // ---- requests: the REST body that says the same ----

  /** The body of {@code PUT /collections/{name}} that asks for what {@code c} asks for. */
  static ObjectNode createBody(CreateCollection c) {
    ObjectNode b = F.objectNode();
    if (c.hasVectorsConfig()) {
      VectorsConfig v = c.getVectorsConfig();
      switch (v.getConfigCase()) {
        case PARAMS -> b.set("vectors", vectorParams(v.getParams(), "vectors"));
        case PARAMS_MAP -> {
          ObjectNode map = b.putObject("vectors");
          new TreeMap<>(v.getParamsMap().getMapMap()).forEach((name, p) -> map.set(name, vectorParams(p, "vectors." + name)));
        }
        case CONFIG_NOT_SET -> { }
      }
    }
    if (c.hasShardNumber()) {
      b.put("shard_number", Integer.toUnsignedLong(c.getShardNumber()));
    }
    if (c.hasShardingMethod()) {
      b.put("sharding_method", SHARDING.rest(c.getShardingMethod(), c.getShardingMethodValue()));
    }
    if (c.hasReplicationFactor()) {
      b.put("replication_factor", Integer.toUnsignedLong(c.getReplicationFactor()));
    }
    if (c.hasWriteConsistencyFactor()) {
      b.put("write_consistency_factor", Integer.toUnsignedLong(c.getWriteConsistencyFactor()));
    }
    if (c.hasOnDiskPayload()) {
      b.put("on_disk_payload", c.getOnDiskPayload());
    }
    if (c.hasSparseVectorsConfig()) {
      b.set("sparse_vectors", sparse(c.getSparseVectorsConfig()));
    }
    if (c.hasHnswConfig()) {
      b.set("hnsw_config", hnsw(c.getHnswConfig()));
    }
    if (c.hasWalConfig()) {
      b.set("wal_config", wal(c.getWalConfig()));
    }
    if (c.hasOptimizersConfig()) {
      b.set("optimizers_config", optimizers(c.getOptimizersConfig()));
    }
    if (c.hasQuantizationConfig()) {
      b.set("quantization_config", quantization(c.getQuantizationConfig(), "quantization_config"));
    }
    if (c.hasStrictModeConfig()) {
      b.set("strict_mode_config", strict(c.getStrictModeConfig()));
    }
    var metadata = NewerFields.valueMap(c, NewerFields.CREATE_METADATA);
    if (!metadata.isEmpty()) {
      b.set("metadata", Values.json(metadata));
    }
    if (c.hasInitFromCollection()) {
      b.putObject("init_from").put("collection", c.getInitFromCollection());
    }
    return b;
  }

  /** The body of {@code PATCH /collections/{name}} that asks for what {@code u} asks for. */
  static ObjectNode updateBody(UpdateCollection u) {
    ObjectNode b = F.objectNode();
    if (u.hasVectorsConfig()) {
      var v = u.getVectorsConfig();
      switch (v.getConfigCase()) {
        // the unnamed vector's diff, as Qdrant turns a single diff into a map under ""
        case PARAMS -> b.putObject("vectors").set("", vectorDiff(v.getParams(), "vectors."));
        case PARAMS_MAP -> {
          ObjectNode map = b.putObject("vectors");
          new TreeMap<>(v.getParamsMap().getMapMap()).forEach((name, d) -> map.set(name, vectorDiff(d, "vectors." + name)));
        }
        case CONFIG_NOT_SET -> { }
      }
    }
    if (u.hasParams()) {
      b.set("params", paramsDiff(u.getParams()));
    }
    if (u.hasHnswConfig()) {
      b.set("hnsw_config", hnsw(u.getHnswConfig()));
    }
    if (u.hasOptimizersConfig()) {
      b.set("optimizers_config", optimizers(u.getOptimizersConfig()));
    }
    if (u.hasQuantizationConfig()) {
      b.set("quantization_config", quantizationDiff(u.getQuantizationConfig(), "quantization_config"));
    }
    if (u.hasSparseVectorsConfig()) {
      b.set("sparse_vectors", sparse(u.getSparseVectorsConfig()));
    }
    if (u.hasStrictModeConfig()) {
      b.set("strict_mode_config", strict(u.getStrictModeConfig()));
    }
    var metadata = NewerFields.valueMap(u, NewerFields.UPDATE_METADATA);
    if (!metadata.isEmpty()) {
      b.set("metadata", Values.json(metadata));
    }
    return b;
  }

  private static ObjectNode vectorParams(VectorParams p, String path) {
    ObjectNode o = F.objectNode();
    o.set("size", unsigned(p.getSize()));
    o.put("distance", DISTANCE.rest(p.getDistance(), p.getDistanceValue()));
    if (p.hasHnswConfig()) {
      o.set("hnsw_config", hnsw(p.getHnswConfig()));
    }
    if (p.hasQuantizationConfig()) {
      o.set("quantization_config", quantization(p.getQuantizationConfig(), path + ".quantization_config"));
    }
    if (p.hasOnDisk()) {
      o.put("on_disk", p.getOnDisk());
    }
    // Default is Qdrant's "not given"
    if (p.hasDatatype() && p.getDatatype() != Datatype.Default) {
      o.put("datatype", DATATYPE.rest(p.getDatatype(), p.getDatatypeValue()));
    }
    if (p.hasMultivectorConfig()) {
      MultiVectorConfig mv = p.getMultivectorConfig();
      o.putObject("multivector_config").put("comparator", COMPARATOR.rest(mv.getComparator(), mv.getComparatorValue()));
    }
    return o;
  }

  private static ObjectNode vectorDiff(VectorParamsDiff d, String path) {
    ObjectNode o = F.objectNode();
    if (d.hasHnswConfig()) {
      o.set("hnsw_config", hnsw(d.getHnswConfig()));
    }
    if (d.hasQuantizationConfig()) {
      o.set("quantization_config", quantizationDiff(d.getQuantizationConfig(), path + ".quantization_config"));
    }
    if (d.hasOnDisk()) {
      o.put("on_disk", d.getOnDisk());
    }
    return o;
  }

  private static ObjectNode paramsDiff(CollectionParamsDiff p) {
    ObjectNode o = F.objectNode();
    if (p.hasReplicationFactor()) {
      o.put("replication_factor", Integer.toUnsignedLong(p.getReplicationFactor()));
    }
    if (p.hasWriteConsistencyFactor()) {
      o.put("write_consistency_factor", Integer.toUnsignedLong(p.getWriteConsistencyFactor()));
    }
    if (p.hasReadFanOutFactor()) {
      o.put("read_fan_out_factor", Integer.toUnsignedLong(p.getReadFanOutFactor()));
    }
    if (p.hasOnDiskPayload()) {
      o.put("on_disk_payload", p.getOnDiskPayload());
    }
    return o;
  }

  private static ObjectNode hnsw(HnswConfigDiff h) {
    ObjectNode o = F.objectNode();
    if (h.hasM()) {
      o.set("m", unsigned(h.getM()));
    }
    if (h.hasEfConstruct()) {
      o.set("ef_construct", unsigned(h.getEfConstruct()));
    }
    if (h.hasFullScanThreshold()) {
      o.set("full_scan_threshold", unsigned(h.getFullScanThreshold()));
    }
    if (h.hasMaxIndexingThreads()) {
      o.set("max_indexing_threads", unsigned(h.getMaxIndexingThreads()));
    }
    if (h.hasOnDisk()) {
      o.put("on_disk", h.getOnDisk());
    }
    if (h.hasPayloadM()) {
      o.set("payload_m", unsigned(h.getPayloadM()));
    }
    Boolean copyVectors = NewerFields.bool(h, NewerFields.HNSW_COPY_VECTORS);
    if (copyVectors != null) {
      o.put("copy_vectors", copyVectors);
    }
    return o;
  }

  private static ObjectNode wal(WalConfigDiff w) {
    ObjectNode o = F.objectNode();
    if (w.hasWalCapacityMb()) {
      o.set("wal_capacity_mb", unsigned(w.getWalCapacityMb()));
    }
    if (w.hasWalSegmentsAhead()) {
      o.set("wal_segments_ahead", unsigned(w.getWalSegmentsAhead()));
    }
    Long retainClosed = NewerFields.varint(w, NewerFields.WAL_RETAIN_CLOSED);
    if (retainClosed != null) {
      o.set("wal_retain_closed", unsigned(retainClosed));
    }
    return o;
  }

  private static ObjectNode optimizers(OptimizersConfigDiff c) {
    ObjectNode o = F.objectNode();
    if (c.hasDeletedThreshold()) {
      o.put("deleted_threshold", c.getDeletedThreshold());
    }
    if (c.hasVacuumMinVectorNumber()) {
      o.set("vacuum_min_vector_number", unsigned(c.getVacuumMinVectorNumber()));
    }
    if (c.hasDefaultSegmentNumber()) {
      o.set("default_segment_number", unsigned(c.getDefaultSegmentNumber()));
    }
    if (c.hasMaxSegmentSize()) {
      o.set("max_segment_size", unsigned(c.getMaxSegmentSize()));
    }
    if (c.hasMemmapThreshold()) {
      o.set("memmap_threshold", unsigned(c.getMemmapThreshold()));
    }
    if (c.hasIndexingThreshold()) {
      o.set("indexing_threshold", unsigned(c.getIndexingThreshold()));
    }
    if (c.hasFlushIntervalSec()) {
      o.set("flush_interval_sec", unsigned(c.getFlushIntervalSec()));
    }
    // the deprecated field wins, as in Qdrant
    if (c.hasDeprecatedMaxOptimizationThreads()) {
      o.set("max_optimization_threads", unsigned(c.getDeprecatedMaxOptimizationThreads()));
    } else if (c.hasMaxOptimizationThreads()) {
      MaxOptimizationThreads t = c.getMaxOptimizationThreads();
      switch (t.getVariantCase()) {
        case VALUE -> o.set("max_optimization_threads", unsigned(t.getValue()));
        case SETTING -> o.put("max_optimization_threads", t.getSetting() == MaxOptimizationThreads.Setting.Auto ? "auto"
            : Integer.toString(t.getSettingValue()));
        case VARIANT_NOT_SET -> throw ApiException.formatError(
            "optimizers_config.max_optimization_threads: expected a number of threads or `auto`");
      }
    }
    return o;
  }

  private static ObjectNode sparse(SparseVectorConfig s) {
    ObjectNode out = F.objectNode();
    new TreeMap<>(s.getMapMap()).forEach((name, p) -> {
      ObjectNode o = out.putObject(name);
      if (p.hasIndex()) {
        SparseIndexConfig i = p.getIndex();
        ObjectNode index = o.putObject("index");
        if (i.hasFullScanThreshold()) {
          index.set("full_scan_threshold", unsigned(i.getFullScanThreshold()));
        }
        if (i.hasOnDisk()) {
          index.put("on_disk", i.getOnDisk());
        }
        if (i.hasDatatype() && i.getDatatype() != Datatype.Default) {
          index.put("datatype", DATATYPE.rest(i.getDatatype(), i.getDatatypeValue()));
        }
      }
      if (p.hasModifier()) {
        o.put("modifier", MODIFIER.rest(p.getModifier(), p.getModifierValue()));
      }
    });
    return out;
  }

  /** REST checks the kind of quantization and the scalar type, and stores the rest as given: the enums are checked here. */
  private static ObjectNode quantization(QuantizationConfig q, String path) {
    return switch (q.getQuantizationCase()) {
      case SCALAR -> F.objectNode().set("scalar", scalar(q.getScalar()));
      case PRODUCT -> F.objectNode().set("product", product(q.getProduct(), path + ".product"));
      case BINARY -> F.objectNode().set("binary", binary(q.getBinary(), path + ".binary"));
      case QUANTIZATION_NOT_SET -> F.objectNode();
    };
  }

  private static JsonNode quantizationDiff(QuantizationConfigDiff q, String path) {
    return switch (q.getQuantizationCase()) {
      case SCALAR -> F.objectNode().set("scalar", scalar(q.getScalar()));
      case PRODUCT -> F.objectNode().set("product", product(q.getProduct(), path + ".product"));
      case BINARY -> F.objectNode().set("binary", binary(q.getBinary(), path + ".binary"));
      case DISABLED -> F.textNode("Disabled");
      case QUANTIZATION_NOT_SET -> F.objectNode();
    };
  }

  private static ObjectNode scalar(ScalarQuantization s) {
    ObjectNode o = F.objectNode().put("type", QUANTIZATION_TYPE.rest(s.getType(), s.getTypeValue()));
    if (s.hasQuantile()) {
      o.put("quantile", decimal(s.getQuantile()));
    }
    if (s.hasAlwaysRam()) {
      o.put("always_ram", s.getAlwaysRam());
    }
    return o;
  }

  private static ObjectNode product(ProductQuantization p, String path) {
    ObjectNode o = F.objectNode().put("compression", COMPRESSION.checked(p.getCompression(), p.getCompressionValue(), path + ".compression"));
    if (p.hasAlwaysRam()) {
      o.put("always_ram", p.getAlwaysRam());
    }
    return o;
  }

  private static ObjectNode binary(BinaryQuantization b, String path) {
    ObjectNode o = F.objectNode();
    if (b.hasAlwaysRam()) {
      o.put("always_ram", b.getAlwaysRam());
    }
    if (b.hasEncoding()) {
      o.put("encoding", BINARY_ENCODING.checked(b.getEncoding(), b.getEncodingValue(), path + ".encoding"));
    }
    if (b.hasQueryEncoding()) {
      var q = b.getQueryEncoding();
      if (!q.hasSetting()) {
        throw ApiException.formatError(path + ".query_encoding: expected one of `default`, `binary`, `scalar4bits`, `scalar8bits`");
      }
      o.put("query_encoding", QUERY_ENCODING.checked(q.getSetting(), q.getSettingValue(), path + ".query_encoding"));
    }
    return o;
  }

  private static ObjectNode strict(StrictModeConfig s) {
    ObjectNode o = F.objectNode();
    if (s.hasEnabled()) {
      o.put("enabled", s.getEnabled());
    }
    if (s.hasMaxQueryLimit()) {
      o.put("max_query_limit", Integer.toUnsignedLong(s.getMaxQueryLimit()));
    }
    if (s.hasMaxTimeout()) {
      o.put("max_timeout", Integer.toUnsignedLong(s.getMaxTimeout()));
    }
    if (s.hasUnindexedFilteringRetrieve()) {
      o.put("unindexed_filtering_retrieve", s.getUnindexedFilteringRetrieve());
    }
    if (s.hasUnindexedFilteringUpdate()) {
      o.put("unindexed_filtering_update", s.getUnindexedFilteringUpdate());
    }
    if (s.hasSearchMaxHnswEf()) {
      o.put("search_max_hnsw_ef", Integer.toUnsignedLong(s.getSearchMaxHnswEf()));
    }
    if (s.hasSearchAllowExact()) {
      o.put("search_allow_exact", s.getSearchAllowExact());
    }
    if (s.hasSearchMaxOversampling()) {
      o.put("search_max_oversampling", decimal(s.getSearchMaxOversampling()));
    }
    if (s.hasUpsertMaxBatchsize()) {
      o.set("upsert_max_batchsize", unsigned(s.getUpsertMaxBatchsize()));
    }
    if (s.hasMaxCollectionVectorSizeBytes()) {
      o.set("max_collection_vector_size_bytes", unsigned(s.getMaxCollectionVectorSizeBytes()));
    }
    if (s.hasReadRateLimit()) {
      o.put("read_rate_limit", Integer.toUnsignedLong(s.getReadRateLimit()));
    }
    if (s.hasWriteRateLimit()) {
      o.put("write_rate_limit", Integer.toUnsignedLong(s.getWriteRateLimit()));
    }
    if (s.hasMaxCollectionPayloadSizeBytes()) {
      o.set("max_collection_payload_size_bytes", unsigned(s.getMaxCollectionPayloadSizeBytes()));
    }
    if (s.hasMaxPointsCount()) {
      o.set("max_points_count", unsigned(s.getMaxPointsCount()));
    }
    if (s.hasFilterMaxConditions()) {
      o.set("filter_max_conditions", unsigned(s.getFilterMaxConditions()));
    }
    if (s.hasConditionMaxSize()) {
      o.set("condition_max_size", unsigned(s.getConditionMaxSize()));
    }
    if (s.hasMultivectorConfig()) {
      ObjectNode mv = o.putObject("multivector_config");
      new TreeMap<>(s.getMultivectorConfig().getMultivectorConfigMap()).forEach((name, m) -> {
        ObjectNode one = mv.putObject(name);
        if (m.hasMaxVectors()) {
          one.set("max_vectors", unsigned(m.getMaxVectors()));
        }
      });
    }
    if (s.hasSparseConfig()) {
      ObjectNode sp = o.putObject("sparse_config");
      new TreeMap<>(s.getSparseConfig().getSparseConfigMap()).forEach((name, m) -> {
        ObjectNode one = sp.putObject(name);
        if (m.hasMaxLength()) {
          one.set("max_length", unsigned(m.getMaxLength()));
        }
      });
    }
    Long maxPayloadIndexCount = NewerFields.varint(s, NewerFields.STRICT_MAX_PAYLOAD_INDEX_COUNT);
    if (maxPayloadIndexCount != null) {
      o.set("max_payload_index_count", unsigned(maxPayloadIndexCount));
    }
    return o;
  }

  /** A uint64 as JSON: beyond a long it is a big integer, which REST's range checks refuse. */
  private static JsonNode unsigned(long v) {
    return v >= 0 ? F.numberNode(v) : F.numberNode(new BigInteger(Long.toUnsignedString(v)));
  }

  /** A float as the decimal it was written as (0.99f is 0.99, not 0.9900000095367432), as REST would have read it. */
  private static double decimal(float f) {
    return Double.parseDouble(Float.toString(f));
  }

  // ---- responses: the storage's REST-shaped answers as messages ----

  /** {@code CollectionInfo} from what {@code GET /collections/{name}} shows under {@code result}. */
  static CollectionInfo info(JsonNode info) {
    var out = CollectionInfo.newBuilder()
        .setStatus(STATUS.proto(info.get("status"), CollectionStatus.UnknownCollectionStatus))
        .setOptimizerStatus(optimizerStatus(info.path("optimizer_status")))
        .setSegmentsCount(info.path("segments_count").asLong())
        .setConfig(config(info.path("config")));
    ifLong(info, "points_count", out::setPointsCount);
    ifLong(info, "indexed_vectors_count", out::setIndexedVectorsCount);
    info.path("payload_schema").properties().forEach(e -> out.putPayloadSchema(e.getKey(), PayloadSchemaInfos.info(e.getValue())));
    return out.build();
  }

  private static OptimizerStatus optimizerStatus(JsonNode status) {
    if (status.isTextual() && status.textValue().equals("ok")) {
      return OptimizerStatus.newBuilder().setOk(true).build();
    }
    return OptimizerStatus.newBuilder().setOk(false).setError(status.path("error").asText(status.toString())).build();
  }

  private static CollectionConfig config(JsonNode c) {
    var out = CollectionConfig.newBuilder()
        .setParams(params(c.path("params")))
        .setHnswConfig(hnswOut(c.path("hnsw_config")))
        .setOptimizerConfig(optimizersOut(c.path("optimizer_config")))
        .setWalConfig(walOut(c.path("wal_config")));
    if (c.path("quantization_config").isObject()) {
      out.setQuantizationConfig(quantizationOut(c.get("quantization_config")));
    }
    if (c.path("strict_mode_config").isObject()) {
      out.setStrictModeConfig(strictOut(c.get("strict_mode_config")));
    }
    if (c.path("metadata").isObject() && !c.get("metadata").isEmpty()) {
      Map<String, io.qdrant.client.grpc.JsonWithInt.Value> metadata = new LinkedHashMap<>();
      c.get("metadata").properties().forEach(e -> metadata.put(e.getKey(), Values.value(e.getValue())));
      NewerFields.putValueMap(out, NewerFields.CONFIG_METADATA, metadata);
    }
    return out.build();
  }

  private static CollectionParams params(JsonNode p) {
    var out = CollectionParams.newBuilder()
        .setShardNumber(p.path("shard_number").asInt(1))
        .setOnDiskPayload(p.path("on_disk_payload").asBoolean());
    JsonNode vectors = p.path("vectors");
    if (vectors.has("size")) {
      out.setVectorsConfig(VectorsConfig.newBuilder().setParams(vectorParamsOut(vectors)));
    } else {
      var map = VectorParamsMap.newBuilder();
      vectors.properties().forEach(e -> map.putMap(e.getKey(), vectorParamsOut(e.getValue())));
      out.setVectorsConfig(VectorsConfig.newBuilder().setParamsMap(map));
    }
    ifLong(p, "replication_factor", v -> out.setReplicationFactor((int) v));
    ifLong(p, "write_consistency_factor", v -> out.setWriteConsistencyFactor((int) v));
    ifLong(p, "read_fan_out_factor", v -> out.setReadFanOutFactor((int) v));
    if (p.path("sharding_method").isTextual()) {
      out.setShardingMethod(SHARDING.proto(p.get("sharding_method"), ShardingMethod.Auto));
    }
    if (p.path("sparse_vectors").isObject()) {
      var sparse = SparseVectorConfig.newBuilder();
      p.get("sparse_vectors").properties().forEach(e -> sparse.putMap(e.getKey(), sparseOut(e.getValue())));
      out.setSparseVectorsConfig(sparse);
    }
    return out.build();
  }

  private static VectorParams vectorParamsOut(JsonNode v) {
    var out = VectorParams.newBuilder()
        .setSize(v.path("size").asLong())
        .setDistance(DISTANCE.proto(v.get("distance"), Distance.UnknownDistance));
    if (v.path("hnsw_config").isObject()) {
      out.setHnswConfig(hnswOut(v.get("hnsw_config")));
    }
    if (v.path("quantization_config").isObject()) {
      out.setQuantizationConfig(quantizationOut(v.get("quantization_config")));
    }
    ifBool(v, "on_disk", out::setOnDisk);
    if (v.path("datatype").isTextual()) {
      out.setDatatype(DATATYPE.proto(v.get("datatype"), Datatype.Default));
    }
    if (v.path("multivector_config").isObject()) {
      out.setMultivectorConfig(MultiVectorConfig.newBuilder()
          .setComparator(COMPARATOR.proto(v.get("multivector_config").get("comparator"), MultiVectorComparator.MaxSim)));
    }
    return out.build();
  }

  private static SparseVectorParams sparseOut(JsonNode s) {
    var out = SparseVectorParams.newBuilder();
    if (s.path("index").isObject()) {
      JsonNode i = s.get("index");
      var index = SparseIndexConfig.newBuilder();
      ifLong(i, "full_scan_threshold", index::setFullScanThreshold);
      ifBool(i, "on_disk", index::setOnDisk);
      if (i.path("datatype").isTextual()) {
        index.setDatatype(DATATYPE.proto(i.get("datatype"), Datatype.Default));
      }
      out.setIndex(index);
    }
    if (s.path("modifier").isTextual()) {
      out.setModifier(MODIFIER.proto(s.get("modifier"), Modifier.None));
    }
    return out.build();
  }

  private static HnswConfigDiff hnswOut(JsonNode h) {
    var out = HnswConfigDiff.newBuilder();
    ifLong(h, "m", out::setM);
    ifLong(h, "ef_construct", out::setEfConstruct);
    ifLong(h, "full_scan_threshold", out::setFullScanThreshold);
    ifLong(h, "max_indexing_threads", out::setMaxIndexingThreads);
    ifBool(h, "on_disk", out::setOnDisk);
    ifLong(h, "payload_m", out::setPayloadM);
    ifBool(h, "copy_vectors", b -> NewerFields.putVarint(out, NewerFields.HNSW_COPY_VECTORS, b ? 1 : 0));
    return out.build();
  }

  private static WalConfigDiff walOut(JsonNode w) {
    var out = WalConfigDiff.newBuilder();
    ifLong(w, "wal_capacity_mb", out::setWalCapacityMb);
    ifLong(w, "wal_segments_ahead", out::setWalSegmentsAhead);
    ifLong(w, "wal_retain_closed", v -> NewerFields.putVarint(out, NewerFields.WAL_RETAIN_CLOSED, v));
    return out.build();
  }

  /** As Qdrant renders its optimizer config: a thread count in both fields, automatic (null) as the {@code Auto} setting. */
  private static OptimizersConfigDiff optimizersOut(JsonNode o) {
    var out = OptimizersConfigDiff.newBuilder();
    ifDouble(o, "deleted_threshold", out::setDeletedThreshold);
    ifLong(o, "vacuum_min_vector_number", out::setVacuumMinVectorNumber);
    ifLong(o, "default_segment_number", out::setDefaultSegmentNumber);
    ifLong(o, "max_segment_size", out::setMaxSegmentSize);
    ifLong(o, "memmap_threshold", out::setMemmapThreshold);
    ifLong(o, "indexing_threshold", out::setIndexingThreshold);
    ifLong(o, "flush_interval_sec", out::setFlushIntervalSec);
    JsonNode threads = o.path("max_optimization_threads");
    if (threads.isIntegralNumber()) {
      out.setDeprecatedMaxOptimizationThreads(threads.asLong());
      out.setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setValue(threads.asLong()));
    } else {
      out.setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setSetting(MaxOptimizationThreads.Setting.Auto));
    }
    return out.build();
  }

  private static QuantizationConfig quantizationOut(JsonNode q) {
    var out = QuantizationConfig.newBuilder();
    if (q.path("scalar").isObject()) {
      JsonNode s = q.get("scalar");
      var scalar = ScalarQuantization.newBuilder().setType(QUANTIZATION_TYPE.proto(s.get("type"), QuantizationType.UnknownQuantization));
      ifDouble(s, "quantile", v -> scalar.setQuantile((float) v));
      ifBool(s, "always_ram", scalar::setAlwaysRam);
      out.setScalar(scalar);
    } else if (q.path("product").isObject()) {
      JsonNode p = q.get("product");
      var product = ProductQuantization.newBuilder().setCompression(COMPRESSION.proto(p.get("compression"), CompressionRatio.x4));
      ifBool(p, "always_ram", product::setAlwaysRam);
      out.setProduct(product);
    } else if (q.path("binary").isObject()) {
      JsonNode b = q.get("binary");
      var binary = BinaryQuantization.newBuilder();
      ifBool(b, "always_ram", binary::setAlwaysRam);
      if (b.path("encoding").isTextual()) {
        binary.setEncoding(BINARY_ENCODING.proto(b.get("encoding"), BinaryQuantizationEncoding.OneBit));
      }
      if (b.path("query_encoding").isTextual()) {
        binary.setQueryEncoding(BinaryQuantizationQueryEncoding.newBuilder()
            .setSetting(QUERY_ENCODING.proto(b.get("query_encoding"), BinaryQuantizationQueryEncoding.Setting.Default)));
      }
      out.setBinary(binary);
    }
    return out.build();
  }

  private static StrictModeConfig strictOut(JsonNode s) {
    var out = StrictModeConfig.newBuilder();
    ifBool(s, "enabled", out::setEnabled);
    ifLong(s, "max_query_limit", v -> out.setMaxQueryLimit((int) v));
    ifLong(s, "max_timeout", v -> out.setMaxTimeout((int) v));
    ifBool(s, "unindexed_filtering_retrieve", out::setUnindexedFilteringRetrieve);
    ifBool(s, "unindexed_filtering_update", out::setUnindexedFilteringUpdate);
    ifLong(s, "search_max_hnsw_ef", v -> out.setSearchMaxHnswEf((int) v));
    ifBool(s, "search_allow_exact", out::setSearchAllowExact);
    ifDouble(s, "search_max_oversampling", v -> out.setSearchMaxOversampling((float) v));
    ifLong(s, "upsert_max_batchsize", out::setUpsertMaxBatchsize);
    ifLong(s, "max_collection_vector_size_bytes", out::setMaxCollectionVectorSizeBytes);
    ifLong(s, "read_rate_limit", v -> out.setReadRateLimit((int) v));
    ifLong(s, "write_rate_limit", v -> out.setWriteRateLimit((int) v));
    ifLong(s, "max_collection_payload_size_bytes", out::setMaxCollectionPayloadSizeBytes);
    ifLong(s, "max_points_count", out::setMaxPointsCount);
    ifLong(s, "filter_max_conditions", out::setFilterMaxConditions);
    ifLong(s, "condition_max_size", out::setConditionMaxSize);
    if (s.path("multivector_config").isObject()) {
      var mv = StrictModeMultivectorConfig.newBuilder();
      s.get("multivector_config").properties().forEach(e -> {
        var one = StrictModeMultivector.newBuilder();
        ifLong(e.getValue(), "max_vectors", one::setMaxVectors);
        mv.putMultivectorConfig(e.getKey(), one.build());
      });
      out.setMultivectorConfig(mv);
    }
    if (s.path("sparse_config").isObject()) {
      var sp = StrictModeSparseConfig.newBuilder();
      s.get("sparse_config").properties().forEach(e -> {
        var one = StrictModeSparse.newBuilder();
        ifLong(e.getValue(), "max_length", one::setMaxLength);
        sp.putSparseConfig(e.getKey(), one.build());
      });
      out.setSparseConfig(sp);
    }
    ifLong(s, "max_payload_index_count", v -> NewerFields.putVarint(out, NewerFields.STRICT_MAX_PAYLOAD_INDEX_COUNT, v));
    return out.build();
  }

  static void ifLong(JsonNode o, String key, LongConsumer set) {
    JsonNode v = o.get(key);
    if (v != null && v.isIntegralNumber()) {
      set.accept(v.longValue());
    }
  }

  static void ifDouble(JsonNode o, String key, DoubleConsumer set) {
    JsonNode v = o.get(key);
    if (v != null && v.isNumber()) {
      set.accept(v.doubleValue());
    }
  }

  static void ifBool(JsonNode o, String key, Consumer<Boolean> set) {
    JsonNode v = o.get(key);
    if (v != null && v.isBoolean()) {
      set.accept(v.booleanValue());
    }
  }
}
