package io.quiver.storage.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.query.Grouping;
import io.quiver.engine.query.Plan;
import io.quiver.error.ApiException;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryOperation;
import io.quiver.request.QueryParser;
import io.quiver.request.QueryRequest;
import io.quiver.request.Stage;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.ShardEndpoint.Hit;
import io.quiver.storage.collection.ShardKeys;
import io.quiver.storage.collection.Shards;
import io.quiver.storage.point.PointReads;
import io.quiver.storage.point.Records;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Every vector search of a collection, in the universal query's form: the query, its batch and
 * groups, and the legacy search, recommend and discover requests that were parsed into it. Plans
 * with {@link QueryPlanner}; a collection of one shard runs the whole plan on it (one reader, as
 * always), a collection of several runs it with {@link ShardedQuery}; renders Qdrant's ScoredPoints
 * in the shape the request asked for.
 */
public final class QueryService {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private final Catalogue catalogue;
  private final QueryPlanner planner;

  public QueryService(Catalogue catalogue) {
    this.catalogue = catalogue;
    this.planner = new QueryPlanner(catalogue);
  }

  /** Runs the queries in order and shapes the answer: {@code {"points"}}, a list of them, the points, or lists of points. */
  public CompletionStage<Object> run(Collection col, QueryOperation.Queries q) {
    List<QueryRequest> requests = q.requests();
    return next(col, requests, 0, new ArrayList<>()).thenApply(results -> {
      ArrayNode out = F.arrayNode();
      for (ArrayNode points : results) {
        switch (q.shape()) {
          case QUERY -> {
            return F.objectNode().set("points", points);
          }
          case POINTS -> {
            return points;
          }
          case QUERY_BATCH -> out.addObject().set("points", points);
          case POINTS_BATCH -> out.add(points);
        }
      }
      return out;
    });
  }

  /** The requests one after another (a failure stops the batch), chained without growing the stack. */
  private CompletionStage<List<ArrayNode>> next(Collection col, List<QueryRequest> requests, int from, List<ArrayNode> done) {
    CompletionStage<List<ArrayNode>> chain = CompletableFuture.completedFuture(done);
    for (int i = from; i < requests.size(); i++) {
      QueryRequest req = requests.get(i);
      chain = chain.thenCompose(list -> Shards.attempt(() -> points(col, req)).thenApply(points -> {
        list.add(points);
        return list;
      }));
    }
    return chain;
  }

  private CompletionStage<ArrayNode> points(Collection whole, QueryRequest req) {
    Collection col = ShardKeys.forRead(whole, req.shardKey());
    Stage root = req.root();
    int limit = root.limitOrDefault();
    // Qdrant ignores the offset of a random sample of the whole collection: its order is not stable anyway
    int offset = root.query() instanceof Query.Sample && root.prefetch().isEmpty() ? 0 : req.offset();
    int take = limit + offset;
    return planner.resolve(col, root, null).thenCompose(res -> {
      if (col.singleShard()) {
        ShardEndpoint only = col.endpoints().values().iterator().next();
        return only.search(new ShardEndpoint.Search(root, res.rootFilter(), QueryPlanner.byPosition(root, res.examples()), take, 1,
            limit, offset, req.withPayload(), req.withVector())).thenApply(QueryService::render);
      }
      Plan plan = planner.plan(col.schema(), res, take, 1);
      Records.selection(req.withPayload(), req.withVector(), col.schema());
      return ShardedQuery.run(col, res, plan, limit)
          .thenCompose(hits -> withRecords(col, page(hits, offset, limit), req.withPayload(), req.withVector()))
          .thenApply(QueryService::render);
    });
  }

  private static List<Hit> page(List<Hit> hits, int from, int count) {
    return from >= hits.size() ? List.of() : hits.subList(from, (int) Math.min(hits.size(), (long) from + count));
  }

