package io.quiver.engine;

/**
 * What a shard applies and logs: every update operation is resolved, under the shard's write lock,
 * into whole-point puts and deletes. Replaying them is idempotent, so the WAL tail may be applied
 * again after a crash without harm.
 */
public sealed interface Action {
  PointId id();

  record Put(Point point) implements Action {
    @Override
    public PointId id() {
      return point.id();
    }
  }

  record Delete(PointId id) implements Action {}
}
