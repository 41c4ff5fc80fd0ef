package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.bus.Addresses;
import io.quiver.bus.LocalCodec;
import io.quiver.error.ApiException;
import io.quiver.request.NodeRequest;
import io.quiver.request.Request;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link StorageClient} reaches the storage verticle of its own process directly, not over the bus:
 * every answer, failure and timeout must be what the bus address gives for the same request.
 */
@Timeout(30)
class StorageClientTest {
  private Vertx vertx;
  private Addresses addresses;
  private volatile Function<Request, CompletionStage<Object>> behaviour;
  private String deployment;

  @BeforeEach
  void deploy() throws Exception {
    vertx = Vertx.vertx();
    addresses = new Addresses("storage-client-test");
    StorageService service = new StorageService() {
      @Override
      public CompletionStage<Object> execute(Request request) {
        return behaviour.apply(request);
      }

      @Override
      public String mode() {
        return "test";
      }

      @Override
      public void close() {}
    };
    var verticle = new StorageVerticle(addresses, "test", () -> service);
    deployment = vertx.deployVerticle(verticle).await(10, TimeUnit.SECONDS);
    verticle.loaded().await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void answersAsTheBusDoes() throws Exception {
    behaviour = request -> CompletableFuture.completedFuture(Map.of("collections", "none"));
    StorageClient client = new StorageClient(vertx, addresses);
    assertEquals(Map.of("collections", "none"), await(client.send(new NodeRequest.ListCollections())));
    assertEquals(Map.of("collections", "none"), await(overTheBus(new NodeRequest.ListCollections())));
  }

  @Test
  void failsAsTheBusDoes() throws Exception {
    StorageClient client = new StorageClient(vertx, addresses);
    behaviour = request -> CompletableFuture.failedFuture(new ApiException(404, "Not found: Collection `x` doesn't exist!"));
    for (Future<Object> answer : java.util.List.of(client.send(new NodeRequest.ListCollections()), overTheBus(new NodeRequest.ListCollections()))) {
      ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(answer));
      assertEquals(ReplyFailure.RECIPIENT_FAILURE, failure.failureType());
      assertEquals(404, failure.failureCode());
      assertEquals("Not found: Collection `x` doesn't exist!", failure.getMessage());
    }

    behaviour = request -> CompletableFuture.failedFuture(ApiException.rateLimited("Too many requests", 3));
    for (Future<Object> answer : java.util.List.of(client.send(new NodeRequest.ListCollections()), overTheBus(new NodeRequest.ListCollections()))) {
      RateLimitedReply failure = assertInstanceOf(RateLimitedReply.class, failureOf(answer));
      assertEquals(429, failure.failureCode());
      assertEquals(3, failure.retryAfterSeconds());
    }

    // thrown rather than returned: a 500 with the exception's kind, not a request left without an answer
    behaviour = request -> {
      throw new IllegalStateException("broken");
    };
    for (Future<Object> answer : java.util.List.of(client.send(new NodeRequest.ListCollections()), overTheBus(new NodeRequest.ListCollections()))) {
      ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(answer));
      assertEquals(500, failure.failureCode());
      assertEquals("Service internal error: IllegalStateException", failure.getMessage());
    }
  }

  @Test
  void aStuckServiceTimesOut() throws Exception {
    behaviour = request -> new CompletableFuture<>();
    ReplyException failure = assertInstanceOf(ReplyException.class,
        failureOf(new StorageClient(vertx, addresses).send(new NodeRequest.ListCollections(), 200)));
    assertEquals(ReplyFailure.TIMEOUT, failure.failureType());
  }

  @Test
  void goesOverTheBusOnceTheVerticleIsGone() throws Exception {
    behaviour = request -> CompletableFuture.completedFuture("ok");
    StorageClient client = new StorageClient(vertx, addresses);
    assertTrue(StorageVerticle.local(StorageVerticle.locals(vertx), addresses.storage()) != null);
    vertx.undeploy(deployment).await(10, TimeUnit.SECONDS);
    assertNull(StorageVerticle.local(StorageVerticle.locals(vertx), addresses.storage()));
    ReplyException failure = assertInstanceOf(ReplyException.class, failureOf(client.send(new NodeRequest.ListCollections())));
    assertEquals(ReplyFailure.NO_HANDLERS, failure.failureType());
  }

  private Future<Object> overTheBus(Request request) {
    return vertx.eventBus().request(addresses.storage(), request,
        new DeliveryOptions().setCodecName(new LocalCodec<>(Request.class).name())).map(m -> m.body());
  }

  private static Object await(Future<Object> answer) throws Exception {
    return answer.await(10, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(Future<Object> answer) {
    try {
      answer.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return e;
    }
    assertTrue(false, "expected a failure");
    return null;
  }
}
