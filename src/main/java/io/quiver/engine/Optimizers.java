package io.quiver.engine;

/**
 * How a shard keeps its segments, resolved from Qdrant's {@code optimizers_config}: how many
 * segments it settles into, how large a merge may make one, when a segment is rewritten to drop its
 * deleted points, and how many threads merge.
 *
 * @param segments {@code default_segment_number}; 0 (auto) resolves to one. Qdrant's auto (one or
 *     two per core, 2 to 8) suits its search of a query's segments in parallel; this engine searches
 *     them one after the other, and two graphs of half the points cost nearly twice one graph of all
 *     of them, so the fewest graphs serve both the lowest latency and the most queries. {@code
 *     max_segment_size} still spreads a large shard over several
 * @param maxSegmentBytes {@code max_segment_size} (kilobytes in the config), unset resolved as Qdrant
 *     does: 256 MB per indexing thread (a core each); a segment measured as Qdrant measures it, by the
 *     stored bytes of its largest vector field (not its graph nor its payload)
 * @param deletedThreshold {@code deleted_threshold}: the share of deleted points above which a
 *     segment is vacuumed
 * @param vacuumMinVectors {@code vacuum_min_vector_number}: the fewest deleted points worth a vacuum
 * @param threads {@code max_optimization_threads}, unset resolved to half the cores (at least one),
 *     so that searches keep the other half while merges run; 0 turns merges off
 * @param reportBytes merges of at least this much ({@code indexing_threshold} kilobytes, its default
 *     when indexing is off) are optimizations the collection's status shows ({@code yellow}); smaller
 *     ones are housekeeping of small segments, done in moments, that Qdrant would not have
 */
public record Optimizers(int segments, long maxSegmentBytes, double deletedThreshold, long vacuumMinVectors, int threads,
    long reportBytes) {
  /** Qdrant's {@code indexing_threshold} default, in kilobytes. */
  public static final long DEFAULT_INDEXING_THRESHOLD_KB = 10_000;

  /** Qdrant's per-thread segment size when {@code max_segment_size} is not set. */
  public static final long DEFAULT_MAX_SEGMENT_PER_CPU_KB = 256_000;

  public static final Optimizers DEFAULT = resolve(0, null, 0.2, 1000, null, DEFAULT_INDEXING_THRESHOLD_KB);

  /**
   * Resolves the config's values.
   *
   * @param maxSegmentKb null for automatic
   * @param threads null for automatic
   * @param indexingThresholdKb 0 when indexing is off
   */
  public static Optimizers resolve(long defaultSegmentNumber, Long maxSegmentKb, double deletedThreshold,
      long vacuumMinVectors, Integer threads, long indexingThresholdKb) {
    int cores = Runtime.getRuntime().availableProcessors();
    int segments = defaultSegmentNumber > 0 ? (int) Math.min(defaultSegmentNumber, 1024) : 1;
    long maxKb = maxSegmentKb != null ? maxSegmentKb : cores * DEFAULT_MAX_SEGMENT_PER_CPU_KB;
    int t = threads != null ? threads : Math.max(1, cores / 2);
    long report = (indexingThresholdKb > 0 ? indexingThresholdKb : DEFAULT_INDEXING_THRESHOLD_KB) * 1024L;
    return new Optimizers(segments, Math.multiplyExact(maxKb, 1024L), deletedThreshold, vacuumMinVectors, t, report);
  }
}
