package io.quiver.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quiver.metrics.RequestStats;

/** Records every call's method ({@code /qdrant.Points/Search}), status code and duration, for {@code /metrics} and telemetry. */
final class CallStats implements ServerInterceptor {
  private final RequestStats stats;

  CallStats(RequestStats stats) {
    this.stats = stats;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long started = System.nanoTime();
    String endpoint = "/" + call.getMethodDescriptor().getFullMethodName();
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        stats.record(endpoint, status.getCode().value(), (System.nanoTime() - started) / 1000);
        super.close(status, trailers);
      }
    }, headers);
  }
}
