package io.quiver.storage.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.config.QuiverConfig;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.NoSpace;
import io.quiver.engine.Shard;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.StorageIo;
import io.quiver.engine.filter.Datetimes;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterException;
import io.quiver.engine.filter.FilterParser;
import io.quiver.engine.filter.FilterQueries;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.OrderBy;
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
import java.util.Comparator;
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
  private final QueryOps queries;
  private final SnapshotOps snapshots;
  private final StrictMode strictMode = new StrictMode();
  private final ObjectMapper mapper = Json.MAPPER;
  private final ActionCodec codec = new ActionCodec(Json.MAPPER);
  private final DocMapper docs = new DocMapper(Json.MAPPER);
  private final Shard.Options shardOptions;
  private final StorageIo storageIo;
  private volatile java.util.function.Consumer<String> noSpaceListener = message -> { };
  private final ExecutorService reads;
  private final ExecutorService writes;
  private final ScheduledExecutorService maintenance;
  private final Map<StorageOp, Handler> handlers = new EnumMap<>(StorageOp.class);
  private final Map<StorageOp, Boolean> isWrite = new EnumMap<>(StorageOp.class);

  @FunctionalInterface
  private interface Handler {
    Object handle(StorageCommand c) throws IOException;
  }

  private EngineStorageService(QuiverConfig config, StorageIo io) throws IOException {
    this.storageIo = io;
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
    queries = new QueryOps(catalogue);
    snapshots = new SnapshotOps(catalogue, mapper, s.storagePath(), s.snapshotsPath(), this::openShard);
    registerHandlers();
  }

  /**
   * Restores a full snapshot taken by Quiver into this storage (the start-up option {@code
   * --storage-snapshot}); existing collections are kept unless {@code force}.
   *
   * @return the collections restored
   */
  public List<String> restoreFullSnapshot(Path file, boolean force) throws IOException {
    return snapshots.restoreFull(file, force);
  }

  /** Opens every collection of the storage directory; fails (closing what it opened) if one cannot load. */
  public static EngineStorageService open(QuiverConfig config) throws IOException {
    return open(config, StorageIo.REAL);
  }

  /** As {@link #open(QuiverConfig)}, with the shards' files reached through {@code io} (a test seam). */
  public static EngineStorageService open(QuiverConfig config, StorageIo io) throws IOException {
    var service = new EngineStorageService(config, io);
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
    Shard shard = Shard.open(dir, schema, shardOptions, codec, docs, maintenance, storageIo);
    shard.onNoSpace(message -> noSpaceListener.accept(message));
    return shard;
  }

  @Override
  public void onNoSpace(java.util.function.Consumer<String> listener) {
    noSpaceListener = listener;
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
    read(StorageOp.QUERY_POINTS, c -> batchOf(c, false, queries::query));
    read(StorageOp.FACET, c -> batchOf(c, false, this::facet));
    read(StorageOp.DISCOVER_POINTS, c -> batchOf(c, false, this::discover));
    read(StorageOp.DISCOVER_BATCH, c -> batchOf(c, true, this::discover));
    read(StorageOp.SEARCH_GROUPS, c -> batchOf(c, false, (col, b) -> groups(col, b, this::prepareSearch)));
    read(StorageOp.RECOMMEND_GROUPS, c -> batchOf(c, false, (col, b) -> groups(col, b, this::prepareRecommend)));
    read(StorageOp.SEARCH_MATRIX_PAIRS, c -> batchOf(c, false, (col, b) -> matrix(col, b, false)));
    read(StorageOp.SEARCH_MATRIX_OFFSETS, c -> batchOf(c, false, (col, b) -> matrix(col, b, true)));
    read(StorageOp.QUERY_BATCH, c -> batchOf(c, false, queries::batch));
    read(StorageOp.QUERY_GROUPS, c -> batchOf(c, false, queries::groups));
    SnapshotHandlers.register(snapshots, (op, h) -> read(op, h::handle), (op, h) -> write(op, h::handle));
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
    Limits.atMost(searches, Limits.MAX_BATCH_SEARCHES, "searches");
    return col.use(() -> {
      ArrayNode out = F.arrayNode();
      for (int i = 0; i < searches.size(); i++) {
        out.add(one.run(col, CollectionConfigs.object(searches.get(i), "searches[" + i + "]")));
      }
      return out;
    });
  }

  private JsonNode search(Collection col, ObjectNode body) throws IOException {
    return render(col, prepareSearch(col, body));
  }

  private JsonNode recommend(Collection col, ObjectNode body) throws IOException {
    return render(col, prepareRecommend(col, body));
  }

  private JsonNode discover(Collection col, ObjectNode body) throws IOException {
    return render(col, prepareDiscover(col, body));
  }

  /**
   * Qdrant's grouped search: the hits of the search (or recommendation) grouped by the values of a
   * payload key (strings and integers; each element of an array is a value), at most
   * {@code group_size} hits per group and {@code limit} groups, groups ordered by their best hit.
   * The search is widened until the groups are full or the candidates run out.
   */
  private JsonNode groups(Collection col, ObjectNode body, Preparer preparer) throws IOException {
    JsonNode groupBy = body.get("group_by");
    if (groupBy == null || !groupBy.isTextual()) {
      throw ApiException.formatError("missing field `group_by`");
    }
    JsonPath key = orderKey(groupBy, "group_by");
    if (!body.has("group_size") || body.get("group_size").isNull()) {
      throw ApiException.formatError("missing field `group_size`");
    }
    var v = Validation.body();
    Long groupSize = v.range(body.get("group_size"), "group_size", 1, 100_000);
    v.throwIfAny();
    GroupLookup lookup = groupLookup(catalogue, body);
    Prepared p = preparer.prepare(col, body);
    var c = p.common();
    int limit = c.limit();
    int size = groupSize.intValue();
    var perHit = new SearchOps.Common(c.filter(), c.limit(), 0, c.ef(), c.exact(), c.threshold(), c.selection());
    Map<Object, List<io.quiver.engine.VectorSearch.Hit>> groups = col.shard.read(r -> {
      int k = (int) Math.min(SearchOps.MAX_LIMIT, Math.max(32L, (long) limit * size * 2));
      while (true) {
        var hits = p.source().hits(r, k);
        var out = groupHits(r, hits, io.quiver.engine.VectorSearch.Hit::doc, key, limit, size);
        if (full(out, limit, size) || hits.size() < k || k >= r.numDocs()) {
          return out;
        }
        k = (int) Math.min((long) k * 4, Integer.MAX_VALUE - 1);
      }
    });
    ObjectNode result = F.objectNode();
    ArrayNode list = result.putArray("groups");
    for (var e : groups.entrySet()) {
      ObjectNode group = list.addObject();
      group.set("hits", col.shard.read(r -> SearchOps.render(r, e.getValue(), perHit)));
      group.set("id", e.getKey() instanceof Long n ? F.numberNode(n) : F.textNode(e.getKey().toString()));
      if (lookup != null) {
        lookup.addTo(group, e.getKey());
      }
    }
    return result;
  }

  /**
   * Groups hits (best first) by the values of a payload key: the first {@code limit} values seen
   * open the groups, each keeps its first {@code size} hits.
   */
  static <H> Map<Object, List<H>> groupHits(Shard.Reader r, List<H> hits, java.util.function.ToIntFunction<H> doc,
      JsonPath key, int limit, int size) throws IOException {
    var payloadOnly = new DocMapper.Selector(true, false, java.util.Set.of());
    Map<Object, List<H>> out = new LinkedHashMap<>();
    for (H h : hits) {
      var sd = new org.apache.lucene.search.ScoreDoc(doc.applyAsInt(h), 0f);
      Point point = r.load(sd, r.idOf(sd), payloadOnly);
      for (Object g : groupValues(key, point.payload())) {
        List<H> group = out.get(g);
        if (group == null && out.size() < limit) {
          group = new ArrayList<>();
          out.put(g, group);
        }
        if (group != null && group.size() < size) {
          group.add(h);
        }
      }
    }
    return out;
  }

  static boolean full(Map<Object, ? extends List<?>> groups, int limit, int size) {
    return groups.size() == limit && groups.values().stream().allMatch(l -> l.size() == size);
  }

  /** A parsed {@code with_lookup}: the collection the group ids name points of, and what to show of them. */
  record GroupLookup(Collection collection, PointRequests.Selection selection) {
    /** Adds the point the group id names, if there is one. */
    void addTo(ObjectNode group, Object groupId) throws IOException {
      PointId id = groupPointId(groupId);
      Point found = id == null ? null : collection.shard.read(r -> r.get(id, selection.selector()));
      if (found != null) {
        group.set("lookup", PointRequests.record(found, selection, collection.schema()));
      }
    }
  }

  /** The request's {@code with_lookup}, or null. */
  static GroupLookup groupLookup(Catalogue catalogue, ObjectNode body) {
    JsonNode withLookup = Changes.field(body, "with_lookup");
    if (withLookup == null) {
      return null;
    }
    JsonNode name = withLookup.isObject() ? withLookup.get("collection") : withLookup;
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("with_lookup: expected a collection name or {collection, with_payload, with_vectors}");
    }
    Collection lookup;
    try {
      lookup = catalogue.resolve(name.textValue());
    } catch (ApiException e) {
      if (e.status() != 404) {
        throw e;
      }
      throw ApiException.notFound("Collection " + name.textValue() + " not found"); // Qdrant's lookup wording
    }
    JsonNode lookupPayload = withLookup.isObject() ? withLookup.get("with_payload") : null;
    JsonNode lookupVectors = withLookup.isObject() ? withVector(withLookup) : null;
    return new GroupLookup(lookup, PointRequests.selection(lookupPayload == null ? F.booleanNode(true) : lookupPayload,
        lookupVectors == null ? F.booleanNode(false) : lookupVectors, true, lookup.schema()));
  }

  /** The group values of a payload at {@code key}: strings and integers, array elements one level down. */
  private static List<Object> groupValues(JsonPath key, JsonNode payload) {
    List<Object> out = new ArrayList<>(1);
    for (JsonNode n : key.values(payload)) {
      if (n.isArray()) {
        n.forEach(e -> addGroupValue(e, out));
      } else {
        addGroupValue(n, out);
      }
    }
    return out;
  }

  private static void addGroupValue(JsonNode n, List<Object> out) {
    Object v = n.isTextual() ? n.textValue() : n.isIntegralNumber() && n.canConvertToLong() ? (Object) n.longValue() : null;
    if (v != null && !out.contains(v)) {
      out.add(v);
    }
  }

  /** The point id a group value names in the lookup collection, or null when it cannot be one. */
  private static PointId groupPointId(Object value) {
    try {
      return PointId.parse(value instanceof Long n ? F.numberNode(n) : F.textNode(value.toString()));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The best {@code k} hits of a parsed search-like request, best first, on one reader. */
  @FunctionalInterface
  interface HitSource {
    List<io.quiver.engine.VectorSearch.Hit> hits(Shard.Reader r, int k) throws IOException;
  }

  /** A parsed search-like request: its common parameters and how to find its hits. */
  record Prepared(SearchOps.Common common, HitSource source) {}

  @FunctionalInterface
  private interface Preparer {
    Prepared prepare(Collection col, ObjectNode body) throws IOException;
  }

  private static JsonNode render(Collection col, Prepared p) throws IOException {
    var c = p.common();
    return col.shard.read(r -> SearchOps.render(r, p.source().hits(r, c.limit() + c.offset()), c));
  }

  private Prepared prepareSearch(Collection col, ObjectNode body) {
    CollectionSchema schema = col.schema();
    var target = SearchOps.target(body.get("vector"), schema);
    var common = SearchOps.common(body, schema);
    return new Prepared(common, (r, k) -> SearchOps.hits(r, target, common, null, k));
  }

  /** Exact scan by a custom score (higher is better), with the request's filter, exclusions and threshold. */
  private static HitSource scan(CollectionSchema schema, SearchOps.Common c, Query exclude, String using,
      io.quiver.engine.VectorSearch.VectorScorer scorer) {
    var spec = schema.dense().get(using);
    return (r, k) -> {
      Query filter = SearchOps.combine(c.filter() == null ? null : FilterQueries.toQuery(c.filter(), schema.payload()), exclude);
      var hits = io.quiver.engine.VectorSearch.scan(r.searcher(), io.quiver.engine.VectorSearch.field(spec), scorer, true, filter,
          Math.min(k, Math.max(1, r.numDocs())));
      if (c.threshold() != null) {
        hits = hits.stream().filter(h -> h.score() > c.threshold()).toList(); // strictly better, as Qdrant
      }
      return hits;
    };
  }

  private Prepared prepareRecommend(Collection col, ObjectNode body) {
    CollectionSchema schema = col.schema();
    var req = SearchOps.recommend(body, schema);
    var spec = schema.dense().get(req.using());
    if (spec == null) {
      throw ApiException.badRequest("recommendation over sparse vectors is not supported by this server yet");
    }
    Collection lookup = req.lookupCollection() == null ? col : catalogue.resolve(req.lookupCollection());
    String lookupVector = req.lookupCollection() == null ? req.using() : req.lookupVector();
    var byId = exampleVectors(lookup, lookupVector, spec);
    List<PointId> exampleIds = new ArrayList<>();
    // average_vector averages the examples as given and prepares the average; the scoring strategies prepare each
    boolean averaging = req.strategy().equals("average_vector");
    List<float[]> pos = SearchOps.denseExamples(req.positive(), spec, byId, exampleIds, !averaging);
    List<float[]> neg = SearchOps.denseExamples(req.negative(), spec, byId, exampleIds, !averaging);
    var c = req.common();
    Query exclude = lookup == col ? SearchOps.excluding(exampleIds) : null;
    if (req.strategy().equals("average_vector")) {
      var target = new SearchOps.Target(req.using(), SearchOps.averageVector(pos, neg, spec), null);
      return new Prepared(c, (r, k) -> SearchOps.hits(r, target, c, exclude, k));
    }
    SearchOps.Sim sim = SearchOps.sim(spec);
    io.quiver.engine.VectorSearch.VectorScorer scorer = req.strategy().equals("best_score")
        ? v -> SearchOps.bestScore(sim, pos, neg, v)
        : v -> SearchOps.sumScores(sim, pos, neg, v);
    return new Prepared(c, scan(schema, c, exclude, req.using(), scorer));
  }

  /** Resolves examples given by point id to their stored (prepared) vectors in {@code lookup}. */
  private static java.util.function.Function<PointId, float[]> exampleVectors(Collection lookup, String vector,
      io.quiver.engine.VectorSpec spec) {
    return id -> {
      try {
        Point p = lookup.shard.read(r -> r.get(id, new DocMapper.Selector(false, true, java.util.Set.of(vector))));
        if (p == null) {
          throw ApiException.notFound("No point with id " + id + " found");
        }
        float[] v = p.dense().get(vector);
        if (v == null) {
          throw ApiException.badRequest("Point " + id + " has no vector `" + vector + "`");
        }
        if (spec.multi() ? v.length % spec.size() != 0 : v.length != spec.size()) {
          throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got " + v.length);
        }
        return v;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
  }

  /**
   * Qdrant's discovery: with a target, score = (sum over context pairs of +1/0/-1 for being closer to
   * the positive than the negative) + a sigmoid of the similarity to the target; without one (context
   * search), score = the sum over pairs of a sigmoid of how far the point is on the wrong side.
   */
  private Prepared prepareDiscover(Collection col, ObjectNode body) {
    CollectionSchema schema = col.schema();
    String using = body.path("using").isTextual() ? body.get("using").textValue() : "";
    if (schema.sparse().containsKey(using)) {
      throw ApiException.badRequest("discovery over sparse vectors is not supported by this server yet");
    }
    var spec = schema.dense().get(using);
    if (spec == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + using);
    }
    JsonNode target = Changes.field(body, "target");
    JsonNode context = Changes.field(body, "context");
    List<JsonNode> flat = new ArrayList<>();
    if (context != null) {
      if (!context.isArray()) {
        throw ApiException.formatError("context: expected a list of {positive, negative} pairs");
      }
      for (int i = 0; i < context.size(); i++) {
        JsonNode pair = context.get(i);
        if (!pair.isObject() || Changes.field(pair, "positive") == null || Changes.field(pair, "negative") == null) {
          throw ApiException.formatError("context[" + i + "]: expected an object with `positive` and `negative`");
        }
        flat.add(pair.get("positive"));
        flat.add(pair.get("negative"));
      }
    }
    if (target == null && flat.isEmpty()) {
      throw ApiException.badRequest("target and/or context_pairs must be specified");
    }
    JsonNode lookupFrom = Changes.field(body, "lookup_from");
    String lookupName = lookupFrom == null ? null : lookupFrom.path("collection").asText(null);
    Collection lookup = lookupName == null ? col : catalogue.resolve(lookupName);
    String lookupVector = lookupName == null || !lookupFrom.path("vector").isTextual() ? using : lookupFrom.get("vector").textValue();
    var byId = exampleVectors(lookup, lookupVector, spec);
    List<PointId> exampleIds = new ArrayList<>();
    float[] t = target == null ? null : SearchOps.denseExamples(List.of(target), spec, byId, exampleIds, true).get(0);
    List<float[]> pairs = SearchOps.denseExamples(flat, spec, byId, exampleIds, true);
    var c = SearchOps.common(body, schema);
    Query exclude = lookup == col ? SearchOps.excluding(exampleIds) : null;
    SearchOps.Sim sim = SearchOps.sim(spec);
    io.quiver.engine.VectorSearch.VectorScorer scorer = t != null
        ? v -> SearchOps.discoveryScore(sim, t, pairs, v)
        : v -> SearchOps.contextScore(sim, pairs, v);
    return new Prepared(c, scan(schema, c, exclude, using, scorer));
  }

  /**
   * Qdrant's distance matrix: a random sample of points having the vector (and passing the filter),
   * sorted by id, and for each the {@code limit} nearest other points of the sample, scored exactly.
   */
  private JsonNode matrix(Collection col, ObjectNode body, boolean offsets) throws IOException {
    CollectionSchema schema = col.schema();
    String using = body.path("using").isTextual() ? body.get("using").textValue() : "";
    var v = Validation.body();
    Long sample = v.range(body.get("sample"), "sample", 2, 100_000);
    Long limit = v.range(body.get("limit"), "limit", 1, 100_000);
    v.throwIfAny();
    if (schema.sparse().containsKey(using)) {
      throw ApiException.badRequest("distance matrix over sparse vectors is not supported by this server yet");
    }
    var spec = schema.dense().get(using);
    if (spec == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + using);
    }
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    int n = sample == null ? 10 : sample.intValue();
    int k = limit == null ? 3 : limit.intValue();
    List<SearchOps.Sampled> points = col.shard.read(r -> {
      Query has = new org.apache.lucene.search.TermQuery(new org.apache.lucene.index.Term(io.quiver.engine.Fields.HAS_VECTOR, using));
      Query q = SearchOps.combine(has, filter == null ? null : FilterQueries.toQuery(filter, schema.payload()));
      return SearchOps.sample(r, q, io.quiver.engine.Fields.dense(using), n, new java.util.Random());
    });
    List<List<VectorScore>> nearest = new ArrayList<>();
    io.quiver.engine.Distance d = spec.distance();
    Comparator<VectorScore> best = Comparator.comparingDouble(VectorScore::score);
    if (d.higherIsBetter()) {
      best = best.reversed();
    }
    best = best.thenComparing(VectorScore::index);
    if (points.size() >= 2) {
      for (int i = 0; i < points.size(); i++) {
        List<VectorScore> row = new ArrayList<>();
        for (int j = 0; j < points.size(); j++) {
          if (j != i) {
            row.add(new VectorScore(j, d.score(points.get(i).vector(), points.get(j).vector())));
          }
        }
        row.sort(best);
        nearest.add(row.size() > k ? row.subList(0, k) : row);
      }
    }
    ObjectNode out = F.objectNode();
    if (offsets) {
      ArrayNode rows = out.putArray("offsets_row");
      ArrayNode cols = out.putArray("offsets_col");
      ArrayNode scores = out.putArray("scores");
      ArrayNode ids = out.putArray("ids");
      for (int i = 0; i < nearest.size(); i++) {
        for (VectorScore s : nearest.get(i)) {
          rows.add(i);
          cols.add(s.index());
          scores.add(s.score());
        }
      }
      if (points.size() >= 2) {
        points.forEach(p -> ids.add(p.id().toJson()));
      }
    } else {
      ArrayNode pairs = out.putArray("pairs");
      for (int i = 0; i < nearest.size(); i++) {
        for (VectorScore s : nearest.get(i)) {
          ObjectNode pair = pairs.addObject();
          pair.set("a", points.get(i).id().toJson());
          pair.set("b", points.get(s.index()).id().toJson());
          pair.put("score", s.score());
        }
      }
    }
    return out;
  }

  private record VectorScore(int index, float score) {}

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
          checkStrictMode(command);
          return h.handle(command);
        } catch (ApiException e) {
          throw e;
        } catch (IOException | RuntimeException e) {
          throw noSpaceOr(e);
        }
      }, isWrite.get(command.op()) ? writes : reads);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(ApiException.unavailable("Service overloaded: too many requests in the queue"));
    }
  }

  /** Strict mode, for operations on a collection that has it enabled (one place for every limit). */
  private void checkStrictMode(StorageCommand command) throws IOException {
    if (command.collection() == null || command.op() == StorageOp.CREATE_COLLECTION || command.op() == StorageOp.DELETE_COLLECTION) {
      return;
    }
    Collection col;
    try {
      col = catalogue.resolve(command.collection());
    } catch (ApiException missing) {
      return; // the operation answers it
    }
    if (StrictMode.enabled(col) != null) {
      strictMode.check(col, command);
    }
  }

  /**
   * A failure caused by a full disk becomes 507 (the storage verticle then turns the automatic
   * disk write block on); anything else passes unchanged.
   */
  private static RuntimeException noSpaceOr(Exception e) {
    if (NoSpace.causedBy(e)) {
      log.warn("An operation failed for lack of disk space and was not applied: {}", e.toString());
      return ApiException.insufficientStorage(NoSpace.message(e)
          + ": the operation was not applied; writes are blocked until the disk has room again");
    }
    return e instanceof IOException failure ? new UncheckedIOException(failure) : (RuntimeException) e;
  }

  @Override
  public String mode() {
    return "normal";
  }

  // ---- collections ----

  private Object createCollection(StorageCommand c) throws IOException {
    timeout(c);
    ObjectNode body = CollectionConfigs.object(body(c), "body");
    ObjectNode config = CollectionConfigs.create(body);
    Collection source = initFrom(body, config);
    Collection created = catalogue.create(c.collection(), config, this::openShard);
    log.info("Created collection {}", c.collection());
    if (source != null) {
      try {
        source.use(() -> {
          populate(source, created);
          return null;
        });
      } catch (IOException | RuntimeException e) {
        // all or nothing: a collection that could not be filled is not left behind half full
        try {
          catalogue.delete(created.name, created); // not a collection created under that name meanwhile
        } catch (IOException | RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
        log.warn("Collection {} could not be initialized from {}, and was deleted: {}", created.name, source.name, e.toString());
        throw e;
      }
    }
    return true;
  }

  /**
   * The collection {@code init_from} names (aliases resolve), after checking that its vectors fit
   * the new config as Qdrant checks them: each of its dense vectors exists in the new collection
   * with the same size and distance, and (Quiver's own condition, since the points are copied as
   * they are stored) the same datatype and multivector form; each of its sparse vectors exists too.
   */
  private Collection initFrom(ObjectNode body, ObjectNode config) {
    JsonNode initFrom = body.get("init_from");
    if (initFrom == null || initFrom.isNull()) {
      return null;
    }
    JsonNode name = initFrom.isObject() ? initFrom.get("collection") : null;
    if (name == null || !name.isTextual()) {
      throw ApiException.formatError("init_from: missing field `collection`");
    }
    Collection source = catalogue.resolve(name.textValue());
    CollectionSchema from = source.schema();
    CollectionSchema to = CollectionConfigs.schema(config, io.quiver.engine.filter.PayloadSchema.EMPTY);
    boolean fromSingle = source.config().path("params").path("vectors").has("size");
    boolean toSingle = config.path("params").path("vectors").has("size");
    if (fromSingle != toSingle && !(from.dense().isEmpty() && to.dense().isEmpty())) {
      throw ApiException.wrongInput("Vectors configuration is not compatible: origin collection have vectors ["
          + String.join(", ", new java.util.TreeSet<>(from.dense().keySet())) + "], while other vectors ["
          + String.join(", ", new java.util.TreeSet<>(to.dense().keySet())) + "]");
    }
    for (VectorSpec a : new java.util.TreeMap<>(from.dense()).values()) {
      VectorSpec b = to.dense().get(a.name());
      String prefix = "Vectors configuration is not compatible: origin vector " + a.name();
      if (b == null) {
        throw missingVector(a.name());
      }
      if (a.size() != b.size()) {
        throw ApiException.wrongInput(prefix + " size: " + a.size() + ", while other vector size: " + b.size());
      }
      if (a.distance() != b.distance()) {
        throw ApiException.wrongInput(prefix + " distance: " + a.distance().json() + ", while other vector distance: " + b.distance().json());
      }
      if (a.datatype() != b.datatype()) {
        throw ApiException.wrongInput(prefix + " datatype: " + a.datatype() + ", while other vector datatype: " + b.datatype());
      }
      if (a.multi() != b.multi()) {
        throw ApiException.wrongInput(prefix + (a.multi() ? " is" : " is not") + " a multivector, while other vector"
            + (b.multi() ? " is" : " is not"));
      }
    }
    for (String sparse : new java.util.TreeSet<>(from.sparse().keySet())) {
      if (!to.sparse().containsKey(sparse)) {
        throw missingVector(sparse);
      }
    }
    return source;
  }

  private static ApiException missingVector(String name) {
    return ApiException.wrongInput("Vectors configuration is not compatible: origin collection have vector " + name
        + ", while other collection does not");
  }

  /** Copies the payload indexes and every point of {@code source} into the new, empty {@code target}. */
  private void populate(Collection source, Collection target) throws IOException {
    long t0 = System.nanoTime();
    synchronized (target) {
      target.updatePayloadSchema(source.schema().payload());
    }
    PointId after = null;
    long copied = 0;
    while (true) {
      PointId from = after;
      var page = source.shard.read(r -> r.scroll(null, from, INIT_FROM_PAGE, DocMapper.Selector.ALL));
      if (!page.points().isEmpty()) {
        List<io.quiver.engine.Action> puts = new ArrayList<>(page.points().size());
        for (Point p : page.points()) {
          puts.add(new io.quiver.engine.Action.Put(p));
        }
        target.shard.write(view -> puts, false);
        copied += puts.size();
      }
      if (page.next() == null) {
        break;
      }
      after = page.next();
    }
    target.shard.refresh();
    log.info("Collection {} initialized with {} point(s) from {} in {} ms", target.name, copied, source.name,
        (System.nanoTime() - t0) / 1_000_000);
  }

  /** Points copied per write when a collection is created {@code init_from} another. */
  private static final int INIT_FROM_PAGE = 1000;

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
              schema.dense().values().stream().filter(s -> s.m() > 0 && !s.multi())
                  .map(s -> new org.apache.lucene.util.BytesRef(s.name())).toList()))});
      out.put("indexed_vectors_count", counts[2]);
      out.put("points_count", counts[0]);
      out.put("segments_count", Math.max(1, counts[1]));
      out.set("config", col.config());
      out.set("payload_schema", payloadSchema(col));
      // a Quiver extension, as in recovery mode: what the collection's folder holds on disk
      out.put("size_on_disk_bytes", io.quiver.engine.FileSizes.sizeOf(col.dir));
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
      long points = col.shard.read(Shard.Reader::numDocs);
      m.put("points", points);
      // for /telemetry's details levels: estimates, as Qdrant's are
      long vectors = 0;
      long vectorBytes = 0;
      for (var spec : col.schema().dense().values()) {
        long n = col.shard.read(r -> r.count(new org.apache.lucene.search.TermQuery(
            new org.apache.lucene.index.Term(io.quiver.engine.Fields.HAS_VECTOR, spec.name()))));
        vectors += n;
        vectorBytes += n * spec.size() * 4L;
      }
      long disk = col.shard.sizeOnDisk();
      m.put("vectors", vectors);
      m.put("vectors_size_bytes", vectorBytes);
      m.put("payloads_size_bytes", Math.max(0, disk - vectorBytes));
      m.put("disk_usage_bytes", disk);
      m.put("config", col.config());
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
      return updateResult(col.shard, col.shard.write(view -> {
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
    Limits.atMost(operations, Limits.MAX_BATCH_OPERATIONS, "operations");
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
        results.add(updateResult(col.shard, seq, wait));
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
      } catch (FilterException e) {
        if (e.validation()) {
          throw new ApiException(422, "Validation error: " + e.getMessage());
        }
        throw ApiException.formatError(e.getMessage());
      } catch (IllegalArgumentException e) {
        throw ApiException.formatError(e.getMessage());
      }
      return updateResult(col.shard, reindex(col, next, wait), wait);
    });
  }

  private Object deleteIndex(StorageCommand c) throws IOException {
    Collection col = catalogue.resolve(c.collection());
    boolean wait = flag(c, "wait");
    String field = c.param("field_name");
    return col.use(() -> updateResult(col.shard, reindex(col, col.schema().payload().without(field), wait), wait));
  }

  /** Switches the payload schema and rewrites every point so its index fields follow it. */
  private long reindex(Collection col, PayloadSchema next, boolean wait) throws IOException {
    synchronized (col) {
      PayloadSchema previous = col.schema().payload();
      col.updatePayloadSchema(next);
      try {
        return col.shard.write(view -> {
          var changes = new Changes(view);
          for (Point p : view.read(r -> r.scroll(null, null, Integer.MAX_VALUE - 1, DocMapper.Selector.ALL).points())) {
            changes.put(p);
          }
          return changes.actions();
        }, wait);
      } catch (IOException | RuntimeException e) {
        // the shard left no trace of the rewrite (a full disk, say): the schema goes back too
        try {
          col.updatePayloadSchema(previous);
        } catch (IOException | RuntimeException restore) {
          e.addSuppressed(restore);
          log.error("Collection {}: could not restore the payload schema after a failed reindex", col.name, restore);
        }
        throw e;
      }
    }
  }

  /**
   * Qdrant's UpdateResult. With {@code wait}, "completed" once the write is visible; a write that is
   * durable but could not be made visible yet (the index cannot flush on a full disk) stays
   * "acknowledged", as Qdrant answers for a logged but not yet applied operation.
   */
  private static Map<String, Object> updateResult(Shard shard, long seq, boolean wait) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("operation_id", seq);
    m.put("status", wait && shard.isVisible(seq) ? "completed" : "acknowledged");
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
    OrderSpec order = Changes.field(body, "order_by") == null ? null : orderSpec(body.get("order_by"));
    if (order != null && offset != null) {
      throw ApiException.badRequest("Cannot use an `offset` when using `order_by`. The alternative for paging is to use "
          + "`order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value");
    }
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    return col.use(() -> {
      var sel = PointRequests.selection(body.get("with_payload"), withVector(body), true, col.schema());
      Query q = filter == null ? new MatchAllDocsQuery() : FilterQueries.toQuery(filter, col.schema().payload());
      if (order != null) {
        return orderedScroll(col, order, q, limit, sel);
      }
      Shard.Page page = col.shard.read(r -> r.scroll(q, offset, limit, sel.selector()));
      ObjectNode out = F.objectNode();
      ArrayNode points = out.putArray("points");
      page.points().forEach(p -> points.add(PointRequests.record(p, sel, col.schema())));
      out.set("next_page_offset", page.next() == null ? F.nullNode() : page.next().toJson());
      return out;
    });
  }

  /** A parsed {@code order_by}: a key, or {@code {key, direction, start_from}}. */
  record OrderSpec(JsonPath key, boolean descending, Double startFrom) {}

  static OrderSpec orderSpec(JsonNode n) {
    if (n.isTextual()) {
      return new OrderSpec(orderKey(n, "order_by"), false, null);
    }
    if (!n.isObject()) {
      throw ApiException.formatError("order_by: data did not match any variant of untagged enum OrderByInterface");
    }
    JsonPath key = orderKey(n.get("key"), "order_by.key");
    JsonNode dir = Changes.field(n, "direction");
    boolean descending = false;
    if (dir != null) {
      if (!dir.isTextual() || !(dir.textValue().equals("asc") || dir.textValue().equals("desc"))) {
        throw ApiException.formatError("order_by.direction: unknown variant `" + dir.asText() + "`, expected `asc` or `desc`");
      }
      descending = dir.textValue().equals("desc");
    }
    JsonNode from = Changes.field(n, "start_from");
    Double start = null;
    if (from != null) {
      if (from.isNumber()) {
        start = from.doubleValue();
      } else if (from.isTextual() && Datetimes.parseMicros(from.textValue()) != null) {
        start = Datetimes.parseMicros(from.textValue()).doubleValue();
      } else {
        throw ApiException.formatError("order_by.start_from: data did not match any variant of untagged enum StartFrom");
      }
    }
    return new OrderSpec(key, descending, start);
  }

  static JsonPath orderKey(JsonNode n, String where) {
    if (n == null || !n.isTextual()) {
      throw ApiException.formatError(where + ": expected a payload key");
    }
    try {
      return JsonPath.parse(n.textValue());
    } catch (IllegalArgumentException e) {
      throw ApiException.formatError(where + ": " + e.getMessage());
    }
  }

  /** The index that can order {@code key}; 400 when there is none. */
  static FieldIndex rangeIndex(CollectionSchema schema, JsonPath key) {
    FieldIndex index = OrderBy.rangeIndex(schema.payload(), key);
    if (index == null) {
      throw ApiException.badRequest("No range index for `order_by` key: `" + key + "`. Please create one to use "
          + "`order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload "
          + "schemas support Range conditions");
    }
    return index;
  }

  private JsonNode orderedScroll(Collection col, OrderSpec order, Query filter, int limit, PointRequests.Selection sel)
      throws IOException {
    FieldIndex index = rangeIndex(col.schema(), order.key());
    return col.shard.read(r -> {
      ObjectNode out = F.objectNode();
      ArrayNode points = out.putArray("points");
      for (OrderBy.Hit h : OrderBy.top(r.searcher(), order.key(), index, order.descending(), order.startFrom(), filter, limit)) {
        var sd = new org.apache.lucene.search.ScoreDoc(h.doc(), 0f);
        PointId id = r.idOf(sd);
        ObjectNode rec = PointRequests.record(r.load(sd, id, sel.selector()), sel, col.schema());
        if (h.value() instanceof Double d) {
          rec.put("order_value", d);
        } else {
          rec.put("order_value", h.value().longValue());
        }
        points.add(rec);
      }
      out.putNull("next_page_offset");
      return out;
    });
  }

  private JsonNode facet(Collection col, ObjectNode body) throws IOException {
    JsonPath key = orderKey(body.get("key"), "key");
    var v = Validation.body();
    Long limit = v.range(body.get("limit"), "limit", 1, Integer.MAX_VALUE - 1);
    v.throwIfAny();
    JsonNode exact = Changes.field(body, "exact");
    if (exact != null && !exact.isBoolean()) {
      throw ApiException.formatError("exact: invalid type: " + exact.getNodeType().toString().toLowerCase() + ", expected a boolean");
    }
    Filter filter = Changes.field(body, "filter") == null ? null : PointOps.filter(body.get("filter"), "filter");
    FieldIndex index = Facets.facetIndex(col.schema().payload(), key);
    if (index == null) {
      throw ApiException.badRequest("No appropriate index for faceting: `" + key + "`. Please create one to facet on this "
          + "field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
          + "support Match conditions");
    }
    Query q = filter == null ? null : FilterQueries.toQuery(filter, col.schema().payload());
    List<Facets.Hit> hits = col.shard.read(r -> Facets.top(r.searcher(), key, index, q, limit == null ? 10 : limit.intValue()));
    ObjectNode out = F.objectNode();
    ArrayNode list = out.putArray("hits");
    for (Facets.Hit h : hits) {
      ObjectNode hit = list.addObject();
      switch (h.value()) {
        case Long n -> hit.put("value", n);
        case Boolean b -> hit.put("value", b);
        default -> hit.put("value", h.value().toString());
      }
      hit.put("count", h.count());
    }
    return out;
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
