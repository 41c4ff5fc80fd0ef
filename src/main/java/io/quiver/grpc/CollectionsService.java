package io.quiver.grpc;

import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections.AliasDescription;
import io.qdrant.client.grpc.Collections.AliasOperations;
import io.qdrant.client.grpc.Collections.ChangeAliases;
import io.qdrant.client.grpc.Collections.CollectionDescription;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.ListAliasesRequest;
import io.qdrant.client.grpc.Collections.ListAliasesResponse;
import io.qdrant.client.grpc.Collections.ListCollectionAliasesRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsResponse;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.quiver.config.Node;
import io.quiver.error.ApiException;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Names;
import io.quiver.request.NodeRequest;
import java.util.ArrayList;
import java.util.List;

/** {@code qdrant.Collections}: each RPC mapped onto the typed request model and run through {@link Calls}. */
final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {
  private final Calls calls;
  private final Node node;

  /** @param node for {@code CollectionClusterInfo}, which names this peer */
  CollectionsService(Calls calls, Node node) {
    this.calls = calls;
    this.node = node;
  }

  @Override
  public void list(ListCollectionsRequest request, StreamObserver<ListCollectionsResponse> observer) {
    calls.unary(observer, NodeRequest.ListCollections::new, (result, seconds) -> {
      var out = ListCollectionsResponse.newBuilder().setTime(seconds);
      for (var c : Values.tree(result).path("collections")) {
        out.addCollections(CollectionDescription.newBuilder().setName(c.path("name").asText()));
      }
      return out.build();
    });
  }

  @Override
  public void collectionExists(CollectionExistsRequest request, StreamObserver<CollectionExistsResponse> observer) {
    calls.unary(observer, () -> new CollectionRequest.Exists(request.getCollectionName()), (result, seconds) ->
        CollectionExistsResponse.newBuilder().setTime(seconds)
            .setResult(CollectionExists.newBuilder().setExists(Values.tree(result).path("exists").asBoolean())).build());
  }

  @Override
  public void delete(DeleteCollection request, StreamObserver<CollectionOperationResponse> observer) {
    calls.unary(observer, () -> new CollectionRequest.Delete(request.getCollectionName(),
        request.hasTimeout() ? timeout(request.getTimeout()) : null), CollectionsService::operation);
  }

  @Override
  public void updateAliases(ChangeAliases request, StreamObserver<CollectionOperationResponse> observer) {
    calls.unary(observer, () -> {
      List<AliasRequest.Action> actions = new ArrayList<>();
      for (AliasOperations op : request.getActionsList()) {
        actions.add(switch (op.getActionCase()) {
          case CREATE_ALIAS -> {
            Names.check(op.getCreateAlias().getCollectionName());
            Names.check(op.getCreateAlias().getAliasName());
            yield new AliasRequest.Create(op.getCreateAlias().getCollectionName(), op.getCreateAlias().getAliasName());
          }
          case RENAME_ALIAS -> {
            Names.check(op.getRenameAlias().getNewAliasName());
            yield new AliasRequest.Rename(op.getRenameAlias().getOldAliasName(), op.getRenameAlias().getNewAliasName());
          }
          case DELETE_ALIAS -> new AliasRequest.Delete(op.getDeleteAlias().getAliasName());
          case ACTION_NOT_SET -> throw ApiException.formatError("actions: an alias operation needs one of create_alias, rename_alias, delete_alias");
        });
      }
      return new AliasRequest(actions, request.hasTimeout() ? timeout(request.getTimeout()) : null);
    }, CollectionsService::operation);
  }

  @Override
  public void listAliases(ListAliasesRequest request, StreamObserver<ListAliasesResponse> observer) {
    calls.unary(observer, NodeRequest.ListAliases::new, CollectionsService::aliases);
  }

  @Override
  public void listCollectionAliases(ListCollectionAliasesRequest request, StreamObserver<ListAliasesResponse> observer) {
    calls.unary(observer, () -> new CollectionRequest.Aliases(request.getCollectionName()), CollectionsService::aliases);
  }

  private static ListAliasesResponse aliases(Object result, double seconds) {
    var out = ListAliasesResponse.newBuilder().setTime(seconds);
    for (var a : Values.tree(result).path("aliases")) {
      out.addAliases(AliasDescription.newBuilder().setAliasName(a.path("alias_name").asText())
          .setCollectionName(a.path("collection_name").asText()));
    }
    return out.build();
  }

  /** {@code CollectionOperationResponse}: whether the operation changed anything. */
  static CollectionOperationResponse operation(Object result, double seconds) {
    return CollectionOperationResponse.newBuilder().setResult(Boolean.TRUE.equals(result)).setTime(seconds).build();
  }

  /** A {@code timeout} in seconds as the request model takes it (at least 1). */
  static Integer timeout(long seconds) {
    if (seconds < 1) {
      throw new ApiException(422, "Validation error in query params: [timeout: value " + seconds + " invalid, must be 1 or larger]");
    }
    return (int) Math.min(seconds, Integer.MAX_VALUE);
  }
}
