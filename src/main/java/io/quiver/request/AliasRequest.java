package io.quiver.request;

import java.util.List;

/** {@code POST /collections/aliases}: the actions are applied in order, all or none. */
public record AliasRequest(List<Action> actions, Integer timeoutSeconds) implements Request {
  public AliasRequest {
    actions = List.copyOf(actions);
  }

  @Override
  public Access access() {
    return Access.ADMIN;
  }

  /** One alias change. Names are checked as collection names when parsed. */
  public sealed interface Action {}

  public record Create(String collection, String alias) implements Action {}

  public record Delete(String alias) implements Action {}

  public record Rename(String oldAlias, String newAlias) implements Action {}
}
