package io.quiver.cluster.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionConfigParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The replicated metadata's transitions, refusals and persisted forms. */
class MetaStateTest {
  static ObjectNode config(String body) throws Exception {
    return CollectionConfigParser.withDefaultShardNumber(CollectionConfigParser.create(Json.MAPPER.readTree(body)), 3);
  }

  static final List<ShardMeta> THREE = List.of(new ShardMeta(0, List.of(1L), null), new ShardMeta(1, List.of(2L), null),
      new ShardMeta(2, List.of(3L), null));

  @Test
  void collectionsAliasesAndIndexesChangeAsQdrantsDo() throws Exception {
    MetaState s = MetaState.EMPTY
        .apply(new MetaOp.PutPeer(new PeerMeta(1, "http://a:6335", null, "a:7000")))
        .apply(new MetaOp.CreateCollection("docs", config("{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"), THREE));
    assertEquals(3, s.collections().get("docs").config().at("/params/shard_number").asInt());
    assertEquals(List.of(1), s.collections().get("docs").shardsOn(2).stream().map(ShardMeta::id).toList());

    var dup = assertThrows(ApiException.class, () -> s.apply(new MetaOp.CreateCollection("docs", config("{}"), THREE)));
    assertEquals(409, dup.status());
    assertEquals("Wrong input: Collection `docs` already exists!", dup.getMessage());

    MetaState aliased = s.apply(new MetaOp.ChangeAliases(List.of(new AliasRequest.Create("docs", "d"))));
    assertEquals("docs", aliased.resolve("d").name());
    // all or nothing: the second action fails, the first is not kept
    var missing = assertThrows(ApiException.class, () -> aliased.apply(new MetaOp.ChangeAliases(
        List.of(new AliasRequest.Create("docs", "e"), new AliasRequest.Delete("nope")))));
    assertEquals(404, missing.status());
    assertNull(aliased.resolve("e"));

    MetaState indexed = aliased.apply(new MetaOp.CreateIndex("d", "city", Json.MAPPER.readTree("{\"data_type\": \"keyword\"}")));
    assertEquals("keyword", indexed.collections().get("docs").payloadIndex().at("/city/data_type").asText());
    MetaState updated = indexed.apply(new MetaOp.UpdateCollection("docs",
        CollectionConfigParser.update(Json.MAPPER.readTree("{\"optimizers_config\": {\"indexing_threshold\": 7}}")).diff()));
    assertEquals(7, updated.collections().get("docs").config().at("/optimizer_config/indexing_threshold").asInt());

    MetaState deleted = updated.apply(new MetaOp.DeleteCollection("d"));
    assertTrue(deleted.collections().isEmpty());
    assertTrue(deleted.aliases().isEmpty(), "a collection's aliases go with it");
    assertEquals(404, assertThrows(ApiException.class, () -> deleted.apply(new MetaOp.DeleteCollection("docs"))).status());
  }

  @Test
  void shardKeysBelongToCollectionsWithCustomSharding() throws Exception {
    ObjectNode custom = config("{\"sharding_method\": \"auto\"}");
    ((ObjectNode) custom.get("params")).put("sharding_method", "custom");
    MetaState s = MetaState.EMPTY.apply(new MetaOp.CreateCollection("c", custom, List.of()));
    MetaState keyed = s.apply(new MetaOp.CreateShardKey("c", new IntNode(7), List.of(new ShardMeta(0, List.of(1L), new IntNode(7)))));
    assertEquals(1, keyed.collections().get("c").shardsOf(new IntNode(7)).size());
    assertEquals(0, keyed.collections().get("c").shardsOf(new TextNode("7")).size(), "integer and string keys differ");
    assertThrows(ApiException.class, () -> keyed.apply(new MetaOp.CreateShardKey("c", new IntNode(7), List.of())));
    assertTrue(keyed.apply(new MetaOp.DropShardKey("c", new IntNode(7))).collections().get("c").shards().isEmpty());
  }

