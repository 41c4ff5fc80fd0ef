package io.quiver.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.lucene.index.FilterMergePolicy;
import org.apache.lucene.index.MergeTrigger;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.TieredMergePolicy;

/**
 * Lucene merges planned as Qdrant's optimizers plan theirs, so that a shard settles into a few large
 * HNSW graphs (each segment is searched as its own graph):
 * <ul>
 *   <li><b>vacuum</b>: a segment whose deleted points exceed {@code deleted_threshold} of it, and
 *       number at least {@code vacuum_min_vector_number}, is rewritten without them;
 *   <li><b>merge</b>: while the shard has more segments than {@code default_segment_number}, the
 *       smallest are merged, as many at once as it takes to come back to that number, none growing
 *       past {@code max_segment_size}; the largest stays out while it has a graph and deleted points
 *       too few to vacuum (its graph would be rebuilt whole), one segment over the number at most.
 *       Qdrant merges at least three (or two batches of two) because its merge also opens an empty
 *       appendable segment; Lucene's writer keeps new points in memory instead, so here two
 *       segments merged are one fewer;
 *   <li><b>indexing</b>: a segment written plain ({@link IndexedVectorsFormat}) whose vectors reach
 *       {@code indexing_threshold} and that no merge joins is rewritten alone, with its graph.
 * </ul>
 * Lucene asks after every flush and every finished merge; segments already merging are left out,
 * and no more merges run at once than {@code max_optimization_threads}: the segments flushed while
 * one runs wait for it and then join the graph it made (Lucene's merge keeps the largest graph and
 * inserts the others' points into it), so that each point is inserted into a graph about once,
 * where merging them apart meanwhile would build a second graph that a later merge takes apart again.
 * Forced merges (none are asked for today) go to Lucene's tiered policy.
 */
final class SegmentPolicy extends FilterMergePolicy {
  private final Supplier<Optimizers> config;
  private final AtomicLong finished = new AtomicLong();
  private final AtomicLong finishedAny = new AtomicLong();
  /** The merges this policy planned that have not ended. */
  private final Set<OneMerge> running = ConcurrentHashMap.newKeySet();

  SegmentPolicy(Supplier<Optimizers> config) {
    super(new TieredMergePolicy());
    this.config = config;
  }

  /** How many merges this policy planned of at least {@link Optimizers#reportBytes()} have ended (done, failed or aborted). */
  long finished() {
    return finished.get();
  }

  /** How many merges this policy planned have ended, whatever their size. */
  long finishedAny() {
    return finishedAny.get();
  }

  /** A segment as the plan sees it. */
  record Candidate(SegmentCommitInfo info, long bytes, int maxDoc, int deleted, long plainBytes, boolean graph) {
    Candidate(SegmentCommitInfo info, long bytes, int maxDoc, int deleted) {
      this(info, bytes, maxDoc, deleted, 0, false);
    }
  }

  @Override
  public MergeSpecification findMerges(MergeTrigger trigger, SegmentInfos infos, MergeContext context) throws IOException {
    Optimizers o = config.get();
    if (o.threads() == 0) {
      return null;
    }
    // no more merges at once than merge threads: Lucene asks again when one ends
    Set<SegmentCommitInfo> merging = context.getMergingSegments();
    // a merge the writer did not take (its segments not merging) will not end: it does not count
    running.removeIf(m -> m.segments.stream().noneMatch(merging::contains));
    int busy = running.size();
    if (busy >= o.threads()) {
      return null;
    }
    List<Candidate> free = new ArrayList<>();
    for (SegmentCommitInfo info : infos) {
      if (!merging.contains(info)) {
        free.add(new Candidate(info, vectorSize(info, context), info.info.maxDoc(), context.numDeletesToMerge(info),
            IndexedVectorsFormat.plainBytes(info.info), IndexedVectorsFormat.hasGraph(info.info)));
      }
    }
    List<List<Candidate>> plan = plan(free, busy, o);
    if (plan.isEmpty()) {
      return null;
    }
    MergeSpecification spec = new MergeSpecification();
    List<SegmentCommitInfo> order = infos.asList();
    for (List<Candidate> batch : plan.subList(0, Math.min(plan.size(), o.threads() - busy))) {
      // in the index's order: the merged segment keeps the points in the order they came, so that
      // equal scores keep ranking as before the merge
      List<SegmentCommitInfo> segments = batch.stream().map(Candidate::info).sorted(Comparator.comparingInt(order::indexOf)).toList();
      OneMerge merge = new OneMerge(segments) {
        @Override
        public void mergeFinished(boolean success, boolean segmentDropped) throws IOException {
          super.mergeFinished(success, segmentDropped);
          running.remove(this);
          finishedAny.incrementAndGet();
          if (totalBytesSize() >= config.get().reportBytes()) {
            finished.incrementAndGet();
          }
        }
      };
      running.add(merge);
      spec.add(merge);
    }
    return spec;
  }

