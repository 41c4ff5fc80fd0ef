package io.quiver.storage.strict;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A collection's {@code strict_mode_config}, read once per config: the limits are null when not
 * set, the switches null when not set (Qdrant then allows).
 */
record StrictConfig(Long maxQueryLimit, Long maxTimeout, Boolean unindexedFilteringRetrieve, Boolean unindexedFilteringUpdate,
    Long searchMaxHnswEf, Boolean searchAllowExact, Double searchMaxOversampling, Long upsertMaxBatchsize,
    Long maxCollectionVectorSizeBytes, Long readRateLimit, Long writeRateLimit, Long maxCollectionPayloadSizeBytes,
    Long maxPointsCount, Long filterMaxConditions, Long conditionMaxSize, JsonNode multivectorConfig, JsonNode sparseConfig,
    Long maxPayloadIndexCount) {

  /** The config when strict mode is enabled in {@code config} (Qdrant's {@code strict_mode_config}), else null. */
  static StrictConfig of(ObjectNode collectionConfig) {
    JsonNode s = collectionConfig.get("strict_mode_config");
    if (!(s instanceof ObjectNode o) || !o.path("enabled").asBoolean(false)) {
      return null;
    }
    return new StrictConfig(number(o, "max_query_limit"), number(o, "max_timeout"), bool(o, "unindexed_filtering_retrieve"),
        bool(o, "unindexed_filtering_update"), number(o, "search_max_hnsw_ef"), bool(o, "search_allow_exact"),
        o.path("search_max_oversampling").isNumber() ? o.get("search_max_oversampling").asDouble() : null,
        number(o, "upsert_max_batchsize"), number(o, "max_collection_vector_size_bytes"), number(o, "read_rate_limit"),
        number(o, "write_rate_limit"), number(o, "max_collection_payload_size_bytes"), number(o, "max_points_count"),
        number(o, "filter_max_conditions"), number(o, "condition_max_size"), o.path("multivector_config"), o.path("sparse_config"),
        number(o, "max_payload_index_count"));
  }

  /** {@code multivector_config.<vector>.max_vectors}, or null. */
  Long maxVectors(String vector) {
    return number(multivectorConfig.path(vector), "max_vectors");
  }

  /** {@code sparse_config.<vector>.max_length}, or null. */
  Long maxSparseLength(String vector) {
    return number(sparseConfig.path(vector), "max_length");
  }

  boolean forbidsExact() {
    return Boolean.FALSE.equals(searchAllowExact);
  }

  private static Long number(JsonNode o, String name) {
    JsonNode n = o.get(name);
    return n != null && n.isNumber() ? n.asLong() : null;
  }

  private static Boolean bool(JsonNode o, String name) {
    JsonNode n = o.get(name);
    return n != null && n.isBoolean() ? n.asBoolean() : null;
  }
}
