package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterException;
import io.quiver.engine.filter.FilterParser;
import io.quiver.error.ApiException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The point update operations, each applied to a {@link Changes}: alone, or one after another as
 * the steps of {@code POST /points/batch}. Each validates its whole input before changing anything.
 */
final class PointOps {
  private PointOps() {}

  /** One update step. */
  @FunctionalInterface
  interface Op {
    void apply(Changes changes) throws IOException;
  }

  /** Parses an operation body into a step; parsing needs only the schema, so a batch is validated before it runs. */
  static Op parse(String kind, JsonNode body, CollectionSchema schema) {
    return switch (kind) {
      case "upsert" -> upsert(body, schema);
      case "delete" -> delete(body);
      case "set_payload" -> setPayload(body, false);
      case "overwrite_payload" -> setPayload(body, true);
      case "delete_payload" -> deletePayload(body);
      case "clear_payload" -> clearPayload(body);
      case "update_vectors" -> updateVectors(body, schema);
      case "delete_vectors" -> deleteVectors(body, schema);
      default -> throw ApiException.formatError("unknown operation `" + kind + "`");
    };
  }

  static Op upsert(JsonNode body, CollectionSchema schema) {
    Filter condition = updateFilter(body);
    List<Point> points = PointRequests.upsert(body, schema);
    return ch -> {
      for (Point p : points) {
        if (allowed(ch, ch.get(p.id()), condition)) {
          ch.put(p);
        }
      }
    };
  }

  /** {@code update_filter}: a conditional update touches only existing points that match it. */
  private static Filter updateFilter(JsonNode body) {
    JsonNode f = body == null || !body.isObject() ? null : Changes.field(body, "update_filter");
    return f == null ? null : filter(f, "update_filter");
  }

  /** New points are always written; an existing one only when it matches the update filter. */
  private static boolean allowed(Changes ch, Point existing, Filter condition) {
    return condition == null || existing == null || io.quiver.engine.filter.FilterMatcher.matches(condition,
        existing.id(), existing.payload(), Changes.vectorNames(existing), ch.schema().payload());
  }

  static Op delete(JsonNode body) {
    Selector sel = selector(body, true);
    return ch -> {
      for (PointId id : sel.resolve(ch)) {
        ch.delete(id);
      }
    };
  }

