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
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
    locals(vertx).put(addresses.storage(), new LocalEntry(this));
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
    call(message.body()).whenComplete((result, err) -> {
      Throwable failure = unwrap(err);
      if (failure == null) {
        message.reply(result, REPLY);
      } else if (failure instanceof RateLimitedReply limited) {
        message.reply(limited, REPLY); // the bus fails the request with it, Retry-After included
      } else {
        ReplyException reply = (ReplyException) failure;
        message.fail(reply.failureCode(), reply.getMessage());
      }
    });
  }

  /**
   * Runs a request as the storage address answers it: the result, or a {@link ReplyException} with
   * the status and Qdrant's message (a {@link RateLimitedReply} when the client should retry later).
   * The bus consumer and {@link StorageClient}'s same-process path both come here.
   */
  CompletionStage<Object> call(Request request) {
    StorageService current = service;
    if (current == null) {
      if (request instanceof NodeRequest.Status) {
        return CompletableFuture.completedFuture(Map.of("ready", false, "mode", "loading"));
      }
      return CompletableFuture.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 503, "Service unavailable: storage is still loading"));
    }
    CompletionStage<Object> answer;
    try {
      answer = current.execute(request);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return answer.handle((result, err) -> {
      if (err == null) {
        return result;
      }
      throw new CompletionException(replyFailure(request, err));
    });
  }

  private ReplyException replyFailure(Request request, Throwable err) {
    Throwable cause = unwrap(err);
    if (cause instanceof ApiException api) {
      if (api.status() == 507) {
        lock.reportNoSpace(api.getMessage()); // the automatic disk write block turns on
      }
      if (api.retryAfterSeconds() != null) {
        return new RateLimitedReply(api.status(), api.getMessage(), api.retryAfterSeconds());
      }
      return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, api.status(), api.getMessage());
    }
    log.error("Storage operation {} on {} failed", request.getClass().getSimpleName(), request.collection(), cause);
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "Service internal error: " + cause.getClass().getSimpleName());
  }

  /** The failure a stage of {@link #call} completed with, without the {@link CompletionException} around it. */
  static Throwable unwrap(Throwable err) {
    return err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
  }

  /** Where the storage verticles deployed on {@code vertx} are found, by address; see {@link #local}. */
  static LocalMap<String, LocalEntry> locals(Vertx vertx) {
    return vertx.sharedData().getLocalMap(LOCAL_MAP);
  }

  /** The storage verticle of {@code address} in {@code locals}, or null (another process, or none). */
  static StorageVerticle local(LocalMap<String, LocalEntry> locals, String address) {
    LocalEntry entry = locals.get(address);
    return entry == null ? null : entry.verticle();
  }

  private static final String LOCAL_MAP = "quiver.storage.local";

  record LocalEntry(StorageVerticle verticle) implements Shareable {}

  @Override
  public Future<?> stop() {
    locals(vertx).remove(addresses.storage(), new LocalEntry(this));
    StorageService current = service;
    service = null;
    Future<Void> unregister = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregister.compose(v -> current == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      current.close();
      return null;
    }));
  }
}
