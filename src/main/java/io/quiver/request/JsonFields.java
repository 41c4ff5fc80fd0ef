package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.error.ApiException;

/** Small readers of request JSON with Qdrant's (serde's) wording for what does not fit. */
public final class JsonFields {
  private JsonFields() {}

  /** {@code n} as an object; a missing body is Qdrant's EOF error, anything else not an object a format error. */
  public static ObjectNode object(JsonNode n, String path) {
    if (n == null && path.equals("body")) {
      throw ApiException.formatError("EOF while parsing a value at line 1 column 0"); // no body at all
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiException.formatError(path + ": invalid type: " + Validation.kind(n) + ", expected a map");
    }
    return o;
  }

  /** The field's value, or null when it is absent or JSON null (serde's {@code Option}). */
  public static JsonNode field(JsonNode body, String name) {
    JsonNode v = body.get(name);
    return v == null || v.isNull() ? null : v;
  }

  public static boolean bool(JsonNode n, String path) {
    if (!n.isBoolean()) {
      throw ApiException.formatError(path + ": invalid type: " + Validation.kind(n) + ", expected a boolean");
    }
    return n.booleanValue();
  }

  /** An optional boolean field; {@code otherwise} when absent. */
  public static boolean bool(JsonNode body, String name, String path, boolean otherwise) {
    JsonNode v = field(body, name);
    return v == null ? otherwise : bool(v, path);
  }

  /** An optional string field, or null. */
  public static String text(JsonNode body, String name, String path) {
    JsonNode v = field(body, name);
    if (v == null) {
      return null;
    }
    if (!v.isTextual()) {
      throw ApiException.formatError(path + ": invalid type: " + Validation.kind(v) + ", expected a string");
    }
    return v.textValue();
  }

  /** {@code path.field}, or {@code field} at the top. */
  public static String path(String at, String field) {
    return at.isEmpty() ? field : at + "." + field;
  }
}
