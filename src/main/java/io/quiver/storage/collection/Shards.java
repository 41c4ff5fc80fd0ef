package io.quiver.storage.collection;

import io.quiver.error.ApiException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/** Small helpers of the coordinator's asynchronous fan-out over shards. */
public final class Shards {
  private Shards() {}

  /** The results of every stage, in order; fails with the first failure (in order) once all are done. */
  public static <T> CompletionStage<List<T>> all(List<? extends CompletionStage<T>> stages) {
    if (stages.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    CompletableFuture<?>[] futures = stages.stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(futures).handle((v, e) -> {
      List<T> out = new ArrayList<>(futures.length);
      for (CompletableFuture<?> f : futures) {
        out.add(resultOf(f));
      }
      return Collections.unmodifiableList(out);
    });
  }

  @SuppressWarnings("unchecked")
  private static <T> T resultOf(CompletableFuture<?> f) {
    try {
      return (T) f.get();
    } catch (ExecutionException e) {
      throw new CompletionException(cause(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    }
  }

  /** The failure a completion wrapped. */
  public static Throwable cause(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** Runs {@code op}, turning what it throws into a failed stage. */
  public static <T> CompletionStage<T> attempt(Collection.IoSupplier<CompletionStage<T>> op) {
    try {
      return op.get();
    } catch (java.io.IOException e) {
      return CompletableFuture.failedFuture(new java.io.UncheckedIOException(e));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The message of a failure as Qdrant shows it inside another one. */
  public static String message(Throwable e) {
    Throwable c = cause(e);
    return c instanceof ApiException a ? a.getMessage() : String.valueOf(c.getMessage());
  }

  /**
   * Every hold, once all are taken; or, when one is refused, the first refusal (in order) after the
   * holds that were taken are released: all or none.
   */
  public static CompletionStage<List<Runnable>> holdAll(List<CompletableFuture<Runnable>> holds) {
    return CompletableFuture.allOf(holds.toArray(CompletableFuture[]::new)).handle((v, err) -> {
      List<Runnable> taken = new ArrayList<>();
      Throwable first = null;
      for (CompletableFuture<Runnable> h : holds) {
        try {
          taken.add(h.join());
        } catch (RuntimeException failure) {
          first = first == null ? cause(failure) : first;
        }
      }
      if (first != null) {
        taken.forEach(Runnable::run);
        throw first instanceof RuntimeException r ? r : new CompletionException(first);
      }
      return taken;
    });
  }
}