  /** The hits with the payload and vectors asked for, read where they live. */
  private static CompletionStage<List<Hit>> withRecords(Collection col, List<Hit> hits, WithPayload payload, WithVector vector) {
    if (hits.isEmpty() || (!payload.enabled() && !vector.enabled())) {
      return CompletableFuture.completedFuture(hits);
    }
    return PointReads.hits(col, hits.stream().map(Hit::id).toList(), payload, vector).thenApply(found -> {
      List<Hit> out = new ArrayList<>(hits.size());
      for (Hit h : hits) {
        Hit rec = found.get(h.id());
        out.add(rec == null ? h : h.withRecord(rec.payload(), rec.vector())); // deleted since: shown without
      }
      return out;
    });
  }

  /**
   * A grouped query: the query's results grouped by a payload key. As in Qdrant, points without the
   * key are filtered out and prefetch limits are multiplied by the group size; the root limit is
   * widened until the groups are full or the candidates run out.
   */
  public CompletionStage<ObjectNode> groups(Collection whole, QueryOperation.Groups op) {
    QueryGroupsRequest g = op.request();
    QueryRequest req = g.query();
    Collection col = ShardKeys.forRead(whole, req.shardKey());
    CollectionSchema schema = col.schema();
    Lookup lookup = lookup(g.withLookup());
    Filter hasKey = new Filter(null, null, List.of(new Condition.IsEmpty(g.groupBy())), null);
    int groups = g.groups();
    int size = g.groupSize();
    int first = QueryParser.clampLimit(Math.max(32L, (long) groups * size * 2));
    return planner.resolve(col, req.root(), hasKey).thenCompose(res -> {
      planner.plan(schema, res, first, size); // fails early on an invalid request
      Records.selection(req.withPayload(), req.withVector(), schema);
      return total(col).thenCompose(points -> widen(col, res, g, first, points));
    }).thenCompose(found -> {
      List<Hit> all = new ArrayList<>();
      found.values().forEach(all::addAll);
      return withRecords(col, all, req.withPayload(), req.withVector()).thenCompose(rendered -> {
        Map<Hit, Hit> shown = new java.util.IdentityHashMap<>();
        for (int i = 0; i < all.size(); i++) {
          shown.put(all.get(i), rendered.get(i));
        }
        ObjectNode result = F.objectNode();
        ArrayNode list = result.putArray("groups");
        List<CompletionStage<Void>> lookups = new ArrayList<>();
        for (var e : found.entrySet()) {
          ObjectNode group = list.addObject();
          group.set("hits", render(e.getValue().stream().map(shown::get).toList()));
          group.set("id", groupIdJson(e.getKey()));
          if (lookup != null) {
            lookups.add(lookup.addTo(group, e.getKey()));
          }
        }
        return Shards.all(lookups).thenApply(v -> result);
      });
    });
  }

  private static CompletionStage<Long> total(Collection col) {
    List<CompletionStage<Long>> counts = new ArrayList<>();
    col.endpoints().values().forEach(e -> counts.add(e.count(null)));
    return Shards.all(counts).thenApply(l -> l.stream().mapToLong(Long::longValue).sum());
  }

  /** Runs the grouped query with root limit {@code k}, widening it until the groups are full or the candidates run out. */
  private CompletionStage<Map<Object, List<Hit>>> widen(Collection col, QueryPlanner.Resolution res, QueryGroupsRequest g, int k,
      long points) {
    int size = g.groupSize();
    return Shards.attempt(() -> hitsWithPayload(col, res, k, size)).thenCompose(hits -> {
      Map<Object, List<Hit>> out = group(hits, g);
      if (Grouping.full(out, g.groups(), size) || hits.size() < k || k >= points || k >= QueryParser.MAX_LIMIT) {
        return CompletableFuture.completedFuture(out);
      }
      return widen(col, res, g, QueryParser.clampLimit((long) k * 4), points);
    });
  }

