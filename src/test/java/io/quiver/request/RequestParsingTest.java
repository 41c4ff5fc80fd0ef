package io.quiver.request;

import static io.quiver.request.RequestSamples.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Bm25;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Datetimes;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.Match;
import io.quiver.engine.filter.PayloadType;
import io.quiver.request.QueryOperation.Shape;
import io.quiver.request.RequestSamples.Sample;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every storage operation parses a realistic request, as REST hands it over (collection, body,
 * query and path parameters), into the typed request it stands for; its access class is the
 * operation's, or weaker only for a batch that removes data.
 */
@Timeout(30)
class RequestParsingTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final String UUID_1 = "550e8400-e29b-41d4-a716-446655440000";
  private static final WriteParams NO_WAIT = WriteParams.NO_WAIT;
  private static final WriteParams WAIT = new WriteParams(true, WriteParams.Ordering.WEAK);

  // ---- access ----

  @Test
  void everyOperationParsesItsSampleWithinItsAccessClass() {
    Set<StorageOp> seen = EnumSet.noneOf(StorageOp.class);
    for (Sample s : RequestSamples.all()) {
      Request r = s.parse();
      seen.add(s.op());
      assertTrue(rank(r.access()) <= rank(s.op().access()), s + ": " + r.access() + " exceeds " + s.op().access());
      Access expected = onlyRemoves(r) ? Access.DELETE : s.op().access();
      assertEquals(expected, r.access(), s.toString());
    }
    assertEquals(EnumSet.allOf(StorageOp.class), seen, "operations without a sample");
  }

  @Test
  void aBatchIsADeleteOnlyWhenEveryStepRemoves() {
    List<Sample> batches = RequestSamples.all().stream().filter(s -> s.op() == StorageOp.BATCH_UPDATE).toList();
    assertEquals(Access.WRITE, batches.get(0).parse().access());
    assertEquals(Access.DELETE, batches.get(1).parse().access());
    assertEquals(Access.WRITE, parse(StorageOp.BATCH_UPDATE, "{'operations': [{'delete': {'points': [1]}},"
        + " {'set_payload': {'payload': {'a': 1}, 'points': [1]}}]}").access());
    assertEquals(Access.WRITE, parse(StorageOp.BATCH_UPDATE, "{'operations': []}").access(), "an empty batch stays a write");
    assertEquals(Access.DELETE, parse(StorageOp.DELETE_POINTS, "{'points': [1]}").access());
    assertEquals(Access.DELETE, parse(StorageOp.CLEAR_PAYLOAD, "{'points': [1]}").access());
  }

  /** READ < DELETE < the rest (WRITE, CREATE and ADMIN are not ordered among themselves). */
  private static int rank(Access a) {
    return switch (a) {
      case READ -> 0;
      case DELETE -> 1;
      case WRITE, CREATE, ADMIN -> 2;
    };
  }

  private static boolean onlyRemoves(Request r) {
    return r instanceof PointWrite w && w.batch() && !w.operations().isEmpty()
        && w.operations().stream().allMatch(PointOperation::removesOnly);
  }

  // ---- node, collections, aliases ----

  @Test
  void nodeAndCollectionReads() {
    assertEquals(new NodeRequest.Status(), parse(StorageOp.STATUS, null));
    assertEquals(new NodeRequest.Telemetry(), parse(StorageOp.TELEMETRY, null));
    assertEquals(new NodeRequest.ListCollections(), parse(StorageOp.LIST_COLLECTIONS, null));
    assertEquals(new NodeRequest.ListAliases(), parse(StorageOp.LIST_ALIASES, null));
    assertEquals(new CollectionRequest.Get("c"), parse(StorageOp.GET_COLLECTION, null));
    assertEquals(new CollectionRequest.Exists("c"), parse(StorageOp.COLLECTION_EXISTS, null));
    assertEquals(new CollectionRequest.Aliases("c"), parse(StorageOp.LIST_COLLECTION_ALIASES, null));
  }

  @Test
  void createCollectionNormalisesTheConfigAndKeepsInitFrom() {
    var create = (CollectionRequest.Create) RequestSamples.of(StorageOp.CREATE_COLLECTION).parse();
    assertEquals("c", create.collection());
    assertEquals("old", create.initFrom());
    assertEquals(30, create.timeoutSeconds());
    assertJson("{'size': 4, 'distance': 'Cosine'}", create.config().at("/params/vectors"));
    assertJson("{'text': {'modifier': 'idf'}}", create.config().at("/params/sparse_vectors"));
    assertTrue(create.config().at("/params/shard_number").isNull(), "the default depends on where the collection is created");
    assertEquals(1, CollectionConfigParser.withDefaultShardNumber(create.config(), 1).at("/params/shard_number").intValue());
    assertEquals(100, create.config().at("/hnsw_config/ef_construct").intValue(), "defaults filled in");
    assertEquals(Access.CREATE, create.access());

    var plain = (CollectionRequest.Create) parse(StorageOp.CREATE_COLLECTION, "{'vectors': {'img': {'size': 2, 'distance': 'Dot',"
        + " 'multivector_config': {'comparator': 'max_sim'}}}}");
    assertEquals(null, plain.initFrom());
    assertEquals(null, plain.timeoutSeconds());
    assertJson("{'img': {'size': 2, 'distance': 'Dot', 'multivector_config': {'comparator': 'max_sim'}}}",
        plain.config().at("/params/vectors"));
  }

  @Test
  void updateCollectionIsAValidatedDiff() {
    var update = (CollectionRequest.Update) RequestSamples.of(StorageOp.UPDATE_COLLECTION).parse();
    assertEquals(10, update.timeoutSeconds());
    assertJson("{'params': {'replication_factor': 2}, 'optimizers_config': {'indexing_threshold': 20000}}", update.update().diff());
    assertJson("{'quantization_config': null}",
        ((CollectionRequest.Update) parse(StorageOp.UPDATE_COLLECTION, "{'quantization_config': 'Disabled'}")).update().diff());
  }

  @Test
  void deleteCollection() {
    assertEquals(new CollectionRequest.Delete("c", 5), RequestSamples.of(StorageOp.DELETE_COLLECTION).parse());
    assertEquals(new CollectionRequest.Delete("c", null), parse(StorageOp.DELETE_COLLECTION, null));
  }

  @Test
  void aliasActionsInOrder() {
    assertEquals(new AliasRequest(List.of(new AliasRequest.Create("c", "a"), new AliasRequest.Rename("a", "b"),
        new AliasRequest.Delete("b")), null), RequestSamples.of(StorageOp.UPDATE_ALIASES).parse());
    var timed = (AliasRequest) StorageOp.UPDATE_ALIASES.parse(null, json("{'actions': []}"), Map.of("timeout", "7"));
    assertEquals(7, timed.timeoutSeconds());
  }

  @Test
  void payloadIndexes() {
    assertEquals(new CollectionRequest.CreateIndex("c", "city", FieldIndex.of(PayloadType.KEYWORD), WAIT),
        RequestSamples.of(StorageOp.CREATE_FIELD_INDEX).parse());
    var integer = (CollectionRequest.CreateIndex) parse(StorageOp.CREATE_FIELD_INDEX,
        "{'field_name': 'n', 'field_schema': {'type': 'integer', 'range': false}}");
    assertEquals(PayloadType.INTEGER, integer.index().type());
    assertEquals(false, integer.index().range());
    assertEquals(NO_WAIT, integer.write());
    assertEquals(new CollectionRequest.DeleteIndex("c", "city", WAIT), RequestSamples.of(StorageOp.DELETE_FIELD_INDEX).parse());
  }

  // ---- point writes ----

  @Test
  void upsertWithNamedSparseVectorsAndWriteParams() {
    var write = (PointWrite) RequestSamples.of(StorageOp.UPSERT_POINTS).parse();
    assertEquals(new WriteParams(true, WriteParams.Ordering.STRONG), write.write());
    assertEquals(false, write.batch());
    var upsert = (PointOperation.Upsert) write.operations().getFirst();
    PointStruct first = new PointStruct(PointId.of(1), new Vectors(Map.of("img", dense(0.5f, 1, 0, 0),
        "text", sparse(new int[] {2, 7}, 0.75f, 0.25f))), payload("{'city': 'Paris'}"));
    PointStruct second = new PointStruct(uuid(UUID_1), new Vectors(Map.of("img", dense(1, 0, 0, 0))), F.objectNode());
    assertEquals(new PointOperation.Upsert(List.of(first, second), null, null), upsert);
  }

  @Test
  void upsertAsPointsOrAsColumnsIsTheSame() {
    PointWrite rows = (PointWrite) parse(StorageOp.UPSERT_POINTS, "{'points': ["
        + "{'id': 1, 'vector': [1, 2], 'payload': {'a': 1}},"
        + "{'id': 2, 'vectors': [3, 4]},"
        + "{'id': 3, 'vector': [5, 6], 'payload': {'b': [true]}}]}");
    PointWrite columns = (PointWrite) parse(StorageOp.UPSERT_POINTS, "{'batch': {'ids': [1, 2, 3],"
        + " 'vectors': [[1, 2], [3, 4], [5, 6]], 'payloads': [{'a': 1}, null, {'b': [true]}]}}");
    assertEquals(rows, columns);
    assertEquals(new PointStruct(PointId.of(2), Vectors.unnamed(dense(3, 4)), F.objectNode()),
        ((PointOperation.Upsert) columns.operations().getFirst()).points().get(1));

    PointWrite namedRows = (PointWrite) parse(StorageOp.UPSERT_POINTS, "{'points': ["
        + "{'id': 1, 'vector': {'img': [1, 0], 'mv': [[1, 2], [3, 4]], 'text': {'indices': [3], 'values': [1]}}},"
        + "{'id': 2, 'vector': {'img': [0, 1], 'mv': [[5, 6]], 'text': {'indices': [], 'values': []}}}]}");
    PointWrite namedColumns = (PointWrite) parse(StorageOp.UPSERT_POINTS, "{'batch': {'ids': [1, 2], 'vectors': {"
        + "'img': [[1, 0], [0, 1]], 'mv': [[[1, 2], [3, 4]], [[5, 6]]],"
        + " 'text': [{'indices': [3], 'values': [1]}, {'indices': [], 'values': []}]}}}");
    assertEquals(namedRows, namedColumns);
    var p1 = ((PointOperation.Upsert) namedRows.operations().getFirst()).points().getFirst();
    assertEquals(multi(new float[] {1, 2}, new float[] {3, 4}), p1.vectors().byName().get("mv"));
    assertEquals(sparse(new int[] {3}, 1), p1.vectors().byName().get("text"));
  }

  @Test
  void upsertOfABm25DocumentKeepsTheTextToEmbed() {
    var write = (PointWrite) parse(StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'bm25': {'model': 'qdrant/bm25', 'text': 'Running dogs run'}}}]}");
    var point = ((PointOperation.Upsert) write.operations().getFirst()).points().getFirst();
    var doc = assertInstanceOf(VectorInput.Document.class, point.vectors().byName().get("bm25"));
    assertEquals("qdrant/bm25", doc.model());
    assertEquals("Running dogs run", doc.text());
    assertEquals(Bm25.of(null).document("Running dogs run"), doc.bm25().document("Running dogs run"));
  }

  @Test
  void upsertWithUpdateFilterAndShardKey() {
    var upsert = (PointOperation.Upsert) ((PointWrite) parse(StorageOp.UPSERT_POINTS, "{'points': [{'id': 1, 'vector': [1]}],"
        + " 'update_filter': {'must': {'key': 'v', 'match': {'value': 2}}}, 'shard_key': {'target': ['a', 7], 'fallback': 'b'}}"))
        .operations().getFirst();
    assertEquals(must(match("v", 2L)), upsert.updateFilter());
    assertEquals(new ShardKeySelector(List.of("a", 7L), "b"), upsert.shardKey());
  }

  @Test
  void deleteByFilterOrIds() {
    assertEquals(PointWrite.one("c", new PointOperation.Delete(PointsSelector.filter(must(match("city", "Paris"))), null), WAIT),
        RequestSamples.of(StorageOp.DELETE_POINTS).parse());
    assertEquals(PointWrite.one("c", new PointOperation.Delete(PointsSelector.ids(List.of(PointId.of(1), uuid(UUID_1))), null),
        NO_WAIT), parse(StorageOp.DELETE_POINTS, "{'points': [1, '" + UUID_1 + "']}"));
  }

  @Test
  void vectorUpdatesAndDeletes() {
    assertEquals(PointWrite.one("c", new PointOperation.UpdateVectors(List.of(new PointVectors(PointId.of(1),
        new Vectors(Map.of("img", dense(0, 1, 0, 0))))), null, null), NO_WAIT), RequestSamples.of(StorageOp.UPDATE_VECTORS).parse());
    assertEquals(PointWrite.one("c", new PointOperation.DeleteVectors(PointsSelector.ids(List.of(PointId.of(1), PointId.of(2))),
        List.of("img"), null), NO_WAIT), RequestSamples.of(StorageOp.DELETE_VECTORS).parse());
  }

  @Test
  void payloadChanges() {
    assertEquals(PointWrite.one("c", new PointOperation.SetPayload(payload("{'zip': 75001}"), ids(1), "address", false, null), WAIT),
        RequestSamples.of(StorageOp.SET_PAYLOAD).parse());
    Filter hasId = must(new Condition.HasId(List.of(PointId.of(1))));
    assertEquals(PointWrite.one("c", new PointOperation.SetPayload(payload("{'city': 'Lyon'}"), PointsSelector.filter(hasId), null,
        true, null), NO_WAIT), RequestSamples.of(StorageOp.OVERWRITE_PAYLOAD).parse());
    var overwriteAtKey = (PointOperation.SetPayload) ((PointWrite) parse(StorageOp.OVERWRITE_PAYLOAD,
        "{'payload': {'x': 1}, 'points': [1], 'key': 'a.b'}")).operations().getFirst();
    assertEquals("a.b", overwriteAtKey.key());
    assertTrue(overwriteAtKey.overwrite());
    assertEquals(PointWrite.one("c", new PointOperation.DeletePayload(List.of("city", "address.zip"), ids(1), null), NO_WAIT),
        RequestSamples.of(StorageOp.DELETE_PAYLOAD).parse());
    assertEquals(PointWrite.one("c", new PointOperation.ClearPayload(ids(1, 2), null), NO_WAIT),
        RequestSamples.of(StorageOp.CLEAR_PAYLOAD).parse());
  }

  @Test
  void batchStepsInOrder() {
    var write = (PointWrite) RequestSamples.of(StorageOp.BATCH_UPDATE).parse();
    assertTrue(write.batch());
    assertEquals(new WriteParams(false, WriteParams.Ordering.MEDIUM), write.write());
    assertEquals(List.of(
        new PointOperation.Upsert(List.of(new PointStruct(PointId.of(3), Vectors.unnamed(dense(1, 2)), F.objectNode())), null, null),
        new PointOperation.Delete(ids(1), null)), write.operations());
    var deletes = (PointWrite) RequestSamples.all().stream().filter(s -> s.op() == StorageOp.BATCH_UPDATE).toList().get(1).parse();
    assertEquals(List.of(new PointOperation.Delete(ids(1), null), new PointOperation.DeletePayload(List.of("a"), ids(2), null),
        new PointOperation.ClearPayload(ids(3), null), new PointOperation.DeleteVectors(ids(4), List.of("img"), null)),
        deletes.operations());
  }

  // ---- point reads ----

  @Test
  void retrieveAndGetOne() {
    assertEquals(new PointRead.GetOne("c", PointId.of(42), "42"), RequestSamples.of(StorageOp.GET_POINT).parse());
    assertEquals(new PointRead.GetOne("c", uuid(UUID_1), UUID_1), StorageOp.GET_POINT.parse("c", null, Map.of("id", UUID_1)));
    assertEquals(new PointRead.Retrieve("c", List.of(PointId.of(1), PointId.of(2)), new WithPayload(true, Set.of("city"), null),
        WithVector.ALL, null, new ReadParams(null, "majority")), RequestSamples.of(StorageOp.GET_POINTS).parse());
    var defaults = (PointRead.Retrieve) parse(StorageOp.GET_POINTS, "{'ids': [1]}");
    assertEquals(WithPayload.ALL, defaults.withPayload(), "retrieve returns payloads unless told not to");
    assertEquals(WithVector.NONE, defaults.withVector());
  }

  @Test
  void scrollWithOrderByOrOffset() {
    assertEquals(new PointRead.Scroll("c", null, 5, null, new OrderBy(JsonPath.parse("price"), true, 100.0),
        new WithPayload(true, null, Set.of("secret")), WithVector.NONE, null, ReadParams.DEFAULT),
        RequestSamples.of(StorageOp.SCROLL_POINTS).parse());
    var paged = (PointRead.Scroll) parse(StorageOp.SCROLL_POINTS, "{'offset': '" + UUID_1 + "', 'with_vectors': ['img'],"
        + " 'filter': {'must': [{'key': 'n', 'range': {'gte': 1.5}}]}}");
    assertEquals(uuid(UUID_1), paged.offset());
    assertEquals(null, paged.limit());
    assertEquals(new WithVector(true, Set.of("img")), paged.withVector());
    assertEquals(must(new Condition.Field(JsonPath.parse("n"), null, new Condition.NumberRange(null, null, 1.5, null),
        null, null, null, null, null, null)), paged.filter());
    var byDate = (PointRead.Scroll) parse(StorageOp.SCROLL_POINTS, "{'order_by': {'key': 'at', 'start_from': '2024-05-01T00:00:00Z'}}");
    assertEquals(new OrderBy(JsonPath.parse("at"), false, Datetimes.parseMicros("2024-05-01T00:00:00Z").doubleValue()), byDate.orderBy());
    var noBody = (PointRead.Scroll) parse(StorageOp.SCROLL_POINTS, null);
    assertEquals(WithPayload.ALL, noBody.withPayload());
  }

  @Test
  void countFacetAndMatrix() {
    Filter notEmpty = new Filter(null, null, List.of(new Condition.IsEmpty(JsonPath.parse("tags"))), null);
    assertEquals(new PointRead.Count("c", notEmpty, false, null, ReadParams.DEFAULT), RequestSamples.of(StorageOp.COUNT_POINTS).parse());
    assertEquals(new PointRead.Count("c", null, true, null, ReadParams.DEFAULT), parse(StorageOp.COUNT_POINTS, null));
    assertEquals(new PointRead.Facet("c", JsonPath.parse("city"), null, 3, true, null, ReadParams.DEFAULT),
        RequestSamples.of(StorageOp.FACET).parse());
    assertEquals(new PointRead.Matrix("c", null, 10, 2, "", false, null, ReadParams.DEFAULT),
        RequestSamples.of(StorageOp.SEARCH_MATRIX_PAIRS).parse());
    assertEquals(new PointRead.Matrix("c", null, 5, 1, "img", true, null, ReadParams.DEFAULT),
        RequestSamples.of(StorageOp.SEARCH_MATRIX_OFFSETS).parse());
    var filtered = (PointRead.Matrix) StorageOp.SEARCH_MATRIX_PAIRS.parse("c", json("{'filter': {'must': {'has_vector': 'img'}}}"),
        Map.of("consistency", "2", "timeout", "3"));
    assertEquals(must(new Condition.HasVector("img")), filtered.filter());
    assertEquals(new ReadParams(3, "2"), filtered.read());
  }

  // ---- universal query ----

  @Test
  void queryWithNestedPrefetchAndFusion() {
    var op = (QueryOperation.Queries) StorageOp.QUERY_POINTS.parse("c", json("{'prefetch': ["
        + "{'prefetch': {'query': [1, 0], 'limit': 50}, 'query': {'indices': [5, 1], 'values': [0.5, 0.25]}, 'using': 'text', 'limit': 20},"
        + "{'query': [[1, 0], [0, 1]], 'using': 'colbert', 'filter': {'must': {'key': 'city', 'match': {'any': ['Paris', 'Lyon']}}},"
        + " 'score_threshold': 0.5, 'params': {'hnsw_ef': 64, 'exact': true}}],"
        + " 'query': {'fusion': 'rrf'}, 'limit': 5, 'offset': 2, 'with_payload': ['city'], 'with_vectors': ['img']}"),
        Map.of("timeout", "3"));
    assertEquals(Shape.QUERY, op.shape());
    assertEquals(new ReadParams(3, null), op.read());
    Stage deepest = stage(new Query.Nearest(dense(1, 0), null), 50);
    Stage sparse = new Stage(List.of(deepest), new Query.Nearest(sparse(new int[] {1, 5}, 0.25f, 0.5f), null), "text", null,
        null, null, 20, null);
    Filter city = must(Condition.Field.of(JsonPath.parse("city"), new Match.Any(new Match.Keywords(List.of("Paris", "Lyon")))));
    Stage colbert = new Stage(List.of(), new Query.Nearest(multi(new float[] {1, 0}, new float[] {0, 1}), null), "colbert", city,
        new SearchParams(64, true, null), 0.5f, null, null);
    Stage root = new Stage(List.of(sparse, colbert), new Query.Fusion(false, 2), "", null, null, null, 5, null);
    assertEquals(List.of(new QueryRequest(root, 2, new WithPayload(true, Set.of("city"), null), new WithVector(true, Set.of("img")),
        null)), op.requests());
  }

  @Test
  void fusionForms() {
    assertEquals(new Query.Fusion(true, 2), rootQuery("{'query': {'fusion': 'dbsf'}}"));
    assertEquals(new Query.Fusion(false, 60), rootQuery("{'query': {'rrf': {'k': 60}}}"));
    assertEquals(new Query.Fusion(false, 2), rootQuery("{'query': {'rrf': {}}}"));
  }

  @Test
  void formulaWithDefaults() {
    Query q = rootQuery("{'prefetch': {'query': [1, 0]}, 'query': {'formula': {'sum': ['$score',"
        + " {'mult': [0.5, 'popularity']}, {'key': 'tag', 'match': {'value': 'new'}},"
        + " {'exp_decay': {'x': {'geo_distance': {'origin': {'lon': 2.35, 'lat': 48.85}, 'to': 'loc'}}, 'scale': 1000}},"
        + " {'div': {'left': '$score[1]', 'right': {'abs': 'n'}, 'by_zero_default': 0}}]},"
        + " 'defaults': {'popularity': 1, '$score[1]': 0.25}}}");
    Expression sum = new Expression.Nary(false, List.of(
        new Expression.Score(0),
        new Expression.Nary(true, List.of(new Expression.Constant(0.5), new Expression.Payload(JsonPath.parse("popularity")))),
        new Expression.Condition(must(match("tag", "new"))),
        new Expression.Decay(Expression.DecayKind.EXP, new Expression.GeoDistance(2.35, 48.85, JsonPath.parse("loc")), null,
            Math.log(0.5) / 1000),
        new Expression.Div(new Expression.Score(1), new Expression.Unary(Expression.UnaryOp.ABS,
            new Expression.Payload(JsonPath.parse("n"))), 0.0)));
    assertEquals(new Query.Formula(sum, Map.of("popularity", IntNode.valueOf(1)), Map.of(1, 0.25)), q);
  }

  @Test
  void nearestWithMmrOrderBySampleAndLookup() {
    assertEquals(new Query.Nearest(dense(1, 0), new Query.Mmr(0.5f, 100)),
        rootQuery("{'query': {'nearest': [1, 0], 'mmr': {'diversity': 0.5, 'candidates_limit': 100}}, 'using': 'img'}"));
    assertEquals(new Query.Nearest(dense(1, 0), new Query.Mmr(null, null)), rootQuery("{'query': {'nearest': [1, 0], 'mmr': {}}}"));
    assertEquals(new Query.OrderByQuery(new OrderBy(JsonPath.parse("price"), true, null)),
        rootQuery("{'query': {'order_by': {'key': 'price', 'direction': 'desc'}}}"));
    assertEquals(new Query.OrderByQuery(new OrderBy(JsonPath.parse("price"), false, null)), rootQuery("{'query': {'order_by': 'price'}}"));
    assertEquals(new Query.Sample(), rootQuery("{'query': {'sample': 'random'}}"));
    assertEquals(new Query.Nearest(new VectorInput.Id(uuid(UUID_1)), null), rootQuery("{'query': '" + UUID_1 + "'}"));
    Stage root = query("{'query': 7, 'using': 'img', 'lookup_from': {'collection': 'other', 'vector': 'pic'}}").root();
    assertEquals(new Stage(List.of(), new Query.Nearest(new VectorInput.Id(PointId.of(7)), null), "img", null, null, null, null,
        new LookupLocation("other", "pic")), root);
  }

  @Test
  void recommendDiscoverAndContext() {
    assertEquals(new Query.Recommend(List.of(new VectorInput.Id(PointId.of(1)), dense(0.5f, 0.5f)),
        List.of(new VectorInput.Id(uuid(UUID_1))), Query.RecommendStrategy.SUM_SCORES),
        rootQuery("{'query': {'recommend': {'positive': [1, [0.5, 0.5]], 'negative': ['" + UUID_1 + "'], 'strategy': 'sum_scores'}}}"));
    assertEquals(new Query.Recommend(List.of(), List.of(new VectorInput.Id(PointId.of(2))), Query.RecommendStrategy.AVERAGE_VECTOR),
        rootQuery("{'query': {'recommend': {'negative': [2]}}}"));
    var pair = new Query.ContextPair(new VectorInput.Id(PointId.of(2)), new VectorInput.Id(PointId.of(3)));
    assertEquals(new Query.Discover(new VectorInput.Id(PointId.of(1)), List.of(pair)),
        rootQuery("{'query': {'discover': {'target': 1, 'context': [{'positive': 2, 'negative': 3}]}}}"));
    assertEquals(new Query.Context(List.of(pair)), rootQuery("{'query': {'context': {'positive': 2, 'negative': 3}}}"));
    assertEquals(new Query.Context(List.of(pair, pair)),
        rootQuery("{'query': {'context': [{'positive': 2, 'negative': 3}, {'positive': 2, 'negative': 3}]}}"));
  }

  @Test
  void queryWithoutAQueryAndItsDefaults() {
    QueryRequest r = query("{}");
    assertEquals(new QueryRequest(new Stage(List.of(), null, "", null, null, null, null, null), 0, WithPayload.NONE, WithVector.NONE,
        null), r);
    assertEquals(10, r.root().limitOrDefault());
    var sampled = (QueryOperation.Queries) RequestSamples.of(StorageOp.QUERY_POINTS).parse();
    assertEquals(3, sampled.requests().getFirst().root().limit());
  }

  @Test
  void queryBatch() {
    var batch = (QueryOperation.Queries) RequestSamples.of(StorageOp.QUERY_BATCH).parse();
    assertEquals(Shape.QUERY_BATCH, batch.shape());
    assertEquals(List.of(new Query.Nearest(new VectorInput.Id(PointId.of(1)), null), new Query.Sample()),
        batch.requests().stream().map(r -> r.root().query()).toList());
    assertEquals(2, batch.requests().get(1).root().limit());
  }

  @Test
  void queryGroupsWithLookup() {
    var groups = (QueryOperation.Groups) parse(StorageOp.QUERY_GROUPS, "{'query': [1, 0], 'group_by': 'city', 'group_size': 2,"
        + " 'limit': 4, 'with_payload': true, 'with_lookup': {'collection': 'cities', 'with_payload': ['name'], 'with_vectors': false}}");
    QueryRequest query = new QueryRequest(stage(new Query.Nearest(dense(1, 0), null), null), 0, WithPayload.ALL, WithVector.NONE, null);
    assertEquals(new QueryOperation.Groups("c", new QueryGroupsRequest(query, JsonPath.parse("city"), 2, 4,
        new QueryGroupsRequest.WithLookup("cities", new WithPayload(true, Set.of("name"), null), WithVector.NONE)), false,
        ReadParams.DEFAULT), groups);
    var defaults = (QueryOperation.Groups) parse(StorageOp.QUERY_GROUPS, "{'group_by': 'a.b', 'with_lookup': 'other'}");
    assertEquals(3, defaults.request().groupSize());
    assertEquals(10, defaults.request().groups());
    assertEquals(new QueryGroupsRequest.WithLookup("other", WithPayload.ALL, WithVector.NONE), defaults.request().withLookup());
  }

  // ---- legacy searches, in the universal form ----

  @Test
  void legacySearchIsANearestQuery() {
    var op = (QueryOperation.Queries) RequestSamples.of(StorageOp.SEARCH_POINTS).parse();
    assertEquals(new QueryOperation.Queries("c", List.of(new QueryRequest(stage(new Query.Nearest(dense(0.5f, 1, 0, 0), null), 3), 0,
        WithPayload.ALL, WithVector.NONE, null)), Shape.POINTS, ReadParams.DEFAULT), op);
  }

  @Test
  void legacySearchOfANamedSparseVectorUsesIt() {
    QueryRequest r = legacy(StorageOp.SEARCH_POINTS, "{'vector': {'name': 'text', 'vector': {'indices': [4, 1], 'values': [1, 2]}},"
        + " 'limit': 2, 'offset': 1, 'score_threshold': 0.25, 'params': {'hnsw_ef': 32, 'quantization': {'oversampling': 2.0}},"
        + " 'filter': {'must': {'key': 'city', 'match': {'value': 'Paris'}}}, 'with_vector': ['text']}");
    assertEquals(new QueryRequest(new Stage(List.of(), new Query.Nearest(sparse(new int[] {1, 4}, 2, 1), null), "text",
        must(match("city", "Paris")), new SearchParams(32, false, 2.0), 0.25f, 2, null), 1, WithPayload.NONE,
        new WithVector(true, Set.of("text")), null), r);
    assertEquals(new Query.Nearest(dense(1, 2), null), legacy(StorageOp.SEARCH_POINTS,
        "{'vector': {'name': 'img', 'vector': [1, 2]}, 'limit': 1}").root().query());
    assertEquals("img", legacy(StorageOp.SEARCH_POINTS, "{'vector': {'name': 'img', 'vector': [1, 2]}, 'limit': 1}").root().using());
  }

  @Test
  void legacyRequestsTakeTopForLimitAsQdrantsAlias() {
    String[] ops = {"{'vector': [1, 2], %s}", "{'positive': [1], %s}", "{'target': 1, %s}"};
    StorageOp[] kinds = {StorageOp.SEARCH_POINTS, StorageOp.RECOMMEND_POINTS, StorageOp.DISCOVER_POINTS};
    for (int i = 0; i < 3; i++) {
      assertEquals(legacy(kinds[i], String.format(ops[i], "'limit': 3")), legacy(kinds[i], String.format(ops[i], "'top': 3")));
      int k = i;
      var both = org.junit.jupiter.api.Assertions.assertThrows(io.quiver.error.ApiException.class,
          () -> legacy(kinds[k], String.format(ops[k], "'top': 3, 'limit': 3")));
      assertEquals("Format error in JSON body: duplicate field `limit`", both.getMessage());
    }
  }

  @Test
  void legacyRecommendWithStrategyAndLookup() {
    QueryRequest r = legacy(StorageOp.RECOMMEND_POINTS, "{'positive': [1, [0.5, 0.5]], 'negative': [3], 'strategy': 'best_score',"
        + " 'using': 'img', 'lookup_from': {'collection': 'other'}, 'limit': 5}");
    assertEquals(new Stage(List.of(), new Query.Recommend(List.of(new VectorInput.Id(PointId.of(1)), dense(0.5f, 0.5f)),
        List.of(new VectorInput.Id(PointId.of(3))), Query.RecommendStrategy.BEST_SCORE), "img", null, null, null, 5,
        new LookupLocation("other", "img")), r.root());
    QueryRequest onlyNegative = legacy(StorageOp.RECOMMEND_POINTS, "{'negative': [3], 'strategy': 'best_score',"
        + " 'lookup_from': {'collection': 'other', 'vector': 'pic'}, 'limit': 5}");
    assertEquals(new LookupLocation("other", "pic"), onlyNegative.root().lookupFrom());
    assertEquals(Query.RecommendStrategy.AVERAGE_VECTOR, ((Query.Recommend) legacy(StorageOp.RECOMMEND_POINTS,
        RequestSamples.of(StorageOp.RECOMMEND_POINTS).body()).root().query()).strategy());
  }

  @Test
  void legacyDiscoverWithOrWithoutTarget() {
    var pair = new Query.ContextPair(new VectorInput.Id(PointId.of(2)), new VectorInput.Id(PointId.of(3)));
    assertEquals(new Query.Discover(new VectorInput.Id(PointId.of(1)), List.of(pair)),
        legacy(StorageOp.DISCOVER_POINTS, RequestSamples.of(StorageOp.DISCOVER_POINTS).body()).root().query());
    assertEquals(new Query.Discover(dense(1, 0), List.of()), legacy(StorageOp.DISCOVER_POINTS, "{'target': [1, 0], 'limit': 1}").root().query());
    var batch = (QueryOperation.Queries) RequestSamples.of(StorageOp.DISCOVER_BATCH).parse();
    assertEquals(Shape.POINTS_BATCH, batch.shape());
    assertEquals(new Query.Context(List.of(pair)), batch.requests().getFirst().root().query());
  }

  @Test
  void legacyBatches() {
    var search = (QueryOperation.Queries) RequestSamples.of(StorageOp.SEARCH_BATCH).parse();
    assertEquals(Shape.POINTS_BATCH, search.shape());
    assertEquals(List.of(stage(new Query.Nearest(dense(1, 0), null), 1), stage(new Query.Nearest(dense(0, 1), null), 2)),
        search.requests().stream().map(QueryRequest::root).toList());
    var recommend = (QueryOperation.Queries) RequestSamples.of(StorageOp.RECOMMEND_BATCH).parse();
    assertEquals(Shape.POINTS_BATCH, recommend.shape());
    assertEquals(new Query.Recommend(List.of(new VectorInput.Id(PointId.of(1))), List.of(), Query.RecommendStrategy.AVERAGE_VECTOR),
        recommend.requests().getFirst().root().query());
  }

  @Test
  void legacyGroups() {
    QueryRequest search = new QueryRequest(stage(new Query.Nearest(dense(1, 0), null), 2), 0, WithPayload.NONE, WithVector.NONE, null);
    assertEquals(new QueryOperation.Groups("c", new QueryGroupsRequest(search, JsonPath.parse("city"), 3, 2, null), true,
        ReadParams.DEFAULT), RequestSamples.of(StorageOp.SEARCH_GROUPS).parse());
    var recommend = (QueryOperation.Groups) parse(StorageOp.RECOMMEND_GROUPS, "{'positive': [1], 'limit': 2, 'group_by': 'city',"
        + " 'group_size': 1, 'with_lookup': {'collection': 'cities'}}");
    assertTrue(recommend.legacy());
    assertEquals(1, recommend.request().groupSize());
    assertEquals(2, recommend.request().groups());
    assertEquals(new QueryGroupsRequest.WithLookup("cities", WithPayload.ALL, WithVector.NONE), recommend.request().withLookup());
    assertInstanceOf(Query.Recommend.class, recommend.request().query().root().query());
  }

  // ---- snapshots ----

  @Test
  void collectionAndShardSnapshots() {
    assertEquals(new SnapshotRequest.ListAll("c", null), RequestSamples.of(StorageOp.LIST_SNAPSHOTS).parse());
    assertEquals(new SnapshotRequest.ListAll("c", 2), StorageOp.LIST_SNAPSHOTS.parse("c", null, Map.of("shard_id", "2")));
    assertEquals(new SnapshotRequest.Create("c", null, false), RequestSamples.of(StorageOp.CREATE_SNAPSHOT).parse());
    assertEquals(new SnapshotRequest.Create("c", 0, true), StorageOp.CREATE_SNAPSHOT.parse("c", null, Map.of("shard_id", "0")));
    assertEquals(new SnapshotRequest.Delete("c", null, "c-1.snapshot", true), RequestSamples.of(StorageOp.DELETE_SNAPSHOT).parse());
    assertEquals(new SnapshotRequest.File("c", 0, "c-1.snapshot"), RequestSamples.of(StorageOp.GET_SNAPSHOT).parse());
  }

  @Test
  void recoverFromALocationOrAnUploadedFile() {
    assertEquals(new SnapshotRequest.Recover("c", null, new SnapshotRequest.Source("http://backup.example/c.snapshot", null, null,
        "snapshot", null), true), RequestSamples.of(StorageOp.RECOVER_SNAPSHOT).parse());
    Map<String, String> upload = new LinkedHashMap<>();
    upload.put("upload_file", "/uploads/abc");
    upload.put("checksum", "0a1b");
    upload.put("priority", "replica");
    upload.put("wait", "false");
    upload.put("shard_id", "1");
    assertEquals(new SnapshotRequest.Recover("c", 1, new SnapshotRequest.Source(null, "/uploads/abc", "0a1b", "replica", null), false),
        StorageOp.RECOVER_SNAPSHOT.parse("c", null, upload));
  }

  @Test
  void fullSnapshots() {
    assertEquals(new SnapshotRequest.ListAll(null, null), parse(StorageOp.LIST_FULL_SNAPSHOTS, null));
    assertEquals(new SnapshotRequest.Create(null, null, true), RequestSamples.of(StorageOp.CREATE_FULL_SNAPSHOT).parse());
    assertEquals(new SnapshotRequest.Delete(null, null, "full-1.snapshot", true), RequestSamples.of(StorageOp.DELETE_FULL_SNAPSHOT).parse());
    assertEquals(new SnapshotRequest.File(null, null, "full-1.snapshot"), RequestSamples.of(StorageOp.GET_FULL_SNAPSHOT).parse());
  }

  // ---- helpers ----

  /** Configs hold longs where JSON text reads back ints: compare them as text. */
  private static void assertJson(String expected, JsonNode actual) {
    assertEquals(json(expected).toString(), actual.toString());
  }

  private static Request parse(StorageOp op, String body) {
    return op.parse("c", body == null ? null : json(body), Map.of());
  }

  private static QueryRequest query(String body) {
    return ((QueryOperation.Queries) parse(StorageOp.QUERY_POINTS, body)).requests().getFirst();
  }

  private static Query rootQuery(String body) {
    return query(body).root().query();
  }

  private static QueryRequest legacy(StorageOp op, String body) {
    return ((QueryOperation.Queries) parse(op, body)).requests().getFirst();
  }

  /** A stage with only a query and a limit. */
  private static Stage stage(Query q, Integer limit) {
    return new Stage(List.of(), q, "", null, null, null, limit, null);
  }

  static VectorInput.Dense dense(float... values) {
    return new VectorInput.Dense(values);
  }

  static VectorInput.Multi multi(float[]... rows) {
    return new VectorInput.Multi(rows);
  }

  /** A sparse vector as the parser keeps it: indices sorted, values in the same order. */
  static VectorInput.Sparse sparse(int[] sortedIndices, float... values) {
    return new VectorInput.Sparse(new SparseVector(sortedIndices, values));
  }

  static PointId uuid(String s) {
    return new PointId.Uuid(UUID.fromString(s));
  }

  private static PointsSelector ids(long... ids) {
    return PointsSelector.ids(java.util.Arrays.stream(ids).mapToObj(PointId::of).toList());
  }

  private static ObjectNode payload(String json) {
    return (ObjectNode) json(json);
  }

  static Filter must(Condition... conditions) {
    return new Filter(List.of(conditions), null, null, null);
  }

  static Condition.Field match(String key, Object value) {
    return Condition.Field.of(JsonPath.parse(key), new Match.Value(value));
  }
}
