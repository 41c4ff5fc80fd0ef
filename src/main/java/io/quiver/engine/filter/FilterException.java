package io.quiver.engine.filter;

/** An invalid filter or payload index request; the message names the offending place, e.g. {@code filter.must[0]: unknown condition}. */
public final class FilterException extends IllegalArgumentException {
  public FilterException(String message) {
    super(message);
  }
}
