package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Distance;
import io.quiver.engine.Fields;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.SparseSearch;
import io.quiver.engine.SparseSpec;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSearch;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.error.ApiException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermInSetQuery;

/** Search and recommendation: request parsing, execution on a shard, ScoredPoint rendering. */
final class SearchOps {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final Set<String> STRATEGIES = Set.of("average_vector", "best_score", "sum_scores");
  /** Largest limit (and offset) honoured: limit + offset stays an int; no shard holds more points. */
  static final int MAX_LIMIT = Integer.MAX_VALUE / 2;

  private SearchOps() {}

  /** What to search with: a dense vector (prepared) or a sparse one, on a named field. */
  record Target(String using, float[] dense, SparseVector sparse) {}

  /** Common parameters of search-like requests. */
  record Common(Filter filter, int limit, int offset, Integer ef, boolean exact, Float threshold,
      PointRequests.Selection selection) {}

  static Common common(ObjectNode body, CollectionSchema schema) {
    var v = Validation.body();
    if (!body.has("limit") || body.get("limit").isNull()) {
      throw ApiException.formatError("missing field `limit`");
    }
    Long limit = v.count(body.get("limit"), "limit", 1);
    Long offset = v.count(body.get("offset"), "offset", 0);
    JsonNode params = Changes.field(body, "params");
    Long ef = params == null ? null : v.range(params.get("hnsw_ef"), "params.hnsw_ef", 0, 100_000);
    Double threshold = null;
    JsonNode t = Changes.field(body, "score_threshold");
    if (t != null) {
      if (!t.isNumber()) {
        throw ApiException.formatError("score_threshold: expected a number");
      }
      threshold = t.asDouble();
    }
    v.throwIfAny();
    boolean exact = params != null && params.path("exact").asBoolean(false);
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    JsonNode withVector = EngineStorageService.withVector(body);
    return new Common(filter, (int) Math.min(limit, MAX_LIMIT), offset == null ? 0 : (int) Math.min(offset, MAX_LIMIT),
        ef == null ? null : ef.intValue(), exact, threshold == null ? null : threshold.floatValue(),
        PointRequests.selection(body.get("with_payload"), withVector, false, schema));
  }

