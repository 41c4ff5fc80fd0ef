package io.quiver.engine.filter;

import java.util.List;

/** The {@code match} of a field condition (Qdrant's {@code Match}). */
public sealed interface Match {
  /** Exact value: a {@link String}, a {@link Long} or a {@link Boolean}. */
  record Value(Object value) implements Match {
    public Value {
      if (!(value instanceof String || value instanceof Long || value instanceof Boolean)) {
        throw new IllegalArgumentException("match value must be a string, an integer or a bool");
      }
    }
  }

  /** Any of the values (keywords or integers). */
  record Any(Values any) implements Match {}

  /** Some value that is none of these. */
  record Except(Values except) implements Match {}

  /** Full-text match: substring without a text index, all query tokens with one. */
  record Text(String text) implements Match {}

  /** Any whitespace-separated word (substring) or any token (with a text index). */
  record TextAny(String textAny) implements Match {}

  /** Phrase: substring without a text index, consecutive tokens with one (needs phrase_matching). */
  record Phrase(String phrase) implements Match {}

  /** The list of {@code any}/{@code except}: all strings or all integers (an empty list is strings, as in Qdrant). */
  sealed interface Values {}

  record Keywords(List<String> values) implements Values {
    public Keywords {
      values = List.copyOf(values);
    }
  }

  record Integers(List<Long> values) implements Values {
    public Integers {
      values = List.copyOf(values);
    }
  }
}
