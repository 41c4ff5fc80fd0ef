package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Fields;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterParser;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.Match;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.filter.PayloadType;
import io.quiver.error.ApiException;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.WeakHashMap;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.TermQuery;

/**
 * Qdrant's strict mode ({@code strict_mode_config} of a collection), enforced in one place: the
 * storage service asks {@link #check} before it runs any operation on a collection whose strict mode
 * is enabled. It checks the request against the limits (query limit, timeout, search parameters,
 * unindexed filter keys, filter size, batch size, collection size, multivector and sparse sizes,
 * payload index count, full scans) and then charges the collection's read or write rate limiter.
 * Refusals carry Qdrant's messages: 400 {@code Bad request: <what>. Help: <how>} and 429 {@code Rate
 * limiting exceeded: ...} with the seconds to wait.
 *
 * <p>Rate limiters are token buckets per collection, refilled continuously up to the configured
 * operations per minute, and start full; they are made afresh whenever the strict-mode config
 * changes (as Qdrant does). Costs follow Qdrant: a search costs one per query vector (a multivector
 * its number of vectors) plus one per filter condition, a retrieval one per id, a scroll or count one
 * plus the filter's conditions; an update one per point, or the expected number of points its filter
 * selects. Thread-safe.
 */
final class StrictMode {
  private static final double SPARSE_DIMS_COST_UNIT = 64;

  /** The limiters of each collection, made for one strict-mode config (compared by identity). */
  private final Map<Collection, Limiters> limiters = Collections.synchronizedMap(new WeakHashMap<>());
  private final Map<Collection, SizeStats> stats = Collections.synchronizedMap(new WeakHashMap<>());

  private record Limiters(JsonNode config, RateLimiter read, RateLimiter write) {}

  /**
   * Collection size estimates; {@code computedAtNanos} is when the payload bytes were counted, and
   * {@code checks} how many checks used that count since.
   */
  private record SizeStats(long computedAtNanos, int checks, long points, long vectorBytes, long payloadBytes) {}

  /** The strict-mode config when strict mode is enabled, else null. */
  static ObjectNode enabled(Collection col) {
    JsonNode s = col.config().get("strict_mode_config");
    return s instanceof ObjectNode o && o.path("enabled").asBoolean(false) ? o : null;
  }

