package io.quiver.request;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A validated {@code PATCH /collections/{name}} body: a normalised diff of Qdrant's collection
 * config, applied to the config current when the request runs.
 */
public record CollectionUpdate(ObjectNode diff) {
  /** A new config: {@code current} (not changed) with the diff applied; 400 for a vector the collection lacks. */
  public ObjectNode applyTo(ObjectNode current) {
    return CollectionConfigParser.apply(current, diff);
  }
}
