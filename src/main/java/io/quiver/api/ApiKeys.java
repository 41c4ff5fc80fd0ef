package io.quiver.api;

import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * Qdrant's API keys: {@code service.api_key} grants everything, {@code service.read_only_api_key}
 * grants reads only. A key comes in the {@code api-key} header or as {@code Authorization: Bearer}.
 * Keys are compared in constant time and never logged. The health endpoints stay open, as Qdrant's
 * whitelist keeps them, so Kubernetes probes need no key.
 */
final class ApiKeys {
  /** What a request may do. */
  enum Grant {
    FULL,
    READ_ONLY
  }

  /** Missing or wrong key: 401 with Qdrant's plain-text wording. */
  static final class Unauthorized extends RuntimeException {
    Unauthorized(String message) {
      super(message, null, false, false);
    }
  }

  static final Set<String> OPEN_PATHS = Set.of("/healthz", "/livez", "/readyz");

  private final byte[] full;
  private final byte[] readOnly;

  ApiKeys(String full, String readOnly) {
    this.full = bytes(full);
    this.readOnly = bytes(readOnly);
  }

  boolean enabled() {
    return full != null || readOnly != null;
  }

  /** The grant of a request; throws {@link Unauthorized} when keys are set and it has no valid one. */
  Grant check(HttpServerRequest request) {
    if (!enabled() || OPEN_PATHS.contains(request.path())) {
      return Grant.FULL;
    }
    String key = request.getHeader("api-key");
    if (key == null) {
      String auth = request.getHeader("authorization");
      key = auth != null && auth.startsWith("Bearer ") ? auth.substring("Bearer ".length()) : null;
    }
    if (key == null) {
      throw new Unauthorized("Must provide an API key or an Authorization bearer token");
    }
    byte[] given = key.getBytes(StandardCharsets.UTF_8);
    // both comparisons always run, so timing tells nothing about which key (if any) was close
    boolean isFull = full != null & MessageDigest.isEqual(given, full == null ? new byte[0] : full);
    boolean isReadOnly = readOnly != null & MessageDigest.isEqual(given, readOnly == null ? new byte[0] : readOnly);
    if (isFull) {
      return Grant.FULL;
    }
    if (isReadOnly) {
      return Grant.READ_ONLY;
    }
    throw new Unauthorized("Invalid API key or JWT");
  }

  private static byte[] bytes(String key) {
    return key == null || key.isEmpty() ? null : key.getBytes(StandardCharsets.UTF_8);
  }
}
