package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.engine.PointId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Qdrant's semantics on hand-picked cases (several from Qdrant's own tests). */
@Timeout(120)
class FilterMatcherTest {
  static final String PAYLOAD = """
      {'location': {'lon': 13.404954, 'lat': 52.520008}, 'price': 499.90, 'amount': 10, 'rating': [3, 7, 9, 9],
       'color': 'red', 'has_delivery': true, 'shipped_at': '2020-02-15T00:00:00Z', 'parts': [], 'packaging': null,
       'not_null': [null], 'arr': [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}, 3, null], 'nested': [[1, 2], 3],
       'txt': ['hello big', 'world'], 'obj': {'k': 'v'}}""";

  static boolean m(String filter, String payload) {
    return m(filter, payload, PayloadSchema.EMPTY);
  }

  static boolean m(String filter, String payload, PayloadSchema schema) {
    return FilterMatcher.matches(FilterParserTest.parse(filter), PointId.of(7), PayloadSchemaTest.json(payload), Set.of("", "img"), schema);
  }

  static boolean cond(String condition) {
    return m("{'must': [" + condition + "]}", PAYLOAD);
  }

  @Test
  void emptinessAndNulls() {
    assertFalse(cond("{'is_empty': {'key': 'price'}}"));
    assertTrue(cond("{'is_empty': {'key': 'something_new'}}"));
    assertTrue(cond("{'is_empty': {'key': 'parts'}}"));
    assertTrue(cond("{'is_empty': {'key': 'packaging'}}"));
    assertFalse(cond("{'is_empty': {'key': 'not_null'}}"));
    assertFalse(cond("{'is_null': {'key': 'amount'}}"));
    assertFalse(cond("{'is_null': {'key': 'parts'}}"));
    assertFalse(cond("{'is_null': {'key': 'something_else'}}"));
    assertTrue(cond("{'is_null': {'key': 'packaging'}}"));
    assertFalse(cond("{'is_null': {'key': 'not_null'}}"), "a null inside an array is not a null value");
    // the field-condition forms look into arrays and treat a missing key differently
    assertTrue(cond("{'key': 'not_null', 'is_null': true}"));
    assertTrue(cond("{'key': 'missing', 'is_null': false}"));
    assertTrue(cond("{'key': 'missing', 'is_empty': true}"));
    assertFalse(cond("{'key': 'missing', 'is_empty': false}"));
    assertTrue(cond("{'key': 'parts', 'is_null': false}"));
    assertTrue(cond("{'key': 'arr[].b', 'is_empty': false}"));
  }

  @Test
  void valuesCountCountsEachValue() {
    assertFalse(cond("{'key': 'rating', 'values_count': {'gte': 10}}"));
    assertTrue(cond("{'key': 'rating', 'values_count': {'lt': 5}}"));
    assertTrue(cond("{'key': 'rating[]', 'values_count': {'lte': 1}}"), "rating[] has four values of one each");
    assertFalse(cond("{'key': 'missing', 'values_count': {'lt': 1}}"), "no value: the condition fails");
    assertTrue(cond("{'key': 'packaging', 'values_count': {'lt': 1}}"));
  }

  @Test
  void pathsAndArrays() {
    assertTrue(cond("{'key': 'rating', 'match': {'value': 9}}"));
    assertTrue(cond("{'key': 'arr[].a', 'match': {'value': 2}}"));
    assertFalse(cond("{'key': 'arr.a', 'match': {'value': 2}}"), "a key step does not enter arrays");
    assertTrue(cond("{'key': 'arr[1].b', 'match': {'value': 'y'}}"));
    assertFalse(cond("{'key': 'arr[0].b', 'match': {'value': 'y'}}"));
    assertTrue(cond("{'key': 'obj.k', 'match': {'any': ['u', 'v']}}"));
    assertFalse(cond("{'key': 'nested', 'match': {'value': 1}}"), "only one level of arrays is flattened");
    assertTrue(cond("{'key': 'nested[]', 'match': {'value': 1}}"));
    assertFalse(cond("{'key': 'price', 'match': {'value': 499}}"));
    assertTrue(cond("{'key': 'amount', 'range': {'gt': 9.5, 'lte': 10}}"));
    assertTrue(cond("{'key': 'shipped_at', 'range': {'gte': '2020-02-01T00:00:00Z', 'lt': '2020-03-01'}}"));
    assertFalse(cond("{'key': 'shipped_at', 'range': {'gte': '2020-03-01T00:00:00Z'}}"));
    assertFalse(cond("{'key': 'shipped_at', 'range': {'gte': 0}}"), "numeric ranges ignore strings");
  }

