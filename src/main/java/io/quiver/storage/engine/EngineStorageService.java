package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.api.Json;
import io.quiver.app.QuiverConfig;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterParser;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.error.ApiException;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import io.quiver.storage.StorageService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full storage engine behind the storage verticle: collections of Lucene shards with write-ahead
 * logs. Reads and searches run on a bounded pool sized for the machine; writes on their own bounded
 * pool (they wait on fsync), applied per shard in WAL order. A full queue answers 503.
 */
public final class EngineStorageService implements StorageService {
  private static final Logger log = LoggerFactory.getLogger(EngineStorageService.class);
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int QUEUE = 4096;

  private final Catalogue catalogue;
  private final ObjectMapper mapper = Json.MAPPER;
  private final ActionCodec codec = new ActionCodec(Json.MAPPER);
  private final DocMapper docs = new DocMapper(Json.MAPPER);
  private final Shard.Options shardOptions;
  private final ExecutorService reads;
  private final ExecutorService writes;
  private final ScheduledExecutorService maintenance;
  private final Map<StorageOp, Handler> handlers = new EnumMap<>(StorageOp.class);
  private final Map<StorageOp, Boolean> isWrite = new EnumMap<>(StorageOp.class);

  @FunctionalInterface
  private interface Handler {
    Object handle(StorageCommand c) throws IOException;
  }

  private EngineStorageService(QuiverConfig config) throws IOException {
    var s = config.storage();
    int cores = Runtime.getRuntime().availableProcessors();
    int readThreads = s.maxSearchThreads() > 0 ? s.maxSearchThreads() : cores;
    reads = pool("quiver-read", readThreads);
    writes = pool("quiver-write", Math.max(4, cores * 2));
    maintenance = Executors.newSingleThreadScheduledExecutor(daemon("quiver-maintenance"));
    shardOptions = new Shard.Options(
        new WalOptions(s.walFsync() == QuiverConfig.FsyncMode.ALWAYS ? FsyncPolicy.ALWAYS : FsyncPolicy.EVERY_MILLIS,
            s.walFsyncIntervalMs(), s.walCapacityMb() * 1024L * 1024L),
        s.commitIntervalSec() * 1000L, 1000);
    catalogue = new Catalogue(s.storagePath(), mapper);
    registerHandlers();
  }

  /** Opens every collection of the storage directory; fails (closing what it opened) if one cannot load. */
  public static EngineStorageService open(QuiverConfig config) throws IOException {
    var service = new EngineStorageService(config);
    try {
      for (String name : StorageLayout.collectionNames(config.storage().storagePath())) {
        long t0 = System.nanoTime();
        try {
          service.catalogue.put(Collection.open(name, service.catalogue.root().resolve(name), service.mapper, service::openShard));
        } catch (IOException | RuntimeException e) {
          throw new CollectionLoadException(name, e);
        }
        log.info("Loaded collection {} in {} ms", name, (System.nanoTime() - t0) / 1_000_000);
      }
      return service;
    } catch (IOException | RuntimeException | Error e) {
      service.close();
      throw e;
    }
  }

  /** Loading one collection failed: names it, for the recovery-mode fallback. */
  public static final class CollectionLoadException extends IOException {
    public final String collection;

    CollectionLoadException(String collection, Throwable cause) {
      super("Failed to load collection `" + collection + "`: " + cause, cause);
      this.collection = collection;
    }
  }

  private Shard openShard(Path dir, CollectionSchema schema) throws IOException {
    return Shard.open(dir, schema, shardOptions, codec, docs, maintenance);
  }

