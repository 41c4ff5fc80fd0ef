package io.quiver.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quiver.api.ApiKeys;
import java.util.Set;

/**
 * API keys on gRPC, as on REST: {@code api-key} metadata or {@code authorization: Bearer}; a missing
 * or wrong key is UNAUTHENTICATED before the message is read. The health checks stay open. The grant
 * travels in the call's {@link Context} ({@link #GRANT}); a read-only key asking to write is refused
 * with PERMISSION_DENIED once the request is parsed ({@link Calls}).
 */
final class GrpcAuth implements ServerInterceptor {
  static final Context.Key<ApiKeys.Grant> GRANT = Context.key("quiver.grant");
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Set<String> OPEN = Set.of("qdrant.Qdrant/HealthCheck", "grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch");

  private final ApiKeys keys;

  GrpcAuth(ApiKeys keys) {
    this.keys = keys;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    ApiKeys.Grant grant;
    if (!keys.enabled() || OPEN.contains(call.getMethodDescriptor().getFullMethodName())) {
      grant = ApiKeys.Grant.FULL;
    } else {
      try {
        grant = keys.grant(headers.get(API_KEY), headers.get(AUTHORIZATION));
      } catch (ApiKeys.Unauthorized e) {
        call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
        return new ServerCall.Listener<>() { };
      }
    }
    return Contexts.interceptCall(Context.current().withValue(GRANT, grant), call, headers, next);
  }
}
