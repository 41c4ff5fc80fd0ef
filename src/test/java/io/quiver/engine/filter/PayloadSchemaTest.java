package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class PayloadSchemaTest {
  private static final ObjectMapper M = new ObjectMapper();

  static JsonNode json(String s) {
    try {
      return M.readTree(s.replace('\'', '"'));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  /** Compares JSON as text: Jackson's int and long nodes are not equal even with the same value. */
  static void assertJson(String expected, JsonNode actual) {
    assertEquals(json(expected).toString(), actual.toString());
  }

  @Test
  void typeNamesAndParams() {
    for (PayloadType t : PayloadType.values()) {
      FieldIndex f = PayloadSchema.parseIndexRequest("f", json("'" + t.json() + "'"));
      assertEquals(t, f.type());
      assertFalse(f.withParams());
    }
    FieldIndex kw = PayloadSchema.parseIndexRequest("tenant", json("{'type': 'keyword', 'is_tenant': true, 'on_disk': false}"));
    assertEquals(new FieldIndex(PayloadType.KEYWORD, true, true, null, false, null, null, null), kw);
    FieldIndex i = PayloadSchema.parseIndexRequest("n", json("{'type': 'integer', 'lookup': false}"));
    assertEquals(false, i.lookup());
    FieldIndex t = PayloadSchema.parseIndexRequest("txt", json(
        "{'type': 'text', 'tokenizer': 'prefix', 'min_token_len': 2, 'max_token_len': 10, 'lowercase': false, "
            + "'phrase_matching': true, 'stopwords': {'languages': ['en'], 'custom': ['b', 'a']}, 'stemmer': {'type': 'snowball', 'language': 'en'}}"));
    assertEquals(FieldIndex.Tokenizer.PREFIX, t.text().tokenizer());
    assertEquals(2L, t.text().minTokenLen());
    assertEquals(10L, t.text().maxTokenLen());
    assertEquals(false, t.text().lowercase());
    assertTrue(t.text().phrase());
    assertEquals(json("{'languages': ['english'], 'custom': ['a', 'b']}"), t.text().stopwords());
    assertEquals(json("{'type': 'snowball', 'language': 'english'}"), t.text().stemmer());
  }

  @Test
  void rendersQdrantPayloadSchema() {
    PayloadSchema s = PayloadSchema.EMPTY
        .with("city", PayloadSchema.parseIndexRequest("city", json("'keyword'")))
        .with("n", PayloadSchema.parseIndexRequest("n", json("{'type': 'integer', 'range': true}")))
        .with("txt", PayloadSchema.parseIndexRequest("txt", json("{'type': 'text'}")))
        .with("f", PayloadSchema.parseIndexRequest("f", json("{'type': 'float', 'on_disk': true}")));
    assertJson("{'data_type': 'keyword', 'points': 3}", s.toJson("city", 3));
    assertJson("{'data_type': 'integer', 'params': {'type': 'integer', 'lookup': null, 'range': true, 'is_principal': null}, 'points': 0}",
        s.toJson("n", 0));
    assertJson("{'data_type': 'text', 'params': {'type': 'text', 'tokenizer': 'word'}, 'points': 7}", s.toJson("txt", 7));
    assertJson("{'data_type': 'float', 'params': {'type': 'float', 'is_principal': null, 'on_disk': true}, 'points': 1}", s.toJson("f", 1));
    assertJson("{'city': {'data_type': 'keyword'}, 'f': {'data_type': 'float', 'params': {'type': 'float', 'is_principal': null, 'on_disk': true}}, "
        + "'n': {'data_type': 'integer', 'params': {'type': 'integer', 'lookup': null, 'range': true, 'is_principal': null}}, "
        + "'txt': {'data_type': 'text', 'params': {'type': 'text', 'tokenizer': 'word'}}}", s.toJson());
    assertEquals(s, PayloadSchema.fromJson(s.toJson()));
    assertEquals(List.of("city", "f", "n", "txt"), List.copyOf(s.fields().keySet()));
    assertEquals(List.of("f", "n", "txt"), List.copyOf(s.without("city").fields().keySet()));
  }

  @Test
  void keysAreNormalizedPaths() {
    FieldIndex kw = FieldIndex.of(PayloadType.KEYWORD);
    PayloadSchema s = PayloadSchema.EMPTY.with("\"a\".b", kw);
    assertEquals(List.of("a.b"), List.copyOf(s.fields().keySet()));
    assertEquals(kw, s.get(JsonPath.parse("a.b")));
    assertTrue(s.without("a.\"b\"").fields().isEmpty());
  }

  @Test
  void invalidRequests() {
    assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a..b", json("'keyword'")));
    assertTrue(assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", null)).getMessage().contains("field_schema"));
    assertTrue(assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("'str'"))).getMessage()
        .startsWith("field_schema: unknown variant `str`"));
    assertTrue(assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("{'type': 'integer', 'lookup': false, 'range': false}")))
        .getMessage().contains("can't be both disabled"));
    assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("{'type': 'text', 'tokenizer': 'spaces'}")));
    assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("{'type': 'text', 'stopwords': 'klingon'}")));
    assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("{'type': 'keyword', 'is_tenant': 'yes'}")));
    assertThrows(FilterException.class, () -> PayloadSchema.parseIndexRequest("a", json("{'is_tenant': true}")));
  }

  @Test
  void tokenizers() {
    TextTokenizer word = TextTokenizer.of(FieldIndex.of(PayloadType.TEXT));
    assertEquals(List.of("hello", "world", "привет", "мир"), word.document("Hello, world! Привет, мир!"));
    TextTokenizer prefix = TextTokenizer.of(PayloadSchema.parseIndexRequest("t", json("{'type': 'text', 'tokenizer': 'prefix', 'min_token_len': 1, 'max_token_len': 4}")));
    assertEquals(List.of("h", "he", "hel", "hell", "м", "ми", "мир"), prefix.document("hello, мир!"));
    assertEquals(List.of("hell", "мир"), prefix.query("hello, мир!"));
    TextTokenizer ws = TextTokenizer.of(PayloadSchema.parseIndexRequest("t", json(
        "{'type': 'text', 'tokenizer': 'whitespace', 'lowercase': false, 'stopwords': {'custom': ['The']}, 'min_token_len': 2}")));
    assertEquals(List.of("Quick,", "fox"), ws.document("The Quick, a fox"));
    TextTokenizer english = TextTokenizer.of(PayloadSchema.parseIndexRequest("t", json(
        "{'type': 'text', 'stopwords': 'english', 'stemmer': {'type': 'snowball', 'language': 'english'}}")));
    assertEquals(List.of("quick", "fox", "run"), english.document("The quick foxes are running"));
  }
}
