package io.quiver.api;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.net.RFC3986;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds a request's {@link Route} by walking the path's segments through a tree of the table's
 * paths, instead of trying each route's regular expression in turn (the router's way, whose cost
 * grows with the table and was a sixth of the event loop's time per search). It chooses as the
 * router would: of the routes whose path matches, the first in the table with the request's method;
 * {@code {name}} matches one non-empty segment (percent-decoded), one trailing slash is ignored.
 */
final class RouteTable {
  /** A route found, with its path parameters. */
  record Match(Route route, Map<String, String> params) {}

  /** No route: {@code methodNotAllowed} when the path matches a route of another method (405), else 404. */
  record Miss(boolean methodNotAllowed) {}

  private static final class Node {
    final Map<String, Node> literals = new HashMap<>();
    Node param;
    String paramName;
    /** Routes ending here, with their index in the table. */
    final List<Integer> routes = new ArrayList<>(1);
  }

  private final List<Route> routes;
  /** Per route, the name of the path parameter at each segment, null at literal segments. */
  private final String[][] params;
  private final Node root = new Node();

  RouteTable(List<Route> routes) {
    this.routes = List.copyOf(routes);
    this.params = new String[this.routes.size()][];
    for (int i = 0; i < this.routes.size(); i++) {
      Node node = root;
      String[] template = segments(this.routes.get(i).path());
      params[i] = new String[template.length];
      for (int at = 0; at < template.length; at++) {
        String segment = template[at];
        if (segment.startsWith("{") && segment.endsWith("}")) {
          String name = segment.substring(1, segment.length() - 1);
          params[i][at] = name;
          if (node.param == null) {
            node.param = new Node();
            node.paramName = name;
          } else if (!node.paramName.equals(name)) {
            throw new IllegalArgumentException("path parameters {" + node.paramName + "} and {" + name + "} at the same place: "
                + this.routes.get(i).path());
          }
          node = node.param;
        } else {
          node = node.literals.computeIfAbsent(segment, s -> new Node());
        }
      }
      node.routes.add(i);
    }
  }

  /** The route for a request, a {@link Match} or a {@link Miss}. */
  Object find(HttpMethod method, String path) {
    String[] segments = segments(path);
    if (segments == null) {
      return new Miss(false);
    }
    List<Integer> found = new ArrayList<>(2);
    collect(root, segments, 0, found);
    int best = -1;
    for (int i : found) {
      if (routes.get(i).method().equals(method) && (best < 0 || i < best)) {
        best = i;
      }
    }
    if (best < 0) {
      return new Miss(!found.isEmpty());
    }
    Map<String, String> values = new LinkedHashMap<>(4);
    String[] names = params[best];
    for (int i = 0; i < names.length; i++) {
      if (names[i] != null) {
        values.put(names[i], RFC3986.decodeURIComponent(segments[i], false));
      }
    }
    return new Match(routes.get(best), values);
  }

  private static void collect(Node node, String[] segments, int at, List<Integer> out) {
    if (at == segments.length) {
      out.addAll(node.routes);
      return;
    }
    String segment = segments[at];
    Node literal = node.literals.get(segment);
    if (literal != null) {
      collect(literal, segments, at + 1, out);
    }
    if (node.param != null && !segment.isEmpty()) {
      collect(node.param, segments, at + 1, out);
    }
  }

  /** The segments of an absolute path, one trailing slash ignored; null for a path not starting with '/'. */
  private static String[] segments(String path) {
    if (path == null || path.isEmpty() || path.charAt(0) != '/') {
      return null;
    }
    int end = path.length();
    if (end > 1 && path.charAt(end - 1) == '/') {
      end--;
    }
    if (end == 1) {
      return new String[0];
    }
    return path.substring(1, end).split("/", -1);
  }
}
