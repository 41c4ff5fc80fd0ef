package io.quiver.storage.snapshot;

import io.quiver.error.ApiException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Snapshot files in a directory, as Qdrant keeps them: {@code <name>.snapshot} with a {@code
 * <name>.snapshot.checksum} sidecar holding the hex SHA-256. A snapshot being written is a {@code
 * .tmp} file, renamed when complete, so listings never show half a snapshot. Names from requests
 * are checked so that no name reaches outside its directory.
 */
final class SnapshotFiles {
  static final String SUFFIX = ".snapshot";
  static final String CHECKSUM_SUFFIX = ".checksum";
  private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_.@+=-][A-Za-z0-9_. @+=-]*");
  private static final DateTimeFormatter NAME_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd-HH-mm-ss");
  private static final DateTimeFormatter CREATION_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  private SnapshotFiles() {}

  /** A new, unused name {@code <prefix>-<UTC time>.snapshot} in {@code dir}. */
  static String newName(Path dir, String prefix) {
    String base = prefix + "-" + LocalDateTime.now(ZoneOffset.UTC).format(NAME_TIME);
    String name = base + SUFFIX;
    for (int i = 1; Files.exists(dir.resolve(name)) || Files.exists(dir.resolve(name + ".tmp")); i++) {
      name = base + "-" + i + SUFFIX;
    }
    return name;
  }

  /** The file of snapshot {@code name} in {@code dir}; 404 when the name is unsafe or the file is missing. */
  static Path existing(Path dir, String name) {
    Path file = resolveSafe(dir, name);
    if (file == null || !Files.isRegularFile(file)) {
      throw ApiException.notFound("Snapshot " + name + " not found");
    }
    return file;
  }

  static Path resolveSafe(Path dir, String name) {
    if (name == null || !name.endsWith(SUFFIX) || name.equals(SUFFIX) || name.contains("..") || !SAFE_NAME.matcher(name).matches()) {
      return null;
    }
    Path file = dir.resolve(name).normalize();
    return file.getParent() != null && file.getParent().equals(dir.normalize()) ? file : null;
  }

  /** Qdrant's SnapshotDescription of every complete snapshot in {@code dir}, by name. */
  static List<Map<String, Object>> list(Path dir) throws IOException {
    List<Map<String, Object>> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p)).sorted().toList();
    }
    for (Path f : files) {
      try {
        out.add(describe(f));
      } catch (java.nio.file.NoSuchFileException gone) {
        // deleted meanwhile
      }
    }
    return out;
  }

  static Map<String, Object> describe(Path file) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", file.getFileName().toString());
    var modified = Files.getLastModifiedTime(file).toInstant();
    m.put("creation_time", LocalDateTime.ofInstant(modified, ZoneOffset.UTC).format(CREATION_TIME));
    m.put("size", Files.size(file));
    Path sidecar = checksumFile(file);
    m.put("checksum", Files.exists(sidecar) ? Files.readString(sidecar, StandardCharsets.UTF_8).trim() : null);
    return m;
  }

  static Path checksumFile(Path snapshot) {
    return snapshot.resolveSibling(snapshot.getFileName() + CHECKSUM_SUFFIX);
  }

  /** Deletes a snapshot and its sidecar; 404 when there is none. */
  static boolean delete(Path dir, String name) throws IOException {
    Path file = existing(dir, name);
    Files.deleteIfExists(checksumFile(file));
    if (!Files.deleteIfExists(file)) {
      throw ApiException.notFound("Snapshot " + name + " not found");
    }
    return true;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }

  static String sha256Of(Path file) throws IOException {
    MessageDigest d = sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
    }
    return hex(d);
  }
}
