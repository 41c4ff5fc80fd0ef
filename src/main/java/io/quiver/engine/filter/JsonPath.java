package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A payload key as Qdrant parses it: {@code a.b}, {@code a[].b} (every element of array a),
 * {@code a[2].b} (one element), {@code "quoted.key"}. Traversal is explicit: in Qdrant 1.15 a key
 * step never looks into an array, so {@code a.b} finds nothing when {@code a} is an array; only
 * {@code []} and {@code [n]} enter arrays.
 */
public record JsonPath(String firstKey, List<Item> rest) {
  public JsonPath {
    rest = List.copyOf(rest);
  }

  /** One step after the first key. */
  public sealed interface Item {}

  public record Key(String name) implements Item {}

  public record Index(long index) implements Item {}

  public record Wildcard() implements Item {}

  private static final Wildcard WILDCARD = new Wildcard();

  /** Parses Qdrant's key syntax; throws {@link IllegalArgumentException} on anything else. */
  public static JsonPath parse(String s) {
    var p = new Parser(s);
    String first = p.key();
    List<Item> rest = new ArrayList<>();
    while (first != null && p.pos < s.length()) {
      char c = s.charAt(p.pos);
      Item item = null;
      if (c == '.') {
        p.pos++;
        String k = p.key();
        item = k == null ? null : new Key(k);
      } else if (c == '[') {
        item = p.bracket();
      }
      if (item == null) {
        first = null;
        break;
      }
      rest.add(item);
    }
    if (first == null) {
      throw new IllegalArgumentException("Invalid json path: '" + s + "'");
    }
    return new JsonPath(first, rest);
  }

  private static final class Parser {
    final String s;
    int pos;

    Parser(String s) {
      this.s = s;
    }

    /** A raw key (letters, digits, '_', '-') or a quoted one; null if neither is here. */
    String key() {
      if (pos < s.length() && s.charAt(pos) == '"') {
        int end = pos + 1;
        while (end < s.length() && s.charAt(end) != '"' && s.charAt(end) != '\\') {
          end++;
        }
        if (end >= s.length() || s.charAt(end) != '"') {
          return null;
        }
        String k = s.substring(pos + 1, end);
        pos = end + 1;
        return k;
      }
      int start = pos;
      while (pos < s.length() && isRawKeyChar(s.codePointAt(pos))) {
        pos += Character.charCount(s.codePointAt(pos));
      }
      return pos > start ? s.substring(start, pos) : null;
    }

    Item bracket() {
      int close = s.indexOf(']', pos);
      if (close < 0) {
        return null;
      }
      String inside = s.substring(pos + 1, close);
      pos = close + 1;
      if (inside.isEmpty()) {
        return WILDCARD;
      }
      for (int i = 0; i < inside.length(); i++) {
        if (inside.charAt(i) < '0' || inside.charAt(i) > '9') {
          return null;
        }
      }
      try {
        return new Index(Long.parseLong(inside));
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  static boolean isRawKeyChar(int cp) {
    return cp == '_' || cp == '-' || Text.isAlphanumeric(cp);
  }

  /** A key as it appears in a rendered path: quoted unless it is a non-empty raw key. */
  static String renderKey(String key) {
    boolean raw = !key.isEmpty() && key.codePoints().allMatch(JsonPath::isRawKeyChar);
    return raw ? key : "\"" + key + "\"";
  }

  /** The values at this path (Qdrant's {@code value_get}): missing steps contribute nothing. */
  public List<JsonNode> values(JsonNode root) {
    List<JsonNode> out = new ArrayList<>(1);
    JsonNode first = root == null ? null : root.get(firstKey);
    if (first != null && root.isObject()) {
      collect(first, 0, out);
    }
    return out;
  }

  private void collect(JsonNode node, int step, List<JsonNode> out) {
    if (step == rest.size()) {
      out.add(node);
      return;
    }
    switch (rest.get(step)) {
      case Key k -> {
        JsonNode child = node.isObject() ? node.get(k.name()) : null;
        if (child != null) {
          collect(child, step + 1, out);
        }
      }
      case Index i -> {
        if (node.isArray() && i.index() < node.size()) {
          collect(node.get((int) i.index()), step + 1, out);
        }
      }
      case Wildcard w -> {
        if (node.isArray()) {
          for (JsonNode e : node) {
            collect(e, step + 1, out);
          }
        }
      }
    }
  }

  /** The path with {@code []} appended unless it already ends so (the array a nested condition walks). */
  public JsonPath arrayKey() {
    if (!rest.isEmpty() && rest.getLast() instanceof Wildcard) {
      return this;
    }
    List<Item> r = new ArrayList<>(rest);
    r.add(WILDCARD);
    return new JsonPath(firstKey, r);
  }

  /** {@code this.other}: the path of {@code other} taken relative to the value(s) at this path. */
  public JsonPath extend(JsonPath other) {
    List<Item> r = new ArrayList<>(rest);
    r.add(new Key(other.firstKey));
    r.addAll(other.rest);
    return new JsonPath(firstKey, r);
  }

  /** Whether a step selects one array element ({@code [n]}). */
  public boolean hasIndex() {
    return rest.stream().anyMatch(i -> i instanceof Index);
  }

  /** The path with every {@code [n]} widened to {@code []}: a superset of the values. */
  public JsonPath widened() {
    return new JsonPath(firstKey, rest.stream().map(i -> i instanceof Index ? (Item) WILDCARD : i).toList());
  }

  @Override
  public String toString() {
    var sb = new StringBuilder(renderKey(firstKey));
    for (Item item : rest) {
      switch (item) {
        case Key k -> sb.append('.').append(renderKey(k.name()));
        case Index i -> sb.append('[').append(i.index()).append(']');
        case Wildcard w -> sb.append("[]");
      }
    }
    return sb.toString();
  }
}
