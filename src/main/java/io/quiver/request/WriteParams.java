package io.quiver.request;

/**
 * The query parameters of a write: {@code wait} (answer once the change is visible) and Qdrant's
 * {@code ordering} ({@code weak}, {@code medium}, {@code strong}; it matters with replicas only).
 */
public record WriteParams(boolean waitForResult, Ordering ordering) {
  public static final WriteParams NO_WAIT = new WriteParams(false, Ordering.WEAK);

  public enum Ordering {
    WEAK,
    MEDIUM,
    STRONG
  }
}
