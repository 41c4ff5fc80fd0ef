package io.quiver.config;

import io.quiver.bus.Addresses;

/** Facts about the running node that every verticle may read. Immutable. */
public record Node(long peerId, Addresses addresses, QuiverConfig config, long startedAtMillis) {
  /** The Qdrant API version this server speaks. */
  public static final String API_VERSION = "1.15.5";
  /** The product's own version, for the Server header and the logs. */
  public static final String VERSION = versionOf(Node.class);
  public static final String SERVER_HEADER = "quiver/" + VERSION;

  private static String versionOf(Class<?> type) {
    String v = type.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
