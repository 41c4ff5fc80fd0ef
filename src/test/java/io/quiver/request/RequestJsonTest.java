package io.quiver.request;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Datetimes;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.QueryOperation.Shape;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The canonical wire form ({@link RequestJson}): every request the parsers produce, and every part a
 * shard message carries alone, reads back equal from what is written; writing is deterministic and
 * idempotent. Requests come from {@link RandomRequests} (exact numbers), from JSON with numbers of
 * any bits parsed by the edge's parsers, and from {@link RequestSamples}. Seeded as {@link
 * RequestRoundTripTest} ({@code -Dtests.seed}, {@code -Dtests.iters}).
 */
@Timeout(120)
class RequestJsonTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final long SEED = seed();
  private static final int ITERATIONS = Integer.getInteger("tests.iters", 1000);

  // ---- whole requests ----

  @Test
  void everySampleRoundTrips() {
    for (RequestSamples.Sample s : RequestSamples.all()) {
      checkRequest(s.parse(), s::toString);
    }
  }

  @Test
  void randomRequestsRoundTrip() {
    repeat(0, (gen, r) -> checkRequest(randomRequest(gen), () -> "random request"));
  }

  @Test
  void requestsWithNumbersOfAnyBitsRoundTrip() {
    repeat(1, (gen, r) -> {
      Request parsed = switch (r.nextInt(4)) {
        case 0 -> StorageOp.UPSERT_POINTS.parse("c", reread(wildUpsert(r)), Map.of("wait", "true"));
        case 1 -> StorageOp.QUERY_POINTS.parse("c", reread(wildQuery(r)), Map.of());
        case 2 -> StorageOp.SCROLL_POINTS.parse("c", reread(F.objectNode().<ObjectNode>set("filter", wildFilter(r))
            .set("order_by", F.objectNode().put("key", "t").put("start_from", wildDouble(r)))), Map.of());
        default -> StorageOp.SET_PAYLOAD.parse("c", reread(F.objectNode().<ObjectNode>set("payload", wildPayload(r, 0))
            .set("points", F.arrayNode().add(bigId(r)))), Map.of());
      };
      checkRequest(parsed, () -> "wild");
    });
  }

  @Test
  void writingIsDeterministicAndIdempotent() {
    repeat(2, (gen, r) -> {
      Request x = randomRequest(gen);
      byte[] once = RequestJson.write(x);
      assertArrayEquals(once, RequestJson.write(x));
      assertArrayEquals(once, RequestJson.write(RequestJson.read(once)), () -> new String(once, StandardCharsets.UTF_8));
    });
  }

  @Test
  void theEnvelopeIsWhatTheJsonBusTakes() {
    Request x = RequestSamples.of(StorageOp.SEARCH_POINTS).parse();
    JsonNode envelope = RequestJson.REQUEST.read(RequestJson.write(x)) == null ? null : tree(RequestJson.write(x));
    assertEquals("search_points", envelope.get("op").textValue());
    assertEquals(x, StorageOp.valueOf("SEARCH_POINTS").parse(envelope.get("collection").textValue(), envelope.get("body"), Map.of()));
  }

  @Test
  void badEnvelopesAreRefusedAsTheBusRefusesThem() {
    assertEquals("Format error in JSON body: missing field `op`", message(() -> RequestJson.REQUEST.read("{}")));
    assertEquals(400, assertThrows(ApiException.class, () -> RequestJson.REQUEST.read("{\"op\": \"fly\"}")).status());
    assertEquals(400, assertThrows(ApiException.class, () -> RequestJson.REQUEST.read("{\"op\": ")).status());
  }

  // ---- parts ----

  @Test
  void partsRoundTrip() {
    repeat(3, (gen, r) -> {
      QueryRequest q = gen.query();
      check(RequestJson.QUERY_REQUEST, q);
      check(RequestJson.STAGE, q.root());
      if (q.root().query() != null) {
        check(RequestJson.QUERY, q.root().query());
      }
      if (q.root().query() instanceof Query.Formula f) {
        check(RequestJson.EXPRESSION, f.expression());
      }
      check(RequestJson.QUERY_BATCH, gen.list(0, 3, gen::query));
      PointOperation op = gen.operation();
      check(RequestJson.OPERATION, op);
      check(RequestJson.OPERATIONS, gen.list(0, 3, gen::operation));
      check(RequestJson.FILTER, gen.filter(0));
      check(RequestJson.POINT_ID, gen.id());
      check(RequestJson.WITH_PAYLOAD, gen.withPayload());
      check(RequestJson.WITH_VECTOR, gen.withVector());
      check(RequestJson.SHARD_KEY, gen.shardKey());
      check(RequestJson.SEARCH_PARAMS, gen.searchParams());
      check(RequestJson.ORDER_BY, gen.orderBy());
      check(RequestJson.READ_PARAMS, readParams(gen));
      check(RequestJson.WRITE_PARAMS, new WriteParams(r.nextBoolean(), gen.pick(List.of(WriteParams.Ordering.values()))));
    });
  }

  @Test
  void idsKeepAllSixtyFourBits() {
    for (long v : new long[] {0, 1, Long.MAX_VALUE, Long.MIN_VALUE, -1}) {
      check(RequestJson.POINT_ID, PointId.of(v));
    }
    assertEquals("18446744073709551615", RequestJson.POINT_ID.writeString(PointId.of(-1)));
    check(RequestJson.POINT_ID, new PointId.Uuid(new UUID(-1, 0)));
  }

  @Test
  void datetimesKeepEveryMicrosecondQdrantCanSay() {
    long min = Datetimes.parseMicros("0000-01-01T00:00:00+23:59");
    long max = Datetimes.parseMicros("9999-12-31T23:59:59.999999-23:59");
    Random r = new Random(SEED);
    for (long micros : new long[] {min, max, 0, -1, 1, min + 1, max - 1}) {
      assertEquals(micros, Datetimes.parseMicros(CanonicalWriter.datetime(micros)), () -> "" + micros);
    }
    for (int i = 0; i < 20_000; i++) {
      long micros = min + Math.floorMod(r.nextLong(), max - min + 1);
      assertEquals(micros, Datetimes.parseMicros(CanonicalWriter.datetime(micros)), () -> "" + micros);
    }
  }

  @Test
  void floatsOfAnyBitsReadBackAsThemselves() {
    Random r = new Random(SEED);
    float[] values = new float[200_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = wildFloat(r);
    }
    values[0] = Float.MIN_VALUE;
    values[1] = -Float.MAX_VALUE;
    values[2] = -0f;
    Query q = new Query.Nearest(new VectorInput.Dense(values), null);
    check(RequestJson.QUERY, q);
  }

  @Test
  void decaysOfScaleOneAreExact() {
    for (Expression.DecayKind kind : Expression.DecayKind.values()) {
      for (int i = 1; i < 1 << 12; i++) {
        float midpoint = i / (float) (1 << 12);
        Expression.Decay d = new Expression.Decay(kind, new Expression.Score(0), null,
            CanonicalWriter.DecayParams.lambda(kind, midpoint, 1f));
        check(RequestJson.EXPRESSION, d);
      }
    }
  }

  @Test
  void bm25DocumentsKeepTheirOptions() {
    String body = "{'points': [{'id': 1, 'vector': {'text': {'model': 'qdrant/bm25', 'text': 'red fox',"
        + " 'options': {'language': 'french', 'k': 1.5}}}}]}";
    checkRequest(StorageOp.UPSERT_POINTS.parse("c", RequestSamples.json(body), Map.of()), () -> body);
  }

  // ---- the canonical spelling ----

  @Test
  void goldenUpsert() {
    String body = "{'batch': {'ids': [7, '550E8400E29B41D4A716446655440000'], 'vectors': {'img': [[0.1, 2], [3, 4.5]],"
        + " 'text': [{'values': [0.5, 0.25], 'indices': [9, 2]}, {'indices': [], 'values': []}]},"
        + " 'payloads': [{'city': 'Paris', 'n': 12345678901234567890}, null]}, 'shard_key': ['eu']}";
    Request x = StorageOp.UPSERT_POINTS.parse("c", RequestSamples.json(body), Map.of("wait", "true", "ordering", "weak"));
    assertGolden("{'op':'upsert_points','collection':'c','params':{'wait':'true'},'body':{'points':["
        + "{'id':7,'vector':{'img':[0.1,2.0],'text':{'indices':[2,9],'values':[0.25,0.5]}},"
        + "'payload':{'city':'Paris','n':12345678901234567890}},"
        + "{'id':'550e8400-e29b-41d4-a716-446655440000','vector':{'img':[3.0,4.5],'text':{'indices':[],'values':[]}}}],"
        + "'shard_key':'eu'}}", x);
  }

  @Test
  void goldenQueryWithPrefetchTree() {
    String body = "{'prefetch': [{'query': {'indices': [3], 'values': [1]}, 'using': 'text', 'limit': 50},"
        + " {'prefetch': {'query': [0.5, 0.25], 'limit': 100}, 'query': {'nearest': [1, 0], 'mmr': {'diversity': 0.5}},"
        + " 'filter': {'must': {'key': 'city', 'match': {'value': 'Paris'}}}}],"
        + " 'query': {'rrf': {'k': 2}}, 'with_payload': ['b', 'a'], 'with_vectors': false, 'limit': 10, 'offset': 0}";
    Request x = StorageOp.QUERY_POINTS.parse("c", RequestSamples.json(body), Map.of("consistency", "majority"));
    assertGolden("{'op':'query_points','collection':'c','params':{'consistency':'majority'},'body':{'prefetch':["
        + "{'query':{'indices':[3],'values':[1.0]},'using':'text','limit':50},"
        + "{'prefetch':[{'query':[0.5,0.25],'limit':100}],'query':{'nearest':[1.0,0.0],'mmr':{'diversity':0.5}},"
        + "'filter':{'must':[{'key':'city','match':{'value':'Paris'}}]}}],"
        + "'query':{'fusion':'rrf'},'limit':10,'with_payload':['a','b']}}", x);
  }

  @Test
  void goldenLegacyRecommendStaysALegacyRecommend() {
    String body = "{'positive': [1], 'negative': [[0.5, 0.5]], 'strategy': 'best_score', 'using': 'img',"
        + " 'lookup_from': {'collection': 'other'}, 'limit': 5, 'with_payload': true}";
    Request x = StorageOp.RECOMMEND_POINTS.parse("c", RequestSamples.json(body), Map.of("timeout", "3"));
    assertGolden("{'op':'recommend_points','collection':'c','params':{'timeout':'3'},'body':{'positive':[1],"
        + "'negative':[[0.5,0.5]],'strategy':'best_score','using':'img','lookup_from':{'collection':'other','vector':'img'},"
        + "'limit':5,'with_payload':true}}", x);
  }

  @Test
  void goldenFormula() {
    String body = "{'prefetch': [{'query': [1, 0]}], 'query': {'formula': {'sum': ['$score', {'mult': [0.5, 'rating']},"
        + " {'gauss_decay': {'x': {'geo_distance': {'origin': {'lon': 2.35, 'lat': 48.85}, 'to': 'loc'}}, 'midpoint': 0.25}},"
        + " {'key': 'tags', 'match': {'any': ['red']}}, {'datetime': '2024-05-01T12:00:00.5+02:00'}]},"
        + " 'defaults': {'rating': 1, '$score[0]': 0}}}";
    Request x = StorageOp.QUERY_POINTS.parse("c", RequestSamples.json(body), Map.of());
    assertGolden("{'op':'query_points','collection':'c','body':{'prefetch':[{'query':[1.0,0.0]}],'query':{'formula':{'sum':"
        + "['$score[0]',{'mult':[0.5,'rating']},{'gauss_decay':{'x':{'geo_distance':{'origin':{'lon':2.35,'lat':48.85},'to':'loc'}},"
        + "'midpoint':0.25}},{'key':'tags','match':{'any':['red']}},{'datetime':'2024-05-01T10:00:00.500000Z'}]},"
        + "'defaults':{'rating':1,'$score[0]':0.0}}}}", x);
  }

  @Test
  void goldenFilterPart() {
    String filter = "{'should': {'key': 'price', 'range': {'gte': 1e2, 'lt': 200.5}}, 'min_should': {'conditions':"
        + " [{'has_id': ['00000000-0000-0000-0000-00000000000A', 18446744073709551615]}, {'nested': {'key': 'a[]', 'filter':"
        + " {'must_not': [{'is_empty': {'key': 'b'}}]}}}], 'min_count': 1}}";
    assertEquals(("{'should':[{'key':'price','range':{'lt':200.5,'gte':100.0}}],'min_should':{'conditions':["
        + "{'has_id':['00000000-0000-0000-0000-00000000000a',18446744073709551615]},"
        + "{'nested':{'key':'a[]','filter':{'must_not':[{'is_empty':{'key':'b'}}]}}}],'min_count':1}}").replace('\'', '"'),
        RequestJson.FILTER.writeString(RequestJson.FILTER.read(RequestSamples.json(filter))));
  }

  // ---- what requests the generator makes ----

  private static Request randomRequest(RandomRequests gen) {
    Random r = gen.random();
    ReadParams read = readParams(gen);
    return switch (r.nextInt(10)) {
      case 0 -> new QueryOperation.Queries("c", List.of(gen.query()), Shape.QUERY, read);
      case 1 -> new QueryOperation.Queries("c", gen.list(1, 3, gen::query), Shape.QUERY_BATCH, read);
      case 2 -> new QueryOperation.Queries("c", List.of(RequestRoundTripTest.legacyModel(gen)), Shape.POINTS, read);
      case 3 -> {
        QueryRequest first = RequestRoundTripTest.legacyModel(gen);
        StorageOp op = CanonicalWriter.legacyOp(first, true);
        List<QueryRequest> more = gen.list(0, 2, () -> RequestRoundTripTest.legacyModel(gen)).stream()
            .filter(q -> CanonicalWriter.legacyOp(q, true) == op).toList();
        yield new QueryOperation.Queries("c", java.util.stream.Stream.concat(java.util.stream.Stream.of(first), more.stream()).toList(),
            Shape.POINTS_BATCH, read);
      }
      case 4 -> new QueryOperation.Groups("c", gen.groups(), false, read);
      case 5 -> {
        QueryRequest q;
        do {
          q = RequestRoundTripTest.legacyModel(gen);
        } while (!(q.root().query() instanceof Query.Nearest || q.root().query() instanceof Query.Recommend));
        QueryGroupsRequest.WithLookup lookup = gen.chance(2) ? null : new QueryGroupsRequest.WithLookup("cities", gen.withPayload(),
            gen.withVector());
        yield new QueryOperation.Groups("c", new QueryGroupsRequest(q, gen.path(), 1 + r.nextInt(100), q.root().limit(), lookup), true, read);
      }
      case 6, 7 -> gen.write();
      default -> switch (r.nextInt(5)) {
        case 0 -> new PointRead.Retrieve("c", gen.list(0, 3, gen::id), gen.withPayload(), gen.withVector(), shardKey(gen), read);
        case 1 -> {
          OrderBy order = gen.chance(2) ? gen.orderBy() : null;
          yield new PointRead.Scroll("c", gen.chance(2) ? gen.filter(0) : null, gen.chance(2) ? null : 1 + r.nextInt(100),
              order == null && gen.chance(2) ? gen.id() : null, order, gen.withPayload(), gen.withVector(), shardKey(gen), read);
        }
        case 2 -> new PointRead.Count("c", gen.chance(2) ? gen.filter(0) : null, r.nextBoolean(), shardKey(gen), read);
        case 3 -> new PointRead.Facet("c", gen.path(), gen.chance(2) ? gen.filter(0) : null, gen.chance(2) ? null : 1 + r.nextInt(100),
            r.nextBoolean(), shardKey(gen), read);
        default -> new PointRead.Matrix("c", gen.chance(2) ? gen.filter(0) : null, gen.chance(2) ? null : 2 + r.nextInt(100),
            gen.chance(2) ? null : 1 + r.nextInt(10), gen.chance(2) ? "" : "img", r.nextBoolean(), shardKey(gen), read);
      };
    };
  }

  private static ShardKeySelector shardKey(RandomRequests gen) {
    return gen.chance(4) ? gen.shardKey() : null;
  }

  private static ReadParams readParams(RandomRequests gen) {
    if (gen.chance(2)) {
      return ReadParams.DEFAULT;
    }
    return new ReadParams(gen.chance(2) ? null : 1 + gen.random().nextInt(100), gen.pick(List.of("majority", "quorum", "all", "2")));
  }

  // ---- JSON with numbers of any bits, as clients send it ----

  private static ObjectNode wildUpsert(Random r) {
    ObjectNode body = F.objectNode();
    ArrayNode points = body.putArray("points");
    for (int i = r.nextInt(4); i >= 0; i--) {
      ObjectNode p = points.addObject().set("id", bigId(r));
      ArrayNode dense = F.arrayNode();
      for (int d = 0; d < 8; d++) {
        dense.add(wildFloat(r));
      }
      ObjectNode sparse = F.objectNode();
      sparse.putArray("indices").add(4_294_967_295L).add(r.nextInt(1000));
      sparse.putArray("values").add(wildFloat(r)).add(wildFloat(r));
      p.putObject("vector").<ObjectNode>set("dense", dense).set("sparse", sparse);
      p.set("payload", wildPayload(r, 0));
    }
    if (r.nextBoolean()) {
      body.set("update_filter", wildFilter(r));
    }
    return body;
  }

  private static ObjectNode wildQuery(Random r) {
    ObjectNode body = F.objectNode();
    ArrayNode dense = F.arrayNode();
    for (int d = 0; d < 8; d++) {
      dense.add(wildFloat(r));
    }
    body.putArray("prefetch").addObject().<ObjectNode>set("query", dense).put("score_threshold", wildFloat(r))
        .set("filter", wildFilter(r));
    ObjectNode formula = F.objectNode();
    formula.putArray("sum").add(wildFloat(r)).add("$score").addObject().putObject("div").put("left", wildFloat(r))
        .put("right", "x").put("by_zero_default", wildFloat(r));
    body.putObject("query").<ObjectNode>set("formula", formula).putObject("defaults").put("x", wildDouble(r)).put("$score", wildDouble(r));
    body.putObject("params").put("hnsw_ef", 64).putObject("quantization").put("oversampling", wildDouble(r));
    return body;
  }

  private static ObjectNode wildFilter(Random r) {
    ObjectNode f = F.objectNode();
    ArrayNode must = f.putArray("must");
    must.addObject().put("key", "price").putObject("range").put("gt", wildDouble(r)).put("lte", wildDouble(r));
    long micros = Math.floorMod(r.nextLong(), 253_402_300_799_000_000L);
    must.addObject().put("key", "t").putObject("range").put("gte", CanonicalWriter.datetime(micros))
        .put("lt", "2030-01-01 10:00:00.123456789+05:30");
    ObjectNode geo = must.addObject().put("key", "loc").putObject("geo_radius");
    geo.putObject("center").put("lon", (r.nextDouble() - 0.5) * 360).put("lat", (r.nextDouble() - 0.5) * 180);
    geo.put("radius", wildDouble(r));
    ObjectNode polygon = must.addObject().put("key", "loc").putObject("geo_polygon");
    ArrayNode ring = polygon.putObject("exterior").putArray("points");
    double lon = (r.nextDouble() - 0.5) * 360;
    double lat = (r.nextDouble() - 0.5) * 180;
    ring.addObject().put("lon", lon).put("lat", lat);
    ring.addObject().put("lon", r.nextDouble()).put("lat", r.nextDouble());
    ring.addObject().put("lon", -r.nextDouble()).put("lat", r.nextDouble());
    ring.addObject().put("lon", lon).put("lat", lat);
    ObjectNode box = must.addObject().put("key", "loc").putObject("geo_bounding_box");
    box.putObject("top_left").put("lon", -r.nextDouble()).put("lat", r.nextDouble());
    box.putObject("bottom_right").put("lon", r.nextDouble()).put("lat", -r.nextDouble());
    f.putObject("must_not").put("key", "n").putObject("values_count").put("gte", new BigInteger("99999999999999999999"));
    return f;
  }

  private static ObjectNode wildPayload(Random r, int depth) {
    ObjectNode p = F.objectNode();
    p.put("f", wildDouble(r)).put("i", r.nextLong()).put("big", new BigInteger(80, r)).put("s", "Zoë \"quoted\" \\ \n \u0001")
        .put("when", "2024-02-29T23:59:59.999999Z").put("small", r.nextInt(100));
    p.putArray("arr").add(wildDouble(r)).add(F.nullNode()).add(true).add(F.arrayNode().add(1));
    p.putObject("geo").put("lon", 2.35).put("lat", 48.85);
    if (depth < 3) {
      p.set("nested", wildPayload(r, depth + 1));
    }
    return p;
  }

  private static JsonNode bigId(Random r) {
    return r.nextBoolean() ? F.numberNode(new BigInteger(64, r)) : F.textNode(new UUID(r.nextLong(), r.nextLong()).toString());
  }

  private static float wildFloat(Random r) {
    float f;
    do {
      f = Float.intBitsToFloat(r.nextInt());
    } while (!Float.isFinite(f));
    return f;
  }

  private static double wildDouble(Random r) {
    double d;
    do {
      d = Double.longBitsToDouble(r.nextLong());
    } while (!Double.isFinite(d));
    return d;
  }

  // ---- checks ----

  private static void checkRequest(Request x, java.util.function.Supplier<String> what) {
    byte[] json = RequestJson.write(x);
    Request back;
    try {
      back = RequestJson.read(json);
    } catch (RuntimeException e) {
      throw new AssertionError(what.get() + ": " + new String(json, StandardCharsets.UTF_8), e);
    }
    assertEquals(x, back, () -> what.get() + ": " + new String(json, StandardCharsets.UTF_8));
    assertArrayEquals(json, RequestJson.write(back));
  }

  private static <T> void check(RequestJson.Form<T> form, T x) {
    byte[] json = form.write(x);
    T back;
    try {
      back = form.read(json);
    } catch (RuntimeException e) {
      throw new AssertionError(new String(json, StandardCharsets.UTF_8), e);
    }
    assertEquals(x, back, () -> new String(json, StandardCharsets.UTF_8));
  }

  private static void assertGolden(String singleQuoted, Request x) {
    String expected = singleQuoted.replace('\'', '"');
    assertEquals(expected, RequestJson.REQUEST.writeString(x));
    assertEquals(x, RequestJson.REQUEST.read(expected));
  }

  private static String message(Runnable r) {
    return assertThrows(ApiException.class, r::run).getMessage();
  }

  private static JsonNode tree(byte[] json) {
    try {
      return Json.MAPPER.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode reread(JsonNode json) {
    return tree(json.toString().getBytes(StandardCharsets.UTF_8));
  }

  @FunctionalInterface
  private interface Property {
    void check(RandomRequests gen, Random r);
  }

  private static void repeat(int property, Property p) {
    Random master = new Random(SEED + property);
    for (int i = 0; i < ITERATIONS; i++) {
      long seed = master.nextLong();
      Random r = new Random(seed);
      try {
        p.check(new RandomRequests(r), r);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("failed with -Dtests.seed=" + Long.toHexString(SEED) + " at iteration " + i + ": " + e.getMessage(), e);
      }
    }
  }

  private static long seed() {
    String s = System.getProperty("tests.seed");
    return s == null || s.isBlank() ? 0x5EED_0F_31DEL : Long.parseUnsignedLong(s.split(":")[0], 16);
  }
}
