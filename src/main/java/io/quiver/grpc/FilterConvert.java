package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.TextFormat;
import com.google.protobuf.Timestamp;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.filter.Filter;
import io.quiver.request.PointParser;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;

/**
 * Qdrant's gRPC filters as the request model's {@link Filter}. Each filter is written as the JSON a
 * REST client would send for it and parsed by REST's parser ({@link PointParser#filter}), so that both
 * edges accept the same filters, build the same {@code Filter} and word their errors alike (paths as
 * {@code filter.must[0].key}). Filters are small next to the vectors of a request; one parser is worth
 * the short detour. What only the protobuf can say keeps Qdrant's gRPC treatment: a condition with no
 * variant is dropped, empty lists are absent, a match, box, radius, polygon or nested condition
 * without its required part is refused with Qdrant's gRPC wording; a datetime range's timestamps
 * become RFC 3339 text, ranges given as numbers take precedence over them.
 */
final class FilterConvert {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private FilterConvert() {}

  /** The filter; {@code path} names it in errors ({@code filter}, {@code update_filter}, ...). */
  static Filter filter(Points.Filter filter, String path) {
    return PointParser.filter(json(filter), path);
  }

  /** The filter as REST's JSON. */
  static ObjectNode json(Points.Filter f) {
    ObjectNode out = F.objectNode();
    conditions(out, "should", f.getShouldList());
    conditions(out, "must", f.getMustList());
    conditions(out, "must_not", f.getMustNotList());
    if (f.hasMinShould()) {
      ObjectNode min = out.putObject("min_should");
      ArrayNode list = min.putArray("conditions");
      for (Points.Condition c : f.getMinShould().getConditionsList()) {
        JsonNode json = condition(c);
        if (json != null) {
          list.add(json);
        }
      }
      min.set("min_count", u64(f.getMinShould().getMinCount()));
    }
    return out;
  }

  private static void conditions(ObjectNode out, String name, List<Points.Condition> conditions) {
    ArrayNode list = null;
    for (Points.Condition c : conditions) {
      JsonNode json = condition(c);
      if (json != null) {
        if (list == null) {
          list = out.putArray(name);
        }
        list.add(json);
      }
    }
  }

  /** One condition as REST's JSON, or null for a condition without a variant (Qdrant drops it). */
  static JsonNode condition(Points.Condition c) {
    return switch (c.getConditionOneOfCase()) {
      case FIELD -> field(c.getField());
      case IS_EMPTY -> F.objectNode().set("is_empty", F.objectNode().put("key", c.getIsEmpty().getKey()));
      case IS_NULL -> F.objectNode().set("is_null", F.objectNode().put("key", c.getIsNull().getKey()));
      case HAS_ID -> {
        ArrayNode ids = F.arrayNode();
        c.getHasId().getHasIdList().forEach(id -> ids.add(Values.id(id).toJson()));
        yield F.objectNode().set("has_id", ids);
      }
      case FILTER -> json(c.getFilter());
      case NESTED -> {
        if (!c.getNested().hasFilter()) {
          throw PointConvert.invalid("Nested condition must have a filter");
        }
        yield F.objectNode().set("nested",
            F.objectNode().put("key", c.getNested().getKey()).set("filter", json(c.getNested().getFilter())));
      }
      case HAS_VECTOR -> F.objectNode().put("has_vector", c.getHasVector().getHasVector());
      case CONDITIONONEOF_NOT_SET -> null;
    };
  }

