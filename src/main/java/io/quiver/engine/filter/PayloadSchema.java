package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The payload indexes of a collection, by key (normalized to Qdrant's rendering of the path, so
 * {@code "a"} and {@code a} are the same key). Immutable.
 *
 * <p>Every payload value is indexed for filtering whether or not it has an index (see {@link
 * PayloadFields}); an index only adds full-text tokens (type text) and shows in {@code payload_schema}.
 */
public record PayloadSchema(Map<String, FieldIndex> fields) {
  public static final PayloadSchema EMPTY = new PayloadSchema(Map.of());

  public PayloadSchema {
    fields = Collections.unmodifiableMap(new TreeMap<>(fields));
  }

  /** This schema with {@code index} on {@code field} (replacing any index there). */
  public PayloadSchema with(String field, FieldIndex index) {
    var next = new TreeMap<>(fields);
    next.put(key(field), index);
    return new PayloadSchema(next);
  }

  public PayloadSchema without(String field) {
    var next = new TreeMap<>(fields);
    next.remove(normalized(field));
    return new PayloadSchema(next);
  }

  /** The index on exactly this key, or null. */
  public FieldIndex get(JsonPath key) {
    return fields.get(key.toString());
  }

  /** The index on {@code key} if it is a text index, else null. */
  FieldIndex textIndex(JsonPath key) {
    FieldIndex f = fields.get(key.toString());
    return f != null && f.type() == PayloadType.TEXT ? f : null;
  }

  /**
   * Parses the body parts of Qdrant's create-index request: {@code field_schema} is a type name
   * ({@code "keyword"}) or a params object ({@code {"type": "text", "tokenizer": "word", ...}}).
   * Throws {@link FilterException} for an invalid field name or schema.
   */
  public static FieldIndex parseIndexRequest(String fieldName, JsonNode fieldSchema) {
    key(fieldName);
    return FieldIndex.parse(fieldSchema, "field_schema");
  }

  /** Reads what {@link #toJson()} wrote. */
  public static PayloadSchema fromJson(JsonNode json) {
    var out = new TreeMap<String, FieldIndex>();
    if (json != null && json.isObject()) {
      json.properties().forEach(e -> {
        JsonNode params = e.getValue().get("params");
        JsonNode type = e.getValue().get("data_type");
        out.put(key(e.getKey()), params != null && !params.isNull()
            ? FieldIndex.parse(params, e.getKey() + ".params")
            : FieldIndex.parse(type, e.getKey() + ".data_type"));
      });
    }
    return new PayloadSchema(out);
  }

  /** The persisted form: {@code {"field": {"data_type": "...", "params": {...}}}}, params only when given. */
  public ObjectNode toJson() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    fields.forEach((k, f) -> out.set(k, info(f)));
    return out;
  }

  /** One entry of Qdrant's {@code payload_schema}: {@code {"data_type", "params"?, "points"}}. */
  public ObjectNode toJson(String field, long points) {
    FieldIndex f = fields.get(normalized(field));
    if (f == null) {
      throw new IllegalArgumentException("no payload index on " + field);
    }
    return info(f).put("points", points);
  }

  private static ObjectNode info(FieldIndex f) {
    ObjectNode o = JsonNodeFactory.instance.objectNode().put("data_type", f.type().json());
    if (f.withParams()) {
      o.set("params", f.paramsJson());
    }
    return o;
  }

  private static String key(String field) {
    try {
      return JsonPath.parse(field).toString();
    } catch (IllegalArgumentException e) {
      throw new FilterException("field_name: " + e.getMessage());
    }
  }

  /** The key a field name is indexed under (its normalized path; the name itself when it is no path). */
  public static String normalized(String field) {
    try {
      return JsonPath.parse(field).toString();
    } catch (IllegalArgumentException e) {
      return field;
    }
  }
}
