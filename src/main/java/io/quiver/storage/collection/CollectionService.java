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

  /** Qdrant's CollectionInfo, with {@code size_on_disk_bytes} (a Quiver extension, as in recovery mode). */
  public ObjectNode info(Collection col) throws IOException {
    ObjectNode out = F.objectNode();
    out.put("status", "green");
    out.put("optimizer_status", "ok");
    CollectionSchema schema = col.schema();
    int[] counts = col.shard.read(r -> new int[] {r.numDocs(), r.segments(),
        r.countWithVector(schema.dense().values().stream().filter(s -> s.m() > 0 && !s.multi()).map(VectorSpec::name).toList())});
    out.put("indexed_vectors_count", counts[2]);
    out.put("points_count", counts[0]);
    out.put("segments_count", Math.max(1, counts[1]));
    out.set("config", col.config());
    out.set("payload_schema", payloadSchema(col));
    out.put("size_on_disk_bytes", FileSizes.sizeOf(col.dir));
    return out;
  }

  private ObjectNode payloadSchema(Collection col) throws IOException {
    PayloadSchema ps = col.schema().payload();
    ObjectNode out = F.objectNode();
    for (String field : ps.fields().keySet()) {
      Filter notEmpty = new Filter(null, null, List.of(new Condition.IsEmpty(JsonPath.parse(field))), null);
      int n = col.shard.read(r -> r.count(notEmpty));
      out.set(field, ps.toJson(field, n));
    }
    return out;
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

  /** Copies the payload indexes and every point of {@code source} into the new, empty {@code target}. */
  private static void populate(Collection source, Collection target) throws IOException {
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
        List<Action> puts = new ArrayList<>(page.points().size());
        for (Point p : page.points()) {
          puts.add(new Action.Put(p));
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

  public boolean update(Collection col, CollectionRequest.Update req) throws IOException {
    synchronized (col) {
      col.updateConfig(req.update().applyTo(col.config()));
    }
    return true;
  }

  public boolean delete(String name) throws IOException {
    return catalogue.delete(name);
  }

  // ---- payload indexes ----

  public long createIndex(Collection col, CollectionRequest.CreateIndex req) throws IOException {
    return reindex(col, col.schema().payload().with(req.field(), req.index()), req.write().waitForResult());
  }

  public long deleteIndex(Collection col, CollectionRequest.DeleteIndex req) throws IOException {
    return reindex(col, col.schema().payload().without(req.field()), req.write().waitForResult());
  }

  /** Switches the payload schema and rewrites every point so its index fields follow it. */
  private static long reindex(Collection col, PayloadSchema next, boolean wait) throws IOException {
    synchronized (col) {
      PayloadSchema previous = col.schema().payload();
      col.updatePayloadSchema(next);
      try {
        return col.shard.write(view -> {
          List<Action> puts = new ArrayList<>();
          for (Point p : view.read(r -> r.scroll(null, null, Integer.MAX_VALUE - 1, DocMapper.Selector.ALL).points())) {
            puts.add(new Action.Put(p));
          }
          return puts;
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

  // ---- telemetry ----

  /** Per collection: points, vector counts and bytes (estimates, as Qdrant's), disk usage and config. */
  public List<Map<String, Object>> telemetry() throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Collection col : catalogue.all()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", col.name);
      long points = col.shard.read(Shard.Reader::numDocs);
      m.put("points", points);
      long vectors = 0;
      long vectorBytes = 0;
      for (var spec : col.schema().dense().values()) {
        long n = col.shard.read(r -> r.countWithVector(List.of(spec.name())));
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
}
