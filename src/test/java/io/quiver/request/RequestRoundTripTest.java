package io.quiver.request;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.request.QueryOperation.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Randomized round trips, as Lucene tests them: random valid requests are generated as model
 * values ({@link RandomRequests}), written into the JSON a client sends, in any of the spellings
 * Qdrant accepts ({@link RequestJsonWriter}), and parsed back as REST parses them: the result must
 * equal the model. Legacy searches, recommendations and discoveries must parse into the very
 * universal query that says the same.
 *
 * <p>The seed is fixed, so that the build passes or fails for its code alone; explore with {@code
 * -Dtests.seed=<hex>} (as Lucene's) and {@code -Dtests.iters=N}. A failure names the seed, the
 * iteration and the JSON.
 */
@Timeout(60)
class RequestRoundTripTest {
  private static final long DEFAULT_SEED = 0x5EED_0F_C0FFEEL;
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final long SEED = seed();
  private static final int ITERATIONS = Integer.getInteger("tests.iters", 400);

  @Test
  void universalQueries() {
    repeat(0, (gen, write) -> {
      QueryRequest model = gen.query();
      JsonNode json = write.query(model);
      var parsed = (QueryOperation.Queries) parse(StorageOp.QUERY_POINTS, json);
      assertEquals(List.of(model), parsed.requests(), () -> "query " + json);
      assertEquals(Shape.QUERY, parsed.shape());
    });
  }

  @Test
  void queryBatches() {
    repeat(1, (gen, write) -> {
      List<QueryRequest> models = gen.list(1, 4, gen::query);
      ObjectNode json = F.objectNode();
      models.forEach(m -> json.withArray("searches").add(write.query(m)));
      var parsed = (QueryOperation.Queries) parse(StorageOp.QUERY_BATCH, json);
      assertEquals(models, parsed.requests(), () -> "batch " + json);
    });
  }

  @Test
  void groupedQueries() {
    repeat(2, (gen, write) -> {
      QueryGroupsRequest model = gen.groups();
      JsonNode json = write.groups(model);
      var parsed = (QueryOperation.Groups) parse(StorageOp.QUERY_GROUPS, json);
      assertEquals(model, parsed.request(), () -> "groups " + json);
    });
  }

  @Test
  void pointWrites() {
    repeat(3, (gen, write) -> {
      PointWrite model = gen.write();
      Map<String, String> params = write.params(model.write());
      StorageOp op = model.batch() ? StorageOp.BATCH_UPDATE : RequestJsonWriter.storageOp(model.operations().getFirst());
      JsonNode json = model.batch() ? write.batch(model.operations()) : write.operation(model.operations().getFirst());
      Request parsed = op.parse("c", reread(json), params);
      assertEquals(model, parsed, () -> op + " " + json + " " + params);
      boolean removesOnly = model.operations().stream().allMatch(PointOperation::removesOnly);
      assertEquals(removesOnly ? Access.DELETE : Access.WRITE, parsed.access(), () -> op + " " + json);
      assertTrue(op.access() == parsed.access() || parsed.access() == Access.DELETE);
    });
  }

  @Test
  void legacySearchesAreTheUniversalQueriesThatSayTheSame() {
    repeat(4, (gen, write) -> {
      QueryRequest model = legacyModel(gen);
      StorageOp op = RequestJsonWriter.legacyOp(model);
      JsonNode legacy = write.legacy(model);
      JsonNode universal = write.query(model);
      QueryRequest fromLegacy = ((QueryOperation.Queries) parse(op, legacy)).requests().getFirst();
      QueryRequest fromUniversal = ((QueryOperation.Queries) parse(StorageOp.QUERY_POINTS, universal)).requests().getFirst();
      assertEquals(fromUniversal, fromLegacy, () -> op + " " + legacy + "\nquery " + universal);
      assertEquals(model, fromLegacy, () -> op + " " + legacy);
    });
  }

  @Test
  void legacyBatchesAreQueryBatches() {
    repeat(5, (gen, write) -> {
      QueryRequest first = legacyModel(gen);
      StorageOp op = RequestJsonWriter.legacyOp(first);
      List<QueryRequest> models = new ArrayList<>(List.of(first));
      while (models.size() < 3 && gen.chance(2)) {
        QueryRequest next = legacyModel(gen);
        if (RequestJsonWriter.legacyOp(next) == op) {
          models.add(next);
        }
      }
      ObjectNode legacy = F.objectNode();
      ObjectNode universal = F.objectNode();
      models.forEach(m -> {
        legacy.withArray("searches").add(write.legacy(m));
        universal.withArray("searches").add(write.query(m));
      });
      StorageOp batchOp = switch (op) {
        case SEARCH_POINTS -> StorageOp.SEARCH_BATCH;
        case RECOMMEND_POINTS -> StorageOp.RECOMMEND_BATCH;
        default -> StorageOp.DISCOVER_BATCH;
      };
      var fromLegacy = (QueryOperation.Queries) parse(batchOp, legacy);
      var fromUniversal = (QueryOperation.Queries) parse(StorageOp.QUERY_BATCH, universal);
      assertEquals(Shape.POINTS_BATCH, fromLegacy.shape());
      assertEquals(fromUniversal.requests(), fromLegacy.requests(), () -> batchOp + " " + legacy);
      assertEquals(models, fromLegacy.requests(), () -> batchOp + " " + legacy);
    });
  }

  /**
   * A request the legacy endpoints can say: one stage, a limit, a nearest (dense, or sparse by
   * name), recommend (by ids or dense examples, a positive one unless the strategy scores
   * negatives alone), discover or context query, and a lookup that names its vector.
   */
  static QueryRequest legacyModel(RandomRequests gen) {
    String using = gen.chance(2) ? "" : gen.pick(List.of("img", "text"));
    Query query = switch (gen.random().nextInt(4)) {
      case 0 -> new Query.Nearest(gen.chance(3) ? gen.sparse() : gen.dense(1 + gen.random().nextInt(4)), null);
      case 1 -> {
        Query.RecommendStrategy strategy = gen.pick(List.of(Query.RecommendStrategy.values()));
        List<VectorInput> negative = gen.list(0, 2, () -> example(gen));
        boolean positiveNeeded = strategy == Query.RecommendStrategy.AVERAGE_VECTOR || negative.isEmpty();
        yield new Query.Recommend(gen.list(positiveNeeded ? 1 : 0, 3, () -> example(gen)), negative, strategy);
      }
      case 2 -> new Query.Discover(example(gen), gen.list(0, 2, () -> new Query.ContextPair(example(gen), example(gen))));
      default -> new Query.Context(gen.list(1, 2, () -> new Query.ContextPair(example(gen), example(gen))));
    };
    LookupLocation lookup = query instanceof Query.Nearest || gen.chance(2) ? null
        : new LookupLocation("other", gen.chance(2) ? using : "pic");
    Stage root = new Stage(List.of(), query, using, gen.chance(3) ? gen.filter(1) : null, gen.searchParams(),
        gen.chance(3) ? gen.quarter(-8, 8) : null, 1 + gen.random().nextInt(100), lookup);
    return new QueryRequest(root, gen.chance(3) ? gen.random().nextInt(50) : 0, gen.withPayload(), gen.withVector(),
        gen.chance(4) ? gen.shardKey() : null);
  }

  private static VectorInput example(RandomRequests gen) {
    return gen.chance(3) ? gen.dense(1 + gen.random().nextInt(3)) : new VectorInput.Id(gen.id());
  }

  // ---- the loop ----

  /** One property, checked on what the generator makes; its assertions name the JSON they tried. */
  @FunctionalInterface
  private interface Property {
    void check(RandomRequests gen, RequestJsonWriter write);
  }

  /** Runs a property {@link #ITERATIONS} times, each iteration from its own seed derived from the test's. */
  private static void repeat(int property, Property p) {
    Random master = new Random(SEED + property);
    for (int i = 0; i < ITERATIONS; i++) {
      long seed = master.nextLong();
      Random r = new Random(seed);
      try {
        p.check(new RandomRequests(r), new RequestJsonWriter(r));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("failed with -Dtests.seed=" + Long.toHexString(SEED) + " at iteration " + i + ": " + e.getMessage(), e);
      }
    }
  }

  private static Request parse(StorageOp op, JsonNode json) {
    return op.parse("c", reread(json), Map.of());
  }

  /** The JSON as text and back, as a client sends it and the router reads it. */
  private static JsonNode reread(JsonNode json) {
    try {
      return Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(json));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long seed() {
    String s = System.getProperty("tests.seed");
    return s == null || s.isBlank() ? DEFAULT_SEED : Long.parseUnsignedLong(s.split(":")[0], 16);
  }
}
