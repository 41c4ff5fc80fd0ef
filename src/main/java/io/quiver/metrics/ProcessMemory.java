package io.quiver.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory as the kernel counts it ({@code /proc/self/status}): all of it, the
 * anonymous part (heap, JVM, native buffers) and the file-backed part (memory-mapped index files that
 * are in RAM, which the kernel drops under pressure). Each figure is -1 where the system does not say.
 */
public record ProcessMemory(long resident, long anonymous, long files) {
  private static final Path STATUS = Path.of("/proc/self/status");

  public static ProcessMemory now() {
    long rss = -1;
    long anon = -1;
    long file = -1;
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          rss = kilobytes(line);
        } else if (line.startsWith("RssAnon:")) {
          anon = kilobytes(line);
        } else if (line.startsWith("RssFile:")) {
          file = kilobytes(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      return new ProcessMemory(-1, -1, -1);
    }
    return new ProcessMemory(rss, anon, file);
  }

  private static long kilobytes(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
  }
}
