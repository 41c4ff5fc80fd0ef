package io.quiver.request;

import static io.quiver.request.JsonFields.field;
import static io.quiver.request.JsonFields.object;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Bm25;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterException;
import io.quiver.engine.filter.FilterParser;
import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the point parts of requests (ids, vectors, payloads, selectors, what to return) and the
 * point update operations, with Qdrant's wording. Nothing here needs the collection: vector names
 * and dimensions are checked when the request runs.
 */
public final class PointParser {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private PointParser() {}

  // ---- ids ----

  public static PointId id(JsonNode n, String path) {
    try {
      return PointId.parse(n);
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(path + ": " + e.getMessage());
    }
  }

  public static List<PointId> ids(JsonNode arr, String path) {
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

  /** A point id from a URL path: an unsigned integer or a UUID; otherwise 400 "Wrong input", as Qdrant. */
  public static PointId pathId(String raw) {
    if (raw != null && raw.matches("\\d{1,20}")) {
      try {
        return PointId.of(Long.parseUnsignedLong(raw));
      } catch (NumberFormatException ignored) {
        // falls through to the error below
      }
    }
    if (raw != null && PointId.parseUuid(raw) != null) {
      return new PointId.Uuid(PointId.parseUuid(raw));
    }
    throw ApiException.wrongInput("Can not recognize \"" + raw + "\" as point id");
  }

  // ---- filters ----

  /** Qdrant's filter; a format error (400) or a validation error (422) naming the place. */
  public static Filter filter(JsonNode node, String path) {
    try {
      return FilterParser.parse(node);
    } catch (FilterException e) {
      throw e.validation() ? ApiException.validation(e.getMessage()) : ApiException.formatError(e.getMessage());
    }
  }

  /** The optional {@code filter} field of a body, or null. */
  public static Filter optionalFilter(JsonNode body, String name) {
    JsonNode f = field(body, name);
    return f == null ? null : filter(f, name);
  }

  // ---- vectors ----

  /**
   * The vectors of one point: an array (the unnamed vector) or an object of named vectors, each a
   * dense vector, a multivector, a sparse vector ({@code {"indices", "values"}}) or a document for
   * the BM25 model.
   */
  public static Vectors vectors(JsonNode v, String path) {
    if (v.isArray()) {
      return Vectors.unnamed(vector(v, path));
    }
    if (!v.isObject()) {
      throw ApiException.formatError(path + ": data did not match any variant of untagged enum VectorStruct");
    }
    Map<String, VectorInput> named = new HashMap<>();
    v.properties().forEach(e -> named.put(e.getKey(), vector(e.getValue(), path + "." + e.getKey())));
    return new Vectors(named);
  }

  /** One vector value of a point. */
  public static VectorInput vector(JsonNode value, String path) {
    if (value.isArray()) {
      return value.size() > 0 && value.get(0).isArray() ? multi(value, path) : new VectorInput.Dense(floats(value, path));
    }
    if (value.isObject()) {
      if (value.has("model")) {
        return document((ObjectNode) value, path);
      }
      return new VectorInput.Sparse(sparse(value, path));
    }
    throw ApiException.formatError(path + ": expected a list of numbers");
  }

  /** A list of numbers as f32. */
  public static float[] floats(JsonNode arr, String path) {
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode x = arr.get(i);
      if (!x.isNumber()) {
        throw ApiException.formatError(path + "[" + i + "]: invalid type: " + Validation.kind(x) + ", expected f32");
      }
      out[i] = x.floatValue();
    }
    return out;
  }

  /** A multivector: a list of non-empty rows of one dimension. */
  public static VectorInput.Multi multi(JsonNode arr, String path) {
    float[][] rows = new float[arr.size()][];
    for (int i = 0; i < arr.size(); i++) {
      JsonNode r = arr.get(i);
      if (!r.isArray()) {
        throw ApiException.formatError(path + ": expected a list of vectors");
      }
      checkRow(rows, i, r.size(), path);
      rows[i] = floats(r, path + "[" + i + "]");
    }
    return new VectorInput.Multi(rows);
  }

  /**
   * A multivector given as rows (the gRPC edge's {@code MultiDenseVector}), with the checks and
   * wording of the JSON form: every row non-empty and of the first row's dimension.
   */
  public static VectorInput.Multi multi(float[][] rows, String path) {
    for (int i = 0; i < rows.length; i++) {
      checkRow(rows, i, rows[i].length, path);
    }
    return new VectorInput.Multi(rows);
  }