  @Test
  void except() {
    assertFalse(cond("{'key': 'color', 'match': {'except': ['red']}}"));
    assertTrue(cond("{'key': 'color', 'match': {'except': ['blue']}}"));
    assertTrue(cond("{'key': 'rating', 'match': {'except': [3, 7]}}"));
    assertFalse(cond("{'key': 'rating', 'match': {'except': [3, 7, 9]}}"));
    assertTrue(cond("{'key': 'rating', 'match': {'except': ['x']}}"), "numbers are not in a list of strings");
    assertFalse(cond("{'key': 'packaging', 'match': {'except': ['x']}}"), "null never passes except");
    assertFalse(cond("{'key': 'parts', 'match': {'except': ['x']}}"));
    assertFalse(cond("{'key': 'missing', 'match': {'except': ['x']}}"));
    assertTrue(cond("{'key': 'nested', 'match': {'except': [1, 2, 3]}}"), "an array inside an array passes except");
    assertTrue(cond("{'key': 'price', 'match': {'except': [499]}}"), "a float passes an integer except");
  }

  @Test
  void geo() {
    assertTrue(cond("{'key': 'location', 'geo_bounding_box': {'top_left': {'lon': 13.08835, 'lat': 52.67551}, 'bottom_right': {'lon': 13.76116, 'lat': 52.33826}}}"));
    assertFalse(cond("{'key': 'location', 'geo_bounding_box': {'top_left': {'lon': 37.0366, 'lat': 56.1859}, 'bottom_right': {'lon': 38.2532, 'lat': 55.317}}}"));
    assertTrue(cond("{'key': 'location', 'geo_bounding_box': {'top_left': {'lon': 100, 'lat': 60}, 'bottom_right': {'lon': 20, 'lat': 50}}}"),
        "a box crossing the antimeridian");
    assertTrue(cond("{'key': 'location', 'geo_radius': {'center': {'lon': 13.423637, 'lat': 52.511}, 'radius': 2000}}"));
    assertFalse(cond("{'key': 'location', 'geo_radius': {'center': {'lon': 20.423637, 'lat': 52.511}, 'radius': 2000}}"));
    String square = "{'points': [{'lon': 13, 'lat': 52}, {'lon': 14, 'lat': 52}, {'lon': 14, 'lat': 53}, {'lon': 13, 'lat': 53}, {'lon': 13, 'lat': 52}]}";
    String hole = "{'points': [{'lon': 13.3, 'lat': 52.4}, {'lon': 13.5, 'lat': 52.4}, {'lon': 13.5, 'lat': 52.6}, {'lon': 13.3, 'lat': 52.6}, {'lon': 13.3, 'lat': 52.4}]}";
    assertTrue(cond("{'key': 'location', 'geo_polygon': {'exterior': " + square + "}}"));
    assertFalse(cond("{'key': 'location', 'geo_polygon': {'exterior': " + square + ", 'interiors': [" + hole + "]}}"));
    assertFalse(Geo.Polygon.class.cast(new Geo.Polygon(List.of(new Geo.Point(0, 0), new Geo.Point(1, 0), new Geo.Point(1, 1), new Geo.Point(0, 0)), List.of()))
        .contains(0.5, 0), "the boundary is outside");
  }

  @Test
  void textWithoutIndexIsSubstring() {
    assertTrue(cond("{'key': 'txt', 'match': {'text': 'lo bi'}}"));
    assertFalse(cond("{'key': 'txt', 'match': {'text': 'hello world'}}"));
    assertTrue(cond("{'key': 'txt', 'match': {'text_any': 'nope orl'}}"));
    assertFalse(cond("{'key': 'txt', 'match': {'text_any': '  '}}"));
    assertTrue(cond("{'key': 'txt', 'match': {'phrase': 'o b'}}"));
  }

