package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.quiver.engine.SparseVector;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.util.StringHelper;

/**
 * Qdrant's local BM25 model ({@code "model": "qdrant/bm25"}): text to a sparse vector. Tokens come
 * from the word tokenizer with lowercase, stopwords and the Snowball stemmer of the language
 * (English by default; see {@link TextTokenizer} for how stopword lists are approximated); a token's
 * index is the absolute value of its 32-bit murmur3 hash (seed 0). A document's value per token is
 * BM25's term-frequency part, {@code tf (k + 1) / (tf + k (1 - b + b len / avg_len))}; a query's is 1
 * per distinct token, leaving idf to the collection's {@code idf} modifier.
 *
 * <p>A model keeps the {@code options} it was made from: two models are equal when their options
 * are, and a request that carries one can be written back as it was given.
 */
public final class Bm25 {
  private final JsonNode options;
  private final double k;
  private final double b;
  private final double avgLen;
  private final TextTokenizer tokenizer;

  private Bm25(JsonNode options, double k, double b, double avgLen, TextTokenizer tokenizer) {
    this.options = options;
    this.k = k;
    this.b = b;
    this.avgLen = avgLen;
    this.tokenizer = tokenizer;
  }

  /** Whether {@code model} names the BM25 model (case-insensitive, as Qdrant). */
  public static boolean isModel(String model) {
    String m = model.toLowerCase(Locale.ROOT);
    return m.equals("qdrant/bm25") || m.equals("bm25");
  }

  /** A model with Qdrant's defaults (k 1.2, b 0.75, avg_len 256, English) changed by {@code options}. */
  public static Bm25 of(JsonNode options) {
    JsonNode given = options == null || !options.isObject() ? null : options.deepCopy();
    JsonNode o = given == null ? JsonNodeFactory.instance.objectNode() : given;
    String language = o.path("language").asText("english");
    boolean lowercase = o.path("lowercase").asBoolean(true);
    var f = JsonNodeFactory.instance;
    JsonNode stopwords = o.has("stopwords") && !o.get("stopwords").isNull() ? o.get("stopwords") : f.textNode(language);
    JsonNode stemmer = o.has("stemmer") && !o.get("stemmer").isNull() ? o.get("stemmer")
        : f.objectNode().put("type", "snowball").put("language", language);
    Long min = o.path("min_token_len").isIntegralNumber() ? o.get("min_token_len").asLong() : null;
    Long max = o.path("max_token_len").isIntegralNumber() ? o.get("max_token_len").asLong() : null;
    var params = new FieldIndex.TextParams(FieldIndex.Tokenizer.WORD, min, max, lowercase, null, stopwords, stemmer);
    return new Bm25(given, o.path("k").asDouble(1.2), o.path("b").asDouble(0.75), o.path("avg_len").asDouble(256),
        TextTokenizer.of(params));
  }

  /** The options object this model was made from (a copy), or null when none was given (or not an object). */
  public JsonNode options() {
    return options == null ? null : options.deepCopy();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bm25 m && java.util.Objects.equals(options, m.options);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hashCode(options);
  }

  /** The vector stored for a document. */
  public SparseVector document(String text) {
    List<String> tokens = tokenizer.document(text);
    Map<String, Integer> counts = new LinkedHashMap<>();
    tokens.forEach(t -> counts.merge(t, 1, Integer::sum));
    Map<Integer, Float> values = new java.util.TreeMap<>();
    double len = tokens.size();
    counts.forEach((token, n) -> {
      double tf = n * (k + 1) / (n + k * (1 - b + b * len / avgLen));
      values.put(id(token), (float) tf);
    });
    return vector(values);
  }

  /** The vector searched for a query. */
  public SparseVector query(String text) {
    Set<Integer> ids = new LinkedHashSet<>();
    tokenizer.query(text).forEach(t -> ids.add(id(t)));
    Map<Integer, Float> values = new java.util.TreeMap<>();
    ids.forEach(i -> values.put(i, 1f));
    return vector(values);
  }

  private static SparseVector vector(Map<Integer, Float> values) {
    int[] indices = new int[values.size()];
    float[] weights = new float[values.size()];
    int i = 0;
    for (var e : values.entrySet()) {
      indices[i] = e.getKey();
      weights[i++] = e.getValue();
    }
    return SparseVector.of(indices, weights);
  }

  /** |murmur3_32(token)| as an unsigned 32-bit index (kept in an int, as every sparse index). */
  static int id(String token) {
    byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
    int h = StringHelper.murmurhash3_x86_32(bytes, 0, bytes.length, 0);
    return (int) Math.abs((long) h);
  }
}
