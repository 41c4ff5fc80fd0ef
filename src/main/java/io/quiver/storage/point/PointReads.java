package io.quiver.storage.point;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.OrderBy;
import io.quiver.error.ApiException;
import io.quiver.request.PointRead;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.Shards;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * Reads of points that are not searches: retrieval by id, scroll (by id or ordered by a payload key),
 * count, facets. A point read by id is asked of the shard that holds it; the others ask every shard
 * and merge as one shard would answer: scroll pages by id (or by order value, then id), counts
 * summed, facet counts summed over every value before the most frequent are kept.
 */
public final class PointReads {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int DEFAULT_LIMIT = 10;

  private PointReads() {}

  /** {@code POST /points}: the existing points among the ids, in the order given. */
  public static CompletionStage<ArrayNode> retrieve(Collection col, PointRead.Retrieve req) {
    Records.selection(req.withPayload(), req.withVector(), col.schema()); // 400 before anything runs
    return hits(col, req.ids(), req.withPayload(), req.withVector()).thenApply(found -> {
      ArrayNode out = F.arrayNode();
      for (PointId id : new LinkedHashSet<>(req.ids())) {
        ShardEndpoint.Hit h = found.get(id);
        if (h != null) {
          out.add(record(h));
        }
      }
      return out;
    });
  }

  /** {@code GET /points/{id}}: the point with its payload and vectors; 404 when it does not exist. */
  public static CompletionStage<ObjectNode> getOne(Collection col, PointRead.GetOne req) {
    if (col.endpoints().isEmpty()) {
      throw ApiException.notFound("Point with id " + req.rawId() + " does not exists!");
    }
    return hits(col, List.of(req.id()), WithPayload.ALL, WithVector.ALL).thenApply(found -> {
      ShardEndpoint.Hit h = found.get(req.id());
      if (h == null) {
        throw ApiException.notFound("Point with id " + req.rawId() + " does not exists!");
      }
      return record(h);
    });
  }

  /** The existing points among {@code ids}, rendered as asked, by id; each asked of the shard that holds it. */
  public static CompletionStage<Map<PointId, ShardEndpoint.Hit>> hits(Collection col, List<PointId> ids, WithPayload payload,
      WithVector vector) {
    Map<ShardEndpoint, List<PointId>> byShard = byShard(col, ids);
    List<CompletionStage<List<ShardEndpoint.Hit>>> calls = new ArrayList<>();
    byShard.forEach((e, part) -> calls.add(e.retrieve(new ShardEndpoint.Retrieve(part, payload, vector))));
    return Shards.all(calls).thenApply(lists -> {
      Map<PointId, ShardEndpoint.Hit> out = new HashMap<>();
      lists.forEach(l -> l.forEach(h -> out.putIfAbsent(h.id(), h))); // an id in several keys: the first key's point
      return out;
    });
  }

  /** The existing points among {@code ids} with their stored {@code vectors}, by id. */
  public static CompletionStage<Map<PointId, Point>> points(Collection col, List<PointId> ids, Set<String> vectors) {
    Map<ShardEndpoint, List<PointId>> byShard = byShard(col, ids);
    List<CompletionStage<List<Point>>> calls = new ArrayList<>();
    byShard.forEach((e, part) -> calls.add(e.vectors(part, vectors)));
    return Shards.all(calls).thenApply(lists -> {
      Map<PointId, Point> out = new HashMap<>();
      lists.forEach(l -> l.forEach(p -> out.putIfAbsent(p.id(), p)));
      return out;
    });
  }

  /**
   * The distinct ids grouped by the endpoint of the shard that holds them, in the order given (under
   * custom sharding an id is asked of its shard in each key); nothing when the collection has no shards.
   */
  public static Map<ShardEndpoint, List<PointId>> byShard(Collection col, List<PointId> ids) {
    Map<ShardEndpoint, List<PointId>> out = new LinkedHashMap<>();
    if (col.endpoints().isEmpty()) {
      return out;
    }
    for (PointId id : new LinkedHashSet<>(ids)) {
      for (ShardEndpoint e : col.endpointsOf(id)) {
        out.computeIfAbsent(e, x -> new ArrayList<>()).add(id);
      }
    }
    return out;
  }

  /** A point as Qdrant's {@code Record} (with {@code shard_key} and {@code order_value} when it has them). */
  public static ObjectNode record(ShardEndpoint.Hit h) {
    ObjectNode out = F.objectNode();
    out.set("id", h.id().toJson());
    out.set("payload", h.payload() == null ? F.nullNode() : h.payload());
    out.set("vector", h.vector() == null ? F.nullNode() : h.vector());
    putShardKey(out, h.shardKey());
    putOrderValue(out, h.orderValue());
    return out;
  }

  /** Qdrant's {@code shard_key} of a record or scored point, under custom sharding (left out otherwise). */
  public static void putShardKey(ObjectNode out, Object key) {
    if (key instanceof Long n) {
      out.put("shard_key", n);
    } else if (key != null) {
      out.put("shard_key", key.toString());
    }
  }

