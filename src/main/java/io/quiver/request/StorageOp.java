package io.quiver.request;

import static io.quiver.request.Access.ADMIN;
import static io.quiver.request.Access.CREATE;
import static io.quiver.request.Access.DELETE;
import static io.quiver.request.Access.READ;
import static io.quiver.request.Access.WRITE;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.request.QueryOperation.Shape;
import java.util.List;
import java.util.Map;

/**
 * The storage operations: their access class and their parser, the one place both are stated. The
 * REST route table, the public JSON event-bus API and the gRPC services all name an operation and
 * parse with it. Names are part of the public JSON event-bus API: append only.
 *
 * <p>A parser takes what the edge received: the collection named by the path (or the message),
 * the body as a JSON tree (null when there is none) and the query and other path parameters.
 */
public enum StorageOp {
  /** Readiness and mode: {@code {"ready": bool, "mode": "normal"|"recovery", ...}}. */
  STATUS(READ, (c, b, p) -> new NodeRequest.Status()),
  LIST_COLLECTIONS(READ, (c, b, p) -> new NodeRequest.ListCollections()),
  GET_COLLECTION(READ, (c, b, p) -> new CollectionRequest.Get(c)),
  COLLECTION_EXISTS(READ, (c, b, p) -> new CollectionRequest.Exists(c)),
  CREATE_COLLECTION(CREATE, AdminParser::createCollection),
  UPDATE_COLLECTION(ADMIN, AdminParser::updateCollection),
  DELETE_COLLECTION(DELETE, (c, b, p) -> new CollectionRequest.Delete(c, p.timeout())),
  UPDATE_ALIASES(ADMIN, (c, b, p) -> AdminParser.aliases(b, p)),
  LIST_ALIASES(READ, (c, b, p) -> new NodeRequest.ListAliases()),
  LIST_COLLECTION_ALIASES(READ, (c, b, p) -> new CollectionRequest.Aliases(c)),
  UPSERT_POINTS(WRITE, write("upsert")),
  DELETE_POINTS(DELETE, write("delete")),
  UPDATE_VECTORS(WRITE, write("update_vectors")),
  DELETE_VECTORS(DELETE, write("delete_vectors")),
  SET_PAYLOAD(WRITE, write("set_payload")),
  OVERWRITE_PAYLOAD(WRITE, write("overwrite_payload")),
  DELETE_PAYLOAD(DELETE, write("delete_payload")),
  CLEAR_PAYLOAD(DELETE, write("clear_payload")),
  /** A batch that only removes data is a delete: see {@link PointWrite#access()}. */
  BATCH_UPDATE(WRITE, (c, b, p) -> {
    WriteParams write = p.write();
    return new PointWrite(c, PointParser.batch(b), true, write);
  }),
  GET_POINT(READ, (c, b, p) -> ReadParser.getOne(c, p)),
  GET_POINTS(READ, ReadParser::retrieve),
  SCROLL_POINTS(READ, ReadParser::scroll),
  COUNT_POINTS(READ, ReadParser::count),
  CREATE_FIELD_INDEX(CREATE, AdminParser::createIndex),
  DELETE_FIELD_INDEX(DELETE, (c, b, p) -> new CollectionRequest.DeleteIndex(c, p.get("field_name"), p.write())),
  SEARCH_POINTS(READ, (c, b, p) -> queries(c, List.of(LegacyParser.search(b)), Shape.POINTS, p)),
  SEARCH_BATCH(READ, (c, b, p) -> queries(c, LegacyParser.batch(b, LegacyParser::search), Shape.POINTS_BATCH, p)),
  RECOMMEND_POINTS(READ, (c, b, p) -> queries(c, List.of(LegacyParser.recommend(b)), Shape.POINTS, p)),
  RECOMMEND_BATCH(READ, (c, b, p) -> queries(c, LegacyParser.batch(b, LegacyParser::recommend), Shape.POINTS_BATCH, p)),
  TELEMETRY(READ, (c, b, p) -> new NodeRequest.Telemetry()),
  QUERY_POINTS(READ, (c, b, p) -> queries(c, List.of(QueryParser.query(b)), Shape.QUERY, p)),
  QUERY_BATCH(READ, (c, b, p) -> queries(c, QueryParser.batch(b), Shape.QUERY_BATCH, p)),
  FACET(READ, ReadParser::facet),
  DISCOVER_POINTS(READ, (c, b, p) -> queries(c, List.of(LegacyParser.discover(b)), Shape.POINTS, p)),
  DISCOVER_BATCH(READ, (c, b, p) -> queries(c, LegacyParser.batch(b, LegacyParser::discover), Shape.POINTS_BATCH, p)),
  SEARCH_GROUPS(READ, (c, b, p) -> new QueryOperation.Groups(c, LegacyParser.groups(b, LegacyParser::search), true, p.read())),
  RECOMMEND_GROUPS(READ, (c, b, p) -> new QueryOperation.Groups(c, LegacyParser.groups(b, LegacyParser::recommend), true, p.read())),
  SEARCH_MATRIX_PAIRS(READ, (c, b, p) -> ReadParser.matrix(c, b, p, false)),
  SEARCH_MATRIX_OFFSETS(READ, (c, b, p) -> ReadParser.matrix(c, b, p, true)),
  QUERY_GROUPS(READ, (c, b, p) -> new QueryOperation.Groups(c, QueryParser.groups(b), false, p.read())),
  /** Collection snapshots; with param {@code shard_id}, the shard's. */
  LIST_SNAPSHOTS(READ, (c, b, p) -> new SnapshotRequest.ListAll(c, AdminParser.shardId(p))),
  CREATE_SNAPSHOT(ADMIN, (c, b, p) -> new SnapshotRequest.Create(c, AdminParser.shardId(p), p.flag("wait", true))),
  DELETE_SNAPSHOT(DELETE, (c, b, p) ->
      new SnapshotRequest.Delete(c, AdminParser.shardId(p), p.get("snapshot_name"), p.flag("wait", true))),
  /** The file of a snapshot, for download: {@code {"path": "...", "name": "..."}}. */
  GET_SNAPSHOT(READ, (c, b, p) -> new SnapshotRequest.File(c, AdminParser.shardId(p), p.get("snapshot_name"))),
  /** Body {@code {"location", "checksum", "priority", "api_key"}}, or param {@code upload_file} (a local file). */
  RECOVER_SNAPSHOT(CREATE, AdminParser::recover),
  LIST_FULL_SNAPSHOTS(READ, (c, b, p) -> new SnapshotRequest.ListAll(null, null)),
  CREATE_FULL_SNAPSHOT(ADMIN, (c, b, p) -> new SnapshotRequest.Create(null, null, p.flag("wait", true))),
  DELETE_FULL_SNAPSHOT(DELETE, (c, b, p) -> new SnapshotRequest.Delete(null, null, p.get("snapshot_name"), p.flag("wait", true))),
  GET_FULL_SNAPSHOT(READ, (c, b, p) -> new SnapshotRequest.File(null, null, p.get("snapshot_name"))),
  /** Custom sharding: body {@code {"shard_key", "shards_number"?, "replication_factor"?, "placement"?}}. */
  CREATE_SHARD_KEY(ADMIN, AdminParser::createShardKey),
  /** Custom sharding: body {@code {"shard_key"}}; the key's shards and points are dropped. */
  DELETE_SHARD_KEY(ADMIN, AdminParser::dropShardKey);

