package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.qdrant.client.grpc.Points;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.LookupLocation;
import io.quiver.request.PointOperation;
import io.quiver.request.PointParser;
import io.quiver.request.PointWrite;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryOperation;
import io.quiver.request.QueryOperation.Shape;
import io.quiver.request.QueryRequest;
import io.quiver.request.RandomRequests;
import io.quiver.request.Stage;
import io.quiver.request.VectorInput;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Randomized round trips through the gRPC edge: random valid requests ({@link RandomRequests}, only
 * what the protobuf messages can say) are written as the messages a client sends ({@link
 * GrpcRequestWriter}), sent through the wire format, and mapped as the gRPC services map them: the
 * result must equal the model. {@code RequestRoundTripTest} shows that REST parses the model's JSON
 * into the same model, so both edges build the same request. Fixed cases compare filters the
 * generator does not make (geo, datetime ranges, text_any) with REST's parse of the same JSON.
 *
 * <p>The seed is fixed; explore with {@code -Dtests.seed=<hex>} and {@code -Dtests.iters=N}.
 */
@Timeout(60)
class GrpcRoundTripTest {
  private static final long SEED = seed();
  private static final int ITERATIONS = Integer.getInteger("tests.iters", 300);

  @Test
  void universalQueries() {
    repeat(0, (gen, write) -> {
      QueryRequest model = gen.query();
      Points.QueryPoints message = wire(write.query(model));
      QueryOperation.Queries parsed = QueryConvert.query(message);
      assertSame(List.of(model), parsed.requests(), message);
      assertEquals(Shape.QUERY, parsed.shape());
    });
  }

  @Test
  void queryBatches() {
    repeat(1, (gen, write) -> {
      List<QueryRequest> models = gen.list(1, 4, gen::query);
      var batch = Points.QueryBatchPoints.newBuilder().setCollectionName("c");
      models.forEach(m -> batch.addQueryPoints(write.query(m)));
      Points.QueryBatchPoints message = wire(batch.build());
      assertSame(models, QueryConvert.queryBatch(message).requests(), message);
    });
  }

  @Test
  void groupedQueries() {
    repeat(2, (gen, write) -> {
      QueryGroupsRequest model = gen.groups();
      Points.QueryPointGroups message = wire(write.groups(model));
      QueryOperation.Groups parsed = QueryConvert.queryGroups(message);
      assertSame(model, parsed.request(), message);
      assertEquals(false, parsed.legacy());
    });
  }

  @Test
  void pointWrites() {
    repeat(3, (gen, write) -> {
      PointWrite model = gen.write();
      if (model.batch()) {
        Points.UpdateBatchPoints message = wire(write.batch(model.operations(), model.write()));
        assertSame(model, PointConvert.batch(message), message);
        return;
      }
      PointOperation op = model.operations().getFirst();
      Message message = wire(write.operation(op, model.write()));
      PointWrite parsed = switch (message) {
        case Points.UpsertPoints m -> PointConvert.upsert(m);
        case Points.DeletePoints m -> PointConvert.delete(m);
        case Points.SetPayloadPoints m -> PointConvert.setPayload(m, ((PointOperation.SetPayload) op).overwrite());
        case Points.DeletePayloadPoints m -> PointConvert.deletePayload(m);
        case Points.ClearPayloadPoints m -> PointConvert.clearPayload(m);
        case Points.UpdatePointVectors m -> PointConvert.updateVectors(m);
        case Points.DeletePointVectors m -> PointConvert.deleteVectors(m);
        default -> throw new AssertionError("unexpected message " + message);
      };
      assertSame(model, parsed, message);
    });
  }

  @Test
  void legacySearchesAreTheUniversalQueriesThatSayTheSame() {
    repeat(4, (gen, write) -> {
      QueryRequest model = legacyModel(gen);
      switch (model.root().query()) {
        case Query.Nearest n -> {
          Points.SearchPoints message = wire(write.search(model));
          assertSame(List.of(model), QueryConvert.search(message).requests(), message);
        }
        case Query.Recommend rec -> {
          Points.RecommendPoints message = wire(write.recommend(model));
          assertSame(List.of(model), QueryConvert.recommend(message).requests(), message);
        }
        default -> {
          Points.DiscoverPoints message = wire(write.discover(model));
          assertSame(List.of(model), QueryConvert.discover(message).requests(), message);
        }
      }
    });
  }

