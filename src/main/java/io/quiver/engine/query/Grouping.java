package io.quiver.engine.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.JsonPath;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Qdrant's grouping of hits by the values of a payload key: strings and integers ({@code Long}), array elements one level down. */
public final class Grouping {
  private static final DocMapper.Selector PAYLOAD_ONLY = new DocMapper.Selector(true, false, Set.of());

  private Grouping() {}

  /**
   * Groups hits (best first) by the values of a payload key: the first {@code limit} values seen
   * open the groups, each keeps its first {@code size} hits.
   */
  public static Map<Object, List<Hit>> group(Shard.Reader r, List<Hit> hits, JsonPath key, int limit, int size) throws IOException {
    Map<Object, List<Hit>> out = new LinkedHashMap<>();
    for (Hit h : hits) {
      Point point = r.load(h.doc(), r.idOf(h.doc()), PAYLOAD_ONLY);
      for (Object g : values(key, point.payload())) {
        List<Hit> group = out.get(g);
        if (group == null && out.size() < limit) {
          group = new ArrayList<>();
          out.put(g, group);
        }
        if (group != null && group.size() < size) {
          group.add(h);
        }
      }
    }
    return out;
  }

  /** Whether there are {@code limit} groups of {@code size} hits each. */
  public static boolean full(Map<Object, ? extends List<?>> groups, int limit, int size) {
    return groups.size() == limit && groups.values().stream().allMatch(l -> l.size() == size);
  }

  /** The group values of a payload: strings and integers ({@code Long}) of the key, array elements one level down, each once. */
  public static List<Object> values(JsonPath key, JsonNode payload) {
    List<Object> out = new ArrayList<>(1);
    for (JsonNode n : key.values(payload)) {
      if (n.isArray()) {
        n.forEach(e -> add(e, out));
      } else {
        add(n, out);
      }
    }
    return out;
  }

  private static void add(JsonNode n, List<Object> out) {
    Object v = n.isTextual() ? n.textValue() : n.isIntegralNumber() && n.canConvertToLong() ? (Object) n.longValue() : null;
    if (v != null && !out.contains(v)) {
      out.add(v);
    }
  }
}
