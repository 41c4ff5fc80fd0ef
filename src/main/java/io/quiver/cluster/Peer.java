package io.quiver.cluster;

import io.vertx.core.json.JsonObject;

/**
 * A Quiver node as the cluster knows it: its stable peer id, the base URI of its REST API and the
 * Vert.x node id of its current process (which changes when the node restarts). Its JSON form is
 * the value of the public {@code quiver.peers} map.
 */
public record Peer(long peerId, String uri, String nodeId) {
  public String addressPrefix() {
    return "quiver." + peerId + ".";
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("peer_id", peerId)
        .put("uri", uri)
        .put("node_id", nodeId)
        .put("address_prefix", addressPrefix());
  }

  /** Parses a map value; returns null for an entry that is not a peer. */
  public static Peer fromJson(Object value) {
    if (!(value instanceof JsonObject json) || !(json.getValue("peer_id") instanceof Number id)) {
      return null;
    }
    return new Peer(id.longValue(), json.getString("uri"), json.getString("node_id"));
  }
}
