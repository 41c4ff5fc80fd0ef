package io.quiver.error;

/**
 * A failure that carries the HTTP status Qdrant would answer with. Thrown by the engine and the
 * services (it has no framework dependency), carried over the event bus as a
 * {@code ReplyException} whose failure code is {@link #status()}, and rendered into Qdrant's error
 * envelope by the one failure handler of the HTTP router.
 */
public class ApiException extends RuntimeException {
  private final int status;

  public ApiException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public ApiException(int status, String message, Throwable cause) {
    super(message, cause, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** 400: the request is well-formed JSON but asks for something impossible ("Bad request: ..."). */
  public static ApiException badRequest(String message) {
    return new ApiException(400, "Bad request: " + message);
  }

  /** 400 with Qdrant's "Wrong input" prefix, used for dimension and vector-name errors. */
  public static ApiException wrongInput(String message) {
    return new ApiException(400, "Wrong input: " + message);
  }

  /** 400 for bodies that do not parse into the expected shape. */
  public static ApiException formatError(String message) {
    return new ApiException(400, "Format error in JSON body: " + message);
  }

  /** 422 for values that parse but violate a constraint. */
  public static ApiException validation(String message) {
    return new ApiException(422, "Validation error in JSON body: [" + message + "]");
  }

  public static ApiException collectionNotFound(String name) {
    return new ApiException(404, "Not found: Collection `" + name + "` doesn't exist!");
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, "Not found: " + message);
  }

  public static ApiException conflict(String message) {
    return new ApiException(409, message);
  }

  public static ApiException forbidden(String message) {
    return new ApiException(403, message);
  }

  /**
   * 507 for a write refused for lack of disk space, whether it failed on a full disk or was turned
   * away by the automatic disk write block. {@code detail} follows Qdrant's "No space left on
   * device: ..." wording.
   */
  public static ApiException insufficientStorage(String detail) {
    return new ApiException(507, INSUFFICIENT_STORAGE + detail);
  }

  /** The prefix of every 507 message. */
  public static final String INSUFFICIENT_STORAGE = "Insufficient storage: ";

  public static ApiException unavailable(String message) {
    return new ApiException(503, message);
  }

  /**
   * 429 for a request refused by a strict-mode rate limiter ("Rate limiting exceeded: ...").
   *
   * @param retryAfterSeconds when a retry can succeed, for the {@code Retry-After} header; null when it never can
   */
  public static ApiException rateLimited(String description, Integer retryAfterSeconds) {
    var e = new ApiException(429, "Rate limiting exceeded: " + description);
    e.retryAfterSeconds = retryAfterSeconds;
    return e;
  }

  private Integer retryAfterSeconds;

  /** Seconds until a retry can succeed (429 only), or null. */
  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public static ApiException notImplemented(String what) {
    return new ApiException(501, "Not implemented: " + what + " is not supported by this server yet");
  }
}
