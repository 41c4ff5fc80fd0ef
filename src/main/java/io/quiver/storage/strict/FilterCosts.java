package io.quiver.storage.strict;

import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.Match;
import java.util.ArrayList;
import java.util.List;

/** The sizes of a filter that strict mode limits and rate limiting charges. */
final class FilterCosts {
  private FilterCosts() {}

  /** The conditions of every part of a filter. */
  static List<Condition> topLevel(Filter f) {
    List<Condition> out = new ArrayList<>();
    if (f.must() != null) {
      out.addAll(f.must());
    }
    if (f.should() != null) {
      out.addAll(f.should());
    }
    if (f.minShould() != null) {
      out.addAll(f.minShould().conditions());
    }
    if (f.mustNot() != null) {
      out.addAll(f.mustNot());
    }
    return out;
  }

  /** Qdrant's total_conditions_count: every condition, nested filters counted by their own; 0 for no filter. */
  static long conditions(Filter f) {
    if (f == null) {
      return 0;
    }
    long n = 0;
    for (Condition c : topLevel(f)) {
      n += switch (c) {
        case Filter inner -> conditions(inner);
        case Condition.Nested nested -> conditions(nested.filter());
        default -> 1;
      };
    }
    return n;
  }

  /** Qdrant's max_condition_input_size: the longest any/except list or has_id list. */
  static long maxConditionSize(Filter f) {
    long max = 0;
    for (Condition c : topLevel(f)) {
      long size = switch (c) {
        case Condition.Field field -> field.match() instanceof Match.Any a ? count(a.any())
            : field.match() instanceof Match.Except e ? count(e.except()) : 0;
        case Condition.HasId h -> h.ids().size();
        case Filter inner -> maxConditionSize(inner);
        case Condition.Nested nested -> maxConditionSize(nested.filter());
        default -> 0;
      };
      max = Math.max(max, size);
    }
    return max;
  }

  private static long count(Match.Values v) {
    return v instanceof Match.Keywords k ? k.values().size() : ((Match.Integers) v).values().size();
  }
}