  /** Checks {@code c} against the strict mode of {@code col}, if enabled; throws 400 or 429. */
  void check(Collection col, StorageCommand c) throws IOException {
    ObjectNode cfg = enabled(col);
    if (cfg == null) {
      return;
    }
    JsonNode body = c.body() instanceof JsonNode n ? n : null;
    var ctx = new Ctx(col, cfg, col.schema().payload());
    switch (c.op()) {
      case SEARCH_POINTS, RECOMMEND_POINTS, DISCOVER_POINTS -> {
        long cost = ctx.search(body, c.op(), false);
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case SEARCH_BATCH, RECOMMEND_BATCH, DISCOVER_BATCH -> {
        StorageOp one = c.op() == StorageOp.SEARCH_BATCH ? StorageOp.SEARCH_POINTS
            : c.op() == StorageOp.RECOMMEND_BATCH ? StorageOp.RECOMMEND_POINTS : StorageOp.DISCOVER_POINTS;
        long cost = 0;
        for (JsonNode s : body == null ? List.<JsonNode>of() : iterable(body.get("searches"))) {
          cost += ctx.search(s, one, false);
        }
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case SEARCH_GROUPS, RECOMMEND_GROUPS -> {
        long cost = ctx.search(body, c.op() == StorageOp.SEARCH_GROUPS ? StorageOp.SEARCH_POINTS : StorageOp.RECOMMEND_POINTS, true);
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case QUERY_POINTS -> {
        long cost = ctx.query(body, false, true);
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case QUERY_BATCH -> {
        long cost = 0;
        for (JsonNode s : body == null ? List.<JsonNode>of() : iterable(body.get("searches"))) {
          cost += ctx.query(s, false, true);
        }
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case QUERY_GROUPS -> {
        long cost = ctx.query(body, true, true);
        ctx.timeout(c);
        read(col, cfg, cost);
      }
      case SCROLL_POINTS, COUNT_POINTS, FACET -> {
        if (body != null && c.op() != StorageOp.COUNT_POINTS) {
          checkLimit(number(body.get("limit")), cfg, "max_query_limit", "limit");
        }
        Filter f = ctx.filter(body == null ? null : body.get("filter"));
        ctx.readFilter(f);
        ctx.timeout(c);
        read(col, cfg, 1 + conditions(f));
      }
      case SEARCH_MATRIX_PAIRS, SEARCH_MATRIX_OFFSETS -> {
        long sample = body == null ? 10 : orElse(number(body.get("sample")), 10);
        long limit = body == null ? 3 : orElse(number(body.get("limit")), 3);
        checkLimit(sample * limit, cfg, "max_query_limit", "limit");
        Filter f = ctx.filter(body == null ? null : body.get("filter"));
        ctx.readFilter(f);
        ctx.timeout(c);
        read(col, cfg, sample + conditions(f));
      }
      case GET_POINTS -> {
        ctx.timeout(c);
        read(col, cfg, body == null ? 1 : Math.max(1, iterable(body.get("ids")).size()));
      }
      case GET_POINT -> read(col, cfg, 1);
      case UPSERT_POINTS, UPDATE_VECTORS, DELETE_POINTS, DELETE_VECTORS, SET_PAYLOAD, OVERWRITE_PAYLOAD,
          DELETE_PAYLOAD, CLEAR_PAYLOAD -> write(col, cfg, ctx.update(kind(c.op()), body));
      case BATCH_UPDATE -> {
        long cost = 0;
        for (JsonNode step : body == null ? List.<JsonNode>of() : iterable(body.get("operations"))) {
          if (step.isObject() && step.size() == 1) {
            var e = step.properties().iterator().next();
            cost += ctx.update(e.getKey(), e.getValue());
          }
        }
        write(col, cfg, cost);
      }
      case CREATE_FIELD_INDEX -> ctx.indexCount(body);
      default -> {
        // collection administration and snapshots are not limited
      }
    }
  }

  private static String kind(StorageOp op) {
    return switch (op) {
      case UPSERT_POINTS -> "upsert";
      case UPDATE_VECTORS -> "update_vectors";
      case DELETE_POINTS -> "delete";
      case DELETE_VECTORS -> "delete_vectors";
      case SET_PAYLOAD -> "set_payload";
      case OVERWRITE_PAYLOAD -> "overwrite_payload";
      case DELETE_PAYLOAD -> "delete_payload";
      default -> "clear_payload";
    };
  }

  // ---- rate limits ----

  private void read(Collection col, ObjectNode cfg, long cost) {
    RateLimiter r = limitersOf(col, cfg).read();
    if (r != null) {
      r.consume(cost, "Read");
    }
  }

  private void write(Collection col, ObjectNode cfg, long cost) {
    RateLimiter w = limitersOf(col, cfg).write();
    if (w != null) {
      w.consume(cost, "Write");
    }
  }

  private Limiters limitersOf(Collection col, ObjectNode cfg) {
    synchronized (limiters) {
      Limiters l = limiters.get(col);
      if (l == null || l.config() != cfg) {
        Long read = number(cfg.get("read_rate_limit"));
        Long write = number(cfg.get("write_rate_limit"));
        l = new Limiters(cfg, read == null ? null : new RateLimiter(read), write == null ? null : new RateLimiter(write));
        limiters.put(col, l);
      }
      return l;
    }
  }

  /** Qdrant's token bucket: {@code perMinute} capacity, refilled continuously, starting full. */
  static final class RateLimiter {
    private final double capacity;
    private final double perSecond;
    private double tokens;
    private long last = System.nanoTime();

    RateLimiter(long perMinute) {
      capacity = perMinute;
      perSecond = perMinute / 60.0;
      tokens = perMinute;
    }

    synchronized void consume(long cost, String kind) {
      if (cost > capacity) {
        throw ApiException.rateLimited(kind + " rate limit exceeded, request larger than rate limiter capacity, please try to split your request", null);
      }
      long now = System.nanoTime();
      tokens = Math.min(capacity, tokens + perSecond * (now - last) / 1e9);
      last = now;
      if (tokens >= cost) {
        tokens -= cost;
        return;
      }
      double wait = (cost - tokens) / perSecond;
      int retryAfter = (int) Math.ceil(wait);
      throw ApiException.rateLimited(String.format(Locale.ROOT,
          "%s rate limit exceeded: Operation requires %d tokens but only %.1f were available. Retry after %ds",
          kind, cost, tokens, retryAfter), Math.max(1, retryAfter));
    }
  }

  // ---- checks on one request ----

  /** One request against one collection's strict mode. */
  private final class Ctx {
    final Collection col;
    final ObjectNode cfg;
    final PayloadSchema schema;

    Ctx(Collection col, ObjectNode cfg, PayloadSchema schema) {
      this.col = col;
      this.cfg = cfg;
      this.schema = schema;
    }

    void timeout(StorageCommand c) {
      String t = c.param("timeout");
      if (t != null) {
        try {
          checkLimit(Long.parseLong(t.trim()), cfg, "max_timeout", "timeout");
        } catch (NumberFormatException e) {
          // the operation reports it
        }
      }
    }

    /** A search, recommendation or discovery (grouped: limit × group_size); returns its cost. */
    long search(JsonNode body, StorageOp op, boolean groups) {
      if (body == null || !body.isObject()) {
        return 1;
      }
      Long limit = number(body.get("limit"));
      if (groups) {
        Long size = number(body.get("group_size"));
        limit = limit == null ? null : limit * orElse(size, 1);
      }
      checkLimit(limit, cfg, "max_query_limit", "limit");
      Filter f = filter(body.get("filter"));
      readFilter(f);
      params(body.get("params"));
      if (groups) {
        grouping(body.get("group_by"));
      }
      long cost = switch (op) {
        case RECOMMEND_POINTS -> {
          String strategy = body.path("strategy").asText("average_vector");
          yield strategy.equals("average_vector") ? 1
              : Math.max(1, iterable(body.get("positive")).size() + iterable(body.get("negative")).size());
        }
        case DISCOVER_POINTS -> 1 + 2L * iterable(body.get("context")).size();
        default -> vectorCost(body.get("vector"));
      };
      return cost + conditions(f);
    }

    /** A universal query, with its prefetches; returns its cost. */
    long query(JsonNode body, boolean groups, boolean top) {
      if (body == null || !body.isObject()) {
        return 1;
      }
      Long limit = number(body.get("limit"));
      if (limit == null && top) {
        limit = 10L;
      }
      if (groups) {
        limit = limit * orElse(number(body.get("group_size")), 3);
      }
      checkLimit(limit, cfg, "max_query_limit", "limit");
      Filter f = filter(body.get("filter"));
      List<JsonNode> prefetches = prefetches(body.get("prefetch"));
      long cost = 0;
      for (JsonNode p : prefetches) {
        cost += query(p, false, false);
      }
      JsonNode q = body.get("query");
      String using = body.path("using").asText("");
      if (q != null && !q.isNull() && (prefetches.isEmpty() || !top)) {
        fullScan(q, using, f);
      }
      if (q != null && !q.isNull()) {
        formula(q);
      }
      readFilter(f);
      params(body.get("params"));
      if (groups) {
        grouping(body.get("group_by"));
      }
      return cost + queryCost(q) + conditions(f) + (referencesIds(q) ? 1 : 0);
    }

    private List<JsonNode> prefetches(JsonNode p) {
      if (p == null || p.isNull()) {
        return List.of();
      }
      return p.isArray() ? iterable(p) : List.of(p);
    }

    /** Searches need 1 per query vector (a multivector its count); ids cost a fetch and an exclusion. */
    private long queryCost(JsonNode q) {
      if (q == null || q.isNull()) {
        return 1; // a scroll
      }
      if (q.isObject()) {
        if (q.has("fusion") || q.has("formula") || q.has("sample")) {
          return 0;
        }
        if (q.has("order_by")) {
          return 1;
        }
        if (q.has("nearest")) {
          return vectorCost(q.get("nearest")) + (q.get("nearest").isNumber() || q.get("nearest").isTextual() ? 1 : 0);
        }
        if (q.has("recommend")) {
          JsonNode r = q.get("recommend");
          return Math.max(1, iterable(r.get("positive")).size() + iterable(r.get("negative")).size());
        }
        if (q.has("discover")) {
          return 1 + 2L * iterable(q.get("discover").get("context")).size();
        }
        if (q.has("context")) {
          return 2L * iterable(q.get("context")).size();
        }
      }
      return vectorCost(q) + (q.isNumber() || q.isTextual() ? 1 : 0);
    }

    private boolean referencesIds(JsonNode q) {
      return q != null && (q.isNumber() || q.isTextual() || q.path("nearest").isNumber() || q.path("nearest").isTextual());
    }

    /** Qdrant refuses a vector query that must scan every point when exact search is not allowed. */
    private void fullScan(JsonNode q, String using, Filter filter) {
      if (!cfg.path("search_allow_exact").isBoolean() || cfg.get("search_allow_exact").asBoolean()) {
        return;
      }
      if (q.isObject() && (q.has("fusion") || q.has("order_by") || q.has("formula") || q.has("sample"))) {
        return;
      }
      JsonNode params = col.config().path("params");
      if (params.path("sparse_vectors").has(using)) {
        return;
      }
      JsonNode vectors = params.path("vectors");
      JsonNode vector = using.isEmpty() && vectors.has("size") ? vectors : vectors.path(using);
      JsonNode hnsw = col.config().path("hnsw_config");
      long m = vector.path("hnsw_config").path("m").isNumber() ? vector.path("hnsw_config").path("m").asLong()
          : hnsw.path("m").asLong(16);
      if (m > 0) {
        return;
      }
      long payloadM = vector.path("hnsw_config").path("payload_m").isNumber() ? vector.path("hnsw_config").path("payload_m").asLong()
          : hnsw.path("payload_m").isNumber() ? hnsw.path("payload_m").asLong() : m;
      String label = using.isEmpty() ? "" : " on '" + using + "'";
      boolean tenantFilter = false;
      if (filter != null) {
        for (Condition c : topLevel(filter)) {
          JsonPath key = targetedKey(c);
          FieldIndex index = key == null ? null : schema.get(key);
          if (index != null && Boolean.TRUE.equals(index.isTenant())) {
            tenantFilter = true;
          }
        }
      }
      if (!tenantFilter) {
        throw strict("Request is forbidden" + label + " because global vector indexing is disabled (hnsw_config.m = 0)",
            "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option");
      }
      if (payloadM == 0) {
        throw strict("Request is forbidden" + label + " because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
            "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode `search_allow_exact` option");
      }
    }

    /** Payload variables of a formula need a numeric index when unindexed filtering is off. */
    private void formula(JsonNode q) {
      if (!q.isObject() || !q.has("formula") || !cfg.path("unindexed_filtering_retrieve").isBoolean()
          || cfg.get("unindexed_filtering_retrieve").asBoolean()) {
        return;
      }
      Unindexed u = expression(q.get("formula"));
      if (u != null) {
        throw strict("Index required but not found for \"" + u.key() + "\" of one of the following types: [" + u.types() + "]",
            "Create an index for this key or use a different formula expression.");
      }
    }

    private Unindexed expression(JsonNode e) {
      if (e == null || e.isNull() || e.isNumber()) {
        return null;
      }
      if (e.isTextual()) {
        String v = e.textValue();
        if (v.startsWith("$score")) {
          return null;
        }
        return unindexed(path(v), EnumSet.of(Cap.INT_MATCH, Cap.INT_RANGE, Cap.FLOAT_RANGE));
      }
      if (e.isArray()) {
        for (JsonNode x : e) {
          Unindexed u = expression(x);
          if (u != null) {
            return u;
          }
        }
        return null;
      }
      if (!e.isObject()) {
        return null;
      }
      if (e.has("key") || e.has("must") || e.has("should") || e.has("must_not") || e.has("has_id") || e.has("is_empty")
          || e.has("is_null") || e.has("nested") || e.has("has_vector")) {
        Filter f = filter(F_WRAP(e));
        return f == null ? null : firstUnindexed(f, null);
      }
      if (e.has("geo_distance")) {
        return unindexed(path(e.get("geo_distance").path("to").asText("")), EnumSet.of(Cap.GEO));
      }
      if (e.has("datetime_key")) {
        return unindexed(path(e.get("datetime_key").asText("")), EnumSet.of(Cap.DATETIME_RANGE));
      }
      for (var it = e.properties().iterator(); it.hasNext(); ) {
        var entry = it.next();
        if (entry.getKey().equals("datetime") || entry.getKey().equals("defaults")) {
          continue;
        }
        JsonNode v = entry.getValue();
        if (v.isObject() && (entry.getKey().equals("div") || entry.getKey().equals("pow") || entry.getKey().endsWith("_decay"))) {
          for (String part : new String[] {"left", "right", "base", "exponent", "x", "target"}) {
            Unindexed u = expression(v.get(part));
            if (u != null) {
              return u;
            }
          }
        } else {
          Unindexed u = expression(v);
          if (u != null) {
            return u;
          }
        }
      }
      return null;
    }

    private JsonNode F_WRAP(JsonNode condition) {
      ObjectNode f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
      f.putArray("must").add(condition);
      return f;
    }

    private void params(JsonNode p) {
      if (p == null || !p.isObject()) {
        return;
      }
      if (p.path("exact").asBoolean(false) && cfg.path("search_allow_exact").isBoolean() && !cfg.get("search_allow_exact").asBoolean()) {
        throw strict("Exact search disabled!", "Set exact=false.");
      }
      JsonNode oversampling = p.path("quantization").get("oversampling");
      if (oversampling != null && oversampling.isNumber() && cfg.path("search_max_oversampling").isNumber()) {
        double limit = cfg.get("search_max_oversampling").asDouble();
        if (oversampling.asDouble() > limit) {
          throw strict("Limit exceeded " + fmt(oversampling.asDouble()) + " > " + fmt(limit) + " for \"oversampling\"",
              "Reduce the \"oversampling\" parameter to or below " + fmt(limit) + ".");
        }
      }
      checkLimit(number(p.get("hnsw_ef")), cfg, "search_max_hnsw_ef", "hnsw_ef");
    }

    private void grouping(JsonNode groupBy) {
      if (groupBy == null || !groupBy.isTextual() || !cfg.path("unindexed_filtering_retrieve").isBoolean()
          || cfg.get("unindexed_filtering_retrieve").asBoolean()) {
        return;
      }
      String key = groupBy.textValue();
      FieldIndex index;
      try {
        index = schema.get(JsonPath.parse(key));
      } catch (IllegalArgumentException e) {
        return;
      }
      if (index == null) {
        throw strict("Index required but not found for \"" + key + "\"", "Create an index supporting `match` for this key.");
      }
      boolean match = switch (index.type()) {
        case KEYWORD, UUID, BOOL -> true;
        case INTEGER -> !Boolean.FALSE.equals(index.lookup());
        default -> false;
      };
      if (!match) {
        String kind = index.type().json();
        throw strict("Index of type \"" + Character.toUpperCase(kind.charAt(0)) + kind.substring(1) + "\" found for \"" + key + "\"",
            "Create an index supporting `match` for this key.");
      }
    }

    /** The filter, or null when there is none or it does not parse (the operation then reports it). */
    Filter filter(JsonNode n) {
      if (n == null || n.isNull()) {
        return null;
      }
      try {
        return FilterParser.parse(n);
      } catch (RuntimeException e) {
        return null;
      }
    }

    void readFilter(Filter f) {
      checkFilter(f, "unindexed_filtering_retrieve");
    }

    private void checkFilter(Filter f, String switchName) {
      if (f == null) {
        return;
      }
      if (cfg.path(switchName).isBoolean() && !cfg.get(switchName).asBoolean()) {
        Unindexed u = firstUnindexed(f, null);
        if (u != null) {
          throw strict("Index required but not found for \"" + u.key() + "\" of one of the following types: [" + u.types() + "]",
              "Create an index for this key or use a different filter.");
        }
      }
      Long maxConditions = number(cfg.get("filter_max_conditions"));
      if (maxConditions != null) {
        long n = conditions(f);
        if (n > maxConditions) {
          throw strict("Filter condition limit reached (" + n + " > " + maxConditions + ")", "Reduce the amount of conditions of your filter.");
        }
      }
      Long maxSize = number(cfg.get("condition_max_size"));
      if (maxSize != null) {
        long n = maxConditionSize(f);
        if (n > maxSize) {
          throw strict("Condition size limit reached (" + n + " > " + maxSize + ")", "Reduce the size of your condition.");
        }
      }
    }

    /** An update (one operation of a batch too): checks it and returns its cost. */
    long update(String kind, JsonNode body) throws IOException {
      if (body == null || !body.isObject()) {
        return 1;
      }
      switch (kind) {
        case "upsert" -> {
          List<VectorValue> vectors = new ArrayList<>();
          long n = upsertPoints(body, vectors);
          checkLimit(n, cfg, "upsert_max_batchsize", "upsert limit");
          size();
          vectorLimits(vectors);
          return Math.max(1, n);
        }
        case "update_vectors" -> {
          List<VectorValue> vectors = new ArrayList<>();
          long n = 0;
          for (JsonNode p : iterable(body.get("points"))) {
            n++;
            collectVectors(p.get("vector"), vectors);
          }
          checkLimit(n, cfg, "upsert_max_batchsize", "update limit");
          size();
          vectorLimits(vectors);
          return Math.max(1, n);
        }
        case "set_payload", "overwrite_payload" -> {
          Long payloadLimit = number(cfg.get("max_collection_payload_size_bytes"));
          if (payloadLimit != null) {
            checkPayloadSize(stats(), payloadLimit);
          }
          return selectorCost(body);
        }
        default -> {
          return selectorCost(body);
        }
      }
    }

    /** Points by id cost one each; a filter costs the expected number of points it selects. */
    private long selectorCost(JsonNode body) throws IOException {
      JsonNode points = body.get("points");
      if (points != null && points.isArray()) {
        return Math.max(1, points.size());
      }
      Filter f = filter(body.get("filter"));
      checkFilter(f, "unindexed_filtering_update");
      if (f == null) {
        return 1;
      }
      long total = col.shard.read(Shard.Reader::numDocs);
      return Math.max(1, (long) Math.floor(estimate(f, total) * total));
    }

    void indexCount(JsonNode body) {
      Long max = number(cfg.get("max_payload_index_count"));
      if (max == null) {
        return;
      }
      String field = body == null ? null : body.path("field_name").asText(null);
      boolean replaces = false;
      if (field != null) {
        try {
          replaces = schema.get(JsonPath.parse(field)) != null;
        } catch (IllegalArgumentException e) {
          // the operation reports it
        }
      }
      if (!replaces && schema.fields().size() >= max) {
        throw strict("Collection already has the maximum number of payload indices (" + max + ")",
            "Please delete an existing index before creating a new one.");
      }
    }

    // ---- collection size ----

    private void size() throws IOException {
      Long vectorLimit = number(cfg.get("max_collection_vector_size_bytes"));
      Long payloadLimit = number(cfg.get("max_collection_payload_size_bytes"));
      Long pointLimit = number(cfg.get("max_points_count"));
      if (vectorLimit == null && payloadLimit == null && pointLimit == null) {
        return;
      }
      SizeStats s = stats();
      if (vectorLimit != null && s.vectorBytes() >= vectorLimit) {
        throw ApiException.badRequest("Max vector storage size limit of " + mb(vectorLimit) + "MB reached!");
      }
      if (payloadLimit != null) {
        checkPayloadSize(s, payloadLimit);
      }
      if (pointLimit != null && s.points() >= pointLimit) {
        throw ApiException.badRequest("Max points count limit of " + pointLimit + " reached!");
      }
    }

    private void checkPayloadSize(SizeStats s, long limit) {
      if (s.payloadBytes() >= limit) {
        throw ApiException.badRequest("Max payload storage size limit of " + mb(limit) + "MB reached!");
      }
    }

    /**
     * Points and vector bytes (dimensions × 4 per stored vector), counted afresh over every write
     * acknowledged so far, and payload storage bytes, counted again every {@value #PAYLOAD_RECOUNT_CHECKS}
     * checks or after a second (a pass over the payload sizes' doc values), as Qdrant counts them: with
     * {@code on_disk_payload}, whole 128-byte blocks per stored payload, and the blocks of payloads
     * replaced since the last flush (commit) too; in memory, 4 bytes per point plus its JSON. Empty
     * payloads take nothing (Qdrant stores none).
     */
    private SizeStats stats() throws IOException {
      col.shard.refresh(); // writes acknowledged without wait count too
      long now = System.nanoTime();
      SizeStats cached = stats.get(col);
      boolean wantPayload = cfg.has("max_collection_payload_size_bytes")
          && (cached == null || cached.checks() >= PAYLOAD_RECOUNT_CHECKS - 1 || now - cached.computedAtNanos() >= 1_000_000_000L);
      boolean onDisk = col.config().path("params").path("on_disk_payload").asBoolean(true);
      long[] written = wantPayload ? col.shard.payloadWrittenSinceCommit() : null;
      long[] out = col.shard.read(r -> {
        long points = r.numDocs();
        long vectorBytes = 0;
        for (var spec : col.schema().dense().values()) {
          vectorBytes += (long) r.count(new TermQuery(new Term(Fields.HAS_VECTOR, spec.name()))) * spec.size() * 4L;
        }
        return new long[] {points, vectorBytes, wantPayload ? payloadBytes(r.searcher().getIndexReader(), onDisk, written) : 0};
      });
      SizeStats s = wantPayload || cached == null
          ? new SizeStats(now, 0, out[0], out[1], out[2])
          : new SizeStats(cached.computedAtNanos(), cached.checks() + 1, out[0], out[1], cached.payloadBytes());
      stats.put(col, s);
      return s;
    }

    /** How many size checks one payload count serves, the one that counted included (Qdrant recounts every 32 requests). */
    static final int PAYLOAD_RECOUNT_CHECKS = 16;

    /**
     * The payload storage of the live points, from the payload sizes' doc values (the stored payload's
     * length for documents written before those existed); on disk, plus the blocks written since the
     * commit {@code written[0]} ({@code written[1]} bytes) that no live point holds any more.
     */
    static long payloadBytes(org.apache.lucene.index.IndexReader reader, boolean onDisk, long[] written) throws IOException {
      long live = 0;
      long liveSinceCommit = 0;
      for (var leaf : reader.leaves()) {
        var r = leaf.reader();
        var sizes = r.getNumericDocValues(Fields.PAYLOAD_SIZE);
        var versions = r.getNumericDocValues(Fields.VERSION);
        var liveDocs = r.getLiveDocs();
        org.apache.lucene.index.StoredFields stored = null;
        for (int doc = 0; doc < r.maxDoc(); doc++) {
          if (liveDocs != null && !liveDocs.get(doc)) {
            continue;
          }
          long length;
          if (sizes != null && sizes.advanceExact(doc)) {
            length = sizes.longValue();
          } else {
            stored = stored == null ? r.storedFields() : stored;
            var bytes = stored.document(doc, java.util.Set.of(Fields.PAYLOAD)).getBinaryValue(Fields.PAYLOAD);
            length = bytes == null ? 2 : bytes.length;
          }
          long bytes = onDisk ? io.quiver.engine.Shard.payloadStorageBytes(length)
              : length <= io.quiver.engine.Shard.EMPTY_PAYLOAD_LENGTH ? 0 : 4 + length;
          live += bytes;
          if (onDisk && versions != null && versions.advanceExact(doc) && versions.longValue() > written[0]) {
            liveSinceCommit += bytes;
          }
        }
      }
      return onDisk ? live + Math.max(0, written[1] - liveSinceCommit) : live;
    }

    // ---- vectors of updates ----

    private record VectorValue(String name, JsonNode value) {}

    private long upsertPoints(JsonNode body, List<VectorValue> vectors) {
      JsonNode points = body.get("points");
      if (points != null && points.isArray()) {
        for (JsonNode p : points) {
          collectVectors(p.get("vector"), vectors);
        }
        return points.size();
      }
      JsonNode batch = body.get("batch");
      if (batch == null || !batch.isObject()) {
        return 0;
      }
      JsonNode v = batch.get("vectors");
      if (v != null && v.isObject()) {
        v.properties().forEach(e -> iterable(e.getValue()).forEach(x -> vectors.add(new VectorValue(e.getKey(), x))));
      } else if (v != null && v.isArray()) {
        v.forEach(x -> vectors.add(new VectorValue("", x)));
      }
      return iterable(batch.get("ids")).size();
    }

    private void collectVectors(JsonNode v, List<VectorValue> out) {
      if (v == null || v.isNull()) {
        return;
      }
      if (v.isArray()) {
        out.add(new VectorValue("", v));
      } else if (v.isObject() && !v.has("indices")) {
        v.properties().forEach(e -> out.add(new VectorValue(e.getKey(), e.getValue())));
      }
    }

    private void vectorLimits(List<VectorValue> vectors) {
      JsonNode multi = cfg.path("multivector_config");
      JsonNode sparse = cfg.path("sparse_config");
      for (VectorValue v : vectors) {
        Long maxVectors = number(multi.path(v.name()).get("max_vectors"));
        if (maxVectors != null && v.value().isArray() && v.value().size() > 0 && v.value().get(0).isArray()
            && v.value().size() > maxVectors) {
          throw ApiException.badRequest("Multivector '" + v.name() + "' has a limit of " + maxVectors + " vectors, but "
              + v.value().size() + " were provided!");
        }
        Long maxLength = number(sparse.path(v.name()).get("max_length"));
        if (maxLength != null && v.value().isObject()) {
          int n = Math.max(iterable(v.value().get("indices")).size(), iterable(v.value().get("values")).size());
          if (n > maxLength) {
            throw ApiException.badRequest("Sparse vector '" + v.name() + "' has a limit of " + maxLength + " indices, but "
                + iterable(v.value().get("indices")).size() + " were provided!");
          }
        }
      }
    }

    /**
     * The expected fraction of points a filter selects, as Qdrant's cardinality estimation: a
     * condition on a key with a fitting index is counted exactly, any other is taken as half; must
     * multiplies, should combines as independent events, must_not complements.
     */
    double estimate(Filter f, long total) throws IOException {
      if (total == 0) {
        return 0;
      }
      double p = 1;
      if (f.must() != null) {
        for (Condition c : f.must()) {
          p *= fraction(c, total);
        }
      }
      p *= any(f.should(), total);
      if (f.minShould() != null) {
        p *= any(f.minShould().conditions(), total);
      }
      if (f.mustNot() != null) {
        for (Condition c : f.mustNot()) {
          p *= 1 - fraction(c, total);
        }
      }
      return p;
    }

    private double any(List<Condition> conditions, long total) throws IOException {
      if (conditions == null || conditions.isEmpty()) {
        return 1;
      }
      double none = 1;
      for (Condition c : conditions) {
        none *= 1 - fraction(c, total);
      }
      return 1 - none;
    }

    private double fraction(Condition c, long total) throws IOException {
      switch (c) {
        case Filter inner -> {
          return estimate(inner, total);
        }
        case Condition.HasId h -> {
          return Math.min(1.0, h.ids().size() / (double) total);
        }
        case Condition.Field field -> {
          FieldIndex index = schema.get(field.key());
          if (index != null && !Collections.disjoint(capabilities(index), required(field))) {
            var q = FilterQueries.toQuery(new Filter(List.of(c), null, null, null), schema);
            return col.shard.read(r -> r.count(q)) / (double) total;
          }
          return 0.5;
        }
        default -> {
          return 0.5;
        }
      }
    }

    // ---- unindexed keys ----

    private Unindexed firstUnindexed(Filter f, JsonPath prefix) {
      for (Condition c : topLevel(f)) {
        Unindexed u = unindexed(c, prefix);
        if (u != null) {
          return u;
        }
      }
      return null;
    }

    private Unindexed unindexed(Condition c, JsonPath prefix) {
      return switch (c) {
        case Filter f -> firstUnindexed(f, prefix);
        case Condition.Nested n -> firstUnindexed(n.filter(), prefix == null ? n.key().arrayKey() : prefix.extend(n.key()).arrayKey());
        case Condition.IsEmpty e -> unindexed(full(prefix, e.key()), EnumSet.allOf(Cap.class));
        case Condition.IsNull e -> unindexed(full(prefix, e.key()), EnumSet.allOf(Cap.class));
        case Condition.HasId h -> null;
        case Condition.HasVector h -> null;
        case Condition.Field field -> unindexed(full(prefix, field.key()), required(field));
      };
    }

    private Unindexed unindexed(JsonPath key, Set<Cap> required) {
      if (key == null || required.isEmpty()) {
        return null;
      }
      FieldIndex index = schema.get(key);
      if (index != null) {
        Set<Cap> has = capabilities(index);
        for (Cap r : required) {
          if (has.contains(r)) {
            return null;
          }
        }
      }
      Set<String> names = new TreeSet<>();
      required.forEach(r -> names.add(r.schema));
      return new Unindexed(key.toString(), String.join(", ", names));
    }
  }

  private record Unindexed(String key, String types) {}


  /** What an index can answer (Qdrant's FieldIndexType). */
  enum Cap {
    KEYWORD_MATCH("keyword"), INT_MATCH("integer"), INT_RANGE("integer"), FLOAT_RANGE("float"), GEO("geo"),
    TEXT("text"), TEXT_PHRASE("text"), BOOL_MATCH("bool"), DATETIME_RANGE("datetime"), UUID_MATCH("uuid");

    final String schema;

    Cap(String schema) {
      this.schema = schema;
    }
  }

  static Set<Cap> capabilities(FieldIndex index) {
    return switch (index.type()) {
      case KEYWORD -> EnumSet.of(Cap.KEYWORD_MATCH);
      case INTEGER -> {
        EnumSet<Cap> s = EnumSet.noneOf(Cap.class);
        if (!Boolean.FALSE.equals(index.lookup())) {
          s.add(Cap.INT_MATCH);
        }
        if (!Boolean.FALSE.equals(index.range())) {
          s.add(Cap.INT_RANGE);
        }
        yield s;
      }
      case FLOAT -> EnumSet.of(Cap.FLOAT_RANGE);
      case GEO -> EnumSet.of(Cap.GEO);
      case TEXT -> index.text() != null && index.text().phrase() ? EnumSet.of(Cap.TEXT, Cap.TEXT_PHRASE) : EnumSet.of(Cap.TEXT);
      case BOOL -> EnumSet.of(Cap.BOOL_MATCH);
      case DATETIME -> EnumSet.of(Cap.DATETIME_RANGE);
      case UUID -> EnumSet.of(Cap.UUID_MATCH, Cap.KEYWORD_MATCH);
    };
  }

  /** The index capabilities that can answer a field condition (any one suffices). */
  static Set<Cap> required(Condition.Field f) {
    EnumSet<Cap> out = EnumSet.noneOf(Cap.class);
    if (f.match() != null) {
      switch (f.match()) {
        case Match.Value v -> {
          if (v.value() instanceof String s) {
            if (isUuid(s)) {
              out.add(Cap.UUID_MATCH);
            }
            out.add(Cap.KEYWORD_MATCH);
          } else if (v.value() instanceof Long) {
            out.add(Cap.INT_MATCH);
          } else {
            out.add(Cap.BOOL_MATCH);
          }
        }
        case Match.Text t -> out.add(Cap.TEXT);
        case Match.TextAny t -> out.add(Cap.TEXT);
        case Match.Phrase p -> out.add(Cap.TEXT_PHRASE);
        case Match.Any a -> out.addAll(values(a.any()));
        case Match.Except e -> out.addAll(values(e.except()));
      }
    }
    if (f.range() instanceof Condition.DatetimeRange) {
      out.add(Cap.DATETIME_RANGE);
    } else if (f.range() != null) {
      out.add(Cap.FLOAT_RANGE);
      out.add(Cap.INT_RANGE);
    }
    if (f.geoBoundingBox() != null || f.geoRadius() != null || f.geoPolygon() != null) {
      out.add(Cap.GEO);
    }
    if (f.valuesCount() != null || f.isEmpty() != null || f.isNull() != null) {
      out.addAll(EnumSet.allOf(Cap.class));
    }
    return out;
  }

  private static Set<Cap> values(Match.Values v) {
    if (v instanceof Match.Keywords k) {
      return k.values().stream().allMatch(StrictMode::isUuid) && !k.values().isEmpty()
          ? EnumSet.of(Cap.UUID_MATCH, Cap.KEYWORD_MATCH) : EnumSet.of(Cap.KEYWORD_MATCH);
    }
    return EnumSet.of(Cap.INT_MATCH);
  }

  private static boolean isUuid(String s) {
    try {
      java.util.UUID.fromString(s);
      return s.length() == 36;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static JsonPath full(JsonPath prefix, JsonPath key) {
    return prefix == null ? key : prefix.extend(key);
  }

  private static JsonPath path(String key) {
    try {
      return JsonPath.parse(key);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The conditions of every part of a filter. */
  static List<Condition> topLevel(Filter f) {
    List<Condition> out = new ArrayList<>();
    if (f.must() != null) {
      out.addAll(f.must());
    }
    if (f.should() != null) {
      out.addAll(f.should());
    }
    if (f.minShould() != null) {
      out.addAll(f.minShould().conditions());
    }
    if (f.mustNot() != null) {
      out.addAll(f.mustNot());
    }
    return out;
  }

  private static JsonPath targetedKey(Condition c) {
    return switch (c) {
      case Condition.Field f -> f.key();
      case Condition.IsEmpty e -> e.key();
      case Condition.IsNull e -> e.key();
      case Condition.Nested n -> n.key().arrayKey();
      case Filter f -> topLevel(f).stream().map(StrictMode::targetedKey).filter(java.util.Objects::nonNull).findFirst().orElse(null);
      default -> null;
    };
  }

  /** Qdrant's total_conditions_count: every condition, nested filters counted by their own. */
  static long conditions(Filter f) {
    if (f == null) {
      return 0;
    }
    long n = 0;
    for (Condition c : topLevel(f)) {
      n += switch (c) {
        case Filter inner -> conditions(inner);
        case Condition.Nested nested -> conditions(nested.filter());
        default -> 1;
      };
    }
    return n;
  }

  /** Qdrant's max_condition_input_size: the longest any/except list or has_id list. */
  static long maxConditionSize(Filter f) {
    long max = 0;
    for (Condition c : topLevel(f)) {
      long size = switch (c) {
        case Condition.Field field -> field.match() instanceof Match.Any a ? count(a.any())
            : field.match() instanceof Match.Except e ? count(e.except()) : 0;
        case Condition.HasId h -> h.ids().size();
        case Filter inner -> maxConditionSize(inner);
        case Condition.Nested nested -> maxConditionSize(nested.filter());
        default -> 0;
      };
      max = Math.max(max, size);
    }
    return max;
  }

  private static long count(Match.Values v) {
    return v instanceof Match.Keywords k ? k.values().size() : ((Match.Integers) v).values().size();
  }

  private static Long number(JsonNode n) {
    return n != null && n.isNumber() ? n.asLong() : null;
  }

  private static long orElse(Long v, long d) {
    return v == null ? d : v;
  }

  private static List<JsonNode> iterable(JsonNode n) {
    if (n == null || !n.isArray()) {
      return List.of();
    }
    List<JsonNode> out = new ArrayList<>(n.size());
    n.forEach(out::add);
    return out;
  }

  private static long vectorCost(JsonNode v) {
    if (v == null || v.isNull()) {
      return 1;
    }
    if (v.isArray()) {
      return v.size() > 0 && v.get(0).isArray() ? v.size() : 1;
    }
    if (v.isObject()) {
      if (v.has("indices")) {
        return (long) Math.ceil(v.get("indices").size() / SPARSE_DIMS_COST_UNIT);
      }
      if (v.has("vector")) {
        return vectorCost(v.get("vector"));
      }
    }
    return 1;
  }

  private static void checkLimit(Long value, ObjectNode cfg, String option, String name) {
    Long limit = number(cfg.get(option));
    if (value != null && limit != null && value > limit) {
      throw strict("Limit exceeded " + value + " > " + limit + " for \"" + name + "\"",
          "Reduce the \"" + name + "\" parameter to or below " + limit + ".");
    }
  }

  private static ApiException strict(String error, String help) {
    return ApiException.badRequest(error + ". Help: " + help);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && !Double.isInfinite(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** Megabytes as Qdrant prints an f32: shortest form, never in scientific notation. */
  private static String mb(long bytes) {
    float mb = (float) (bytes / (1024.0 * 1024.0));
    return mb == Math.rint(mb) ? Long.toString((long) mb) : new java.math.BigDecimal(Float.toString(mb)).toPlainString();
  }
}