  private void registerHandlers() {
    read(StorageOp.STATUS, c -> Map.of("ready", true, "mode", mode()));
    read(StorageOp.LIST_COLLECTIONS, c -> Map.of("collections", catalogue.names().stream().map(n -> Map.of("name", n)).toList()));
    read(StorageOp.TELEMETRY, c -> telemetry());
    read(StorageOp.COLLECTION_EXISTS, c -> Map.of("exists", catalogue.exists(c.collection())));
    read(StorageOp.GET_COLLECTION, c -> info(catalogue.resolve(c.collection())));
    read(StorageOp.LIST_ALIASES, c -> aliases(null));
    read(StorageOp.LIST_COLLECTION_ALIASES, c -> aliases(catalogue.resolve(c.collection()).name));
    write(StorageOp.CREATE_COLLECTION, this::createCollection);
    write(StorageOp.UPDATE_COLLECTION, this::updateCollection);
    write(StorageOp.DELETE_COLLECTION, c -> {
      timeout(c);
      return catalogue.delete(c.collection());
    });
    write(StorageOp.UPDATE_ALIASES, c -> {
      timeout(c);
      catalogue.updateAliases(c.body() instanceof JsonNode n ? n : null);
      return true;
    });
    write(StorageOp.UPSERT_POINTS, c -> update(c, "upsert"));
    write(StorageOp.DELETE_POINTS, c -> update(c, "delete"));
    write(StorageOp.UPDATE_VECTORS, c -> update(c, "update_vectors"));
    write(StorageOp.DELETE_VECTORS, c -> update(c, "delete_vectors"));
    write(StorageOp.SET_PAYLOAD, c -> update(c, "set_payload"));
    write(StorageOp.OVERWRITE_PAYLOAD, c -> update(c, "overwrite_payload"));
    write(StorageOp.DELETE_PAYLOAD, c -> update(c, "delete_payload"));
    write(StorageOp.CLEAR_PAYLOAD, c -> update(c, "clear_payload"));
    write(StorageOp.BATCH_UPDATE, this::batch);
    write(StorageOp.CREATE_FIELD_INDEX, this::createIndex);
    write(StorageOp.DELETE_FIELD_INDEX, this::deleteIndex);
    read(StorageOp.GET_POINT, this::getPoint);
    read(StorageOp.GET_POINTS, this::getPoints);
    read(StorageOp.SCROLL_POINTS, this::scroll);
    read(StorageOp.COUNT_POINTS, this::count);
    read(StorageOp.SEARCH_POINTS, c -> batchOf(c, false, this::search));
    read(StorageOp.SEARCH_BATCH, c -> batchOf(c, true, this::search));
    read(StorageOp.RECOMMEND_POINTS, c -> batchOf(c, false, this::recommend));
    read(StorageOp.RECOMMEND_BATCH, c -> batchOf(c, true, this::recommend));
    read(StorageOp.QUERY_POINTS, c -> batchOf(c, false, this::query));
    read(StorageOp.QUERY_BATCH, c -> {
      // the batch form names its list `searches` like the other batches
      return batchOf(c, true, this::query);
    });
  }

