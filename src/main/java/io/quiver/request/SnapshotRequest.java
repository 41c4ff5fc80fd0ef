package io.quiver.request;

/**
 * Snapshots of a collection ({@code collection} set), of one of its shards ({@code shardId} set too),
 * or of the whole storage ({@code collection} null). {@code wait} defaults to true; with false the
 * REST edge answers 202 at once and the operation goes on.
 */
public sealed interface SnapshotRequest extends Request {
  /** Null for a full-storage snapshot. */
  @Override
  String collection();

  /** Null for a collection or full-storage snapshot. */
  Integer shardId();

  /**
   * The access class of each kind, in one place: taking a snapshot copies data and is allowed under
   * the write lock (that is what backups need); recovering creates data and is not.
   */
  @Override
  default Access access() {
    return switch (this) {
      case ListAll l -> Access.READ;
      case File f -> Access.READ;
      case Create c -> Access.ADMIN;
      case Delete d -> Access.DELETE;
      case Recover r -> Access.CREATE;
    };
  }

  record ListAll(String collection, Integer shardId) implements SnapshotRequest {}

  /** {@code waitForResult}: Qdrant's {@code wait} (default true). */
  record Create(String collection, Integer shardId, boolean waitForResult) implements SnapshotRequest {}

  record Delete(String collection, Integer shardId, String name, boolean waitForResult) implements SnapshotRequest {}

  /** The file of a snapshot, for download: answers {@code {"path", "name"}} (a local file). */
  record File(String collection, Integer shardId, String name) implements SnapshotRequest {}

  record Recover(String collection, Integer shardId, Source source, boolean waitForResult) implements SnapshotRequest {}

  /**
   * What to recover from: a URL or path ({@code location}) or a file the router stored from a
   * multipart upload ({@code uploadedFile}), with an optional checksum, priority and API key for the
   * download.
   */
  record Source(String location, String uploadedFile, String checksum, String priority, String apiKey) {}
}
