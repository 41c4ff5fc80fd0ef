package io.quiver.lock;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads how much space is free for this process on the storage volume. Blocking: call it off the event loop. */
@FunctionalInterface
public interface DiskProbe {
  long usableBytes() throws IOException;

  /** The volume holding {@code path} (which must exist), as {@link FileStore#getUsableSpace()} sees it. */
  static DiskProbe of(Path path) {
    return new DiskProbe() {
      private FileStore store;

      @Override
      public synchronized long usableBytes() throws IOException {
        if (store == null) {
          store = Files.getFileStore(path);
        }
        return store.getUsableSpace();
      }
    };
  }
}
