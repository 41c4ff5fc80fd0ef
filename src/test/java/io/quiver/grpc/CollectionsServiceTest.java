package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.Collections.AliasOperations;
import io.qdrant.client.grpc.Collections.BinaryQuantization;
import io.qdrant.client.grpc.Collections.BinaryQuantizationEncoding;
import io.qdrant.client.grpc.Collections.BinaryQuantizationQueryEncoding;
import io.qdrant.client.grpc.Collections.ChangeAliases;
import io.qdrant.client.grpc.Collections.CollectionClusterInfoRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionParamsDiff;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CompressionRatio;
import io.qdrant.client.grpc.Collections.CreateAlias;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.CreateShardKey;
import io.qdrant.client.grpc.Collections.CreateShardKeyRequest;
import io.qdrant.client.grpc.Collections.Datatype;
import io.qdrant.client.grpc.Collections.DeleteAlias;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.DeleteShardKey;
import io.qdrant.client.grpc.Collections.DeleteShardKeyRequest;
import io.qdrant.client.grpc.Collections.Disabled;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.HnswConfigDiff;
import io.qdrant.client.grpc.Collections.ListAliasesRequest;
import io.qdrant.client.grpc.Collections.ListCollectionAliasesRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.MaxOptimizationThreads;
import io.qdrant.client.grpc.Collections.Modifier;
import io.qdrant.client.grpc.Collections.MoveShard;
import io.qdrant.client.grpc.Collections.MultiVectorComparator;
import io.qdrant.client.grpc.Collections.MultiVectorConfig;
import io.qdrant.client.grpc.Collections.OptimizersConfigDiff;
import io.qdrant.client.grpc.Collections.ProductQuantization;
import io.qdrant.client.grpc.Collections.QuantizationConfig;
import io.qdrant.client.grpc.Collections.QuantizationConfigDiff;
import io.qdrant.client.grpc.Collections.QuantizationType;
import io.qdrant.client.grpc.Collections.RenameAlias;
import io.qdrant.client.grpc.Collections.ReplicaState;
import io.qdrant.client.grpc.Collections.ScalarQuantization;
import io.qdrant.client.grpc.Collections.ShardKey;
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
import io.qdrant.client.grpc.Collections.UpdateCollectionClusterSetupRequest;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsDiff;
import io.qdrant.client.grpc.Collections.VectorParamsDiffMap;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.Collections.VectorsConfigDiff;
import io.qdrant.client.grpc.Collections.WalConfigDiff;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qdrant.Collections} over a real gRPC channel to an in-process node, checked against REST on
 * the same node: what gRPC creates and updates reads back as what the equivalent REST JSON makes,
 * {@code Get} says what REST shows ({@link ProtoSaysJson}), errors carry REST's status and message.
 */