  /**
   * The universal query API's basic forms: no {@code query} (points in id order), or nearest to a
   * dense vector, a sparse vector or a point id. Prefetch, fusion, formulas and the other query kinds
   * answer 400 until they are implemented.
   */
  private JsonNode query(Collection col, ObjectNode body) throws IOException {
    CollectionSchema schema = col.schema();
    for (String unsupported : new String[] {"prefetch"}) {
      if (Changes.field(body, unsupported) != null) {
        throw ApiException.badRequest(unsupported + " is not supported by this server yet");
      }
    }
    ObjectNode withLimit = body.deepCopy();
    if (!withLimit.has("limit") || withLimit.get("limit").isNull()) {
      withLimit.put("limit", 10);
    }
    var c = SearchOps.common(withLimit, schema);
    JsonNode q = Changes.field(body, "query");
    String using = body.path("using").isTextual() ? body.get("using").textValue() : "";
    ObjectNode out = F.objectNode();
    if (q == null) {
      Query filter = c.filter() == null ? new MatchAllDocsQuery() : FilterQueries.toQuery(c.filter(), schema.payload());
      Shard.Page page = col.shard.read(r -> r.scroll(filter, null, c.limit() + c.offset(), c.selection().selector()));
      ArrayNode points = out.putArray("points");
      List<Point> list = page.points();
      for (int i = c.offset(); i < list.size(); i++) {
        ObjectNode rec = PointRequests.record(list.get(i), c.selection(), schema);
        ObjectNode sp = F.objectNode();
        sp.set("id", rec.get("id"));
        sp.put("version", 0);
        sp.put("score", 0.0f);
        sp.set("payload", rec.get("payload"));
        sp.set("vector", rec.get("vector"));
        points.add(sp);
      }
      return out;
    }
    if (q.isObject() && q.has("nearest")) {
      q = q.get("nearest");
    }
    SearchOps.Target target;
    Query exclude = null;
    if (q.isArray()) {
      target = SearchOps.target(F.objectNode().put("name", using).set("vector", q), schema);
    } else if (q.isObject() && (q.has("indices") || q.has("values"))) {
      target = SearchOps.target(F.objectNode().put("name", using).set("vector", q), schema);
    } else if (q.isIntegralNumber() || q.isTextual()) {
      PointId id = PointRequests.id(q, "query");
      Point p = col.shard.read(r -> r.get(id, DocMapper.Selector.ALL));
      if (p == null) {
        throw ApiException.notFound("No point with id " + id + " found");
      }
      if (p.sparse().containsKey(using)) {
        target = new SearchOps.Target(using, null, p.sparse().get(using));
      } else if (p.dense().containsKey(using)) {
        target = new SearchOps.Target(using, p.dense().get(using), null);
      } else {
        throw ApiException.badRequest("Point " + id + " has no vector `" + using + "`");
      }
      exclude = SearchOps.excluding(List.of(id));
    } else {
      throw ApiException.badRequest("this kind of query is not supported by this server yet (supported: a vector, a sparse vector, a point id, or nearest)");
    }
    SearchOps.Target t = target;
    Query ex = exclude;
    out.set("points", col.shard.read(r -> SearchOps.search(r, t, c, ex)));
    return out;
  }

  @FunctionalInterface
  private interface OneSearch {
    JsonNode run(Collection col, ObjectNode request) throws IOException;
  }

