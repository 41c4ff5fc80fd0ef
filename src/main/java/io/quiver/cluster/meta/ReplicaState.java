package io.quiver.cluster.meta;

/**
 * The state of one replica of a shard, as Qdrant names them in a collection's cluster info.
 *
 * <ul>
 *   <li>{@code Active}: holds every acknowledged write; reads may use it, writes must reach it.
 *   <li>{@code Dead}: missed writes (its peer failed or did not answer); neither read nor written
 *       until it recovers.
 *   <li>{@code Partial}: being filled by a transfer; takes every new write, is not read.
 *   <li>{@code Initializing}: created with its collection, not yet confirmed; takes writes.
 *   <li>{@code Listener}: takes writes, is never read and never counts for consistency.
 *   <li>{@code Recovery}: being restored from a snapshot; takes no writes.
 * </ul>
 */
public enum ReplicaState {
  ACTIVE("Active"),
  DEAD("Dead"),
  PARTIAL("Partial"),
  INITIALIZING("Initializing"),
  LISTENER("Listener"),
  RECOVERY("Recovery");

  private final String shown;

  ReplicaState(String shown) {
    this.shown = shown;
  }

  /** Qdrant's name of the state. */
  public String shown() {
    return shown;
  }

  /** Whether the primary sends new writes to a replica in this state. */
  public boolean takesWrites() {
    return this == ACTIVE || this == PARTIAL || this == INITIALIZING || this == LISTENER;
  }

  /** Whether reads may be answered by a replica in this state. */
  public boolean readable() {
    return this == ACTIVE;
  }

  public static ReplicaState parse(String name) {
    for (ReplicaState s : values()) {
      if (s.shown.equalsIgnoreCase(name) || s.name().equalsIgnoreCase(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown replica state '" + name + "'");
  }
}
