package io.quiver.request;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.json.JsonErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The wire form of typed requests: Qdrant's own JSON in one canonical spelling, read back by the
 * parsers the edges use (one grammar, one set of error messages). Nodes send requests and their
 * parts to each other in this form.
 *
 * <p>A whole {@link Request} is an envelope, the message the public JSON event bus takes:
 * <pre>{"op": "upsert_points", "collection": "c", "params": {"wait": "true"}, "body": {...}}</pre>
 * {@code op} is the {@link StorageOp} (lower case) whose parser reads it; {@code params} are what the
 * REST route carries outside the body (path ids, query parameters), as strings; absent parts are left
 * out. Legacy searches travel as the legacy operation that made them (their answer's shape differs),
 * with the universal query's parts written as that body says them.
 *
 * <p>The canonical spelling: fields in a fixed order, optional fields and defaults left out, one form
 * where Qdrant accepts several (lists as lists, a vector query as the vector, {@code with_vector},
 * hyphenated lower-case UUIDs, sparse vectors by index, sets and maps of the model sorted, datetimes
 * as RFC 3339 UTC). Numbers are written so that the parser reads back the very value: f32 values as
 * their shortest decimal, f64 values as theirs, ids as unsigned 64-bit integers; NaN and infinities
 * are never in a parsed request. Payloads are written as they are. So {@code read(write(x))} equals
 * {@code x} for every request the parsers produce, and writing is deterministic (the same bytes for
 * equal values, in any process). Exception: a formula's decay keeps only lambda, which the JSON
 * says as a midpoint and a scale; the pair written gives back lambda exactly for decays of scale 1
 * (see {@link CanonicalWriter}).
 *
 * <p>Each {@link Form} writes one kind of value and reads it with the edge's parser: failures are
 * the edge's 4xx {@link ApiException}s. Writing a value no request can hold (a legacy search of
 * several stages, ...) throws {@link IllegalArgumentException}. Thread-safe.
 */