  /** The grouped query's hits at root limit {@code k}, with their payloads (to group them by). */
  private CompletionStage<List<Hit>> hitsWithPayload(Collection col, QueryPlanner.Resolution res, int k, int scale) {
    Stage root = res.root();
    if (col.singleShard()) {
      ShardEndpoint only = col.endpoints().values().iterator().next();
      return only.search(new ShardEndpoint.Search(root, res.rootFilter(), QueryPlanner.byPosition(root, res.examples()), k, scale, k, 0,
          WithPayload.ALL, WithVector.NONE));
    }
    Plan plan = planner.plan(col.schema(), res, k, scale);
    return ShardedQuery.run(col, res, plan, k).thenCompose(hits -> withRecords(col, hits, WithPayload.ALL, WithVector.NONE));
  }

  /** Qdrant's grouping: the first {@code limit} values seen open the groups, each keeps its first {@code size} hits. */
  private static Map<Object, List<Hit>> group(List<Hit> hits, QueryGroupsRequest g) {
    Map<Object, List<Hit>> out = new LinkedHashMap<>();
    for (Hit h : hits) {
      JsonNode payload = h.payload() == null ? F.objectNode() : h.payload();
      for (Object value : Grouping.values(g.groupBy(), payload)) {
        List<Hit> group = out.get(value);
        if (group == null && out.size() < g.groups()) {
          group = new ArrayList<>();
          out.put(value, group);
        }
        if (group != null && group.size() < g.groupSize()) {
          group.add(h.withRecord(null, null));
        }
      }
    }
    return out;
  }

  /** A resolved {@code with_lookup}: the collection the group ids name points of, and what to show of them. */
  private record Lookup(Collection collection, WithPayload payload, WithVector vector) {
    /** Adds the point the group id names, if there is one. */
    CompletionStage<Void> addTo(ObjectNode group, Object groupId) {
      PointId id = pointId(groupId);
      if (id == null) {
        return CompletableFuture.completedFuture(null);
      }
      return PointReads.hits(collection, List.of(id), payload, vector).thenAccept(found -> {
        if (found.containsKey(id)) {
          group.set("lookup", PointReads.record(found.get(id)));
        }
      });
    }
  }

  /** The point id a group value names in the lookup collection, or null when it cannot be one. */
  private static PointId pointId(Object groupId) {
    try {
      return PointId.parse(groupIdJson(groupId));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static JsonNode groupIdJson(Object groupId) {
    return groupId instanceof Long n ? F.numberNode(n) : F.textNode(groupId.toString());
  }

  private Lookup lookup(QueryGroupsRequest.WithLookup withLookup) {
    if (withLookup == null) {
      return null;
    }
    Collection lookup;
    try {
      lookup = catalogue.resolve(withLookup.collection());
    } catch (ApiException e) {
      if (e.status() != 404) {
        throw e;
      }
      throw ApiException.notFound("Collection " + withLookup.collection() + " not found"); // Qdrant's lookup wording
    }
    Records.selection(withLookup.withPayload(), withLookup.withVector(), lookup.schema());
    return new Lookup(lookup, withLookup.withPayload(), withLookup.withVector());
  }

  /** ScoredPoints of the hits. */
  private static ArrayNode render(List<Hit> hits) {
    ArrayNode out = F.arrayNode();
    for (Hit h : hits) {
      ObjectNode p = F.objectNode();
      p.set("id", h.id().toJson());
      p.put("version", h.version());
      p.put("score", h.score());
      p.set("payload", h.payload() == null ? F.nullNode() : h.payload());
      p.set("vector", h.vector() == null ? F.nullNode() : h.vector());
      PointReads.putShardKey(p, h.shardKey());
      if (h.orderValue() instanceof Double d) {
        p.put("order_value", d);
      } else if (h.orderValue() != null) {
        p.put("order_value", h.orderValue().longValue());
      }
      out.add(p);
    }
    return out;
  }
}
