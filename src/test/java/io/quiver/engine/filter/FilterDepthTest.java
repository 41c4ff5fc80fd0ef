package io.quiver.engine.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Filter parsing, querying and matching recurse along the filter, so the parser bounds its depth
 * itself, whatever built the JSON tree (the REST parser stops deep JSON earlier, other callers may not).
 */
@Timeout(30)
class FilterDepthTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  /** {@code levels} filters nested as {"must": [{"should": [ ... {"key": "a", "match": {"value": 1}} ]}]}. */
  private static ObjectNode nested(int levels) {
    ObjectNode inner = F.objectNode().put("key", "a");
    inner.putObject("match").put("value", 1);
    for (int i = 0; i < levels; i++) {
      ObjectNode outer = F.objectNode();
      outer.putArray(i % 2 == 0 ? "must" : "should").add(inner);
      inner = outer;
    }
    return inner;
  }

  @Test
  void filtersWithinTheBoundParse() {
    // each level is an object and an array; the condition adds two more
    assertNotNull(FilterParser.parse(nested(FilterParser.MAX_DEPTH / 2 - 1)));
  }

  @Test
  void deeperFiltersAreRefusedWithoutRecursingIntoThem() {
    for (int levels : new int[] {FilterParser.MAX_DEPTH / 2, 100_000}) {
      var e = assertThrows(FilterException.class, () -> FilterParser.parse(nested(levels)));
      assertEquals("filter: nested deeper than " + FilterParser.MAX_DEPTH + " levels", e.getMessage());
    }
  }
}
