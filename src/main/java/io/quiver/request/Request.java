package io.quiver.request;

/**
 * One operation on a node's storage, parsed once at the edge that received it (REST, the JSON event
 * bus, gRPC) and validated as far as it can be without the collection's configuration. Immutable;
 * nothing after parsing reads the request's JSON again. The storage service validates what needs the
 * collection (vector names, dimensions, indexes) and executes it.
 *
 * <p>Each request knows its {@link Access} class, the one source for the REST route table, the
 * JSON bus API and the gRPC services: API keys and the write lock are checked against it.
 */
public sealed interface Request
    permits NodeRequest, CollectionRequest, AliasRequest, PointWrite, PointRead, QueryOperation, SnapshotRequest {
  /** How this request touches data; at most its {@link StorageOp#access() operation's} class. */
  Access access();

  /** The collection (or alias) the request names, or null for node-wide requests. */
  default String collection() {
    return null;
  }
}
