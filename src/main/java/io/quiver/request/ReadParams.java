package io.quiver.request;

/**
 * The query parameters of a read: Qdrant's {@code timeout} in seconds (null: none) and its read
 * {@code consistency} as given (null: the default, one replica; it matters with replicas only).
 */
public record ReadParams(Integer timeoutSeconds, String consistency) {
  public static final ReadParams DEFAULT = new ReadParams(null, null);
}
