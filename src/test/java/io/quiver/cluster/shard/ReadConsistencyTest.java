package io.quiver.cluster.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiver.engine.PointId;
import io.quiver.storage.collection.ShardEndpoint.Hit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Read consistency as Qdrant's replica sets resolve it: how many replicas are asked, and what their answers keep. */
class ReadConsistencyTest {
  static Hit hit(long id, float score) {
    return new Hit(PointId.of(id), score, null, 1, null, null);
  }

  @Test
  void consistencyAsksAsManyReplicasAsQdrant() {
    assertEquals(new ReplicatedShard.Resolution(1, false), ReplicatedShard.Resolution.of(null, 3));
    assertEquals(new ReplicatedShard.Resolution(2, false), ReplicatedShard.Resolution.of("2", 3));
    assertEquals(new ReplicatedShard.Resolution(3, false), ReplicatedShard.Resolution.of("7", 3), "a factor is clamped to the active replicas");
    assertEquals(new ReplicatedShard.Resolution(3, true), ReplicatedShard.Resolution.of("majority", 3));
    assertEquals(new ReplicatedShard.Resolution(2, false), ReplicatedShard.Resolution.of("quorum", 3));
    assertEquals(new ReplicatedShard.Resolution(3, false), ReplicatedShard.Resolution.of("all", 3));
    assertEquals(new ReplicatedShard.Resolution(1, false), ReplicatedShard.Resolution.of("all", 1));
  }

  @Test
  void answersKeepWhatEnoughReplicasAgreeOn() {
    List<Hit> a = List.of(hit(1, 0.9f), hit(2, 0.8f), hit(3, 0.7f));
    List<Hit> b = List.of(hit(1, 0.9f), hit(2, 0.5f), hit(3, 0.7f));
    List<Hit> c = List.of(hit(1, 0.9f), hit(3, 0.7f));
    var all = new ReplicatedShard.Resolution(3, false);
    assertEquals(List.of(hit(1, 0.9f), hit(3, 0.7f)), ReplicatedShard.resolveHits(List.of(a, b, c), all));
    var majority = new ReplicatedShard.Resolution(3, true);
    assertEquals(List.of(hit(1, 0.9f), hit(3, 0.7f)), ReplicatedShard.resolveHits(List.of(a, b, c), majority));
    assertEquals(List.of(hit(1, 0.9f), hit(2, 0.8f), hit(3, 0.7f)), ReplicatedShard.resolveHits(List.of(a, a, b), majority));
    assertEquals(5L, ReplicatedShard.resolveCount(List.of(7L, 5L, 6L), all));
    assertEquals(6L, ReplicatedShard.resolveCount(List.of(7L, 5L, 6L), majority));
  }
}