  @Test
  void textIndexUsesTokensOfAllValues() {
    PayloadSchema s = PayloadSchema.EMPTY.with("txt", FieldIndex.of(PayloadType.TEXT));
    assertTrue(m("{'must': {'key': 'txt', 'match': {'text': 'World HELLO'}}}", PAYLOAD, s), "Qdrant's index joins the tokens of all strings");
    assertFalse(m("{'must': {'key': 'txt', 'match': {'text': 'lo bi'}}}", PAYLOAD, s));
    assertFalse(m("{'must': {'key': 'txt', 'match': {'text': '!!'}}}", PAYLOAD, s), "no query tokens: no match");
    assertTrue(m("{'must': {'key': 'txt', 'match': {'text_any': 'nothing world'}}}", PAYLOAD, s));
    assertFalse(m("{'must': {'key': 'txt', 'match': {'phrase': 'hello big'}}}", PAYLOAD, s), "phrases need phrase_matching");
    PayloadSchema phrases = PayloadSchema.EMPTY.with("txt", PayloadSchema.parseIndexRequest("txt", PayloadSchemaTest.json("{'type': 'text', 'phrase_matching': true}")));
    assertTrue(m("{'must': {'key': 'txt', 'match': {'phrase': 'hello big'}}}", PAYLOAD, phrases));
    assertTrue(m("{'must': {'key': 'txt', 'match': {'phrase': 'big world'}}}", PAYLOAD, phrases), "the token sequence runs across values");
    assertFalse(m("{'must': {'key': 'txt', 'match': {'phrase': 'world big'}}}", PAYLOAD, phrases));
    // inside nested, the index checks each string on its own (and regardless of phrase_matching)
    PayloadSchema nested = PayloadSchema.EMPTY.with("docs[].t", FieldIndex.of(PayloadType.TEXT));
    String docs = "{'docs': [{'t': ['hello big', 'world']}]}";
    assertFalse(m("{'must': {'nested': {'key': 'docs', 'filter': {'must': {'key': 't', 'match': {'text': 'hello world'}}}}}}", docs, nested));
    assertTrue(m("{'must': {'nested': {'key': 'docs', 'filter': {'must': {'key': 't', 'match': {'phrase': 'hello big'}}}}}}", docs, nested));
    assertTrue(m("{'must': {'key': 'docs[].t', 'match': {'text': 'hello world'}}}", docs, nested));
  }

  @Test
  void nestedConditionsHoldOnOneElement() {
    String p = "{'country': {'cities': [{'name': 'Berlin', 'pop': 3.7}, {'name': 'Bonn', 'pop': 0.3}]}}";
    assertTrue(m("{'must': [{'key': 'country.cities[].name', 'match': {'value': 'Berlin'}}, {'key': 'country.cities[].pop', 'range': {'lt': 1}}]}", p));
    assertFalse(m("{'must': {'nested': {'key': 'country.cities', 'filter': {'must': [{'key': 'name', 'match': {'value': 'Berlin'}}, "
        + "{'key': 'pop', 'range': {'lt': 1}}]}}}}", p));
    assertTrue(m("{'must': {'nested': {'key': 'country.cities[]', 'filter': {'must': [{'key': 'name', 'match': {'value': 'Bonn'}}, "
        + "{'key': 'pop', 'range': {'lt': 1}}]}}}}", p));
    assertTrue(m("{'must': {'nested': {'key': 'country.cities', 'filter': {'must_not': {'key': 'name', 'match': {'value': 'Berlin'}}}}}}", p));
    assertFalse(m("{'must': {'nested': {'key': 'country.cities', 'filter': {'must': {'has_id': [7]}}}}}", p), "no ids inside nested");
    assertFalse(m("{'must': {'nested': {'key': 'country.cities', 'filter': {'should': []}}}}", p), "an empty should fails inside nested");
    assertTrue(m("{'should': []}", p), "and is ignored at the top level");
  }

  @Test
  void clauses() {
    assertTrue(cond("{'has_id': [1, 7]}"));
    assertFalse(cond("{'has_id': []}"));
    assertTrue(cond("{'has_vector': ''}"));
    assertFalse(cond("{'has_vector': 'text'}"));
    assertTrue(m("{'min_should': {'conditions': [{'has_vector': 'img'}, {'has_id': [1]}, {'key': 'color', 'match': {'value': 'red'}}], 'min_count': 2}}", PAYLOAD));
    assertFalse(m("{'min_should': {'conditions': [{'has_vector': 'x'}, {'has_id': [1]}, {'key': 'color', 'match': {'value': 'red'}}], 'min_count': 2}}", PAYLOAD));
    assertTrue(m("{'must_not': {'key': 'missing', 'match': {'value': 1}}}", PAYLOAD));
    assertEquals(true, FilterMatcher.matches(null, PointId.of(1), null, Set.of()));
  }
}
