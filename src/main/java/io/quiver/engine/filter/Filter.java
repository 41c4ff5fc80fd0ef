package io.quiver.engine.filter;

import java.util.List;

/**
 * Qdrant's filter: all of {@code must}, at least one of {@code should}, none of {@code mustNot},
 * at least {@code minShould.minCount} of {@code minShould.conditions}. A null part is absent. An
 * empty {@code should} list matches nothing inside a nested filter and is ignored elsewhere, as in
 * Qdrant (its top-level query optimizer drops empty lists; its nested checker does not).
 */
public record Filter(List<Condition> must, List<Condition> should, List<Condition> mustNot, MinShould minShould)
    implements Condition {
  /** Matches every point. */
  public static final Filter ALL = new Filter(null, null, null, null);

  public Filter {
    must = must == null ? null : List.copyOf(must);
    should = should == null ? null : List.copyOf(should);
    mustNot = mustNot == null ? null : List.copyOf(mustNot);
  }

  public record MinShould(List<Condition> conditions, long minCount) {
    public MinShould {
      conditions = List.copyOf(conditions);
    }
  }
}
