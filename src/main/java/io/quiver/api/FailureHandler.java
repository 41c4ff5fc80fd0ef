package io.quiver.api;

import io.quiver.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that renders errors, in Qdrant's envelope {@code {"status": {"error": "..."},
 * "time": s}}. Internal failures are logged with their stack trace and answered with a sanitised
 * message.
 */
final class FailureHandler implements Handler<RoutingContext> {
  private static final Logger log = LoggerFactory.getLogger(FailureHandler.class);
  private static final String TOO_LARGE = "Payload too large: the request body exceeds service.max_request_size_mb";

  @Override
  public void handle(RoutingContext ctx) {
    ApiException error = toApiException(ctx);
    if (ctx.response().ended()) {
      return;
    }
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    Envelope.error(ctx, error.status(), error.getMessage());
  }

  private static ApiException toApiException(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ApiException api) {
      return api;
    }
    if (failure instanceof ReplyException reply) {
      if (reply.failureType() == ReplyFailure.RECIPIENT_FAILURE && reply.failureCode() >= 400 && reply.failureCode() < 600) {
        return new ApiException(reply.failureCode(), reply.getMessage());
      }
      if (reply.failureType() == ReplyFailure.TIMEOUT) {
        return new ApiException(504, "Timeout: the operation did not finish in time");
      }
      log.error("Event-bus failure on {} {}: {}", ctx.request().method(), ctx.request().path(), reply.toString());
      return ApiException.unavailable("Service unavailable: " + reply.failureType().name().toLowerCase());
    }
    if (failure instanceof HttpException http) {
      return new ApiException(http.getStatusCode(), describe(http));
    }
    if (failure == null) {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      return new ApiException(status, switch (status) {
        case 404 -> "Not found: " + ctx.request().path();
        case 405 -> "Method not allowed: " + ctx.request().method() + " " + ctx.request().path();
        case 413 -> TOO_LARGE;
        default -> "Error " + status;
      });
    }
    log.error("Internal error on {} {}", ctx.request().method(), ctx.request().path(), failure);
    return new ApiException(500, "Service internal error: " + failure.getClass().getSimpleName());
  }

  private static String describe(HttpException http) {
    return switch (http.getStatusCode()) {
      case 413 -> TOO_LARGE;
      case 400 -> "Format error in JSON body: " + (http.getPayload() == null ? "bad request" : http.getPayload());
      default -> http.getPayload() != null ? http.getPayload() : "Error " + http.getStatusCode();
    };
  }
}