  @Test
  void operationsAndSnapshotsRoundTrip() throws Exception {
    List<MetaOp> ops = List.of(
        new MetaOp.PutPeer(new PeerMeta(1, "http://a:6335", "http://a:6333", "a:7000")),
        new MetaOp.CreateCollection("docs", config("{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"), THREE),
        new MetaOp.CreateIndex("docs", "n", Json.MAPPER.readTree("{\"data_type\": \"integer\", \"params\": {\"type\": \"integer\", \"lookup\": true, \"range\": false}}")),
        new MetaOp.ChangeAliases(List.of(new AliasRequest.Create("docs", "a"), new AliasRequest.Rename("a", "b"))),
        new MetaOp.DeleteIndex("docs", "n"),
        new MetaOp.RemovePeer(1, true));
    MetaState s = MetaState.EMPTY;
    for (MetaOp op : ops) {
      MetaOp back = MetaOp.fromBytes(op.toBytes());
      assertEquals(op.toJson().toString(), back.toJson().toString());
      s = s.apply(back);
    }
    MetaState restored = MetaState.fromBytes(s.toBytes());
    assertArrayEquals(s.toBytes(), restored.toBytes());
  }

  @Test
  void theMachineAnswersRefusalsAndTellsListeners() throws Exception {
    var meta = new ClusterMeta();
    int[] heard = {0};
    meta.listen(new ClusterMeta.Listener() {
      @Override
      public void applied(MetaOp op, MetaState before, MetaState after) {
        heard[0]++;
      }

      @Override
      public void restored(MetaState state) {
        heard[0] += 100;
      }
    });
    byte[] create = new MetaOp.CreateCollection("docs", config("{}"), THREE).toBytes();
    ClusterMeta.check(meta.apply(1, create));
    MetaState after = meta.state();
    var refused = assertThrows(ApiException.class, () -> ClusterMeta.check(meta.apply(2, create)));
    assertEquals(409, refused.status());
    assertSame(after, meta.state());
    assertEquals(1, heard[0]);
    assertEquals(2, meta.appliedIndex());
    meta.restore(MetaState.EMPTY.toBytes(), 5);
    assertEquals(101, heard[0]);
    assertEquals(5, meta.appliedIndex());
  }

  @Test
  void replicaStatesMoveThePrimaryAndItsTerm() throws Exception {
    MetaState s = MetaState.EMPTY.apply(new MetaOp.CreateCollection("r", config("{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"),
        List.of(new ShardMeta(0, List.of(1L, 2L, 3L), null))));
    ShardMeta shard = s.collections().get("r").shards().get(0);
    assertEquals(3, shard.primary(), "the Active replica of the highest peer id orders the writes");
    assertEquals(1, shard.term());

    // the primary dies: the next one takes over in a new term
    MetaState dead = s.apply(new MetaOp.SetReplicaState("r", 0, 3, ReplicaState.DEAD, null, 1));
    ShardMeta d = dead.collections().get("r").shards().get(0);
    assertEquals(2, d.primary());
    assertEquals(2, d.term());
    assertEquals(ReplicaState.DEAD, d.state(3));
    // a proposal made in the old term is refused
    assertEquals(400, assertThrows(ApiException.class,
        () -> dead.apply(new MetaOp.SetReplicaState("r", 0, 1, ReplicaState.DEAD, null, 1))).status());
    // a follower's death keeps the term
    MetaState one = dead.apply(new MetaOp.SetReplicaState("r", 0, 1, ReplicaState.DEAD, ReplicaState.ACTIVE, 2));
    assertEquals(2, one.collections().get("r").shards().get(0).term());
    // the last Active replica is never deactivated
    assertEquals(400, assertThrows(ApiException.class,
        () -> one.apply(new MetaOp.SetReplicaState("r", 0, 2, ReplicaState.DEAD, null, 0))).status());

    // a Partial replica of the old primary's time is Dead once the primary changes
    MetaState partial = one.apply(new MetaOp.SetReplicaState("r", 0, 1, ReplicaState.PARTIAL, ReplicaState.DEAD, 2));
    assertEquals(ReplicaState.PARTIAL, partial.collections().get("r").shards().get(0).state(1));
    MetaState back = partial.apply(new MetaOp.SetReplicaState("r", 0, 3, ReplicaState.ACTIVE, null, 0));
    ShardMeta b = back.collections().get("r").shards().get(0);
    assertEquals(3, b.primary());
    assertEquals(3, b.term());
    assertEquals(ReplicaState.DEAD, b.state(1));

    // the states survive the operation log and the snapshot
    var op = new MetaOp.SetReplicaState("r", 0, 1, ReplicaState.PARTIAL, ReplicaState.DEAD, 3);
    assertEquals(op, MetaOp.fromBytes(op.toBytes()));
    MetaState restored = MetaState.fromBytes(back.toBytes());
    assertEquals(back.collections().get("r").shards(), restored.collections().get("r").shards());
  }

