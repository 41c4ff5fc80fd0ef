package io.quiver.grpc;

import static io.quiver.grpc.FilterConvert.u64;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.error.ApiException;
import io.quiver.request.OrderBy;
import io.quiver.request.PointRead;
import io.quiver.request.QueryParser;
import io.quiver.request.Params;
import io.quiver.request.ReadParams;
import io.quiver.request.Validation;
import java.util.HashMap;
import java.util.Map;

/**
 * The point reads that are not searches (retrieve, scroll, count, facet, distance matrix) mapped onto
 * the request model as REST's {@code ReadParser} builds it for the same JSON: the same bounds and
 * wording, the same defaults ({@code exact} counts, 10 facets, a sample of 10 with 3 neighbours).
 */
final class ReadConvert {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private ReadConvert() {}

  /** Points by id; without {@code with_payload} none is returned, as Qdrant's retrieve does. */
  static PointRead.Retrieve get(Points.GetPoints r) {
    ReadParams read = read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    return new PointRead.Retrieve(r.getCollectionName(), PointConvert.ids(r.getIdsList(), "ids"),
        PointConvert.withPayload(r.hasWithPayload() ? r.getWithPayload() : null, false),
        PointConvert.withVector(r.hasWithVectors() ? r.getWithVectors() : null),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null), read);
  }

  static PointRead.Scroll scroll(Points.ScrollPoints r) {
    ReadParams read = read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    var v = Validation.body();
    Long limit = r.hasLimit() ? v.range(u64(Integer.toUnsignedLong(r.getLimit())), "limit", 1, Integer.MAX_VALUE - 1) : null;
    v.throwIfAny();
    PointId offset = r.hasOffset() ? Values.id(r.getOffset()) : null;
    OrderBy order = r.hasOrderBy() ? orderBy(r.getOrderBy()) : null;
    if (order != null && offset != null) {
      throw ApiException.badRequest("Cannot use an `offset` when using `order_by`. The alternative for paging is to use "
          + "`order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value");
    }
    Filter filter = r.hasFilter() ? FilterConvert.filter(r.getFilter(), "filter") : null;
    return new PointRead.Scroll(r.getCollectionName(), filter, limit == null ? null : limit.intValue(), offset, order,
        PointConvert.withPayload(r.hasWithPayload() ? r.getWithPayload() : null, true),
        PointConvert.withVector(r.hasWithVectors() ? r.getWithVectors() : null),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null), read);
  }

  static PointRead.Count count(Points.CountPoints r) {
    ReadParams read = read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    Filter filter = r.hasFilter() ? FilterConvert.filter(r.getFilter(), "filter") : null;
    return new PointRead.Count(r.getCollectionName(), filter, !r.hasExact() || r.getExact(),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null), read);
  }

  static PointRead.Facet facet(Points.FacetCounts r) {
    ReadParams read = read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    var key = QueryParser.key(F.textNode(r.getKey()), "key");
    var v = Validation.body();
    Long limit = r.hasLimit() ? v.range(u64(r.getLimit()), "limit", 1, Integer.MAX_VALUE - 1) : null;
    v.throwIfAny();
    Filter filter = r.hasFilter() ? FilterConvert.filter(r.getFilter(), "filter") : null;
    return new PointRead.Facet(r.getCollectionName(), key, filter, limit == null ? null : limit.intValue(), r.hasExact() && r.getExact(),
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null), read);
  }

  static PointRead.Matrix matrix(Points.SearchMatrixPoints r, boolean offsets) {
    ReadParams read = read(r.hasReadConsistency() ? r.getReadConsistency() : null, r.hasTimeout() ? r.getTimeout() : null);
    var v = Validation.body();
    Long sample = r.hasSample() ? v.range(u64(r.getSample()), "sample", 2, 100_000) : null;
    Long limit = r.hasLimit() ? v.range(u64(r.getLimit()), "limit", 1, 100_000) : null;
    v.throwIfAny();
    Filter filter = r.hasFilter() ? FilterConvert.filter(r.getFilter(), "filter") : null;
    return new PointRead.Matrix(r.getCollectionName(), filter, sample == null ? null : sample.intValue(),
        limit == null ? null : limit.intValue(), r.hasUsing() ? r.getUsing() : "", offsets,
        PointConvert.shardKey(r.hasShardKeySelector() ? r.getShardKeySelector() : null), read);
  }

  /** {@code order_by} as REST's JSON, parsed by REST's parser; timestamps become RFC 3339 text. */
  static OrderBy orderBy(Points.OrderBy o) {
    ObjectNode json = F.objectNode().put("key", o.getKey());
    if (o.hasDirection() && o.getDirection() != Points.Direction.UNRECOGNIZED) {
      // an unknown direction is the default, as Qdrant's gRPC API takes it
      json.put("direction", o.getDirection() == Points.Direction.Desc ? "desc" : "asc");
    }
    if (o.hasStartFrom()) {
      Points.StartFrom s = o.getStartFrom();
      switch (s.getValueCase()) {
        case FLOAT -> json.put("start_from", s.getFloat());
        case INTEGER -> json.put("start_from", s.getInteger());
        case TIMESTAMP -> json.put("start_from", FilterConvert.text(s.getTimestamp()));
        case DATETIME -> json.put("start_from", s.getDatetime());
        case VALUE_NOT_SET -> {
          // no start, as Qdrant's gRPC API takes it
        }
      }
    }
    return QueryParser.orderBy(json);
  }

  /** {@code read_consistency} and {@code timeout} (seconds), checked as REST's query parameters. */
  static ReadParams read(Points.ReadConsistency consistency, Long timeout) {
    Map<String, String> params = new HashMap<>();
    if (timeout != null) {
      params.put("timeout", Long.toUnsignedString(timeout));
    }
    if (consistency != null) {
      params.put("consistency", switch (consistency.getValueCase()) {
        case TYPE -> switch (consistency.getType()) {
          case All -> "all";
          case Majority -> "majority";
          case Quorum -> "quorum";
          case UNRECOGNIZED -> Integer.toString(consistency.getTypeValue());
        };
        case FACTOR -> Long.toUnsignedString(consistency.getFactor());
        case VALUE_NOT_SET -> "";
      });
    }
    return new Params(params).read();
  }
}
