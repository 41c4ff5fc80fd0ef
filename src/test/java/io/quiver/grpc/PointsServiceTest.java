package io.quiver.grpc;

import static io.quiver.grpc.SameAnswers.assertGroups;
import static io.quiver.grpc.SameAnswers.assertRecord;
import static io.quiver.grpc.SameAnswers.assertRecords;
import static io.quiver.grpc.SameAnswers.assertScored;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.Collections;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.Points.Condition;
import io.qdrant.client.grpc.Points.FieldCondition;
import io.qdrant.client.grpc.Points.Filter;
import io.qdrant.client.grpc.Points.Match;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.PointsSelector;
import io.qdrant.client.grpc.Points.VectorInput;
import io.qdrant.client.grpc.Points.WithPayloadSelector;
import io.qdrant.client.grpc.Points.WithVectorsSelector;
import io.qdrant.client.grpc.PointsGrpc;
import io.quiver.json.Json;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qdrant.Points} against a node in this JVM, through the generated blocking stub: every RPC
 * on a collection of named dense, sparse and multi vectors with payloads, and, for the reads, the
 * gRPC answer against REST's for the same request (ids, versions, bit-exact scores, payloads,
 * vectors). Errors carry REST's words with Qdrant's status codes; the write lock holds for gRPC.
 */
@Timeout(60)
class PointsServiceTest {
  private static final String C = "g";
  private static final String[] CITIES = {"Berlin", "London", "Paris"};
  private static final String UUID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26";

