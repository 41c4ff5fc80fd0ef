package io.quiver.storage.query;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.OrderBy;
import io.quiver.engine.query.Plan;
import io.quiver.engine.query.QueryExecutor;
import io.quiver.engine.query.Sampling;
import io.quiver.error.ApiException;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.point.PointReads;
import io.quiver.storage.point.PointWrites;
import io.quiver.storage.point.Records;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A shard held by this node: the {@link ShardEndpoint} calls run on its Lucene shard, on {@code
 * executor} (the storage's bounded pools: a call made from one of their threads runs on it at once,
 * so a coordinator never waits for a thread of the pool it occupies). Plans what it is asked with
 * the same {@link QueryPlanner} a one-shard collection uses, so both answer alike.
 */
public final class LocalShard implements ShardEndpoint {
  private final Collection collection;
  private final int id;
  private final Shard shard;
  private final Executor executor;
  private final QueryPlanner planner = new QueryPlanner(null);

  public LocalShard(Collection collection, int id, Shard shard, Executor executor) {
    this.collection = collection;
    this.id = id;
    this.shard = shard;
    this.executor = executor;
  }

  /** The opener of local shards whose endpoints run on {@code executor}. */
  public static Collection.ShardOpener opener(EngineOpener engine, Executor executor) {
    return new Collection.ShardOpener() {
      @Override
      public Shard open(java.nio.file.Path dir, CollectionSchema schema) throws IOException {
        return engine.open(dir, schema);
      }

      @Override
      public ShardEndpoint endpoint(Collection collection, int id, Shard shard) {
        return new LocalShard(collection, id, shard, executor);
      }
    };
  }

  /** Opens an engine shard. */
  @FunctionalInterface
  public interface EngineOpener {
    Shard open(java.nio.file.Path dir, CollectionSchema schema) throws IOException;
  }

  @Override
  public int id() {
    return id;
  }

  @FunctionalInterface
  public interface Work<T> {
    T run() throws IOException;
  }

  /** The engine shard behind this endpoint. */
  public Shard shard() {
    return shard;
  }

  /** The collection this shard belongs to. */
  public Collection collection() {
    return collection;
  }

