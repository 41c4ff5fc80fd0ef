package io.quiver.request;

import java.util.List;

/**
 * Changes to a collection's points: one operation ({@code PUT /points}, {@code POST /points/delete},
 * ...) or the steps of {@code POST /points/batch}, applied in order as one write, all or nothing.
 *
 * @param batch whether this came as a batch (the answer is then a list of results, one per step)
 */
public record PointWrite(String collection, List<PointOperation> operations, boolean batch, WriteParams write)
    implements Request {
  public PointWrite {
    operations = List.copyOf(operations);
  }

  public static PointWrite one(String collection, PointOperation op, WriteParams write) {
    return new PointWrite(collection, List.of(op), false, write);
  }

  /** A write adds data unless every step only removes some: then it is a delete, allowed under the write lock. */
  @Override
  public Access access() {
    return !operations.isEmpty() && operations.stream().allMatch(PointOperation::removesOnly) ? Access.DELETE : Access.WRITE;
  }
}
