package io.quiver.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Binary form of a list of {@link Action}s, the payload of one WAL frame.
 *
 * <pre>
 * record  := magic:u8 (0xA1) version:u8 (1) count:i32 action*
 * action  := kind:u8 (1 put, 2 delete) id [point-body if put]
 * id      := 0 u64 | 1 u128
 * body    := ndense:i32 (name:utf len:i32 f32*len)* nsparse:i32 (name:utf len:i32 i32*len f32*len)* plen:i32 payload-json
 * </pre>
 * Floats are little-endian in one bulk copy, the rest big-endian (DataOutput).
 */
public final class ActionCodec {
  private static final int MAGIC = 0xA1;
  private static final int VERSION = 1;
  private final ObjectMapper mapper;

  public ActionCodec(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  public byte[] encode(List<Action> actions) {
    try {
      var bytes = new ByteArrayOutputStream(estimate(actions));
      var out = new DataOutputStream(bytes);
      out.writeByte(MAGIC);
      out.writeByte(VERSION);
      out.writeInt(actions.size());
      for (Action a : actions) {
        switch (a) {
          case Action.Put put -> {
            out.writeByte(1);
            writeId(out, put.id());
            writePoint(out, put.point());
          }
          case Action.Delete del -> {
            out.writeByte(2);
            writeId(out, del.id());
          }
        }
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** About the bytes {@code actions} encode into, so that a bulk upsert's record is not copied as it grows. */
  private static int estimate(List<Action> actions) {
    long bytes = 16;
    for (Action a : actions) {
      bytes += 32;
      if (a instanceof Action.Put put) {
        for (float[] v : put.point().dense().values()) {
          bytes += 16 + (long) v.length * Float.BYTES;
        }
        for (SparseVector v : put.point().sparse().values()) {
          bytes += 16 + (long) v.indices().length * 8;
        }
        bytes += 64; // the payload, as often small
      }
    }
    return (int) Math.min(bytes, Integer.MAX_VALUE - 16);
  }

  public List<Action> decode(byte[] data) throws IOException {
    var in = new DataInputStream(new java.io.ByteArrayInputStream(data));
    if (in.readUnsignedByte() != MAGIC) {
      throw new IOException("not an action record");
    }
    int version = in.readUnsignedByte();
    if (version != VERSION) {
      throw new IOException("unsupported action record version " + version);
    }
    int n = in.readInt();
    List<Action> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int kind = in.readUnsignedByte();
      PointId id = readId(in);
      out.add(switch (kind) {
        case 1 -> new Action.Put(readPoint(in, id));
        case 2 -> new Action.Delete(id);
        default -> throw new IOException("unknown action kind " + kind);
      });
    }
    return out;
  }

  private static void writeId(DataOutputStream out, PointId id) throws IOException {
    switch (id) {
      case PointId.Num n -> {
        out.writeByte(0);
        out.writeLong(n.value());
      }
      case PointId.Uuid u -> {
        out.writeByte(1);
        out.writeLong(u.value().getMostSignificantBits());
        out.writeLong(u.value().getLeastSignificantBits());
      }
    }
  }

  private static PointId readId(DataInputStream in) throws IOException {
    return switch (in.readUnsignedByte()) {
      case 0 -> new PointId.Num(in.readLong());
      case 1 -> new PointId.Uuid(new UUID(in.readLong(), in.readLong()));
      default -> throw new IOException("unknown id kind");
    };
  }

  private void writePoint(DataOutputStream out, Point p) throws IOException {
    out.writeInt(p.dense().size());
    for (var e : p.dense().entrySet()) {
      out.writeUTF(e.getKey());
      float[] v = e.getValue();
      out.writeInt(v.length);
      ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
      buf.asFloatBuffer().put(v);
      out.write(buf.array());
    }
    out.writeInt(p.sparse().size());
    for (var e : p.sparse().entrySet()) {
      out.writeUTF(e.getKey());
      SparseVector s = e.getValue();
      out.writeInt(s.indices().length);
      for (int i : s.indices()) {
        out.writeInt(i);
      }
      for (float f : s.values()) {
        out.writeFloat(f);
      }
    }
    byte[] payload = mapper.writeValueAsBytes(p.payload());
    out.writeInt(payload.length);
    out.write(payload);
  }

  private Point readPoint(DataInputStream in, PointId id) throws IOException {
    int nd = in.readInt();
    Map<String, float[]> dense = new HashMap<>(nd * 2);
    for (int i = 0; i < nd; i++) {
      String name = in.readUTF();
      int len = in.readInt();
      byte[] raw = in.readNBytes(len * 4);
      float[] v = new float[len];
      ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
      dense.put(name, v);
    }
    int ns = in.readInt();
    Map<String, SparseVector> sparse = new HashMap<>(ns * 2);
    for (int i = 0; i < ns; i++) {
      String name = in.readUTF();
      int len = in.readInt();
      int[] ix = new int[len];
      float[] vs = new float[len];
      for (int j = 0; j < len; j++) {
        ix[j] = in.readInt();
      }
      for (int j = 0; j < len; j++) {
        vs[j] = in.readFloat();
      }
      sparse.put(name, new SparseVector(ix, vs));
    }
    byte[] payload = in.readNBytes(in.readInt());
    return new Point(id, dense, sparse, (ObjectNode) mapper.readTree(payload));
  }
}
