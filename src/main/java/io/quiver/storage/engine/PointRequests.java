package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSpec;
import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parses and validates the point parts of requests (ids, vectors, payloads, selectors) and renders records. */
final class PointRequests {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private PointRequests() {}

  /** Dense and sparse vectors of one point, as given. */
  record Vectors(Map<String, float[]> dense, Map<String, SparseVector> sparse) {}

  static PointId id(JsonNode n, String path) {
    try {
      return PointId.parse(n);
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(path + ": " + e.getMessage());
    }
  }

  static List<PointId> ids(JsonNode arr, String path) {
    if (arr == null || !arr.isArray()) {
      throw ApiException.formatError(path + ": expected a list of point ids");
    }
    Limits.atMost(arr, Limits.MAX_POINTS, path);
    List<PointId> out = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      out.add(id(arr.get(i), path + "[" + i + "]"));
    }
    return out;
  }

  /** Points of an upsert body: {@code {"points": [...]}} or {@code {"batch": {"ids", "vectors", "payloads"}}}. */
  static List<Point> upsert(JsonNode body, CollectionSchema schema) {
    ObjectNode obj = CollectionConfigs.object(body, "body");
    if (obj.has("points")) {
      JsonNode points = obj.get("points");
      if (!points.isArray()) {
        throw ApiException.formatError("points: expected a list of points");
      }
      Limits.atMost(points, Limits.MAX_POINTS, "points");
      List<Point> out = new ArrayList<>(points.size());
      for (int i = 0; i < points.size(); i++) {
        String path = "points[" + i + "]";
        ObjectNode p = CollectionConfigs.object(points.get(i), path);
        if (!p.has("id")) {
          throw ApiException.formatError(path + ": missing field `id`");
        }
        PointId id = id(p.get("id"), path + ".id");
        JsonNode vector = p.has("vector") ? p.get("vector") : p.get("vectors");
        if (vector == null) {
          throw ApiException.formatError(path + ": missing field `vector`");
        }
        Vectors v = vectors(vector, schema, path + ".vector");
        out.add(new Point(id, v.dense(), v.sparse(), payload(p.get("payload"), path + ".payload")));
      }
      return out;
    }
    if (obj.has("batch")) {
      ObjectNode batch = CollectionConfigs.object(obj.get("batch"), "batch");
      List<PointId> ids = ids(batch.get("ids"), "batch.ids");
      JsonNode vectors = batch.get("vectors");
      if (vectors == null) {
        throw ApiException.formatError("batch: missing field `vectors`");
      }
      List<Vectors> columns = batchVectors(vectors, ids.size(), schema);
      JsonNode payloads = batch.get("payloads");
      if (payloads != null && !payloads.isNull() && (!payloads.isArray() || payloads.size() != ids.size())) {
        throw ApiException.badRequest("number of payloads does not match the number of ids");
      }
      List<Point> out = new ArrayList<>(ids.size());
      for (int i = 0; i < ids.size(); i++) {
        JsonNode pl = payloads == null || payloads.isNull() ? null : payloads.get(i);
        out.add(new Point(ids.get(i), columns.get(i).dense(), columns.get(i).sparse(), payload(pl, "batch.payloads[" + i + "]")));
      }
      return out;
    }
    throw ApiException.formatError("data did not match any variant of untagged enum PointInsertOperations: expected `points` or `batch`");
  }

  private static List<Vectors> batchVectors(JsonNode vectors, int n, CollectionSchema schema) {
    List<Vectors> out = new ArrayList<>(n);
    if (vectors.isArray()) {
      if (vectors.size() != n) {
        throw ApiException.badRequest("number of vectors does not match the number of ids");
      }
      for (int i = 0; i < n; i++) {
        out.add(vectors(vectors.get(i), schema, "batch.vectors[" + i + "]"));
      }
      return out;
    }
    ObjectNode named = CollectionConfigs.object(vectors, "batch.vectors");
    for (int i = 0; i < n; i++) {
      out.add(new Vectors(new HashMap<>(), new HashMap<>()));
    }
    named.fields().forEachRemaining(e -> {
      JsonNode column = e.getValue();
      if (!column.isArray() || column.size() != n) {
        throw ApiException.badRequest("number of vectors `" + e.getKey() + "` does not match the number of ids");
      }
      for (int i = 0; i < n; i++) {
        Vectors one = vectors(F.objectNode().set(e.getKey(), column.get(i)), schema, "batch.vectors." + e.getKey() + "[" + i + "]");
        out.get(i).dense().putAll(one.dense());
        out.get(i).sparse().putAll(one.sparse());
      }
    });
    return out;
  }

  /**
   * Vectors of one point: an array (the unnamed vector) or an object of named dense ({@code [..]})
   * and sparse ({@code {"indices", "values"}}) vectors. Checks names and dimensions; cosine vectors
   * are normalised here.
   */
  static Vectors vectors(JsonNode v, CollectionSchema schema, String path) {
    Map<String, float[]> dense = new HashMap<>();
    Map<String, SparseVector> sparse = new HashMap<>();
    if (v.isArray()) {
      dense.put("", dense(v, "", schema, path));
    } else if (v.isObject()) {
      v.fields().forEachRemaining(e -> {
        String name = e.getKey();
        JsonNode value = e.getValue();
        if (schema.sparse().containsKey(name)) {
          sparse.put(name, sparse(value, path + "." + name));
        } else if (value.isObject() && (value.has("indices") || value.has("values"))) {
          throw ApiException.wrongInput("Not existing vector name error: " + name);
        } else {
          dense.put(name, dense(value, name, schema, path + "." + name));
        }
      });
    } else {
      throw ApiException.formatError(path + ": data did not match any variant of untagged enum VectorStruct");
    }
    return new Vectors(dense, sparse);
  }

  private static float[] dense(JsonNode arr, String name, CollectionSchema schema, String path) {
    VectorSpec spec = schema.dense().get(name);
    if (spec == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + name);
    }
    if (arr.isObject()) {
      inference(arr);
    }
    if (!arr.isArray()) {
      throw ApiException.formatError(path + ": expected a list of numbers");
    }
    boolean nested = arr.size() > 0 && arr.get(0).isArray();
    if (spec.multi()) {
      return multi(arr, spec, path);
    }
    if (nested) {
      throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got a multivector"
          + " (vector `" + name + "` has no multivector_config)");
    }
    return spec.distance().prepare(row(arr, spec, path));
  }

  /** One vector of {@code spec.size()} numbers, rounded to the datatype; not yet prepared. */
  private static float[] row(JsonNode arr, VectorSpec spec, String path) {
    if (arr.size() != spec.size()) {
      throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got " + arr.size());
    }
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode x = arr.get(i);
      if (!x.isNumber()) {
        throw ApiException.formatError(path + "[" + i + "]: invalid type: " + Validation.kind(x) + ", expected f32");
      }
      out[i] = spec.datatype().round(x.floatValue());
    }
    return out;
  }

  /**
   * A multivector: a list of vectors of the same dimension (or, as Qdrant's legacy form, one plain
   * vector), flattened row after row, each row prepared for the distance.
   */
  static float[] multi(JsonNode arr, VectorSpec spec, String path) {
    if (arr.isEmpty()) {
      throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got 0");
    }
    if (!arr.get(0).isArray()) {
      return spec.distance().prepare(row(arr, spec, path));
    }
    int dim = -1;
    for (JsonNode r : arr) {
      if (!r.isArray()) {
        throw ApiException.formatError(path + ": expected a list of vectors");
      }
      if (r.isEmpty()) {
        throw ApiException.validation(validationPath(path) + ": all vectors must be non-empty");
      }
      if (dim < 0) {
        dim = r.size();
      } else if (r.size() != dim) {
        throw ApiException.validation(validationPath(path) + ": all vectors must have the same dimension, found vector with dimension "
            + r.size());
      }
    }
    float[] out = new float[arr.size() * spec.size()];
    for (int i = 0; i < arr.size(); i++) {
      float[] r = spec.distance().prepare(row(arr.get(i), spec, path + "[" + i + "]"));
      System.arraycopy(r, 0, out, i * spec.size(), spec.size());
    }
    return out;
  }

  /** Qdrant names the multivector of a point {@code points[i].vector.?.data} in its validation errors. */
  private static String validationPath(String path) {
    return vectorPath(path) + ".data";
  }

  /** Qdrant's name for a named vector of a point in validation errors: {@code points[i].vector.?}. */
  private static String vectorPath(String path) {
    int dot = path.indexOf(".vector");
    return (dot < 0 ? path : path.substring(0, dot + ".vector".length())) + ".?";
  }

  static SparseVector sparse(JsonNode n, String path) {
    ObjectNode o = CollectionConfigs.object(n, path);
    if (o.has("model") && o.get("model").isTextual() && io.quiver.engine.filter.Bm25.isModel(o.get("model").textValue())) {
      return bm25(o, path, false);
    }
    inference(o);
    JsonNode ix = o.get("indices");
    JsonNode vs = o.get("values");
    if (ix == null || !ix.isArray()) {
      throw ApiException.formatError(path + ": missing field `indices`");
    }
    if (vs == null || !vs.isArray()) {
      throw ApiException.formatError(path + ": missing field `values`");
    }
    int[] indices = new int[ix.size()];
    for (int i = 0; i < indices.length; i++) {
      JsonNode x = ix.get(i);
      if (!x.isIntegralNumber() || x.asLong() < 0 || x.asLong() > 0xFFFFFFFFL) {
        throw ApiException.formatError(path + ".indices[" + i + "]: expected u32");
      }
      indices[i] = (int) x.asLong();
    }
    float[] values = new float[vs.size()];
    for (int i = 0; i < values.length; i++) {
      if (!vs.get(i).isNumber()) {
        throw ApiException.formatError(path + ".values[" + i + "]: expected f32");
      }
      values[i] = vs.get(i).floatValue();
    }
    // Qdrant's wording: [points[0].vector.?.values: Validation error: must be the same length as indices [{}]]
    List<String> errors = new ArrayList<>();
    if (indices.length != values.length) {
      errors.add(vectorPath(path) + ".values: Validation error: must be the same length as indices [{}]");
    }
    if (new HashSet<>(java.util.Arrays.stream(indices).boxed().toList()).size() != indices.length) {
      errors.add(vectorPath(path) + ".indices: Validation error: must be unique [{}]");
    }
    if (!errors.isEmpty()) {
      throw ApiException.validation(String.join(", ", errors));
    }
    return SparseVector.of(indices, values);
  }

  /** A document embedded by the local BM25 model; {@code query} for the query-side vector. */
  static SparseVector bm25(ObjectNode o, String path, boolean query) {
    JsonNode text = o.get("text");
    if (text == null || !text.isTextual()) {
      throw ApiException.badRequest("Only text input is supported for " + o.get("model").textValue() + ".");
    }
    var model = io.quiver.engine.filter.Bm25.of(o.get("options"));
    return query ? model.query(text.textValue()) : model.document(text.textValue());
  }

  /** Documents, images and objects to embed (`{"model": ..., "text": ...}`) need an inference service. */
  static void inference(JsonNode n) {
    if (n.has("model") && (n.has("text") || n.has("image") || n.has("object"))) {
      throw ApiException.badRequest("server-side inference (model `" + n.get("model").asText()
          + "`) is not supported by this server yet: send vectors");
    }
  }

  static ObjectNode payload(JsonNode n, String path) {
    if (n == null || n.isNull()) {
      return F.objectNode();
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiException.formatError(path + ": invalid type: " + Validation.kind(n) + ", expected a map");
    }
    return o;
  }

  /** How to render points: which payload keys and which vectors. */
  record Selection(DocMapper.Selector selector, Set<String> include, Set<String> exclude) {}

  static Selection selection(JsonNode withPayload, JsonNode withVector, boolean payloadDefault, CollectionSchema schema) {
    boolean payload = payloadDefault;
    Set<String> include = null;
    Set<String> exclude = null;
    if (withPayload != null && !withPayload.isNull()) {
      if (withPayload.isBoolean()) {
        payload = withPayload.booleanValue();
      } else if (withPayload.isArray()) {
        payload = true;
        include = strings(withPayload, "with_payload");
      } else if (withPayload.isObject() && withPayload.has("include")) {
        payload = true;
        include = strings(withPayload.get("include"), "with_payload.include");
      } else if (withPayload.isObject() && withPayload.has("exclude")) {
        payload = true;
        exclude = strings(withPayload.get("exclude"), "with_payload.exclude");
      } else {
        throw ApiException.formatError("with_payload: data did not match any variant of untagged enum WithPayloadInterface");
      }
    }
    boolean vectors = false;
    Set<String> names = null;
    if (withVector != null && !withVector.isNull()) {
      if (withVector.isBoolean()) {
        vectors = withVector.booleanValue();
      } else if (withVector.isArray()) {
        vectors = true;
        names = strings(withVector, "with_vector");
        for (String name : names) {
          if (!schema.dense().containsKey(name) && !schema.sparse().containsKey(name)) {
            throw ApiException.wrongInput("Not existing vector name error: " + name);
          }
        }
      } else {
        throw ApiException.formatError("with_vector: data did not match any variant of untagged enum WithVector");
      }
    }
    return new Selection(new DocMapper.Selector(payload, vectors, names), include, exclude);
  }

  private static Set<String> strings(JsonNode arr, String path) {
    if (!arr.isArray()) {
      throw ApiException.formatError(path + ": expected a list of strings");
    }
    Set<String> out = new java.util.LinkedHashSet<>();
    arr.forEach(x -> {
      if (!x.isTextual()) {
        throw ApiException.formatError(path + ": expected a list of strings");
      }
      out.add(x.textValue());
    });
    return out;
  }

  /** A point as Qdrant's {@code Record}. */
  static ObjectNode record(Point p, Selection sel, CollectionSchema schema) {
    ObjectNode out = F.objectNode();
    out.set("id", p.id().toJson());
    out.set("payload", sel.selector().payload() ? project(p.payload(), sel) : F.nullNode());
    out.set("vector", sel.selector().vectors() ? vectorJson(p, schema) : F.nullNode());
    return out;
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
