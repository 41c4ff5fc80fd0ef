package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.IntPoint;
import org.apache.lucene.document.LatLonPoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.SortedNumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.NumericUtils;

/**
 * The Lucene fields that let {@link FilterQueries} answer every filter condition from the index.
 * Every payload value is indexed, indexed or not by a payload index.
 *
 * <h2>Paths</h2>
 * Each JSON node of the payload has a canonical path: its keys as Qdrant renders them, with
 * {@code []} for array elements ({@code a[].b}). Qdrant evaluates a condition on key {@code P} over
 * the nodes at {@code P} (node level: is_empty, is_null, values_count) and over the <em>items</em>
 * of {@code P}: each non-array node at {@code P} plus each element of an array at {@code P} (one
 * level of flattening; match, range, geo, except). So a node at {@code C} is an item of {@code C}
 * unless it is an array, and, when it is an array element ({@code C = X[]}), also an item of
 * {@code X}.
 *
 * <h2>Fields</h2> Names are a prefix plus a canonical path ({@code $k:a[].b}):
 * <ul>
 *   <li>{@code $t:} node kinds, terms: {@code null bool int float str obj arr empty} (empty array),
 *       plus {@code nonull} for an array without null elements
 *   <li>{@code $c:} node value counts, {@link IntPoint}: 0 for null, array length, else 1
 *   <li>{@code $y:} item kinds, terms: {@code null bool int float str obj arr}; {@code int} is a
 *       number that fits a signed 64-bit integer, {@code float} any other number
 *   <li>{@code $k:} string items, terms (strings above {@link #MAX_TERM_BYTES} bytes are not terms:
 *       they are marked in {@code $x:} instead)
 *   <li>{@code $i:} integer items, {@link LongPoint}
 *   <li>{@code $f:} number items (integers too), {@link DoublePoint}; -0.0 as 0.0
 *   <li>{@code $b:} bool items, terms {@code true false}
 *   <li>{@code $d:} string items that parse as Qdrant datetimes, {@link LongPoint} of epoch microseconds
 *   <li>{@code $g:} geo items (objects with numeric {@code lat} and {@code lon}), {@link LatLonPoint}
 *   <li>{@code $x:} items the fields above cannot represent exactly, terms: {@code str} (a string
 *       too long for a term), {@code geo} (lat/lon out of range); {@code tok} (a text token too
 *       long for a term, under the text index's path); queries verify such documents against the payload
 *   <li>{@code $o:} order values of the key of a range-capable payload index (integer, float,
 *       datetime): sorted numeric doc values, one per distinct item; floats as
 *       {@link NumericUtils#doubleToSortableLong sortable longs}. {@code order_by} reads them.
 *   <li>{@code $w:} text index tokens of the key of a {@code text} payload index (the index's path,
 *       which may contain {@code [n]}), with positions; the tokens of all the key's strings form
 *       one sequence, as Qdrant's index concatenates them
 * </ul>
 */
public final class PayloadFields {
  private PayloadFields() {}

  static final String NODE_KIND = "$t:";
  static final String COUNT = "$c:";
  static final String ITEM_KIND = "$y:";
  static final String KEYWORD = "$k:";
  static final String INTEGER = "$i:";
  static final String NUMBER = "$f:";
  static final String BOOL = "$b:";
  static final String DATETIME = "$d:";
  static final String GEO = "$g:";
  static final String INEXACT = "$x:";
  static final String TEXT = "$w:";
  static final String ORDER = "$o:";

  static final String NULL = "null";
  static final String BOOLEAN = "bool";
  static final String INT = "int";
  static final String FLOAT = "float";
  static final String STR = "str";
  static final String OBJ = "obj";
  static final String ARR = "arr";
  static final String EMPTY = "empty";
  static final String NO_NULLS = "nonull";
  static final String LONG_STRING = "str";
  static final String BAD_GEO = "geo";
  static final String LONG_TOKEN = "tok";

  /** Longest string (UTF-8 bytes) indexed as a term; Lucene rejects terms above 32766 bytes. */
  static final int MAX_TERM_BYTES = 8192;

  private static final FieldType TEXT_TYPE = new FieldType();

