package io.quiver.cluster.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.quiver.config.ConfigLoader;
import io.quiver.config.QuiverConfig;
import io.quiver.engine.StorageIo;
import io.quiver.json.Json;
import io.quiver.storage.EngineStorageService;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.ShardLayout;
import io.vertx.core.Vertx;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The local storage follows the metadata's placement of shards on this peer (peer 1). */
@Timeout(120)
class LocalSyncTest {
  static final long SELF = 1;
  @TempDir Path dir;

  @Test
  void theShardsHeldHereFollowTheirReplicas() throws Exception {
    ObjectNode auto = MetaStateTest.config("{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
    ObjectNode custom = MetaStateTest.config("{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
    ((ObjectNode) custom.get("params")).put("sharding_method", "custom");
    Vertx vertx = Vertx.vertx();
    try (EngineStorageService storage = open(vertx)) {
      LocalSync sync = new LocalSync(storage, SELF);
      MetaState first = state(
          new MetaState.CollectionMeta("auto", auto, Json.MAPPER.createObjectNode(), List.of(shard(0, 1), shard(1, 2), shard(2, 1, 2))),
          new MetaState.CollectionMeta("keyed", custom, Json.MAPPER.createObjectNode(), List.of(shard(0, "cats", 1), shard(1, "cats", 2))));
      // while the log replays at start, operations are history: nothing changes until the first reconcile
      sync.applied(new MetaOp.CreateCollection("auto", auto, List.of()), MetaState.EMPTY, first);
      assertTrue(storage.catalogue().names().isEmpty());
      sync.live();
      sync.applied(new MetaOp.CreateCollection("auto", auto, List.of()), MetaState.EMPTY, first);
      assertEquals(List.of(0, 2), local(storage, "auto"));
      assertEquals(List.of(0), local(storage, "keyed"));

      // shard 0 leaves this peer, shard 1 comes to it; a new key's shard here is opened by the key's step alone
      MetaState second = state(
          new MetaState.CollectionMeta("auto", auto, Json.MAPPER.createObjectNode(), List.of(shard(0, 2), shard(1, 2, 1), shard(2, 1, 2))),
          new MetaState.CollectionMeta("keyed", custom, Json.MAPPER.createObjectNode(),
              List.of(shard(0, "cats", 1), shard(1, "cats", 2, 1), shard(2, "dogs", 1), shard(3, "dogs", 2))));
      sync.applied(new MetaOp.CreateCollection("auto", auto, List.of()), first, second);
      Collection a = storage.catalogue().resolve("auto");
      assertEquals(List.of(1, 2), local(storage, "auto"));
      assertFalse(Files.exists(ShardLayout.shardDir(a.dir, 0)));
      assertTrue(Files.isDirectory(ShardLayout.shardDir(a.dir, 1)));
      assertEquals(List.of(1, 2), ShardLayout.read(a.dir, Json.MAPPER).localIds());
      assertEquals(List.of(0, 1, 2), local(storage, "keyed"));
      assertEquals(List.of(2, 3), storage.catalogue().resolve("keyed").layout().shardsOf("dogs"));

      // a restart's reconcile: the same state changes nothing, another puts it right
      sync.reconcile(second);
      assertEquals(List.of(1, 2), local(storage, "auto"));
      MetaState third = state(
          new MetaState.CollectionMeta("auto", auto, Json.MAPPER.createObjectNode(), List.of(shard(0, 2), shard(1, 2), shard(2, 2))),
          new MetaState.CollectionMeta("keyed", custom, Json.MAPPER.createObjectNode(),
              List.of(shard(0, "cats", 2), shard(1, "cats", 2, 1), shard(2, "dogs", 1), shard(3, "dogs", 2, 1))));
      sync.reconcile(third);
      assertEquals(List.of(), local(storage, "auto"));
      assertEquals(List.of(1, 2, 3), local(storage, "keyed"));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static List<Integer> local(EngineStorageService storage, String name) {
    return List.copyOf(storage.catalogue().resolve(name).localShards().keySet());
  }

  private static MetaState state(MetaState.CollectionMeta... collections) {
    Map<String, MetaState.CollectionMeta> byName = new TreeMap<>();
    for (var c : collections) {
      byName.put(c.name(), c);
    }
    return new MetaState(new TreeMap<>(), new TreeMap<>(byName), new TreeMap<>());
  }

  private static ShardMeta shard(int id, long... peers) {
    return new ShardMeta(id, java.util.Arrays.stream(peers).boxed().toList(), null);
  }

  private static ShardMeta shard(int id, String key, long... peers) {
    return new ShardMeta(id, java.util.Arrays.stream(peers).boxed().toList(), new TextNode(key));
  }

  private EngineStorageService open(Vertx vertx) throws Exception {
    Path storage = dir.resolve("storage");
    Map<String, String> env = Map.of("QDRANT__STORAGE__STORAGE_PATH", storage.toString(),
        "QDRANT__STORAGE__SNAPSHOTS_PATH", storage.resolve("snapshots").toString());
    Path conf = Files.createDirectories(dir.resolve("conf"));
    QuiverConfig config = ConfigLoader.load(vertx, conf, null, env).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return EngineStorageService.open(config, StorageIo.REAL, LocalSyncTest::remote);
  }

  /** A shard held by another peer: knows its id, answers nothing. */
  private static ShardEndpoint remote(String collection, int id) {
    return (ShardEndpoint) Proxy.newProxyInstance(ShardEndpoint.class.getClassLoader(), new Class<?>[] {ShardEndpoint.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "id" -> id;
          case "toString" -> "shard " + id + " of " + collection + " on another peer";
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> CompletableFuture.failedFuture(new IllegalStateException("not reachable in this test"));
        });
  }
}
