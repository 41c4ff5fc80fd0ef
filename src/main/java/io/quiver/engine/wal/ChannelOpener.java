package io.quiver.engine.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the files of a {@link WriteAheadLog}. The default is {@link FileChannel#open(Path,
 * OpenOption...)}; tests substitute channels that fail like a full disk.
 */
@FunctionalInterface
public interface ChannelOpener {
  ChannelOpener DEFAULT = FileChannel::open;

  FileChannel open(Path path, OpenOption... options) throws IOException;
}
