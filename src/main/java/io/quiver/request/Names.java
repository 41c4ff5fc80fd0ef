package io.quiver.request;

import io.quiver.error.ApiException;

/**
 * Collection and alias names: 1 to 255 characters, none of {@code / \ : * ? " < > |}, no control
 * characters, not {@code .} or {@code ..}. A name can never escape the storage directory.
 */
public final class Names {
  public static final int MAX_LENGTH = 255;
  private static final String FORBIDDEN = "/\\:*?\"<>|";

  private Names() {}

  /** Throws a 422 {@link ApiException} when the name is not allowed. */
  public static void check(String name) {
    String problem = problem(name);
    if (problem != null) {
      throw new ApiException(422, "Validation error in path parameters: [collection_name: " + problem + "]");
    }
  }

  public static String problem(String name) {
    if (name == null || name.isEmpty()) {
      return "value is empty, must be from 1 to " + MAX_LENGTH + " characters";
    }
    if (name.length() > MAX_LENGTH) {
      return "value is too long, must be from 1 to " + MAX_LENGTH + " characters";
    }
    if (name.equals(".") || name.equals("..")) {
      return "collection name cannot be `" + name + "`";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (FORBIDDEN.indexOf(c) >= 0 || Character.isISOControl(c)) {
        return "collection name cannot contain \"" + (Character.isISOControl(c) ? "\\u" + Integer.toHexString(c) : c) + "\" char";
      }
    }
    return null;
  }
}
