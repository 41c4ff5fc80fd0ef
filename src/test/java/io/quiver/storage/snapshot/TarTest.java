package io.quiver.storage.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot archive format: round trips of random files, and hostile archives refused. */
@Timeout(60)
class TarTest {
  @TempDir Path dir;

  @Test
  void roundTripsFilesOfEverySize() throws Exception {
    var rnd = new Random(11);
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int size : new int[] {0, 1, 511, 512, 513, 4096, 100_000}) {
      byte[] b = new byte[size];
      rnd.nextBytes(b);
      files.put("shards/0/index/f" + size, b);
    }
    files.put("a/" + "long-directory-name-".repeat(6) + "/file.bin", "x".getBytes(StandardCharsets.UTF_8));
    var out = new ByteArrayOutputStream();
    var tar = new Tar.Writer(out);
    for (var e : files.entrySet()) {
      Path f = dir.resolve("src-" + e.getValue().length);
      Files.write(f, e.getValue());
      tar.add(e.getKey(), f);
    }
    tar.finish();
    Map<String, byte[]> read = new LinkedHashMap<>();
    Tar.read(new ByteArrayInputStream(out.toByteArray()), (name, size, in) -> read.put(name, in.readAllBytes()));
    assertEquals(files.keySet(), read.keySet());
    files.forEach((k, v) -> assertArrayEquals(v, read.get(k), k));
  }

  @Test
  void refusesWhatIsNotASafeArchive() throws Exception {
    assertThrows(Tar.InvalidArchive.class, () -> Tar.read(new ByteArrayInputStream(new byte[0]), (n, s, in) -> { }));
    assertThrows(Tar.InvalidArchive.class,
        () -> Tar.read(new ByteArrayInputStream("not a tar".repeat(100).getBytes(StandardCharsets.UTF_8)), (n, s, in) -> { }));
    for (String evil : new String[] {"../etc/passwd", "/etc/passwd", "a/../../b"}) {
      var out = new ByteArrayOutputStream();
      var tar = new Tar.Writer(out);
      tar.add(evil, new byte[] {1});
      tar.finish();
      assertThrows(Tar.InvalidArchive.class, () -> Tar.read(new ByteArrayInputStream(out.toByteArray()), (n, s, in) -> { }), evil);
    }
    var out = new ByteArrayOutputStream();
    var tar = new Tar.Writer(out);
    tar.add("big", new byte[2000]);
    tar.finish();
    byte[] truncated = java.util.Arrays.copyOf(out.toByteArray(), 1024);
    assertThrows(java.io.IOException.class, () -> Tar.read(new ByteArrayInputStream(truncated), (n, s, in) -> in.readAllBytes()));
  }
}
