package io.quiver.request;

import static io.quiver.request.JsonFields.field;
import static io.quiver.request.JsonFields.object;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.error.ApiException;

/** Parses the point reads that are not searches: retrieve, scroll, count, facet, distance matrix. */
public final class ReadParser {
  private ReadParser() {}

  /** A body that may be absent (scroll and count take none). */
  private static ObjectNode optionalBody(JsonNode raw) {
    return raw == null || raw.isNull() ? JsonNodeFactory.instance.objectNode() : object(raw, "body");
  }

  public static PointRead.Retrieve retrieve(String collection, JsonNode raw, Params params) {
    ObjectNode body = object(raw, "body");
    return new PointRead.Retrieve(collection, PointParser.ids(body.get("ids"), "ids"), PointParser.withPayload(body.get("with_payload"), true),
        PointParser.withVector(body), PointParser.shardKey(body), params.read());
  }

  public static PointRead.GetOne getOne(String collection, Params params) {
    String raw = params.get("id");
    return new PointRead.GetOne(collection, PointParser.pathId(raw), raw);
  }

  public static PointRead.Scroll scroll(String collection, JsonNode raw, Params params) {
    ObjectNode body = optionalBody(raw);
    var v = Validation.body();
    Long limit = v.range(body.get("limit"), "limit", 1, Integer.MAX_VALUE - 1);
    v.throwIfAny();
    JsonNode offsetNode = field(body, "offset");
    PointId offset = offsetNode == null ? null : PointParser.id(offsetNode, "offset");
    OrderBy order = field(body, "order_by") == null ? null : QueryParser.orderBy(body.get("order_by"));
    if (order != null && offset != null) {
      throw ApiException.badRequest("Cannot use an `offset` when using `order_by`. The alternative for paging is to use "
          + "`order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value");
    }
    Filter filter = PointParser.optionalFilter(body, "filter");
    return new PointRead.Scroll(collection, filter, limit == null ? null : limit.intValue(), offset, order,
        PointParser.withPayload(body.get("with_payload"), true), PointParser.withVector(body), PointParser.shardKey(body), params.read());
  }

  public static PointRead.Count count(String collection, JsonNode raw, Params params) {
    ObjectNode body = optionalBody(raw);
    Filter filter = PointParser.optionalFilter(body, "filter");
    return new PointRead.Count(collection, filter, body.path("exact").asBoolean(true), PointParser.shardKey(body), params.read());
  }

  public static PointRead.Facet facet(String collection, JsonNode raw, Params params) {
    ObjectNode body = object(raw, "body");
    JsonPath key = QueryParser.key(body.get("key"), "key");
    var v = Validation.body();
    Long limit = v.range(body.get("limit"), "limit", 1, Integer.MAX_VALUE - 1);
    v.throwIfAny();
    JsonNode exact = field(body, "exact");
    if (exact != null) {
      JsonFields.bool(exact, "exact");
    }
    Filter filter = PointParser.optionalFilter(body, "filter");
    return new PointRead.Facet(collection, key, filter, limit == null ? null : limit.intValue(), exact != null && exact.booleanValue(),
        PointParser.shardKey(body), params.read());
  }

  public static PointRead.Matrix matrix(String collection, JsonNode raw, Params params, boolean offsets) {
    ObjectNode body = object(raw, "body");
    String using = body.path("using").isTextual() ? body.get("using").textValue() : "";
    var v = Validation.body();
    Long sample = v.range(body.get("sample"), "sample", 2, 100_000);
    Long limit = v.range(body.get("limit"), "limit", 1, 100_000);
    v.throwIfAny();
    Filter filter = PointParser.optionalFilter(body, "filter");
    return new PointRead.Matrix(collection, filter, sample == null ? null : sample.intValue(), limit == null ? null : limit.intValue(),
        using, offsets, PointParser.shardKey(body), params.read());
  }
}
