package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Fields;
import io.quiver.engine.PointId;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.Weight;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random payloads and random filters: the points Lucene finds with {@link FilterQueries} must be
 * exactly those {@link FilterMatcher} accepts, with and without payload indexes.
 */
@Timeout(120)
class FilterOracleTest {
  private static final ObjectMapper M = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int DOCS = 400;
  private static final int FILTERS = 2500;

  @TempDir
  Path dir;

  record Point(PointId id, ObjectNode payload, Set<String> vectors) {}

  /** One indexed collection and its points. */
  record Index(List<Point> points, PayloadSchema schema, IndexSearcher searcher, DirectoryReader reader) implements AutoCloseable {
    /** The points of the documents the query matches, scorer by scorer; checked against the searcher's count too. */
    Set<PointId> search(Filter f) throws IOException {
      Query q = FilterQueries.toQuery(f, schema);
      Weight w = searcher.createWeight(searcher.rewrite(q), ScoreMode.COMPLETE_NO_SCORES, 1f);
      Set<PointId> out = new TreeSet<>();
      for (LeafReaderContext ctx : reader.leaves()) {
        Scorer s = w.scorer(ctx);
        if (s == null) {
          continue;
        }
        NumericDocValues ids = ctx.reader().getNumericDocValues("test_point");
        DocIdSetIterator it = s.iterator();
        for (int doc = it.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = it.nextDoc()) {
          ids.advanceExact(doc);
          out.add(points.get((int) ids.longValue()).id());
        }
      }
      assertEquals(out.size(), searcher.count(q), () -> "count of " + q);
      return out;
    }

    Set<PointId> oracle(Filter f) {
      Set<PointId> out = new TreeSet<>();
      for (Point p : points) {
        if (FilterMatcher.matches(f, p.id(), p.payload(), p.vectors(), schema)) {
          out.add(p.id());
        }
      }
      return out;
    }

    @Override
    public void close() throws IOException {
      reader.close();
    }
  }

  static Index index(Directory d, List<Point> points, PayloadSchema schema) throws IOException {
    var config = new IndexWriterConfig().setMaxBufferedDocs(64).setMergePolicy(NoMergePolicy.INSTANCE); // several segments
    try (var w = new IndexWriter(d, config)) {
      for (int i = 0; i < points.size(); i++) {
        Point p = points.get(i);
        var doc = new Document();
        doc.add(new StringField(Fields.ID, p.id().term(), Field.Store.NO));
        doc.add(new NumericDocValuesField("test_point", i));
        doc.add(new StoredField(Fields.PAYLOAD, M.writeValueAsBytes(p.payload())));
        PayloadFields.addTo(doc, p.payload(), schema);
        p.vectors().forEach(v -> doc.add(new StringField(Fields.HAS_VECTOR, v, Field.Store.NO)));
        w.addDocument(doc);
      }
    }
    DirectoryReader reader = DirectoryReader.open(d);
    var searcher = new IndexSearcher(reader);
    searcher.setQueryCache(null); // every query is evaluated, none served from cache
    return new Index(points, schema, searcher, reader);
  }

  static final List<PayloadSchema> SCHEMAS = List.of(
      PayloadSchema.EMPTY,
      PayloadSchema.EMPTY
          .with("txt", PayloadSchema.parseIndexRequest("txt", PayloadSchemaTest.json("{'type': 'text', 'phrase_matching': true, 'stopwords': {'custom': ['the']}}")))
          .with("arr[].t", PayloadSchema.parseIndexRequest("arr[].t", PayloadSchemaTest.json("{'type': 'text'}")))
          .with("s", PayloadSchema.parseIndexRequest("s", PayloadSchemaTest.json("'keyword'")))
          .with("n", PayloadSchema.parseIndexRequest("n", PayloadSchemaTest.json("{'type': 'integer', 'lookup': true}"))),
      PayloadSchema.EMPTY
          .with("txt", PayloadSchema.parseIndexRequest("txt", PayloadSchemaTest.json("{'type': 'text', 'tokenizer': 'prefix', 'min_token_len': 2, 'max_token_len': 4, 'lowercase': false}")))
          .with("tags", PayloadSchema.parseIndexRequest("tags", PayloadSchemaTest.json("{'type': 'text', 'tokenizer': 'whitespace', 'phrase_matching': true}")))
          .with("arr[0].t", PayloadSchema.parseIndexRequest("arr[0].t", PayloadSchemaTest.json("{'type': 'text', 'phrase_matching': true}"))));

