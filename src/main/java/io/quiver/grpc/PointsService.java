package io.quiver.grpc;

import io.grpc.stub.StreamObserver;
import io.qdrant.client.grpc.Points;
import io.qdrant.client.grpc.PointsGrpc;

/**
 * {@code qdrant.Points}: each RPC mapped onto the typed request model and run through {@link Calls}.
 * The messages become the requests REST's parsers build for the same JSON ({@link PointConvert} for
 * writes and point parts, {@link ReadConvert} for retrieve, scroll, count, facet and the distance
 * matrix, {@link QueryConvert} for searches, {@link FilterConvert} for filters); the storage's
 * answers become Qdrant's response messages ({@link ResultConvert}).
 */
final class PointsService extends PointsGrpc.PointsImplBase {
  private final Calls calls;

  PointsService(Calls calls) {
    this.calls = calls;
  }

  // ---- writes ----

  @Override
  public void upsert(Points.UpsertPoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.upsert(request), ResultConvert::operation);
  }

  @Override
  public void delete(Points.DeletePoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.delete(request), ResultConvert::operation);
  }

  @Override
  public void updateVectors(Points.UpdatePointVectors request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.updateVectors(request), ResultConvert::operation);
  }

  @Override
  public void deleteVectors(Points.DeletePointVectors request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.deleteVectors(request), ResultConvert::operation);
  }

  @Override
  public void setPayload(Points.SetPayloadPoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.setPayload(request, false), ResultConvert::operation);
  }

  @Override
  public void overwritePayload(Points.SetPayloadPoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.setPayload(request, true), ResultConvert::operation);
  }

  @Override
  public void deletePayload(Points.DeletePayloadPoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.deletePayload(request), ResultConvert::operation);
  }

  @Override
  public void clearPayload(Points.ClearPayloadPoints request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.clearPayload(request), ResultConvert::operation);
  }

  @Override
  public void updateBatch(Points.UpdateBatchPoints request, StreamObserver<Points.UpdateBatchResponse> observer) {
    calls.unary(observer, () -> PointConvert.batch(request), ResultConvert::batch);
  }

  @Override
  public void createFieldIndex(Points.CreateFieldIndexCollection request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.createIndex(request), ResultConvert::operation);
  }

  @Override
  public void deleteFieldIndex(Points.DeleteFieldIndexCollection request, StreamObserver<Points.PointsOperationResponse> observer) {
    calls.unary(observer, () -> PointConvert.deleteIndex(request), ResultConvert::operation);
  }

  // ---- reads ----

  @Override
  public void get(Points.GetPoints request, StreamObserver<Points.GetResponse> observer) {
    calls.unary(observer, () -> ReadConvert.get(request), (result, seconds) ->
        Points.GetResponse.newBuilder().addAllResult(ResultConvert.retrieved(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void scroll(Points.ScrollPoints request, StreamObserver<Points.ScrollResponse> observer) {
    calls.unary(observer, () -> ReadConvert.scroll(request), (result, seconds) -> {
      var tree = Values.tree(result);
      var out = Points.ScrollResponse.newBuilder().addAllResult(ResultConvert.retrieved(tree.path("points"))).setTime(seconds);
      var next = tree.get("next_page_offset");
      if (next != null && !next.isNull()) {
        out.setNextPageOffset(Values.id(next));
      }
      return out.build();
    });
  }

  @Override
  public void count(Points.CountPoints request, StreamObserver<Points.CountResponse> observer) {
    calls.unary(observer, () -> ReadConvert.count(request), (result, seconds) -> Points.CountResponse.newBuilder()
        .setResult(Points.CountResult.newBuilder().setCount(Values.tree(result).path("count").asLong())).setTime(seconds).build());
  }

  @Override
  public void facet(Points.FacetCounts request, StreamObserver<Points.FacetResponse> observer) {
    calls.unary(observer, () -> ReadConvert.facet(request), (result, seconds) ->
        Points.FacetResponse.newBuilder().addAllHits(ResultConvert.facetHits(result)).setTime(seconds).build());
  }

  @Override
  public void searchMatrixPairs(Points.SearchMatrixPoints request, StreamObserver<Points.SearchMatrixPairsResponse> observer) {
    calls.unary(observer, () -> ReadConvert.matrix(request, false), (result, seconds) ->
        Points.SearchMatrixPairsResponse.newBuilder().setResult(ResultConvert.pairs(result)).setTime(seconds).build());
  }

  @Override
  public void searchMatrixOffsets(Points.SearchMatrixPoints request, StreamObserver<Points.SearchMatrixOffsetsResponse> observer) {
    calls.unary(observer, () -> ReadConvert.matrix(request, true), (result, seconds) ->
        Points.SearchMatrixOffsetsResponse.newBuilder().setResult(ResultConvert.offsets(result)).setTime(seconds).build());
  }

  // ---- searches ----

  @Override
  public void search(Points.SearchPoints request, StreamObserver<Points.SearchResponse> observer) {
    calls.unary(observer, () -> QueryConvert.search(request), (result, seconds) ->
        Points.SearchResponse.newBuilder().addAllResult(ResultConvert.scored(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void searchBatch(Points.SearchBatchPoints request, StreamObserver<Points.SearchBatchResponse> observer) {
    calls.unary(observer, () -> QueryConvert.searchBatch(request), (result, seconds) ->
        Points.SearchBatchResponse.newBuilder().addAllResult(ResultConvert.batches(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void searchGroups(Points.SearchPointGroups request, StreamObserver<Points.SearchGroupsResponse> observer) {
    calls.unary(observer, () -> QueryConvert.searchGroups(request), (result, seconds) ->
        Points.SearchGroupsResponse.newBuilder().setResult(ResultConvert.groups(result)).setTime(seconds).build());
  }

  @Override
  public void recommend(Points.RecommendPoints request, StreamObserver<Points.RecommendResponse> observer) {
    calls.unary(observer, () -> QueryConvert.recommend(request), (result, seconds) ->
        Points.RecommendResponse.newBuilder().addAllResult(ResultConvert.scored(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void recommendBatch(Points.RecommendBatchPoints request, StreamObserver<Points.RecommendBatchResponse> observer) {
    calls.unary(observer, () -> QueryConvert.recommendBatch(request), (result, seconds) ->
        Points.RecommendBatchResponse.newBuilder().addAllResult(ResultConvert.batches(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void recommendGroups(Points.RecommendPointGroups request, StreamObserver<Points.RecommendGroupsResponse> observer) {
    calls.unary(observer, () -> QueryConvert.recommendGroups(request), (result, seconds) ->
        Points.RecommendGroupsResponse.newBuilder().setResult(ResultConvert.groups(result)).setTime(seconds).build());
  }

  @Override
  public void discover(Points.DiscoverPoints request, StreamObserver<Points.DiscoverResponse> observer) {
    calls.unary(observer, () -> QueryConvert.discover(request), (result, seconds) ->
        Points.DiscoverResponse.newBuilder().addAllResult(ResultConvert.scored(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void discoverBatch(Points.DiscoverBatchPoints request, StreamObserver<Points.DiscoverBatchResponse> observer) {
    calls.unary(observer, () -> QueryConvert.discoverBatch(request), (result, seconds) ->
        Points.DiscoverBatchResponse.newBuilder().addAllResult(ResultConvert.batches(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void query(Points.QueryPoints request, StreamObserver<Points.QueryResponse> observer) {
    calls.unary(observer, () -> QueryConvert.query(request), (result, seconds) -> Points.QueryResponse.newBuilder()
        .addAllResult(ResultConvert.scored(Values.tree(result).path("points"))).setTime(seconds).build());
  }

  @Override
  public void queryBatch(Points.QueryBatchPoints request, StreamObserver<Points.QueryBatchResponse> observer) {
    calls.unary(observer, () -> QueryConvert.queryBatch(request), (result, seconds) ->
        Points.QueryBatchResponse.newBuilder().addAllResult(ResultConvert.batches(Values.tree(result))).setTime(seconds).build());
  }

  @Override
  public void queryGroups(Points.QueryPointGroups request, StreamObserver<Points.QueryGroupsResponse> observer) {
    calls.unary(observer, () -> QueryConvert.queryGroups(request), (result, seconds) ->
        Points.QueryGroupsResponse.newBuilder().setResult(ResultConvert.groups(result)).setTime(seconds).build());
  }
}
