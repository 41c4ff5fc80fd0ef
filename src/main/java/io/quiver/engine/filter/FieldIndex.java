package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * One payload index: its type and, when it was created with an object {@code field_schema}, its
 * params as given (null = not given; rendering follows Qdrant's serialization of each params type).
 * Only {@link #text} changes what is indexed; the rest is kept for {@code payload_schema}.
 *
 * @param withParams whether the index was created with params (an object) rather than a bare type name
 * @param isTenant keyword, uuid
 * @param isPrincipal integer, float, datetime
 * @param lookup integer
 * @param range integer
 * @param text text: tokenization params; null for other types
 */
public record FieldIndex(PayloadType type, boolean withParams, Boolean isTenant, Boolean isPrincipal, Boolean onDisk,
    Boolean lookup, Boolean range, TextParams text) {

  public enum Tokenizer {
    PREFIX, WHITESPACE, WORD, MULTILINGUAL;

    public String json() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Qdrant's {@code TextIndexParams}. {@code stopwords} and {@code stemmer} are kept as normalized
   * JSON ({@code "english"} or {@code {"languages": [...], "custom": [...]}}; {@code {"type":
   * "snowball", "language": "english"}}).
   */
  public record TextParams(Tokenizer tokenizer, Long minTokenLen, Long maxTokenLen, Boolean lowercase,
      Boolean phraseMatching, JsonNode stopwords, JsonNode stemmer) {
    public static final TextParams DEFAULT = new TextParams(Tokenizer.WORD, null, null, null, null, null, null);

    public TextParams {
      stopwords = stopwords == null ? null : stopwords.deepCopy();
      stemmer = stemmer == null ? null : stemmer.deepCopy();
    }

    public boolean phrase() {
      return Boolean.TRUE.equals(phraseMatching);
    }
  }

  /** An index created from a bare type name. */
  public static FieldIndex of(PayloadType type) {
    return new FieldIndex(type, false, null, null, null, null, null, type == PayloadType.TEXT ? TextParams.DEFAULT : null);
  }

  /** The params as Qdrant serializes them (its skip-if-none and always-present fields). */
  public ObjectNode paramsJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("type", type.json());
    switch (type) {
      case KEYWORD, UUID -> putIfSet(o, "is_tenant", isTenant);
      case INTEGER -> {
        o.put("lookup", lookup);
        o.put("range", range);
        o.put("is_principal", isPrincipal);
      }
      case FLOAT, DATETIME -> o.put("is_principal", isPrincipal);
      case TEXT -> {
        o.put("tokenizer", text.tokenizer().json());
        putIfSet(o, "min_token_len", text.minTokenLen());
        putIfSet(o, "max_token_len", text.maxTokenLen());
        putIfSet(o, "lowercase", text.lowercase());
        putIfSet(o, "phrase_matching", text.phraseMatching());
        if (text.stopwords() != null) {
          o.set("stopwords", text.stopwords().deepCopy());
        }
      }
      case GEO, BOOL -> {}
    }
    putIfSet(o, "on_disk", onDisk);
    if (type == PayloadType.TEXT && text.stemmer() != null) {
      o.set("stemmer", text.stemmer().deepCopy());
    }
    return o;
  }

  private static void putIfSet(ObjectNode o, String name, Object v) {
    if (v instanceof Boolean b) {
      o.put(name, b);
    } else if (v instanceof Long l) {
      o.put(name, l);
    }
  }

  /** Parses {@code field_schema}: a type name or a params object. */
  static FieldIndex parse(JsonNode schema, String where) {
    if (schema == null || schema.isNull()) {
      throw new FilterException("Can't auto-detect field type, please specify `field_schema` in the request");
    }
    if (schema.isTextual()) {
      return of(PayloadType.fromJson(schema.textValue(), where));
    }
    if (!schema.isObject()) {
      throw new FilterException(where + ": expected a payload type name or an object with \"type\"");
    }
    JsonNode t = schema.get("type");
    if (t == null || !t.isTextual()) {
      throw new FilterException(where + ": missing field `type`");
    }
    PayloadType type = PayloadType.fromJson(t.textValue(), where + ".type");
    Boolean onDisk = bool(schema, "on_disk", where);
    return switch (type) {
      case KEYWORD, UUID -> new FieldIndex(type, true, bool(schema, "is_tenant", where), null, onDisk, null, null, null);
      case INTEGER -> {
        Boolean lookup = bool(schema, "lookup", where);
        Boolean range = bool(schema, "range", where);
        if (Boolean.FALSE.equals(lookup) && Boolean.FALSE.equals(range)) {
          throw FilterException.validation("the 'lookup' and 'range' capabilities can't be both disabled");
        }
        yield new FieldIndex(type, true, null, bool(schema, "is_principal", where), onDisk, lookup, range, null);
      }
      case FLOAT, DATETIME -> new FieldIndex(type, true, null, bool(schema, "is_principal", where), onDisk, null, null, null);
      case GEO, BOOL -> new FieldIndex(type, true, null, null, onDisk, null, null, null);
      case TEXT -> new FieldIndex(type, true, null, null, onDisk, null, null, textParams(schema, where));
    };
  }

  private static TextParams textParams(JsonNode o, String where) {
    JsonNode tok = o.get("tokenizer");
    Tokenizer tokenizer = Tokenizer.WORD;
    if (tok != null && !tok.isNull()) {
      tokenizer = null;
      for (Tokenizer t : Tokenizer.values()) {
        if (tok.isTextual() && t.json().equals(tok.textValue())) {
          tokenizer = t;
        }
      }
      if (tokenizer == null) {
        throw new FilterException(where + ".tokenizer: unknown variant " + tok + ", expected one of `prefix`, `whitespace`, `word`, `multilingual`");
      }
    }
    return new TextParams(tokenizer, uint(o, "min_token_len", where), uint(o, "max_token_len", where),
        bool(o, "lowercase", where), bool(o, "phrase_matching", where),
        stopwords(o.get("stopwords"), where + ".stopwords"), stemmer(o.get("stemmer"), where + ".stemmer"));
  }

  /** Stopword languages in Qdrant's order (its enum order, which its sets are sorted by), with their aliases. */
  static final Map<String, String> LANGUAGES = aliases(
      "arabic:ar", "azerbaijani:az", "basque:eu", "bengali:bn", "catalan:ca", "chinese:zh", "danish:da", "dutch:nl",
      "english:en", "finnish:fi", "french:fr", "german:de", "greek:el", "hebrew:he", "hinglish:hi-en", "hungarian:hu",
      "indonesian:id", "italian:it", "japanese:jp", "kazakh:kk", "nepali:ne", "norwegian:no", "portuguese:pt",
      "romanian:ro", "russian:ru", "slovene:sl", "spanish:es", "swedish:sv", "tajik:tg", "turkish:tr");

  static final Map<String, String> SNOWBALL_LANGUAGES = aliases(
      "arabic:ar", "armenian:hy", "danish:da", "dutch:nl", "english:en", "finnish:fi", "french:fr", "german:de",
      "greek:el", "hungarian:hu", "italian:it", "norwegian:no", "portuguese:pt", "romanian:ro", "russian:ru",
      "spanish:es", "swedish:sv", "tamil:ta", "turkish:tr");

  private static Map<String, String> aliases(String... pairs) {
    var m = new java.util.LinkedHashMap<String, String>();
    for (String p : pairs) {
      String[] kv = p.split(":");
      m.put(kv[0], kv[0]);
      m.put(kv[1], kv[0]);
    }
    return java.util.Collections.unmodifiableMap(m);
  }

  private static String language(JsonNode n, Map<String, String> known, String where) {
    String name = n != null && n.isTextual() ? known.get(n.textValue()) : null;
    if (name == null) {
      throw new FilterException(where + ": unknown language " + n);
    }
    return name;
  }

  private static JsonNode stopwords(JsonNode n, String where) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      return JsonNodeFactory.instance.textNode(language(n, LANGUAGES, where));
    }
    if (!n.isObject()) {
      throw new FilterException(where + ": expected a language or an object with `languages` and `custom`");
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    JsonNode langs = n.get("languages");
    if (langs != null && !langs.isNull()) {
      if (!langs.isArray()) {
        throw new FilterException(where + ".languages: expected an array");
      }
      List<String> order = LANGUAGES.values().stream().distinct().toList();
      var set = new TreeSet<String>(java.util.Comparator.comparingInt(order::indexOf));
      langs.forEach(l -> set.add(language(l, LANGUAGES, where + ".languages")));
      set.forEach(out.putArray("languages")::add);
    }
    JsonNode custom = n.get("custom");
    if (custom != null && !custom.isNull()) {
      if (!custom.isArray()) {
        throw new FilterException(where + ".custom: expected an array of strings");
      }
      var set = new TreeSet<String>();
      for (JsonNode w : custom) {
        if (!w.isTextual()) {
          throw new FilterException(where + ".custom: expected an array of strings");
        }
        set.add(w.textValue());
      }
      ArrayNode arr = out.putArray("custom");
      set.forEach(arr::add);
    }
    return out;
  }

  private static JsonNode stemmer(JsonNode n, String where) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject() || !"snowball".equals(n.path("type").asText(null))) {
      throw new FilterException(where + ": expected {\"type\": \"snowball\", \"language\": ...}");
    }
    return JsonNodeFactory.instance.objectNode().put("type", "snowball")
        .put("language", language(n.get("language"), SNOWBALL_LANGUAGES, where + ".language"));
  }

  private static Boolean bool(JsonNode o, String name, String where) {
    JsonNode v = o.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw new FilterException(where + "." + name + ": expected a boolean, got " + v);
    }
    return v.booleanValue();
  }

  private static Long uint(JsonNode o, String name, String where) {
    JsonNode v = o.get(name);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
      throw new FilterException(where + "." + name + ": expected a non-negative integer, got " + v);
    }
    return v.longValue();
  }
}
