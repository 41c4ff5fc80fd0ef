package io.quiver.storage.point;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.VectorSpec;
import io.quiver.error.ApiException;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import java.io.IOException;
import java.util.Set;

/** Renders points as Qdrant's {@code Record} and {@code ScoredPoint}, with the payload and vectors asked for. */
public final class Records {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Records() {}

  /** What to load and show of each point: the engine's selector plus the payload keys to keep or drop. */
  public record Selection(DocMapper.Selector selector, Set<String> include, Set<String> exclude) {
    public boolean loadsAnything() {
      return selector.payload() || selector.vectors();
    }
  }

  /** The selection of a request in a collection; a vector it names that the collection lacks is 400. */
  public static Selection selection(WithPayload payload, WithVector vector, CollectionSchema schema) {
    if (vector.names() != null) {
      for (String name : vector.names()) {
        if (!schema.dense().containsKey(name) && !schema.sparse().containsKey(name)) {
          throw ApiException.wrongInput("Not existing vector name error: " + name);
        }
      }
    }
    return new Selection(new DocMapper.Selector(payload.enabled(), vector.enabled(), vector.names()), payload.include(),
        payload.exclude());
  }

  /** A point as Qdrant's {@code Record}. */
  public static ObjectNode record(Point p, Selection sel, CollectionSchema schema) {
    ObjectNode out = F.objectNode();
    out.set("id", p.id().toJson());
    out.set("payload", sel.selector().payload() ? project(p.payload(), sel) : F.nullNode());
    out.set("vector", sel.selector().vectors() ? vectorJson(p, schema) : F.nullNode());
    return out;
  }

  /**
   * A hit as Qdrant's {@code ScoredPoint}: id, version (0 for points that were scrolled rather than
   * scored, as Qdrant), score, payload, vector, and {@code order_value} for order_by queries.
   */
  public static ObjectNode scored(Shard.Reader r, int doc, float score, boolean scrolled, Number orderValue, Selection sel)
      throws IOException {
    PointId id = r.idOf(doc);
    ObjectNode p = F.objectNode();
    p.set("id", id.toJson());
    p.put("version", scrolled ? 0 : r.version(doc));
    p.put("score", score);
    if (sel.loadsAnything()) {
      ObjectNode rec = record(r.load(doc, id, sel.selector()), sel, r.schema());
      p.set("payload", rec.get("payload"));
      p.set("vector", rec.get("vector"));
    } else {
      p.putNull("payload");
      p.putNull("vector");
    }
    if (orderValue instanceof Double d) {
      p.put("order_value", d);
    } else if (orderValue != null) {
      p.put("order_value", orderValue.longValue());
    }
    return p;
  }

  static JsonNode vectorJson(Point p, CollectionSchema schema) {
    // as Qdrant: a point that holds only the default vector shows it as a plain array
    if (p.dense().size() == 1 && p.dense().containsKey("") && p.sparse().isEmpty()) {
      VectorSpec spec = schema.dense().get("");
      return spec != null && spec.multi() ? rows(p.dense().get(""), spec.size()) : floats(p.dense().get(""));
    }
    ObjectNode out = F.objectNode();
    p.dense().forEach((name, v) -> {
      VectorSpec spec = schema.dense().get(name);
      out.set(name, spec != null && spec.multi() ? rows(v, spec.size()) : floats(v));
    });
    p.sparse().forEach((name, s) -> {
      ObjectNode o = out.putObject(name);
      ArrayNode ix = o.putArray("indices");
      for (int i : s.indices()) {
        ix.add(i);
      }
      ArrayNode vs = o.putArray("values");
      for (float f : s.values()) {
        vs.add(f);
      }
    });
    return out;
  }

  /** A flattened multivector as a list of rows. */
  static ArrayNode rows(float[] flat, int dim) {
    ArrayNode a = F.arrayNode(flat.length / dim);
    for (int r = 0; r + dim <= flat.length; r += dim) {
      ArrayNode row = a.addArray();
      for (int i = r; i < r + dim; i++) {
        row.add(flat[i]);
      }
    }
    return a;
  }

  private static ArrayNode floats(float[] v) {
    ArrayNode a = F.arrayNode(v.length);
    for (float f : v) {
      a.add(f);
    }
    return a;
  }

  private static ObjectNode project(ObjectNode payload, Selection sel) {
    if (sel.include() != null) {
      ObjectNode out = F.objectNode();
      for (String key : sel.include()) {
        PayloadPaths.copy(payload, out, key);
      }
      return out;
    }
    if (sel.exclude() != null) {
      ObjectNode out = payload.deepCopy();
      for (String key : sel.exclude()) {
        PayloadPaths.remove(out, key);
      }
      return out;
    }
    return payload;
  }
}
