package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.query.Sampling;
import io.quiver.request.OrderBy;
import io.quiver.request.PointOperation;
import io.quiver.request.Stage;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * One shard of a collection, as the collection's coordinator uses it: the data operations that run
 * where the shard lives. Every argument and result is an immutable record of plain values (request
 * records, filters, point ids, Jackson trees, vectors), so that an implementation may send them to
 * another node; no Lucene doc ids, lambdas or plans cross it. Every method is asynchronous and never
 * blocks its caller waiting for another thread.
 *
 * <p>Failures complete the stage exceptionally: {@link io.quiver.error.ApiException} with Qdrant's
 * status and wording, anything else an internal failure (a full disk among them).
 *
 * <p>Reads see every write acknowledged before the call (as one shard does). The coordinator merges
 * what the shards answer: hits in a stage's order with ties by point id, counts summed.
 */
public interface ShardEndpoint {
  /** The shard's id in its collection. */
  int id();

  /** Runs a stage tree on the shard's points: its hits, best first. */
  CompletionStage<List<Hit>> search(Search call);

  /** Scores the candidates this shard holds by one stage's query: its hits, best first. */
  CompletionStage<List<Hit>> rescore(Rescore call);

  /** The existing points among the ids, rendered as asked, in the order given. */
  CompletionStage<List<Hit>> retrieve(Retrieve call);