  @TempDir static Path dir;
  static TestNode node;
  static ManagedChannel channel;
  static PointsGrpc.PointsBlockingStub points;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.deployment.grpc().actualPort()).usePlaintext().build();
    points = PointsGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    createCollection(C);
    rest("PUT", "/collections/lk", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
    rest("PUT", "/collections/lk/points?wait=true", """
        {"points": [{"id": 1, "vector": [1, 0], "payload": {"team": "red"}}, {"id": 2, "vector": [0, 1], "payload": {"team": "blue"}}]}""");
    var upserted = points.upsert(Points.UpsertPoints.newBuilder().setCollectionName(C).setWait(true).addAllPoints(samplePoints()).build());
    assertEquals(Points.UpdateStatus.Completed, upserted.getResult().getStatus());
    var keyword = points.createFieldIndex(Points.CreateFieldIndexCollection.newBuilder().setCollectionName(C).setWait(true)
        .setFieldName("city").setFieldType(Points.FieldType.FieldTypeKeyword).build());
    assertEquals(Points.UpdateStatus.Completed, keyword.getResult().getStatus());
    points.createFieldIndex(Points.CreateFieldIndexCollection.newBuilder().setCollectionName(C).setWait(true).setFieldName("n")
        .setFieldType(Points.FieldType.FieldTypeInteger).setFieldIndexParams(Collections.PayloadIndexParams.newBuilder()
            .setIntegerIndexParams(Collections.IntegerIndexParams.newBuilder().setLookup(true).setRange(true))).build());
    points.createFieldIndex(Points.CreateFieldIndexCollection.newBuilder().setCollectionName(C).setWait(true).setFieldName("team")
        .setFieldType(Points.FieldType.FieldTypeInteger).build());
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    node.close();
  }

  @BeforeEach
  void unlocked() throws Exception {
    rest("POST", "/locks", "{\"write\": false}");
  }

  // ---- the data ----

  private static void createCollection(String name) throws Exception {
    rest("DELETE", "/collections/" + name, null);
    rest("PUT", "/collections/" + name, """
        {"vectors": {"d": {"size": 4, "distance": "Cosine"}, "img": {"size": 3, "distance": "Euclid"},
                     "colbert": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
         "sparse_vectors": {"text": {}}}""");
  }

  /** Eight points with all four vectors and a payload, the last one with a UUID. */
  private static List<Points.PointStruct> samplePoints() {
    List<Points.PointStruct> out = new ArrayList<>();
    for (int i = 1; i <= 8; i++) {
      var vectors = Points.NamedVectors.newBuilder()
          .putVectors("d", dense(i * 0.25f, 1 - i * 0.1f, (i % 3) * 0.5f, 0.125f * i))
          .putVectors("img", dense(i, -i * 0.5f, 2))
          .putVectors("colbert", Points.Vector.newBuilder().setMultiDense(Points.MultiDenseVector.newBuilder()
              .addVectors(Points.DenseVector.newBuilder().addData(i).addData(1))
              .addVectors(Points.DenseVector.newBuilder().addData(0.5f).addData(-i))).build())
          .putVectors("text", Points.Vector.newBuilder().setSparse(Points.SparseVector.newBuilder()
              .addIndices(i % 4).addValues(1.5f).addIndices(7).addValues(i * 0.25f)).build());
      out.add(Points.PointStruct.newBuilder().setId(i == 8 ? uuid(UUID) : id(i))
          .setVectors(Points.Vectors.newBuilder().setVectors(vectors))
          .putPayload("city", str(CITIES[i % 3]))
          .putPayload("n", JsonWithInt.Value.newBuilder().setIntegerValue(i).build())
          .putPayload("price", JsonWithInt.Value.newBuilder().setDoubleValue(i * 1.5).build())
          .putPayload("team", JsonWithInt.Value.newBuilder().setIntegerValue(i % 2 + 1).build())
          .putPayload("tags", JsonWithInt.Value.newBuilder().setListValue(JsonWithInt.ListValue.newBuilder()
              .addValues(str("t" + i % 2)).addValues(str("all"))).build())
          .build());
    }
    return out;
  }

  // ---- writes ----

  @Test
  void writesTakeRestsWay() throws Exception {
    createCollection("w");
    var up = points.upsert(Points.UpsertPoints.newBuilder().setCollectionName("w").setWait(true).addAllPoints(samplePoints().subList(0, 4))
        .build());
    assertEquals(Points.UpdateStatus.Completed, up.getResult().getStatus());
    assertTrue(up.getResult().hasOperationId());
    assertTrue(up.hasUsage());
    assertEquals(4, restResult("POST", "/collections/w/points/count", "{}").get("count").asInt());

    points.updateVectors(Points.UpdatePointVectors.newBuilder().setCollectionName("w").setWait(true).addPoints(Points.PointVectors.newBuilder()
        .setId(id(1)).setVectors(Points.Vectors.newBuilder().setVectors(Points.NamedVectors.newBuilder().putVectors("img", dense(9, 9, 9)))))
        .build());
    assertEquals("[9.0,9.0,9.0]", record("w", 1).at("/vector/img").toString());

    points.deleteVectors(Points.DeletePointVectors.newBuilder().setCollectionName("w").setWait(true).setPointsSelector(ids(1))
        .setVectors(Points.VectorsSelector.newBuilder().addNames("colbert")).build());
    assertTrue(record("w", 1).at("/vector/colbert").isMissingNode());

    points.setPayload(Points.SetPayloadPoints.newBuilder().setCollectionName("w").setWait(true).setPointsSelector(ids(1, 2))
        .putPayload("zip", str("10115")).setKey("address").build());
    assertEquals("10115", record("w", 2).at("/payload/address/zip").asText());

    points.overwritePayload(Points.SetPayloadPoints.newBuilder().setCollectionName("w").setWait(true)
        .setPointsSelector(PointsSelector.newBuilder().setFilter(cityIs("London"))).putPayload("only", str("this")).build());
    assertEquals("{\"only\":\"this\"}", record("w", 1).get("payload").toString());

    points.deletePayload(Points.DeletePayloadPoints.newBuilder().setCollectionName("w").setWait(true).setPointsSelector(ids(2))
        .addKeys("address").addKeys("tags").build());
    JsonNode two = record("w", 2).get("payload");
    assertFalse(two.has("address") || two.has("tags"));
    assertTrue(two.has("city"));

    points.clearPayload(Points.ClearPayloadPoints.newBuilder().setCollectionName("w").setWait(true).setPoints(ids(2)).build());
    assertEquals("{}", record("w", 2).get("payload").toString());

    var deleted = points.delete(Points.DeletePoints.newBuilder().setCollectionName("w").setWait(true).setPoints(ids(3)).build());
    assertEquals(Points.UpdateStatus.Completed, deleted.getResult().getStatus());
    assertEquals(3, restResult("POST", "/collections/w/points/count", "{}").get("count").asInt());

    var batch = points.updateBatch(Points.UpdateBatchPoints.newBuilder().setCollectionName("w").setWait(true)
        .addOperations(Points.PointsUpdateOperation.newBuilder().setUpsert(Points.PointsUpdateOperation.PointStructList.newBuilder()
            .addPoints(samplePoints().get(5))))
        .addOperations(Points.PointsUpdateOperation.newBuilder().setSetPayload(Points.PointsUpdateOperation.SetPayload.newBuilder()
            .setPointsSelector(ids(6)).putPayload("fresh", JsonWithInt.Value.newBuilder().setBoolValue(true).build())))
        .addOperations(Points.PointsUpdateOperation.newBuilder().setDeletePoints(Points.PointsUpdateOperation.DeletePoints.newBuilder()
            .setPoints(ids(4))))
        .build());
    assertEquals(3, batch.getResultCount());
    batch.getResultList().forEach(r -> assertEquals(Points.UpdateStatus.Completed, r.getStatus()));
    assertTrue(record("w", 6).at("/payload/fresh").asBoolean());
    assertEquals(404, rest("GET", "/collections/w/points/4", null).status());

    var index = points.createFieldIndex(Points.CreateFieldIndexCollection.newBuilder().setCollectionName("w").setWait(true)
        .setFieldName("city").setFieldType(Points.FieldType.FieldTypeText).setFieldIndexParams(Collections.PayloadIndexParams.newBuilder()
            .setTextIndexParams(Collections.TextIndexParams.newBuilder().setTokenizer(Collections.TokenizerType.Word).setLowercase(true)
                .setPhraseMatching(true)))
        .build());
    assertEquals(Points.UpdateStatus.Completed, index.getResult().getStatus());
    JsonNode schema = restResult("GET", "/collections/w", null).at("/payload_schema/city");
    assertEquals("text", schema.get("data_type").asText());
    assertEquals("word", schema.at("/params/tokenizer").asText());
    assertTrue(schema.at("/params/phrase_matching").asBoolean());
    points.deleteFieldIndex(Points.DeleteFieldIndexCollection.newBuilder().setCollectionName("w").setWait(true).setFieldName("city").build());
    assertTrue(restResult("GET", "/collections/w", null).at("/payload_schema/city").isMissingNode());
    rest("DELETE", "/collections/w", null);
  }

  @Test
  void aWriteUnderTheLockIsRefusedAndChangesNothingWhileReadsAndDeletesGoOn() throws Exception {
    createCollection("locked");
    points.upsert(Points.UpsertPoints.newBuilder().setCollectionName("locked").setWait(true).addAllPoints(samplePoints()).build());
    assertEquals(200, rest("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}").status());
    var e = assertThrows(StatusRuntimeException.class, () -> points.upsert(Points.UpsertPoints.newBuilder().setCollectionName("locked")
        .setWait(true).addPoints(Points.PointStruct.newBuilder().setId(id(99)).setVectors(Points.Vectors.newBuilder()
            .setVectors(Points.NamedVectors.newBuilder().putVectors("img", dense(1, 2, 3))))).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertEquals("Storage locked: backup", e.getStatus().getDescription());
    assertEquals(404, rest("GET", "/collections/locked/points/99", null).status());

    var found = points.search(Points.SearchPoints.newBuilder().setCollectionName("locked").setVectorName("img").addAllVector(floats(1, 0, 0))
        .setLimit(3).build());
    assertEquals(3, found.getResultCount());
    var deleted = points.delete(Points.DeletePoints.newBuilder().setCollectionName("locked").setWait(true).setPoints(ids(1, 2)).build());
    assertEquals(Points.UpdateStatus.Completed, deleted.getResult().getStatus());
    assertEquals(6, points.count(Points.CountPoints.newBuilder().setCollectionName("locked").build()).getResult().getCount());
    rest("POST", "/locks", "{\"write\": false}");
    rest("DELETE", "/collections/locked", null);
  }

  // ---- reads, each against REST's answer ----

  @Test
  void getAndScrollAnswerAsRest() throws Exception {
    var got = points.get(Points.GetPoints.newBuilder().setCollectionName(C).addIds(id(2)).addIds(uuid(UUID)).addIds(id(404))
        .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).setWithVectors(WithVectorsSelector.newBuilder().setEnable(true))
        .build());
    JsonNode rest = restResult("POST", "/collections/g/points", "{\"ids\": [2, \"" + UUID + "\", 404], \"with_payload\": true, \"with_vector\": true}");
    assertEquals(2, got.getResultCount());
    for (int i = 0; i < rest.size(); i++) {
      assertRecord(rest.get(i), got.getResult(i).getId(), got.getResult(i).getPayloadMap(), got.getResult(i).getVectors());
    }
    var d = got.getResult(0).getVectors().getVectors().getVectorsOrThrow("d");
    // Qdrant 1.15's form: data (+ indices for sparse, + vectors_count for multi), no variant set
    assertEquals(4, d.getDataCount());
    assertEquals(Points.VectorOutput.VectorCase.VECTOR_NOT_SET, d.getVectorCase());
    var colbert = got.getResult(0).getVectors().getVectors().getVectorsOrThrow("colbert");
    assertEquals(2, colbert.getVectorsCount());
    var text = got.getResult(0).getVectors().getVectors().getVectorsOrThrow("text");
    assertEquals(List.of(2, 7), text.getIndices().getDataList());

    var scroll = points.scroll(Points.ScrollPoints.newBuilder().setCollectionName(C).setLimit(3).setFilter(Filter.newBuilder()
        .addMustNot(cityCondition("Paris"))).setWithVectors(WithVectorsSelector.newBuilder().setInclude(Points.VectorsSelector.newBuilder()
            .addNames("img"))).build());
    JsonNode restScroll = restResult("POST", "/collections/g/points/scroll",
        "{\"limit\": 3, \"filter\": {\"must_not\": [{\"key\": \"city\", \"match\": {\"value\": \"Paris\"}}]}, \"with_vector\": [\"img\"]}");
    assertRecords(restScroll.get("points"), scroll.getResultList());
    assertEquals(restScroll.get("next_page_offset").asLong(), scroll.getNextPageOffset().getNum());

    var ordered = points.scroll(Points.ScrollPoints.newBuilder().setCollectionName(C).setLimit(4).setOrderBy(Points.OrderBy.newBuilder()
        .setKey("n").setDirection(Points.Direction.Desc).setStartFrom(Points.StartFrom.newBuilder().setInteger(6))).build());
    JsonNode restOrdered = restResult("POST", "/collections/g/points/scroll",
        "{\"limit\": 4, \"order_by\": {\"key\": \"n\", \"direction\": \"desc\", \"start_from\": 6}}");
    assertRecords(restOrdered.get("points"), ordered.getResultList());
    assertEquals(List.of(6L, 5L, 4L, 3L), ordered.getResultList().stream().map(p -> p.getOrderValue().getInt()).toList());
    assertFalse(ordered.hasNextPageOffset());
  }

  @Test
  void countFacetAndMatrixAnswerAsRest() throws Exception {
    var count = points.count(Points.CountPoints.newBuilder().setCollectionName(C).setFilter(Filter.newBuilder()
        .addShould(cityCondition("Berlin")).addShould(cityCondition("London"))).build());
    JsonNode restCount = restResult("POST", "/collections/g/points/count",
        "{\"filter\": {\"should\": [{\"key\": \"city\", \"match\": {\"value\": \"Berlin\"}}, {\"key\": \"city\", \"match\": {\"value\": \"London\"}}]}}");
    assertEquals(restCount.get("count").asLong(), count.getResult().getCount());
    assertEquals(5, count.getResult().getCount());

    var facet = points.facet(Points.FacetCounts.newBuilder().setCollectionName(C).setKey("city").setExact(true).build());
    JsonNode restFacet = restResult("POST", "/collections/g/facet", "{\"key\": \"city\", \"exact\": true}");
    assertEquals(restFacet.get("hits").size(), facet.getHitsCount());
    for (int i = 0; i < facet.getHitsCount(); i++) {
      assertEquals(restFacet.get("hits").get(i).get("value").asText(), facet.getHits(i).getValue().getStringValue());
      assertEquals(restFacet.get("hits").get(i).get("count").asLong(), facet.getHits(i).getCount());
    }
    var teams = points.facet(Points.FacetCounts.newBuilder().setCollectionName(C).setKey("team").build());
    assertEquals(2, teams.getHitsCount());
    assertTrue(teams.getHits(0).getValue().hasIntegerValue());

    var pairs = points.searchMatrixPairs(Points.SearchMatrixPoints.newBuilder().setCollectionName(C).setUsing("img").setSample(8).setLimit(2)
        .build());
    assertEquals(16, pairs.getResult().getPairsCount());
    JsonNode restPairs = restResult("POST", "/collections/g/points/search/matrix/pairs", "{\"using\": \"img\", \"sample\": 8, \"limit\": 2}");
    assertEquals(restPairs.get("pairs").size(), pairs.getResult().getPairsCount());
    var offsets = points.searchMatrixOffsets(Points.SearchMatrixPoints.newBuilder().setCollectionName(C).setUsing("d").setSample(4).build());
    assertEquals(4, offsets.getResult().getIdsCount());
    assertEquals(12, offsets.getResult().getScoresCount());
    assertEquals(offsets.getResult().getOffsetsRowCount(), offsets.getResult().getOffsetsColCount());
  }

  // ---- searches, each against REST's answer ----

  @Test
  void legacySearchesAnswerAsRest() throws Exception {
    var search = points.search(Points.SearchPoints.newBuilder().setCollectionName(C).setVectorName("d").addAllVector(floats(0.5f, 0.25f, 1, 0))
        .setLimit(4).setOffset(1).setFilter(Filter.newBuilder().addMustNot(cityCondition("London")))
        .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).build());
    assertScored(restResult("POST", "/collections/g/points/search", """
        {"vector": {"name": "d", "vector": [0.5, 0.25, 1, 0]}, "limit": 4, "offset": 1,
         "filter": {"must_not": {"key": "city", "match": {"value": "London"}}}, "with_payload": true}"""), search.getResultList());
    assertEquals(4, search.getResultCount());

    var sparse = points.search(Points.SearchPoints.newBuilder().setCollectionName(C).setVectorName("text").addAllVector(floats(1, 2))
        .setSparseIndices(Points.SparseIndices.newBuilder().addData(7).addData(1)).setLimit(3)
        .setWithVectors(WithVectorsSelector.newBuilder().setEnable(true)).build());
    assertScored(restResult("POST", "/collections/g/points/search", """
        {"vector": {"name": "text", "vector": {"indices": [7, 1], "values": [1, 2]}}, "limit": 3, "with_vector": true}"""),
        sparse.getResultList());

    var batch = points.searchBatch(Points.SearchBatchPoints.newBuilder().setCollectionName(C)
        .addSearchPoints(Points.SearchPoints.newBuilder().setVectorName("img").addAllVector(floats(1, 1, 1)).setLimit(2))
        .addSearchPoints(Points.SearchPoints.newBuilder().setVectorName("img").addAllVector(floats(8, -4, 2)).setLimit(3)
            .setScoreThreshold(-5f))
        .build());
    JsonNode restBatch = restResult("POST", "/collections/g/points/search/batch", """
        {"searches": [{"vector": {"name": "img", "vector": [1, 1, 1]}, "limit": 2},
                      {"vector": {"name": "img", "vector": [8, -4, 2]}, "limit": 3, "score_threshold": -5}]}""");
    assertEquals(2, batch.getResultCount());
    assertScored(restBatch.get(0), batch.getResult(0).getResultList());
    assertScored(restBatch.get(1), batch.getResult(1).getResultList());

    var recommend = points.recommend(Points.RecommendPoints.newBuilder().setCollectionName(C).setUsing("d").addPositive(id(1))
        .addPositiveVectors(dense(0, 1, 0, 0)).addNegative(id(2)).setStrategy(Points.RecommendStrategy.BestScore).setLimit(3)
        .setWithPayload(WithPayloadSelector.newBuilder().setInclude(Points.PayloadIncludeSelector.newBuilder().addFields("city"))).build());
    assertScored(restResult("POST", "/collections/g/points/recommend", """
        {"using": "d", "positive": [1, [0, 1, 0, 0]], "negative": [2], "strategy": "best_score", "limit": 3,
         "with_payload": ["city"]}"""), recommend.getResultList());

    var recommendBatch = points.recommendBatch(Points.RecommendBatchPoints.newBuilder().setCollectionName(C)
        .addRecommendPoints(Points.RecommendPoints.newBuilder().setUsing("img").addPositive(id(3)).setLimit(2))
        .addRecommendPoints(Points.RecommendPoints.newBuilder().setUsing("img").addPositive(id(4)).addNegative(id(5)).setLimit(2)
            .setLookupFrom(Points.LookupLocation.newBuilder().setCollectionName(C)))
        .build());
    JsonNode restRecommendBatch = restResult("POST", "/collections/g/points/recommend/batch", """
        {"searches": [{"using": "img", "positive": [3], "limit": 2},
                      {"using": "img", "positive": [4], "negative": [5], "limit": 2, "lookup_from": {"collection": "g"}}]}""");
    assertScored(restRecommendBatch.get(0), recommendBatch.getResult(0).getResultList());
    assertScored(restRecommendBatch.get(1), recommendBatch.getResult(1).getResultList());

    var discover = points.discover(Points.DiscoverPoints.newBuilder().setCollectionName(C).setUsing("d")
        .setTarget(Points.TargetVector.newBuilder().setSingle(Points.VectorExample.newBuilder().setId(id(3))))
        .addContext(Points.ContextExamplePair.newBuilder().setPositive(Points.VectorExample.newBuilder().setId(id(1)))
            .setNegative(Points.VectorExample.newBuilder().setVector(dense(0, 0, 1, 1))))
        .setLimit(4).setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).build());
    assertScored(restResult("POST", "/collections/g/points/discover", """
        {"using": "d", "target": 3, "context": [{"positive": 1, "negative": [0, 0, 1, 1]}], "limit": 4, "with_payload": true}"""),
        discover.getResultList());

    var discoverBatch = points.discoverBatch(Points.DiscoverBatchPoints.newBuilder().setCollectionName(C)
        .addDiscoverPoints(Points.DiscoverPoints.newBuilder().setUsing("img").addContext(Points.ContextExamplePair.newBuilder()
            .setPositive(Points.VectorExample.newBuilder().setId(id(5))).setNegative(Points.VectorExample.newBuilder().setId(id(6))))
            .setLimit(3))
        .build());
    assertScored(restResult("POST", "/collections/g/points/discover/batch", """
        {"searches": [{"using": "img", "context": [{"positive": 5, "negative": 6}], "limit": 3}]}""").get(0),
        discoverBatch.getResult(0).getResultList());
  }

  @Test
  void universalQueriesAnswerAsRest() throws Exception {
    var fused = points.query(Points.QueryPoints.newBuilder().setCollectionName(C)
        .addPrefetch(Points.PrefetchQuery.newBuilder().setUsing("d").setLimit(5).setQuery(Points.Query.newBuilder()
            .setNearest(VectorInput.newBuilder().setDense(Points.DenseVector.newBuilder().addAllData(floats(1, 0, 0.5f, 0))))))
        .addPrefetch(Points.PrefetchQuery.newBuilder().setUsing("text").setLimit(5).setQuery(Points.Query.newBuilder()
            .setNearest(VectorInput.newBuilder().setSparse(Points.SparseVector.newBuilder().addIndices(3).addValues(1).addIndices(7)
                .addValues(0.5f)))))
        .setQuery(Points.Query.newBuilder().setFusion(Points.Fusion.RRF)).setLimit(4)
        .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).build());
    assertScored(restResult("POST", "/collections/g/points/query", """
        {"prefetch": [{"using": "d", "limit": 5, "query": [1, 0, 0.5, 0]},
                      {"using": "text", "limit": 5, "query": {"indices": [3, 7], "values": [1, 0.5]}}],
         "query": {"fusion": "rrf"}, "limit": 4, "with_payload": true}""").get("points"), fused.getResultList());
    assertEquals(4, fused.getResultCount());

    var multi = points.query(Points.QueryPoints.newBuilder().setCollectionName(C).setUsing("colbert")
        .setQuery(Points.Query.newBuilder().setNearest(VectorInput.newBuilder().setMultiDense(Points.MultiDenseVector.newBuilder()
            .addVectors(Points.DenseVector.newBuilder().addData(1).addData(0)).addVectors(Points.DenseVector.newBuilder().addData(0)
                .addData(1)))))
        .setFilter(Filter.newBuilder().addMust(Condition.newBuilder().setField(FieldCondition.newBuilder().setKey("price")
            .setRange(Points.Range.newBuilder().setGte(3))))).setLimit(3).build());
    assertScored(restResult("POST", "/collections/g/points/query", """
        {"using": "colbert", "query": [[1, 0], [0, 1]], "filter": {"must": {"key": "price", "range": {"gte": 3}}}, "limit": 3}""")
        .get("points"), multi.getResultList());

    var formula = points.query(Points.QueryPoints.newBuilder().setCollectionName(C)
        .addPrefetch(Points.PrefetchQuery.newBuilder().setUsing("img").setLimit(6).setQuery(Points.Query.newBuilder()
            .setNearest(VectorInput.newBuilder().setId(id(2)))))
        .setQuery(Points.Query.newBuilder().setFormula(Points.Formula.newBuilder().setExpression(Points.Expression.newBuilder()
            .setSum(Points.SumExpression.newBuilder().addSum(Points.Expression.newBuilder().setVariable("$score"))
                .addSum(Points.Expression.newBuilder().setMult(Points.MultExpression.newBuilder()
                    .addMult(Points.Expression.newBuilder().setConstant(0.5f))
                    .addMult(Points.Expression.newBuilder().setVariable("price"))))
                .addSum(Points.Expression.newBuilder().setCondition(cityCondition("Paris")))))))
        .setLimit(3).build());
    assertScored(restResult("POST", "/collections/g/points/query", """
        {"prefetch": {"using": "img", "limit": 6, "query": 2},
         "query": {"formula": {"sum": ["$score", {"mult": [0.5, "price"]}, {"key": "city", "match": {"value": "Paris"}}]}},
         "limit": 3}""").get("points"), formula.getResultList());

    var ordered = points.query(Points.QueryPoints.newBuilder().setCollectionName(C).setQuery(Points.Query.newBuilder()
        .setOrderBy(Points.OrderBy.newBuilder().setKey("n"))).setLimit(3).build());
    assertEquals(List.of(1L, 2L, 3L), ordered.getResultList().stream().map(p -> p.getOrderValue().getInt()).toList());

    var batch = points.queryBatch(Points.QueryBatchPoints.newBuilder().setCollectionName(C)
        .addQueryPoints(Points.QueryPoints.newBuilder().setUsing("img").setQuery(Points.Query.newBuilder().setRecommend(
            Points.RecommendInput.newBuilder().addPositive(VectorInput.newBuilder().setId(id(1))).addNegative(VectorInput.newBuilder()
                .setDense(Points.DenseVector.newBuilder().addAllData(floats(0, 0, 5)))))).setLimit(2))
        .addQueryPoints(Points.QueryPoints.newBuilder().setUsing("d").setQuery(Points.Query.newBuilder().setNearestWithMmr(
            Points.NearestInputWithMmr.newBuilder().setNearest(VectorInput.newBuilder().setId(id(4)))
                .setMmr(Points.Mmr.newBuilder().setDiversity(0.5f).setCandidatesLimit(6)))).setLimit(3))
        .build());
    JsonNode restBatch = restResult("POST", "/collections/g/points/query/batch", """
        {"searches": [{"using": "img", "query": {"recommend": {"positive": [1], "negative": [[0, 0, 5]]}}, "limit": 2},
                      {"using": "d", "query": {"nearest": 4, "mmr": {"diversity": 0.5, "candidates_limit": 6}}, "limit": 3}]}""");
    assertScored(restBatch.get(0).get("points"), batch.getResult(0).getResultList());
    assertScored(restBatch.get(1).get("points"), batch.getResult(1).getResultList());
  }

  @Test
  void groupsAnswerAsRest() throws Exception {
    var grouped = points.queryGroups(Points.QueryPointGroups.newBuilder().setCollectionName(C).setUsing("d")
        .setQuery(Points.Query.newBuilder().setNearest(VectorInput.newBuilder().setDense(Points.DenseVector.newBuilder()
            .addAllData(floats(1, 1, 0, 0))))).setGroupBy("team").setGroupSize(2).setLimit(3)
        .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).setWithLookup(Points.WithLookup.newBuilder().setCollection("lk"))
        .build());
    JsonNode restGroups = restResult("POST", "/collections/g/points/query/groups", """
        {"using": "d", "query": [1, 1, 0, 0], "group_by": "team", "group_size": 2, "limit": 3, "with_payload": true,
         "with_lookup": "lk"}""").get("groups");
    assertGroups(restGroups, grouped.getResult());
    assertEquals(2, grouped.getResult().getGroupsCount());
    assertEquals("red", grouped.getResult().getGroupsList().stream().filter(g -> g.getId().getUnsignedValue() == 1).findFirst()
        .orElseThrow().getLookup().getPayloadOrThrow("team").getStringValue());

    var search = points.searchGroups(Points.SearchPointGroups.newBuilder().setCollectionName(C).setVectorName("img")
        .addAllVector(floats(2, -1, 2)).setGroupBy("city").setGroupSize(2).setLimit(2).build());
    assertGroups(restResult("POST", "/collections/g/points/search/groups", """
        {"vector": {"name": "img", "vector": [2, -1, 2]}, "group_by": "city", "group_size": 2, "limit": 2}""").get("groups"),
        search.getResult());
    assertEquals(2, search.getResult().getGroupsCount());
    assertTrue(search.getResult().getGroups(0).getId().hasStringValue());

    var recommend = points.recommendGroups(Points.RecommendPointGroups.newBuilder().setCollectionName(C).setUsing("img")
        .addPositive(id(1)).addPositive(id(2)).setGroupBy("team").setGroupSize(3).setLimit(2)
        .setWithLookup(Points.WithLookup.newBuilder().setCollection("lk")).build());
    assertGroups(restResult("POST", "/collections/g/points/recommend/groups", """
        {"using": "img", "positive": [1, 2], "group_by": "team", "group_size": 3, "limit": 2, "with_lookup": {"collection": "lk"}}""")
        .get("groups"), recommend.getResult());
  }

  // ---- errors ----

  @Test
  void badRequestsAreInvalidArgumentsInRestsWords() throws Exception {
    var noLimit = error(() -> points.search(Points.SearchPoints.newBuilder().setCollectionName(C).setVectorName("d")
        .addAllVector(floats(1, 0, 0, 0)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, noLimit.getCode());
    var restNoLimit = rest("POST", "/collections/g/points/search", "{\"vector\": {\"name\": \"d\", \"vector\": [1, 0, 0, 0]}, \"limit\": 0}");
    assertEquals(restNoLimit.error(), noLimit.getDescription());
    assertEquals("Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]", noLimit.getDescription());

    var sparse = error(() -> points.upsert(Points.UpsertPoints.newBuilder().setCollectionName(C).addPoints(Points.PointStruct.newBuilder()
        .setId(id(50)).setVectors(Points.Vectors.newBuilder().setVectors(Points.NamedVectors.newBuilder().putVectors("text",
            Points.Vector.newBuilder().setSparse(Points.SparseVector.newBuilder().addIndices(1).addIndices(1).addValues(1).addValues(2))
                .build())))).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, sparse.getCode());
    assertEquals(rest("PUT", "/collections/g/points", """
        {"points": [{"id": 50, "vector": {"text": {"indices": [1, 1], "values": [1, 2]}}}]}""").error(), sparse.getDescription());

    var dim = error(() -> points.query(Points.QueryPoints.newBuilder().setCollectionName(C).setUsing("d").setQuery(Points.Query.newBuilder()
        .setNearest(VectorInput.newBuilder().setDense(Points.DenseVector.newBuilder().addAllData(floats(1, 2)))))
        .build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, dim.getCode());
    assertEquals(rest("POST", "/collections/g/points/query", "{\"using\": \"d\", \"query\": [1, 2]}").error(), dim.getDescription());

    var mmr = error(() -> points.query(Points.QueryPoints.newBuilder().setCollectionName(C).setUsing("d").setQuery(Points.Query.newBuilder()
        .setNearestWithMmr(Points.NearestInputWithMmr.newBuilder().setNearest(VectorInput.newBuilder().setId(id(1)))
            .setMmr(Points.Mmr.newBuilder().setDiversity(2)))).setLimit(0).build()));
    assertEquals(rest("POST", "/collections/g/points/query", "{\"using\": \"d\", \"query\": {\"nearest\": 1, \"mmr\": {\"diversity\": 2}}, \"limit\": 0}")
        .error(), mmr.getDescription());

    var unnamedSparse = error(() -> points.search(Points.SearchPoints.newBuilder().setCollectionName(C).addAllVector(floats(1))
        .setSparseIndices(Points.SparseIndices.newBuilder().addData(1)).setLimit(1).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, unnamedSparse.getCode());
    assertEquals("Sparse vector must have a name specified", unnamedSparse.getDescription());

    var noSelector = error(() -> points.delete(Points.DeletePoints.newBuilder().setCollectionName(C).build()));
    assertEquals("PointSelector is missing", noSelector.getDescription());

    var badKey = error(() -> points.count(Points.CountPoints.newBuilder().setCollectionName(C).setFilter(Filter.newBuilder()
        .addMust(Condition.newBuilder().setField(FieldCondition.newBuilder().setKey("city")))).build()));
    assertEquals(rest("POST", "/collections/g/points/count", "{\"filter\": {\"must\": [{\"key\": \"city\"}]}}").error(),
        badKey.getDescription());

    var missing = error(() -> points.count(Points.CountPoints.newBuilder().setCollectionName("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getCode());
    assertEquals("Not found: Collection `nope` doesn't exist!", missing.getDescription());
    var missingWrite = error(() -> points.upsert(Points.UpsertPoints.newBuilder().setCollectionName("nope").addAllPoints(samplePoints())
        .build()));
    assertEquals(Status.Code.NOT_FOUND, missingWrite.getCode());
  }

  // ---- helpers ----

  private static Status error(org.junit.jupiter.api.function.Executable call) {
    return assertThrows(StatusRuntimeException.class, call).getStatus();
  }

  @Test
  void hitsAndRecordsCarryTheirShardKeyUnderCustomSharding() throws Exception {
    restResult("PUT", "/collections/keyed", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"sharding_method\": \"custom\"}");
    restResult("PUT", "/collections/keyed/shards", "{\"shard_key\": \"eu\"}");
    restResult("PUT", "/collections/keyed/shards", "{\"shard_key\": 7}");
    restResult("PUT", "/collections/keyed/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 0]}], \"shard_key\": \"eu\"}");
    restResult("PUT", "/collections/keyed/points?wait=true", "{\"points\": [{\"id\": 2, \"vector\": [0, 1]}], \"shard_key\": 7}");
    var hits = points.query(Points.QueryPoints.newBuilder().setCollectionName("keyed").setLimit(5)
        .setQuery(Points.Query.newBuilder().setNearest(VectorInput.newBuilder().setDense(Points.DenseVector.newBuilder()
            .addData(1).addData(1)))).build()).getResultList();
    assertEquals(2, hits.size());
    for (var hit : hits) {
      var expected = hit.getId().getNum() == 1 ? Collections.ShardKey.newBuilder().setKeyword("eu").build()
          : Collections.ShardKey.newBuilder().setNumber(7).build();
      assertEquals(expected, hit.getShardKey(), hit.toString());
    }
    var got = points.get(Points.GetPoints.newBuilder().setCollectionName("keyed")
        .addIds(PointId.newBuilder().setNum(2)).build()).getResultList();
    assertEquals(7, got.get(0).getShardKey().getNumber());
    rest("DELETE", "/collections/keyed", null);
  }

  private static TestNode.Response rest(String method, String path, String body) throws Exception {
    return node.send(method, path, body);
  }

  private static JsonNode restResult(String method, String path, String body) throws Exception {
    var r = node.send(method, path, body);
    assertEquals(200, r.status(), () -> method + " " + path + ": " + r.body());
    return Json.MAPPER.readTree(r.body()).get("result");
  }

  private static JsonNode record(String collection, long id) throws Exception {
    return restResult("GET", "/collections/" + collection + "/points/" + id, null);
  }

  private static PointId id(long n) {
    return PointId.newBuilder().setNum(n).build();
  }

  private static PointId uuid(String u) {
    return PointId.newBuilder().setUuid(u).build();
  }

  private static PointsSelector ids(long... ids) {
    var list = Points.PointsIdsList.newBuilder();
    for (long n : ids) {
      list.addIds(id(n));
    }
    return PointsSelector.newBuilder().setPoints(list).build();
  }

  private static List<Float> floats(float... values) {
    List<Float> out = new ArrayList<>();
    for (float v : values) {
      out.add(v);
    }
    return out;
  }

  private static Points.Vector dense(float... values) {
    return Points.Vector.newBuilder().setDense(Points.DenseVector.newBuilder().addAllData(floats(values))).build();
  }

  private static JsonWithInt.Value str(String s) {
    return JsonWithInt.Value.newBuilder().setStringValue(s).build();
  }

  private static Condition cityCondition(String city) {
    return Condition.newBuilder().setField(FieldCondition.newBuilder().setKey("city").setMatch(Match.newBuilder().setKeyword(city))).build();
  }

  private static Filter cityIs(String city) {
    return Filter.newBuilder().addMust(cityCondition(city)).build();
  }
}
