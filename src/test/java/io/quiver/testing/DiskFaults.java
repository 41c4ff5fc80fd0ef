package io.quiver.testing;

import io.quiver.engine.wal.ChannelOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;

/**
 * A full disk on demand, for the storage engine's two kinds of files: WAL channels ({@link
 * #opener()}) write at most {@link #walBytesLeft} more bytes, the last write partly, and then fail
 * with {@code No space left on device}; Lucene files ({@link #directory()}) fail every write and
 * sync while {@link #indexFull} is set. Reads, truncation and deletion always work, as on a real
 * full disk.
 */
public final class DiskFaults {
  public static final String ENOSPC = "No space left on device";

  /** Bytes the WAL may still write; {@link Long#MAX_VALUE} means no limit. */
  public final AtomicLong walBytesLeft = new AtomicLong(Long.MAX_VALUE);
  public volatile boolean indexFull;
  /** WAL fsyncs fail while set, as they do on some volumes that run out of space late. */
  public volatile boolean walFsyncFails;

  public void walUnlimited() {
    walBytesLeft.set(Long.MAX_VALUE);
  }

  public ChannelOpener opener() {
    return (path, options) -> new FaultyChannel(FileChannel.open(path, options));
  }

  public UnaryOperator<Directory> directory() {
    return FaultyDirectory::new;
  }

  private IOException noSpace() {
    return new IOException(ENOSPC);
  }

  private final class FaultyDirectory extends FilterDirectory {
    FaultyDirectory(Directory in) {
      super(in);
    }

    @Override
    public IndexOutput createOutput(String name, IOContext context) throws IOException {
      return new FaultyOutput(in.createOutput(name, context));
    }

    @Override
    public IndexOutput createTempOutput(String prefix, String suffix, IOContext context) throws IOException {
      return new FaultyOutput(in.createTempOutput(prefix, suffix, context));
    }

    @Override
    public void sync(Collection<String> names) throws IOException {
      if (indexFull) {
        throw noSpace();
      }
      in.sync(names);
    }
  }

  private final class FaultyOutput extends IndexOutput {
    private final IndexOutput in;

    FaultyOutput(IndexOutput in) {
      super("faulty(" + in + ")", in.getName());
      this.in = in;
    }

    @Override
    public void writeByte(byte b) throws IOException {
      if (indexFull) {
        throw noSpace();
      }
      in.writeByte(b);
    }

    @Override
    public void writeBytes(byte[] b, int offset, int length) throws IOException {
      if (indexFull) {
        throw noSpace();
      }
      in.writeBytes(b, offset, length);
    }

    @Override
    public long getFilePointer() {
      return in.getFilePointer();
    }

    @Override
    public long getChecksum() throws IOException {
      return in.getChecksum();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  private final class FaultyChannel extends FileChannel {
    private final FileChannel in;

    FaultyChannel(FileChannel in) {
      this.in = in;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      long left = walBytesLeft.get();
      if (left == Long.MAX_VALUE || src.remaining() <= left) {
        int n = in.write(src);
        if (left != Long.MAX_VALUE) {
          walBytesLeft.addAndGet(-n);
        }
        return n;
      }
      if (left > 0) {
        in.write(src.slice(src.position(), (int) left)); // a torn write reaches the file
        walBytesLeft.set(0);
      }
      throw noSpace();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      long n = 0;
      for (int i = offset; i < offset + length; i++) {
        n += write(srcs[i]);
      }
      return n;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      if (walBytesLeft.get() != Long.MAX_VALUE) {
        throw noSpace();
      }
      return in.write(src, position);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return in.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return in.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return in.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return in.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      in.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return in.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      in.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (walFsyncFails) {
        throw new IOException(ENOSPC);
      }
      in.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return in.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      throw new UnsupportedOperationException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return in.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return in.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return in.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      in.close();
    }
  }

}
