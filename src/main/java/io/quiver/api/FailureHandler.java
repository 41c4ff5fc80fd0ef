package io.quiver.api;

import io.quiver.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpVersion;
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
  private final long bodyLimit;

  /** @param bodyLimit {@code service.max_request_size_mb} in bytes, for the 413 message */
  FailureHandler(long bodyLimit) {
    this.bodyLimit = bodyLimit;
  }

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
    if (error.status() == 413) {
      closeAfterRequest(ctx);
    }
    Integer retryAfter = ctx.failure() instanceof io.quiver.storage.RateLimitedReply r ? Integer.valueOf(r.retryAfterSeconds())
        : error.retryAfterSeconds();
    if (retryAfter != null) {
      ctx.response().putHeader("retry-after", Integer.toString(retryAfter));
    }
    Envelope.error(ctx, error.status(), error.getMessage());
  }

  /**
   * A body that is too large is answered at once (from its Content-Length, or as soon as a chunked
   * or compressed body goes over the limit); what follows is read and dropped, never kept, so that
   * a client still sending sees the 413 rather than a reset. Over HTTP/1.x the connection closes
   * once the request has ended.
   */
  private static void closeAfterRequest(RoutingContext ctx) {
    if (ctx.request().version() == HttpVersion.HTTP_2) {
      return;
    }
    ctx.response().putHeader("connection", "close");
    var connection = ctx.request().connection();
    if (ctx.request().isEnded()) {
      ctx.addEndHandler(v -> connection.close());
    } else {
      ctx.request().endHandler(v -> {
        if (ctx.response().ended()) {
          connection.close();
        } else {
          ctx.addEndHandler(x -> connection.close());
        }
      });
    }
  }

  /**
   * Qdrant's (actix') wording: the announced length when there is one, else the limit that a
   * chunked or compressed body went over.
   */
  private String tooLarge(RoutingContext ctx) {
    String announced = ctx.request().getHeader("content-length");
    if (announced != null && ctx.request().getHeader("content-encoding") == null) {
      try {
        long length = Long.parseLong(announced.trim());
        if (length > bodyLimit) {
          return "Payload error: JSON payload (" + length + " bytes) is larger than allowed (limit: " + bodyLimit + " bytes).";
        }
      } catch (NumberFormatException e) {
        // fall through to the generic wording
      }
    }
    return "Payload error: JSON payload has exceeded limit (" + bodyLimit + " bytes).";
  }

  private ApiException toApiException(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    // a failed CompletionStage (a proposal to the cluster's consensus) wraps what it failed with
    while (failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null) {
      failure = failure.getCause();
    }
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
      return new ApiException(http.getStatusCode(), http.getStatusCode() == 413 ? tooLarge(ctx) : describe(http));
    }
    if (failure == null) {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      return new ApiException(status, switch (status) {
        case 404 -> "Not found: " + ctx.request().path();
        case 405 -> "Method not allowed: " + ctx.request().method() + " " + ctx.request().path();
        case 413 -> tooLarge(ctx);
        default -> "Error " + status;
      });
    }
    log.error("Internal error on {} {}", ctx.request().method(), ctx.request().path(), failure);
    return new ApiException(500, "Service internal error: " + failure.getClass().getSimpleName());
  }

  private static String describe(HttpException http) {
    return switch (http.getStatusCode()) {
      case 400 -> "Format error in JSON body: " + (http.getPayload() == null ? "bad request" : http.getPayload());
      default -> http.getPayload() != null ? http.getPayload() : "Error " + http.getStatusCode();
    };
  }
}