  @Test
  void legacyGroups() {
    repeat(5, (gen, write) -> {
      QueryRequest legacy = legacyModel(gen);
      if (legacy.root().query() instanceof Query.Discover || legacy.root().query() instanceof Query.Context) {
        return;
      }
      QueryRequest query = new QueryRequest(legacy.root(), 0, legacy.withPayload(), legacy.withVector(), legacy.shardKey());
      var lookup = gen.chance(2) ? null : new QueryGroupsRequest.WithLookup("authors", gen.withPayload(), gen.withVector());
      QueryGroupsRequest model = new QueryGroupsRequest(query, gen.path(), 1 + gen.random().nextInt(100), query.root().limit(), lookup);
      var skip = Set.of("limit", "offset");
      Message message;
      QueryOperation.Groups parsed;
      if (query.root().query() instanceof Query.Nearest) {
        var b = copy(write.search(query), Points.SearchPointGroups.newBuilder(), skip).setGroupBy(model.groupBy().toString())
            .setGroupSize(model.groupSize()).setLimit(model.groups());
        if (lookup != null) {
          b.setWithLookup(withLookup(lookup, write));
        }
        Points.SearchPointGroups m = wire(b.build());
        message = m;
        parsed = QueryConvert.searchGroups(m);
      } else {
        var b = copy(write.recommend(query), Points.RecommendPointGroups.newBuilder(), skip).setGroupBy(model.groupBy().toString())
            .setGroupSize(model.groupSize()).setLimit(model.groups());
        if (lookup != null) {
          b.setWithLookup(withLookup(lookup, write));
        }
        Points.RecommendPointGroups m = wire(b.build());
        message = m;
        parsed = QueryConvert.recommendGroups(m);
      }
      assertSame(model, parsed.request(), message);
      assertEquals(true, parsed.legacy());
    });
  }

  private static Points.WithLookup withLookup(QueryGroupsRequest.WithLookup lookup, GrpcRequestWriter write) {
    // the universal query's writer knows with_lookup: borrow it through a grouped query
    QueryRequest any = new QueryRequest(new Stage(List.of(), null, "", null, null, null, null, null), 0,
        io.quiver.request.WithPayload.NONE, io.quiver.request.WithVector.NONE, null);
    return write.groups(new QueryGroupsRequest(any, io.quiver.engine.filter.JsonPath.parse("k"), 1, 1, lookup)).getWithLookup();
  }

  /**
   * A request the legacy messages can say: one stage with a limit; a nearest (dense, or sparse by
   * name), recommend (ids before vectors, as the messages carry them; a positive example unless the
   * strategy scores negatives alone), discover or context query; a lookup that names its vector; no
   * score threshold for discoveries (their message has none).
   */
  private static QueryRequest legacyModel(RandomRequests gen) {
    String using = gen.chance(2) ? "" : gen.pick(List.of("img", "text"));
    Query query = switch (gen.random().nextInt(4)) {
      case 0 -> new Query.Nearest(gen.chance(3) ? gen.sparse() : gen.dense(1 + gen.random().nextInt(4)), null);
      case 1 -> {
        Query.RecommendStrategy strategy = gen.pick(List.of(Query.RecommendStrategy.values()));
        List<VectorInput> negative = idsFirst(gen.list(0, 2, () -> example(gen)));
        boolean positiveNeeded = strategy == Query.RecommendStrategy.AVERAGE_VECTOR || negative.isEmpty();
        yield new Query.Recommend(idsFirst(gen.list(positiveNeeded ? 1 : 0, 3, () -> example(gen))), negative, strategy);
      }
      case 2 -> new Query.Discover(example(gen), gen.list(0, 2, () -> new Query.ContextPair(example(gen), example(gen))));
      default -> new Query.Context(gen.list(1, 2, () -> new Query.ContextPair(example(gen), example(gen))));
    };
    boolean discovery = query instanceof Query.Discover || query instanceof Query.Context;
    LookupLocation lookup = query instanceof Query.Nearest || gen.chance(2) ? null
        : new LookupLocation("other", gen.chance(2) ? using : "pic");
    Stage root = new Stage(List.of(), query, using, gen.chance(3) ? gen.filter(1) : null, gen.searchParams(),
        !discovery && gen.chance(3) ? gen.quarter(-8, 8) : null, 1 + gen.random().nextInt(100), lookup);
    return new QueryRequest(root, gen.chance(3) ? gen.random().nextInt(50) : 0, gen.withPayload(), gen.withVector(),
        gen.chance(4) ? gen.shardKey() : null);
  }

