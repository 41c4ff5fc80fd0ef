package io.quiver.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.ByteBuffer;
import java.util.UUID;
import org.apache.lucene.util.BytesRef;

/**
 * A point id as Qdrant's {@code ExtendedPointId}: an unsigned 64-bit integer or a UUID. Ids order
 * as Qdrant orders them: every number before every UUID, numbers unsigned, UUIDs by their bytes;
 * {@link #term()} is a binary form with that same order, used as the Lucene id term and sort key.
 */
public sealed interface PointId extends Comparable<PointId> {
  BytesRef term();

  JsonNode toJson();

  record Num(long value) implements PointId {
    @Override
    public BytesRef term() {
      return new BytesRef(ByteBuffer.allocate(9).put((byte) 0).putLong(value).array());
    }

    @Override
    public JsonNode toJson() {
      return value >= 0 ? JsonNodeFactory.instance.numberNode(value)
          : JsonNodeFactory.instance.numberNode(new java.math.BigInteger(Long.toUnsignedString(value)));
    }

    @Override
    public String toString() {
      return Long.toUnsignedString(value);
    }
  }

  record Uuid(UUID value) implements PointId {
    @Override
    public BytesRef term() {
      return new BytesRef(ByteBuffer.allocate(17).put((byte) 1)
          .putLong(value.getMostSignificantBits()).putLong(value.getLeastSignificantBits()).array());
    }

    @Override
    public JsonNode toJson() {
      return JsonNodeFactory.instance.textNode(value.toString());
    }

    @Override
    public String toString() {
      return value.toString();
    }
  }

  @Override
  default int compareTo(PointId o) {
    return term().compareTo(o.term());
  }

  static PointId of(long unsigned) {
    return new Num(unsigned);
  }

  /** Decodes {@link #term()}. */
  static PointId fromTerm(BytesRef b) {
    ByteBuffer buf = ByteBuffer.wrap(b.bytes, b.offset, b.length);
    byte kind = buf.get();
    if (kind == 0 && b.length == 9) {
      return new Num(buf.getLong());
    }
    if (kind == 1 && b.length == 17) {
      return new Uuid(new UUID(buf.getLong(), buf.getLong()));
    }
    throw new IllegalArgumentException("not a point id term");
  }

  /**
   * Parses an id from JSON: a non-negative integer below 2^64, or a UUID string (hyphenated or
   * 32 hex digits, any case). Anything else throws {@link IllegalArgumentException}.
   */
  static PointId parse(JsonNode node) {
    if (node != null && node.isIntegralNumber()) {
      if (node.canConvertToLong() && node.longValue() >= 0) {
        return new Num(node.longValue());
      }
      var big = node.bigIntegerValue();
      if (big.signum() >= 0 && big.bitLength() <= 64) {
        return new Num(big.longValue());
      }
    } else if (node != null && node.isTextual()) {
      UUID uuid = parseUuid(node.textValue());
      if (uuid != null) {
        return new Uuid(uuid);
      }
    }
    throw new IllegalArgumentException("value " + node + " is not a valid point ID, valid values are either an unsigned integer or a UUID");
  }

  /** A UUID from its hyphenated or simple (32 hex digits) form, or null. */
  static UUID parseUuid(String s) {
    String hex = s.length() == 36 && s.charAt(8) == '-' && s.charAt(13) == '-' && s.charAt(18) == '-' && s.charAt(23) == '-'
        ? s.replace("-", "") : s;
    if (hex.length() != 32) {
      return null;
    }
    for (int i = 0; i < 32; i++) {
      if (Character.digit(hex.charAt(i), 16) < 0) {
        return null;
      }
    }
    return new UUID(Long.parseUnsignedLong(hex.substring(0, 16), 16), Long.parseUnsignedLong(hex.substring(16), 16));
  }
}
