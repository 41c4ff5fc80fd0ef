package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.Action;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.FileSizes;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import io.quiver.request.CollectionConfigParser;
import io.quiver.request.CollectionRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collections as wholes: create (with {@code init_from}), update, delete, describe, list, aliases,
 * payload indexes and the per-collection telemetry figures.
 */
public final class CollectionService {
  private static final Logger log = LoggerFactory.getLogger(CollectionService.class);
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** Points copied per write when a collection is created {@code init_from} another. */
  private static final int INIT_FROM_PAGE = 1000;

  private final Catalogue catalogue;
  private final Collection.ShardOpener opener;

  public CollectionService(Catalogue catalogue, Collection.ShardOpener opener) {
    this.catalogue = catalogue;
    this.opener = opener;
  }

  public Map<String, Object> list() {
    return Map.of("collections", catalogue.names().stream().map(n -> Map.of("name", n)).toList());
  }

  public Map<String, Object> exists(String name) {
    return Map.of("exists", catalogue.exists(name));
  }

  /** Qdrant's CollectionInfo, with {@code size_on_disk_bytes} (a Quiver extension, as in recovery mode); figures summed over the shards. */
  public CompletionStage<ObjectNode> info(Collection col) {
    List<CompletionStage<ShardEndpoint.Stats>> calls = new ArrayList<>();
    col.endpoints().values().forEach(e -> calls.add(e.stats()));
    CompletionStage<ObjectNode> schema = payloadSchema(col);
    return Shards.all(calls).thenCombine(schema, (stats, payloadSchema) -> {
      ObjectNode out = F.objectNode();
      // yellow while merges run or wait, as Qdrant reports pending optimizations
      out.put("status", stats.stream().anyMatch(ShardEndpoint.Stats::optimizing) ? "yellow" : "green");
      out.put("optimizer_status", "ok");
      out.put("indexed_vectors_count", stats.stream().mapToLong(ShardEndpoint.Stats::indexedVectors).sum());
      out.put("points_count", stats.stream().mapToLong(ShardEndpoint.Stats::points).sum());
      out.put("segments_count", stats.stream().mapToInt(s -> Math.max(1, s.segments())).sum());
      out.set("config", col.config());
      out.set("payload_schema", payloadSchema);
      try {
        out.put("size_on_disk_bytes", FileSizes.sizeOf(col.dir));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return out;
    });
  }

  /**
   * The points of each shard: {@code [{"shard_id", "shard_key"?, "points_count"}]}, for the
   * collection's cluster info; a shard this node holds a replica of counts that replica.
   */
  public CompletionStage<List<Map<String, Object>>> shardPoints(Collection col) {
    List<CompletionStage<Map<String, Object>>> calls = new ArrayList<>();
    col.endpoints().forEach((id, e) -> calls.add(e.own().count(null).thenApply(n -> {
      Map<String, Object> shard = new LinkedHashMap<>();
      shard.put("shard_id", id);
      Object key = col.layout().keyOf(id);
      if (key != null) {
        shard.put("shard_key", key);
      }
      shard.put("points_count", n);
      return shard;
    })));
    return Shards.all(calls);
  }

  private CompletionStage<ObjectNode> payloadSchema(Collection col) {
    PayloadSchema ps = col.schema().payload();
    List<String> fields = new ArrayList<>(ps.fields().keySet());
    List<CompletionStage<Long>> counts = new ArrayList<>();
    for (String field : fields) {
      Filter notEmpty = new Filter(null, null, List.of(new Condition.IsEmpty(JsonPath.parse(field))), null);
      List<CompletionStage<Long>> perShard = new ArrayList<>();
      col.endpoints().values().forEach(e -> perShard.add(e.count(notEmpty)));
      counts.add(Shards.all(perShard).thenApply(l -> l.stream().mapToLong(Long::longValue).sum()));
    }
    return Shards.all(counts).thenApply(n -> {
      ObjectNode out = F.objectNode();
      for (int i = 0; i < fields.size(); i++) {
        out.set(fields.get(i), ps.toJson(fields.get(i), n.get(i).intValue()));
      }
      return out;
    });
  }

  /** Every alias, or those of one collection. */
  public ObjectNode aliases(String collection) {
    ArrayNode list = F.arrayNode();
    catalogue.aliases().forEach((alias, target) -> {
      if (collection == null || collection.equals(target)) {
        list.addObject().put("alias_name", alias).put("collection_name", target);
      }
    });
    return F.objectNode().set("aliases", list);
  }

  // ---- create, update, delete ----

  public boolean create(CollectionRequest.Create req) throws IOException {
    Collection source = initFrom(req);
    Collection created = catalogue.create(req.collection(), CollectionConfigParser.withDefaultShardNumber(req.config(), 1), opener);
    log.info("Created collection {}", req.collection());
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
  private Collection initFrom(CollectionRequest.Create req) {
    if (req.initFrom() == null) {
      return null;
    }
    Collection source = catalogue.resolve(req.initFrom());
    CollectionSchema from = source.schema();
    CollectionSchema to = CollectionConfigs.schema(req.config(), PayloadSchema.EMPTY);
    boolean fromSingle = source.config().path("params").path("vectors").has("size");
    boolean toSingle = req.config().path("params").path("vectors").has("size");
    if (fromSingle != toSingle && !(from.dense().isEmpty() && to.dense().isEmpty())) {
      throw ApiException.wrongInput("Vectors configuration is not compatible: origin collection have vectors ["
          + String.join(", ", new TreeSet<>(from.dense().keySet())) + "], while other vectors ["
          + String.join(", ", new TreeSet<>(to.dense().keySet())) + "]");
    }
    for (VectorSpec a : new TreeMap<>(from.dense()).values()) {
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
    for (String sparse : new TreeSet<>(from.sparse().keySet())) {
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

  /**
   * Copies the payload indexes and every point of {@code source} (its shards held here) into the
   * new, empty {@code target}, each point to the shard of {@code target} that holds it.
   */
  private static void populate(Collection source, Collection target) throws IOException {
    long t0 = System.nanoTime();
    synchronized (target) {
      target.updatePayloadSchema(source.schema().payload());
    }
    long copied = 0;
    for (Shard from : source.localShards().values()) {
      PointId after = null;
      while (true) {
        PointId start = after;
        var page = from.read(r -> r.scroll(null, start, INIT_FROM_PAGE, DocMapper.Selector.ALL));
        Map<Integer, List<Action>> puts = new TreeMap<>();
        for (Point p : page.points()) {
          puts.computeIfAbsent(target.router().shardOf(p.id()), s -> new ArrayList<>()).add(new Action.Put(p));
        }
        for (var e : puts.entrySet()) {
          Shard to = target.localShards().get(e.getKey());
          if (to == null) {
            throw ApiException.unavailable("Service unavailable: shard " + e.getKey() + " of collection " + target.name + " is not held here");
          }
          to.write(view -> e.getValue(), false);
          copied += e.getValue().size();
        }
        if (page.next() == null) {
          break;
        }
        after = page.next();
      }
    }
    for (Shard to : target.localShards().values()) {
      to.refresh();
    }
    log.info("Collection {} initialized with {} point(s) from {} in {} ms", target.name, copied, source.name,
        (System.nanoTime() - t0) / 1_000_000);
  }

  public boolean update(Collection col, CollectionRequest.Update req) throws IOException {
    synchronized (col) {
      col.updateConfig(req.update().applyTo(col.config()));
    }
    return true;
  }

  public boolean delete(String name) throws IOException {
    return catalogue.delete(name);
  }

  // ---- shard keys ----

  /**
   * Creates a shard key's shards on this node (custom sharding on a single node): {@code
   * shards_number} of them (default: the collection's {@code shard_number}), with new ids. 400 with
   * Qdrant's wording for a collection with automatic sharding, a key that exists, an empty placement.
   */
  public boolean createShardKey(Collection col, CollectionRequest.CreateShardKey req) throws IOException {
    if (!col.layout().custom()) {
      throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
    }
    String shown = ShardLayout.shown(req.key());
    if (req.placement() != null && req.placement().isEmpty()) {
      throw ApiException.badRequest("Sharding key " + shown
          + " placement cannot be empty. If you want to use random placement, do not specify placement");
    }
    int n = req.shardsNumber() != null ? req.shardsNumber() : Math.max(1, col.config().path("params").path("shard_number").asInt(1));
    try (Collection.Lease ignored = col.lease()) {
      synchronized (col) {
        if (col.layout().shardKeys().contains(req.key())) {
          throw ApiException.badRequest("Sharding key " + shown + " already exists for collection " + col.name);
        }
        int first = col.layout().nextId();
        col.addShards(req.key(), ShardRouter.range(n).stream().map(i -> first + i).toList(), null);
      }
    }
    log.info("Collection {}: created shard key {} ({} shard(s))", col.name, shown, n);
    return true;
  }

  /** Drops a shard key's shards and their points; 400 with Qdrant's wording when there is no such key. */
  public boolean dropShardKey(Collection col, CollectionRequest.DropShardKey req) throws IOException {
    if (!col.layout().custom()) {
      throw ApiException.badRequest("Shard Key cannot be created with Auto sharding method");
    }
    if (!col.dropShards(req.key())) {
      throw ApiException.badRequest("Sharding key " + ShardLayout.shown(req.key()) + " does not exist for collection " + col.name);
    }
    log.info("Collection {}: dropped shard key {}", col.name, ShardLayout.shown(req.key()));
    return true;
  }

  // ---- payload indexes ----

  /** Creates a payload index on every shard held here; answers the UpdateResult. */
  public Map<String, Object> createIndex(Collection col, CollectionRequest.CreateIndex req) throws IOException {
    return reindex(col, col.schema().payload().with(req.field(), req.index()), req.write().waitForResult());
  }

  public Map<String, Object> deleteIndex(Collection col, CollectionRequest.DeleteIndex req) throws IOException {
    return reindex(col, col.schema().payload().without(req.field()), req.write().waitForResult());
  }

  /** Switches the payload schema and rewrites every point of every local shard so its index fields follow it. */
  private static Map<String, Object> reindex(Collection col, PayloadSchema next, boolean wait) throws IOException {
    synchronized (col) {
      PayloadSchema previous = col.schema().payload();
      col.updatePayloadSchema(next);
      try {
        long seq = 0;
        boolean visible = true;
        for (Shard shard : col.localShards().values()) {
          long s = shard.write(view -> {
            List<Action> puts = new ArrayList<>();
            for (Point p : view.read(r -> r.scroll(null, null, Integer.MAX_VALUE - 1, DocMapper.Selector.ALL).points())) {
              puts.add(new Action.Put(p));
            }
            return puts;
          }, wait);
          seq = Math.max(seq, s);
          visible &= shard.isVisible(s);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("operation_id", seq);
        m.put("status", wait && visible ? "completed" : "acknowledged");
        return m;
      } catch (IOException | RuntimeException e) {
        // a shard that failed left no trace of its rewrite (a full disk, say): the schema goes back;
        // shards rewritten already keep index fields the schema no longer names, which nothing reads
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

  // ---- telemetry ----

  /** Per collection: points, vector counts and bytes (estimates, as Qdrant's), disk usage and config. */
  public List<Map<String, Object>> telemetry() throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Collection col : catalogue.all()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", col.name);
      long points = 0;
      long vectors = 0;
      long vectorBytes = 0;
      long disk = 0;
      List<Map<String, Object>> shards = new ArrayList<>();
      for (var e : col.localShards().entrySet()) {
        Shard shard = e.getValue();
        long shardPoints = shard.read(Shard.Reader::numDocs);
        long shardVectors = 0;
        long shardVectorBytes = 0;
        for (var spec : col.schema().dense().values()) {
          long n = shard.read(r -> r.countWithVector(List.of(spec.name())));
          shardVectors += n;
          shardVectorBytes += n * spec.size() * 4L;
        }
        long shardDisk = shard.sizeOnDisk();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("id", e.getKey());
        s.put("points", shardPoints);
        s.put("vectors", shardVectors);
        s.put("vectors_size_bytes", shardVectorBytes);
        s.put("payloads_size_bytes", Math.max(0, shardDisk - shardVectorBytes));
        s.put("disk_usage_bytes", shardDisk);
        shards.add(s);
        points += shardPoints;
        vectors += shardVectors;
        vectorBytes += shardVectorBytes;
        disk += shardDisk;
      }
      m.put("points", points);
      m.put("shards", shards);
      m.put("vectors", vectors);
      m.put("vectors_size_bytes", vectorBytes);
      m.put("payloads_size_bytes", Math.max(0, disk - vectorBytes));
      m.put("disk_usage_bytes", disk);
      m.put("config", col.config());
      out.add(m);
    }
    return out;
  }
}
