package io.quiver.engine.filter;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Qdrant's {@code PayloadSchemaType}: the type of a payload index. */
public enum PayloadType {
  KEYWORD, INTEGER, FLOAT, GEO, TEXT, BOOL, DATETIME, UUID;

  /** The name in Qdrant's JSON. */
  public String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Parses a JSON name; throws {@link FilterException} naming the accepted ones. */
  public static PayloadType fromJson(String name, String where) {
    for (PayloadType t : values()) {
      if (t.json().equals(name)) {
        return t;
      }
    }
    throw new FilterException(where + ": unknown variant `" + name + "`, expected one of "
        + Arrays.stream(values()).map(t -> "`" + t.json() + "`").collect(Collectors.joining(", ")));
  }
}
