package io.quiver.bus;

/**
 * Every event-bus address of a node, in one place. Addresses carry the node id so that in a
 * clustered deployment each node keeps its own lock and storage, and a cluster member can address a
 * given node: {@code quiver.<node>.<service>}.
 *
 * <p>Public addresses (documented in the README, JSON messages) are marked so; the others carry
 * local-only objects between the verticles of one node.
 */
public final class Addresses {
  /**
   * Public. The cluster-wide shared-data map ({@code vertx.sharedData().getAsyncMap}) where every
   * Quiver node registers itself once its REST server is up: key the peer id as a string, value
   * {@code {"peer_id": <long>, "uri": "http://host:port", "node_id": "<Vert.x node id>",
   * "address_prefix": "quiver.<peer id>."}}. An entry whose {@code node_id} is no longer a cluster
   * member is stale (a killed node); a restarted node overwrites its own entry.
   */
  public static final String PEERS_MAP = "quiver.peers";

  /**
   * Cluster-wide, answered by every member of the cluster's Raft group (round robin). Body: {@code
   * {}}. Reply: {@code {"peers": ["host:port", ...]}}, the Raft addresses of the group's members,
   * through which a new peer asks to be admitted. No answer (no handlers): no group yet.
   */
  public static final String RAFT_MEMBERS = "quiver.raft.members";

  private final String prefix;

  public Addresses(String nodeId) {
    if (nodeId == null || nodeId.isBlank() || nodeId.contains(".")) {
      throw new IllegalArgumentException("node id must be non-empty and free of dots: " + nodeId);
    }
    this.prefix = "quiver." + nodeId + ".";
  }

  /**
   * Public. Write-permission query. Body: {@code {"operation": "<name>"}} (optional). Reply: {@code
   * {"allowed": true, "permit": <long>}} or {@code {"allowed": false, "code": 403|507, "cause":
   * "lock"|"disk", "error_message": "..."}} (403 for the manual lock, 507 for the automatic disk
   * write block). A granted permit must be returned on {@link #lockRelease()} when the write has
   * finished.
   */
  public String lockPermission() {
    return prefix + "lock.permission";
  }

  /** Public. Fire-and-forget: {@code {"permit": <long>}} ends a write granted by a permission. */
  public String lockRelease() {
    return prefix + "lock.release";
  }

  /**
   * Public. Reads the lock: reply {@code {"write": bool, "error_message": string|null,
   * "rejected_writes": n, "writes_in_flight": n, "disk": {...}}}, where {@code disk} is the
   * automatic disk write block ({@code blocked}, {@code error_message}, {@code free_bytes}, {@code
   * block_below_bytes}, {@code resume_above_bytes}, {@code rejected_writes}).
   */
  public String lockGet() {
    return prefix + "lock.get";
  }

  /**
   * Public. Sets the lock: body {@code {"write": bool, "error_message": string|null}}, optionally with
   * {@code "origin": {"client": string|null, "api_key": string}} for the history; reply is the
   * previous state, sent once every write granted before the change has finished.
   */
  public String lockSet() {
    return prefix + "lock.set";
  }

  /**
   * Public. Fire-and-forget: {@code {"error_message": "..."}} reports a write that failed for lack
   * of disk space; the automatic disk write block turns on until the free space is back above its
   * resume watermark.
   */
  public String lockDisk() {
    return prefix + "lock.disk";
  }

  /**
   * Public. The lock changes since start: reply {@code {"changes": [{"time", "write", "error_message",
   * "previous", "client", "api_key"}, ...], "forgotten": n}}, oldest first.
   */
  public String lockHistory() {
    return prefix + "lock.history";
  }

  /** Local. Parsed storage requests ({@code io.quiver.request.Request}), answered by either storage verticle. */
  public String storage() {
    return prefix + "storage";
  }

  /**
   * Public. Storage commands as JSON: {@code {"op": "search_points", "collection": "name", "body":
   * {...}, "params": {"wait": "true"}}} ({@code op} is a {@code StorageOp} name, any case; {@code
   * collection}, {@code body} and {@code params} as the REST path, body and query would carry
   * them). Reply: {@code {"result": ...}}, the {@code result} of the matching REST response.
   * Failures are {@code ReplyException}s with the REST status code and Qdrant's message; writes
   * honour the node's write lock like REST writes do.
   */
  public String storageJson() {
    return prefix + "storage.json";
  }

  /**
   * Cluster-visible. Calls on the shards this node holds, from other nodes' coordinators: JSON
   * {@code {"collection", "shard", "call", ...arguments}} (see {@code cluster.shard.RemoteShard}),
   * answered with the call's result as JSON, or failed with the HTTP status and Qdrant's message.
   */
  public String shards() {
    return prefix + "shards";
  }

  /** Cluster-visible. Body {@code {}}; reply {@code {"applied": <index>}}: the Raft index of the metadata this node has applied. */
  public String raftApplied() {
    return prefix + "raft.applied";
  }

  public String prefix() {
    return prefix;
  }
}