  /** The existing points among the ids with their stored vectors {@code vectors} (prepared), for computations. */
  CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors);

  /** A page of points in id order (from an offset) or ordered by a payload key. */
  CompletionStage<Page> scroll(Scroll call);

  /** The exact number of points matching the filter (null: all). */
  CompletionStage<Long> count(Filter filter);

  /** Every value of an indexed key among the points a filter keeps (null: all), with its count, most frequent first. */
  CompletionStage<List<Facets.Hit>> facet(JsonPath key, Filter filter, int limit);

  /** A uniform sample of up to {@code n} points having the dense vector {@code using}, and how many there were to draw from. */
  CompletionStage<VectorSample> sample(Filter filter, String using, int n);

  /** The shard's figures: points, segments, vectors. */
  CompletionStage<Stats> stats();

  /**
   * This node's own copy of the shard, whatever its state, when the endpoint reaches others too (a
   * replicated shard in a cluster); else this endpoint.
   */
  default ShardEndpoint own() {
    return this;
  }

  /**
   * Before a write that adds data: holds the write permission of the node that stores this shard
   * (its write lock and disk write block), so that a write refused by any node changes nothing on
   * any. Completes with what releases the hold, or fails with that node's refusal (403 or 507 and its
   * message). A shard stored on the coordinator's own node needs nothing here: the node's own
   * permission was taken when the request entered it.
   */
  default CompletionStage<Runnable> reserve() {
    return java.util.concurrent.CompletableFuture.completedFuture(() -> { });
  }

  /**
   * This shard answering reads with Qdrant's read {@code consistency} (see {@link
   * Collection#consistent}); a shard without replicas is already consistent.
   */
  default ShardEndpoint consistent(String consistency) {
    return this;
  }

  /** Applies the operations (already checked against the collection, and only this shard's part) as one write. */
  CompletionStage<WriteResult> write(Write call);

  /**
   * A point found by a read: its id, score (0 for points that were not scored), order value ({@code
   * order_by}) or null, version (0 for points scrolled rather than scored, as Qdrant shows them), and
   * the payload and vectors asked for (null when not asked; {@code NullNode} in a rendered record),
   * and the shard key of the shard it was found in (custom sharding; null otherwise). A shard
   * itself never knows its key: the coordinator's endpoint of a key's shard adds it.
   */
  record Hit(PointId id, float score, Number orderValue, long version, JsonNode payload, JsonNode vector, Object shardKey) {
    public Hit(PointId id, float score, Number orderValue, long version, JsonNode payload, JsonNode vector) {
      this(id, score, orderValue, version, payload, vector, null);
    }

    public Hit withScore(float s) {
      return new Hit(id, s, orderValue, version, payload, vector, shardKey);
    }

    public Hit withVersion(long v) {
      return new Hit(id, score, orderValue, v, payload, vector, shardKey);
    }

    public Hit withRecord(JsonNode p, JsonNode v) {
      return new Hit(id, score, orderValue, version, p, v, shardKey);
    }

    public Hit withShardKey(Object key) {
      return new Hit(id, score, orderValue, version, payload, vector, key);
    }
  }

  /**
   * The example points a stage's query names by id (read by the coordinator from the collection that
   * holds them), with the vector they are compared by.
   */
  record Examples(String vector, Map<PointId, Point> points) {
    public Examples {
      points = Map.copyOf(points);
    }
  }

  /**
   * Run {@code stage} (its prefetches too) on the shard.
   *
   * @param filter what the coordinator adds to the stage's filter: the ancestors' filters and the
   *     request's exclusions; null for none
   * @param examples the examples of the stages of the tree, by the stage's position in a pre-order
   *     walk of {@code stage} (0 is {@code stage} itself)
   * @param take the stage's limit (at the request's root: limit + offset)
   * @param scale multiplies the prefetches' limits (grouped queries)
   * @param rootLimit the request's limit when {@code stage} is the request's root (MMR then re-ranks
   *     to it), null for a prefetch (MMR then keeps its nearest candidates)
   * @param skip how many of the best hits to leave out (the request's offset)
   */
  record Search(Stage stage, Filter filter, Map<Integer, Examples> examples, int take, int scale, Integer rootLimit, int skip,
      WithPayload withPayload, WithVector withVector) {
    public Search {
      examples = Map.copyOf(examples);
    }
  }

  /**
   * Score the candidates of {@code sources} (the prefetches' results, restricted to this shard's
   * points, each list in its prefetch's order) by {@code stage}'s own query, as a stage with
   * prefetches does: a vector query scores them exactly (MMR: its nearest {@code candidates_limit});
   * order_by orders them; a formula reads their prefetch scores, conditions and payloads.
   */
  record Rescore(Stage stage, Examples examples, List<List<Hit>> sources, int limit) {
    public Rescore {
      sources = sources.stream().map(List::copyOf).toList();
    }
  }

  record Retrieve(List<PointId> ids, WithPayload withPayload, WithVector withVector) {
    public Retrieve {
      ids = List.copyOf(ids);
    }
  }

  /** In id order from {@code offset} (inclusive), or by {@code orderBy}; {@code limit} points. */
  record Scroll(Filter filter, PointId offset, int limit, OrderBy orderBy, WithPayload withPayload, WithVector withVector) {}

  /** A page: the points, and the first id of the next page (null on the last). */
  record Page(List<Hit> points, PointId next) {
    public Page {
      points = List.copyOf(points);
    }
  }

  record VectorSample(List<Sampling.Sampled> points, long matched) {
    public VectorSample {
      points = List.copyOf(points);
    }
  }

  /**
   * Points, Lucene segments, points with an indexed (HNSW) vector, points having each dense vector,
   * bytes on disk, and whether merges run or wait to run.
   */
  record Stats(long points, int segments, long indexedVectors, Map<String, Long> vectors, long diskBytes, boolean optimizing) {
    public Stats {
      vectors = Map.copyOf(vectors);
    }
  }

  /** @param ordering Qdrant's write ordering ({@code weak}, {@code medium}, {@code strong}): which replica orders the write */
  record Write(List<PointOperation> operations, boolean waitForResult, String ordering) {
    public Write {
      operations = List.copyOf(operations);
      ordering = ordering == null ? "weak" : ordering;
    }

    public Write(List<PointOperation> operations, boolean waitForResult) {
      this(operations, waitForResult, "weak");
    }
  }

  /** The operation id (the shard's WAL sequence) and whether the write is visible ({@code wait}). */
  record WriteResult(long operationId, boolean completed) {}
}
