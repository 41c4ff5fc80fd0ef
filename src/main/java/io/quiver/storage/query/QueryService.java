package io.quiver.storage.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.query.Grouping;
import io.quiver.engine.query.Hit;
import io.quiver.engine.query.Plan;
import io.quiver.engine.query.QueryExecutor;
import io.quiver.error.ApiException;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryOperation;
import io.quiver.request.QueryParser;
import io.quiver.request.QueryRequest;
import io.quiver.request.Stage;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.point.Records;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every vector search of a collection, in the universal query's form: the query, its batch and
 * groups, and the legacy search, recommend and discover requests that were parsed into it. Plans
 * with {@link QueryPlanner}, runs with {@link QueryExecutor} on one reader of the shard, renders
 * Qdrant's ScoredPoints in the shape the request asked for.
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
  public Object run(Collection col, QueryOperation.Queries q) throws IOException {
    ArrayNode out = F.arrayNode();
    for (QueryRequest req : q.requests()) {
      ArrayNode points = points(col, req);
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
  }

  private ArrayNode points(Collection col, QueryRequest req) throws IOException {
    Stage root = req.root();
    int limit = root.limitOrDefault();
    // Qdrant ignores the offset of a random sample of the whole collection: its order is not stable anyway
    int offset = root.query() instanceof Query.Sample && root.prefetch().isEmpty() ? 0 : req.offset();
    Plan plan = planner.plan(col.schema(), planner.resolve(col, root, null), limit + offset, 1);
    var sel = Records.selection(req.withPayload(), req.withVector(), col.schema());
    return col.shard.read(r -> render(r, QueryExecutor.execute(r, plan, limit), offset, offset + limit, sel));
  }

  /**
   * A grouped query: the query's results grouped by a payload key. As in Qdrant, points without the
   * key are filtered out and prefetch limits are multiplied by the group size; the root limit is
   * widened until the groups are full or the candidates run out.
   */
  public ObjectNode groups(Collection col, QueryOperation.Groups op) throws IOException {
    QueryGroupsRequest g = op.request();
    QueryRequest req = g.query();
    CollectionSchema schema = col.schema();
    Lookup lookup = lookup(g.withLookup());
    Filter hasKey = new Filter(null, null, List.of(new Condition.IsEmpty(g.groupBy())), null);
    var resolution = planner.resolve(col, req.root(), hasKey);
    int groups = g.groups();
    int size = g.groupSize();
    int first = QueryParser.clampLimit(Math.max(32L, (long) groups * size * 2));
    planner.plan(schema, resolution, first, size); // fails early on an invalid request
    var sel = Records.selection(req.withPayload(), req.withVector(), schema);
    Map<Object, ArrayNode> found = col.shard.read(r -> {
      int k = first;
      while (true) {
        List<Hit> hits = QueryExecutor.execute(r, planner.plan(schema, resolution, k, size), k);
        var out = Grouping.group(r, hits, g.groupBy(), groups, size);
        if (Grouping.full(out, groups, size) || hits.size() < k || k >= r.numDocs() || k >= QueryParser.MAX_LIMIT) {
          Map<Object, ArrayNode> rendered = new LinkedHashMap<>();
          for (var e : out.entrySet()) {
            rendered.put(e.getKey(), render(r, e.getValue(), 0, size, sel));
          }
          return rendered;
        }
        k = QueryParser.clampLimit((long) k * 4);
      }
    });
    ObjectNode result = F.objectNode();
    ArrayNode list = result.putArray("groups");
    for (var e : found.entrySet()) {
      ObjectNode group = list.addObject();
      group.set("hits", e.getValue());
      group.set("id", groupIdJson(e.getKey()));
      if (lookup != null) {
        lookup.addTo(group, e.getKey());
      }
    }
    return result;
  }

  /** A resolved {@code with_lookup}: the collection the group ids name points of, and what to show of them. */
  private record Lookup(Collection collection, Records.Selection selection) {
    /** Adds the point the group id names, if there is one. */
    void addTo(ObjectNode group, Object groupId) throws IOException {
      PointId id = pointId(groupId);
      Point found = id == null ? null : collection.shard.read(r -> r.get(id, selection.selector()));
      if (found != null) {
        group.set("lookup", Records.record(found, selection, collection.schema()));
      }
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
    return new Lookup(lookup, Records.selection(withLookup.withPayload(), withLookup.withVector(), lookup.schema()));
  }

  /** ScoredPoints {@code hits[from, to)}. */
  private static ArrayNode render(Shard.Reader r, List<Hit> hits, int from, int to, Records.Selection sel) throws IOException {
    ArrayNode out = F.arrayNode();
    for (int i = from; i < Math.min(to, hits.size()); i++) {
      Hit h = hits.get(i);
      out.add(Records.scored(r, h.doc(), h.score(), h.scrolled(), h.orderValue(), sel));
    }
    return out;
  }
}
