package io.quiver.api;

import java.util.List;

/** A Qdrant resource: contributes its rows to the router's table. */
public interface Endpoint {
  List<Route> routes();
}
