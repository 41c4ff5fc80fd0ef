package io.quiver.cluster.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The file of one state-machine snapshot: {@link MetaMachine#snapshot()}'s bytes behind a header.
 *
 * <pre>
 *   int   magic    0x51524653 ("QRFS")
 *   int   version  1
 *   long  term     of the last operation the snapshot includes
 *   long  index    of that operation
 *   int   length   of the payload
 *   byte[length]   payload
 *   int   CRC32C   of everything above
 * </pre>
 *
 * Big-endian. Written to a temporary file, forced to disk and moved into place, so a crash leaves
 * either no file or a whole one. Ratis names the file ({@code snapshot.<term>_<index>}) and
 * ships it as is to a peer that needs it; the term and index inside must match the name.
 */
final class SnapshotFile {
  static final int MAGIC = 0x51524653;
  static final int VERSION = 1;
  private static final int HEADER = 4 + 4 + 8 + 8 + 4;

  private SnapshotFile() {}

  static void write(Path file, long term, long index, byte[] payload) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(HEADER + payload.length + 4);
    buf.putInt(MAGIC).putInt(VERSION).putLong(term).putLong(index).putInt(payload.length).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, buf.position());
    buf.putInt((int) crc.getValue()).flip();
    Path tmp = file.resolveSibling(file.getFileName() + ".writing");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads and checks a snapshot file.
   *
   * @throws IOException if the file is not a snapshot of this format and version, is cut short or
   *     corrupt, or holds another term/index than expected
   */
  static byte[] read(Path file, long expectedTerm, long expectedIndex) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
    if (buf.remaining() < HEADER + 4) {
      throw new IOException("snapshot " + file + " is cut short (" + buf.remaining() + " bytes)");
    }
    int magic = buf.getInt();
    int version = buf.getInt();
    if (magic != MAGIC) {
      throw new IOException("snapshot " + file + " is not a Quiver Raft snapshot");
    }
    if (version != VERSION) {
      throw new IOException("snapshot " + file + " has version " + version + "; this Quiver reads " + VERSION);
    }
    long term = buf.getLong();
    long index = buf.getLong();
    int length = buf.getInt();
    if (length < 0 || buf.remaining() != length + 4) {
      throw new IOException("snapshot " + file + " is cut short or has trailing bytes");
    }
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, HEADER + length);
    byte[] payload = new byte[length];
    buf.get(payload);
    if (buf.getInt() != (int) crc.getValue()) {
      throw new IOException("snapshot " + file + " fails its checksum");
    }
    if (term != expectedTerm || index != expectedIndex) {
      throw new IOException("snapshot " + file + " holds term " + term + " index " + index
          + ", its name says term " + expectedTerm + " index " + expectedIndex);
    }
    return payload;
  }
}
