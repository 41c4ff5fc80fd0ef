package io.quiver.engine;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Recognises a failure caused by a full disk. Java reports {@code ENOSPC} and {@code EDQUOT} only
 * as the text of an {@link java.io.IOException} (from the JDK's file channels and streams, and
 * through Lucene, which wraps or suppresses them), so that text is what is matched, anywhere in the
 * chain of causes and suppressed exceptions.
 */
public final class NoSpace {
  private static final String[] MESSAGES = {"No space left on device", "Disk quota exceeded"};

  private NoSpace() {}

  /** Whether {@code failure} or anything it wraps or suppresses says the disk is full. */
  public static boolean causedBy(Throwable failure) {
    return find(failure, new IdentityHashMap<>()) != null;
  }

  /** The message of the full-disk failure inside {@code failure}, or null if there is none. */
  public static String message(Throwable failure) {
    return find(failure, new IdentityHashMap<>());
  }

  private static String find(Throwable t, Map<Throwable, Boolean> seen) {
    if (t == null || seen.put(t, Boolean.TRUE) != null || seen.size() > 64) {
      return null;
    }
    String text = t.getMessage();
    if (text != null) {
      for (String m : MESSAGES) {
        if (text.contains(m)) {
          return m;
        }
      }
    }
    for (Throwable s : t.getSuppressed()) {
      String found = find(s, seen);
      if (found != null) {
        return found;
      }
    }
    return find(t.getCause(), seen);
  }
}