  /** Row {@code i} of a multivector has {@code size} numbers: 422 when empty or not of row 0's dimension. */
  private static void checkRow(float[][] rows, int i, int size, String path) {
    if (size == 0) {
      throw ApiException.validation(vectorPath(path) + ".data: all vectors must be non-empty");
    }
    if (i > 0 && size != rows[0].length) {
      throw ApiException.validation(vectorPath(path) + ".data: all vectors must have the same dimension, found vector with dimension "
          + size);
    }
  }

  /** Qdrant's name for a named vector of a point in validation errors: {@code points[i].vector.?}. */
  private static String vectorPath(String path) {
    var m = java.util.regex.Pattern.compile("\\.vectors?(?=$|[.\\[])").matcher(path);
    return (m.find() ? path.substring(0, m.end()) : path) + ".?";
  }

  /** {@code {"indices": [...], "values": [...]}}: sorted by index; lengths equal and indices unique (422 otherwise). */
  public static SparseVector sparse(JsonNode n, String path) {
    ObjectNode o = object(n, path);
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
    return sparse(indices, values, path);
  }

  /**
   * A sparse vector given as arrays (the gRPC edge's), with the checks and wording of the JSON form:
   * as many values as indices, indices unique (422 otherwise); sorted by index.
   */
  public static SparseVector sparse(int[] indices, float[] values, String path) {
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

  /** A document to embed into a point's vector: only the local BM25 model is served. */
  private static VectorInput document(ObjectNode o, String path) {
    String model = o.get("model").asText();
    if (o.get("model").isTextual() && Bm25.isModel(model)) {
      return new VectorInput.Document(model, bm25Text(o), Bm25.of(o.get("options")));
    }
    if (o.has("text") || o.has("image") || o.has("object")) {
      throw ApiException.badRequest("server-side inference (model `" + model + "`) is not supported by this server yet: send vectors");
    }
    return new VectorInput.Sparse(sparse(o, path));
  }

  /** The text of a BM25 document or query. */
  static String bm25Text(ObjectNode o) {
    JsonNode text = o.get("text");
    if (text == null || !text.isTextual()) {
      throw ApiException.badRequest("Only text input is supported for " + o.get("model").textValue() + ".");
    }
    return text.textValue();
  }

  // ---- payloads and what to return ----

  public static ObjectNode payload(JsonNode n, String path) {
    if (n == null || n.isNull()) {
      return F.objectNode();
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiException.formatError(path + ": invalid type: " + Validation.kind(n) + ", expected a map");
    }
    return o;
  }

  /** {@code with_payload}: a boolean, a list of keys, or {@code {"include": [...]}} / {@code {"exclude": [...]}}. */
  public static WithPayload withPayload(JsonNode n, boolean otherwise) {
    if (n == null || n.isNull()) {
      return otherwise ? WithPayload.ALL : WithPayload.NONE;
    }
    if (n.isBoolean()) {
      return n.booleanValue() ? WithPayload.ALL : WithPayload.NONE;
    }
    if (n.isArray()) {
      return new WithPayload(true, strings(n, "with_payload"), null);
    }
    if (n.isObject() && n.has("include")) {
      return new WithPayload(true, strings(n.get("include"), "with_payload.include"), null);
    }
    if (n.isObject() && n.has("exclude")) {
      return new WithPayload(true, null, strings(n.get("exclude"), "with_payload.exclude"));
    }
    throw ApiException.formatError("with_payload: data did not match any variant of untagged enum WithPayloadInterface");
  }

  /** {@code with_vector} (or its alias {@code with_vectors}) of a body: a boolean or a list of vector names. */
  public static WithVector withVector(JsonNode body) {
    JsonNode n = body.has("with_vector") ? body.get("with_vector") : body.get("with_vectors");
    if (n == null || n.isNull()) {
      return WithVector.NONE;
    }
    if (n.isBoolean()) {
      return n.booleanValue() ? WithVector.ALL : WithVector.NONE;
    }
    if (n.isArray()) {
      return new WithVector(true, strings(n, "with_vector"));
    }
    throw ApiException.formatError("with_vector: data did not match any variant of untagged enum WithVector");
  }

  private static Set<String> strings(JsonNode arr, String path) {
    if (!arr.isArray()) {
      throw ApiException.formatError(path + ": expected a list of strings");
    }
    Set<String> out = new LinkedHashSet<>();
    arr.forEach(x -> {
      if (!x.isTextual()) {
        throw ApiException.formatError(path + ": expected a list of strings");
      }
      out.add(x.textValue());
    });
    return out;
  }

  /** Qdrant's {@code shard_key}: a key, a list of keys, or {@code {"target", "fallback"}}; null when absent. */
  public static ShardKeySelector shardKey(JsonNode body) {
    JsonNode n = body == null || !body.isObject() ? null : field(body, "shard_key");
    if (n == null) {
      return null;
    }
    if (n.isArray()) {
      List<Object> keys = new ArrayList<>();
      n.forEach(k -> keys.add(shardKeyValue(k)));
      return new ShardKeySelector(keys, null);
    }
    if (n.isObject() && n.has("target")) {
      JsonNode target = n.get("target");
      List<Object> keys = new ArrayList<>();
      if (target.isArray()) {
        target.forEach(k -> keys.add(shardKeyValue(k)));
      } else {
        keys.add(shardKeyValue(target));
      }
      return new ShardKeySelector(keys, field(n, "fallback") == null ? null : shardKeyValue(n.get("fallback")));
    }
    return new ShardKeySelector(List.of(shardKeyValue(n)), null);
  }

  private static Object shardKeyValue(JsonNode k) {
    if (k.isTextual()) {
      return k.textValue();
    }
    if (k.isIntegralNumber() && k.canConvertToLong() && k.asLong() >= 0) {
      return k.asLong();
    }
    throw ApiException.formatError("shard_key: data did not match any variant of untagged enum ShardKeySelector");
  }

  // ---- update operations ----

  /**
   * One update operation by its name in a batch ({@code upsert}, {@code delete}, {@code set_payload},
   * {@code overwrite_payload}, {@code delete_payload}, {@code clear_payload}, {@code update_vectors},
   * {@code delete_vectors}), or the body of its own endpoint.
   */
  public static PointOperation operation(String kind, JsonNode body) {
    return switch (kind) {
      case "upsert" -> upsert(body);
      case "delete" -> new PointOperation.Delete(selector(body), shardKey(body));
      case "set_payload" -> setPayload(body, false);
      case "overwrite_payload" -> setPayload(body, true);
      case "delete_payload" -> deletePayload(body);
      case "clear_payload" -> new PointOperation.ClearPayload(selector(body), shardKey(body));
      case "update_vectors" -> updateVectors(body);
      case "delete_vectors" -> deleteVectors(body);
      default -> throw ApiException.formatError("unknown operation `" + kind + "`");
    };
  }

  /** {@code {"operations": [{"upsert": {...}}, ...]}}: every step parsed before any runs. */
  public static List<PointOperation> batch(JsonNode body) {
    JsonNode operations = object(body, "body").get("operations");
    if (operations == null || !operations.isArray()) {
      throw ApiException.formatError("missing field `operations`");
    }
    Limits.atMost(operations, Limits.MAX_BATCH_OPERATIONS, "operations");
    List<PointOperation> ops = new ArrayList<>(operations.size());
    for (int i = 0; i < operations.size(); i++) {
      ObjectNode step = object(operations.get(i), "operations[" + i + "]");
      if (step.size() != 1) {
        throw ApiException.formatError("operations[" + i + "]: expected exactly one operation");
      }
      var e = step.properties().iterator().next();
      ops.add(operation(e.getKey(), e.getValue()));
    }
    return ops;
  }

  /** Points of an upsert body: {@code {"points": [...]}} or {@code {"batch": {"ids", "vectors", "payloads"}}}. */
  static PointOperation.Upsert upsert(JsonNode body) {
    ObjectNode obj = object(body, "body");
    Filter updateFilter = optionalFilter(obj, "update_filter");
    return new PointOperation.Upsert(points(obj), updateFilter, shardKey(obj));
  }

  private static List<PointStruct> points(ObjectNode obj) {
    if (obj.has("points")) {
      JsonNode points = obj.get("points");
      if (!points.isArray()) {
        throw ApiException.formatError("points: expected a list of points");
      }
      Limits.atMost(points, Limits.MAX_POINTS, "points");
      List<PointStruct> out = new ArrayList<>(points.size());
      for (int i = 0; i < points.size(); i++) {
        String path = "points[" + i + "]";
        ObjectNode p = object(points.get(i), path);
        if (!p.has("id")) {
          throw ApiException.formatError(path + ": missing field `id`");
        }
        PointId id = id(p.get("id"), path + ".id");
        JsonNode vector = p.has("vector") ? p.get("vector") : p.get("vectors");
        if (vector == null) {
          throw ApiException.formatError(path + ": missing field `vector`");
        }
        out.add(new PointStruct(id, vectors(vector, path + ".vector"), payload(p.get("payload"), path + ".payload")));
      }
      return out;
    }
    if (obj.has("batch")) {
      ObjectNode batch = object(obj.get("batch"), "batch");
      List<PointId> ids = ids(batch.get("ids"), "batch.ids");
      JsonNode vectors = batch.get("vectors");
      if (vectors == null) {
        throw ApiException.formatError("batch: missing field `vectors`");
      }
      List<Vectors> columns = batchVectors(vectors, ids.size());
      JsonNode payloads = batch.get("payloads");
      if (payloads != null && !payloads.isNull() && (!payloads.isArray() || payloads.size() != ids.size())) {
        throw ApiException.badRequest("number of payloads does not match the number of ids");
      }
      List<PointStruct> out = new ArrayList<>(ids.size());
      for (int i = 0; i < ids.size(); i++) {
        JsonNode pl = payloads == null || payloads.isNull() ? null : payloads.get(i);
        out.add(new PointStruct(ids.get(i), columns.get(i), payload(pl, "batch.payloads[" + i + "]")));
      }
      return out;
    }
    throw ApiException.formatError("data did not match any variant of untagged enum PointInsertOperations: expected `points` or `batch`");
  }

  private static List<Vectors> batchVectors(JsonNode vectors, int n) {
    List<Vectors> out = new ArrayList<>(n);
    if (vectors.isArray()) {
      if (vectors.size() != n) {
        throw ApiException.badRequest("number of vectors does not match the number of ids");
      }
      for (int i = 0; i < n; i++) {
        out.add(Vectors.unnamed(vector(vectors.get(i), "batch.vectors[" + i + "]")));
      }
      return out;
    }
    ObjectNode named = object(vectors, "batch.vectors");
    List<Map<String, VectorInput>> columns = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      columns.add(new HashMap<>());
    }
    named.properties().forEach(e -> {
      JsonNode column = e.getValue();
      if (!column.isArray() || column.size() != n) {
        throw ApiException.badRequest("number of vectors `" + e.getKey() + "` does not match the number of ids");
      }
      for (int i = 0; i < n; i++) {
        columns.get(i).put(e.getKey(), vector(column.get(i), "batch.vectors." + e.getKey() + "[" + i + "]"));
      }
    });
    columns.forEach(c -> out.add(new Vectors(c)));
    return out;
  }

