package io.quiver.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.storage.StorageClient;
import io.quiver.storage.StorageCommand;
import io.quiver.storage.StorageOp;
import io.quiver.testing.TestNode;
import io.vertx.core.eventbus.ReplyException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Deploys a node with recovery config and asks its storage address, over the bus, what it does. */
@Timeout(120)
class RecoveryBusTest {
  @TempDir Path dir;

  @Test
  void metadataOnlyVerticleAnswersTheStorageAddress() throws Exception {
    Path storage = dir.resolve("storage");
    try (TestNode node = TestNode.start(storage)) {
      assertEquals(200, node.send("PUT", "/collections/big", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}").status());
      assertEquals(200, node.send("PUT", "/collections/big/points?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 2]}]}").status());
    }
    try (TestNode node = TestNode.start(storage, Map.of("QDRANT__STORAGE__RECOVERY_MODE", "Out of memory on big"))) {
      var client = new StorageClient(node.vertx, node.addresses());
      @SuppressWarnings("unchecked")
      var status = (Map<String, Object>) send(client, StorageCommand.of(StorageOp.STATUS));
      assertEquals("recovery", status.get("mode"));
      assertEquals("Out of memory on big", status.get("recovery_message"));
      assertTrue(send(client, StorageCommand.of(StorageOp.LIST_COLLECTIONS)).toString().contains("big"));

      var refused = assertInstanceOf(ReplyException.class, failure(client,
          new StorageCommand(StorageOp.SCROLL_POINTS, "big", null, Map.of())));
      assertEquals(503, refused.failureCode());
      assertEquals("Service in recovery mode: Out of memory on big", refused.getMessage());
      assertEquals(503, ((ReplyException) failure(client, new StorageCommand(StorageOp.CREATE_COLLECTION, "x", null, Map.of()))).failureCode());

      assertEquals(true, send(client, new StorageCommand(StorageOp.DELETE_COLLECTION, "big", null, Map.of())));
      assertTrue(!storage.resolve("collections/big").toFile().exists());
    }
  }

  static Object send(StorageClient client, StorageCommand c) throws Exception {
    return client.send(c).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Throwable failure(StorageClient client, StorageCommand c) throws Exception {
    try {
      send(client, c);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }
}
