package io.quiver.grpc;

import static io.qdrant.client.ConditionFactory.datetimeRange;
import static io.qdrant.client.ConditionFactory.isEmpty;
import static io.qdrant.client.ConditionFactory.match;
import static io.qdrant.client.ConditionFactory.matchKeyword;
import static io.qdrant.client.ConditionFactory.matchKeywords;
import static io.qdrant.client.ConditionFactory.matchText;
import static io.qdrant.client.ConditionFactory.range;
import static io.qdrant.client.PointIdFactory.id;
import static io.qdrant.client.QueryFactory.fusion;
import static io.qdrant.client.QueryFactory.nearest;
import static io.qdrant.client.QueryFactory.recommend;
import static io.qdrant.client.ValueFactory.list;
import static io.qdrant.client.ValueFactory.value;
import static io.qdrant.client.VectorInputFactory.vectorInput;
import static io.qdrant.client.VectorsFactory.namedVectors;
import static io.qdrant.client.VectorsFactory.vectors;
import static io.qdrant.client.WithPayloadSelectorFactory.enable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.VectorFactory;
import io.qdrant.client.WithVectorsSelectorFactory;
import io.qdrant.client.grpc.Collections.AliasDescription;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.SparseVectorConfig;
import io.qdrant.client.grpc.Collections.SparseVectorParams;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorParamsMap;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.DatetimeRange;
import io.qdrant.client.grpc.Points.Direction;
import io.qdrant.client.grpc.Points.Filter;
import io.qdrant.client.grpc.Points.Fusion;
import io.qdrant.client.grpc.Points.OrderBy;
import io.qdrant.client.grpc.Points.PointGroup;
import io.qdrant.client.grpc.Points.PointId;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointVectors;
import io.qdrant.client.grpc.Points.PointsIdsList;
import io.qdrant.client.grpc.Points.PointsSelector;
import io.qdrant.client.grpc.Points.PrefetchQuery;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.Range;
import io.qdrant.client.grpc.Points.RecommendInput;
import io.qdrant.client.grpc.Points.RecommendPoints;
import io.qdrant.client.grpc.Points.RecommendStrategy;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.ScrollPoints;
import io.qdrant.client.grpc.Points.ScrollResponse;
import io.qdrant.client.grpc.Points.SearchPointGroups;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.SnapshotsService.SnapshotDescription;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application as it would use Quiver through Qdrant's official Java client ({@code
 * io.qdrant:client}) and nothing else: a product catalogue on one dense vector with payload indexes
 * of every common type, articles with named dense vectors and a sparse one, aliases, snapshots, the
 * write lock (set over REST, as an operator does) and API keys. Every answer is checked against
 * what the data says: rankings against a brute-force oracle in double precision (scores within
 * 1e-5), filters and orders against the payloads, fusion against the prefetches' own answers.
 */
@Timeout(120)
class OfficialJavaClientTest {
  private static final String[] CATEGORIES = {"books", "games", "music", "tools"};
  private static final Instant EPOCH = Instant.parse("2024-01-01T00:00:00Z");
  private static final int PRODUCTS = 60;
  private static final int DIM = 4;