  /** A single request, or {@code {"searches": [...]}}, each answered in order. */
  private Object batchOf(StorageCommand c, boolean batch, OneSearch one) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    ObjectNode body = CollectionConfigs.object(body(c), "body");
    if (!batch) {
      return col.use(() -> one.run(col, body));
    }
    JsonNode searches = body.get("searches");
    if (searches == null || !searches.isArray()) {
      throw ApiException.formatError("missing field `searches`");
    }
    return col.use(() -> {
      ArrayNode out = F.arrayNode();
      for (int i = 0; i < searches.size(); i++) {
        out.add(one.run(col, CollectionConfigs.object(searches.get(i), "searches[" + i + "]")));
      }
      return out;
    });
  }

  private JsonNode search(Collection col, ObjectNode body) throws IOException {
    CollectionSchema schema = col.schema();
    var target = SearchOps.target(body.get("vector"), schema);
    var common = SearchOps.common(body, schema);
    return col.shard.read(r -> SearchOps.search(r, target, common, null));
  }

  private JsonNode recommend(Collection col, ObjectNode body) throws IOException {
    CollectionSchema schema = col.schema();
    var req = SearchOps.recommend(body, schema);
    var spec = schema.dense().get(req.using());
    if (spec == null) {
      throw ApiException.badRequest("recommendation over sparse vectors is not supported by this server yet");
    }
    Collection lookup = req.lookupCollection() == null ? col : catalogue.resolve(req.lookupCollection());
    String lookupVector = req.lookupCollection() == null ? req.using() : req.lookupVector();
    java.util.function.Function<PointId, float[]> byId = id -> {
      try {
        Point p = lookup.shard.read(r -> r.get(id, new DocMapper.Selector(false, true, java.util.Set.of(lookupVector))));
        if (p == null) {
          throw ApiException.notFound("No point with id " + id + " found");
        }
        float[] v = p.dense().get(lookupVector);
        if (v == null) {
          throw ApiException.badRequest("Point " + id + " has no vector `" + lookupVector + "`");
        }
        if (v.length != spec.size()) {
          throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got " + v.length);
        }
        return v;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
    List<PointId> exampleIds = new ArrayList<>();
    List<float[]> pos = SearchOps.denseExamples(req.positive(), spec, byId, exampleIds);
    List<float[]> neg = SearchOps.denseExamples(req.negative(), spec, byId, exampleIds);
    var c = req.common();
    org.apache.lucene.search.Query exclude = lookup == col ? SearchOps.excluding(exampleIds) : null;
    return col.shard.read(r -> {
      if (req.strategy().equals("average_vector")) {
        var target = new SearchOps.Target(req.using(), SearchOps.averageVector(pos, neg, spec.distance()), null);
        return SearchOps.search(r, target, c, exclude);
      }
      org.apache.lucene.search.Query filter = SearchOps.combine(
          c.filter() == null ? null : FilterQueries.toQuery(c.filter(), schema.payload()), exclude);
      io.quiver.engine.Distance d = spec.distance();
      io.quiver.engine.VectorSearch.VectorScorer scorer = req.strategy().equals("best_score")
          ? v -> SearchOps.bestScore(d, pos, neg, v)
          : v -> SearchOps.sumScores(d, pos, neg, v);
      var hits = io.quiver.engine.VectorSearch.scan(r.searcher(), io.quiver.engine.Fields.dense(req.using()), scorer, true,
          filter, c.limit() + c.offset());
      if (c.threshold() != null) {
        hits = hits.stream().filter(h -> h.score() >= c.threshold()).toList();
      }
      return SearchOps.render(r, hits, c);
    });
  }

  private void read(StorageOp op, Handler h) {
    handlers.put(op, h);
    isWrite.put(op, false);
  }

  private void write(StorageOp op, Handler h) {
    handlers.put(op, h);
    isWrite.put(op, true);
  }

  @Override
  public CompletionStage<Object> execute(StorageCommand command) {
    Handler h = handlers.get(command.op());
    if (h == null) {
      return CompletableFuture.failedFuture(ApiException.notImplemented(command.op().name().toLowerCase()));
    }
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return h.handle(command);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, isWrite.get(command.op()) ? writes : reads);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(ApiException.unavailable("Service overloaded: too many requests in the queue"));
    }
  }

  @Override
  public String mode() {
    return "normal";
  }

  // ---- collections ----

  private Object createCollection(StorageCommand c) throws IOException {
    timeout(c);
    ObjectNode config = CollectionConfigs.create(body(c));
    catalogue.create(c.collection(), config, this::openShard);
    log.info("Created collection {}", c.collection());
    return true;
  }

  private Object updateCollection(StorageCommand c) throws IOException {
    timeout(c);
    Collection col = catalogue.resolve(c.collection());
    return col.use(() -> {
      synchronized (col) {
        col.updateConfig(CollectionConfigs.update(col.config(), body(c)));
      }
      return true;
    });
  }

  private ObjectNode info(Collection col) throws IOException {
    return col.use(() -> {
      ObjectNode out = F.objectNode();
      out.put("status", "green");
      out.put("optimizer_status", "ok");
      CollectionSchema schema = col.schema();
      int[] counts = col.shard.read(r -> new int[] {r.numDocs(), r.segments(),
          r.count(new org.apache.lucene.search.TermInSetQuery(io.quiver.engine.Fields.HAS_VECTOR,
              schema.dense().keySet().stream().map(org.apache.lucene.util.BytesRef::new).toList()))});
      out.put("indexed_vectors_count", counts[2]);
      out.put("points_count", counts[0]);
      out.put("segments_count", Math.max(1, counts[1]));
      out.set("config", col.config());
      out.set("payload_schema", payloadSchema(col));
      return out;
    });
  }

  private ObjectNode payloadSchema(Collection col) throws IOException {
    PayloadSchema ps = col.schema().payload();
    ObjectNode out = F.objectNode();
    for (String field : ps.fields().keySet()) {
      Filter notEmpty = FilterParser.parse(mapper.readTree("{\"must_not\": [{\"is_empty\": {\"key\": " + mapper.writeValueAsString(field) + "}}]}"));
      int n = col.shard.read(r -> r.count(FilterQueries.toQuery(notEmpty, ps)));
      out.set(field, ps.toJson(field, n));
    }
    return out;
  }

  private Object aliases(String collection) {
    ArrayNode list = F.arrayNode();
    catalogue.aliases().forEach((alias, target) -> {
      if (collection == null || collection.equals(target)) {
        list.addObject().put("alias_name", alias).put("collection_name", target);
      }
    });
    return F.objectNode().set("aliases", list);
  }

  private List<Map<String, Object>> telemetry() throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Collection col : catalogue.all()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", col.name);
      m.put("points", (long) col.shard.read(Shard.Reader::numDocs));
      out.add(m);
    }
    return out;
  }

  // ---- points: updates ----

  private Object update(StorageCommand c, String kind) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    boolean wait = flag(c, "wait");
    return col.use(() -> {
      PointOps.Op op = PointOps.parse(kind, body(c), col.schema());
      return updateResult(col.shard.write(view -> {
        var changes = new Changes(view);
        op.apply(changes);
        return changes.actions();
      }, wait), wait);
    });
  }

  private Object batch(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    boolean wait = flag(c, "wait");
    JsonNode operations = CollectionConfigs.object(body(c), "body").get("operations");
    if (operations == null || !operations.isArray()) {
      throw ApiException.formatError("missing field `operations`");
    }
    return col.use(() -> {
      List<PointOps.Op> ops = new ArrayList<>();
      for (int i = 0; i < operations.size(); i++) {
        ObjectNode step = CollectionConfigs.object(operations.get(i), "operations[" + i + "]");
        if (step.size() != 1) {
          throw ApiException.formatError("operations[" + i + "]: expected exactly one operation");
        }
        var e = step.fields().next();
        ops.add(PointOps.parse(e.getKey(), e.getValue(), col.schema()));
      }
      long seq = col.shard.write(view -> {
        var changes = new Changes(view);
        for (PointOps.Op op : ops) {
          op.apply(changes);
        }
        return changes.actions();
      }, wait);
      List<Object> results = new ArrayList<>();
      for (int i = 0; i < ops.size(); i++) {
        results.add(updateResult(seq, wait));
      }
      return results;
    });
  }

  private Object createIndex(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    boolean wait = flag(c, "wait");
    ObjectNode body = CollectionConfigs.object(body(c), "body");
    JsonNode name = body.get("field_name");
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("missing field `field_name`");
    }
    return col.use(() -> {
      PayloadSchema next;
      try {
        next = col.schema().payload().with(name.textValue(), PayloadSchema.parseIndexRequest(name.textValue(), body.get("field_schema")));
      } catch (IllegalArgumentException e) {
        throw ApiException.formatError(e.getMessage());
      }
      return updateResult(reindex(col, next, wait), wait);
    });
  }

  private Object deleteIndex(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    boolean wait = flag(c, "wait");
    String field = c.param("field_name");
    return col.use(() -> updateResult(reindex(col, col.schema().payload().without(field), wait), wait));
  }

  /** Switches the payload schema and rewrites every point so its index fields follow it. */
  private long reindex(Collection col, PayloadSchema next, boolean wait) throws IOException {
    synchronized (col) {
      col.updatePayloadSchema(next);
      return col.shard.write(view -> {
        var changes = new Changes(view);
        for (Point p : view.read(r -> r.scroll(null, null, Integer.MAX_VALUE - 1, DocMapper.Selector.ALL).points())) {
          changes.put(p);
        }
        return changes.actions();
      }, wait);
    }
  }

  private static Map<String, Object> updateResult(long seq, boolean wait) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("operation_id", seq);
    m.put("status", wait ? "completed" : "acknowledged");
    return m;
  }

  // ---- points: reads ----

  private Object getPoint(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    String raw = c.param("id");
    PointId id = parsePathId(raw);
    return col.use(() -> {
      var sel = PointRequests.selection(null, F.booleanNode(true), true, col.schema());
      Point p = col.shard.read(r -> r.get(id, sel.selector()));
      if (p == null) {
        throw ApiException.notFound("Point with id " + raw + " does not exists!");
      }
      return PointRequests.record(p, sel, col.schema());
    });
  }

  static PointId parsePathId(String raw) {
    if (raw != null && raw.matches("\\d{1,20}")) {
      try {
        return PointId.of(Long.parseUnsignedLong(raw));
      } catch (NumberFormatException ignored) {
        // falls through to the error below
      }
    }
    if (raw != null && PointId.parseUuid(raw) != null) {
      return new PointId.Uuid(PointId.parseUuid(raw));
    }
    throw ApiException.formatError("Unable to parse point id `" + raw + "`: expected an unsigned integer or a UUID");
  }

  private Object getPoints(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    ObjectNode body = CollectionConfigs.object(body(c), "body");
    List<PointId> ids = PointRequests.ids(body.get("ids"), "ids");
    return col.use(() -> {
      var sel = PointRequests.selection(body.get("with_payload"), withVector(body), true, col.schema());
      ArrayNode out = F.arrayNode();
      for (Point p : col.shard.read(r -> r.get(ids, sel.selector()))) {
        out.add(PointRequests.record(p, sel, col.schema()));
      }
      return out;
    });
  }

  private Object scroll(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    JsonNode raw = body(c);
    ObjectNode body = raw == null || raw.isNull() ? F.objectNode() : CollectionConfigs.object(raw, "body");
    var v = Validation.body();
    Long limitValue = v.range(body.get("limit"), "limit", 1, Integer.MAX_VALUE - 1);
    v.throwIfAny();
    int limit = limitValue == null ? 10 : limitValue.intValue();
    JsonNode offsetNode = Changes.field(body, "offset");
    PointId offset = offsetNode == null ? null : PointRequests.id(offsetNode, "offset");
    if (Changes.field(body, "order_by") != null) {
      throw ApiException.badRequest("order_by is not supported by this server yet");
    }
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    return col.use(() -> {
      var sel = PointRequests.selection(body.get("with_payload"), withVector(body), true, col.schema());
      Query q = filter == null ? new MatchAllDocsQuery() : FilterQueries.toQuery(filter, col.schema().payload());
      Shard.Page page = col.shard.read(r -> r.scroll(q, offset, limit, sel.selector()));
      ObjectNode out = F.objectNode();
      ArrayNode points = out.putArray("points");
      page.points().forEach(p -> points.add(PointRequests.record(p, sel, col.schema())));
      out.set("next_page_offset", page.next() == null ? F.nullNode() : page.next().toJson());
      return out;
    });
  }

  private Object count(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    JsonNode raw = body(c);
    ObjectNode body = raw == null || raw.isNull() ? F.objectNode() : CollectionConfigs.object(raw, "body");
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    return col.use(() -> {
      Query q = filter == null ? new MatchAllDocsQuery() : FilterQueries.toQuery(filter, col.schema().payload());
      return Map.of("count", col.shard.read(r -> r.count(q)));
    });
  }

  // ---- helpers ----

  /** {@code with_vector}, or its alias {@code with_vectors}. */
  static JsonNode withVector(JsonNode body) {
    return body.has("with_vector") ? body.get("with_vector") : body.get("with_vectors");
  }

  private static JsonNode body(StorageCommand c) {
    return c.body() instanceof JsonNode n ? n : null;
  }

  private static boolean flag(StorageCommand c, String name) {
    String v = c.param(name);
    if (v == null) {
      return false;
    }
    return switch (v) {
      case "true", "1", "" -> true;
      case "false", "0" -> false;
      default -> throw new ApiException(400, "Format error in query params: " + name + ": expected true or false, got `" + v + "`");
    };
  }

  private static void timeout(StorageCommand c) {
    String t = c.param("timeout");
    if (t == null) {
      return;
    }
    long value;
    try {
      value = Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new ApiException(400, "Format error in query params: timeout: invalid digit found in string");
    }
    if (value < 1) {
      throw new ApiException(422, "Validation error in query params: [timeout: value " + t + " invalid, must be 1 or larger]");
    }
  }

  private static ExecutorService pool(String name, int threads) {
    return new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), daemon(name));
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    reads.shutdown();
    writes.shutdown();
    try {
      writes.awaitTermination(30, TimeUnit.SECONDS);
      reads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Collection col : catalogue.closeAll()) {
      try {
        col.close();
      } catch (IOException | RuntimeException e) {
        log.error("Closing collection {} failed; its WAL will be replayed at next start", col.name, e);
      }
    }
    maintenance.shutdownNow();
  }
}