  @Test
  void luceneMatchesTheOracle() throws IOException {
    var gen = new Gen(new Random(20240501));
    List<Point> points = new ArrayList<>();
    for (int i = 0; i < DOCS; i++) {
      points.add(gen.point(i));
    }
    int schemaNo = 0;
    for (PayloadSchema schema : SCHEMAS) {
      try (Directory d = FSDirectory.open(dir.resolve("s" + schemaNo++)); Index index = index(d, points, schema)) {
        int none = 0;
        int all = 0;
        for (int i = 0; i < FILTERS; i++) {
          Filter f = gen.filter(0);
          Set<PointId> expected = index.oracle(f);
          assertEquals(expected, index.search(f), () -> "filter " + f);
          none += expected.isEmpty() ? 1 : 0;
          all += expected.size() == points.size() ? 1 : 0;
        }
        System.out.printf("schema %d: %d filters, %d match nothing, %d match all%n", schemaNo, FILTERS, none, all);
        assertTrue(FILTERS - none - all > FILTERS / 4, "too few filters select some but not all points");
      }
    }
  }

  @Test
  void edgeCasesAndEmptyIndex() throws IOException {
    var gen = new Gen(new Random(7));
    List<Point> points = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      points.add(gen.point(i));
    }
    List<String> filters = List.of(
        "{}",
        "{'must': []}",
        "{'should': []}",
        "{'must_not': []}",
        "{'min_should': {'conditions': [], 'min_count': 3}}",
        "{'min_should': {'conditions': [{'has_vector': ''}], 'min_count': 2}}",
        "{'must': {'has_id': []}}",
        "{'must_not': {'has_id': []}}",
        "{'must': {'key': 'n', 'match': {'any': []}}}",
        "{'must': {'key': 'n', 'match': {'except': []}}}",
        "{'must': {'key': 'n', 'range': {'gt': 3, 'lt': 2}}}",
        "{'must': {'key': 'n', 'values_count': {'lt': 0}}}",
        "{'must': {'key': 'loc', 'geo_radius': {'center': {'lon': 10, 'lat': 50}, 'radius': 0}}}",
        "{'must': {'key': 'loc', 'geo_radius': {'center': {'lon': 10, 'lat': 50}, 'radius': 30000000}}}",
        "{'must': {'key': 'txt', 'match': {'text_any': ''}}}",
        "{'must': {'key': 's', 'match': {'text': ''}}}",
        "{'must': {'nested': {'key': 'arr', 'filter': {'should': []}}}}",
        "{'must': {'nested': {'key': 'arr', 'filter': {}}}}",
        "{'must_not': {'nested': {'key': 'arr', 'filter': {'must_not': {'key': 'a', 'match': {'value': 1}}}}}}",
        "{'must': {'nested': {'key': 'arr', 'filter': {'min_should': {'conditions': [], 'min_count': 1}}}}}",
        "{'must': {'is_empty': {'key': 'arr[1].a'}}}",
        "{'must_not': {'key': 'missing', 'is_null': false}}",
        "{'must': {'key': '\\\"x y\\\"', 'match': {'value': 'Long'}}}",
        "{'must': {'key': 's', 'match': {'value': '" + "z".repeat(9000) + "'}}}",
        "{'must': {'key': 's', 'match': {'any': ['" + "z".repeat(9000) + "', 'red']}}}",
        "{'must': {'key': 's', 'match': {'except': ['" + "z".repeat(9000) + "', 'red']}}}",
        "{'must': {'key': 's', 'match': {'text': 'zzzz'}}}",
        "{'must': {'key': 'n', 'match': {'except': [" + Long.MIN_VALUE + ", -1, 0, 1, " + Long.MAX_VALUE + "]}}}");
    for (PayloadSchema schema : SCHEMAS) {
      for (List<Point> set : List.of(points, List.<Point>of())) {
        try (Directory d = FSDirectory.open(dir.resolve("e" + System.nanoTime())); Index index = index(d, set, schema)) {
          for (String json : filters) {
            Filter f = FilterParserTest.parse(json);
            assertEquals(index.oracle(f), index.search(f), () -> "filter " + json);
          }
          for (int i = 0; i < 200; i++) {
            Filter f = gen.filter(0);
            assertEquals(index.oracle(f), index.search(f), () -> "filter " + f);
          }
        }
      }
    }
  }

  /** Random payloads and filters over a shared vocabulary, so that filters hit. */
  static final class Gen {
    final Random r;

    Gen(Random r) {
      this.r = r;
    }

    static final String[] WORDS = {"red", "green", "blue", "Red", "", "hello", "quick", "the", "x y", "2020-01-01"};
    static final String[] SENTENCES = {"The quick brown fox", "jumps over the lazy dog", "Hello World", "hello-world again",
        "foo bar baz", "ünïcödé wörds here", "", "the the the", "quick quick fox", "Brown FOX jumps"};
    static final String[] DATES = {"2020-01-01", "2020-01-01T10:00:00Z", "2020-01-01 10:00", "2020-01-01T10:00:00+02:00",
        "2020-01-01T10:00:00.5", "2021-06-15T00:00:00", "2019-12-31t23:59:59z", "2020-13-01", "2020-01-02 00:00:00 -01:00"};
    static final String[] PATHS = {"n", "s", "b", "when", "loc", "txt", "tags", "tags[]", "obj", "obj.a", "obj.b", "obj.loc",
        "obj.sub.x", "arr", "arr[]", "arr[].a", "arr[].b", "arr[].b[]", "arr[].t", "arr[0].a", "arr[1].b", "arr[].loc",
        "arr[].sub[].x", "arr[0].t", "mixed", "mixed[]", "missing", "\"x y\"", "arr[].when", "obj.list[].a"};
    static final String[] NESTED = {"arr", "arr[]", "obj.list", "arr[].sub", "tags", "mixed"};
    static final String[] INNER = {"a", "b", "b[]", "t", "loc", "x", "sub[].x", "when", "list[].a", "missing"};
    // paths where each kind of condition tends to find values, at the top level and inside nested objects
    static final String[] GEO = {"loc", "obj.loc", "arr[].loc", "mixed", "arr[1].loc"};
    static final String[] GEO_IN = {"loc", "sub.loc", "list[].loc"};
    static final String[] DATES_AT = {"when", "arr[].when", "obj.when", "s", "arr[0].when"};
    static final String[] DATES_IN = {"when", "list[].when", "a"};
    static final String[] VALUES = {"n", "s", "b", "tags", "tags[]", "arr[].a", "arr[].b", "arr[].b[]", "obj.a", "obj.b", "mixed",
        "mixed[]", "arr[].x", "arr[1].a", "obj.sub.x", "arr[].sub[].x"};
    static final String[] VALUES_IN = {"a", "b", "b[]", "x", "sub.x", "sub[].x", "list[].a"};
    static final String[] TEXTS = {"txt", "arr[].t", "arr[0].t", "s", "obj.t", "tags"};
    static final String[] TEXTS_IN = {"t", "a", "sub.t"};

    final List<PointId> ids = new ArrayList<>();

    <T> T pick(T[] a) {
      return a[r.nextInt(a.length)];
    }

    boolean chance(double p) {
      return r.nextDouble() < p;
    }

    Point point(int i) {
      PointId id = i % 5 == 0 ? new PointId.Uuid(new UUID(r.nextLong(), r.nextLong())) : PointId.of(i * 3L + 1);
      ids.add(id);
      ObjectNode p = F.objectNode();
      maybe(p, "n", this::number);
      maybe(p, "s", () -> chance(0.5) ? F.textNode(pick(WORDS)) : array(this::word));
      maybe(p, "b", () -> chance(0.7) ? F.booleanNode(r.nextBoolean()) : array(() -> F.booleanNode(r.nextBoolean())));
      maybe(p, "when", () -> chance(0.7) ? F.textNode(pick(DATES)) : array(() -> F.textNode(pick(DATES))));
      maybe(p, "loc", () -> chance(0.7) ? geo() : array(this::geo));
      maybe(p, "txt", () -> chance(0.6) ? F.textNode(pick(SENTENCES)) : array(() -> F.textNode(pick(SENTENCES))));
      maybe(p, "tags", () -> array(() -> chance(0.15) ? array(this::scalar) : scalar()));
      maybe(p, "obj", () -> object(0));
      maybe(p, "arr", () -> array(() -> chance(0.8) ? object(0) : scalar()));
      maybe(p, "mixed", () -> any(0));
      if (chance(0.1)) {
        p.put("x y", chance(0.5) ? "Long" : "z".repeat(9000) + (chance(0.5) ? "red" : ""));
      }
      if (chance(0.05)) {
        p.put("s", "z".repeat(9000));
      }
      Set<String> vectors = new HashSet<>();
      if (chance(0.7)) {
        vectors.add("");
      }
      if (chance(0.4)) {
        vectors.add("img");
      }
      return new Point(id, p, vectors);
    }

    void maybe(ObjectNode o, String key, Supplier<JsonNode> value) {
      if (chance(0.65)) {
        o.set(key, chance(0.08) ? F.nullNode() : value.get());
      }
    }

    JsonNode number() {
      return switch (r.nextInt(9)) {
        case 0 -> F.numberNode(r.nextInt(7) - 3 + 0.5);
        case 1 -> F.numberNode(chance(0.5) ? -0.0 : 2.0);
        case 2 -> F.numberNode(chance(0.5) ? Long.MAX_VALUE : Long.MIN_VALUE);
        case 3 -> F.numberNode(new BigInteger("18446744073709551615"));
        case 4 -> array(() -> F.numberNode(r.nextInt(7) - 3));
        default -> F.numberNode(r.nextInt(7) - 3);
      };
    }

    JsonNode word() {
      return chance(0.1) ? F.nullNode() : F.textNode(pick(WORDS));
    }

    JsonNode geo() {
      ObjectNode g = F.objectNode();
      if (chance(0.1)) {
        return g.put("lat", 100.0).put("lon", 10.0); // out of range: Qdrant still evaluates it
      }
      if (chance(0.15)) {
        return g.put("lat", 50 + r.nextGaussian()).put("lon", chance(0.5) ? 179.95 : -179.95);
      }
      if (chance(0.05)) {
        return g.put("lat", "50").put("lon", 10);
      }
      return g.put("lat", 50 + r.nextGaussian() * 2).put("lon", 10 + r.nextGaussian() * 2);
    }

    JsonNode scalar() {
      return switch (r.nextInt(6)) {
        case 0 -> F.nullNode();
        case 1 -> F.booleanNode(r.nextBoolean());
        case 2, 3 -> F.textNode(pick(WORDS));
        default -> number();
      };
    }

    ArrayNode array(Supplier<JsonNode> element) {
      ArrayNode a = F.arrayNode();
      int n = r.nextInt(4);
      for (int i = 0; i < n; i++) {
        a.add(element.get());
      }
      return a;
    }

    ObjectNode object(int depth) {
      ObjectNode o = F.objectNode();
      maybe(o, "a", () -> chance(0.3) ? array(this::scalar) : scalar());
      maybe(o, "b", () -> chance(0.5) ? array(this::scalar) : scalar());
      maybe(o, "t", () -> chance(0.7) ? F.textNode(pick(SENTENCES)) : array(() -> F.textNode(pick(SENTENCES))));
      maybe(o, "loc", this::geo);
      maybe(o, "when", () -> F.textNode(pick(DATES)));
      maybe(o, "x", this::scalar);
      if (depth < 2) {
        maybe(o, "sub", () -> chance(0.5) ? object(depth + 1) : array(() -> object(depth + 1)));
        maybe(o, "list", () -> array(() -> object(depth + 1)));
      }
      return o;
    }

    JsonNode any(int depth) {
      if (depth >= 2 || chance(0.5)) {
        return scalar();
      }
      return chance(0.5) ? array(() -> any(depth + 1)) : object(depth + 1);
    }

    // ---- filters ----

    Filter filter(int depth) {
      List<Condition> must = chance(0.6) ? conditions(depth) : null;
      List<Condition> should = chance(0.35) ? conditions(depth) : null;
      List<Condition> mustNot = chance(0.35) ? conditions(depth) : null;
      Filter.MinShould minShould = null;
      if (chance(0.15)) {
        List<Condition> cs = conditions(depth);
        minShould = new Filter.MinShould(cs, r.nextInt(cs.size() + 2));
      }
      return new Filter(must, should, mustNot, minShould);
    }

    List<Condition> conditions(int depth) {
      List<Condition> out = new ArrayList<>();
      double x = r.nextDouble();
      int n = x < 0.1 ? 0 : x < 0.6 ? 1 : x < 0.9 ? 2 : 3;
      for (int i = 0; i < n; i++) {
        out.add(condition(depth));
      }
      return out;
    }

    Condition condition(int depth) {
      int k = r.nextInt(depth < 2 ? 14 : 11);
      return switch (k) {
        case 0 -> new Condition.IsEmpty(path(pick(PATHS)));
        case 1 -> new Condition.IsNull(path(pick(PATHS)));
        case 2 -> {
          List<PointId> some = new ArrayList<>();
          for (int i = r.nextInt(4); i > 0; i--) {
            some.add(chance(0.3) || ids.isEmpty() ? PointId.of(r.nextInt(DOCS * 3)) : ids.get(r.nextInt(ids.size())));
          }
          yield new Condition.HasId(some);
        }
        case 3 -> new Condition.HasVector(chance(0.5) ? "" : chance(0.5) ? "img" : "none");
        case 11, 12 -> new Condition.Nested(path(pick(NESTED)), nestedFilter(depth + 1));
        case 13 -> filter(depth + 1);
        default -> field(false);
      };
    }

    /** Inside nested: keys relative to the element. */
    Filter nestedFilter(int depth) {
      Filter f = filter(depth);
      return new Filter(relative(f.must(), depth), relative(f.should(), depth), relative(f.mustNot(), depth),
          f.minShould() == null ? null : new Filter.MinShould(relative(f.minShould().conditions(), depth), f.minShould().minCount()));
    }

    List<Condition> relative(List<Condition> cs, int depth) {
      if (cs == null) {
        return null;
      }
      return cs.stream().map(c -> switch (c) {
        case Condition.Field f -> field(true);
        case Condition.IsEmpty e -> new Condition.IsEmpty(path(pick(INNER)));
        case Condition.IsNull e -> new Condition.IsNull(path(pick(INNER)));
        case Condition.Nested n -> new Condition.Nested(path(chance(0.5) ? "sub" : "list"), nestedFilter(depth + 1));
        default -> c;
      }).toList();
    }

    static JsonPath path(String p) {
      return JsonPath.parse(p);
    }

    /** A field condition on a path where its kind of values tends to be (mostly), relative to a nested object or not. */
    Condition.Field field(boolean nested) {
      Match match = null;
      Condition.Range range = null;
      Geo.BoundingBox box = null;
      Geo.Radius radius = null;
      Geo.Polygon polygon = null;
      Condition.ValuesCount count = null;
      Boolean isEmpty = null;
      Boolean isNull = null;
      String[] paths = nested ? INNER : PATHS;
      int parts = chance(0.15) ? 2 : 1;
      for (int i = 0; i < parts; i++) {
        switch (r.nextInt(12)) {
          case 0, 1, 2 -> {
            match = match();
            paths = match instanceof Match.Text || match instanceof Match.TextAny || match instanceof Match.Phrase
                ? (nested ? TEXTS_IN : TEXTS) : (nested ? VALUES_IN : VALUES);
          }
          case 3 -> {
            boolean numbers = chance(0.6);
            range = numbers ? numberRange() : datetimeRange();
            paths = numbers ? (nested ? VALUES_IN : VALUES) : (nested ? DATES_IN : DATES_AT);
          }
          case 4, 5 -> {
            box = box();
            paths = nested ? GEO_IN : GEO;
          }
          case 6 -> {
            radius = new Geo.Radius(new Geo.Point(10 + r.nextGaussian() * 2, 50 + r.nextGaussian() * 2), r.nextInt(400_000));
            paths = nested ? GEO_IN : GEO;
          }
          case 7 -> {
            polygon = polygon();
            paths = nested ? GEO_IN : GEO;
          }
          case 8 -> count = new Condition.ValuesCount(bound(5), bound(3), bound(3), bound(5));
          case 9 -> isEmpty = r.nextBoolean();
          case 10 -> isNull = r.nextBoolean();
          default -> match = match();
        }
      }
      if (chance(0.2)) {
        paths = nested ? INNER : PATHS;
      }
      return new Condition.Field(path(pick(paths)), match, range, box, radius, polygon, count, isEmpty, isNull);
    }

    Long bound(int max) {
      return chance(0.5) ? null : (long) r.nextInt(max + 1);
    }

    Match match() {
      return switch (r.nextInt(11)) {
        case 0 -> new Match.Value(pick(WORDS));
        case 1 -> new Match.Value((long) r.nextInt(7) - 3);
        case 2 -> new Match.Value(r.nextBoolean());
        case 3 -> new Match.Any(chance(0.5) ? keywords() : integers());
        case 4, 5 -> new Match.Except(chance(0.5) ? keywords() : integers());
        case 6 -> new Match.Text(textQuery());
        case 7 -> new Match.TextAny(textQuery() + (chance(0.5) ? " " + textQuery() : ""));
        case 8 -> new Match.Phrase(textQuery());
        default -> new Match.Value(chance(0.5) ? Long.MAX_VALUE : 2L);
      };
    }

    String textQuery() {
      String[] q = {"quick", "o", "hello world", "Hello", "", "fox dog", "brown fox", "the", "quick brown", "wörds", "FOX",
          "jump", "he", "ll", "lazy dog", "World Hello", "the quick", "re", "2020"};
      return pick(q);
    }

    Match.Values keywords() {
      List<String> l = new ArrayList<>();
      for (int i = r.nextInt(4); i > 0; i--) {
        l.add(pick(WORDS));
      }
      return new Match.Keywords(l.stream().distinct().toList());
    }

    Match.Values integers() {
      List<Long> l = new ArrayList<>();
      for (int i = r.nextInt(4); i > 0; i--) {
        l.add((long) r.nextInt(7) - 3);
      }
      if (chance(0.2)) {
        l.add(Long.MAX_VALUE);
      }
      return new Match.Integers(l.stream().distinct().toList());
    }

    Condition.Range numberRange() {
      Double[] b = new Double[4];
      for (int i = 0; i < 4; i++) {
        b[i] = chance(0.6) ? null : (r.nextInt(9) - 4) / 2.0;
      }
      if (chance(0.1)) {
        b[2] = -0.0;
      }
      return new Condition.NumberRange(b[0], b[1], b[2], b[3]);
    }

    Condition.Range datetimeRange() {
      Long[] b = new Long[4];
      for (int i = 0; i < 4; i++) {
        b[i] = chance(0.6) ? null : Datetimes.parseMicros(pick(DATES));
      }
      return new Condition.DatetimeRange(b[0], b[1], b[2], b[3]);
    }

    Geo.BoundingBox box() {
      if (chance(0.2)) { // across the antimeridian
        return new Geo.BoundingBox(new Geo.Point(179.9, 55), new Geo.Point(-179.9 + r.nextDouble() * 0.1, 45));
      }
      double lat = 50 + r.nextGaussian() * 2;
      double lon = 10 + r.nextGaussian() * 2;
      return new Geo.BoundingBox(new Geo.Point(lon - r.nextDouble() * 3, lat + r.nextDouble() * 3),
          new Geo.Point(lon + r.nextDouble() * 3, lat - r.nextDouble() * 3));
    }

    Geo.Polygon polygon() {
      double lat = 50 + r.nextGaussian();
      double lon = 10 + r.nextGaussian();
      double s = 1 + r.nextDouble() * 3;
      List<Geo.Point> ext = List.of(new Geo.Point(lon - s, lat - s), new Geo.Point(lon + s, lat - s * 0.5),
          new Geo.Point(lon + s * 0.8, lat + s), new Geo.Point(lon - s * 0.3, lat + s * 0.6), new Geo.Point(lon - s, lat - s));
      List<List<Geo.Point>> holes = chance(0.5) ? List.of() : List.of(List.of(new Geo.Point(lon - 0.5, lat - 0.5),
          new Geo.Point(lon + 0.5, lat - 0.5), new Geo.Point(lon, lat + 0.5), new Geo.Point(lon - 0.5, lat - 0.5)));
      return new Geo.Polygon(ext, holes);
    }
  }
}
