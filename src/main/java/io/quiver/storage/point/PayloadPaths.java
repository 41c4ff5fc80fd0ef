package io.quiver.storage.point;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Payload key paths as Qdrant writes them: {@code a.b.c}, {@code a[].b} (every element of array a),
 * {@code a[2].b} (one element). Used by payload selectors and payload updates.
 */
final class PayloadPaths {
  private PayloadPaths() {}

  /** One step of a path: a key, then optionally "every element" ({@code []}) or one index. */
  record Step(String key, boolean all, int index) {}

  static List<Step> parse(String path) {
    List<Step> steps = new ArrayList<>();
    for (String part : path.split("\\.", -1)) {
      String key = part;
      boolean all = false;
      int index = -1;
      int bracket = part.indexOf('[');
      if (bracket >= 0 && part.endsWith("]")) {
        key = part.substring(0, bracket);
        String inside = part.substring(bracket + 1, part.length() - 1);
        if (inside.isEmpty()) {
          all = true;
        } else {
          try {
            index = Integer.parseInt(inside);
          } catch (NumberFormatException e) {
            index = -1;
          }
        }
      }
      steps.add(new Step(key, all, index));
    }
    return steps;
  }

  /** Copies the value(s) at {@code path} of {@code src} into {@code dst} at the same place. */
  static void copy(ObjectNode src, ObjectNode dst, String path) {
    List<Step> steps = parse(path);
    copy(src, dst, steps, 0);
  }

  private static void copy(ObjectNode src, ObjectNode dst, List<Step> steps, int i) {
    Step s = steps.get(i);
    JsonNode value = src.get(s.key());
    if (value == null) {
      return;
    }
    boolean last = i == steps.size() - 1;
    if (s.all() || s.index() >= 0) {
      if (!value.isArray()) {
        return;
      }
      if (last) {
        dst.set(s.key(), value.deepCopy());
        return;
      }
      ArrayNode out = dst.has(s.key()) && dst.get(s.key()).isArray() ? (ArrayNode) dst.get(s.key()) : dst.putArray(s.key());
      for (int k = 0; k < value.size(); k++) {
        if ((s.all() || k == s.index()) && value.get(k) instanceof ObjectNode elem) {
          ObjectNode part = out.addObject();
          copy(elem, part, steps, i + 1);
        }
      }
      return;
    }
    if (last) {
      dst.set(s.key(), value.deepCopy());
    } else if (value instanceof ObjectNode child) {
      ObjectNode next = dst.get(s.key()) instanceof ObjectNode o ? o : dst.putObject(s.key());
      copy(child, next, steps, i + 1);
      if (next.isEmpty()) {
        dst.remove(s.key());
      }
    } else if (value.isArray()) {
      ArrayNode out = dst.putArray(s.key());
      for (JsonNode elem : value) {
        if (elem instanceof ObjectNode o) {
          ObjectNode part = F().objectNode();
          copy(o, part, steps, i + 1);
          if (!part.isEmpty()) {
            out.add(part);
          }
        }
      }
      if (out.isEmpty()) {
        dst.remove(s.key());
      }
    }
  }

  /** Removes the value(s) at {@code path}; returns whether anything was removed. */
  static boolean remove(ObjectNode root, String path) {
    return remove(root, parse(path), 0);
  }

  private static boolean remove(JsonNode node, List<Step> steps, int i) {
    if (!(node instanceof ObjectNode obj)) {
      if (node instanceof ArrayNode arr) {
        boolean any = false;
        for (JsonNode e : arr) {
          any |= remove(e, steps, i);
        }
        return any;
      }
      return false;
    }
    Step s = steps.get(i);
    boolean last = i == steps.size() - 1;
    JsonNode value = obj.get(s.key());
    if (value == null) {
      return false;
    }
    if (s.index() >= 0) {
      if (!value.isArray() || s.index() >= value.size()) {
        return false;
      }
      if (last) {
        ((ArrayNode) value).remove(s.index());
        return true;
      }
      return remove(value.get(s.index()), steps, i + 1);
    }
    if (last) {
      if (s.all() && value.isArray()) {
        ((ArrayNode) value).removeAll();
        return true;
      }
      obj.remove(s.key());
      return true;
    }
    return remove(value, steps, i + 1);
  }

  /**
   * Merges {@code values} into the object at {@code path} (created when missing), as Qdrant's
   * set-payload with a {@code key}.
   */
  static void setAt(ObjectNode root, String path, ObjectNode values) {
    List<Step> steps = parse(path);
    setAt(root, steps, 0, values);
  }

  private static void setAt(ObjectNode node, List<Step> steps, int i, ObjectNode values) {
    Step s = steps.get(i);
    boolean last = i == steps.size() - 1;
    JsonNode value = node.get(s.key());
    if (s.all() || s.index() >= 0) {
      if (value instanceof ArrayNode arr) {
        for (int k = 0; k < arr.size(); k++) {
          if ((s.all() || k == s.index()) && arr.get(k) instanceof ObjectNode elem) {
            if (last) {
              elem.setAll(values.deepCopy());
            } else {
              setAt(elem, steps, i + 1, values);
            }
          }
        }
      }
      return;
    }
    ObjectNode target = value instanceof ObjectNode o ? o : node.putObject(s.key());
    if (last) {
      target.setAll(values.deepCopy());
    } else {
      setAt(target, steps, i + 1, values);
    }
  }

  private static com.fasterxml.jackson.databind.node.JsonNodeFactory F() {
    return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
  }
}
