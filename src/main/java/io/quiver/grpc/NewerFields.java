package io.quiver.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.qdrant.client.grpc.JsonWithInt;
import io.quiver.error.ApiException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fields of Qdrant 1.15.5's collection messages that the generated classes this project builds on
 * (official client 1.15.0) do not have yet: collection {@code metadata}, HNSW {@code copy_vectors},
 * WAL {@code wal_retain_closed} and strict mode's {@code max_payload_index_count}. Protobuf keeps
 * fields it does not know as unknown fields, so these are read and written here by number, on the
 * wire exactly as Qdrant 1.15.5 defines them: a newer client sees them, an older one skips them.
 */
final class NewerFields {
  /** {@code CreateCollection.metadata}: {@code map<string, Value>}. */
  static final int CREATE_METADATA = 18;
  /** {@code UpdateCollection.metadata}. */
  static final int UPDATE_METADATA = 10;
  /** {@code CollectionConfig.metadata}. */
  static final int CONFIG_METADATA = 7;
  /** {@code HnswConfigDiff.copy_vectors}: {@code optional bool}. */
  static final int HNSW_COPY_VECTORS = 7;
  /** {@code WalConfigDiff.wal_retain_closed}: {@code optional uint64}. */
  static final int WAL_RETAIN_CLOSED = 3;
  /** {@code StrictModeConfig.max_payload_index_count}: {@code optional uint64}. */
  static final int STRICT_MAX_PAYLOAD_INDEX_COUNT = 19;

  private NewerFields() {}

  /** The field's value as an unsigned 64-bit varint (the last one sent wins, as protobuf reads scalars), or null. */
  static Long varint(Message message, int field) {
    List<Long> values = message.getUnknownFields().getField(field).getVarintList();
    return values.isEmpty() ? null : values.getLast();
  }

  static Boolean bool(Message message, int field) {
    Long v = varint(message, field);
    return v == null ? null : v != 0;
  }

  /** A {@code map<string, Value>} field; empty when not sent. A malformed entry is 400. */
  static Map<String, JsonWithInt.Value> valueMap(Message message, int field) {
    Map<String, JsonWithInt.Value> out = new LinkedHashMap<>();
    for (ByteString entry : message.getUnknownFields().getField(field).getLengthDelimitedList()) {
      try {
        UnknownFieldSet e = UnknownFieldSet.parseFrom(entry);
        List<ByteString> keys = e.getField(1).getLengthDelimitedList();
        List<ByteString> values = e.getField(2).getLengthDelimitedList();
        out.put(keys.isEmpty() ? "" : keys.getLast().toStringUtf8(),
            values.isEmpty() ? JsonWithInt.Value.getDefaultInstance() : JsonWithInt.Value.parseFrom(values.getLast()));
      } catch (InvalidProtocolBufferException e) {
        throw ApiException.formatError("metadata: malformed map entry: " + e.getMessage());
      }
    }
    return out;
  }

  static void putVarint(Message.Builder builder, int field, long value) {
    builder.mergeUnknownFields(UnknownFieldSet.newBuilder()
        .addField(field, UnknownFieldSet.Field.newBuilder().addVarint(value).build()).build());
  }

  static void putValueMap(Message.Builder builder, int field, Map<String, JsonWithInt.Value> map) {
    var entries = UnknownFieldSet.Field.newBuilder();
    map.forEach((k, v) -> entries.addLengthDelimited(UnknownFieldSet.newBuilder()
        .addField(1, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8(k)).build())
        .addField(2, UnknownFieldSet.Field.newBuilder().addLengthDelimited(v.toByteString()).build())
        .build().toByteString()));
    builder.mergeUnknownFields(UnknownFieldSet.newBuilder().addField(field, entries.build()).build());
  }
}
