package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.Match;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Random valid requests as model values, for {@link RequestRoundTripTest} and the gRPC edge's round
 * trips. Every number is exact in binary (a multiple of a power of two), so that it survives the trip
 * through JSON text and f32; lists whose parser removes duplicates (ids of {@code has_id}, {@code any}
 * values) have none. {@link #expressibleInGrpc} makes only what Qdrant's protobuf messages can say:
 * no empty condition lists (absent and empty are one there), no shard key fallback, no {@code key}
 * on a payload overwrite.
 */
public final class RandomRequests {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final List<String> KEYS = List.of("price", "city", "a.b", "tags[]", "arr[0].x", "meta.\"odd key\"", "rating");
  private static final List<String> WORDS = List.of("paris", "lyon", "red", "blue", "Zoë", "a b", "");
  private static final List<String> VECTOR_NAMES = List.of("img", "text", "colbert", "b-25");
  private static final int MAX_DEPTH = 3;

  private final Random r;
  private final boolean grpc;

  RandomRequests(Random r) {
    this(r, false);
  }

  private RandomRequests(Random r, boolean grpc) {
    this.r = r;
    this.grpc = grpc;
  }

  /** A generator of requests that Qdrant's gRPC messages can express. */
  public static RandomRequests expressibleInGrpc(Random r) {
    return new RandomRequests(r, true);
  }

  // ---- universal queries ----

  public QueryRequest query() {
    return new QueryRequest(stage(0, true), chance(4) ? r.nextInt(1000) : 0, withPayload(), withVector(), chance(5) ? shardKey() : null);
  }

  /** A grouped query: its root stage has no limit of its own (the request's limit counts groups). */
  public QueryGroupsRequest groups() {
    Stage s = stage(0, true);
    Stage root = new Stage(s.prefetch(), s.query(), s.using(), s.filter(), s.params(), s.scoreThreshold(), null, s.lookupFrom());
    QueryRequest q = new QueryRequest(root, 0, withPayload(), withVector(), chance(5) ? shardKey() : null);
    QueryGroupsRequest.WithLookup lookup = chance(3) ? null : new QueryGroupsRequest.WithLookup(pick(List.of("cities", "authors")),
        chance(2) ? WithPayload.ALL : withPayload(), withVector());
    return new QueryGroupsRequest(q, path(), 1 + r.nextInt(10), 1 + r.nextInt(50), lookup);
  }

  public Stage stage(int depth, boolean root) {
    List<Stage> prefetch = depth < MAX_DEPTH && chance(2) ? list(1, 3, () -> stage(depth + 1, false)) : List.of();
    Query query = chance(8) ? null : query(!prefetch.isEmpty());
    return new Stage(prefetch, query, chance(2) ? "" : pick(VECTOR_NAMES), chance(3) ? filter(1) : null, searchParams(),
        chance(3) ? quarter(-8, 8) : null, chance(3) ? null : 1 + r.nextInt(root ? 100 : 1000), chance(6) ? lookup() : null);
  }

  /** Any query kind; the ones that rescore prefetches more often when there are some. */
  public Query query(boolean hasPrefetch) {
    int kind = r.nextInt(hasPrefetch ? 10 : 8);
    return switch (kind) {
      case 0, 1 -> new Query.Nearest(input(), chance(4) ? mmr() : null);
      case 2 -> recommend();
      case 3 -> new Query.Discover(input(), pairs());
      case 4 -> new Query.Context(pairs());
      case 5 -> new Query.OrderByQuery(orderBy());
      case 6 -> new Query.Sample();
      default -> chance(2) ? fusion() : formula();
    };
  }

  private Query.Recommend recommend() {
    List<VectorInput> positive = list(0, 3, this::input);
    List<VectorInput> negative = positive.isEmpty() ? list(1, 3, this::input) : list(0, 2, this::input);
    return new Query.Recommend(positive, negative, pick(List.of(Query.RecommendStrategy.values())));
  }

  private List<Query.ContextPair> pairs() {
    return list(0, 3, () -> new Query.ContextPair(input(), input()));
  }

  private Query.Mmr mmr() {
    return new Query.Mmr(chance(2) ? null : r.nextInt(9) / 8f, chance(2) ? null : r.nextInt(QueryParser.MAX_MMR_CANDIDATES + 1));
  }

  private Query.Fusion fusion() {
    return chance(3) ? new Query.Fusion(true, Query.Fusion.DEFAULT_RRF_K) : new Query.Fusion(false, chance(2) ? 2 : 1 + r.nextInt(100));
  }

  public OrderBy orderBy() {
    return new OrderBy(path(), r.nextBoolean(), chance(2) ? null : (double) quarter(-1000, 1000));
  }

  private Query.Formula formula() {
    Map<String, JsonNode> payloadDefaults = new HashMap<>();
    Map<Integer, Double> scoreDefaults = new HashMap<>();
    for (int i = r.nextInt(3); i > 0; i--) {
      payloadDefaults.put(path().toString(), pick(List.of(F.numberNode(r.nextInt(100)), F.textNode(pick(WORDS)),
          F.numberNode((double) quarter(-4, 4)))));
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      scoreDefaults.put(r.nextInt(3), (double) quarter(-4, 4));
    }
    return new Query.Formula(expression(0), payloadDefaults, scoreDefaults);
  }

  private Expression expression(int depth) {
    int kind = r.nextInt(depth >= MAX_DEPTH ? 6 : 12);
    return switch (kind) {
      case 0 -> new Expression.Constant(quarter(-16, 16));
      case 1 -> new Expression.Score(r.nextInt(4));
      case 2 -> new Expression.Payload(path());
      case 3 -> new Expression.Condition(new Filter(List.of(chance(4) ? filter(1) : condition(1)), null, null, null));
      case 4 -> new Expression.DatetimeKey(path());
      case 5 -> datetime();
      case 6 -> new Expression.GeoDistance(quarter(-180, 180), quarter(-90, 90), path());
      case 7 -> new Expression.Nary(r.nextBoolean(), list(1, 3, () -> expression(depth + 1)));
      case 8 -> new Expression.Unary(pick(List.of(Expression.UnaryOp.values())), expression(depth + 1));
      case 9 -> new Expression.Div(expression(depth + 1), expression(depth + 1), chance(2) ? null : (double) quarter(-4, 4));
      case 10 -> new Expression.Pow(expression(depth + 1), expression(depth + 1));
      default -> decay(depth);
    };
  }

  private Expression.Datetime datetime() {
    Instant at = Instant.ofEpochSecond(r.nextInt(2_000_000_000));
    return new Expression.Datetime(at.getEpochSecond() * 1_000_000);
  }

  /** A decay with a midpoint of k/16 and scale 1: lambda as Qdrant's decay_params_to_lambda computes it. */
  private Expression.Decay decay(int depth) {
    Expression.DecayKind kind = pick(List.of(Expression.DecayKind.values()));
    double midpoint = (kind == Expression.DecayKind.LIN ? r.nextInt(17) : 1 + r.nextInt(15)) / 16f;
    double lambda = kind == Expression.DecayKind.LIN ? 1.0 - midpoint : Math.log(midpoint);
    return new Expression.Decay(kind, expression(depth + 1), chance(2) ? null : expression(depth + 1), lambda);
  }

  // ---- vectors ----

  /** A vector input of a query: dense, multi, sparse or the id of a point. */
  public VectorInput input() {
    return switch (r.nextInt(5)) {
      case 0 -> dense(1 + r.nextInt(4));
      case 1 -> multi(1 + r.nextInt(3));
      case 2 -> sparse();
      default -> new VectorInput.Id(id());
    };
  }

  public VectorInput.Dense dense(int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = quarter(-8, 8);
    }
    return new VectorInput.Dense(v);
  }

  public VectorInput.Multi multi(int dim) {
    float[][] rows = new float[1 + r.nextInt(3)][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = dense(dim).values();
    }
    return new VectorInput.Multi(rows);
  }

  /** Sorted unique indices, as the parser keeps them (the writer may shuffle them). */
  public VectorInput.Sparse sparse() {
    TreeSet<Integer> indices = new TreeSet<>();
    for (int n = r.nextInt(5); indices.size() < n; ) {
      indices.add(chance(6) ? r.nextInt() & Integer.MAX_VALUE : r.nextInt(100));
    }
    int[] ix = indices.stream().mapToInt(Integer::intValue).toArray();
    float[] values = new float[ix.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = quarter(0, 4);
    }
    return new VectorInput.Sparse(new SparseVector(ix, values));
  }

  public PointId id() {
    return chance(4) ? new PointId.Uuid(new UUID(r.nextLong(), r.nextLong())) : PointId.of(chance(8) ? Long.MAX_VALUE : r.nextInt(1 << 20));
  }

  // ---- filters ----

  public Filter filter(int depth) {
    return new Filter(conditions(depth), conditions(depth), conditions(depth),
        chance(6) ? new Filter.MinShould(list(1, 3, () -> condition(depth)), r.nextInt(3)) : null);
  }

  private List<Condition> conditions(int depth) {
    return chance(2) ? null : list(grpc ? 1 : 0, 3, () -> condition(depth));
  }

  public Condition condition(int depth) {
    int kind = r.nextInt(depth >= 2 ? 6 : 8);
    return switch (kind) {
      case 0, 1 -> field();
      case 2 -> new Condition.IsEmpty(path());
      case 3 -> new Condition.IsNull(path());
      case 4 -> new Condition.HasId(List.copyOf(new LinkedHashSet<>(list(0, 4, this::id))));
      case 5 -> new Condition.HasVector(chance(3) ? "" : pick(VECTOR_NAMES));
      case 6 -> new Condition.Nested(path(), filter(depth + 1));
      default -> filter(depth + 1);
    };
  }

  private Condition.Field field() {
    Match match = chance(3) ? null : match();
    Condition.NumberRange range = match != null && chance(2) ? null
        : new Condition.NumberRange(bound(), bound(), bound(), bound());
    Condition.ValuesCount count = chance(5) ? new Condition.ValuesCount(count(), count(), count(), count()) : null;
    return new Condition.Field(path(), match, range, null, null, null, count, chance(8) ? r.nextBoolean() : null,
        chance(8) ? r.nextBoolean() : null);
  }

  private Match match() {
    return switch (r.nextInt(6)) {
      case 0 -> new Match.Value(pick(List.of(pick(WORDS), (Object) (long) r.nextInt(100), r.nextBoolean())));
      case 1 -> new Match.Text(pick(WORDS));
      case 2 -> new Match.TextAny(pick(WORDS));
      case 3 -> new Match.Phrase(pick(WORDS));
      case 4 -> new Match.Any(values());
      default -> new Match.Except(values());
    };
  }

  private Match.Values values() {
    if (chance(2)) {
      return new Match.Keywords(List.copyOf(new LinkedHashSet<>(list(0, 3, () -> pick(WORDS)))));
    }
    return new Match.Integers(List.copyOf(new LinkedHashSet<>(list(1, 3, () -> (long) r.nextInt(50) - 10))));
  }

  private Double bound() {
    return chance(2) ? null : (double) quarter(-100, 100);
  }

  private Long count() {
    return chance(2) ? null : (long) r.nextInt(5);
  }

  // ---- what to return, where ----

  public WithPayload withPayload() {
    return switch (r.nextInt(4)) {
      case 0 -> WithPayload.ALL;
      case 1 -> WithPayload.NONE;
      case 2 -> new WithPayload(true, keys(), null);
      default -> new WithPayload(true, null, keys());
    };
  }

  public WithVector withVector() {
    return switch (r.nextInt(3)) {
      case 0 -> WithVector.ALL;
      case 1 -> WithVector.NONE;
      default -> new WithVector(true, Set.copyOf(list(1, 3, () -> pick(VECTOR_NAMES))));
    };
  }

  private Set<String> keys() {
    return Set.copyOf(list(1, 3, () -> pick(KEYS)));
  }

  public ShardKeySelector shardKey() {
    Supplier<Object> key = () -> chance(2) ? (Object) pick(List.of("eu", "us", "")) : (Object) (long) r.nextInt(10);
    return new ShardKeySelector(list(1, 3, key), !grpc && chance(3) ? key.get() : null);
  }

  public SearchParams searchParams() {
    if (chance(2)) {
      return SearchParams.DEFAULT;
    }
    return new SearchParams(chance(2) ? null : r.nextInt(512), r.nextBoolean(), chance(2) ? null : (double) quarter(1, 8));
  }

  private LookupLocation lookup() {
    return new LookupLocation(pick(List.of("other", "archive")), chance(2) ? null : pick(VECTOR_NAMES));
  }

  public JsonPath path() {
    return JsonPath.parse(pick(KEYS));
  }

  // ---- point writes ----

  /** One point write: a single operation, or a batch of one to four steps. */
  public PointWrite write() {
    WriteParams params = new WriteParams(r.nextBoolean(), pick(List.of(WriteParams.Ordering.values())));
    if (chance(2)) {
      return PointWrite.one("c", operation(), params);
    }
    return new PointWrite("c", list(1, 4, this::operation), true, params);
  }

  public PointOperation operation() {
    return switch (r.nextInt(8)) {
      case 0, 1 -> new PointOperation.Upsert(points(), chance(4) ? filter(1) : null, shardKeyOrNull());
      case 2 -> new PointOperation.Delete(selector(), shardKeyOrNull());
      case 3 -> {
        ObjectNode payload = payload();
        PointsSelector selector = selector();
        String key = chance(2) ? null : pick(KEYS);
        boolean overwrite = r.nextBoolean();
        yield new PointOperation.SetPayload(payload, selector, grpc && overwrite ? null : key, overwrite, shardKeyOrNull());
      }
      case 4 -> new PointOperation.DeletePayload(list(1, 3, () -> pick(KEYS)), selector(), shardKeyOrNull());
      case 5 -> new PointOperation.ClearPayload(selector(), shardKeyOrNull());
      case 6 -> new PointOperation.UpdateVectors(pointVectors(), chance(4) ? filter(1) : null, shardKeyOrNull());
      default -> new PointOperation.DeleteVectors(selector(), list(1, 3, () -> pick(VECTOR_NAMES)), shardKeyOrNull());
    };
  }

  /** Points sharing one vector layout (names and kinds), so that they can also be written as columns. */
  private List<PointStruct> points() {
    Map<String, Supplier<VectorInput>> layout = layout();
    return list(1, 4, () -> new PointStruct(id(), vectors(layout), payload()));
  }

  private List<PointVectors> pointVectors() {
    Map<String, Supplier<VectorInput>> layout = layout();
    return list(1, 3, () -> new PointVectors(id(), vectors(layout)));
  }

  /** The unnamed vector (dense or multi), or one to three named ones of any kind. */
  private Map<String, Supplier<VectorInput>> layout() {
    Map<String, Supplier<VectorInput>> layout = new LinkedHashMap<>();
    if (chance(3)) {
      int dim = 1 + r.nextInt(4);
      layout.put("", r.nextBoolean() ? () -> dense(dim) : () -> multi(dim));
      return layout;
    }
    for (String name : list(1, 3, () -> pick(VECTOR_NAMES))) {
      int dim = 1 + r.nextInt(4);
      layout.put(name, switch (r.nextInt(3)) {
        case 0 -> () -> dense(dim);
        case 1 -> () -> multi(dim);
        default -> this::sparse;
      });
    }
    return layout;
  }

  private Vectors vectors(Map<String, Supplier<VectorInput>> layout) {
    Map<String, VectorInput> v = new HashMap<>();
    layout.forEach((name, make) -> v.put(name, make.get()));
    return new Vectors(v);
  }

  private PointsSelector selector() {
    return chance(2) ? PointsSelector.ids(list(1, 4, this::id)) : PointsSelector.filter(filter(1));
  }

  private ShardKeySelector shardKeyOrNull() {
    return chance(5) ? shardKey() : null;
  }

  /** A payload of ints, strings, booleans, lists and objects (ints stay ints through JSON text). */
  public ObjectNode payload() {
    ObjectNode p = F.objectNode();
    for (int i = r.nextInt(4); i > 0; i--) {
      String key = pick(List.of("city", "n", "tags", "nested", "flag", "x y"));
      switch (r.nextInt(5)) {
        case 0 -> p.put(key, r.nextInt(1000) - 500);
        case 1 -> p.put(key, pick(WORDS));
        case 2 -> p.put(key, r.nextBoolean());
        case 3 -> p.putArray(key).add(pick(WORDS)).add(r.nextInt(10)).add((double) quarter(-2, 2));
        default -> p.putObject(key).put("zip", r.nextInt(99999)).putNull("none");
      }
    }
    return p;
  }

  // ---- basics ----

  /** A multiple of 1/4 in [min, max]: exact in f32, f64 and JSON text. */
  public float quarter(int min, int max) {
    return (min * 4 + r.nextInt((max - min) * 4 + 1)) / 4f;
  }

  public boolean chance(int oneIn) {
    return r.nextInt(oneIn) == 0;
  }

  public <T> T pick(List<T> options) {
    return options.get(r.nextInt(options.size()));
  }

  public <T> List<T> list(int min, int max, Supplier<T> make) {
    List<T> out = new ArrayList<>();
    for (int n = min + r.nextInt(max - min + 1); n > 0; n--) {
      out.add(make.get());
    }
    return out;
  }

  public Random random() {
    return r;
  }
}