  static void putOrderValue(ObjectNode out, Number value) {
    if (value instanceof Double d) {
      out.put("order_value", d);
    } else if (value != null) {
      out.put("order_value", value.longValue());
    }
  }

  public static CompletionStage<ObjectNode> scroll(Collection col, PointRead.Scroll req) {
    int limit = req.limit() == null ? DEFAULT_LIMIT : req.limit();
    CollectionSchema schema = col.schema();
    Records.selection(req.withPayload(), req.withVector(), schema);
    if (req.orderBy() != null) {
      rangeIndex(schema, req.orderBy().key());
    }
    var call = new ShardEndpoint.Scroll(req.filter(), req.orderBy() == null ? req.offset() : null, limit, req.orderBy(),
        req.withPayload(), req.withVector());
    List<CompletionStage<ShardEndpoint.Page>> calls = new ArrayList<>();
    col.endpoints().values().forEach(e -> calls.add(e.scroll(call)));
    return Shards.all(calls).thenApply(pages -> {
      List<ShardEndpoint.Hit> points = new ArrayList<>();
      pages.forEach(p -> points.addAll(p.points()));
      PointId next = null;
      if (req.orderBy() != null) {
        points.sort(orderValues(req.orderBy().descending()));
      } else {
        points.sort(Comparator.comparing(ShardEndpoint.Hit::id));
        for (ShardEndpoint.Page p : pages) {
          next = min(next, p.next());
        }
        if (points.size() > limit) {
          next = min(next, points.get(limit).id());
        }
      }
      ObjectNode out = F.objectNode();
      ArrayNode list = out.putArray("points");
      points.stream().limit(limit).forEach(h -> list.add(record(h)));
      out.set("next_page_offset", next == null ? F.nullNode() : next.toJson());
      return out;
    });
  }

  private static PointId min(PointId a, PointId b) {
    return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
  }

  /** The order of {@code order_by}: by value, then point id, both ascending or both descending. */
  public static Comparator<ShardEndpoint.Hit> orderValues(boolean descending) {
    Comparator<ShardEndpoint.Hit> ascending = Comparator.comparingDouble((ShardEndpoint.Hit h) -> h.orderValue().doubleValue())
        .thenComparing(ShardEndpoint.Hit::id);
    return descending ? ascending.reversed() : ascending;
  }

  /** The index that can order {@code key}; 400 when there is none. */
  public static FieldIndex rangeIndex(CollectionSchema schema, JsonPath key) {
    FieldIndex index = OrderBy.rangeIndex(schema.payload(), key);
    if (index == null) {
      throw ApiException.badRequest("No range index for `order_by` key: `" + key + "`. Please create one to use "
          + "`order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload "
          + "schemas support Range conditions");
    }
    return index;
  }

  public static CompletionStage<Map<String, Long>> count(Collection col, PointRead.Count req) {
    List<CompletionStage<Long>> calls = new ArrayList<>();
    col.endpoints().values().forEach(e -> calls.add(e.count(req.filter())));
    return Shards.all(calls).thenApply(counts -> Map.of("count", counts.stream().mapToLong(Long::longValue).sum()));
  }

  /** The index that can facet {@code key}; 400 when there is none. */
  public static FieldIndex facetIndex(CollectionSchema schema, JsonPath key) {
    FieldIndex index = Facets.facetIndex(schema.payload(), key);
    if (index == null) {
      throw ApiException.badRequest("No appropriate index for faceting: `" + key + "`. Please create one to facet on this "
          + "field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
          + "support Match conditions");
    }
    return index;
  }

  public static CompletionStage<ObjectNode> facet(Collection col, PointRead.Facet req) {
    facetIndex(col.schema(), req.key());
    int limit = req.limit() == null ? DEFAULT_LIMIT : req.limit();
    // a value among the most frequent overall need not be among any one shard's: every shard counts every value
    int perShard = col.endpoints().size() == 1 ? limit : Integer.MAX_VALUE;
    List<CompletionStage<List<Facets.Hit>>> calls = new ArrayList<>();
    col.endpoints().values().forEach(e -> calls.add(e.facet(req.key(), req.filter(), perShard)));
    return Shards.all(calls).thenApply(lists -> {
      Map<Object, Long> counts = new HashMap<>();
      lists.forEach(l -> l.forEach(h -> counts.merge(h.value(), h.count(), Long::sum)));
      List<Facets.Hit> hits = new ArrayList<>(counts.size());
      counts.forEach((v, n) -> hits.add(new Facets.Hit(v, n)));
      hits.sort(Facets.ORDER);
      ObjectNode out = F.objectNode();
      ArrayNode list = out.putArray("hits");
      for (Facets.Hit h : hits.subList(0, Math.min(limit, hits.size()))) {
        ObjectNode hit = list.addObject();
        switch (h.value()) {
          case Long n -> hit.put("value", n);
          case Boolean b -> hit.put("value", b);
          default -> hit.put("value", h.value().toString());
        }
        hit.put("count", h.count());
      }
      return out;
    });
  }
}
