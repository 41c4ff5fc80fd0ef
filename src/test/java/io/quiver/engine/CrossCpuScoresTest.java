package io.quiver.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scores are the same bits whatever the CPU's vector path: {@link ScoreDump} run in child JVMs
 * limited to AVX2, with AVX-512 (when the CPU has it), and without the vector module (Lucene's
 * scalar code) prints identical output. Lucene's own dot products, which do differ between these
 * paths, are only logged.
 */
@Timeout(180)
class CrossCpuScoresTest {
  @Test
  void identicalOnEveryVectorPath(@TempDir Path dir) throws Exception {
    Map<String, List<String>> runs = new LinkedHashMap<>();
    runs.put("AVX2 with the vector module", List.of("--add-modules", "jdk.incubator.vector", "-XX:UseAVX=2"));
    if (hasAvx512()) {
      runs.put("AVX-512 with the vector module", List.of("--add-modules", "jdk.incubator.vector", "-XX:UseAVX=3"));
    }
    runs.put("without the vector module", List.of());
    String first = null;
    String firstName = null;
    for (var run : runs.entrySet()) {
      String[] output = run(dir, run.getKey(), run.getValue());
      String out = output[0];
      System.out.println(run.getKey() + ": " + out.lines().count() + " lines; " + output[1]);
      assertFalse(out.contains("JIT-MISMATCH"), run.getKey() + ": compiled code scored differently from the interpreter");
      assertTrue(out.lines().count() > 250, run.getKey() + " printed too little:\n" + out);
      if (first == null) {
        first = out;
        firstName = run.getKey();
      } else {
        assertEquals(first, out, run.getKey() + " differs from " + firstName);
      }
    }
  }

  /** Stdout of {@link ScoreDump} in a child JVM, and its line of Lucene's dot products from stderr. */
  private static String[] run(Path dir, String name, List<String> flags) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(flags);
    cmd.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), ScoreDump.class.getName()));
    Path out = dir.resolve(name.replace(' ', '-') + ".out");
    Path err = dir.resolve(name.replace(' ', '-') + ".err");
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(name + ": timed out");
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), name + " failed:\n" + stderr);
    String lucene = stderr.lines().filter(l -> l.startsWith("lucene ")).findFirst().orElse("no lucene line");
    return new String[] {Files.readString(out, StandardCharsets.UTF_8), lucene};
  }

  private static boolean hasAvx512() {
    try {
      return Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512f");
    } catch (IOException e) {
      return false;
    }
  }
}
