package io.quiver.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Runs a system command for a test: whether a tool is there, or a set-up step worked. */
public final class Commands {
  private Commands() {}

  /** True when {@code command} ran and exited 0 within 30 s; its output is discarded. */
  public static boolean succeeds(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
