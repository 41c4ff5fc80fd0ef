package io.quiver.engine.filter;

/**
 * A filter or payload-index request that cannot be used. {@link #validation()} tells a well-formed
 * value that breaks a rule (Qdrant answers 422 "Validation error") from one that does not parse into
 * the expected shape (400 "Format error").
 */
public final class FilterException extends IllegalArgumentException {
  private final boolean validation;

  public FilterException(String message) {
    this(message, false);
  }

  private FilterException(String message, boolean validation) {
    super(message);
    this.validation = validation;
  }

  public static FilterException validation(String message) {
    return new FilterException(message, true);
  }

  public boolean validation() {
    return validation;
  }
}
