package io.quiver.request;

import java.util.List;

/**
 * Vector searches of a collection, every kind in the universal query's form: {@code /points/query}
 * and its batch, and the legacy search, recommend and discover requests with their batches, parsed
 * into the same {@link QueryRequest}s. They differ only in the shape of their answer.
 */
public sealed interface QueryOperation extends Request {
  @Override
  String collection();

  @Override
  default Access access() {
    return Access.READ;
  }

  /** How the answer is shaped. */
  enum Shape {
    /** {@code {"points": [...]}}. */
    QUERY,
    /** {@code [{"points": [...]}, ...]}. */
    QUERY_BATCH,
    /** {@code [...]}: the scored points (search, recommend, discover). */
    POINTS,
    /** {@code [[...], ...]}: one list per request of a legacy batch. */
    POINTS_BATCH
  }

  /** One or more queries (a batch), answered in order. */
  record Queries(String collection, List<QueryRequest> requests, Shape shape, ReadParams read) implements QueryOperation {
    public Queries {
      requests = List.copyOf(requests);
    }
  }

  /** A grouped query: {@code {"groups": [...]}}; {@code legacy} for the search and recommend groups endpoints. */
  record Groups(String collection, QueryGroupsRequest request, boolean legacy, ReadParams read) implements QueryOperation {}
}
