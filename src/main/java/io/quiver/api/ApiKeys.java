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
public final class ApiKeys {
  /** What a request may do. */
  public enum Grant {
    FULL,
    READ_ONLY
  }

  /** Missing or wrong key: 401 with Qdrant's plain-text wording. */
  public static final class Unauthorized extends RuntimeException {
    Unauthorized(String message) {
      super(message, null, false, false);
    }
  }

  static final Set<String> OPEN_PATHS = Set.of("/healthz", "/livez", "/readyz");

  private final byte[] full;
  private final byte[] readOnly;

  public ApiKeys(String full, String readOnly) {
    this.full = bytes(full);
    this.readOnly = bytes(readOnly);
  }

  public boolean enabled() {
    return full != null || readOnly != null;
  }

  /** The grant of a request; throws {@link Unauthorized} when keys are set and it has no valid one. */
  Grant check(HttpServerRequest request) {
    if (!enabled() || OPEN_PATHS.contains(request.path())) {
      return Grant.FULL;
    }
    return grant(request.getHeader("api-key"), request.getHeader("authorization"));
  }

  /**
   * The grant of the key given in {@code api-key}, or else as {@code Bearer} in {@code
   * authorization} (either may be null); throws {@link Unauthorized} when keys are set and neither
   * holds a valid one.
   */
  public Grant grant(String apiKey, String authorization) {
    if (!enabled()) {
      return Grant.FULL;
    }
    String key = apiKey;
    if (key == null) {
      key = authorization != null && authorization.startsWith("Bearer ") ? authorization.substring("Bearer ".length()) : null;
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
