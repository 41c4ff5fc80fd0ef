package io.quiver.request;

/**
 * How a route touches data. The router asks the lock verticle for permission on {@link #WRITE}
 * and {@link #CREATE} only; the API keys (read-only vs full) follow the same classes.
 */
public enum Access {
  /** Reads, searches, service endpoints. */
  READ,
  /** Removes data: allowed under the write lock. */
  DELETE,
  /** Adds or changes data: refused under the write lock. */
  WRITE,
  /** Creates collections or indexes: refused under the write lock. */
  CREATE,
  /** Changes node administration (the lock itself, aliases, collection parameters): never locked. */
  ADMIN;

  public boolean needsWritePermission() {
    return this == WRITE || this == CREATE;
  }

  public boolean readOnly() {
    return this == READ;
  }
}