  /** {@code vector} of a search request: an array, or a named dense or sparse vector. */
  static Target target(JsonNode vector, CollectionSchema schema) {
    if (vector == null || vector.isNull()) {
      throw ApiException.formatError("missing field `vector`");
    }
    if (vector.isArray()) {
      return dense("", vector, schema);
    }
    ObjectNode named = CollectionConfigs.object(vector, "vector");
    JsonNode name = named.get("name");
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("vector: data did not match any variant of untagged enum NamedVectorStruct");
    }
    JsonNode value = named.get("vector");
    if (value != null && value.isObject()) {
      SparseSpec spec = schema.sparse().get(name.textValue());
      if (spec == null) {
        throw ApiException.wrongInput("Not existing vector name error: " + name.textValue());
      }
      return new Target(name.textValue(), null, PointRequests.sparse(value, "vector.vector"));
    }
    return dense(name.textValue(), value, schema);
  }

  private static Target dense(String name, JsonNode arr, CollectionSchema schema) {
    VectorSpec spec = schema.dense().get(name);
    if (spec == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + name);
    }
    var vectors = PointRequests.vectors(F.objectNode().set(name, arr), schema, "vector");
    return new Target(name, vectors.dense().get(name), null);
  }

  /** Runs one search on a reader and renders its ScoredPoints. */
  static ArrayNode search(Shard.Reader r, Target target, Common c, Query extraFilter) throws IOException {
    return render(r, hits(r, target, c, extraFilter, c.limit() + c.offset()), c);
  }

  /** The best {@code k} hits of a search, best first. */
  static List<VectorSearch.Hit> hits(Shard.Reader r, Target target, Common c, Query extraFilter, int k) throws IOException {
    CollectionSchema schema = r.schema();
    k = Math.min(k, Math.max(1, r.numDocs()));
    Query filter = combine(c.filter() == null ? null : FilterQueries.toQuery(c.filter(), schema.payload()), extraFilter);
    return target.sparse() != null
        ? SparseSearch.search(r.searcher(), schema.sparse().get(target.using()), target.sparse(), filter, k, c.threshold())
        : VectorSearch.search(r.searcher(), schema.dense().get(target.using()), target.dense(), filter, k, c.ef(), c.exact(), c.threshold());
  }

  static ArrayNode render(Shard.Reader r, List<VectorSearch.Hit> hits, Common c) throws IOException {
    ArrayNode out = F.arrayNode();
    for (int i = c.offset(); i < hits.size(); i++) {
      var sd = new ScoreDoc(hits.get(i).doc(), hits.get(i).score());
      PointId id = r.idOf(sd);
      ObjectNode p = F.objectNode();
      p.set("id", id.toJson());
      p.put("version", r.version(sd));
      p.put("score", hits.get(i).score());
      if (c.selection().selector().payload() || c.selection().selector().vectors()) {
        Point point = r.load(sd, id, c.selection().selector());
        ObjectNode rec = PointRequests.record(point, c.selection(), r.schema());
        p.set("payload", rec.get("payload"));
        p.set("vector", rec.get("vector"));
      } else {
        p.putNull("payload");
        p.putNull("vector");
      }
      out.add(p);
    }
    return out;
  }

  static Query combine(Query a, Query b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return new BooleanQuery.Builder().add(a, BooleanClause.Occur.FILTER).add(b, BooleanClause.Occur.FILTER).build();
  }

  static Query excluding(List<PointId> ids) {
    if (ids.isEmpty()) {
      return null;
    }
    return new BooleanQuery.Builder()
        .add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER)
        .add(new TermInSetQuery(Fields.ID, ids.stream().map(PointId::term).toList()), BooleanClause.Occur.MUST_NOT)
        .build();
  }

  /** A sampled point: its id and its stored (prepared) vector. */
  record Sampled(PointId id, float[] vector) {}

  /**
   * A uniform random sample (reservoir) of up to {@code n} live documents matching {@code q} that have
   * a vector in {@code field}, sorted by point id.
   */
  static List<Sampled> sample(Shard.Reader r, Query q, String field, int n, java.util.Random random) throws IOException {
    var searcher = r.searcher();
    var weight = io.quiver.engine.Matching.weight(searcher, q);
    int[] reservoir = new int[n];
    long seen = 0;
    for (var ctx : searcher.getIndexReader().leaves()) {
      var it = io.quiver.engine.Matching.docs(ctx, null, weight);
      if (it == null) {
        continue;
      }
      for (int doc = it.nextDoc(); doc != org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
        if (seen < n) {
          reservoir[(int) seen] = ctx.docBase + doc;
        } else {
          long j = random.nextLong(seen + 1);
          if (j < n) {
            reservoir[(int) j] = ctx.docBase + doc;
          }
        }
        seen++;
      }
    }
    List<Sampled> out = new ArrayList<>();
    var leaves = searcher.getIndexReader().leaves();
    for (int i = 0; i < Math.min(seen, n); i++) {
      int doc = reservoir[i];
      var ctx = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(doc, leaves));
      float[] v = io.quiver.engine.DocMapper.vector(ctx.reader(), field, doc - ctx.docBase);
      if (v != null) {
        out.add(new Sampled(r.idOf(new ScoreDoc(doc, 0f)), v));
      }
    }
    out.sort((a, b) -> a.id().term().compareTo(b.id().term()));
    return out;
  }

  // ---- recommend ----

  /** A parsed recommend request; examples given by id are resolved against {@code lookup}. */
  record Recommend(String using, List<JsonNode> positive, List<JsonNode> negative, String strategy, Common common,
      String lookupCollection, String lookupVector) {}

  static Recommend recommend(ObjectNode body, CollectionSchema schema) {
    String using = body.path("using").isTextual() ? body.get("using").textValue() : "";
    if (!schema.dense().containsKey(using) && !schema.sparse().containsKey(using)) {
      throw ApiException.wrongInput("Not existing vector name error: " + using);
    }
    String strategy = body.path("strategy").isTextual() ? body.get("strategy").textValue() : "average_vector";
    if (!STRATEGIES.contains(strategy)) {
      throw ApiException.formatError("strategy: unknown variant `" + strategy + "`, expected one of `average_vector`, `best_score`, `sum_scores`");
    }
    List<JsonNode> positive = examples(body.get("positive"), "positive");
    List<JsonNode> negative = examples(body.get("negative"), "negative");
    if (positive.isEmpty() && (strategy.equals("average_vector") || negative.isEmpty())) {
      throw ApiException.badRequest("At least one positive vector ID required");
    }
    JsonNode lookup = Changes.field(body, "lookup_from");
    String lookupCollection = lookup == null ? null : lookup.path("collection").asText(null);
    String lookupVector = lookup == null || !lookup.path("vector").isTextual() ? using : lookup.get("vector").textValue();
    return new Recommend(using, positive, negative, strategy, common(body, schema), lookupCollection, lookupVector);
  }

  private static List<JsonNode> examples(JsonNode n, String path) {
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw ApiException.formatError(path + ": expected a list of point ids or vectors");
    }
    List<JsonNode> out = new ArrayList<>();
    n.forEach(out::add);
    return out;
  }

  /**
   * Example vectors; ids resolved with {@code byId} (stored, so already prepared). Vectors given as
   * such are prepared for the distance when {@code prepare}: Qdrant's scoring strategies preprocess
   * them, while average_vector averages them as given (and prepares only the average).
   */
  static List<float[]> denseExamples(List<JsonNode> examples, VectorSpec spec, Function<PointId, float[]> byId, List<PointId> ids,
      boolean prepare) {
    List<float[]> out = new ArrayList<>();
    for (JsonNode e : examples) {
      if (e.isArray() && spec.multi()) {
        out.add(PointRequests.multi(e, spec, "example"));
      } else if (e.isArray()) {
        if (e.size() != spec.size()) {
          throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got " + e.size());
        }
        float[] v = new float[e.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = e.get(i).floatValue();
        }
        out.add(prepare ? spec.distance().prepare(v) : v);
      } else {
        PointId id = PointRequests.id(e, "example");
        ids.add(id);
        out.add(byId.apply(id));
      }
    }
    return out;
  }

  /**
   * average_vector's query. For multivectors, as Qdrant: the rows of every positive example followed
   * by the negated rows of every negative one.
   */
  static float[] averageVector(List<float[]> positive, List<float[]> negative, VectorSpec spec) {
    if (!spec.multi()) {
      return averageVector(positive, negative, spec.distance());
    }
    if (positive.isEmpty()) {
      throw ApiException.badRequest("Positive vectors should not be empty with `average` strategy");
    }
    int n = 0;
    for (float[] v : positive) {
      n += v.length;
    }
    for (float[] v : negative) {
      n += v.length;
    }
    float[] out = new float[n];
    int at = 0;
    for (float[] v : positive) {
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    for (float[] v : negative) {
      for (float x : v) {
        out[at++] = -x;
      }
    }
    return out;
  }

  static float[] averageVector(List<float[]> positive, List<float[]> negative, Distance d) {
    float[] pos = average(positive);
    if (negative.isEmpty()) {
      return d.prepare(pos);
    }
    float[] neg = average(negative);
    float[] out = new float[pos.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = pos[i] + pos[i] - neg[i];
    }
    return d.prepare(out);
  }

  private static float[] average(List<float[]> vs) {
    float[] out = new float[vs.get(0).length];
    for (float[] v : vs) {
      for (int i = 0; i < out.length; i++) {
        out[i] += v[i];
      }
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= vs.size();
    }
    return out;
  }

  /** A similarity of an example to a stored vector, higher is better. */
  @FunctionalInterface
  interface Similarity<T> {
    float of(T example, T stored);
  }

  /**
   * Qdrant's raw metric similarity, which the scoring strategies combine: higher is better; the
   * dot product for cosine and dot, minus the <em>squared</em> euclidean distance (Qdrant's
   * euclid_similarity, before the square root its search results get), minus the manhattan distance.
   */
  static float similarity(Distance d, float[] q, float[] v) {
    if (d == Distance.EUCLID) {
      return -org.apache.lucene.util.VectorUtil.squareDistance(q, v);
    }
    float s = d.score(q, v);
    return d.higherIsBetter() ? s : -s;
  }

  /** A raw similarity between an example and a stored dense vector or multivector. */
  @FunctionalInterface
  interface Sim extends Similarity<float[]> {}

  /** The similarity of a vector: {@link #similarity} for single vectors, max_sim for multivectors. */
  static Sim sim(VectorSpec spec) {
    Distance d = spec.distance();
    return spec.multi() ? (a, b) -> VectorSearch.maxSim(d, spec.size(), a, b) : (a, b) -> similarity(d, a, b);
  }

  static float bestScore(Distance d, List<float[]> pos, List<float[]> neg, float[] v) {
    return bestScore((a, b) -> similarity(d, a, b), pos, neg, v);
  }

  static <T> float bestScore(Similarity<T> sim, List<T> pos, List<T> neg, T v) {
    float maxPos = Float.NEGATIVE_INFINITY;
    for (T p : pos) {
      maxPos = Math.max(maxPos, sim.of(p, v));
    }
    float maxNeg = Float.NEGATIVE_INFINITY;
    for (T n : neg) {
      maxNeg = Math.max(maxNeg, sim.of(n, v));
    }
    return maxPos > maxNeg ? scaledSigmoid(maxPos) : -scaledSigmoid(maxNeg);
  }

  static float sumScores(Distance d, List<float[]> pos, List<float[]> neg, float[] v) {
    return sumScores((a, b) -> similarity(d, a, b), pos, neg, v);
  }

  static <T> float sumScores(Similarity<T> sim, List<T> pos, List<T> neg, T v) {
    float s = 0;
    for (T p : pos) {
      s += sim.of(p, v);
    }
    for (T n : neg) {
      s -= sim.of(n, v);
    }
    return s;
  }

  static float discoveryScore(Distance d, float[] target, List<float[]> pairs, float[] v) {
    return discoveryScore((a, b) -> similarity(d, a, b), target, pairs, v);
  }

  static <T> float discoveryScore(Similarity<T> sim, T target, List<T> pairs, T v) {
    int rank = 0;
    for (int i = 0; i < pairs.size(); i += 2) {
      rank += Integer.signum(Float.compare(sim.of(pairs.get(i), v), sim.of(pairs.get(i + 1), v)));
    }
    return rank + scaledSigmoid(sim.of(target, v));
  }

  /** Context search: the summed loss of the pairs whose negative is at least as close as the positive. */
  static float contextScore(Distance d, List<float[]> pairs, float[] v) {
    return contextScore((a, b) -> similarity(d, a, b), pairs, v);
  }

  static <T> float contextScore(Similarity<T> sim, List<T> pairs, T v) {
    float s = 0;
    for (int i = 0; i < pairs.size(); i += 2) {
      float difference = sim.of(pairs.get(i), v) - sim.of(pairs.get(i + 1), v) - Math.ulp(1f);
      float x = Math.min(difference, 0f);
      s += x / (1f + Math.abs(x));
    }
    return s;
  }

  private static float scaledSigmoid(float x) {
    return 0.5f * (x / (1f + Math.abs(x)) + 1f);
  }
}
