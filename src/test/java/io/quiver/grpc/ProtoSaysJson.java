package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.qdrant.client.grpc.JsonWithInt;
import io.quiver.json.Json;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A test oracle written apart from the service's renderer: asserts, by protobuf reflection, that a
 * message says exactly what a REST JSON document says. Every non-null JSON field has its proto field
 * (named as Qdrant's protos name it) with the same value (enum names compared without case and
 * underscores, so {@code one_and_half_bits} is {@code OneAndHalfBits}); the message sets no field the
 * JSON lacks. Fields of Qdrant 1.15.5 that the 1.15.0 classes lack are read from the unknown
 * fields by number; a metadata map decodes as a {@code Struct}, whose field 1 has its wire form.
 */
final class ProtoSaysJson {
  /** JSON names whose proto field is named otherwise. */
  private static final Map<String, String> RENAMED = Map.of("vectors", "vectors_config", "sparse_vectors", "sparse_vectors_config");
  /** Fields of Qdrant 1.15.5 unknown to the 1.15.0 classes: name to number. */
  private static final Map<String, Integer> NEWER = Map.of("copy_vectors", 7, "wal_retain_closed", 3,
      "max_payload_index_count", 19, "metadata", 7);
  /** Proto fields set without a JSON counterpart: Qdrant fills the deprecated thread count too. */
  private static final Set<String> EXTRA = Set.of("deprecated_max_optimization_threads");

  private ProtoSaysJson() {}

  static void assertSays(JsonNode json, Message msg, String path) {
    Set<String> seen = new HashSet<>();
    for (var e : json.properties()) {
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (NEWER.containsKey(key)) {
        newer(key, v, msg, path + key);
        continue;
      }
      FieldDescriptor f = msg.getDescriptorForType().findFieldByName(RENAMED.getOrDefault(key, key));
      assertNotNull(f, path + key + ": no such field in " + msg.getDescriptorForType().getName());
      seen.add(f.getName());
      if (v.isNull()) {
        if (key.equals("max_optimization_threads")) {
          assertEquals("Auto", ((EnumValueDescriptor) ((Message) msg.getField(f)).getField(
              f.getMessageType().findFieldByName("setting"))).getName(), path + key);
        } else {
          assertTrue(f.isRepeated() ? msg.getRepeatedFieldCount(f) == 0 : !msg.hasField(f), path + key + " is null in JSON but set");
        }
        continue;
      }
      if (!f.isRepeated()) {
        assertTrue(msg.hasField(f) || f.getJavaType() != FieldDescriptor.JavaType.MESSAGE, path + key + " not set");
      }
      value(v, f, msg.getField(f), path + key);
    }
    for (FieldDescriptor f : msg.getAllFields().keySet()) {
      if (!seen.contains(f.getName()) && !EXTRA.contains(f.getName())) {
        fail(path + f.getName() + " is set (" + msg.getField(f) + ") but REST does not show it");
      }
    }
  }

  private static void value(JsonNode v, FieldDescriptor f, Object pv, String path) {
    if (f.isMapField()) {
      @SuppressWarnings("unchecked")
      List<Message> entries = (List<Message>) pv;
      Map<String, Object> map = new HashMap<>();
      FieldDescriptor valueField = f.getMessageType().findFieldByName("value");
      for (Message entry : entries) {
        map.put((String) entry.getField(f.getMessageType().findFieldByName("key")), entry.getField(valueField));
      }
      Set<String> keys = new HashSet<>();
      v.fieldNames().forEachRemaining(keys::add);
      assertEquals(keys, map.keySet(), path + " keys");
      v.properties().forEach(e -> value(e.getValue(), valueField, map.get(e.getKey()), path + "." + e.getKey()));
      return;
    }
    switch (f.getJavaType()) {
      case MESSAGE -> message(v, (Message) pv, path);
      case ENUM -> assertEquals(plain(v.asText()), plain(((EnumValueDescriptor) pv).getName()), path);
      case FLOAT, DOUBLE -> assertEquals(v.asDouble(), ((Number) pv).doubleValue(), 1e-6, path);
      case INT, LONG -> assertEquals(v.asLong(), ((Number) pv).longValue(), path);
      case BOOLEAN -> assertEquals(v.asBoolean(), pv, path);
      case STRING -> assertEquals(v.asText(), pv, path);
      default -> fail(path + ": unexpected " + f.getJavaType());
    }
  }