  @TempDir static Path dir;
  static TestNode node;
  static QdrantClient client;
  /** The catalogue's vectors as given, by id. */
  private static final Map<Long, float[]> VECTORS = catalogueVectors();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    client = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", node.deployment.grpc().actualPort(), false).build());
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    node.close();
  }

  // ---- the catalogue: one dense vector, payload indexes ----

  private static Map<Long, float[]> catalogueVectors() {
    Random r = new Random(7);
    Map<Long, float[]> out = new TreeMap<>();
    for (long id = 1; id <= PRODUCTS; id++) {
      float[] v = new float[DIM];
      for (int d = 0; d < DIM; d++) {
        v[d] = (float) r.nextGaussian();
      }
      out.put(id, v);
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static Map<String, Value> product(long id) {
    Map<String, Value> p = new LinkedHashMap<>();
    p.put("name", value("product " + id));
    p.put("category", value(CATEGORIES[(int) (id % CATEGORIES.length)]));
    p.put("price", value(id * 1.25));
    p.put("stock", value(id % 7));
    p.put("added", value(EPOCH.plus(id, ChronoUnit.DAYS).toString()));
    p.put("available", value(id % 3 != 0));
    p.put("tags", list(List.of(value("t" + id % 5), value("all"))));
    return p;
  }

  /** A new catalogue collection with its payload indexes and all the products, upserted in batches of 20. */
  private static void catalogue(String name) throws Exception {
    var created = get(client.createCollectionAsync(name, VectorParams.newBuilder().setSize(DIM).setDistance(Distance.Cosine).build()));
    assertTrue(created.getResult());
    Map<String, PayloadSchemaType> indexes = Map.of("category", PayloadSchemaType.Keyword, "stock", PayloadSchemaType.Integer,
        "price", PayloadSchemaType.Float, "added", PayloadSchemaType.Datetime, "available", PayloadSchemaType.Bool,
        "name", PayloadSchemaType.Text);
    for (var e : indexes.entrySet()) {
      var indexed = get(client.createPayloadIndexAsync(name, e.getKey(), e.getValue(), null, true, null, null));
      assertEquals(UpdateStatus.Completed, indexed.getStatus());
    }
    for (long first = 1; first <= PRODUCTS; first += 20) {
      List<PointStruct> batch = new ArrayList<>();
      for (long id = first; id < first + 20; id++) {
        batch.add(PointStruct.newBuilder().setId(id(id)).setVectors(vectors(VECTORS.get(id))).putAllPayload(product(id)).build());
      }
      assertEquals(UpdateStatus.Completed, get(client.upsertAsync(name, batch)).getStatus());
    }
  }

  @Test
  void aCatalogueIsWrittenReadAndSearched() throws Exception {
    catalogue("products");
    assertTrue(get(client.collectionExistsAsync("products")));
    assertTrue(get(client.listCollectionsAsync()).contains("products"));

    CollectionInfo info = get(client.getCollectionInfoAsync("products"));
    assertEquals(CollectionStatus.Green, info.getStatus());
    assertEquals(PRODUCTS, info.getPointsCount());
    assertEquals(DIM, info.getConfig().getParams().getVectorsConfig().getParams().getSize());
    assertEquals(Distance.Cosine, info.getConfig().getParams().getVectorsConfig().getParams().getDistance());
    assertEquals(Map.of("category", PayloadSchemaType.Keyword, "stock", PayloadSchemaType.Integer, "price", PayloadSchemaType.Float,
        "added", PayloadSchemaType.Datetime, "available", PayloadSchemaType.Bool, "name", PayloadSchemaType.Text),
        info.getPayloadSchemaMap().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getDataType())));
    assertEquals(PRODUCTS, info.getPayloadSchemaOrThrow("category").getPoints());

    // retrieve: payload as written, the vector as Cosine stores it (normalised), a missing id left out
    List<RetrievedPoint> got = get(client.retrieveAsync("products", List.of(id(3), id(7), id(1000)), true, true, null));
    assertEquals(List.of(3L, 7L), got.stream().map(p -> p.getId().getNum()).toList());
    assertEquals(product(3), got.get(0).getPayloadMap());
    assertVector(normalised(VECTORS.get(7L)), got.get(1).getVectors().getVector().getDataList());

    // count with filters
    assertEquals(PRODUCTS, get(client.countAsync("products")));
    assertEquals(oracleCount(id -> id % 4 == 1), get(client.countAsync("products", filter(matchKeyword("category", "games")), true)));
    assertEquals(oracleCount(id -> id * 1.25 >= 10 && id * 1.25 < 30 && id % 3 != 0),
        get(client.countAsync("products", filter(range("price", Range.newBuilder().setGte(10).setLt(30).build()),
            match("available", true)), true)));
    assertEquals(1, get(client.countAsync("products", filter(matchText("name", "12")), true)));
    Instant february = Instant.parse("2024-02-01T00:00:00Z");
    assertEquals(oracleCount(id -> !EPOCH.plus(id, ChronoUnit.DAYS).isBefore(february)),
        get(client.countAsync("products", filter(datetimeRange("added", DatetimeRange.newBuilder()
            .setGte(Timestamp.newBuilder().setSeconds(february.getEpochSecond())).build())), true)));

    // scroll with a filter and order_by, then page through everything by id
    ScrollResponse ordered = get(client.scrollAsync(ScrollPoints.newBuilder().setCollectionName("products")
        .setFilter(filter(matchKeywords("category", List.of("books", "tools")))).setLimit(5)
        .setOrderBy(OrderBy.newBuilder().setKey("price").setDirection(Direction.Desc)).setWithPayload(enable(true)).build()));
    assertEquals(List.of(60L, 59L, 56L, 55L, 52L), ids(ordered.getResultList()));
    assertEquals(75.0, ordered.getResult(0).getOrderValue().getFloat());
    List<Long> all = new ArrayList<>();
    PointId offset = null;
    do {
      var page = ScrollPoints.newBuilder().setCollectionName("products").setLimit(25);
      if (offset != null) {
        page.setOffset(offset);
      }
      ScrollResponse r = get(client.scrollAsync(page.build()));
      all.addAll(ids(r.getResultList()));
      offset = r.hasNextPageOffset() ? r.getNextPageOffset() : null;
    } while (offset != null);
    assertEquals(java.util.stream.LongStream.rangeClosed(1, PRODUCTS).boxed().toList(), all);

    // search with a filter, then with a score threshold between the oracle's third and fourth
    float[] q = {0.5f, -1, 0.25f, 2};
    Predicate<Long> cheapBooksOrMusic = id -> (id % 4 == 0 || id % 4 == 2) && id * 1.25 < 50;
    Filter filter = filter(matchKeywords("category", List.of("books", "music")), range("price", Range.newBuilder().setLt(50).build()));
    List<ScoredPoint> found = get(client.searchAsync(SearchPoints.newBuilder().setCollectionName("products").addAllVector(floats(q))
        .setFilter(filter).setLimit(5).setWithPayload(enable(true)).build()));
    List<Map.Entry<Long, Double>> expected = oracle(q, cheapBooksOrMusic);
    assertRanking(expected.subList(0, 5), found);
    found.forEach(p -> assertTrue(Set.of("books", "music").contains(p.getPayloadMap().get("category").getStringValue())));
    float threshold = (float) ((expected.get(2).getValue() + expected.get(3).getValue()) / 2);
    List<ScoredPoint> above = get(client.searchAsync(SearchPoints.newBuilder().setCollectionName("products").addAllVector(floats(q))
        .setFilter(filter).setLimit(5).setScoreThreshold(threshold).build()));
    assertRanking(expected.subList(0, 3), above);

    // groups by category: groups in the order of their best hit, two hits each
    List<PointGroup> groups = get(client.searchGroupsAsync(SearchPointGroups.newBuilder().setCollectionName("products")
        .addAllVector(floats(q)).setGroupBy("category").setGroupSize(2).setLimit(3).build()));
    Map<String, List<Map.Entry<Long, Double>>> byCategory = new LinkedHashMap<>();
    for (var hit : oracle(q, id -> true)) {
      byCategory.computeIfAbsent(CATEGORIES[(int) (hit.getKey() % 4)], k -> new ArrayList<>()).add(hit);
    }
    List<String> expectedGroups = new ArrayList<>(byCategory.keySet()).subList(0, 3);
    assertEquals(expectedGroups, groups.stream().map(g -> g.getId().getStringValue()).toList());
    for (PointGroup g : groups) {
      assertRanking(byCategory.get(g.getId().getStringValue()).subList(0, 2), g.getHitsList());
    }

    // recommend (legacy) is the search for 2 * positive - negative without the examples, and the same as query's recommend
    List<ScoredPoint> recommended = get(client.recommendAsync(RecommendPoints.newBuilder().setCollectionName("products")
        .addPositive(id(5)).addNegative(id(9)).setLimit(4).build()));
    float[] p5 = normalised(VECTORS.get(5L));
    float[] n9 = normalised(VECTORS.get(9L));
    float[] average = new float[DIM];
    for (int d = 0; d < DIM; d++) {
      average[d] = p5[d] + (p5[d] - n9[d]);
    }
    assertRanking(oracle(average, id -> id != 5 && id != 9).subList(0, 4), recommended);
    List<ScoredPoint> queried = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("products")
        .setQuery(recommend(RecommendInput.newBuilder().addPositive(vectorInput(id(5))).addNegative(vectorInput(id(9))).build()))
        .setLimit(4).build()));
    assertEquals(recommended, queried);
  }

  @Test
  void payloadsVectorsAndDeletesChangeWhatIsRead() throws Exception {
    catalogue("edits");
    get(client.setPayloadAsync("edits", Map.of("color", value("red")), List.of(id(1), id(2)), true, null, null));
    Map<String, Value> one = new LinkedHashMap<>(product(1));
    one.put("color", value("red"));
    assertEquals(one, payload("edits", 1));
    get(client.setPayloadAsync("edits", Map.of("zip", value("10115")), PointsSelector.newBuilder()
        .setPoints(PointsIdsList.newBuilder().addIds(id(1))).build(), true, "address",
        null, null));
    assertEquals("10115", payload("edits", 1).get("address").getStructValue().getFieldsOrThrow("zip").getStringValue());

    get(client.overwritePayloadAsync("edits", Map.of("only", value(1)), id(2), true, null, null));
    assertEquals(Map.of("only", value(1)), payload("edits", 2));
    get(client.deletePayloadAsync("edits", List.of("color", "tags"), id(1), true, null, null));
    assertFalse(payload("edits", 1).containsKey("color") || payload("edits", 1).containsKey("tags"));
    assertTrue(payload("edits", 1).containsKey("category"));
    get(client.clearPayloadAsync("edits", id(3), true, null, null));
    assertEquals(Map.of(), payload("edits", 3));
    assertEquals(2, get(client.countAsync("edits", filter(isEmpty("category")), true)));

    // a new vector is found first, with a score of 1
    float[] fresh = {3, 0, -4, 0};
    get(client.updateVectorsAsync("edits", List.of(PointVectors.newBuilder().setId(id(4)).setVectors(vectors(fresh)).build()), true,
        null, null));
    List<ScoredPoint> top = get(client.searchAsync(SearchPoints.newBuilder().setCollectionName("edits").addAllVector(floats(fresh))
        .setLimit(1).build()));
    assertEquals(4, top.getFirst().getId().getNum());
    assertEquals(1.0, top.getFirst().getScore(), 1e-6);

    // delete by filter: every product out of stock goes
    var deleted = get(client.deleteAsync("edits", filter(match("stock", 0))));
    assertEquals(UpdateStatus.Completed, deleted.getStatus());
    long outOfStock = oracleCount(id -> id % 7 == 0);
    assertEquals(PRODUCTS - outOfStock, waitForCount("edits", PRODUCTS - outOfStock));
    assertEquals(0, get(client.countAsync("edits", filter(match("stock", 0)), true)));
    get(client.deleteAsync("edits", List.of(id(1), id(2))));
    assertEquals(PRODUCTS - outOfStock - 2, waitForCount("edits", PRODUCTS - outOfStock - 2));
    assertTrue(get(client.deleteCollectionAsync("edits")).getResult());
    assertFalse(get(client.collectionExistsAsync("edits")));
  }

  // ---- named dense vectors and a sparse one ----

  private static final int ARTICLES = 30;

  private static float[] image(long id) {
    return new float[] {(float) Math.sin(id), (float) Math.cos(id), id % 3 - 1, 0.5f};
  }

  private static float[] title(long id) {
    return new float[] {id % 5, 1, (float) Math.sqrt(id)};
  }

  /** Keyword weights: terms id % 10 and id % 7 + 10, and 99 for every third article. */
  private static Map<Integer, Float> keywords(long id) {
    Map<Integer, Float> k = new TreeMap<>();
    k.put((int) (id % 10), 1 + id % 4 * 0.5f);
    k.put((int) (id % 7 + 10), 0.25f * (id % 3 + 1));
    if (id % 3 == 0) {
      k.put(99, 2f);
    }
    return k;
  }

  private static io.qdrant.client.grpc.Points.Vector sparse(Map<Integer, Float> k) {
    return VectorFactory.vector(List.copyOf(k.values()), List.copyOf(k.keySet()));
  }

  @Test
  void namedAndSparseVectorsAreQueriedAndFused() throws Exception {
    get(client.createCollectionAsync(CreateCollection.newBuilder().setCollectionName("articles")
        .setVectorsConfig(VectorsConfig.newBuilder().setParamsMap(VectorParamsMap.newBuilder()
            .putMap("image", VectorParams.newBuilder().setSize(4).setDistance(Distance.Dot).build())
            .putMap("title", VectorParams.newBuilder().setSize(3).setDistance(Distance.Euclid).build())))
        .setSparseVectorsConfig(SparseVectorConfig.newBuilder().putMap("keywords", SparseVectorParams.getDefaultInstance()))
        .build()));
    List<PointStruct> points = new ArrayList<>();
    for (long id = 1; id <= ARTICLES; id++) {
      Map<String, io.qdrant.client.grpc.Points.Vector> named = new HashMap<>();
      named.put("image", VectorFactory.vector(image(id)));
      named.put("title", VectorFactory.vector(title(id)));
      if (id % 5 != 0) {
        named.put("keywords", sparse(keywords(id)));
      }
      points.add(PointStruct.newBuilder().setId(id(id)).setVectors(namedVectors(named)).putPayload("n", value(id)).build());
    }
    get(client.upsertAsync("articles", points));
    var config = get(client.getCollectionInfoAsync("articles")).getConfig().getParams();
    assertEquals(Set.of("image", "title"), config.getVectorsConfig().getParamsMap().getMapMap().keySet());
    assertEquals(Set.of("keywords"), config.getSparseVectorsConfig().getMapMap().keySet());

    // sparse search: the dot product over shared terms, points without the vector or a shared term left out
    Map<Integer, Float> terms = Map.of(3, 1f, 99, 0.5f, 12, 2f);
    List<ScoredPoint> bySparse = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("keywords")
        .setQuery(nearest(List.copyOf(new TreeMap<>(terms).values()), List.copyOf(new TreeMap<>(terms).keySet()))).setLimit(8).build()));
    List<Map.Entry<Long, Double>> sparseOracle = new ArrayList<>();
    for (long id = 1; id <= ARTICLES; id++) {
      if (id % 5 == 0) {
        continue;
      }
      double s = 0;
      boolean shared = false;
      for (var t : keywords(id).entrySet()) {
        if (terms.containsKey(t.getKey())) {
          s += t.getValue() * terms.get(t.getKey());
          shared = true;
        }
      }
      if (shared) {
        sparseOracle.add(Map.entry(id, s));
      }
    }
    sparseOracle.sort(Map.Entry.<Long, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    assertEquals(sparseOracle.subList(0, 8).stream().map(Map.Entry::getValue).toList(),
        bySparse.stream().map(p -> (double) p.getScore()).toList());

    // Euclid on "title": the nearest first, scores are distances
    float[] t = {2, 1, 3};
    List<ScoredPoint> byTitle = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("title")
        .setQuery(nearest(t)).setLimit(3).build()));
    List<Map.Entry<Long, Double>> titleOracle = new ArrayList<>();
    for (long id = 1; id <= ARTICLES; id++) {
      double d = 0;
      for (int i = 0; i < 3; i++) {
        d += Math.pow(title(id)[i] - t[i], 2);
      }
      titleOracle.add(Map.entry(id, Math.sqrt(d)));
    }
    titleOracle.sort(Map.Entry.<Long, Double>comparingByValue().thenComparing(Map.Entry.comparingByKey()));
    assertRanking(titleOracle.subList(0, 3), byTitle);

    // rrf over an image prefetch and a keywords prefetch is the fusion of their own answers
    float[] img = {1, 0, 0, 1};
    PrefetchQuery imagePrefetch = PrefetchQuery.newBuilder().setUsing("image").setQuery(nearest(img)).setLimit(10).build();
    PrefetchQuery sparsePrefetch = PrefetchQuery.newBuilder().setUsing("keywords")
        .setQuery(nearest(List.copyOf(new TreeMap<>(terms).values()), List.copyOf(new TreeMap<>(terms).keySet()))).setLimit(10).build();
    List<ScoredPoint> fused = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles")
        .addPrefetch(imagePrefetch).addPrefetch(sparsePrefetch).setQuery(fusion(Fusion.RRF)).setLimit(6).build()));
    List<ScoredPoint> imageHits = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("image")
        .setQuery(nearest(img)).setLimit(10).build()));
    List<ScoredPoint> sparseHits = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("keywords")
        .setQuery(sparsePrefetch.getQuery()).setLimit(10).build()));
    Map<Long, Float> rrf = new LinkedHashMap<>();
    for (List<ScoredPoint> source : List.of(imageHits, sparseHits)) {
      for (int rank = 0; rank < source.size(); rank++) {
        rrf.merge(source.get(rank).getId().getNum(), 1f / (rank + 2f), Float::sum);
      }
    }
    List<Map.Entry<Long, Float>> expectedFusion = new ArrayList<>(rrf.entrySet());
    expectedFusion.sort(Map.Entry.<Long, Float>comparingByValue().reversed());
    assertEquals(expectedFusion.subList(0, 6).stream().map(e -> e.getKey() + "=" + e.getValue()).toList(),
        fused.stream().map(p -> p.getId().getNum() + "=" + p.getScore()).toList());

    // query with a recommend input by best score on a named vector, examples left out
    List<ScoredPoint> best = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("image")
        .setQuery(recommend(RecommendInput.newBuilder().addPositive(vectorInput(id(1))).addPositive(vectorInput(id(2)))
            .addNegative(vectorInput(id(3))).setStrategy(RecommendStrategy.BestScore).build())).setLimit(5).build()));
    assertEquals(5, best.size());
    best.forEach(p -> assertFalse(Set.of(1L, 2L, 3L).contains(p.getId().getNum())));
    assertTrue(IntStream.range(1, best.size()).allMatch(i -> best.get(i - 1).getScore() >= best.get(i).getScore()));

    // update one named vector, delete another: the rest of the point stays
    get(client.updateVectorsAsync("articles", List.of(PointVectors.newBuilder().setId(id(7))
        .setVectors(namedVectors(Map.of("title", VectorFactory.vector(9, 9, 9)))).build()), true, null, null));
    get(client.deleteVectorsAsync("articles", List.of("image"), List.of(id(8)), true, null, null));
    List<RetrievedPoint> edited = get(client.retrieveAsync("articles", List.of(id(7), id(8)), enable(false), WithVectorsSelectorFactory.enable(true), null));
    var seven = edited.get(0).getVectors().getVectors().getVectorsMap();
    assertVector(new float[] {9, 9, 9}, seven.get("title").getDataList());
    assertVector(image(7), seven.get("image").getDataList());
    var eight = edited.get(1).getVectors().getVectors().getVectorsMap();
    assertEquals(Set.of("title", "keywords"), eight.keySet());
    assertEquals(List.copyOf(keywords(8).keySet()), eight.get("keywords").getIndices().getDataList());
    List<ScoredPoint> imageAll = get(client.queryAsync(QueryPoints.newBuilder().setCollectionName("articles").setUsing("image")
        .setQuery(nearest(image(8))).setLimit(ARTICLES).build()));
    assertEquals(ARTICLES - 1, imageAll.size());
    assertFalse(imageAll.stream().anyMatch(p -> p.getId().getNum() == 8));
  }

  // ---- aliases and snapshots ----

  @Test
  void anAliasIsQueriedRenamedAndDeleted() throws Exception {
    catalogue("catalogue_v1");
    get(client.createAliasAsync("catalogue", "catalogue_v1"));
    assertTrue(get(client.listAliasesAsync()).contains(alias("catalogue", "catalogue_v1")));
    assertEquals(List.of("catalogue"), get(client.listCollectionAliasesAsync("catalogue_v1")));

    float[] q = {1, 1, 0, -1};
    QueryPoints.Builder query = QueryPoints.newBuilder().setQuery(nearest(q)).setLimit(5);
    List<ScoredPoint> direct = get(client.queryAsync(query.setCollectionName("catalogue_v1").build()));
    assertEquals(direct, get(client.queryAsync(query.setCollectionName("catalogue").build())));
    assertRanking(oracle(q, id -> true).subList(0, 5), direct);

    get(client.renameAliasAsync("catalogue", "catalogue_live"));
    assertEquals(List.of("catalogue_live"), get(client.listCollectionAliasesAsync("catalogue_v1")));
    assertEquals(direct, get(client.queryAsync(query.setCollectionName("catalogue_live").build())));
    assertEquals(Status.Code.NOT_FOUND, failure(() -> get(client.queryAsync(query.setCollectionName("catalogue").build()))).getCode());

    get(client.deleteAliasAsync("catalogue_live"));
    assertFalse(get(client.listAliasesAsync()).stream().anyMatch(a -> a.getCollectionName().equals("catalogue_v1")));
    assertEquals(PRODUCTS, get(client.countAsync("catalogue_v1")));
  }

  @Test
  void snapshotsAreCreatedListedAndDeleted() throws Exception {
    catalogue("snapped");
    SnapshotDescription snapshot = get(client.createSnapshotAsync("snapped"));
    assertTrue(snapshot.getName().startsWith("snapped-") && snapshot.getName().endsWith(".snapshot"), snapshot.getName());
    assertTrue(snapshot.getSize() > 0);
    assertEquals(List.of(snapshot), get(client.listSnapshotAsync("snapped")));
    get(client.deleteSnapshotAsync("snapped", snapshot.getName()));
    assertEquals(List.of(), get(client.listSnapshotAsync("snapped")));
    assertEquals(Status.Code.NOT_FOUND, failure(() -> get(client.deleteSnapshotAsync("snapped", snapshot.getName()))).getCode());
  }

  // ---- the write lock and API keys ----

  @Test
  void underTheWriteLockUpsertsFailWhileSearchesAndDeletesGoOn() throws Exception {
    catalogue("locked");
    PointStruct extra = PointStruct.newBuilder().setId(id(100)).setVectors(vectors(1, 2, 3, 4)).build();
    assertEquals(200, node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup\"}").status());
    try {
      Status refused = failure(() -> get(client.upsertAsync("locked", List.of(extra))));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getCode());
      assertEquals("Storage locked: backup", refused.getDescription());
      assertEquals(List.of(), get(client.retrieveAsync("locked", id(100), null)));

      float[] q = {0, 1, 0, 0};
      assertRanking(oracle(q, id -> true).subList(0, 3), get(client.searchAsync(SearchPoints.newBuilder().setCollectionName("locked")
          .addAllVector(floats(q)).setLimit(3).build())));
      assertEquals(UpdateStatus.Completed, get(client.deleteAsync("locked", List.of(id(1), id(2)))).getStatus());
      assertEquals(PRODUCTS - 2, waitForCount("locked", PRODUCTS - 2));
    } finally {
      assertEquals(200, node.send("POST", "/locks", "{\"write\": false}").status());
    }
    assertEquals(UpdateStatus.Completed, get(client.upsertAsync("locked", List.of(extra))).getStatus());
    assertEquals(1, get(client.retrieveAsync("locked", id(100), null)).size());
  }

  @Test
  void withAnApiKeyTheRightKeyIsServedAndAWrongOneIsUnauthenticated() throws Exception {
    try (TestNode secured = TestNode.start(dir.resolve("secured"), Map.of("QDRANT__SERVICE__API_KEY", "s3cret"))) {
      int port = secured.deployment.grpc().actualPort();
      try (QdrantClient right = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", port, false).withApiKey("s3cret").build());
          QdrantClient wrong = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", port, false).withApiKey("guess").build());
          QdrantClient none = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", port, false).build())) {
        get(right.createCollectionAsync("private", VectorParams.newBuilder().setSize(2).setDistance(Distance.Dot).build()));
        get(right.upsertAsync("private", List.of(PointStruct.newBuilder().setId(id(1)).setVectors(vectors(1, 0)).build())));
        assertEquals(1, get(right.countAsync("private")));
        assertEquals(List.of("private"), get(right.listCollectionsAsync()));

        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> get(wrong.countAsync("private"))).getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> get(wrong.listCollectionsAsync())).getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> get(wrong.upsertAsync("private", List.of(PointStruct.newBuilder()
            .setId(id(2)).setVectors(vectors(0, 1)).build())))).getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, failure(() -> get(none.countAsync("private"))).getCode());
        assertEquals(1, get(right.countAsync("private")));
      }
    }
  }

  // ---- the oracle ----

  /** Points passing {@code keep}, by cosine with {@code q} in double, best first, ties by id. */
  private static List<Map.Entry<Long, Double>> oracle(float[] q, Predicate<Long> keep) {
    float[] unit = normalised(q);
    List<Map.Entry<Long, Double>> out = new ArrayList<>();
    VECTORS.forEach((id, v) -> {
      if (keep.test(id)) {
        float[] u = normalised(v);
        double s = 0;
        for (int d = 0; d < u.length; d++) {
          s += (double) unit[d] * u[d];
        }
        out.add(Map.entry(id, s));
      }
    });
    out.sort(Map.Entry.<Long, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
    return out;
  }

  private static long oracleCount(Predicate<Long> keep) {
    return VECTORS.keySet().stream().filter(keep).count();
  }

  private static float[] normalised(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / Math.sqrt(norm));
    }
    return out;
  }

  private static void assertRanking(List<Map.Entry<Long, Double>> expected, List<ScoredPoint> got) {
    assertEquals(expected.stream().map(Map.Entry::getKey).toList(), got.stream().map(p -> p.getId().getNum()).toList(),
        () -> "expected " + expected + ", got " + got.stream().map(p -> p.getId().getNum() + "=" + p.getScore()).toList());
    for (int i = 0; i < got.size(); i++) {
      assertEquals(expected.get(i).getValue(), got.get(i).getScore(), 1e-5, "score of " + expected.get(i).getKey());
    }
  }

  private static void assertVector(float[] expected, List<Float> got) {
    assertEquals(expected.length, got.size());
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], got.get(i), 1e-6, "component " + i);
    }
  }

  // ---- helpers ----

  /** The future's value; a failed call's {@link StatusRuntimeException} as it is. */
  private static <T> T get(ListenableFuture<T> future) throws Exception {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw s;
      }
      throw e;
    }
  }

  private static Status failure(Executable call) {
    return assertThrows(StatusRuntimeException.class, call).getStatus();
  }

  /** Deletes without {@code wait} are acknowledged before they are visible: polls the count for a few seconds. */
  private static long waitForCount(String collection, long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long count;
    while ((count = get(client.countAsync(collection, null, true))) != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return count;
  }

  private static Map<String, Value> payload(String collection, long id) throws Exception {
    return get(client.retrieveAsync(collection, id(id), true, false, null)).getFirst().getPayloadMap();
  }

  private static Filter filter(io.qdrant.client.grpc.Points.Condition... must) {
    return Filter.newBuilder().addAllMust(List.of(must)).build();
  }

  private static AliasDescription alias(String alias, String collection) {
    return AliasDescription.newBuilder().setAliasName(alias).setCollectionName(collection).build();
  }

  private static List<Long> ids(List<RetrievedPoint> points) {
    return points.stream().map(p -> p.getId().getNum()).toList();
  }

  private static List<Float> floats(float[] values) {
    List<Float> out = new ArrayList<>(values.length);
    for (float v : values) {
      out.add(v);
    }
    return out;
  }
}
