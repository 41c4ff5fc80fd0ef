package io.quiver.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a snapshot upload fits on the disk: uploads are not bound by the request size limit, so
 * one that would leave less free space than the disk write block keeps is refused before its body
 * is read (507). A chunked upload (no Content-Length) is only refused when the space is short already.
 */
final class UploadSpace {
  private UploadSpace() {}

  /** Why the upload cannot be taken, in Qdrant's "No space left on device" wording, or null. */
  static String refusal(Path uploads, String contentLength, long keepFreeBytes) {
    long usable;
    try {
      Path probe = uploads;
      while (probe != null && !Files.exists(probe)) {
        probe = probe.getParent();
      }
      if (probe == null) {
        return null;
      }
      usable = Files.getFileStore(probe).getUsableSpace();
    } catch (IOException | SecurityException e) {
      return null; // the upload itself will tell
    }
    long announced = 0;
    if (contentLength != null) {
      try {
        announced = Math.max(0, Long.parseLong(contentLength.trim()));
      } catch (NumberFormatException e) {
        return null; // the HTTP server refuses it
      }
    }
    if (usable - announced < keepFreeBytes) {
      return "No space left on device: the upload of " + announced + " bytes would leave "
          + Math.max(0, (usable - announced) / (1024 * 1024)) + " MB free, below the " + keepFreeBytes / (1024 * 1024)
          + " MB the node keeps free (storage.disk_watermarks.block_below_mb)";
    }
    return null;
  }
}