  static {
    TEXT_TYPE.setTokenized(true);
    TEXT_TYPE.setOmitNorms(true);
    TEXT_TYPE.setIndexOptions(IndexOptions.DOCS_AND_FREQS_AND_POSITIONS);
    TEXT_TYPE.freeze();
  }

  /** Adds the filter fields of {@code payload} to {@code doc}. */
  public static void addTo(Document doc, ObjectNode payload, PayloadSchema schema) {
    var sink = new Sink();
    if (payload != null) {
      payload.properties().forEach(e -> walk(sink, JsonPath.renderKey(e.getKey()), e.getValue(), false));
    }
    (schema == null ? PayloadSchema.EMPTY : schema).fields().forEach((key, index) -> {
      if (index.type() == PayloadType.TEXT && payload != null) {
        addText(sink, key, textValues(JsonPath.parse(key), payload), TextTokenizer.of(index));
      }
      String source = switch (index.type()) {
        case INTEGER -> INTEGER;
        case FLOAT -> NUMBER;
        case DATETIME -> DATETIME;
        default -> null;
      };
      if (source != null) {
        for (Object v : sink.seen.getOrDefault(source + key, Set.of())) {
          long encoded = v instanceof Double d ? NumericUtils.doubleToSortableLong(d) : (Long) v;
          sink.fields.add(new SortedNumericDocValuesField(ORDER + key, encoded));
        }
      }
    });
    sink.flush(doc::add);
  }

  private static void walk(Sink sink, String path, JsonNode node, boolean element) {
    sink.term(NODE_KIND + path, node.isArray() && node.isEmpty() ? EMPTY : kind(node));
    if (node.isArray() && !hasNull(node)) {
      sink.term(NODE_KIND + path, NO_NULLS);
    }
    sink.count(COUNT + path, node.isNull() ? 0 : node.isArray() ? node.size() : 1);
    if (!node.isArray()) {
      item(sink, path, node);
    }
    if (element) {
      item(sink, path.substring(0, path.length() - 2), node);
    }
    if (node.isObject()) {
      node.properties().forEach(e -> walk(sink, path + "." + JsonPath.renderKey(e.getKey()), e.getValue(), false));
    } else if (node.isArray()) {
      for (JsonNode e : node) {
        walk(sink, path + "[]", e, true);
      }
    }
  }

  private static void item(Sink sink, String path, JsonNode node) {
    sink.term(ITEM_KIND + path, kind(node));
    if (node.isTextual()) {
      var bytes = new BytesRef(node.textValue());
      if (bytes.length <= MAX_TERM_BYTES) {
        sink.term(KEYWORD + path, bytes);
      } else {
        sink.term(INEXACT + path, LONG_STRING);
      }
      Long micros = Datetimes.parseMicros(node.textValue());
      if (micros != null) {
        sink.longPoint(DATETIME + path, micros);
      }
    } else if (node.isNumber()) {
      sink.doublePoint(NUMBER + path, number(node));
      if (isLong(node)) {
        sink.longPoint(INTEGER + path, node.longValue());
      }
    } else if (node.isBoolean()) {
      sink.term(BOOL + path, Boolean.toString(node.booleanValue()));
    } else if (node.isObject()) {
      double[] latLon = geo(node);
      if (latLon != null) {
        if (latLon[0] >= -90 && latLon[0] <= 90 && latLon[1] >= -180 && latLon[1] <= 180) {
          sink.geo(GEO + path, latLon[0], latLon[1]);
        } else {
          sink.term(INEXACT + path, BAD_GEO);
        }
      }
    }
  }

  /** The kind term of a node or item. */
  static String kind(JsonNode n) {
    return switch (n.getNodeType()) {
      case NULL -> NULL;
      case BOOLEAN -> BOOLEAN;
      case NUMBER -> isLong(n) ? INT : FLOAT;
      case STRING -> STR;
      case OBJECT -> OBJ;
      case ARRAY -> ARR;
      default -> OBJ; // binary/POJO/missing never occur in parsed JSON
    };
  }

  /** serde_json's {@code as_i64}: an integer that fits a signed 64-bit value. */
  static boolean isLong(JsonNode n) {
    return n.isIntegralNumber() && n.canConvertToLong();
  }

