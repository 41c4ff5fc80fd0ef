package io.quiver.engine;

/**
 * Names of the Lucene fields of a point document. One document per point; the payload fields that
 * filters use are named by {@code io.quiver.engine.filter.PayloadFields}.
 */
public final class Fields {
  /** Indexed term and sorted doc values: {@link PointId#term()}. */
  public static final String ID = "_id";
  /**
   * Numeric doc values: the value of an integer point id (none for UUIDs, nor in segments written
   * before it existed), read for a hit's id instead of {@link #ID}'s compressed terms.
   */
  public static final String NUM_ID = "_idn";
  /** Numeric doc values: the WAL sequence number of the write that last put the point (Qdrant's version). */
  public static final String VERSION = "_ver";
  /** Stored: the payload as JSON bytes. */
  public static final String PAYLOAD = "_p";
  /** Numeric doc values: the length in bytes of {@link #PAYLOAD} (payload storage accounting). */
  public static final String PAYLOAD_SIZE = "_ps";
  /** Indexed terms: names of the vectors the point has ("" for the unnamed default vector). */
  public static final String HAS_VECTOR = "_hv";
  /** Prefix of dense vector fields: {@code v.<name>}. */
  public static final String DENSE_PREFIX = "v.";
  /** Prefix of multivectors, binary doc values of the flattened rows (little-endian floats): {@code m.<name>}. */
  public static final String MULTI_PREFIX = "m.";
  /** Prefix of stored sparse vectors: {@code s.<name>}. */
  public static final String SPARSE_PREFIX = "s.";

  private Fields() {}

  public static String dense(String name) {
    return DENSE_PREFIX + name;
  }

  public static String multi(String name) {
    return MULTI_PREFIX + name;
  }

  public static String sparse(String name) {
    return SPARSE_PREFIX + name;
  }
}