public final class RequestJson {
  /**
   * Reads wire messages: the edge's limits, but for nesting, which the envelope and the step and
   * batch wrappers deepen by a few levels over what the edge accepted.
   */
  private static final ObjectMapper READER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(Json.MAX_NESTING + 8)
              .maxStringLength(Json.MAX_STRING_LENGTH)
              .maxNumberLength(Json.MAX_NUMBER_LENGTH)
              .maxNameLength(Json.MAX_NAME_LENGTH)
              .build())
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .build())
      .build();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** A whole request, as the envelope {@code {"op", "collection", "params", "body"}}. */
  public static final Form<Request> REQUEST = new Form<>(CanonicalWriter::request, RequestJson::envelope);

  /** One point operation as a step of a batch: {@code {"upsert": {...}}}. */
  public static final Form<PointOperation> OPERATION = new Form<>(CanonicalWriter::step, RequestJson::step);

  /** Point operations as a batch body: {@code {"operations": [...]}}. */
  public static final Form<List<PointOperation>> OPERATIONS = new Form<>(CanonicalWriter::operations, PointParser::batch);

  /** A universal query's body. */
  public static final Form<QueryRequest> QUERY_REQUEST = new Form<>(CanonicalWriter::queryRequest, QueryParser::query);

  /** Universal queries as a batch body: {@code {"searches": [...]}}. */
  public static final Form<List<QueryRequest>> QUERY_BATCH = new Form<>(CanonicalWriter::queryBatch, QueryParser::batch);

  /** A stage with its prefetch tree, as a prefetch object (read as the root of a query). */
  public static final Form<Stage> STAGE = new Form<>(CanonicalWriter::stage, n -> QueryParser.query(n).root());

  /** A query ({@code QueryInterface}): a vector, or one of Qdrant's query objects. */
  public static final Form<Query> QUERY = new Form<>(CanonicalWriter::query, n -> QueryParser.query(F.objectNode().set("query", n)).root().query());

  public static final Form<Filter> FILTER = new Form<>(CanonicalWriter::filter, n -> PointParser.filter(n, "filter"));

  public static final Form<PointId> POINT_ID = new Form<>(CanonicalWriter::id, n -> PointParser.id(n, "id"));

  /** {@code with_payload}, always explicit: {@code true}, {@code false}, keys, {@code {"exclude": [...]}}. */
  public static final Form<WithPayload> WITH_PAYLOAD = new Form<>(CanonicalWriter::withPayload, n -> PointParser.withPayload(n, false));

  /** {@code with_vector}, always explicit: {@code true}, {@code false} or names. */
  public static final Form<WithVector> WITH_VECTOR = new Form<>(CanonicalWriter::withVector,
      n -> PointParser.withVector(F.objectNode().set("with_vector", n)));

  public static final Form<ShardKeySelector> SHARD_KEY = new Form<>(CanonicalWriter::shardKey,
      n -> PointParser.shardKey(F.objectNode().set("shard_key", n)));

  /** Search {@code params}: {@code {"hnsw_ef", "exact", "quantization": {"oversampling"}}}. */
  public static final Form<SearchParams> SEARCH_PARAMS = new Form<>(CanonicalWriter::searchParams,
      n -> QueryParser.query(F.objectNode().set("params", n)).root().params());

  /** A read's query parameters as strings: {@code {"timeout": "5", "consistency": "majority"}}. */
  public static final Form<ReadParams> READ_PARAMS = new Form<>((g, r) -> params(g, CanonicalWriter.readParams(new HashMap<>(), r)),
      n -> new Params(strings(n, "params")).read());

  /** A write's query parameters as strings: {@code {"wait": "true", "ordering": "strong"}}. */
  public static final Form<WriteParams> WRITE_PARAMS = new Form<>((g, w) -> params(g, CanonicalWriter.writeParams(new HashMap<>(), w)),
      n -> new Params(strings(n, "params")).write());

  public static final Form<OrderBy> ORDER_BY = new Form<>(CanonicalWriter::orderBy, QueryParser::orderBy);

  /** A formula expression. */
  public static final Form<Expression> EXPRESSION = new Form<>(CanonicalWriter::expression,
      n -> QueryParser.formula(F.objectNode().set("formula", n), "query").expression());

  private RequestJson() {}

  /** {@code r} as its envelope. */
  public static byte[] write(Request r) {
    return REQUEST.write(r);
  }

  /** The request of an envelope; a 4xx {@link ApiException} as the edge answers for what does not parse. */
  public static Request read(byte[] envelope) {
    return REQUEST.read(envelope);
  }

  /**
   * One kind of value with its canonical writer and its reader.
   *
   * @param <T> the model type
   */
  public static final class Form<T> {
    private final Writer<T> writer;
    private final Function<JsonNode, T> reader;

    private Form(Writer<T> writer, Function<JsonNode, T> reader) {
      this.writer = writer;
      this.reader = reader;
    }

    /** The canonical JSON of {@code value}, UTF-8. */
    public byte[] write(T value) {
      try (ByteArrayBuilder out = new ByteArrayBuilder(1024);
          JsonGenerator g = Json.MAPPER.createGenerator(out)) {
        writer.write(g, value);
        g.flush();
        return out.toByteArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // nothing here does I/O
      }
    }

    public String writeString(T value) {
      return new String(write(value), StandardCharsets.UTF_8);
    }

    /** Writes {@code value} as the next value of {@code g} (inside a larger message). */
    public void write(T value, JsonGenerator g) throws IOException {
      writer.write(g, value);
    }

    /** The value of canonical (or any other valid) JSON. */
    public T read(byte[] json) {
      return reader.apply(tree(json));
    }

    public T read(String json) {
      return read(json.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of a JSON tree already parsed (the tree is not changed). */
    public T read(JsonNode json) {
      return reader.apply(json);
    }
  }

  @FunctionalInterface
  interface Writer<T> {
    void write(JsonGenerator g, T value) throws IOException;
  }

  // ---- readers ----

  private static JsonNode tree(byte[] json) {
    try {
      return READER.readTree(json);
    } catch (IOException e) {
      throw JsonErrors.toApiException(e);
    }
  }

  /** {@code {"op", "collection", "params", "body"}}, parsed by the operation's parser. */
  private static Request envelope(JsonNode n) {
    if (!(n instanceof ObjectNode o)) {
      throw ApiException.formatError("expected a JSON object {\"op\", \"collection\", \"params\", \"body\"}");
    }
    JsonNode name = o.get("op");
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("missing field `op`");
    }
    StorageOp op;
    try {
      op = StorageOp.valueOf(name.textValue().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("unknown op `" + name.textValue() + "`, expected one of "
          + Arrays.toString(StorageOp.values()).toLowerCase(Locale.ROOT));
    }
    String collection = JsonFields.text(o, "collection", "collection");
    JsonNode params = JsonFields.field(o, "params");
    return op.parse(collection, JsonFields.field(o, "body"), params == null ? Map.of() : strings(params, "params"));
  }

  /** {@code {"<kind>": body}}: exactly one operation. */
  private static PointOperation step(JsonNode n) {
    ObjectNode o = JsonFields.object(n, "operation");
    if (o.size() != 1) {
      throw ApiException.formatError("operation: expected exactly one operation");
    }
    var e = o.properties().iterator().next();
    return PointParser.operation(e.getKey(), e.getValue());
  }

  private static Map<String, String> strings(JsonNode n, String path) {
    ObjectNode o = JsonFields.object(n, path);
    Map<String, String> out = new HashMap<>();
    o.properties().forEach(e -> {
      if (!e.getValue().isValueNode() || e.getValue().isNull()) {
        throw ApiException.formatError(path + "." + e.getKey() + ": expected a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    });
    return out;
  }

  private static void params(JsonGenerator g, Map<String, String> params) throws IOException {
    g.writeStartObject();
    for (String name : params.keySet().stream().sorted().toList()) {
      g.writeStringField(name, params.get(name));
    }
    g.writeEndObject();
  }
}
