package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;

import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Collections.AliasDescription;
import io.qdrant.client.grpc.Collections.AliasOperations;
import io.qdrant.client.grpc.Collections.ChangeAliases;
import io.qdrant.client.grpc.Collections.CollectionClusterInfoRequest;
import io.qdrant.client.grpc.Collections.CollectionClusterInfoResponse;
import io.qdrant.client.grpc.Collections.CollectionDescription;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.CreateShardKeyRequest;
import io.qdrant.client.grpc.Collections.CreateShardKeyResponse;
import io.qdrant.client.grpc.Collections.DeleteCollection;
import io.qdrant.client.grpc.Collections.DeleteShardKeyRequest;
import io.qdrant.client.grpc.Collections.DeleteShardKeyResponse;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.GetCollectionInfoResponse;
import io.qdrant.client.grpc.Collections.ListAliasesRequest;
import io.qdrant.client.grpc.Collections.ListAliasesResponse;
import io.qdrant.client.grpc.Collections.ListCollectionAliasesRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.Collections.ListCollectionsResponse;
import io.qdrant.client.grpc.Collections.LocalShardInfo;
import io.qdrant.client.grpc.Collections.ReplicaState;
import io.qdrant.client.grpc.Collections.ShardKey;
import io.qdrant.client.grpc.Collections.UpdateCollection;
import io.qdrant.client.grpc.Collections.UpdateCollectionClusterSetupRequest;
import io.qdrant.client.grpc.Collections.UpdateCollectionClusterSetupResponse;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.quiver.api.ApiKeys;
import io.quiver.config.Node;
import io.quiver.error.ApiException;
import io.quiver.request.AliasRequest;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Names;
import io.quiver.request.NodeRequest;
import io.quiver.request.StorageOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

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
  public void get(GetCollectionInfoRequest request, StreamObserver<GetCollectionInfoResponse> observer) {
    calls.unary(observer, () -> new CollectionRequest.Get(request.getCollectionName()), (result, seconds) ->
        GetCollectionInfoResponse.newBuilder().setResult(CollectionConvert.info(Values.tree(result))).setTime(seconds).build());
  }

  /** The message as the REST body that says the same, parsed by REST's parser: same validation, same wording. */
  @Override
  public void create(CreateCollection request, StreamObserver<CollectionOperationResponse> observer) {
    calls.unary(observer, () -> StorageOp.CREATE_COLLECTION.parse(request.getCollectionName(), CollectionConvert.createBody(request),
        timeoutParam(request.hasTimeout(), request.getTimeout())), CollectionsService::operation);
  }

  @Override
  public void update(UpdateCollection request, StreamObserver<CollectionOperationResponse> observer) {
    calls.unary(observer, () -> StorageOp.UPDATE_COLLECTION.parse(request.getCollectionName(), CollectionConvert.updateBody(request),
        timeoutParam(request.hasTimeout(), request.getTimeout())), CollectionsService::operation);
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

  /** As {@code GET /collections/{name}/cluster}: the local shards of this peer. */
  @Override
  public void collectionClusterInfo(CollectionClusterInfoRequest request, StreamObserver<CollectionClusterInfoResponse> observer) {
    calls.unary(observer, () -> new CollectionRequest.Cluster(request.getCollectionName()), (result, seconds) -> {
      var tree = Values.tree(result);
      var out = CollectionClusterInfoResponse.newBuilder().setPeerId(node.peerId()).setShardCount(tree.path("shard_count").asInt(1));
      for (var shard : tree.path("local_shards")) {
        var info = LocalShardInfo.newBuilder().setShardId(shard.path("shard_id").asInt()).setState(ReplicaState.Active)
            .setPointsCount(shard.path("points_count").asLong(0));
        JsonNode key = shard.get("shard_key");
        if (key != null && !key.isNull()) {
          info.setShardKey(key.isTextual() ? ShardKey.newBuilder().setKeyword(key.textValue()) : ShardKey.newBuilder().setNumber(key.asLong()));
        }
        out.addLocalShards(info);
      }
      return out.build();
    });
  }

  @Override
  public void updateCollectionClusterSetup(UpdateCollectionClusterSetupRequest request,
      StreamObserver<UpdateCollectionClusterSetupResponse> observer) {
    refuseIfExists(observer, request.getCollectionName(), () -> {
      if (request.getOperationCase() == UpdateCollectionClusterSetupRequest.OperationCase.OPERATION_NOT_SET) {
        throw new ApiException(400, "empty operation");
      }
      return "Distributed mode disabled";
    });
  }

  @Override
  public void createShardKey(CreateShardKeyRequest request, StreamObserver<CreateShardKeyResponse> observer) {
    calls.unary(observer, () -> {
      if (!request.hasRequest()) {
        throw new ApiException(400, "empty request");
      }
      var r = request.getRequest();
      return new CollectionRequest.CreateShardKey(request.getCollectionName(), shardKey(r.getShardKey()),
          r.hasShardsNumber() ? positive(r.getShardsNumber(), "shards_number") : null,
          r.hasReplicationFactor() ? positive(r.getReplicationFactor(), "replication_factor") : null,
          r.getPlacementCount() == 0 ? null : r.getPlacementList(), request.hasTimeout() ? timeout(request.getTimeout()) : null);
    }, (result, seconds) -> CreateShardKeyResponse.newBuilder().setResult(Boolean.TRUE.equals(result)).build());
  }

  @Override
  public void deleteShardKey(DeleteShardKeyRequest request, StreamObserver<DeleteShardKeyResponse> observer) {
    calls.unary(observer, () -> {
      if (!request.hasRequest()) {
        throw new ApiException(400, "empty request");
      }
      return new CollectionRequest.DropShardKey(request.getCollectionName(), shardKey(request.getRequest().getShardKey()),
          request.hasTimeout() ? timeout(request.getTimeout()) : null);
    }, (result, seconds) -> DeleteShardKeyResponse.newBuilder().setResult(Boolean.TRUE.equals(result)).build());
  }

  /** A shard key as the request model keeps it: {@code String} or a non-negative {@code Long}. */
  private static Object shardKey(ShardKey key) {
    return switch (key.getKeyCase()) {
      case KEYWORD -> key.getKeyword();
      case NUMBER -> {
        if (key.getNumber() < 0) {
          throw ApiException.formatError("shard_key: " + Long.toUnsignedString(key.getNumber()) + " is out of range");
        }
        yield key.getNumber();
      }
      case KEY_NOT_SET -> throw new ApiException(400, "Shard key is not specified");
    };
  }

  private static Integer positive(int value, String field) {
    if (value < 1) {
      throw new ApiException(422, "Validation error in JSON body: [" + field + ": value " + Integer.toUnsignedString(value)
          + " invalid, must be 1 or larger]");
    }
    return value;
  }

  /**
   * Refuses what a node without distributed mode cannot do, as REST refuses it: the message is
   * checked first ({@code refusal} throws for what does not fit), a read-only key is refused (these
   * are manage operations), a missing collection is NOT_FOUND, and an existing one gets
   * INVALID_ARGUMENT with the refusal ("Bad request: ...").
   */
  private <R> void refuseIfExists(StreamObserver<R> observer, String collection, Supplier<String> refusal) {
    String message;
    try {
      message = refusal.get();
    } catch (RuntimeException e) {
      observer.onError(Statuses.of(e));
      return;
    }
    if (GrpcAuth.GRANT.get() == ApiKeys.Grant.READ_ONLY) {
      observer.onError(Statuses.of(new ApiException(403, "Forbidden: Global manage access is required")));
      return;
    }
    calls.unary(new StreamObserver<Boolean>() {
      @Override
      public void onNext(Boolean exists) {
        observer.onError(Statuses.of(exists ? ApiException.badRequest(message) : ApiException.collectionNotFound(collection)));
      }

      @Override
      public void onError(Throwable t) {
        observer.onError(t);
      }

      @Override
      public void onCompleted() {}
    }, () -> new CollectionRequest.Exists(collection), (result, seconds) -> Values.tree(result).path("exists").asBoolean());
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

  /** The {@code timeout} query parameter REST would have had (an unsigned value beyond a long is the longest). */
  static Map<String, String> timeoutParam(boolean given, long seconds) {
    return given ? Map.of("timeout", Long.toString(seconds < 0 ? Long.MAX_VALUE : seconds)) : Map.of();
  }

  /** A {@code timeout} in seconds as the request model takes it (at least 1). */
  static Integer timeout(long seconds) {
    if (seconds < 1) {
      throw new ApiException(422, "Validation error in query params: [timeout: value " + seconds + " invalid, must be 1 or larger]");
    }
    return (int) Math.min(seconds, Integer.MAX_VALUE);
  }
}
