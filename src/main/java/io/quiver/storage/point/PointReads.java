package io.quiver.storage.point;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.OrderBy;
import io.quiver.error.ApiException;
import io.quiver.request.PointRead;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.storage.collection.Collection;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** Reads of points that are not searches: retrieval by id, scroll (by id or ordered by a payload key), count, facets. */
public final class PointReads {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int DEFAULT_LIMIT = 10;

  private PointReads() {}

  /** {@code POST /points}: the existing points among the ids, in the order given. */
  public static ArrayNode retrieve(Collection col, PointRead.Retrieve req) throws IOException {
    var sel = Records.selection(req.withPayload(), req.withVector(), col.schema());
    ArrayNode out = F.arrayNode();
    for (Point p : col.shard.read(r -> r.get(req.ids(), sel.selector()))) {
      out.add(Records.record(p, sel, col.schema()));
    }
    return out;
  }

  /** {@code GET /points/{id}}: the point with its payload and vectors; 404 when it does not exist. */
  public static ObjectNode getOne(Collection col, PointRead.GetOne req) throws IOException {
    var sel = Records.selection(WithPayload.ALL, WithVector.ALL, col.schema());
    Point p = col.shard.read(r -> r.get(req.id(), sel.selector()));
    if (p == null) {
      throw ApiException.notFound("Point with id " + req.rawId() + " does not exists!");
    }
    return Records.record(p, sel, col.schema());
  }

  public static ObjectNode scroll(Collection col, PointRead.Scroll req) throws IOException {
    int limit = req.limit() == null ? DEFAULT_LIMIT : req.limit();
    var sel = Records.selection(req.withPayload(), req.withVector(), col.schema());
    if (req.orderBy() != null) {
      return orderedScroll(col, req.orderBy(), req.filter(), limit, sel);
    }
    Shard.Page page = col.shard.read(r -> r.scroll(req.filter(), req.offset(), limit, sel.selector()));
    ObjectNode out = F.objectNode();
    ArrayNode points = out.putArray("points");
    page.points().forEach(p -> points.add(Records.record(p, sel, col.schema())));
    out.set("next_page_offset", page.next() == null ? F.nullNode() : page.next().toJson());
    return out;
  }

  private static ObjectNode orderedScroll(Collection col, io.quiver.request.OrderBy order, Filter filter, int limit,
      Records.Selection sel) throws IOException {
    FieldIndex index = rangeIndex(col.schema(), order.key());
    return col.shard.read(r -> {
      ObjectNode out = F.objectNode();
      ArrayNode points = out.putArray("points");
      for (OrderBy.Hit h : OrderBy.top(r, order.key(), index, order.descending(), order.startFrom(), filter, limit)) {
        PointId id = r.idOf(h.doc());
        ObjectNode rec = Records.record(r.load(h.doc(), id, sel.selector()), sel, col.schema());
        if (h.value() instanceof Double d) {
          rec.put("order_value", d);
        } else {
          rec.put("order_value", h.value().longValue());
        }
        points.add(rec);
      }
      out.putNull("next_page_offset");
      return out;
    });
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

  public static Map<String, Integer> count(Collection col, PointRead.Count req) throws IOException {
    return Map.of("count", col.shard.read(r -> r.count(req.filter())));
  }

  public static ObjectNode facet(Collection col, PointRead.Facet req) throws IOException {
    FieldIndex index = Facets.facetIndex(col.schema().payload(), req.key());
    if (index == null) {
      throw ApiException.badRequest("No appropriate index for faceting: `" + req.key() + "`. Please create one to facet on this "
          + "field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
          + "support Match conditions");
    }
    int limit = req.limit() == null ? DEFAULT_LIMIT : req.limit();
    List<Facets.Hit> hits = col.shard.read(r -> Facets.top(r, req.key(), index, req.filter(), limit));
    ObjectNode out = F.objectNode();
    ArrayNode list = out.putArray("hits");
    for (Facets.Hit h : hits) {
      ObjectNode hit = list.addObject();
      switch (h.value()) {
        case Long n -> hit.put("value", n);
        case Boolean b -> hit.put("value", b);
        default -> hit.put("value", h.value().toString());
      }
      hit.put("count", h.count());
    }
    return out;
  }
}
