package io.quiver.storage.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.JsonPath;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.point.Records;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.search.ScoreDoc;

/** Qdrant's grouping of hits by the values of a payload key (strings and integers; array elements one level down). */
final class Grouping {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Grouping() {}

  /**
   * Groups hits (best first) by the values of a payload key: the first {@code limit} values seen
   * open the groups, each keeps its first {@code size} hits.
   */
  static Map<Object, List<Hit>> group(Shard.Reader r, List<Hit> hits, JsonPath key, int limit, int size) throws IOException {
    var payloadOnly = new DocMapper.Selector(true, false, Set.of());
    Map<Object, List<Hit>> out = new LinkedHashMap<>();
    for (Hit h : hits) {
      var sd = new ScoreDoc(h.doc(), 0f);
      Point point = r.load(sd, r.idOf(sd), payloadOnly);
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

  static boolean full(Map<Object, ? extends List<?>> groups, int limit, int size) {
    return groups.size() == limit && groups.values().stream().allMatch(l -> l.size() == size);
  }

  /** The group values of a payload at {@code key}: strings and integers, array elements one level down. */
  private static List<Object> values(JsonPath key, JsonNode payload) {
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

  static JsonNode idJson(Object groupId) {
    return groupId instanceof Long n ? F.numberNode(n) : F.textNode(groupId.toString());
  }

  /** A resolved {@code with_lookup}: the collection the group ids name points of, and what to show of them. */
  record Lookup(Collection collection, Records.Selection selection) {
    /** Adds the point the group id names, if there is one. */
    void addTo(ObjectNode group, Object groupId) throws IOException {
      PointId id = pointId(groupId);
      Point found = id == null ? null : collection.shard.read(r -> r.get(id, selection.selector()));
      if (found != null) {
        group.set("lookup", Records.record(found, selection, collection.schema()));
      }
    }
  }

  /** The point id a group value names in the lookup collection, or null when it cannot be one. */
  private static PointId pointId(Object value) {
    try {
      return PointId.parse(idJson(value));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
