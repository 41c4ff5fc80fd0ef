package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How much one request may carry, where Qdrant sets no bound of its own: high enough that normal
 * use (clients upload in batches of tens to thousands) never meets them, low enough that one
 * request cannot hold the shard's write lock or a search thread for minutes. Going over answers 422
 * naming the field; nothing is applied. {@code limit} and {@code offset} have no such cap, as in
 * Qdrant (whose tests search with {@code limit} 2^64-1): they are clamped to the collection's size.
 */
public final class Limits {
  /** Points in one upsert or vector update, and ids in one list (retrieve, delete, payload). */
  public static final int MAX_POINTS = 100_000;

  /** Requests in one {@code search/batch}, {@code recommend/batch}, {@code discover/batch}, {@code query/batch}. */
  public static final int MAX_BATCH_SEARCHES = 10_000;

  /** Operations in one {@code POST /points/batch}. */
  public static final int MAX_BATCH_OPERATIONS = 10_000;

  private Limits() {}

  /** Throws a 422 when {@code list} is an array of more than {@code max} items. */
  public static void atMost(JsonNode list, int max, String path) {
    if (list != null && list.isArray()) {
      atMost(list.size(), max, path);
    }
  }

  /** Throws a 422 when a list (as the gRPC edge receives one) has more than {@code max} items. */
  public static void atMost(int size, int max, String path) {
    if (size > max) {
      Validation.body()
          .add(path, "value of " + size + " items invalid, must be at most " + max + " items per request")
          .throwIfAny();
    }
  }
}
