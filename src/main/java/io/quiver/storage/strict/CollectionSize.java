package io.quiver.storage.strict;

import io.quiver.storage.collection.Collection;
import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The sizes strict mode limits, per collection: points and vector bytes (dimensions × 4 per stored
 * vector), counted afresh over every write acknowledged so far, and payload storage bytes, counted
 * again every {@value #PAYLOAD_RECOUNT_CHECKS} checks or after a second (a pass over the payload
 * sizes' doc values), as Qdrant counts them: with {@code on_disk_payload}, whole 128-byte blocks per
 * stored payload, and the blocks of payloads replaced since the last flush (commit) too; in memory,
 * 4 bytes per point plus its JSON. Empty payloads take nothing (Qdrant stores none). Summed over
 * the collection's shards held here (the limits are the node's). Thread-safe.
 */
final class CollectionSize {
  /** How many size checks one payload count serves, the one that counted included (Qdrant recounts every 32 requests). */
  static final int PAYLOAD_RECOUNT_CHECKS = 16;

  /** When the payload bytes were counted and how many checks used that count since. */
  record Stats(long computedAtNanos, int checks, long points, long vectorBytes, long payloadBytes) {}

  private final Map<Collection, Stats> stats = Collections.synchronizedMap(new WeakHashMap<>());

  /** The sizes of {@code col}; payload bytes are counted only when {@code wantPayload} (else 0, or the last count). */
  Stats of(Collection col, boolean payloadLimited) throws IOException {
    for (var shard : col.localShards().values()) {
      shard.refresh(); // writes acknowledged without wait count too
    }
    long now = System.nanoTime();
    Stats cached = stats.get(col);
    boolean wantPayload = payloadLimited
        && (cached == null || cached.checks() >= PAYLOAD_RECOUNT_CHECKS - 1 || now - cached.computedAtNanos() >= 1_000_000_000L);
    boolean onDisk = col.config().path("params").path("on_disk_payload").asBoolean(true);
    long[] out = new long[3];
    for (var shard : col.localShards().values()) {
      long[] written = wantPayload ? shard.payloadWrittenSinceCommit() : null;
      long[] part = shard.read(r -> {
        long points = r.numDocs();
        long vectorBytes = 0;
        for (var spec : col.schema().dense().values()) {
          vectorBytes += (long) r.countWithVector(List.of(spec.name())) * spec.size() * 4L;
        }
        return new long[] {points, vectorBytes, wantPayload ? r.payloadStorageBytes(onDisk, written) : 0};
      });
      for (int i = 0; i < 3; i++) {
        out[i] += part[i];
      }
    }
    Stats s = wantPayload || cached == null
        ? new Stats(now, 0, out[0], out[1], out[2])
        : new Stats(cached.computedAtNanos(), cached.checks() + 1, out[0], out[1], cached.payloadBytes());
    stats.put(col, s);
    return s;
  }
}
