package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import io.quiver.engine.PointId;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class FilterParserTest {
  private static final ObjectMapper M = new ObjectMapper();

  static Filter parse(String json) {
    try {
      return FilterParser.parse(M.readTree(json.replace('\'', '"')));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  static Condition only(String conditionJson) {
    Filter f = parse("{'must': " + conditionJson + "}");
    assertEquals(1, f.must().size());
    return f.must().getFirst();
  }

  static String error(String json) {
    return assertThrows(FilterException.class, () -> parse(json)).getMessage();
  }

  private static JsonPath path(String p) {
    return JsonPath.parse(p);
  }

  @Test
  void nullOrMissingFilterMatchesAll() {
    assertSame(Filter.ALL, FilterParser.parse(null));
    assertSame(Filter.ALL, FilterParser.parse(NullNode.getInstance()));
    assertEquals(new Filter(null, null, null, null), parse("{}"));
    assertEquals(new Filter(null, null, null, null), parse("{'must': null}"));
  }

  @Test
  void clausesTakeOneConditionOrAnArray() {
    Filter one = parse("{'must': {'key': 'a', 'match': {'value': 1}}}");
    Filter many = parse("{'must': [{'key': 'a', 'match': {'value': 1}}]}");
    assertEquals(one, many);
    Filter all = parse("{'should': [], 'must_not': {'is_empty': {'key': 'x'}}, 'min_should': {'conditions': [{'has_vector': 'v'}], 'min_count': 1}}");
    assertEquals(List.of(), all.should());
    assertEquals(List.of(new Condition.IsEmpty(path("x"))), all.mustNot());
    assertEquals(new Filter.MinShould(List.of(new Condition.HasVector("v")), 1), all.minShould());
    assertNull(all.must());
  }

  @Test
  void matchVariants() {
    assertEquals(Condition.Field.of(path("a"), new Match.Value("x")), only("{'key': 'a', 'match': {'value': 'x'}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Value(-7L)), only("{'key': 'a', 'match': {'value': -7}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Value(true)), only("{'key': 'a', 'match': {'value': true}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Any(new Match.Keywords(List.of("x", "y")))),
        only("{'key': 'a', 'match': {'any': ['x', 'y', 'x']}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Any(new Match.Integers(List.of(1L, 2L)))),
        only("{'key': 'a', 'match': {'any': [1, 2]}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Any(new Match.Keywords(List.of()))), only("{'key': 'a', 'match': {'any': []}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Except(new Match.Integers(List.of(3L)))),
        only("{'key': 'a', 'match': {'except': [3]}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Text("hi")), only("{'key': 'a', 'match': {'text': 'hi'}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.TextAny("hi yo")), only("{'key': 'a', 'match': {'text_any': 'hi yo'}}"));
    assertEquals(Condition.Field.of(path("a"), new Match.Phrase("hi yo")), only("{'key': 'a', 'match': {'phrase': 'hi yo'}}"));
    // Qdrant's untagged order: value wins over text
    assertEquals(Condition.Field.of(path("a"), new Match.Value("v")), only("{'key': 'a', 'match': {'text': 't', 'value': 'v'}}"));
  }

  @Test
  void rangesAreNumbersOrDatetimes() {
    var f = (Condition.Field) only("{'key': 'p', 'range': {'gt': 1, 'lte': 2.5, 'lt': null}}");
    assertEquals(new Condition.NumberRange(null, 1.0, null, 2.5), f.range());
    f = (Condition.Field) only("{'key': 'p', 'range': {}}");
    assertEquals(new Condition.NumberRange(null, null, null, null), f.range());
    f = (Condition.Field) only("{'key': 'd', 'range': {'gte': '2020-01-01', 'lt': '2020-01-01T00:00:01Z'}}");
    assertEquals(new Condition.DatetimeRange(1577836801000000L, null, 1577836800000000L, null), f.range());
  }

  @Test
  void geoConditions() {
    var f = (Condition.Field) only("{'key': 'loc', 'geo_bounding_box': {'top_left': {'lon': 1, 'lat': 2}, 'bottom_right': {'lon': 3, 'lat': 0}}}");
    assertEquals(new Geo.BoundingBox(new Geo.Point(1, 2), new Geo.Point(3, 0)), f.geoBoundingBox());
    f = (Condition.Field) only("{'key': 'loc', 'geo_radius': {'center': {'lon': 13.4, 'lat': 52.5}, 'radius': 1000}}");
    assertEquals(new Geo.Radius(new Geo.Point(13.4, 52.5), 1000), f.geoRadius());
    f = (Condition.Field) only("""
        {'key': 'loc', 'geo_polygon': {
          'exterior': {'points': [{'lon': 0, 'lat': 0}, {'lon': 10, 'lat': 0}, {'lon': 10, 'lat': 10}, {'lon': 0, 'lat': 0}]},
          'interiors': [{'points': [{'lon': 1, 'lat': 1}, {'lon': 2, 'lat': 1}, {'lon': 2, 'lat': 2}, {'lon': 1, 'lat': 1}]}]}}""");
    assertEquals(4, f.geoPolygon().exterior().size());
    assertEquals(1, f.geoPolygon().interiors().size());
  }

  @Test
  void otherConditions() {
    var f = (Condition.Field) only("{'key': 'tags', 'values_count': {'gte': 2, 'lt': 5}}");
    assertEquals(new Condition.ValuesCount(5L, null, 2L, null), f.valuesCount());
    f = (Condition.Field) only("{'key': 'a', 'is_empty': false}");
    assertEquals(false, f.isEmpty());
    f = (Condition.Field) only("{'key': 'a', 'is_null': true}");
    assertEquals(true, f.isNull());
    assertEquals(new Condition.IsEmpty(path("a[].b")), only("{'is_empty': {'key': 'a[].b'}}"));
    assertEquals(new Condition.IsNull(path("a")), only("{'is_null': {'key': 'a'}}"));
    UUID u = UUID.fromString("550e8400-e29b-41d4-a716-446655440000");
    assertEquals(new Condition.HasId(List.of(PointId.of(1), new PointId.Uuid(u))),
        only("{'has_id': [1, '550e8400-e29b-41d4-a716-446655440000', 1]}"));
    assertEquals(new Condition.HasVector(""), only("{'has_vector': ''}"));
    var nested = (Condition.Nested) only("{'nested': {'key': 'arr', 'filter': {'must': {'key': 'x', 'match': {'value': 1}}}}}");
    assertEquals(path("arr"), nested.key());
    assertEquals(1, nested.filter().must().size());
    var inner = (Filter) only("{'should': [{'key': 'a', 'match': {'value': 1}}], 'must_not': []}");
    assertEquals(List.of(), inner.mustNot());
    assertEquals(new Filter(null, null, null, null), only("{}"));
  }

  @Test
  void keysFollowQdrantPathSyntax() {
    var f = (Condition.Field) only("{'key': 'a[].b[3].\\\"c.d\\\"', 'match': {'value': 1}}");
    assertEquals(new JsonPath("a", List.of(new JsonPath.Wildcard(), new JsonPath.Key("b"), new JsonPath.Index(3), new JsonPath.Key("c.d"))), f.key());
    assertEquals("a[].b[3].\"c.d\"", f.key().toString());
  }

  @Test
  void errorsNameThePlace() {
    assertEquals("filter.must[0]: unknown condition (field `foo`); expected a field condition (with `key`), "
        + "`is_empty`, `is_null`, `has_id`, `has_vector`, `nested` or a filter", error("{'must': [{'foo': 1}]}"));
    assertTrue(error("{'must': [], 'filter': 1}").startsWith("filter: unknown field `filter`"));
    assertTrue(error("{'must': 3}").startsWith("filter.must: expected a condition or an array"));
    assertTrue(error("{'should': [1]}").startsWith("filter.should[0]: expected a condition object"));
    assertTrue(error("{'must': {'key': 'a..b', 'match': {'value': 1}}}").startsWith("filter.must.key: Invalid json path"));
    assertEquals("filter.must: At least one field condition must be specified", error("{'must': {'key': 'a'}}"));
    assertTrue(error("{'must': {'key': 'a', 'match': {'value': 1.5}}}").startsWith("filter.must.match.value: expected a string"));
    assertTrue(error("{'must': {'key': 'a', 'match': {'any': ['x', 1]}}}").startsWith("filter.must.match.any:"));
    assertTrue(error("{'must': {'key': 'a', 'match': {'foo': 1}}}").startsWith("filter.must.match: expected one of"));
    assertTrue(error("{'must': {'key': 'a', 'range': {'gt': 1, 'lt': '2020-01-01'}}}").startsWith("filter.must.range: expected bounds that are all numbers"));
    assertTrue(error("{'must': {'key': 'a', 'range': {'gt': true}}}").startsWith("filter.must.range: expected bounds"));
    assertTrue(error("{'must': {'key': 'a', 'range': {'gt': 'yesterday'}}}").contains("is not in a supported date/time format"));
    assertTrue(error("{'must': {'key': 'a', 'geo_radius': {'center': {'lon': 0, 'lat': 91}, 'radius': 1}}}")
        .startsWith("filter.must.geo_radius.center: Wrong format of GeoPoint"));
    assertTrue(error("{'must': {'key': 'a', 'geo_polygon': {'exterior': {'points': [{'lon': 0, 'lat': 0}, {'lon': 1, 'lat': 0}, {'lon': 0, 'lat': 0}]}}}}")
        .contains("the size must be at least 4, got 3"));
    assertTrue(error("{'must': {'key': 'a', 'geo_polygon': {'exterior': {'points': [{'lon': 0, 'lat': 0}, {'lon': 1, 'lat': 0}, {'lon': 1, 'lat': 1}, {'lon': 0, 'lat': 1}]}}}}")
        .contains("should be the same to form a closed line"));
    assertTrue(error("{'must': {'key': 'a', 'values_count': {'gt': -1}}}").startsWith("filter.must.values_count.gt: expected a non-negative integer"));
    assertTrue(error("{'must': {'has_id': [-1]}}").startsWith("filter.must.has_id[0]: value -1 is not a valid point ID"));
    assertTrue(error("{'must': {'has_id': 1}}").startsWith("filter.must.has_id: expected an array"));
    assertTrue(error("{'min_should': {'conditions': []}}").startsWith("filter.min_should: missing field `min_count`"));
    assertTrue(error("{'min_should': {'conditions': {}, 'min_count': 1}}").startsWith("filter.min_should.conditions: expected an array"));
    assertTrue(error("{'must': {'nested': {'key': 'a', 'filter': {'must': {'x': 1}}}}}").startsWith("filter.must.nested.filter.must: unknown condition"));
    assertTrue(error("[]").startsWith("filter: expected a filter object"));
    assertTrue(error("{'must': {'is_empty': 'a'}}").startsWith("filter.must.is_empty: expected an object with `key`"));
  }

  @Test
  void datetimeFormats() {
    long base = 1577836800000000L; // 2020-01-01T00:00:00Z
    assertEquals(base, Datetimes.parseMicros("2020-01-01"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01T00:00:00Z"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01t00:00:00z"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01 00:00:00Z"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01T00:00:00"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01 00:00"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01T02:00:00+02:00"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01T02:00:00+0200"));
    assertEquals(base, Datetimes.parseMicros("2020-01-01T02:00:00+02"));
    assertEquals(base, Datetimes.parseMicros("2019-12-31 22:00:00 -02:00"));
    assertEquals(base + 123456, Datetimes.parseMicros("2020-01-01T00:00:00.1234567Z"));
    assertEquals(base + 500000, Datetimes.parseMicros("2020-01-01 00:00:00.5"));
    assertNull(Datetimes.parseMicros("2020-01-01t00:00:00"));
    assertNull(Datetimes.parseMicros("2020-01-01T00:00"));
    assertNull(Datetimes.parseMicros("2020-02-30"));
    assertNull(Datetimes.parseMicros("2020-01-01T24:00:00Z"));
    assertNull(Datetimes.parseMicros("20200101"));
    assertNull(Datetimes.parseMicros(" 2020-01-01"));
  }
}
