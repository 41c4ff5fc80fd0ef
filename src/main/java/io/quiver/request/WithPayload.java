package io.quiver.request;

import java.util.Set;

/**
 * Which payload to return: none, all, only the {@code include} keys, or all but the {@code exclude}
 * keys (at most one of the two is set).
 */
public record WithPayload(boolean enabled, Set<String> include, Set<String> exclude) {
  public static final WithPayload ALL = new WithPayload(true, null, null);
  public static final WithPayload NONE = new WithPayload(false, null, null);

  public WithPayload {
    include = include == null ? null : Set.copyOf(include);
    exclude = exclude == null ? null : Set.copyOf(exclude);
  }
}
