package io.quiver.grpc;

import static io.quiver.grpc.SameAnswers.assertFacetHits;
import static io.quiver.grpc.SameAnswers.assertGroups;
import static io.quiver.grpc.SameAnswers.assertRecords;
import static io.quiver.grpc.SameAnswers.assertScored;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.json.Json;
import io.quiver.request.Expression;
import io.quiver.request.OrderBy;
import io.quiver.request.PointOperation;
import io.quiver.request.PointStruct;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryRequest;
import io.quiver.request.RandomRequests;
import io.quiver.request.RequestJsonWriter;
import io.quiver.request.Stage;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.request.WriteParams;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same requests over REST and over gRPC get the same answers: random requests are made as
 * model values (vectors that fit the collection, examples by the ids it holds, filters, formulas
 * and payload selectors of {@link RandomRequests}), written as a client's JSON ({@link
 * RequestJsonWriter}) and as a client's protobuf messages ({@link GrpcRequestWriter}), and sent to one
 * node over both edges: search, recommend and discover (legacy), universal queries (nested
 * prefetches, rrf and dbsf fusion, formulas, recommend, discover, context, order_by, MMR), grouped
 * queries, scroll, count and facet. Points, scores (bit for bit), versions, order values, payloads
 * and vectors must be the same; a request REST refuses must be refused over gRPC with the same words
 * and the matching status. The data is random too: points with random subsets of two dense, one
 * multi and one sparse vector and payloads over the keys the filters name, loaded in batches over
 * both edges.
 *
 * <p>The seed is fixed; explore with {@code -Dtests.seed=<hex>} and {@code -Dtests.iters=N}. A
 * failure names the seed, the iteration and both requests.
 */
@Timeout(60)
class RestGrpcEquivalenceTest {
  private static final long SEED = seed();
  private static final int ITERATIONS = Integer.getInteger("tests.iters", 400);
  /** Past this, the loop stops early (a slow, shared machine); the counts it printed say how far it got. */
  private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(15);
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** GrpcRequestWriter names this collection in its messages. */
  private static final String C = "c";
  private static final int POINTS = 240;
  /** The vector names RandomRequests' selectors and has_vector conditions use, with the dims and kinds given here. */
  private static final List<String> NAMES = List.of("img", "text", "colbert", "b-25");
  private static final List<String> WORDS = List.of("paris", "lyon", "red", "blue", "Zoë", "a b", "");
  private static final String COLLECTION = """
      {"vectors": {"img": {"size": 4, "distance": "Cosine"}, "text": {"size": 3, "distance": "Euclid"},
                   "colbert": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
       "sparse_vectors": {"b-25": {}}}""";
  private static final Map<String, String> INDEXES = Map.of("city", "keyword", "tags", "keyword", "rating", "integer",
      "price", "float", "a.b", "integer");

  @TempDir static Path dir;
  static TestNode node;
  static ManagedChannel channel;
  static PointsGrpc.PointsBlockingStub points;
  /** The ids of the points that have each vector, and of all under "": for examples given by id. */
  static Map<String, List<PointId>> idsWith;