  /** Messages whose JSON form is not one field per field. */
  private static void message(JsonNode v, Message m, String path) {
    var d = m.getDescriptorForType();
    switch (d.getName()) {
      case "VectorsConfig" -> {
        if (v.has("size")) {
          assertSays(v, (Message) m.getField(d.findFieldByName("params")), path + ".");
        } else {
          Message map = (Message) m.getField(d.findFieldByName("params_map"));
          value(v, map.getDescriptorForType().findFieldByName("map"), map.getField(map.getDescriptorForType().findFieldByName("map")), path);
        }
      }
      case "SparseVectorConfig", "VectorParamsMap" -> value(v, d.findFieldByName("map"), m.getField(d.findFieldByName("map")), path);
      case "StrictModeMultivectorConfig", "StrictModeSparseConfig" -> {
        FieldDescriptor f = d.getFields().getFirst();
        value(v, f, m.getField(f), path);
      }
      case "BinaryQuantizationQueryEncoding" -> value(v, d.findFieldByName("setting"), m.getField(d.findFieldByName("setting")), path);
      case "MaxOptimizationThreads" -> assertEquals(v.asLong(), m.getField(d.findFieldByName("value")), path);
      case "StopwordsSet" -> {
        if (v.isTextual()) {
          assertEquals(List.of(v.asText()), m.getField(d.findFieldByName("languages")), path);
          assertEquals(List.of(), m.getField(d.findFieldByName("custom")), path);
        } else {
          assertEquals(strings(v.path("languages")), m.getField(d.findFieldByName("languages")), path);
          assertEquals(strings(v.path("custom")), m.getField(d.findFieldByName("custom")), path);
        }
      }
      case "StemmingAlgorithm" -> {
        assertEquals("snowball", v.path("type").asText(), path);
        Message snowball = (Message) m.getField(d.findFieldByName("snowball"));
        assertEquals(v.path("language").asText(), snowball.getField(snowball.getDescriptorForType().findFieldByName("language")), path);
      }
      case "PayloadIndexParams" -> {
        FieldDescriptor f = d.findFieldByName(v.path("type").asText() + "_index_params");
        assertNotNull(f, path + ": index params of type " + v.path("type"));
        assertTrue(m.hasField(f), path + ": " + f.getName() + " not set");
        var rest = v.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) rest).remove("type");
        assertSays(rest, (Message) m.getField(f), path + ".");
      }
      default -> assertSays(v, m, path + ".");
    }
  }

  private static void newer(String key, JsonNode v, Message msg, String path) {
    UnknownFieldSet.Field field = msg.getUnknownFields().getField(NEWER.get(key));
    if (key.equals("metadata")) {
      try {
        var struct = JsonWithInt.Struct.parseFrom(UnknownFieldSet.newBuilder().addField(1, field).build().toByteString());
        // both through text, so that numbers compare by value, not by node class
        assertEquals(Json.MAPPER.readTree(v.toString()), Json.MAPPER.readTree(Values.json(struct.getFieldsMap()).toString()), path);
      } catch (java.io.IOException e) {
        throw new AssertionError(path + ": " + e.getMessage(), e);
      }
      return;
    }
    assertEquals(1, field.getVarintList().size(), path + " sent once");
    long expected = v.isBoolean() ? (v.asBoolean() ? 1 : 0) : v.asLong();
    assertEquals(expected, field.getVarintList().getFirst(), path);
  }

  private static String plain(String enumName) {
    return enumName.replace("_", "").toLowerCase(java.util.Locale.ROOT);
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new java.util.ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return out;
  }

}
