package io.quiver.request;

/**
 * Qdrant's search {@code params}: the HNSW beam ({@code hnsw_ef}, null for the default), exact
 * search, and the quantization {@code oversampling} (null when not given).
 */
public record SearchParams(Integer hnswEf, boolean exact, Double oversampling) {
  public static final SearchParams DEFAULT = new SearchParams(null, false, null);
}