@Timeout(60)
class CollectionsServiceTest {
  @TempDir static Path dir;
  static TestNode node;
  static ManagedChannel channel;
  static CollectionsGrpc.CollectionsBlockingStub grpc;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.deployment.grpc().actualPort()).usePlaintext().build();
    grpc = CollectionsGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    node.close();
  }

  // ---- create: every kind of config, against the REST JSON that says the same ----

  record Case(String name, CreateCollection.Builder grpc, String rest) {}

  static final List<Case> CASES = List.of(
      new Case("single", CreateCollection.newBuilder()
          .setVectorsConfig(VectorsConfig.newBuilder().setParams(VectorParams.newBuilder().setSize(4).setDistance(Distance.Cosine)
              .setHnswConfig(newer(HnswConfigDiff.newBuilder().setM(32).setEfConstruct(200).setFullScanThreshold(20000)
                  .setMaxIndexingThreads(2).setOnDisk(true).setPayloadM(8), 7, 1))
              .setQuantizationConfig(QuantizationConfig.newBuilder().setScalar(ScalarQuantization.newBuilder()
                  .setType(QuantizationType.Int8).setQuantile(0.99f).setAlwaysRam(true)))
              .setOnDisk(true).setDatatype(Datatype.Float16)))
          .setShardNumber(2).setShardingMethod(ShardingMethod.Auto).setReplicationFactor(2).setWriteConsistencyFactor(1)
          .setOnDiskPayload(false)
          .setHnswConfig(newer(HnswConfigDiff.newBuilder().setM(24).setEfConstruct(150).setFullScanThreshold(5000)
              .setMaxIndexingThreads(1).setOnDisk(false).setPayloadM(12), 7, 0))
          .setWalConfig(newer(WalConfigDiff.newBuilder().setWalCapacityMb(64).setWalSegmentsAhead(2), 3, 3))
          .setOptimizersConfig(OptimizersConfigDiff.newBuilder().setDeletedThreshold(0.3).setVacuumMinVectorNumber(2000)
              .setDefaultSegmentNumber(2).setMaxSegmentSize(100000).setMemmapThreshold(50000).setIndexingThreshold(20000)
              .setFlushIntervalSec(10).setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setValue(2)))
          .setQuantizationConfig(QuantizationConfig.newBuilder().setBinary(BinaryQuantization.newBuilder().setAlwaysRam(false)
              .setEncoding(BinaryQuantizationEncoding.OneAndHalfBits)
              .setQueryEncoding(BinaryQuantizationQueryEncoding.newBuilder().setSetting(BinaryQuantizationQueryEncoding.Setting.Binary))))
          .setStrictModeConfig(newer(StrictModeConfig.newBuilder().setEnabled(true).setMaxQueryLimit(100).setMaxTimeout(30)
              .setUnindexedFilteringRetrieve(false).setUnindexedFilteringUpdate(true).setSearchMaxHnswEf(256)
              .setSearchAllowExact(false).setSearchMaxOversampling(1.5f).setUpsertMaxBatchsize(500)
              .setMaxCollectionVectorSizeBytes(1_000_000_000L).setReadRateLimit(1000).setWriteRateLimit(500)
              .setMaxCollectionPayloadSizeBytes(1_000_000).setMaxPointsCount(1_000_000).setFilterMaxConditions(10)
              .setConditionMaxSize(100)
              .setMultivectorConfig(StrictModeMultivectorConfig.newBuilder()
                  .putMultivectorConfig("v", StrictModeMultivector.newBuilder().setMaxVectors(8).build()))
              .setSparseConfig(StrictModeSparseConfig.newBuilder()
                  .putSparseConfig("s", StrictModeSparse.newBuilder().setMaxLength(64).build())), 19, 5)),
          """
          {"vectors": {"size": 4, "distance": "Cosine", "on_disk": true, "datatype": "float16",
             "hnsw_config": {"m": 32, "ef_construct": 200, "full_scan_threshold": 20000, "max_indexing_threads": 2,
                             "on_disk": true, "payload_m": 8, "copy_vectors": true},
             "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}}},
           "shard_number": 2, "sharding_method": "auto", "replication_factor": 2, "write_consistency_factor": 1,
           "on_disk_payload": false,
           "hnsw_config": {"m": 24, "ef_construct": 150, "full_scan_threshold": 5000, "max_indexing_threads": 1,
                           "on_disk": false, "payload_m": 12, "copy_vectors": false},
           "wal_config": {"wal_capacity_mb": 64, "wal_segments_ahead": 2, "wal_retain_closed": 3},
           "optimizers_config": {"deleted_threshold": 0.3, "vacuum_min_vector_number": 2000, "default_segment_number": 2,
             "max_segment_size": 100000, "memmap_threshold": 50000, "indexing_threshold": 20000, "flush_interval_sec": 10,
             "max_optimization_threads": 2},
           "quantization_config": {"binary": {"always_ram": false, "encoding": "one_and_half_bits", "query_encoding": "binary"}},
           "strict_mode_config": {"enabled": true, "max_query_limit": 100, "max_timeout": 30,
             "unindexed_filtering_retrieve": false, "unindexed_filtering_update": true, "search_max_hnsw_ef": 256,
             "search_allow_exact": false, "search_max_oversampling": 1.5, "upsert_max_batchsize": 500,
             "max_collection_vector_size_bytes": 1000000000, "read_rate_limit": 1000, "write_rate_limit": 500,
             "max_collection_payload_size_bytes": 1000000, "max_points_count": 1000000, "filter_max_conditions": 10,
             "condition_max_size": 100, "multivector_config": {"v": {"max_vectors": 8}},
             "sparse_config": {"s": {"max_length": 64}}, "max_payload_index_count": 5},
           "metadata": {"owner": "team", "n": 3, "ratio": 0.5, "tags": ["a", 1], "nested": {"ok": true, "none": null}}}
          """),
      new Case("named", CreateCollection.newBuilder()
          .setVectorsConfig(VectorsConfig.newBuilder().setParamsMap(VectorParamsMap.newBuilder()
              .putMap("text", VectorParams.newBuilder().setSize(8).setDistance(Distance.Dot).setDatatype(Datatype.Uint8)
                  .setMultivectorConfig(MultiVectorConfig.newBuilder().setComparator(MultiVectorComparator.MaxSim))
                  .setQuantizationConfig(QuantizationConfig.newBuilder().setProduct(ProductQuantization.newBuilder()
                      .setCompression(CompressionRatio.x16).setAlwaysRam(true))).build())
              .putMap("image", VectorParams.newBuilder().setSize(3).setDistance(Distance.Euclid)
                  .setQuantizationConfig(QuantizationConfig.newBuilder().setBinary(BinaryQuantization.newBuilder().setAlwaysRam(true)
                      .setEncoding(BinaryQuantizationEncoding.TwoBits).setQueryEncoding(BinaryQuantizationQueryEncoding.newBuilder()
                          .setSetting(BinaryQuantizationQueryEncoding.Setting.Scalar8Bits)))).build())
              .putMap("geo", VectorParams.newBuilder().setSize(2).setDistance(Distance.Manhattan)
                  .setHnswConfig(HnswConfigDiff.newBuilder().setM(0)).setDatatype(Datatype.Float32).setOnDisk(false).build())
              .putMap("plain", VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot).setDatatype(Datatype.Default).build())))
          .setSparseVectorsConfig(SparseVectorConfig.newBuilder()
              .putMap("bm25", SparseVectorParams.newBuilder().setModifier(Modifier.Idf).setIndex(SparseIndexConfig.newBuilder()
                  .setFullScanThreshold(100).setOnDisk(true).setDatatype(Datatype.Float16)).build())
              .putMap("splade", SparseVectorParams.getDefaultInstance())
              .putMap("none", SparseVectorParams.newBuilder().setModifier(Modifier.None).build()))
          .setOptimizersConfig(OptimizersConfigDiff.newBuilder().setIndexingThreshold(0)
              .setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setSetting(MaxOptimizationThreads.Setting.Auto)))
          .setQuantizationConfig(QuantizationConfig.newBuilder().setProduct(ProductQuantization.newBuilder()
              .setCompression(CompressionRatio.x4))),
          """
          {"vectors": {
             "text": {"size": 8, "distance": "Dot", "datatype": "uint8", "multivector_config": {"comparator": "max_sim"},
                      "quantization_config": {"product": {"compression": "x16", "always_ram": true}}},
             "image": {"size": 3, "distance": "Euclid",
                       "quantization_config": {"binary": {"always_ram": true, "encoding": "two_bits", "query_encoding": "scalar8bits"}}},
             "geo": {"size": 2, "distance": "Manhattan", "hnsw_config": {"m": 0}, "datatype": "float32", "on_disk": false},
             "plain": {"size": 2, "distance": "Dot"}},
           "sparse_vectors": {"bm25": {"index": {"full_scan_threshold": 100, "on_disk": true, "datatype": "float16"}, "modifier": "idf"},
                              "splade": {}, "none": {"modifier": "none"}},
           "optimizers_config": {"indexing_threshold": 0, "max_optimization_threads": "auto"},
           "quantization_config": {"product": {"compression": "x4"}}}
          """),
      new Case("empty", CreateCollection.newBuilder(), "{}"),
      new Case("init", CreateCollection.newBuilder()
          .setVectorsConfig(VectorsConfig.newBuilder().setParams(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot)))
          .setInitFromCollection("source"),
          """
          {"vectors": {"size": 2, "distance": "Dot"}, "init_from": {"collection": "source"}}
          """));

  @Test
  void createdOverGrpcReadsBackAsCreatedOverRest() throws Exception {
    ok(node.send("PUT", "/collections/source", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/source/points?wait=true",
        "{\"points\": [{\"id\": 1, \"vector\": [1, 0]}, {\"id\": 2, \"vector\": [0, 1], \"payload\": {\"a\": 1}}]}"));
    for (Case c : CASES) {
      String g = "g_" + c.name();
      String r = "r_" + c.name();
      CreateCollection.Builder message = c.grpc().clone().setCollectionName(g);
      if (c.name().equals("single")) {
        metadata(message, 18, json(c.rest()).get("metadata"));
      }
      assertTrue(grpc.create(message.build()).getResult(), c.name());
      ok(node.send("PUT", "/collections/" + r, c.rest()));
      JsonNode viaGrpc = node.get("/collections/" + g).result();
      JsonNode viaRest = node.get("/collections/" + r).result();
      assertEquals(viaRest.get("config"), viaGrpc.get("config"), c.name());
      assertEquals(viaRest.get("points_count"), viaGrpc.get("points_count"), c.name());
      assertGetSaysRest(g);
    }
    assertEquals(2, node.get("/collections/g_init").result().get("points_count").asInt());
  }

  // ---- update ----

  @Test
  void updatedOverGrpcAsUpdatedOverRest() throws Exception {
    String base = """
        {"vectors": {"a": {"size": 2, "distance": "Dot"},
                     "b": {"size": 2, "distance": "Cosine", "quantization_config": {"scalar": {"type": "int8"}}}},
         "sparse_vectors": {"s": {}}, "quantization_config": {"binary": {}}}
        """;
    ok(node.send("PUT", "/collections/ug", base));
    ok(node.send("PUT", "/collections/ur", base));
    var first = UpdateCollection.newBuilder().setCollectionName("ug")
        .setVectorsConfig(VectorsConfigDiff.newBuilder().setParamsMap(VectorParamsDiffMap.newBuilder()
            .putMap("a", VectorParamsDiff.newBuilder().setHnswConfig(HnswConfigDiff.newBuilder().setM(8)).setOnDisk(true)
                .setQuantizationConfig(QuantizationConfigDiff.newBuilder().setScalar(ScalarQuantization.newBuilder()
                    .setType(QuantizationType.Int8).setQuantile(0.95f))).build())
            .putMap("b", VectorParamsDiff.newBuilder().setQuantizationConfig(QuantizationConfigDiff.newBuilder()
                .setDisabled(Disabled.getDefaultInstance())).build())))
        .setParams(CollectionParamsDiff.newBuilder().setReplicationFactor(2).setWriteConsistencyFactor(1).setReadFanOutFactor(1)
            .setOnDiskPayload(true))
        .setHnswConfig(HnswConfigDiff.newBuilder().setEfConstruct(128))
        .setOptimizersConfig(OptimizersConfigDiff.newBuilder().setIndexingThreshold(0)
            .setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setValue(3)))
        .setQuantizationConfig(QuantizationConfigDiff.newBuilder().setProduct(ProductQuantization.newBuilder()
            .setCompression(CompressionRatio.x32)))
        .setSparseVectorsConfig(SparseVectorConfig.newBuilder().putMap("s", SparseVectorParams.newBuilder().setModifier(Modifier.Idf)
            .setIndex(SparseIndexConfig.newBuilder().setOnDisk(true)).build()))
        .setStrictModeConfig(StrictModeConfig.newBuilder().setEnabled(true).setMaxQueryLimit(50))
        .setTimeout(10);
    metadata(first, 10, json("{\"k\": \"v\", \"n\": 1}"));
    assertTrue(grpc.update(first.build()).getResult());
    ok(node.send("PATCH", "/collections/ur?timeout=10", """
        {"vectors": {"a": {"hnsw_config": {"m": 8}, "on_disk": true,
                           "quantization_config": {"scalar": {"type": "int8", "quantile": 0.95}}},
                     "b": {"quantization_config": "Disabled"}},
         "params": {"replication_factor": 2, "write_consistency_factor": 1, "read_fan_out_factor": 1, "on_disk_payload": true},
         "hnsw_config": {"ef_construct": 128},
         "optimizers_config": {"indexing_threshold": 0, "max_optimization_threads": 3},
         "quantization_config": {"product": {"compression": "x32"}},
         "sparse_vectors": {"s": {"modifier": "idf", "index": {"on_disk": true}}},
         "strict_mode_config": {"enabled": true, "max_query_limit": 50},
         "metadata": {"k": "v", "n": 1}}
        """));
    assertSameConfig("ug", "ur");

    var second = UpdateCollection.newBuilder().setCollectionName("ug")
        .setQuantizationConfig(QuantizationConfigDiff.newBuilder().setDisabled(Disabled.getDefaultInstance()))
        .setOptimizersConfig(OptimizersConfigDiff.newBuilder()
            .setMaxOptimizationThreads(MaxOptimizationThreads.newBuilder().setSetting(MaxOptimizationThreads.Setting.Auto)));
    metadata(second, 10, json("{\"k\": null}"));
    assertTrue(grpc.update(second.build()).getResult());
    ok(node.send("PATCH", "/collections/ur",
        "{\"quantization_config\": \"Disabled\", \"optimizers_config\": {\"max_optimization_threads\": \"auto\"}, \"metadata\": {\"k\": null}}"));
    assertSameConfig("ug", "ur");
    assertTrue(node.get("/collections/ug").result().get("config").get("optimizer_config").get("max_optimization_threads").isNull());
    assertGetSaysRest("ug");

    // one unnamed vector: its diff is the map's "" entry
    ok(node.send("PUT", "/collections/u1g", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/u1r", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    assertTrue(grpc.update(UpdateCollection.newBuilder().setCollectionName("u1g")
        .setVectorsConfig(VectorsConfigDiff.newBuilder().setParams(VectorParamsDiff.newBuilder()
            .setHnswConfig(HnswConfigDiff.newBuilder().setM(4)).setOnDisk(true)))
        .build()).getResult());
    ok(node.send("PATCH", "/collections/u1r", "{\"vectors\": {\"\": {\"hnsw_config\": {\"m\": 4}, \"on_disk\": true}}}"));
    assertSameConfig("u1g", "u1r");
  }

  // ---- get ----

  @Test
  void getSaysWhatRestShowsWithPayloadIndexes() throws Exception {
    ok(node.send("PUT", "/collections/idx", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/idx/points?wait=true", """
        {"points": [
          {"id": 1, "vector": [1, 0], "payload": {"k": "a", "i": 1, "f": 0.5, "g": {"lon": 1, "lat": 2}, "t": "hello world",
                                                  "b": true, "d": "2024-01-01T00:00:00Z", "u": "550e8400-e29b-41d4-a716-446655440000",
                                                  "s": "stop words here"}},
          {"id": 2, "vector": [0, 1], "payload": {"k": "b", "i": 2}},
          {"id": 3, "vector": [1, 1]}]}
        """));
    for (String schema : List.of(
        "{\"field_name\": \"k\", \"field_schema\": {\"type\": \"keyword\", \"is_tenant\": true, \"on_disk\": true}}",
        "{\"field_name\": \"i\", \"field_schema\": {\"type\": \"integer\", \"lookup\": true, \"range\": false, \"is_principal\": true}}",
        "{\"field_name\": \"f\", \"field_schema\": {\"type\": \"float\", \"on_disk\": true}}",
        "{\"field_name\": \"g\", \"field_schema\": \"geo\"}",
        "{\"field_name\": \"t\", \"field_schema\": {\"type\": \"text\", \"tokenizer\": \"prefix\", \"min_token_len\": 2, "
            + "\"max_token_len\": 10, \"lowercase\": true, \"phrase_matching\": true, "
            + "\"stopwords\": {\"languages\": [\"english\"], \"custom\": [\"foo\"]}, \"stemmer\": {\"type\": \"snowball\", \"language\": \"english\"}}}",
        "{\"field_name\": \"s\", \"field_schema\": {\"type\": \"text\", \"stopwords\": \"english\"}}",
        "{\"field_name\": \"b\", \"field_schema\": \"bool\"}",
        "{\"field_name\": \"d\", \"field_schema\": {\"type\": \"datetime\", \"is_principal\": true}}",
        "{\"field_name\": \"u\", \"field_schema\": {\"type\": \"uuid\", \"is_tenant\": true}}")) {
      ok(node.send("PUT", "/collections/idx/index?wait=true", schema));
    }
    CollectionInfo info = assertGetSaysRest("idx");
    assertEquals(CollectionStatus.Green, info.getStatus());
    assertEquals(3, info.getPointsCount());
    assertEquals(9, info.getPayloadSchemaCount());
    assertEquals(2, info.getPayloadSchemaOrThrow("k").getPoints());
  }

  // ---- cluster ----

  @Test
  void clusterInfoIsRestsOneLocalShard() throws Exception {
    ok(node.send("PUT", "/collections/cl", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/cl/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 0]}]}"));
    var info = grpc.collectionClusterInfo(CollectionClusterInfoRequest.newBuilder().setCollectionName("cl").build());
    JsonNode rest = node.get("/collections/cl/cluster").result();
    assertEquals(rest.get("peer_id").asLong(), info.getPeerId());
    assertEquals(rest.get("shard_count").asLong(), info.getShardCount());
    assertEquals(1, info.getLocalShardsCount());
    JsonNode shard = rest.get("local_shards").get(0);
    assertEquals(shard.get("shard_id").asInt(), info.getLocalShards(0).getShardId());
    assertEquals(1, info.getLocalShards(0).getPointsCount());
    assertEquals(shard.get("points_count").asLong(), info.getLocalShards(0).getPointsCount());
    assertEquals(ReplicaState.Active, info.getLocalShards(0).getState());
    assertEquals(0, info.getRemoteShardsCount() + info.getShardTransfersCount() + info.getReshardingOperationsCount());
    assertFails(Status.Code.NOT_FOUND, node.get("/collections/nope/cluster").error(),
        () -> grpc.collectionClusterInfo(CollectionClusterInfoRequest.newBuilder().setCollectionName("nope").build()));

    var move = UpdateCollectionClusterSetupRequest.newBuilder().setCollectionName("cl")
        .setMoveShard(MoveShard.newBuilder().setShardId(0).setFromPeerId(1).setToPeerId(2)).build();
    String moveJson = "{\"move_shard\": {\"shard_id\": 0, \"from_peer_id\": 1, \"to_peer_id\": 2}}";
    assertFails(Status.Code.INVALID_ARGUMENT, node.send("POST", "/collections/cl/cluster", moveJson).error(),
        () -> grpc.updateCollectionClusterSetup(move));
    assertEquals("Bad request: Distributed mode disabled", node.send("POST", "/collections/cl/cluster", moveJson).error());
    assertFails(Status.Code.NOT_FOUND, node.send("POST", "/collections/nope/cluster", moveJson).error(),
        () -> grpc.updateCollectionClusterSetup(move.toBuilder().setCollectionName("nope").build()));
    assertFails(Status.Code.INVALID_ARGUMENT, "empty operation",
        () -> grpc.updateCollectionClusterSetup(UpdateCollectionClusterSetupRequest.newBuilder().setCollectionName("cl").build()));

    var create = CreateShardKeyRequest.newBuilder().setCollectionName("cl")
        .setRequest(CreateShardKey.newBuilder().setShardKey(ShardKey.newBuilder().setKeyword("k"))).build();
    assertFails(Status.Code.INVALID_ARGUMENT, node.send("PUT", "/collections/cl/shards", "{\"shard_key\": \"k\"}").error(),
        () -> grpc.createShardKey(create));
    assertFails(Status.Code.NOT_FOUND, node.send("PUT", "/collections/nope/shards", "{\"shard_key\": \"k\"}").error(),
        () -> grpc.createShardKey(create.toBuilder().setCollectionName("nope").build()));
    assertFails(Status.Code.INVALID_ARGUMENT, "empty request",
        () -> grpc.createShardKey(CreateShardKeyRequest.newBuilder().setCollectionName("cl").build()));
    assertFails(Status.Code.INVALID_ARGUMENT, "Shard key is not specified",
        () -> grpc.createShardKey(CreateShardKeyRequest.newBuilder().setCollectionName("cl")
            .setRequest(CreateShardKey.getDefaultInstance()).build()));
    var delete = DeleteShardKeyRequest.newBuilder().setCollectionName("cl")
        .setRequest(DeleteShardKey.newBuilder().setShardKey(ShardKey.newBuilder().setNumber(7))).build();
    assertFails(Status.Code.INVALID_ARGUMENT, node.send("POST", "/collections/cl/shards/delete", "{\"shard_key\": 7}").error(),
        () -> grpc.deleteShardKey(delete));
    assertFails(Status.Code.INVALID_ARGUMENT, "empty request",
        () -> grpc.deleteShardKey(DeleteShardKeyRequest.newBuilder().setCollectionName("cl").build()));

    // custom sharding: the same operations as REST's
    assertEquals(200, node.send("PUT", "/collections/ck", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, "
        + "\"sharding_method\": \"custom\"}").status());
    assertTrue(grpc.createShardKey(create.toBuilder().setCollectionName("ck").build()).getResult());
    assertTrue(grpc.createShardKey(CreateShardKeyRequest.newBuilder().setCollectionName("ck").setRequest(CreateShardKey.newBuilder()
        .setShardKey(ShardKey.newBuilder().setNumber(7)).setShardsNumber(2)).build()).getResult());
    var shards = node.get("/collections/ck/cluster").result().get("local_shards");
    assertEquals("[\"k\",7,7]", java.util.stream.StreamSupport.stream(shards.spliterator(), false).map(x -> x.get("shard_key").toString())
        .collect(java.util.stream.Collectors.joining(",", "[", "]")));
    assertFails(Status.Code.INVALID_ARGUMENT, "Bad request: Sharding key k already exists for collection ck",
        () -> grpc.createShardKey(create.toBuilder().setCollectionName("ck").build()));
    assertTrue(grpc.deleteShardKey(delete.toBuilder().setCollectionName("ck").build()).getResult());
    assertEquals(1, node.get("/collections/ck/cluster").result().get("shard_count").asInt());
  }

  // ---- errors ----

  @Test
  void badInputIsInvalidArgumentWithRestsMessage() throws Exception {
    List<Object[]> cases = List.of(
        new Object[] {vectors(VectorParams.newBuilder().setSize(0).setDistance(Distance.Dot)), "{\"vectors\": {\"size\": 0, \"distance\": \"Dot\"}}"},
        new Object[] {vectors(VectorParams.newBuilder().setSize(4)), "{\"vectors\": {\"size\": 4, \"distance\": \"UnknownDistance\"}}"},
        new Object[] {vectors(VectorParams.newBuilder().setSize(4).setDistance(Distance.Dot).setDatatypeValue(9)),
            "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\", \"datatype\": \"9\"}}"},
        new Object[] {CreateCollection.newBuilder().setHnswConfig(HnswConfigDiff.newBuilder().setEfConstruct(1)),
            "{\"hnsw_config\": {\"ef_construct\": 1}}"},
        new Object[] {CreateCollection.newBuilder().setQuantizationConfig(QuantizationConfig.newBuilder()
            .setScalar(ScalarQuantization.newBuilder().setType(QuantizationType.Int8).setQuantile(0.2f))),
            "{\"quantization_config\": {\"scalar\": {\"type\": \"int8\", \"quantile\": 0.2}}}"},
        new Object[] {CreateCollection.newBuilder().setQuantizationConfig(QuantizationConfig.newBuilder()
            .setScalar(ScalarQuantization.getDefaultInstance())),
            "{\"quantization_config\": {\"scalar\": {\"type\": \"UnknownQuantization\"}}}"},
        new Object[] {CreateCollection.newBuilder().setQuantizationConfig(QuantizationConfig.getDefaultInstance()),
            "{\"quantization_config\": {}}"},
        new Object[] {CreateCollection.newBuilder().setShardNumber(0), "{\"shard_number\": 0}"},
        new Object[] {CreateCollection.newBuilder().setOptimizersConfig(OptimizersConfigDiff.newBuilder().setDeletedThreshold(2.0)),
            "{\"optimizers_config\": {\"deleted_threshold\": 2.0}}"},
        new Object[] {CreateCollection.newBuilder()
            .setVectorsConfig(VectorsConfig.newBuilder().setParamsMap(VectorParamsMap.newBuilder()
                .putMap("x", VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot).build())))
            .setSparseVectorsConfig(SparseVectorConfig.newBuilder().putMap("x", SparseVectorParams.getDefaultInstance())),
            "{\"vectors\": {\"x\": {\"size\": 2, \"distance\": \"Dot\"}}, \"sparse_vectors\": {\"x\": {}}}"});
    for (Object[] c : cases) {
      var rest = node.send("PUT", "/collections/bad", (String) c[1]);
      assertTrue(rest.status() == 400 || rest.status() == 422, rest.body());
      assertFails(Status.Code.INVALID_ARGUMENT, rest.error(),
          () -> grpc.create(((CreateCollection.Builder) c[0]).setCollectionName("bad").build()));
    }
    assertFails(Status.Code.INVALID_ARGUMENT,
        "Format error in JSON body: quantization_config.product.compression: unknown variant `9`, expected one of `x4`, `x8`, `x16`, `x32`, `x64`",
        () -> grpc.create(CreateCollection.newBuilder().setCollectionName("bad").setQuantizationConfig(QuantizationConfig.newBuilder()
            .setProduct(ProductQuantization.newBuilder().setCompressionValue(9))).build()));
    assertFails(Status.Code.INVALID_ARGUMENT,
        node.send("PUT", "/collections/bad?timeout=0", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}").error(),
        () -> grpc.create(vectors(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot)).setCollectionName("bad")
            .setTimeout(0).build()));
    assertEquals(404, node.get("/collections/bad").status(), "nothing was created");

    ok(node.send("PUT", "/collections/upd", "{\"vectors\": {\"a\": {\"size\": 2, \"distance\": \"Dot\"}}}"));
    assertFails(Status.Code.INVALID_ARGUMENT, node.send("PATCH", "/collections/upd", "{\"vectors\": {\"zzz\": {\"on_disk\": true}}}").error(),
        () -> grpc.update(UpdateCollection.newBuilder().setCollectionName("upd").setVectorsConfig(VectorsConfigDiff.newBuilder()
            .setParamsMap(VectorParamsDiffMap.newBuilder().putMap("zzz", VectorParamsDiff.newBuilder().setOnDisk(true).build()))).build()));
    assertFails(Status.Code.INVALID_ARGUMENT, node.send("PATCH", "/collections/upd", "{\"params\": {\"replication_factor\": 0}}").error(),
        () -> grpc.update(UpdateCollection.newBuilder().setCollectionName("upd")
            .setParams(CollectionParamsDiff.newBuilder().setReplicationFactor(0)).build()));
  }

  @Test
  void missingCollectionIsNotFound() throws Exception {
    assertFails(Status.Code.NOT_FOUND, node.get("/collections/nope").error(),
        () -> grpc.get(GetCollectionInfoRequest.newBuilder().setCollectionName("nope").build()));
    assertFails(Status.Code.NOT_FOUND, node.send("PATCH", "/collections/nope", "{\"hnsw_config\": {\"m\": 4}}").error(),
        () -> grpc.update(UpdateCollection.newBuilder().setCollectionName("nope").setHnswConfig(HnswConfigDiff.newBuilder().setM(4)).build()));
    assertFails(Status.Code.NOT_FOUND, node.get("/collections/nope/aliases").error(),
        () -> grpc.listCollectionAliases(ListCollectionAliasesRequest.newBuilder().setCollectionName("nope").build()));
  }

  @Test
  void createUnderTheWriteLockIsFailedPreconditionWhileDeleteWorks() throws Exception {
    ok(node.send("PUT", "/collections/doomed", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}"));
    try {
      assertFails(Status.Code.FAILED_PRECONDITION, "Storage locked: backup", () -> grpc.create(
          vectors(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot)).setCollectionName("locked").build()));
      assertTrue(grpc.update(UpdateCollection.newBuilder().setCollectionName("doomed")
          .setHnswConfig(HnswConfigDiff.newBuilder().setM(8)).build()).getResult(), "an update is administration, not locked");
      assertTrue(grpc.delete(DeleteCollection.newBuilder().setCollectionName("doomed").build()).getResult());
    } finally {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
    assertEquals(404, node.get("/collections/doomed").status());
    assertEquals(404, node.get("/collections/locked").status());
  }

  @Test
  void listExistsAliasesAndDelete() throws Exception {
    ok(node.send("PUT", "/collections/base", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    var names = grpc.list(ListCollectionsRequest.getDefaultInstance()).getCollectionsList().stream().map(c -> c.getName()).toList();
    assertTrue(names.contains("base"), names.toString());
    assertTrue(grpc.collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("base").build()).getResult().getExists());
    assertFalse(grpc.collectionExists(CollectionExistsRequest.newBuilder().setCollectionName("nope").build()).getResult().getExists());

    assertTrue(grpc.updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations.newBuilder()
        .setCreateAlias(CreateAlias.newBuilder().setCollectionName("base").setAliasName("al"))).build()).getResult());
    assertTrue(grpc.updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations.newBuilder()
        .setRenameAlias(RenameAlias.newBuilder().setOldAliasName("al").setNewAliasName("al2"))).build()).getResult());
    var aliases = grpc.listCollectionAliases(ListCollectionAliasesRequest.newBuilder().setCollectionName("base").build());
    assertEquals(1, aliases.getAliasesCount());
    assertEquals("al2", aliases.getAliases(0).getAliasName());
    assertTrue(grpc.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
        .anyMatch(a -> a.getAliasName().equals("al2") && a.getCollectionName().equals("base")));
    assertEquals("base", node.get("/collections/base/aliases").result().get("aliases").get(0).get("collection_name").asText());
    assertTrue(grpc.updateAliases(ChangeAliases.newBuilder().addActions(AliasOperations.newBuilder()
        .setDeleteAlias(DeleteAlias.newBuilder().setAliasName("al2"))).build()).getResult());
    assertEquals(0, node.get("/collections/base/aliases").result().get("aliases").size());

    assertTrue(grpc.delete(DeleteCollection.newBuilder().setCollectionName("base").setTimeout(5).build()).getResult());
    assertEquals(404, node.get("/collections/base").status());
  }

  /** A read-only key reads; creating, and the refused cluster operations, are manage access: PERMISSION_DENIED first. */
  @Test
  void readOnlyKeyMayReadButNotManage(@TempDir Path other) throws Exception {
    try (var secured = TestNode.start(other.resolve("storage"),
        java.util.Map.of("QDRANT__SERVICE__API_KEY", "full-secret", "QDRANT__SERVICE__READ_ONLY_API_KEY", "read-secret"))) {
      ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", secured.deployment.grpc().actualPort()).usePlaintext().build();
      try {
        var full = CollectionsGrpc.newBlockingStub(ch).withInterceptors(key("full-secret"));
        var readOnly = CollectionsGrpc.newBlockingStub(ch).withInterceptors(key("read-secret"));
        assertTrue(full.create(vectors(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot)).setCollectionName("k").build())
            .getResult());
        assertEquals(2, readOnly.get(GetCollectionInfoRequest.newBuilder().setCollectionName("k").build()).getResult()
            .getConfig().getParams().getVectorsConfig().getParams().getSize());
        String denied = "Forbidden: Global manage access is required";
        assertFails(Status.Code.PERMISSION_DENIED, denied, () -> readOnly.create(
            vectors(VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot)).setCollectionName("k2").build()));
        assertFails(Status.Code.PERMISSION_DENIED, denied, () -> readOnly.updateCollectionClusterSetup(
            UpdateCollectionClusterSetupRequest.newBuilder().setCollectionName("k")
                .setMoveShard(MoveShard.newBuilder().setShardId(0).setFromPeerId(1).setToPeerId(2)).build()));
        assertFails(Status.Code.PERMISSION_DENIED, denied, () -> readOnly.createShardKey(CreateShardKeyRequest.newBuilder()
            .setCollectionName("k").setRequest(CreateShardKey.newBuilder().setShardKey(ShardKey.newBuilder().setKeyword("x"))).build()));
        assertFails(Status.Code.INVALID_ARGUMENT, "Bad request: Distributed mode disabled", () -> full.updateCollectionClusterSetup(
            UpdateCollectionClusterSetupRequest.newBuilder().setCollectionName("k")
                .setMoveShard(MoveShard.newBuilder().setShardId(0).setFromPeerId(1).setToPeerId(2)).build()));
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  // ---- helpers ----

  static io.grpc.ClientInterceptor key(String apiKey) {
    var headers = new io.grpc.Metadata();
    headers.put(io.grpc.Metadata.Key.of("api-key", io.grpc.Metadata.ASCII_STRING_MARSHALLER), apiKey);
    return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  /** Get over gRPC says what REST's info shows; retried should the segments change between the two reads. */
  static CollectionInfo assertGetSaysRest(String name) throws Exception {
    for (int attempt = 0; ; attempt++) {
      JsonNode before = node.get("/collections/" + name).result();
      CollectionInfo info = grpc.get(GetCollectionInfoRequest.newBuilder().setCollectionName(name).build()).getResult();
      JsonNode after = node.get("/collections/" + name).result();
      if (!before.equals(after) && attempt < 5) {
        continue;
      }
      ObjectNode rest = after.deepCopy();
      assertEquals("ok", rest.remove("optimizer_status").asText());
      assertTrue(info.getOptimizerStatus().getOk());
      rest.remove("size_on_disk_bytes"); // Quiver's own figure, not in Qdrant's message
      ProtoSaysJson.assertSays(rest, info.toBuilder().clearOptimizerStatus().build(), name + ": ");
      return info;
    }
  }

  static void assertSameConfig(String grpcMade, String restMade) throws Exception {
    assertEquals(node.get("/collections/" + restMade).result().get("config"), node.get("/collections/" + grpcMade).result().get("config"));
  }

  static CreateCollection.Builder vectors(VectorParams.Builder params) {
    return CreateCollection.newBuilder().setVectorsConfig(VectorsConfig.newBuilder().setParams(params));
  }

  /** Sets a Qdrant 1.15.5 varint field that the 1.15.0 classes lack, as a newer client sends it. */
  static <B extends Message.Builder> B newer(B builder, int field, long value) {
    builder.mergeUnknownFields(UnknownFieldSet.newBuilder()
        .addField(field, UnknownFieldSet.Field.newBuilder().addVarint(value).build()).build());
    return builder;
  }

  /** Sets a {@code map<string, Value>} field the 1.15.0 classes lack: a Struct's field 1 has the same wire form. */
  static void metadata(Message.Builder builder, int field, JsonNode object) throws InvalidProtocolBufferException {
    var entries = UnknownFieldSet.parseFrom(Values.struct(object).toByteString()).getField(1);
    builder.mergeUnknownFields(UnknownFieldSet.newBuilder().addField(field, entries).build());
  }

  static JsonNode json(String text) throws Exception {
    return Json.MAPPER.readTree(text);
  }

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  static void assertFails(Status.Code code, String message, Executable call) {
    var e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertEquals(message, e.getStatus().getDescription());
  }
}
