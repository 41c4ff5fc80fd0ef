package io.quiver.cluster.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A peer as the cluster's metadata knows it.
 *
 * @param id the stable peer id
 * @param uri its p2p URI (Qdrant's peer URI: how other peers reach it; Hazelcast listens there)
 * @param restUri the base URI of its REST API, or null before it is known
 * @param raft the {@code host:port} of its Raft server
 */
public record PeerMeta(long id, String uri, String restUri, String raft) {
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode().put("id", id).put("uri", uri).put("raft", raft);
    if (restUri != null) {
      o.put("rest_uri", restUri);
    }
    return o;
  }

  static PeerMeta fromJson(JsonNode o) {
    return new PeerMeta(o.get("id").asLong(), o.path("uri").asText(null), o.path("rest_uri").asText(null), o.path("raft").asText(null));
  }
}
