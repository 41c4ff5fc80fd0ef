package io.quiver.request;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.filter.FieldIndex;

/** Requests on one collection as a whole: its config, existence, aliases and payload indexes. */
public sealed interface CollectionRequest extends Request {
  @Override
  String collection();

  record Get(String collection) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.READ;
    }
  }

  record Exists(String collection) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.READ;
    }
  }

  /** The aliases of this collection. */
  record Aliases(String collection) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.READ;
    }
  }

  /**
   * @param config the normalised config that {@code GET /collections/{name}} shows and {@code config.json} stores
   * @param initFrom the collection (or alias) whose points and payload indexes to copy, or null
   * @param timeoutSeconds Qdrant's {@code timeout} query parameter, or null
   */
  record Create(String collection, ObjectNode config, String initFrom, Integer timeoutSeconds) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.CREATE;
    }
  }

  record Update(String collection, CollectionUpdate update, Integer timeoutSeconds) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.ADMIN;
    }
  }

  record Delete(String collection, Integer timeoutSeconds) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.DELETE;
    }
  }

  /** {@code PUT /collections/{name}/index}: {@code index} is the parsed {@code field_schema}. */
  record CreateIndex(String collection, String field, FieldIndex index, WriteParams write) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.CREATE;
    }
  }

  record DeleteIndex(String collection, String field, WriteParams write) implements CollectionRequest {
    @Override
    public Access access() {
      return Access.DELETE;
    }
  }
}
