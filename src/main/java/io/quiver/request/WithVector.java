package io.quiver.request;

import java.util.Set;

/** Which vectors to return: none, all ({@code names} null), or those named (checked when the request runs). */
public record WithVector(boolean enabled, Set<String> names) {
  public static final WithVector ALL = new WithVector(true, null);
  public static final WithVector NONE = new WithVector(false, null);
}
