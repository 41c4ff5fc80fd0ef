package io.quiver.storage;

import io.quiver.bus.Addresses;
import io.quiver.bus.LocalCodec;
import io.quiver.error.ApiException;
import io.quiver.lock.LockClient;
import io.quiver.request.NodeRequest;
import io.quiver.request.Request;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the node's storage address to a {@link StorageService}. The verticle is up as soon as its
 * consumer is registered; the service opens in the background so that the node answers {@code
 * /livez} and {@code /readyz} (503) while a large data directory loads. {@link #loaded()} tells the
 * deployment verticle how the load ended, which is where the recovery-mode fallback hooks in.
 *
 * <p>Both the full engine and the metadata-only service of recovery mode are deployed with this
 * verticle; they answer the same address, so nothing else changes when one replaces the other.
 */
public class StorageVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StorageVerticle.class);
  private static final DeliveryOptions REPLY = new DeliveryOptions().setCodecName(new LocalCodec<>(Object.class).name());

  private final Addresses addresses;
  private final String description;
  private final Callable<StorageService> opener;
  private final Promise<Void> loaded = Promise.promise();
  private volatile StorageService service;
  private MessageConsumer<Request> consumer;
  private LockClient lock;

  /**
   * @param opener opens the service; runs on a worker thread and may take long
   */
  public StorageVerticle(Addresses addresses, String description, Callable<StorageService> opener) {
    this.addresses = addresses;
    this.description = description;
    this.opener = opener;
  }

  /** Completes when the service is open, fails with the cause when it could not be opened. */
  public Future<Void> loaded() {
    return loaded.future();
  }

  @Override
  public Future<?> start() {
    StorageClient.registerCodecs(vertx);
    lock = new LockClient(vertx, addresses);
    consumer = vertx.eventBus().consumer(addresses.storage(), this::handle);
    long t0 = System.nanoTime();
    // a thread of its own rather than a worker: loading a large storage, or joining a cluster, may
    // take minutes, which Vert.x would report as a blocked worker every second
    var ctx = context;
    Thread.ofPlatform().name("quiver-storage-open").daemon(true).start(() -> {
      StorageService opened = null;
      Throwable failure = null;
      try {
        opened = opener.call();
      } catch (Throwable t) {
        failure = t;
      }
      StorageService result = opened;
      Throwable cause = failure;
      ctx.runOnContext(v -> {
        if (cause == null) {
          service = result;
          service.onNoSpace(lock::reportNoSpace);
          log.info("Storage ready ({}) in {} ms", description, (System.nanoTime() - t0) / 1_000_000);
          loaded.complete();
        } else {
          loaded.fail(cause);
        }
      });
    });
    return consumer.completion();
  }

  private void handle(Message<Request> message) {
    Request request = message.body();
    StorageService current = service;
    if (current == null) {
      if (request instanceof NodeRequest.Status) {
        message.reply(Map.of("ready", false, "mode", "loading"), REPLY);
      } else {
        message.fail(503, "Service unavailable: storage is still loading");
      }
      return;
    }
    current.execute(request).whenComplete((result, err) -> {
      if (err == null) {
        message.reply(result, REPLY);
      } else {
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof ApiException api) {
          if (api.status() == 507) {
            lock.reportNoSpace(api.getMessage()); // the automatic disk write block turns on
          }
          if (api.retryAfterSeconds() != null) {
            message.reply(new RateLimitedReply(api.status(), api.getMessage(), api.retryAfterSeconds()), REPLY);
          } else {
            message.fail(api.status(), api.getMessage());
          }
        } else {
          log.error("Storage operation {} on {} failed", request.getClass().getSimpleName(), request.collection(), cause);
          message.fail(500, "Service internal error: " + cause.getClass().getSimpleName());
        }
      }
    });
  }

  @Override
  public Future<?> stop() {
    StorageService current = service;
    service = null;
    Future<Void> unregister = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregister.compose(v -> current == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      current.close();
      return null;
    }));
  }
}
