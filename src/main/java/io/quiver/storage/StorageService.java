package io.quiver.storage;

import io.quiver.request.Request;
import java.util.concurrent.CompletionStage;

/**
 * What a storage verticle binds to its address. Implementations run blocking work on their own
 * bounded executors and complete the stage from there; failures are {@link
 * io.quiver.error.ApiException}s carrying the HTTP status.
 */
public interface StorageService extends AutoCloseable {
  /**
   * Runs a parsed request; the stage completes with the REST response's {@code result} (Jackson
   * trees, maps, lists, booleans), or fails with an {@link io.quiver.error.ApiException}.
   */
  CompletionStage<Object> execute(Request request);

  /**
   * Registers who hears of failures for lack of disk space that no request sees (background
   * commits, for instance); the storage verticle turns the disk write block on with it. May be
   * called from any thread. The default hears nothing.
   */
  default void onNoSpace(java.util.function.Consumer<String> listener) {}

  /** "normal" or "recovery". */
  String mode();

  /** Flushes and releases everything; called once, on undeploy. */
  @Override
  void close();
}
