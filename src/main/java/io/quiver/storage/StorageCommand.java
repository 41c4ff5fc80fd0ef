package io.quiver.storage;

import java.util.Map;

/**
 * One request to the storage verticle of a node, passed by reference on the local event bus.
 *
 * @param op what to do
 * @param collection the collection (or alias) name from the path, or null for node-wide ops
 * @param body the parsed request body (a model record or Jackson tree), or null
 * @param params query and extra path parameters ({@code wait}, {@code field_name}, ...), never null
 */
public record StorageCommand(StorageOp op, String collection, Object body, Map<String, String> params) {
  public StorageCommand {
    params = params == null ? Map.of() : params;
  }

  public static StorageCommand of(StorageOp op) {
    return new StorageCommand(op, null, null, Map.of());
  }

  public String param(String name) {
    return params.get(name);
  }
}