  /** Runs {@code work} on the storage's pools (at once when the caller is on one), as this endpoint's calls do. */
  public <T> CompletionStage<T> run(Work<T> work) {
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return work.run();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(ApiException.unavailable("Service overloaded: too many requests in the queue"));
    }
  }

  @Override
  public CompletionStage<List<ShardEndpoint.Hit>> search(Search call) {
    return run(() -> {
      CollectionSchema schema = collection.schema();
      var resolution = new QueryPlanner.Resolution(call.stage(), QueryPlanner.byStage(call.stage(), call.examples()), call.filter());
      Plan plan = planner.plan(schema, resolution, call.take(), call.scale());
      Records.Selection sel = Records.selection(call.withPayload(), call.withVector(), schema);
      return shard.read(r -> {
        List<io.quiver.engine.query.Hit> hits = call.rootLimit() != null ? QueryExecutor.execute(r, plan, call.rootLimit()) : QueryExecutor.executePrefetch(r, plan);
        int to = call.rootLimit() == null ? hits.size() : (int) Math.min(hits.size(), (long) call.skip() + call.rootLimit());
        return found(r, hits.subList(Math.min(call.skip(), to), to), sel);
      });
    });
  }

  @Override
  public CompletionStage<List<ShardEndpoint.Hit>> rescore(Rescore call) {
    return run(() -> {
      Plan plan = planner.planStage(collection.schema(), call.stage(), call.examples(), call.limit());
      return shard.read(r -> {
        List<List<io.quiver.engine.query.Hit>> sources = new ArrayList<>();
        for (List<ShardEndpoint.Hit> source : call.sources()) {
          List<io.quiver.engine.query.Hit> docs = new ArrayList<>(source.size());
          for (ShardEndpoint.Hit h : source) {
            int doc = r.doc(h.id());
            if (doc >= 0) { // deleted since it was found: as if the prefetch had not found it
              docs.add(new io.quiver.engine.query.Hit(doc, h.score(), h.orderValue(), h.version() == 0));
            }
          }
          sources.add(docs);
        }
        return found(r, QueryExecutor.rescore(r, plan, sources), null);
      });
    });
  }

  /** Hits as they cross: id, score, order value, version (0 when scrolled), and the payload and vectors of {@code sel} (null: none). */
  private static List<ShardEndpoint.Hit> found(Shard.Reader r, List<io.quiver.engine.query.Hit> hits, Records.Selection sel) throws IOException {
    int[] docs = new int[hits.size()];
    boolean[] versioned = new boolean[hits.size()];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = hits.get(i).doc();
      versioned[i] = !hits.get(i).scrolled();
    }
    Shard.Reader.Identity[] identities = r.identify(docs, versioned);
    List<ShardEndpoint.Hit> out = new ArrayList<>(docs.length);
    for (int i = 0; i < docs.length; i++) {
      io.quiver.engine.query.Hit h = hits.get(i);
      PointId pid = identities[i].id();
      long version = identities[i].version();
      if (sel == null || !sel.loadsAnything()) {
        out.add(new ShardEndpoint.Hit(pid, h.score(), h.orderValue(), version, null, null));
      } else {
        ObjectNode rec = Records.record(r.load(h.doc(), pid, sel.selector()), sel, r.schema());
        out.add(new ShardEndpoint.Hit(pid, h.score(), h.orderValue(), version, rec.get("payload"), rec.get("vector")));
      }
    }
    return out;
  }

  @Override
  public CompletionStage<List<ShardEndpoint.Hit>> retrieve(Retrieve call) {
    return run(() -> {
      CollectionSchema schema = collection.schema();
      Records.Selection sel = Records.selection(call.withPayload(), call.withVector(), schema);
      List<ShardEndpoint.Hit> out = new ArrayList<>();
      for (Point p : shard.read(r -> r.get(call.ids(), sel.selector()))) {
        out.add(record(p, null, sel, schema));
      }
      return out;
    });
  }

  private static ShardEndpoint.Hit record(Point p, Number orderValue, Records.Selection sel, CollectionSchema schema) {
    ObjectNode rec = Records.record(p, sel, schema);
    return new ShardEndpoint.Hit(p.id(), 0f, orderValue, 0, rec.get("payload"), rec.get("vector"));
  }

  @Override
  public CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors) {
    return run(() -> shard.read(r -> r.get(ids, new DocMapper.Selector(false, true, vectors))));
  }

  @Override
  public CompletionStage<Page> scroll(Scroll call) {
    return run(() -> {
      CollectionSchema schema = collection.schema();
      Records.Selection sel = Records.selection(call.withPayload(), call.withVector(), schema);
      if (call.orderBy() != null) {
        var order = call.orderBy();
        FieldIndex index = PointReads.rangeIndex(schema, order.key());
        return shard.read(r -> {
          List<ShardEndpoint.Hit> out = new ArrayList<>();
          for (OrderBy.Hit h : OrderBy.top(r, order.key(), index, order.descending(), order.startFrom(), call.filter(), call.limit())) {
            PointId pid = r.idOf(h.doc());
            out.add(record(r.load(h.doc(), pid, sel.selector()), h.value(), sel, schema));
          }
          return new Page(out, null);
        });
      }
      Shard.Page page = shard.read(r -> r.scroll(call.filter(), call.offset(), call.limit(), sel.selector()));
      List<ShardEndpoint.Hit> out = new ArrayList<>(page.points().size());
      page.points().forEach(p -> out.add(record(p, null, sel, schema)));
      return new Page(out, page.next());
    });
  }

  @Override
  public CompletionStage<Long> count(Filter filter) {
    return run(() -> (long) shard.read(r -> r.count(filter)));
  }

  @Override
  public CompletionStage<List<Facets.Hit>> facet(JsonPath key, Filter filter, int limit) {
    return run(() -> {
      FieldIndex index = PointReads.facetIndex(collection.schema(), key);
      return shard.read(r -> Facets.top(r, key, index, filter, limit));
    });
  }

  @Override
  public CompletionStage<VectorSample> sample(Filter filter, String using, int n) {
    return run(() -> {
      Sampling.Counted c = shard.read(r -> Sampling.counted(r, filter, using, n, new Random()));
      return new VectorSample(c.points(), c.matched());
    });
  }

  @Override
  public CompletionStage<Stats> stats() {
    return run(() -> {
      CollectionSchema schema = collection.schema();
      Stats s = shard.read(r -> {
        Map<String, Long> vectors = new HashMap<>();
        for (VectorSpec spec : schema.dense().values()) {
          vectors.put(spec.name(), (long) r.countWithVector(List.of(spec.name())));
        }
        long indexed = r.countIndexedWithVector(schema.dense().values().stream().filter(v -> v.m() > 0 && !v.multi()).map(VectorSpec::name).toList());
        return new Stats(r.numDocs(), r.segments(), indexed, vectors, 0, false);
      });
      return new Stats(s.points(), s.segments(), s.indexedVectors(), s.vectors(), shard.sizeOnDisk(), shard.optimizing());
    });
  }

  @Override
  public CompletionStage<WriteResult> write(Write call) {
    return run(() -> {
      long seq = PointWrites.applyToShard(shard, collection.schema(), call.operations(), call.waitForResult());
      return new WriteResult(seq, call.waitForResult() && shard.isVisible(seq));
    });
  }
}