  private static ObjectNode field(Points.FieldCondition f) {
    ObjectNode out = F.objectNode().put("key", f.getKey());
    if (f.hasMatch()) {
      out.set("match", match(f.getMatch()));
    }
    if (f.hasRange()) {
      Points.Range r = f.getRange();
      ObjectNode range = out.putObject("range");
      if (r.hasLt()) {
        range.put("lt", r.getLt());
      }
      if (r.hasGt()) {
        range.put("gt", r.getGt());
      }
      if (r.hasGte()) {
        range.put("gte", r.getGte());
      }
      if (r.hasLte()) {
        range.put("lte", r.getLte());
      }
    } else if (f.hasDatetimeRange()) {
      Points.DatetimeRange r = f.getDatetimeRange();
      ObjectNode range = out.putObject("range");
      if (r.hasLt()) {
        range.put("lt", text(r.getLt()));
      }
      if (r.hasGt()) {
        range.put("gt", text(r.getGt()));
      }
      if (r.hasGte()) {
        range.put("gte", text(r.getGte()));
      }
      if (r.hasLte()) {
        range.put("lte", text(r.getLte()));
      }
    }
    if (f.hasGeoBoundingBox()) {
      Points.GeoBoundingBox box = f.getGeoBoundingBox();
      if (!box.hasTopLeft() || !box.hasBottomRight()) {
        throw PointConvert.invalid("Malformed GeoBoundingBox type");
      }
      out.putObject("geo_bounding_box").<ObjectNode>set("top_left", point(box.getTopLeft())).set("bottom_right", point(box.getBottomRight()));
    }
    if (f.hasGeoRadius()) {
      if (!f.getGeoRadius().hasCenter()) {
        throw PointConvert.invalid("Malformed GeoRadius type");
      }
      out.putObject("geo_radius").<ObjectNode>set("center", point(f.getGeoRadius().getCenter())).put("radius", f.getGeoRadius().getRadius());
    }
    if (f.hasGeoPolygon()) {
      Points.GeoPolygon p = f.getGeoPolygon();
      if (!p.hasExterior()) {
        throw PointConvert.invalid("Malformed GeoPolygon type - field `exterior` is required");
      }
      ObjectNode polygon = out.putObject("geo_polygon");
      polygon.set("exterior", line(p.getExterior()));
      ArrayNode interiors = polygon.putArray("interiors");
      p.getInteriorsList().forEach(l -> interiors.add(line(l)));
    }
    if (f.hasValuesCount()) {
      Points.ValuesCount v = f.getValuesCount();
      ObjectNode count = out.putObject("values_count");
      if (v.hasLt()) {
        count.set("lt", u64(v.getLt()));
      }
      if (v.hasGt()) {
        count.set("gt", u64(v.getGt()));
      }
      if (v.hasGte()) {
        count.set("gte", u64(v.getGte()));
      }
      if (v.hasLte()) {
        count.set("lte", u64(v.getLte()));
      }
    }
    if (f.hasIsEmpty()) {
      out.put("is_empty", f.getIsEmpty());
    }
    if (f.hasIsNull()) {
      out.put("is_null", f.getIsNull());
    }
    return out;
  }

  private static ObjectNode match(Points.Match m) {
    ObjectNode out = F.objectNode();
    switch (m.getMatchValueCase()) {
      case KEYWORD -> out.put("value", m.getKeyword());
      case INTEGER -> out.put("value", m.getInteger());
      case BOOLEAN -> out.put("value", m.getBoolean());
      case TEXT -> out.put("text", m.getText());
      case PHRASE -> out.put("phrase", m.getPhrase());
      case KEYWORDS -> m.getKeywords().getStringsList().forEach(out.putArray("any")::add);
      case INTEGERS -> m.getIntegers().getIntegersList().forEach(out.putArray("any")::add);
      case EXCEPT_KEYWORDS -> m.getExceptKeywords().getStringsList().forEach(out.putArray("except")::add);
      case EXCEPT_INTEGERS -> m.getExceptIntegers().getIntegersList().forEach(out.putArray("except")::add);
      case MATCHVALUE_NOT_SET -> {
        String textAny = NewerPointFields.textAny(m);
        if (textAny == null) {
          throw PointConvert.invalid("Malformed Match condition");
        }
        out.put("text_any", textAny);
      }
    }
    return out;
  }

  private static ObjectNode point(Points.GeoPoint p) {
    return F.objectNode().put("lon", p.getLon()).put("lat", p.getLat());
  }

  private static ObjectNode line(Points.GeoLineString line) {
    ObjectNode out = F.objectNode();
    ArrayNode points = out.putArray("points");
    line.getPointsList().forEach(p -> points.add(point(p)));
    return out;
  }

  /** A timestamp as RFC 3339 text, as REST receives datetimes; negative nanos count as 0, as in Qdrant. */
  static String text(Timestamp t) {
    try {
      return Instant.ofEpochSecond(t.getSeconds(), Math.max(0, t.getNanos())).toString();
    } catch (DateTimeException e) {
      throw PointConvert.invalid("Unable to parse timestamp: " + TextFormat.shortDebugString(t));
    }
  }

  /** A protobuf {@code uint64} (a Java long read as unsigned) as a JSON number. */
  static JsonNode u64(long v) {
    return v >= 0 ? F.numberNode(v) : F.numberNode(new BigInteger(Long.toUnsignedString(v)));
  }
}
