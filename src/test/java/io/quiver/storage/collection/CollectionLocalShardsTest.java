package io.quiver.storage.collection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.DocMapper;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.json.Json;
import io.quiver.request.CollectionConfigParser;
import io.quiver.request.PointOperation;
import io.quiver.request.PointStruct;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.storage.query.LocalShard;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shards a collection holds on this node change while it lives (replicas placed on or taken
 * from the node): a shard added is empty, local and persisted; a shard dropped is deleted, reached
 * through its remote endpoint, and stays dropped after a reopen; both are idempotent, and a failed
 * add changes nothing.
 */
@Timeout(60)
class CollectionLocalShardsTest {
  @TempDir Path dir;
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  final Shard.Options options = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 64 * 1024), 3_600_000, 1000);
  /** The remote endpoints the opener made, by shard id: the same stub for a shard every time. */
  final Map<Integer, ShardEndpoint> remotes = new ConcurrentHashMap<>();
  /** A shard directory whose opening fails, or null. */
  volatile Path failing;

  final Collection.ShardOpener opener = new Collection.ShardOpener() {
    @Override
    public Shard open(Path shardDir, CollectionSchema schema) throws IOException {
      if (shardDir.equals(failing)) {
        Files.createDirectories(shardDir.resolve("index")); // half made, then failed
        throw new IOException("disk trouble");
      }
      return Shard.open(shardDir, schema, options, new ActionCodec(Json.MAPPER), new DocMapper(Json.MAPPER), scheduler);
    }

    @Override
    public ShardEndpoint endpoint(Collection collection, int id, Shard shard) {
      return new LocalShard(collection, id, shard, Runnable::run);
    }

    @Override
    public ShardEndpoint remote(Collection collection, int id) {
      return remotes.computeIfAbsent(id, CollectionLocalShardsTest::remoteStub);
    }
  };

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  @Test
  void aShardAddedHoldsPointsAcrossAReopenAndADroppedOneIsGone() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 3}", Set.of(0))) {
      assertEquals(List.of(0), List.copyOf(c.localShards().keySet()));
      assertSame(remotes.get(1), c.endpoints().get(1));

      assertTrue(c.addLocalShard(1));
      assertFalse(c.addLocalShard(1));
      assertEquals(List.of(0, 1), List.copyOf(c.localShards().keySet()));
      assertInstanceOf(LocalShard.class, c.endpoints().get(1));
      assertSame(remotes.get(2), c.endpoints().get(2));
      assertEquals(List.of(0, 1), ShardLayout.read(col, Json.MAPPER).localIds());
      assertEquals(0, count(c, 1));
      upsert(c.endpoints().get(1), 1, 2, 3);
      assertEquals(3, count(c, 1));
    }

    try (Collection c = Collection.open("c", col, Json.MAPPER, opener)) {
      assertEquals(List.of(0, 1), List.copyOf(c.localShards().keySet()));
      assertEquals(3, count(c, 1));
      var found = c.endpoints().get(1).retrieve(new ShardEndpoint.Retrieve(List.of(PointId.of(2), PointId.of(9)), WithPayload.ALL,
          WithVector.NONE)).toCompletableFuture().get();
      assertEquals(List.of(PointId.of(2)), found.stream().map(ShardEndpoint.Hit::id).toList());

      assertTrue(c.dropLocalShard(1));
      assertFalse(c.dropLocalShard(1));
      assertFalse(Files.exists(ShardLayout.shardDir(col, 1)));
      assertSame(remotes.get(1), c.endpoints().get(1));
      assertEquals(List.of(0), List.copyOf(c.localShards().keySet()));
      assertEquals(List.of(0), ShardLayout.read(col, Json.MAPPER).localIds());
      assertEquals(List.of(0, 1, 2), c.layout().shardIds());
    }

    try (Collection c = Collection.open("c", col, Json.MAPPER, opener)) {
      assertEquals(List.of(0), List.copyOf(c.localShards().keySet()));
      assertSame(remotes.get(1), c.endpoints().get(1));
      // added again: empty, whatever it held before
      assertTrue(c.addLocalShard(1));
      assertEquals(0, count(c, 1));
    }
  }

  @Test
  void aCollectionMayHoldNoneOfItsShards() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 2}", Set.of(0))) {
      upsert(c.endpoints().get(0), 1);
      assertTrue(c.dropLocalShard(0));
      assertEquals(Map.of(), c.localShards());
      assertEquals(List.of(), ShardLayout.read(col, Json.MAPPER).localIds());
      assertSame(remotes.get(0), c.endpoints().get(0));
      assertTrue(remotes.containsValue(c.endpointOf(PointId.of(1)))); // points route to the peers holding them
    }
    try (Collection c = Collection.open("c", col, Json.MAPPER, opener)) {
      assertEquals(Map.of(), c.localShards());
      assertEquals(List.of(), c.layout().localIds());
      // a leftover directory (a drop that could not delete it) is not what the shard added holds
      Files.createDirectories(ShardLayout.shardDir(col, 0).resolve("junk"));
      assertTrue(c.addLocalShard(0));
      assertFalse(Files.exists(ShardLayout.shardDir(col, 0).resolve("junk")));
      assertEquals(0, count(c, 0));
    }
  }

  @Test
  void aFailedAddChangesNothing() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 2}", Set.of(0))) {
      failing = ShardLayout.shardDir(col, 1);
      assertThrows(IOException.class, () -> c.addLocalShard(1));
      assertFalse(Files.exists(failing));
      assertEquals(List.of(0), List.copyOf(c.localShards().keySet()));
      assertSame(remotes.get(1), c.endpoints().get(1));
      assertEquals(List.of(0), ShardLayout.read(col, Json.MAPPER).localIds());
      assertThrows(IllegalArgumentException.class, () -> c.addLocalShard(5));
      failing = null;
      assertTrue(c.addLocalShard(1));
    }
  }

  @Test
  void everyShardIsLocalWithoutLocalIds() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 3}", null)) {
      assertNull(c.layout().localIds());
      assertFalse(c.addLocalShard(1));
      assertTrue(c.dropLocalShard(1));
      assertEquals(List.of(0, 2), c.layout().localIds());
      assertEquals(List.of(0, 2), List.copyOf(c.localShards().keySet()));
      assertFalse(Files.exists(ShardLayout.shardDir(col, 1)));
    }
  }

  @Test
  void aShardOfAKeyAddedAnswersWithItsKey() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"sharding_method\": \"custom\"}", Set.of())) {
      c.addShards("cats", List.of(0, 1), Set.of(0));
      assertEquals(List.of(0), List.copyOf(c.localShards().keySet()));
      assertTrue(c.addLocalShard(1));
      assertInstanceOf(KeyedEndpoint.class, c.endpoints().get(1));
      upsert(c.endpoints().get(1), 4);
      var hits = c.endpoints().get(1).retrieve(new ShardEndpoint.Retrieve(List.of(PointId.of(4)), WithPayload.NONE, WithVector.NONE))
          .toCompletableFuture().get();
      assertEquals("cats", hits.get(0).shardKey());
      assertEquals(List.of(0, 1), c.layout().shardsOf("cats"));
      assertTrue(c.dropLocalShard(0));
      assertInstanceOf(KeyedEndpoint.class, c.endpoints().get(0));
      assertEquals(Set.of("cats"), c.layout().shardKeys());
      assertThrows(IllegalStateException.class, () -> c.view(List.of("cats")).addLocalShard(0));
    }
  }

  @Test
  void aDropWaitsForTheOperationsBeforeIt() throws Exception {
    Path col = dir.resolve("c");
    try (Collection c = create(col, "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}, \"shard_number\": 2}", Set.of(0, 1))) {
      Shard shard = c.localShards().get(1);
      Collection.Lease before = c.lease();
      CompletableFuture<Boolean> drop = CompletableFuture.supplyAsync(() -> {
        try {
          return c.dropLocalShard(1);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.localShards().containsKey(1) && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertSame(remotes.get(1), c.endpoints().get(1)); // later operations see it remote at once
      assertThrows(TimeoutException.class, () -> drop.get(200, TimeUnit.MILLISECONDS));
      assertEquals(0, shard.read(Shard.Reader::numDocs)); // still open for the operation holding its lease
      before.close();
      assertTrue(drop.get(10, TimeUnit.SECONDS));
      assertFalse(Files.exists(ShardLayout.shardDir(col, 1)));
    }
  }

  private Collection create(Path col, String request, Set<Integer> local) throws IOException {
    ObjectNode config = CollectionConfigParser.create(Json.MAPPER.readTree(request));
    return Collection.create("c", col, config, ShardLayout.forNew(config), local, Json.MAPPER, opener);
  }

  private static void upsert(ShardEndpoint shard, int... ids) throws Exception {
    List<PointStruct> points = new ArrayList<>();
    for (int id : ids) {
      points.add(new PointStruct(PointId.of(id), Vectors.unnamed(new VectorInput.Dense(new float[] {id, 1})),
          Json.MAPPER.createObjectNode().put("n", id)));
    }
    shard.write(new ShardEndpoint.Write(List.of(new PointOperation.Upsert(points, null, null)), true)).toCompletableFuture().get();
  }

  private static long count(Collection c, int shard) throws Exception {
    return c.endpoints().get(shard).count(null).toCompletableFuture().get();
  }

  /** A shard held by another node: knows its id, answers nothing. */
  private static ShardEndpoint remoteStub(int id) {
    return (ShardEndpoint) Proxy.newProxyInstance(ShardEndpoint.class.getClassLoader(), new Class<?>[] {ShardEndpoint.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "id" -> id;
          case "toString" -> "remote shard " + id;
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> CompletableFuture.failedFuture(new IOException("shard " + id + " is on another node"));
        });
  }
}
