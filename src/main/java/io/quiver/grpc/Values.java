package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.PointId;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import java.util.Map;
import java.util.UUID;

/**
 * Conversions between Qdrant's protobuf values and the JSON the request model and storage use:
 * payloads ({@code JsonWithInt.Value}: integers stay integers), point ids.
 */
final class Values {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Values() {}

  /** The storage's result (a JSON tree, or maps and lists of plain values) as a JSON tree. */
  static JsonNode tree(Object result) {
    return result instanceof JsonNode n ? n : Json.MAPPER.valueToTree(result);
  }

  /** A payload map as a JSON object. */
  static ObjectNode json(Map<String, JsonWithInt.Value> payload) {
    ObjectNode out = F.objectNode();
    payload.forEach((k, v) -> out.set(k, json(v)));
    return out;
  }

  static JsonNode json(JsonWithInt.Value v) {
    return switch (v.getKindCase()) {
      case NULL_VALUE, KIND_NOT_SET -> F.nullNode();
      case DOUBLE_VALUE -> F.numberNode(v.getDoubleValue());
      case INTEGER_VALUE -> F.numberNode(v.getIntegerValue());
      case STRING_VALUE -> F.textNode(v.getStringValue());
      case BOOL_VALUE -> F.booleanNode(v.getBoolValue());
      case STRUCT_VALUE -> json(v.getStructValue().getFieldsMap());
      case LIST_VALUE -> {
        ArrayNode a = F.arrayNode();
        v.getListValue().getValuesList().forEach(x -> a.add(json(x)));
        yield a;
      }
    };
  }

  /** A JSON value as Qdrant's protobuf value; integral numbers that fit a long stay integers. */
  static JsonWithInt.Value value(JsonNode n) {
    var b = JsonWithInt.Value.newBuilder();
    if (n == null || n.isNull() || n.isMissingNode()) {
      return b.setNullValue(JsonWithInt.NullValue.NULL_VALUE).build();
    }
    if (n.isIntegralNumber() && n.canConvertToLong()) {
      return b.setIntegerValue(n.longValue()).build();
    }
    if (n.isNumber()) {
      return b.setDoubleValue(n.doubleValue()).build();
    }
    if (n.isTextual()) {
      return b.setStringValue(n.textValue()).build();
    }
    if (n.isBoolean()) {
      return b.setBoolValue(n.booleanValue()).build();
    }
    if (n.isArray()) {
      var list = JsonWithInt.ListValue.newBuilder();
      n.forEach(x -> list.addValues(value(x)));
      return b.setListValue(list).build();
    }
    return b.setStructValue(struct(n)).build();
  }

  /** A JSON object's fields as a protobuf struct. */
  static JsonWithInt.Struct struct(JsonNode object) {
    var s = JsonWithInt.Struct.newBuilder();
    object.properties().forEach(e -> s.putFields(e.getKey(), value(e.getValue())));
    return s.build();
  }

  /** A protobuf point id as the engine's; an id with neither form is 400. */
  static PointId id(Points.PointId id) {
    return switch (id.getPointIdOptionsCase()) {
      case NUM -> PointId.of(id.getNum());
      case UUID -> {
        UUID uuid = PointId.parseUuid(id.getUuid());
        if (uuid == null) {
          throw ApiException.formatError("Unable to parse UUID: " + id.getUuid());
        }
        yield new PointId.Uuid(uuid);
      }
      case POINTIDOPTIONS_NOT_SET -> throw ApiException.formatError("Unable to parse point id: no id given");
    };
  }

  static Points.PointId id(PointId id) {
    return switch (id) {
      case PointId.Num n -> Points.PointId.newBuilder().setNum(n.value()).build();
      case PointId.Uuid u -> Points.PointId.newBuilder().setUuid(u.value().toString()).build();
    };
  }

  /** A point id as the storage renders it ({@code 7} or {@code "uuid"}) as protobuf. */
  static Points.PointId id(JsonNode rendered) {
    return rendered.isTextual() ? Points.PointId.newBuilder().setUuid(rendered.textValue()).build()
        : Points.PointId.newBuilder().setNum(rendered.bigIntegerValue().longValue()).build();
  }
}
