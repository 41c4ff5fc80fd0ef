package io.quiver.grpc;

import grpc.health.v1.HealthCheck.HealthCheckRequest;
import grpc.health.v1.HealthCheck.HealthCheckResponse;
import grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;

/**
 * {@code grpc.health.v1.Health} as Qdrant serves it (the definition its {@code qdrant.proto} imports,
 * from the official client's classes): {@code Check} answers SERVING whichever service is named;
 * {@code Watch} is not part of Qdrant's definition.
 */
final class HealthService extends HealthGrpc.HealthImplBase {
  @Override
  public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> observer) {
    observer.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
    observer.onCompleted();
  }
}