  private static VectorInput example(RandomRequests gen) {
    return gen.chance(3) ? gen.dense(1 + gen.random().nextInt(3)) : new VectorInput.Id(gen.id());
  }

  private static List<VectorInput> idsFirst(List<VectorInput> examples) {
    List<VectorInput> out = new ArrayList<>(examples);
    out.sort(Comparator.comparingInt(v -> v instanceof VectorInput.Id ? 0 : 1));
    return out;
  }

  // ---- filters the generator does not make, against REST's parse of the same JSON ----

  @Test
  void geoDatetimeAndTextAnyFiltersAreRestsFilters() throws Exception {
    var geo = Points.Filter.newBuilder()
        .addMust(field("loc", f -> f.setGeoRadius(Points.GeoRadius.newBuilder().setCenter(point(13.4, 52.5)).setRadius(1500.5f))))
        .addMust(field("loc", f -> f.setGeoBoundingBox(Points.GeoBoundingBox.newBuilder().setTopLeft(point(13, 53))
            .setBottomRight(point(14, 52)))))
        .addShould(field("area", f -> f.setGeoPolygon(Points.GeoPolygon.newBuilder()
            .setExterior(ring(point(0, 0), point(10, 0), point(10, 10), point(0, 0)))
            .addInteriors(ring(point(1, 1), point(2, 1), point(2, 2), point(1, 1))))))
        .addMustNot(field("at", f -> f.setDatetimeRange(Points.DatetimeRange.newBuilder()
            .setGte(Timestamp.newBuilder().setSeconds(1_700_000_000).setNanos(123_456_000))
            .setLt(Timestamp.newBuilder().setSeconds(1_800_000_000)))))
        .addMustNot(Points.Condition.getDefaultInstance())
        .setMinShould(Points.MinShould.newBuilder().setMinCount(1)
            .addConditions(field("n", f -> f.setValuesCount(Points.ValuesCount.newBuilder().setGte(2).setLt(5))))
            .addConditions(Points.Condition.newBuilder().setNested(Points.NestedCondition.newBuilder().setKey("items")
                .setFilter(Points.Filter.newBuilder().addMust(field("sku", f -> f.setMatch(textAny("red blue"))))))))
        .build();
    JsonNode json = Json.MAPPER.readTree("""
        {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1500.5}},
                  {"key": "loc", "geo_bounding_box": {"top_left": {"lon": 13, "lat": 53}, "bottom_right": {"lon": 14, "lat": 52}}}],
         "should": [{"key": "area", "geo_polygon": {
             "exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 10, "lat": 0}, {"lon": 10, "lat": 10}, {"lon": 0, "lat": 0}]},
             "interiors": [{"points": [{"lon": 1, "lat": 1}, {"lon": 2, "lat": 1}, {"lon": 2, "lat": 2}, {"lon": 1, "lat": 1}]}]}}],
         "must_not": [{"key": "at", "range": {"gte": "2023-11-14T22:13:20.123456Z", "lt": "2027-01-15T08:00:00Z"}}],
         "min_should": {"min_count": 1, "conditions": [
             {"key": "n", "values_count": {"gte": 2, "lt": 5}},
             {"nested": {"key": "items", "filter": {"must": [{"key": "sku", "match": {"text_any": "red blue"}}]}}}]}}""");
    assertEquals(PointParser.filter(json, "filter"), FilterConvert.filter(wire(geo), "filter"));
  }

