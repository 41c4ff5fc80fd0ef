package io.quiver.engine;

import io.quiver.engine.wal.ChannelOpener;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.apache.lucene.store.Directory;

/**
 * How a shard reaches its files: the WAL opens channels through {@code wal}, the Lucene index is
 * wrapped by {@code index}. {@link #REAL} is the plain file system; tests substitute a disk that
 * fills up on demand.
 */
public record StorageIo(ChannelOpener wal, UnaryOperator<Directory> index) {
  public static final StorageIo REAL = new StorageIo(ChannelOpener.DEFAULT, UnaryOperator.identity());

  public StorageIo {
    Objects.requireNonNull(wal, "wal");
    Objects.requireNonNull(index, "index");
  }
}