  @Test
  void transfersEndAsQdrantsDo() throws Exception {
    MetaState s = MetaState.EMPTY.apply(new MetaOp.CreateCollection("t", config("{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"),
        List.of(new ShardMeta(0, List.of(1L), null))));
    // a move: the receiver Partial, then Active, and the source's replica gone
    MetaState moving = s.apply(new MetaOp.StartTransfer("t", 0, 1, 2, false, "stream_records"));
    ShardMeta m = moving.collections().get("t").shards().get(0);
    assertEquals(ReplicaState.PARTIAL, m.state(2));
    assertEquals(new ShardMeta.Transfer(1, 2, false, "stream_records"), m.transferTo(2));
    ShardMeta moved = moving.apply(new MetaOp.SetReplicaState("t", 0, 2, ReplicaState.ACTIVE, ReplicaState.PARTIAL, 0))
        .collections().get("t").shards().get(0);
    assertEquals(List.of(2L), moved.replicas());
    assertTrue(moved.transfers().isEmpty());
    // a write the moved-away replica missed does not bring it back
    MetaState after = moving.apply(new MetaOp.SetReplicaState("t", 0, 2, ReplicaState.ACTIVE, ReplicaState.PARTIAL, 0));
    assertSame(after, after.apply(new MetaOp.SetReplicaState("t", 0, 1, ReplicaState.DEAD, null, 0)));

    // an aborted move leaves no replica on the receiver (it would recover into a copy), the source as it was
    ShardMeta abortedMove = moving.apply(new MetaOp.AbortTransfer("t", 0, 1, 2)).collections().get("t").shards().get(0);
    assertEquals(List.of(1L), abortedMove.replicas());
    assertEquals(ReplicaState.ACTIVE, abortedMove.state(1));
    assertTrue(abortedMove.transfers().isEmpty());

    // an aborted copy leaves the receiver Dead
    MetaState copying = s.apply(new MetaOp.StartTransfer("t", 0, 1, 2, true, "stream_records"));
    ShardMeta abortedCopy = copying.apply(new MetaOp.AbortTransfer("t", 0, 1, 2)).collections().get("t").shards().get(0);
    assertEquals(ReplicaState.DEAD, abortedCopy.state(2));
    assertEquals(ReplicaState.ACTIVE, abortedCopy.state(1));
    assertTrue(abortedCopy.transfers().isEmpty());
    assertEquals(400, assertThrows(ApiException.class, () -> s.apply(new MetaOp.AbortTransfer("t", 0, 1, 2))).status());

    // a copy onto an Active replica has nothing to do
    MetaState twice = copying.apply(new MetaOp.SetReplicaState("t", 0, 2, ReplicaState.ACTIVE, ReplicaState.PARTIAL, 0));
    assertSame(twice, twice.apply(new MetaOp.StartTransfer("t", 0, 1, 2, true, "stream_records")));
  }
}
