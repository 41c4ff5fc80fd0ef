package io.quiver.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.UnknownFieldSet;
import io.qdrant.client.grpc.Points;
import java.util.List;

/**
 * The fields of Qdrant 1.15.5's protos that the generated classes of the official Java client
 * 1.15.0 (which this server binds to) predate, read from the messages' unknown fields, so that clients
 * generated from the newer protos are understood: {@code update_filter} of upserts and vector
 * updates (also in a batch), the {@code rrf} query with its {@code k}, and {@code text_any} matches.
 * Numbers as in Qdrant's {@code points.proto}.
 */
final class NewerPointFields {
  private NewerPointFields() {}

  /** {@code UpsertPoints.update_filter} (6), or null. */
  static Points.Filter updateFilter(Points.UpsertPoints m) {
    return filter(m, 6);
  }

  /** {@code UpdatePointVectors.update_filter} (6), or null. */
  static Points.Filter updateFilter(Points.UpdatePointVectors m) {
    return filter(m, 6);
  }

  /** {@code PointsUpdateOperation.PointStructList.update_filter} (3), or null. */
  static Points.Filter updateFilter(Points.PointsUpdateOperation.PointStructList m) {
    return filter(m, 3);
  }

  /** {@code PointsUpdateOperation.UpdateVectors.update_filter} (3), or null. */
  static Points.Filter updateFilter(Points.PointsUpdateOperation.UpdateVectors m) {
    return filter(m, 3);
  }

  /** {@code Match.text_any} (10), or null. */
  static String textAny(Points.Match m) {
    ByteString bytes = last(m, 10);
    return bytes == null ? null : bytes.toStringUtf8();
  }

  /** The {@code Query.rrf} variant (10): {@code Rrf {optional uint32 k = 1}}. */
  record Rrf(Long k) {}

  /** {@code Query.rrf}, or null when the query has no such variant. */
  static Rrf rrf(Points.Query q) {
    ByteString bytes = last(q, 10);
    if (bytes == null) {
      return null;
    }
    try {
      List<Long> k = UnknownFieldSet.parseFrom(bytes).getField(1).getVarintList();
      return new Rrf(k.isEmpty() ? null : k.getLast() & 0xFFFF_FFFFL);
    } catch (InvalidProtocolBufferException e) {
      throw PointConvert.invalid("Malformed Rrf: " + e.getMessage());
    }
  }

  private static Points.Filter filter(MessageOrBuilder m, int number) {
    UnknownFieldSet.Field field = m.getUnknownFields().getField(number);
    if (field.getLengthDelimitedList().isEmpty()) {
      return null;
    }
    try {
      // a singular message field given more than once is the merge of its occurrences
      var filter = Points.Filter.newBuilder();
      for (ByteString bytes : field.getLengthDelimitedList()) {
        filter.mergeFrom(bytes);
      }
      return filter.build();
    } catch (InvalidProtocolBufferException e) {
      throw PointConvert.invalid("Malformed update_filter: " + e.getMessage());
    }
  }

  private static ByteString last(MessageOrBuilder m, int number) {
    List<ByteString> values = m.getUnknownFields().getField(number).getLengthDelimitedList();
    return values.isEmpty() ? null : values.getLast();
  }
}