  static Op setPayload(JsonNode body, boolean overwrite) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    JsonNode payload = obj.get("payload");
    if (payload == null) {
      throw ApiException.formatError("missing field `payload`");
    }
    ObjectNode values = PointRequests.payload(payload, "payload");
    JsonNode keyNode = Changes.field(obj, "key");
    if (keyNode != null && !keyNode.isTextual()) {
      throw ApiException.formatError("key: expected a string");
    }
    String key = keyNode == null ? null : keyNode.textValue();
    Selector sel = selector(obj, false);
    return ch -> {
      for (PointId id : sel.resolve(ch)) {
        Point p = existing(ch, id, sel);
        if (p == null) {
          continue;
        }
        ObjectNode next;
        if (key != null) {
          next = p.payload().deepCopy();
          if (overwrite) {
            PayloadPaths.remove(next, key);
          }
          PayloadPaths.setAt(next, key, values);
        } else if (overwrite) {
          next = values.deepCopy();
        } else {
          next = p.payload().deepCopy();
          next.setAll(values.deepCopy());
        }
        ch.put(p.withPayload(next));
      }
    };
  }

  static Op deletePayload(JsonNode body) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    JsonNode keys = obj.get("keys");
    if (keys == null || !keys.isArray()) {
      throw ApiException.formatError("missing field `keys`");
    }
    List<String> paths = new ArrayList<>();
    keys.forEach(k -> {
      if (!k.isTextual()) {
        throw ApiException.formatError("keys: expected a list of strings");
      }
      paths.add(k.textValue());
    });
    Selector sel = selector(obj, false);
    return ch -> {
      for (PointId id : sel.resolve(ch)) {
        Point p = existing(ch, id, sel);
        if (p != null) {
          ObjectNode next = p.payload().deepCopy();
          paths.forEach(path -> PayloadPaths.remove(next, path));
          ch.put(p.withPayload(next));
        }
      }
    };
  }

  static Op clearPayload(JsonNode body) {
    Selector sel = selector(body, true);
    return ch -> {
      for (PointId id : sel.resolve(ch)) {
        Point p = existing(ch, id, sel);
        if (p != null) {
          ch.put(p.withPayload(p.payload().objectNode()));
        }
      }
    };
  }

  static Op updateVectors(JsonNode body, CollectionSchema schema) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    Filter condition = updateFilter(obj);
    JsonNode points = obj.get("points");
    if (points == null || !points.isArray()) {
      throw ApiException.formatError("missing field `points`");
    }
    Limits.atMost(points, Limits.MAX_POINTS, "points");
    List<PointId> ids = new ArrayList<>();
    List<PointRequests.Vectors> vectors = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      ObjectNode p = CollectionConfigs.object(points.get(i), "points[" + i + "]");
      ids.add(PointRequests.id(p.get("id"), "points[" + i + "].id"));
      JsonNode v = p.get("vector");
      if (v == null) {
        throw ApiException.formatError("points[" + i + "]: missing field `vector`");
      }
      if (v.isObject() && v.isEmpty()) {
        throw new ApiException(422, "Validation error in JSON body: [points[" + i + "].vector: must specify vectors to update for point]");
      }
      vectors.add(PointRequests.vectors(v, schema, "points[" + i + "].vector"));
    }
    return ch -> {
      for (int i = 0; i < ids.size(); i++) {
        Point p = ch.get(ids.get(i));
        if (p == null) {
          throw ApiException.notFound("No point with id " + ids.get(i) + " found");
        }
        if (!allowed(ch, p, condition)) {
          continue;
        }
        Map<String, float[]> dense = new HashMap<>(p.dense());
        dense.putAll(vectors.get(i).dense());
        Map<String, SparseVector> sparse = new HashMap<>(p.sparse());
        sparse.putAll(vectors.get(i).sparse());
        ch.put(new Point(p.id(), dense, sparse, p.payload()));
      }
    };
  }

  static Op deleteVectors(JsonNode body, CollectionSchema schema) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    JsonNode names = obj.get("vector");
    if (names == null || !names.isArray()) {
      throw ApiException.formatError("missing field `vector`");
    }
    Set<String> remove = new LinkedHashSet<>();
    names.forEach(n -> {
      String name = n.asText();
      if (!schema.dense().containsKey(name) && !schema.sparse().containsKey(name)) {
        throw ApiException.wrongInput("Not existing vector name error: " + name);
      }
      remove.add(name);
    });
    Selector sel = selector(obj, false);
    return ch -> {
      for (PointId id : sel.resolve(ch)) {
        Point p = existing(ch, id, sel);
        if (p != null) {
          Map<String, float[]> dense = new HashMap<>(p.dense());
          Map<String, SparseVector> sparse = new HashMap<>(p.sparse());
          remove.forEach(n -> {
            dense.remove(n);
            sparse.remove(n);
          });
          ch.put(new Point(p.id(), dense, sparse, p.payload()));
        }
      }
    };
  }

  /** A missing point named by id is a 404; one found by filter always exists. */
  private static Point existing(Changes ch, PointId id, Selector sel) throws IOException {
    Point p = ch.get(id);
    if (p == null && sel.ids() != null) {
      throw ApiException.notFound("No point with id " + id + " found");
    }
    return p;
  }

  /** Which points an operation applies to: ids, or a filter. */
  record Selector(List<PointId> ids, Filter filter) {
    List<PointId> resolve(Changes ch) throws IOException {
      return ids != null ? ids : ch.select(filter);
    }
  }

  /**
   * {@code {"points": [...]}} or {@code {"filter": {...}}}; with {@code bare} also a plain filter
   * body, as Qdrant's PointsSelector allows.
   */
  static Selector selector(JsonNode body, boolean bare) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    JsonNode points = Changes.field(obj, "points");
    JsonNode filter = Changes.field(obj, "filter");
    if (points != null) {
      return new Selector(PointRequests.ids(points, "points"), null);
    }
    if (filter != null) {
      return new Selector(null, filter(filter, "filter"));
    }
    throw ApiException.formatError("data did not match any variant of untagged enum PointsSelector: expected `points` or `filter`");
  }

  static Filter filter(JsonNode node, String path) {
    try {
      return FilterParser.parse(node);
    } catch (FilterException e) {
      throw e.validation() ? ApiException.validation(e.getMessage()) : ApiException.formatError(e.getMessage());
    }
  }
}
