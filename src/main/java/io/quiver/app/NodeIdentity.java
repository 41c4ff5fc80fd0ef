package io.quiver.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * The node's stable peer id: a random positive 63-bit number created on first start and kept in
 * {@code <storage>/peer_id}, so a restarted node keeps its event-bus addresses.
 */
public final class NodeIdentity {
  private NodeIdentity() {}

  public static long loadOrCreate(Path storagePath) throws IOException {
    Path file = storagePath.resolve("peer_id");
    if (Files.isRegularFile(file)) {
      String text = Files.readString(file, StandardCharsets.UTF_8).trim();
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new IOException("Corrupt peer id file " + file + ": '" + text + "'");
      }
    }
    Files.createDirectories(storagePath);
    long id = new SecureRandom().nextLong() & Long.MAX_VALUE;
    Path tmp = storagePath.resolve("peer_id.tmp");
    Files.writeString(tmp, Long.toString(id), StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    return id;
  }
}
