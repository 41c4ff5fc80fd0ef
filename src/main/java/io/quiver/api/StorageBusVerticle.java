package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.json.JsonErrors;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.bus.Addresses;
import io.quiver.error.ApiException;
import io.quiver.storage.StorageGateway;
import io.quiver.request.Request;
import io.quiver.request.StorageOp;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public JSON storage address of a node ({@link Addresses#storageJson()}): parses {@code
 * {"op", "collection", "body", "params"}} with the operation's parser into a typed request for the
 * node's storage and replies
 * {@code {"result": ...}}, the same {@code result} the REST API returns. Writes and creations ask
 * the node's write lock first, exactly as the router does for REST, so the bus is no way around a
 * lock. Failures are {@link ReplyException}s with the HTTP-like status and Qdrant's message.
 *
 * <p>The event bus is not authenticated: API keys guard REST only, so keep the cluster ports on a
 * private network.
 */
public final class StorageBusVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StorageBusVerticle.class);
  private final Addresses addresses;
  private StorageGateway gateway;

  public StorageBusVerticle(Addresses addresses) {
    this.addresses = addresses;
  }

  @Override
  public Future<?> start() {
    gateway = new StorageGateway(vertx, addresses);
    return vertx.eventBus().<Object>consumer(addresses.storageJson(), this::handle).completion();
  }

  private void handle(Message<Object> message) {
    Request request;
    try {
      request = parse(message.body());
    } catch (ApiException e) {
      message.fail(e.status(), e.getMessage());
      return;
    }
    gateway.submit(request).onComplete(ar -> {
      if (ar.succeeded()) {
        reply(message, ar.result());
      } else {
        fail(message, request, ar.cause());
      }
    });
  }

  /** Parses {@code {"op", "collection", "body", "params"}} with the operation's parser, as REST parses its routes. */
  static Request parse(Object raw) {
    if (!(raw instanceof JsonObject json)) {
      throw ApiException.formatError("expected a JSON object {\"op\", \"collection\", \"body\", \"params\"}");
    }
    if (!(json.getValue("op") instanceof String name)) {
      throw ApiException.formatError("missing field `op`");
    }
    StorageOp op;
    try {
      op = StorageOp.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("unknown op `" + name + "`, expected one of "
          + Arrays.toString(StorageOp.values()).toLowerCase(Locale.ROOT));
    }
    Object collection = json.getValue("collection");
    if (collection != null && !(collection instanceof String)) {
      throw ApiException.formatError("collection: expected a string");
    }
    Object body = json.getValue("body");
    JsonNode tree = null;
    if (body != null) {
      if (!(body instanceof JsonObject) && !(body instanceof io.vertx.core.json.JsonArray)) {
        throw ApiException.formatError("body: expected a JSON object");
      }
      try {
        tree = Json.MAPPER.readTree(body.toString());
      } catch (JsonProcessingException e) {
        throw JsonErrors.toApiException(e);
      }
    }
    Map<String, String> params = new HashMap<>();
    Object rawParams = json.getValue("params");
    if (rawParams instanceof JsonObject p) {
      p.forEach(e -> params.put(e.getKey(), String.valueOf(e.getValue())));
    } else if (rawParams != null) {
      throw ApiException.formatError("params: expected an object of strings");
    }
    params.remove("upload_file"); // names a file the REST router stored; never the client's to give
    return op.parse((String) collection, tree, params);
  }

  private static void reply(Message<Object> message, Object result) {
    try {
      byte[] bytes = Json.MAPPER.writeValueAsBytes(Collections.singletonMap("result", result));
      message.reply(new JsonObject(Buffer.buffer(bytes)));
    } catch (JsonProcessingException e) {
      log.error("Cannot render a storage result as JSON", e);
      message.fail(500, "Service internal error: " + e.getClass().getSimpleName());
    }
  }

  private static void fail(Message<Object> message, Request request, Throwable cause) {
    if (cause instanceof ApiException api) {
      message.fail(api.status(), api.getMessage());
    } else if (cause instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      message.fail(r.failureCode(), r.getMessage());
    } else if (cause instanceof ReplyException r && r.failureType() == ReplyFailure.TIMEOUT) {
      message.fail(504, "Timeout: the operation did not finish in time");
    } else if (cause instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
      // the storage verticle is being replaced (the fallback to recovery mode): as REST answers then
      message.fail(503, "Service unavailable: storage is not available right now, retry");
    } else {
      log.error("Bus storage operation {} on {} failed", request.getClass().getSimpleName(), request.collection(), cause);
      message.fail(500, "Service internal error: " + cause.getClass().getSimpleName());
    }
  }
}
