package io.quiver.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Map;

/**
 * One point: id, dense vectors by name ({@code ""} is the unnamed default vector), sparse vectors by
 * name, and the payload object (never null; empty when the point has none). Treated as immutable:
 * the engine copies before it changes anything.
 */
public record Point(PointId id, Map<String, float[]> dense, Map<String, SparseVector> sparse, ObjectNode payload) {
  public Point {
    dense = Map.copyOf(dense);
    sparse = Map.copyOf(sparse);
  }

  public Point withPayload(ObjectNode newPayload) {
    return new Point(id, dense, sparse, newPayload);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Point p) || !id.equals(p.id) || !sparse.equals(p.sparse) || !payload.equals(p.payload)
        || !dense.keySet().equals(p.dense.keySet())) {
      return false;
    }
    return dense.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), p.dense.get(e.getKey())));
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "Point[" + id + ", dense=" + dense.keySet() + ", sparse=" + sparse.keySet() + ", payload=" + payload + "]";
  }
}