  enum Kind { SEARCH, RECOMMEND, DISCOVER, QUERY, GROUPS, SCROLL, COUNT, FACET }

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.deployment.grpc().actualPort()).usePlaintext().build();
    points = PointsGrpc.newBlockingStub(channel);
    ok(node.send("PUT", "/collections/" + C, COLLECTION));
    for (var e : INDEXES.entrySet()) {
      ok(node.send("PUT", "/collections/" + C + "/index?wait=true",
          "{\"field_name\": \"" + e.getKey() + "\", \"field_schema\": \"" + e.getValue() + "\"}"));
    }
    idsWith = load(new Random(SEED), new Random(~SEED));
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    node.close();
  }

  // ---- the data ----

  /**
   * {@link #POINTS} random points in batches of 20, each batch with its own vector layout, over REST
   * and gRPC by turns; returns the ids of those having each vector, and all under "". The data come
   * from {@code r} alone: the writers' choices of spelling (from {@code spelling}) follow the
   * iteration order of the models' maps, which changes from one JVM to the next.
   */
  private static Map<String, List<PointId>> load(Random r, Random spelling) throws Exception {
    Data data = new Data(RandomRequests.expressibleInGrpc(r));
    RequestJsonWriter json = new RequestJsonWriter(spelling);
    GrpcRequestWriter grpc = new GrpcRequestWriter(spelling);
    Set<PointId> seen = new LinkedHashSet<>();
    Map<String, List<PointId>> having = new HashMap<>();
    for (int batch = 0; batch < POINTS / 20; batch++) {
      List<String> layout = new ArrayList<>(NAMES.stream().filter(n -> r.nextInt(5) != 0).toList());
      if (layout.isEmpty()) {
        layout.add(data.gen.pick(NAMES));
      }
      List<PointStruct> structs = new ArrayList<>();
      while (structs.size() < 20) {
        PointId id = data.gen.chance(5) ? new PointId.Uuid(new UUID(r.nextLong(), r.nextLong())) : PointId.of(r.nextInt(1 << 20));
        if (seen.add(id)) {
          Map<String, VectorInput> v = new HashMap<>();
          layout.forEach(name -> v.put(name, data.vector(name)));
          structs.add(new PointStruct(id, new Vectors(v), data.payload()));
          layout.forEach(name -> having.computeIfAbsent(name, n -> new ArrayList<>()).add(id));
        }
      }
      var upsert = new PointOperation.Upsert(structs, null, null);
      if (batch % 2 == 0) {
        ok(node.send("PUT", "/collections/" + C + "/points?wait=true", json.operation(upsert).toString()));
      } else {
        var done = points.upsert((Points.UpsertPoints) grpc.operation(upsert, new WriteParams(true, WriteParams.Ordering.WEAK)));
        assertEquals(Points.UpdateStatus.Completed, done.getResult().getStatus());
      }
    }
    having.put("", List.copyOf(seen));
    having.replaceAll((name, list) -> List.copyOf(list));
    return Map.copyOf(having);
  }

  // ---- the property ----

  @Test
  void restAndGrpcAnswerAlike() throws Exception {
    // first the whole collection, as both read it back
    Points.ScrollResponse all = points.scroll(Points.ScrollPoints.newBuilder().setCollectionName(C).setLimit(POINTS + 1)
        .setWithPayload(Points.WithPayloadSelector.newBuilder().setEnable(true))
        .setWithVectors(Points.WithVectorsSelector.newBuilder().setEnable(true)).build());
    JsonNode restAll = result(node.send("POST", "/collections/" + C + "/points/scroll",
        "{\"limit\": " + (POINTS + 1) + ", \"with_payload\": true, \"with_vector\": true}"));
    assertEquals(POINTS, all.getResultCount());
    assertRecords(restAll.get("points"), all.getResultList());

    Map<Kind, int[]> outcomes = new EnumMap<>(Kind.class);
    Random master = new Random(SEED ^ 0x9E3779B97F4A7C15L);
    long deadline = System.nanoTime() + BUDGET_NANOS;
    int done = 0;
    for (int i = 0; i < ITERATIONS && System.nanoTime() < deadline; i++, done++) {
      long seed = master.nextLong();
      Random spelling = new Random(~seed);
      Kind kind = Kind.values()[i % Kind.values().length];
      Exchange exchange = exchange(kind, new Data(RandomRequests.expressibleInGrpc(new Random(seed))), new RequestJsonWriter(spelling),
          new GrpcRequestWriter(spelling));
      try {
        int items = exchange.check();
        int[] o = outcomes.computeIfAbsent(kind, k -> new int[3]);
        o[items < 0 ? 1 : 0]++;
        o[2] += items > 0 ? 1 : 0;
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("failed with -Dtests.seed=" + Long.toHexString(SEED) + " at iteration " + i + " (" + kind + "): "
            + e.getMessage() + "\nREST " + exchange.path + " " + exchange.body + "\ngRPC " + exchange.message, e);
      }
    }
    System.out.printf("RestGrpcEquivalenceTest seed %s: %d exchanges; by kind answered alike (of them not empty) / refused alike: %s%n",
        Long.toHexString(SEED), done, outcomes.entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue()[0] + " (" + e.getValue()[2] + ") / " + e.getValue()[1]).toList());
    assertTrue(done >= Math.min(ITERATIONS, 80), "only " + done + " exchanges within the time budget");
    // most requests must be answered with something, or the test would compare error messages and empty lists
    for (Kind kind : Kind.values()) {
      int[] o = outcomes.getOrDefault(kind, new int[3]);
      assertTrue(o[2] >= (o[0] + o[1]) / 2, kind + ": only " + o[2] + " of " + (o[0] + o[1]) + " answered with results");
    }
  }

  /** One request over both edges, and how to compare the answers. */
  private record Exchange(String path, JsonNode body, Message message, Function<Message, Message> call, Compare compare) {
    /** @return how many points, groups or hits were compared (a count is one), or -1 when both refused the request alike */
    int check() throws Exception {
      TestNode.Response rest = node.send("POST", "/collections/" + C + path, body.toString());
      Message grpc;
      try {
        grpc = call.apply(message);
      } catch (StatusRuntimeException e) {
        assertEquals(200 == rest.status() ? "an answer" : rest.error(), e.getStatus().getDescription(), () -> "REST " + rest.body());
        assertEquals(Statuses.of(rest.status(), rest.error(), null).getStatus().getCode(), e.getStatus().getCode());
        return -1;
      }
      assertEquals(200, rest.status(), () -> "REST refused what gRPC answered: " + rest.body() + "\ngRPC answer " + grpc);
      return compare.check(Json.MAPPER.readTree(rest.body()).get("result"), grpc);
    }
  }

  /** Asserts that the answers agree; returns how many items they hold. */
  @FunctionalInterface
  private interface Compare {
    int check(JsonNode rest, Message grpc) throws Exception;
  }

  private static int scored(JsonNode rest, List<Points.ScoredPoint> grpc) {
    assertScored(rest, grpc);
    return grpc.size();
  }

  private static Exchange exchange(Kind kind, Data data, RequestJsonWriter json, GrpcRequestWriter grpc) {
    return switch (kind) {
      case SEARCH, RECOMMEND, DISCOVER -> {
        QueryRequest q = data.legacy(kind);
        yield switch (kind) {
          case SEARCH -> new Exchange("/points/search", json.legacy(q), grpc.search(q), m -> points.search((Points.SearchPoints) m),
              (rest, m) -> scored(rest, ((Points.SearchResponse) m).getResultList()));
          case RECOMMEND -> new Exchange("/points/recommend", json.legacy(q), grpc.recommend(q),
              m -> points.recommend((Points.RecommendPoints) m), (rest, m) -> scored(rest, ((Points.RecommendResponse) m).getResultList()));
          default -> new Exchange("/points/discover", json.legacy(q), grpc.discover(q), m -> points.discover((Points.DiscoverPoints) m),
              (rest, m) -> scored(rest, ((Points.DiscoverResponse) m).getResultList()));
        };
      }
      case QUERY -> {
        QueryRequest q = data.query();
        yield new Exchange("/points/query", json.query(q), grpc.query(q), m -> points.query((Points.QueryPoints) m),
            (rest, m) -> scored(rest.get("points"), ((Points.QueryResponse) m).getResultList()));
      }
      case GROUPS -> {
        QueryGroupsRequest g = data.groups();
        yield new Exchange("/points/query/groups", json.groups(g), grpc.groups(g), m -> points.queryGroups((Points.QueryPointGroups) m),
            (rest, m) -> {
              assertGroups(rest.get("groups"), ((Points.QueryGroupsResponse) m).getResult());
              return ((Points.QueryGroupsResponse) m).getResult().getGroupsCount();
            });
      }
      case SCROLL -> data.scroll(json, grpc);
      case COUNT -> data.count(json, grpc);
      case FACET -> data.facet(json, grpc);
    };
  }

  // ---- requests that fit the collection ----

  /** Requests as models, over {@link RandomRequests}' parts, with vectors of the collection's names, dims and kinds. */
  private record Data(RandomRequests gen) {
    Random r() {
      return gen.random();
    }

    // -- points --

    VectorInput vector(String name) {
      return switch (name) {
        case "img" -> dense(4);
        case "text" -> dense(3);
        case "colbert" -> {
          float[][] rows = new float[1 + r().nextInt(3)][];
          for (int i = 0; i < rows.length; i++) {
            rows[i] = dense(2).values();
          }
          yield new VectorInput.Multi(rows);
        }
        default -> gen.sparse();
      };
    }

    /** Gaussian components in steps of 1/64: exact in f32 and JSON, and seldom tied. */
    VectorInput.Dense dense(int dim) {
      float[] v = new float[dim];
      for (int i = 0; i < dim; i++) {
        v[i] = Math.round(r().nextGaussian() * 64) / 64f;
      }
      return new VectorInput.Dense(v);
    }

    /** A payload over the keys {@link RandomRequests}' filters name: price, city, a.b, tags, arr[].x, meta."odd key", rating. */
    ObjectNode payload() {
      ObjectNode p = F.objectNode();
      if (!gen.chance(6)) {
        if (gen.chance(3)) {
          p.put("price", r().nextInt(200) - 100);
        } else {
          p.put("price", (double) gen.quarter(-100, 100));
        }
      }
      if (!gen.chance(5)) {
        if (gen.chance(6)) {
          p.putArray("city").add(gen.pick(WORDS)).add(gen.pick(WORDS));
        } else {
          p.put("city", gen.pick(WORDS));
        }
      }
      if (gen.chance(2)) {
        p.putObject("a").put("b", r().nextInt(10));
      }
      var tags = p.putArray("tags");
      gen.list(0, 3, () -> gen.pick(WORDS)).forEach(tags::add);
      if (gen.chance(2)) {
        var arr = p.putArray("arr");
        gen.list(1, 2, () -> gen.quarter(-100, 100)).forEach(x -> arr.addObject().put("x", (double) x));
      }
      if (gen.chance(2)) {
        p.putObject("meta").put("odd key", gen.pick(WORDS));
      }
      if (!gen.chance(4)) {
        p.put("rating", r().nextInt(6));
      }
      return p;
    }

    // -- queries --

    /** A vector, or the id of a point that has one (now and then of any point: such requests are refused alike). */
    VectorInput example(String using) {
      return gen.chance(2) ? new VectorInput.Id(gen.pick(idsWith.get(gen.chance(20) ? "" : using))) : vector(using);
    }

    /** A legacy search (dense or sparse by name), recommendation (ids first) or discovery (no threshold). */
    QueryRequest legacy(Kind kind) {
      String using;
      Query query;
      switch (kind) {
        case SEARCH -> {
          using = gen.pick(List.of("img", "text", "b-25"));
          query = new Query.Nearest(vector(using), null);
        }
        case RECOMMEND -> {
          using = gen.pick(List.of("img", "text", "b-25"));
          Query.RecommendStrategy strategy = gen.pick(List.of(Query.RecommendStrategy.values()));
          List<VectorInput> negative = idsFirst(gen.list(0, 2, () -> example(using)));
          boolean positiveNeeded = strategy == Query.RecommendStrategy.AVERAGE_VECTOR || negative.isEmpty();
          query = new Query.Recommend(idsFirst(gen.list(positiveNeeded ? 1 : 0, 3, () -> example(using))), negative, strategy);
        }
        default -> {
          using = gen.pick(List.of("img", "text"));
          query = gen.chance(2) ? new Query.Discover(example(using), gen.list(0, 2, () -> pair(using)))
              : new Query.Context(gen.list(1, 2, () -> pair(using)));
        }
      }
      Float threshold = kind != Kind.DISCOVER && gen.chance(4) ? gen.quarter(-4, 4) : null;
      Stage root = new Stage(List.of(), query, using, gen.chance(3) ? gen.filter(1) : null, gen.searchParams(), threshold,
          1 + r().nextInt(20), null);
      return new QueryRequest(root, gen.chance(4) ? r().nextInt(10) : 0, gen.withPayload(), gen.withVector(), null);
    }

    Query.ContextPair pair(String using) {
      return new Query.ContextPair(example(using), example(using));
    }

    QueryRequest query() {
      return new QueryRequest(stage(0, true), gen.chance(4) ? r().nextInt(10) : 0, gen.withPayload(), gen.withVector(), null);
    }

    QueryGroupsRequest groups() {
      Stage s = stage(0, true);
      Stage root = new Stage(s.prefetch(), s.query(), s.using(), s.filter(), s.params(), s.scoreThreshold(), null, null);
      QueryRequest q = new QueryRequest(root, 0, gen.withPayload(), gen.withVector(), null);
      return new QueryGroupsRequest(q, JsonPath.parse(gen.pick(List.of("city", "rating", "tags", "a.b"))), 1 + r().nextInt(3),
          1 + r().nextInt(6), null);
    }

    /** A stage; with prefetches, mostly a query that rescores them (fusion, formula, or a vector query). */
    Stage stage(int depth, boolean root) {
      List<Stage> prefetch = depth < 2 && gen.chance(2) ? gen.list(1, 3, () -> stage(depth + 1, false)) : List.of();
      String using = gen.pick(NAMES);
      Query query;
      if (prefetch.isEmpty()) {
        query = gen.chance(12) ? null : leaf(using);
      } else {
        query = switch (r().nextInt(4)) {
          case 0, 1 -> gen.chance(3) ? new Query.Fusion(true, Query.Fusion.DEFAULT_RRF_K)
              : new Query.Fusion(false, gen.chance(2) ? Query.Fusion.DEFAULT_RRF_K : 1 + r().nextInt(10));
          case 2 -> formula(prefetch.size());
          default -> leaf(using);
        };
      }
      boolean scoresOwnVector = query != null && !(query instanceof Query.Fusion || query instanceof Query.Formula);
      Float threshold = query instanceof Query.OrderByQuery || !gen.chance(6) ? null : gen.quarter(-2, 2);
      return new Stage(prefetch, query, scoresOwnVector ? using : "", gen.chance(3) ? gen.filter(1) : null, gen.searchParams(),
          threshold, gen.chance(4) ? null : 1 + r().nextInt(root ? 20 : 40), null);
    }

    /** A query of the collection itself (no random sample: the two edges would draw differently). */
    Query leaf(String using) {
      return switch (r().nextInt(9)) {
        case 0, 1, 2 -> new Query.Nearest(example(using), null);
        case 3 -> new Query.Nearest(example(using), new Query.Mmr(gen.chance(2) ? null : r().nextInt(9) / 8f,
            gen.chance(2) ? null : 1 + r().nextInt(30)));
        case 4 -> {
          Query.RecommendStrategy strategy = gen.pick(List.of(Query.RecommendStrategy.values()));
          List<VectorInput> positive = gen.list(strategy == Query.RecommendStrategy.AVERAGE_VECTOR ? 1 : 0, 2, () -> example(using));
          List<VectorInput> negative = gen.list(positive.isEmpty() ? 1 : 0, 2, () -> example(using));
          yield new Query.Recommend(positive, negative, strategy);
        }
        case 5 -> new Query.Discover(example(using), gen.list(0, 2, () -> pair(using)));
        case 6 -> new Query.Context(gen.list(1, 2, () -> pair(using)));
        default -> new Query.OrderByQuery(orderBy());
      };
    }

    OrderBy orderBy() {
      return new OrderBy(JsonPath.parse(gen.pick(List.of("price", "rating"))), r().nextBoolean(),
          gen.chance(2) ? null : (double) gen.quarter(-50, 50));
    }

    /** A formula over the prefetches' scores, payload numbers (mostly with defaults), conditions and arithmetic. */
    Query.Formula formula(int prefetches) {
      Map<String, JsonNode> payloadDefaults = new HashMap<>();
      Map<Integer, Double> scoreDefaults = new HashMap<>();
      Expression e = expression(0, prefetches, payloadDefaults);
      if (gen.chance(3)) {
        scoreDefaults.put(r().nextInt(prefetches), (double) gen.quarter(-2, 2));
      }
      return new Query.Formula(e, payloadDefaults, scoreDefaults);
    }

    Expression expression(int depth, int prefetches, Map<String, JsonNode> defaults) {
      return switch (r().nextInt(depth >= 2 ? 4 : 10)) {
        case 0 -> new Expression.Constant(gen.quarter(-4, 4));
        case 1 -> new Expression.Score(r().nextInt(prefetches));
        case 2 -> {
          String key = gen.pick(List.of("price", "rating", "a.b", "arr[0].x"));
          if (!gen.chance(5)) {
            defaults.put(key, F.numberNode((double) gen.quarter(-4, 4)));
          }
          yield new Expression.Payload(JsonPath.parse(key));
        }
        case 3 -> new Expression.Condition(new Filter(List.of(gen.condition(1)), null, null, null));
        case 4, 5 -> new Expression.Nary(r().nextBoolean(), gen.list(1, 3, () -> expression(depth + 1, prefetches, defaults)));
        case 6 -> new Expression.Unary(gen.pick(List.of(Expression.UnaryOp.values())), expression(depth + 1, prefetches, defaults));
        case 7 -> new Expression.Div(expression(depth + 1, prefetches, defaults), expression(depth + 1, prefetches, defaults),
            gen.chance(2) ? null : (double) gen.quarter(-4, 4));
        case 8 -> new Expression.Pow(expression(depth + 1, prefetches, defaults), new Expression.Constant(r().nextInt(3)));
        default -> {
          // a decay of scale 1 whose midpoint is k/16, lambda as Qdrant derives it (as RandomRequests makes them)
          Expression.DecayKind decay = gen.pick(List.of(Expression.DecayKind.values()));
          double midpoint = (decay == Expression.DecayKind.LIN ? r().nextInt(17) : 1 + r().nextInt(15)) / 16f;
          double lambda = decay == Expression.DecayKind.LIN ? 1.0 - midpoint : Math.log(midpoint);
          yield new Expression.Decay(decay, expression(depth + 1, prefetches, defaults),
              gen.chance(2) ? null : expression(depth + 1, prefetches, defaults), lambda);
        }
      };
    }

    // -- reads --

    Exchange scroll(RequestJsonWriter json, GrpcRequestWriter grpc) {
      Filter filter = gen.chance(2) ? gen.filter(1) : null;
      int limit = 1 + r().nextInt(30);
      PointId offset = gen.chance(3) ? gen.pick(idsWith.get("")) : null;
      OrderBy orderBy = offset == null && gen.chance(3) ? orderBy() : null;
      WithPayload withPayload = gen.withPayload();
      WithVector withVector = gen.withVector();

      ObjectNode body = F.objectNode().put("limit", limit);
      var message = Points.ScrollPoints.newBuilder().setCollectionName(C).setLimit(limit);
      if (filter != null) {
        body.set("filter", json.filter(filter));
        message.setFilter(grpc.filter(filter));
      }
      if (offset != null) {
        body.set("offset", json.id(offset));
        message.setOffset(GrpcRequestWriter.id(offset));
      }
      if (orderBy != null) {
        body.set("order_by", json.orderBy(orderBy));
        message.setOrderBy(grpc.orderBy(orderBy));
      }
      body.set("with_payload", json.withPayload(withPayload, true));
      message.setWithPayload(payloadSelector(withPayload));
      body.set("with_vector", withVector.names() != null ? vectorNames(withVector) : F.booleanNode(withVector.enabled()));
      message.setWithVectors(vectorSelector(withVector));
      return new Exchange("/points/scroll", body, message.build(), m -> points.scroll((Points.ScrollPoints) m), (rest, m) -> {
        Points.ScrollResponse g = (Points.ScrollResponse) m;
        assertRecords(rest.get("points"), g.getResultList());
        JsonNode next = rest.get("next_page_offset");
        assertEquals(next == null || next.isNull() ? "none" : next.asText(), !g.hasNextPageOffset() ? "none"
            : g.getNextPageOffset().hasUuid() ? g.getNextPageOffset().getUuid() : Long.toUnsignedString(g.getNextPageOffset().getNum()));
        return g.getResultCount();
      });
    }

    Exchange count(RequestJsonWriter json, GrpcRequestWriter grpc) {
      Filter filter = gen.chance(6) ? null : gen.filter(1);
      boolean exact = r().nextBoolean();
      ObjectNode body = F.objectNode().put("exact", exact);
      var message = Points.CountPoints.newBuilder().setCollectionName(C).setExact(exact);
      if (filter != null) {
        body.set("filter", json.filter(filter));
        message.setFilter(grpc.filter(filter));
      }
      return new Exchange("/points/count", body, message.build(), m -> points.count((Points.CountPoints) m),
          (rest, m) -> {
            assertEquals(rest.get("count").asLong(), ((Points.CountResponse) m).getResult().getCount());
            return 1;
          });
    }

    Exchange facet(RequestJsonWriter json, GrpcRequestWriter grpc) {
      String key = gen.pick(List.of("city", "tags", "rating", "city", "a.b"));
      Filter filter = gen.chance(2) ? null : gen.filter(1);
      boolean exact = r().nextBoolean();
      ObjectNode body = F.objectNode().put("key", key).put("exact", exact);
      var message = Points.FacetCounts.newBuilder().setCollectionName(C).setKey(key).setExact(exact);
      if (gen.chance(2)) {
        int limit = 1 + r().nextInt(8);
        body.put("limit", limit);
        message.setLimit(limit);
      }
      if (filter != null) {
        body.set("filter", json.filter(filter));
        message.setFilter(grpc.filter(filter));
      }
      return new Exchange("/facet", body, message.build(), m -> points.facet((Points.FacetCounts) m),
          (rest, m) -> {
            assertFacetHits(rest.get("hits"), ((Points.FacetResponse) m).getHitsList());
            return ((Points.FacetResponse) m).getHitsCount();
          });
    }
  }

  // ---- helpers ----

  private static List<VectorInput> idsFirst(List<VectorInput> examples) {
    List<VectorInput> out = new ArrayList<>(examples);
    out.sort(Comparator.comparingInt(v -> v instanceof VectorInput.Id ? 0 : 1));
    return out;
  }

  private static Points.WithPayloadSelector payloadSelector(WithPayload w) {
    var out = Points.WithPayloadSelector.newBuilder();
    if (w.include() != null) {
      out.setInclude(Points.PayloadIncludeSelector.newBuilder().addAllFields(w.include()));
    } else if (w.exclude() != null) {
      out.setExclude(Points.PayloadExcludeSelector.newBuilder().addAllFields(w.exclude()));
    } else {
      out.setEnable(w.enabled());
    }
    return out.build();
  }

  private static Points.WithVectorsSelector vectorSelector(WithVector w) {
    var out = Points.WithVectorsSelector.newBuilder();
    if (w.names() != null) {
      out.setInclude(Points.VectorsSelector.newBuilder().addAllNames(w.names()));
    } else {
      out.setEnable(w.enabled());
    }
    return out.build();
  }

  private static JsonNode vectorNames(WithVector w) {
    var out = F.arrayNode();
    w.names().forEach(out::add);
    return out;
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r::body);
  }

  private static JsonNode result(TestNode.Response r) {
    ok(r);
    return r.result();
  }

  private static long seed() {
    String s = System.getProperty("tests.seed");
    return s == null || s.isBlank() ? 0xE9_1A_C0FFEEL : Long.parseUnsignedLong(s.split(":")[0], 16);
  }
}
