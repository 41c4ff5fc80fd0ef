package io.quiver.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Size of a directory tree on disk; files that vanish while counting are skipped. */
public final class FileSizes {
  private FileSizes() {}

  public static long sizeOf(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (NoSuchFileException gone) {
          return 0;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
