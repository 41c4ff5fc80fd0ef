package io.quiver.storage.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The POSIX tar (ustar) subset snapshots use: regular files only, names up to 255 bytes (split
 * into prefix and name), sizes up to 8 GiB. Streams both ways, so an archive never has to fit in
 * memory. Reading refuses what a hostile archive could use to escape the target directory
 * (absolute names, {@code ..}, links, devices).
 */
final class Tar {
  static final int BLOCK = 512;
  private static final long MAX_SIZE = 077777777777L;

  private Tar() {}

  /** Writes entries to a stream; {@link #finish} writes the end-of-archive marker. */
  static final class Writer {
    private final OutputStream out;

    Writer(OutputStream out) {
      this.out = out;
    }

    /** Adds {@code file} under {@code name} (forward slashes, relative). */
    void add(String name, Path file) throws IOException {
      long size = Files.size(file);
      out.write(header(name, size, Files.getLastModifiedTime(file).toMillis() / 1000));
      long copied;
      try (InputStream in = Files.newInputStream(file)) {
        copied = in.transferTo(out);
      }
      if (copied != size) {
        throw new IOException("file " + name + " changed while it was archived");
      }
      pad(size);
    }

    /** Adds a small entry from memory. */
    void add(String name, byte[] content) throws IOException {
      out.write(header(name, content.length, System.currentTimeMillis() / 1000));
      out.write(content);
      pad(content.length);
    }

    void finish() throws IOException {
      out.write(new byte[2 * BLOCK]);
      out.flush();
    }

    private void pad(long size) throws IOException {
      int rest = (int) (size % BLOCK);
      if (rest != 0) {
        out.write(new byte[BLOCK - rest]);
      }
    }
  }

  static byte[] header(String name, long size, long mtime) {
    if (size > MAX_SIZE) {
      throw new IllegalArgumentException("tar entry too large: " + name);
    }
    byte[] h = new byte[BLOCK];
    byte[] full = name.getBytes(StandardCharsets.UTF_8);
    if (full.length <= 100) {
      System.arraycopy(full, 0, h, 0, full.length);
    } else {
      int slash = name.lastIndexOf('/', Math.min(name.length() - 1, 155));
      byte[] prefix = name.substring(0, Math.max(slash, 0)).getBytes(StandardCharsets.UTF_8);
      byte[] rest = name.substring(slash + 1).getBytes(StandardCharsets.UTF_8);
      if (slash < 0 || prefix.length > 155 || rest.length > 100) {
        throw new IllegalArgumentException("tar entry name too long: " + name);
      }
      System.arraycopy(rest, 0, h, 0, rest.length);
      System.arraycopy(prefix, 0, h, 345, prefix.length);
    }
    octal(h, 100, 8, 0644);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, mtime);
    h[156] = '0';
    byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, h, 257, magic.length);
    Arrays.fill(h, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    h[155] = ' ';
    return h;
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = Long.toOctalString(value);
    int digits = len - 1;
    if (s.length() > digits) {
      throw new IllegalArgumentException("value too large for tar header: " + value);
    }
    String padded = "0".repeat(digits - s.length()) + s;
    System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, off, digits);
    h[off + digits] = 0;
  }

  /** One entry seen while reading. */
  interface EntryHandler {
    /** Called for each regular file; must consume exactly {@code size} bytes of {@code in}, or none. */
    void entry(String name, long size, InputStream in) throws IOException;
  }

  /**
   * Reads an archive, calling {@code handler} for each regular file with a bounded stream of its
   * content. Directory entries are skipped.
   *
   * @throws InvalidArchive if the stream is not a tar archive this class understands
   */
  static void read(InputStream in, EntryHandler handler) throws IOException {
    byte[] h = new byte[BLOCK];
    boolean any = false;
    while (true) {
      if (!readBlock(in, h, any)) {
        if (!any) {
          throw new InvalidArchive("empty file");
        }
        return;
      }
      if (isZero(h)) {
        return;
      }
      if (!checksumOk(h)) {
        throw new InvalidArchive(any ? "corrupt entry header" : "not a tar archive");
      }
      any = true;
      String name = text(h, 0, 100);
      if (h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r') {
        String prefix = text(h, 345, 155);
        if (!prefix.isEmpty()) {
          name = prefix + "/" + name;
        }
      }
      long size = parseOctal(h, 124, 12);
      byte type = h[156];
      long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
      if (type == '5') {
        skip(in, padded);
        continue;
      }
      if (type != '0' && type != 0) {
        throw new InvalidArchive("entry " + name + " is not a regular file");
      }
      checkName(name);
      var bounded = new Bounded(in, size);
      handler.entry(name, size, bounded);
      bounded.drain();
      skip(in, padded - size);
    }
  }

  static void checkName(String name) throws InvalidArchive {
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.contains("\0")) {
      throw new InvalidArchive("unsafe entry name " + name);
    }
    for (String part : name.split("/")) {
      if (part.equals("..")) {
        throw new InvalidArchive("unsafe entry name " + name);
      }
    }
  }

  private static boolean readBlock(InputStream in, byte[] b, boolean inside) throws IOException {
    int n = in.readNBytes(b, 0, BLOCK);
    if (n == 0) {
      return false;
    }
    if (n < BLOCK) {
      throw new InvalidArchive(inside ? "truncated archive" : "not a tar archive");
    }
    return true;
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean checksumOk(byte[] h) {
    long stored;
    try {
      stored = parseOctal(h, 148, 8);
    } catch (InvalidArchive e) {
      return false;
    }
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
    }
    return sum == stored;
  }

  private static String text(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) {
      end++;
    }
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }

  private static long parseOctal(byte[] h, int off, int len) throws InvalidArchive {
    long v = 0;
    boolean digits = false;
    for (int i = off; i < off + len; i++) {
      byte b = h[i];
      if (b == 0 || b == ' ') {
        if (digits) {
          break;
        }
        continue;
      }
      if (b < '0' || b > '7') {
        throw new InvalidArchive("bad number in header");
      }
      digits = true;
      v = v * 8 + (b - '0');
    }
    return v;
  }

  private static void skip(InputStream in, long n) throws IOException {
    long left = n;
    while (left > 0) {
      long s = in.skip(left);
      if (s <= 0) {
        if (in.read() < 0) {
          throw new InvalidArchive("truncated archive");
        }
        s = 1;
      }
      left -= s;
    }
  }

  /** The archive is not one snapshots can be read from. */
  static final class InvalidArchive extends IOException {
    InvalidArchive(String message) {
      super(message);
    }
  }

  /** A view of the next {@code size} bytes. */
  private static final class Bounded extends InputStream {
    private final InputStream in;
    private long left;

    Bounded(InputStream in, long size) {
      this.in = in;
      this.left = size;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = in.read();
      if (b < 0) {
        throw new EOFException("truncated archive");
      }
      left--;
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) {
        throw new EOFException("truncated archive");
      }
      left -= n;
      return n;
    }

    void drain() throws IOException {
      Tar.skip(this, left);
    }

    @Override
    public void close() {}
  }
}