  private static PointOperation.SetPayload setPayload(JsonNode body, boolean overwrite) {
    ObjectNode obj = object(body, "body");
    JsonNode payload = obj.get("payload");
    if (payload == null) {
      throw ApiException.formatError("missing field `payload`");
    }
    ObjectNode values = payload(payload, "payload");
    JsonNode keyNode = field(obj, "key");
    if (keyNode != null && !keyNode.isTextual()) {
      throw ApiException.formatError("key: expected a string");
    }
    return new PointOperation.SetPayload(values, selector(obj), keyNode == null ? null : keyNode.textValue(), overwrite,
        shardKey(obj));
  }

  private static PointOperation.DeletePayload deletePayload(JsonNode body) {
    ObjectNode obj = object(body, "body");
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
    return new PointOperation.DeletePayload(paths, selector(obj), shardKey(obj));
  }

  private static PointOperation.UpdateVectors updateVectors(JsonNode body) {
    ObjectNode obj = object(body, "body");
    Filter condition = optionalFilter(obj, "update_filter");
    JsonNode points = obj.get("points");
    if (points == null || !points.isArray()) {
      throw ApiException.formatError("missing field `points`");
    }
    Limits.atMost(points, Limits.MAX_POINTS, "points");
    List<PointVectors> out = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      ObjectNode p = object(points.get(i), "points[" + i + "]");
      PointId id = id(p.get("id"), "points[" + i + "].id");
      JsonNode v = p.get("vector");
      if (v == null) {
        throw ApiException.formatError("points[" + i + "]: missing field `vector`");
      }
      if (v.isObject() && v.isEmpty()) {
        throw new ApiException(422, "Validation error in JSON body: [points[" + i + "].vector: must specify vectors to update for point]");
      }
      out.add(new PointVectors(id, vectors(v, "points[" + i + "].vector")));
    }
    return new PointOperation.UpdateVectors(out, condition, shardKey(obj));
  }

  private static PointOperation.DeleteVectors deleteVectors(JsonNode body) {
    ObjectNode obj = object(body, "body");
    JsonNode names = obj.get("vector");
    if (names == null || !names.isArray()) {
      throw ApiException.formatError("missing field `vector`");
    }
    List<String> vectors = new ArrayList<>();
    names.forEach(n -> vectors.add(n.asText()));
    return new PointOperation.DeleteVectors(selector(obj), vectors, shardKey(obj));
  }

  /** Qdrant's {@code PointsSelector}: {@code {"points": [...]}} or {@code {"filter": {...}}}. */
  static PointsSelector selector(JsonNode body) {
    ObjectNode obj = object(body, "body");
    JsonNode points = field(obj, "points");
    JsonNode filter = field(obj, "filter");
    if (points != null) {
      return PointsSelector.ids(ids(points, "points"));
    }
    if (filter != null) {
      return PointsSelector.filter(filter(filter, "filter"));
    }
    throw ApiException.formatError("data did not match any variant of untagged enum PointsSelector: expected `points` or `filter`");
  }
}
