package io.quiver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages' layering, read from the sources: no package uses one above it, {@code engine}
 * (Lucene and files) knows nothing of Vert.x, {@code storage} (Qdrant's semantics) and everything
 * above it nothing of Lucene, and the storage rooms sit on the collection room, never on the
 * dispatcher above them.
 */
class ArchitectureTest {
  private static final Path SOURCES = Path.of("src/main/java/io/quiver");

  /** Bottom to top: a package may use its own layer and those below. */
  private static final List<Set<String>> LAYERS = List.of(
      Set.of("error"), Set.of("json"), Set.of("bus"), Set.of("config"), Set.of("metrics"),
      Set.of("engine"), Set.of("request"), Set.of("lock"), Set.of("storage"), Set.of("recovery"),
      Set.of("cluster"), Set.of("api"), Set.of("grpc"), Set.of("app"));

  /** The rooms of storage, bottom to top. */
  private static final List<Set<String>> STORAGE_ROOMS = List.of(
      Set.of("storage.collection"), Set.of("storage.point", "storage.snapshot", "storage.strict"), Set.of("storage.query"),
      Set.of("storage"));

  private static final Pattern QUIVER = Pattern.compile("\\bio\\.quiver\\.([a-z]+)(\\.([a-z]+))?\\b");

  @Test
  void noPackageUsesOneAboveIt() throws IOException {
    List<String> violations = new ArrayList<>();
    for (Path file : sources()) {
      String pkg = packageOf(file);
      String code = code(file);
      for (String used : used(code)) {
        String top = used.split("\\.")[0];
        if (layer(LAYERS, top(pkg)) < layer(LAYERS, top)) {
          violations.add(pkg + " -> " + used + " (" + file.getFileName() + ")");
        }
        if (top(pkg).equals("storage") && top.equals("storage") && room(pkg) < room(used)) {
          violations.add(pkg + " -> " + used + " (" + file.getFileName() + ")");
        }
      }
      if (top(pkg).equals("engine") && code.contains("io.vertx")) {
        violations.add(pkg + " uses Vert.x (" + file.getFileName() + ")");
      }
      if (layer(LAYERS, top(pkg)) >= layer(LAYERS, "storage") && code.contains("org.apache.lucene")) {
        violations.add(pkg + " uses Lucene (" + file.getFileName() + ")");
      }
    }
    assertEquals(List.of(), violations);
  }

  private static List<Path> sources() throws IOException {
    try (Stream<Path> files = Files.walk(SOURCES)) {
      return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
    }
  }

  /** {@code storage.query} for {@code io/quiver/storage/query/X.java}. */
  private static String packageOf(Path file) {
    return SOURCES.relativize(file.getParent()).toString().replace('/', '.');
  }

  private static String top(String pkg) {
    return pkg.split("\\.")[0];
  }

  private static int layer(List<Set<String>> layers, String name) {
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i).contains(name)) {
        return i;
      }
    }
    throw new AssertionError("package " + name + " has no layer: add it to the test");
  }

  /** The storage room of a storage package ({@code storage.query.x} is in {@code storage.query}). */
  private static int room(String pkg) {
    String[] parts = pkg.split("\\.");
    return layer(STORAGE_ROOMS, parts.length > 1 ? parts[0] + "." + parts[1] : parts[0]);
  }

  /** The source without comments and string literals, so that only code is read. */
  private static String code(Path file) throws IOException {
    String s = Files.readString(file);
    s = s.replaceAll("(?s)/\\*.*?\\*/", " ");
    s = s.replaceAll("//[^\\n]*", " ");
    return s.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"");
  }

  /** The Quiver packages the code names ({@code storage.query}, {@code engine}, ...). */
  private static Set<String> used(String code) {
    Set<String> out = new TreeSet<>();
    Matcher m = QUIVER.matcher(code);
    while (m.find()) {
      String first = m.group(1);
      String second = m.group(3);
      out.add(second != null ? first + "." + second : first);
    }
    return out;
  }
}
