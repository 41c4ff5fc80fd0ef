package io.quiver.engine.query;

/**
 * A candidate of a query on one reader: its global doc id, score, order value ({@code order_by}),
 * and whether it came from a scroll (shown with version 0, as Qdrant does).
 */
public record Hit(int doc, float score, Number orderValue, boolean scrolled) {
  static Hit scored(int doc, float score) {
    return new Hit(doc, score, null, false);
  }
}