  /** serde_json's {@code as_f64}, with -0.0 folded into 0.0 (they compare equal in Qdrant, not in point order). */
  static double number(JsonNode n) {
    double d = n.doubleValue();
    return d == 0 ? 0.0 : d;
  }

  /** {lat, lon} of an object with numeric lat and lon (any other keys allowed), else null. */
  static double[] geo(JsonNode n) {
    JsonNode lat = n.get("lat");
    JsonNode lon = n.get("lon");
    return lat != null && lon != null && lat.isNumber() && lon.isNumber() ? new double[] {lat.doubleValue(), lon.doubleValue()} : null;
  }

  static boolean hasNull(JsonNode array) {
    for (JsonNode e : array) {
      if (e.isNull()) {
        return true;
      }
    }
    return false;
  }

  /** The strings a text index takes from the values at its key: strings, and strings inside arrays. */
  static List<String> textValues(JsonPath key, JsonNode payload) {
    List<String> out = new ArrayList<>();
    key.values(payload).forEach(v -> out.addAll(strings(v)));
    return out;
  }

  /** The strings of one value: itself if a string, its string elements if an array. */
  static List<String> strings(JsonNode v) {
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.textValue());
    } else if (v.isArray()) {
      v.forEach(e -> {
        if (e.isTextual()) {
          out.add(e.textValue());
        }
      });
    }
    return out;
  }

  private static void addText(Sink sink, String key, List<String> values, TextTokenizer tokenizer) {
    List<String> tokens = new ArrayList<>();
    List<Integer> increments = new ArrayList<>();
    int gap = 1;
    for (String v : values) {
      for (String t : tokenizer.document(v)) {
        if (new BytesRef(t).length > MAX_TERM_BYTES) {
          gap++; // keep its position so that no phrase spans it
          sink.term(INEXACT + key, LONG_TOKEN);
        } else {
          tokens.add(t);
          increments.add(gap);
          gap = 1;
        }
      }
    }
    if (!tokens.isEmpty()) {
      sink.fields.add(new Field(TEXT + key, new TokenList(tokens, increments), TEXT_TYPE));
    }
  }

  /** Collects fields without duplicates (many array elements share kinds and values). */
  private static final class Sink {
    final Map<String, Set<Object>> seen = new LinkedHashMap<>();
    final List<Field> fields = new ArrayList<>();

    private boolean first(String field, Object value) {
      return seen.computeIfAbsent(field, f -> new LinkedHashSet<>()).add(value);
    }

    void term(String field, String value) {
      term(field, new BytesRef(value));
    }

    void term(String field, BytesRef value) {
      if (first(field, value)) {
        fields.add(new StringField(field, value, Field.Store.NO));
      }
    }

    void count(String field, int n) {
      if (first(field, n)) {
        fields.add(new IntPoint(field, n));
      }
    }

    void longPoint(String field, long v) {
      if (first(field, v)) {
        fields.add(new LongPoint(field, v));
      }
    }

    void doublePoint(String field, double v) {
      if (first(field, v)) {
        fields.add(new DoublePoint(field, v));
      }
    }

    void geo(String field, double lat, double lon) {
      if (first(field, List.of(lat, lon))) {
        fields.add(new LatLonPoint(field, lat, lon));
      }
    }

    void flush(Consumer<Field> out) {
      fields.forEach(out);
    }
  }

  /** A pre-analyzed token sequence. */
  private static final class TokenList extends TokenStream {
    private final List<String> tokens;
    private final List<Integer> increments;
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
    private final PositionIncrementAttribute position = addAttribute(PositionIncrementAttribute.class);
    private int next;

    TokenList(List<String> tokens, List<Integer> increments) {
      this.tokens = tokens;
      this.increments = increments;
    }

    @Override
    public boolean incrementToken() {
      if (next >= tokens.size()) {
        return false;
      }
      clearAttributes();
      term.setEmpty().append(tokens.get(next));
      position.setPositionIncrement(increments.get(next));
      next++;
      return true;
    }

    @Override
    public void reset() throws java.io.IOException {
      super.reset();
      next = 0;
    }
  }
}
