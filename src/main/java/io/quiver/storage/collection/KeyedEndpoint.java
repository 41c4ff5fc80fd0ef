package io.quiver.storage.collection;

import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The endpoint of a shard of a shard key (custom sharding), as the coordinator sees it: the shard's
 * own endpoint, local or remote, whose hits and records carry the key they were found under, as
 * Qdrant's {@code ScoredPoint.shard_key} and {@code Record.shard_key} show it.
 */
final class KeyedEndpoint implements ShardEndpoint {
  private final ShardEndpoint shard;
  private final Object key;

  @Override
  public ShardEndpoint consistent(String consistency) {
    return new KeyedEndpoint(shard.consistent(consistency), key);
  }

  KeyedEndpoint(ShardEndpoint shard, Object key) {
    this.shard = shard;
    this.key = key;
  }

  private List<Hit> keyed(List<Hit> hits) {
    return hits.stream().map(h -> h.withShardKey(key)).toList();
  }

  @Override
  public int id() {
    return shard.id();
  }

  @Override
  public ShardEndpoint own() {
    return shard.own();
  }

  @Override
  public CompletionStage<List<Hit>> search(Search call) {
    return shard.search(call).thenApply(this::keyed);
  }

  @Override
  public CompletionStage<List<Hit>> rescore(Rescore call) {
    return shard.rescore(call).thenApply(this::keyed);
  }

  @Override
  public CompletionStage<List<Hit>> retrieve(Retrieve call) {
    return shard.retrieve(call).thenApply(this::keyed);
  }

  @Override
  public CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors) {
    return shard.vectors(ids, vectors);
  }

  @Override
  public CompletionStage<Page> scroll(Scroll call) {
    return shard.scroll(call).thenApply(p -> new Page(keyed(p.points()), p.next()));
  }

  @Override
  public CompletionStage<Long> count(Filter filter) {
    return shard.count(filter);
  }

  @Override
  public CompletionStage<List<Facets.Hit>> facet(JsonPath key, Filter filter, int limit) {
    return shard.facet(key, filter, limit);
  }

  @Override
  public CompletionStage<VectorSample> sample(Filter filter, String using, int n) {
    return shard.sample(filter, using, n);
  }

  @Override
  public CompletionStage<Stats> stats() {
    return shard.stats();
  }

  @Override
  public CompletionStage<Runnable> reserve() {
    return shard.reserve();
  }

  @Override
  public CompletionStage<WriteResult> write(Write call) {
    return shard.write(call);
  }
}