  @Test
  void filtersTheProtobufGetsWrongAreRefusedInQdrantsWords() {
    var noMatch = Points.Filter.newBuilder().addMust(field("a", f -> f.setMatch(Points.Match.getDefaultInstance()))).build();
    assertEquals("Malformed Match condition", assertThrows(ApiException.class, () -> FilterConvert.filter(noMatch, "filter")).getMessage());
    var halfBox = Points.Filter.newBuilder().addMust(field("a", f -> f.setGeoBoundingBox(Points.GeoBoundingBox.newBuilder()
        .setTopLeft(point(1, 1))))).build();
    assertEquals("Malformed GeoBoundingBox type", assertThrows(ApiException.class, () -> FilterConvert.filter(halfBox, "filter")).getMessage());
    var farAway = Points.Filter.newBuilder().addMust(field("a", f -> f.setGeoRadius(Points.GeoRadius.newBuilder().setCenter(point(200, 1))
        .setRadius(1)))).build();
    ApiException rest = assertThrows(ApiException.class, () -> PointParser.filter(Json.MAPPER.readTree(
        "{\"must\": [{\"key\": \"a\", \"geo_radius\": {\"center\": {\"lon\": 200, \"lat\": 1}, \"radius\": 1}}]}"), "filter"));
    ApiException grpc = assertThrows(ApiException.class, () -> FilterConvert.filter(farAway, "filter"));
    assertEquals(rest.getMessage(), grpc.getMessage());
    assertEquals(rest.status(), grpc.status());
  }

  private static Points.Condition field(String key, java.util.function.Consumer<Points.FieldCondition.Builder> set) {
    var f = Points.FieldCondition.newBuilder().setKey(key);
    set.accept(f);
    return Points.Condition.newBuilder().setField(f).build();
  }

  private static Points.GeoPoint point(double lon, double lat) {
    return Points.GeoPoint.newBuilder().setLon(lon).setLat(lat).build();
  }

  private static Points.GeoLineString ring(Points.GeoPoint... points) {
    return Points.GeoLineString.newBuilder().addAllPoints(List.of(points)).build();
  }

  /** {@code text_any} as a newer client sends it: field 10 of {@code Match}, unknown to the generated class. */
  private static Points.Match textAny(String text) {
    return Points.Match.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(10,
        com.google.protobuf.UnknownFieldSet.Field.newBuilder().addLengthDelimited(com.google.protobuf.ByteString.copyFromUtf8(text)).build())
        .build()).build();
  }

  // ---- the loop ----

  @FunctionalInterface
  private interface Property {
    void check(RandomRequests gen, GrpcRequestWriter write) throws Exception;
  }

  private static void repeat(int property, Property p) {
    Random master = new Random(SEED + property);
    for (int i = 0; i < ITERATIONS; i++) {
      long seed = master.nextLong();
      Random r = new Random(seed);
      try {
        p.check(RandomRequests.expressibleInGrpc(r), new GrpcRequestWriter(r));
      } catch (AssertionError | Exception e) {
        throw new AssertionError("failed with -Dtests.seed=" + Long.toHexString(SEED) + " at iteration " + i + ": " + e.getMessage(), e);
      }
    }
  }

  /** The message as the server receives it: through the wire format, unknown fields and all. */
  @SuppressWarnings("unchecked")
  private static <M extends Message> M wire(M message) {
    try {
      return (M) message.getParserForType().parseFrom(message.toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <B extends Message.Builder> B copy(Message from, B to, Set<String> skip) {
    from.getAllFields().forEach((field, value) -> {
      if (!skip.contains(field.getName())) {
        to.setField(to.getDescriptorForType().findFieldByName(field.getName()), value);
      }
    });
    return to;
  }

  /** Equal once the JSON inside (payloads, formula defaults) is read as REST reads it: a gRPC integer is a long node. */
  private static void assertSame(Object model, Object parsed, Message message) {
    assertEquals(reread(model), reread(parsed), () -> "message:\n" + message);
  }

  private static Object reread(Object o) {
    try {
      if (o instanceof JsonNode n) {
        return Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(n));
      }
      if (o instanceof List<?> list) {
        List<Object> out = new ArrayList<>(list.size());
        list.forEach(x -> out.add(reread(x)));
        return out;
      }
      if (o instanceof Map<?, ?> map) {
        Map<Object, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, reread(v)));
        return out;
      }
      if (o instanceof Record record) {
        RecordComponent[] components = record.getClass().getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
          components[i].getAccessor().setAccessible(true);
          values[i] = reread(components[i].getAccessor().invoke(record));
          types[i] = components[i].getType();
        }
        Constructor<?> constructor = record.getClass().getDeclaredConstructor(types);
        constructor.setAccessible(true);
        return constructor.newInstance(values);
      }
      return o;
    } catch (ReflectiveOperationException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long seed() {
    String s = System.getProperty("tests.seed");
    return s == null || s.isBlank() ? 0x6E9C_0F_C0FFEEL : Long.parseUnsignedLong(s.split(":")[0], 16);
  }
}
