package io.quiver.grpc;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.quiver.metrics.RequestStats;
import java.util.Set;

/**
 * Records every call of a served method ({@code /qdrant.Points/Search}) with its final status code
 * and duration, for {@code /metrics} and telemetry: from the transport, so calls refused before a
 * handler runs (over the size bound, undecodable, without a key) count too. Names of methods the
 * server does not serve are not recorded, so clients cannot grow the metrics' labels.
 */
final class CallTracer extends ServerStreamTracer.Factory {
  private final RequestStats stats;
  private final Set<String> methods;

  /** @param methods the full names of the served methods ({@code qdrant.Points/Search}) */
  CallTracer(RequestStats stats, Set<String> methods) {
    this.stats = stats;
    this.methods = Set.copyOf(methods);
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    if (!methods.contains(fullMethodName)) {
      return new ServerStreamTracer() { };
    }
    long started = System.nanoTime();
    String endpoint = "/" + fullMethodName;
    return new ServerStreamTracer() {
      @Override
      public void streamClosed(Status status) {
        stats.record(endpoint, status.getCode().value(), (System.nanoTime() - started) / 1000);
      }
    };
  }
}
