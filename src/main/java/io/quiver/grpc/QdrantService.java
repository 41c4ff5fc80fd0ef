package io.quiver.grpc;

import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import io.quiver.config.Node;

/** {@code qdrant.Qdrant}: the health check, with the title and version REST's {@code GET /} answers. */
final class QdrantService extends QdrantGrpc.QdrantImplBase {
  static final String TITLE = "qdrant - vector search engine";
  static final String COMMIT = "0000000000000000000000000000000000000000";

  @Override
  public void healthCheck(HealthCheckRequest request, StreamObserver<HealthCheckReply> observer) {
    observer.onNext(HealthCheckReply.newBuilder().setTitle(TITLE).setVersion(Node.API_VERSION).setCommit(COMMIT).build());
    observer.onCompleted();
  }
}