  /**
   * A segment's size as Qdrant's merge optimizer counts it against {@code max_segment_size}: the
   * stored bytes of its largest vector field over its live points, not its graph nor its payload.
   * A segment without dense vectors (sparse or multivectors alone) or written before the count was
   * kept counts its files.
   */
  private long vectorSize(SegmentCommitInfo info, MergeContext context) throws IOException {
    long vectors = IndexedVectorsFormat.vectorBytes(info.info);
    int maxDoc = info.info.maxDoc();
    if (vectors < 0 || maxDoc <= 0) {
      return size(info, context);
    }
    return (long) (vectors * (1.0 - (double) context.numDeletesToMerge(info) / maxDoc));
  }

  /**
   * The merges to run now, from the segments not merging ({@code free}) and the number of segments
   * that merges already running will produce ({@code running}).
   */
  static List<List<Candidate>> plan(List<Candidate> free, int running, Optimizers o) {
    List<List<Candidate>> out = new ArrayList<>();
    List<Candidate> rest = new ArrayList<>();
    for (Candidate c : free) {
      if (c.deleted() > 0 && c.deleted() >= o.vacuumMinVectors() && c.deleted() > o.deletedThreshold() * c.maxDoc()) {
        out.add(List.of(c));
      } else {
        rest.add(c);
      }
    }
    // the segments there will be once running merges and the vacuums end, as Qdrant's planner counts them
    int expected = free.size() + running;
    rest.sort(Comparator.comparingLong(Candidate::bytes));
    int target = o.segments();
    // The largest segment stays out while it has a graph and deleted points too few to vacuum:
    // Lucene's merge keeps a graph only from a segment without deletions, and would rebuild all of
    // it for a few new points. The others merge beside it (one segment over the number at most,
    // when that is one) until its deletions call for the vacuum that rewrites it alone.
    if (!rest.isEmpty() && rest.getLast().graph() && rest.getLast().deleted() > 0) {
      rest.removeLast();
      expected--;
      target = Math.max(1, target - 1);
    }
    // Lucene's writer buffers new points in memory, so a merge creates no empty appendable segment
    // as Qdrant's does: a batch of b segments lowers the count by b - 1, two alone included
    int excess = expected - target;
    int taken = 0;
    while (excess > 0 && taken < rest.size()) {
      List<Candidate> batch = new ArrayList<>();
      long sum = 0;
      for (Candidate c : rest.subList(taken, Math.min(rest.size(), taken + excess + 1))) {
        sum += c.bytes();
        if (sum >= o.maxSegmentBytes()) {
          break;
        }
        batch.add(c);
      }
      if (batch.size() < 2) {
        break;
      }
      taken += batch.size();
      excess -= batch.size() - 1;
      out.add(batch);
    }
    // indexing: a plain segment of at least indexing_threshold that no merge joins is rewritten with its graph
    for (Candidate c : rest.subList(taken, rest.size())) {
      if (c.plainBytes() > 0 && c.plainBytes() >= o.reportBytes()) {
        out.add(List.of(c));
      }
    }
    return out;
  }
}