  /** Parses what an edge received into the operation's request. */
  @FunctionalInterface
  interface Parser {
    Request parse(String collection, JsonNode body, Params params);
  }

  private final Access access;
  private final Parser parser;

  StorageOp(Access access, Parser parser) {
    this.access = access;
    this.parser = parser;
  }

  /**
   * The operation's access class: the strongest any of its requests can have (a parsed request may
   * be weaker, as a batch of deletes is a delete).
   */
  public Access access() {
    return access;
  }

  /**
   * Parses a request of this operation; a 4xx {@link io.quiver.error.ApiException} with Qdrant's
   * wording when it does not parse or validate.
   *
   * @param collection the collection from the path or message, or null for node-wide operations
   * @param body the body, or null when there is none
   * @param params query parameters and the path parameters other than the collection
   */
  public Request parse(String collection, JsonNode body, Map<String, String> params) {
    return parser.parse(collection, body, new Params(params));
  }

  private static Parser write(String kind) {
    return (c, b, p) -> {
      WriteParams write = p.write();
      return PointWrite.one(c, PointParser.operation(kind, b), write);
    };
  }

  private static QueryOperation.Queries queries(String collection, List<QueryRequest> requests, Shape shape, Params p) {
    return new QueryOperation.Queries(collection, requests, shape, p.read());
  }
}
