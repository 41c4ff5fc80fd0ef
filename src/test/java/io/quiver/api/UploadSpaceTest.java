package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadSpaceTest {
  @TempDir Path dir;

  @Test
  void anUploadThatWouldEatTheReserveIsRefusedBeforeItsBodyIsRead() {
    Path uploads = dir.resolve("snapshots/uploads_temp"); // not created yet: its nearest existing parent decides
    assertNull(UploadSpace.refusal(uploads, "1024", 0));
    assertNull(UploadSpace.refusal(uploads, null, 0));
    String tooLarge = UploadSpace.refusal(uploads, Long.toString(Long.MAX_VALUE / 2), 0);
    assertNotNull(tooLarge);
    assertTrue(tooLarge.startsWith("No space left on device: the upload of "), tooLarge);
    // chunked (no length): only refused when the reserve is gone already
    assertNotNull(UploadSpace.refusal(uploads, null, Long.MAX_VALUE / 2));
    assertNull(UploadSpace.refusal(uploads, "not a number", 0));
  }
}
