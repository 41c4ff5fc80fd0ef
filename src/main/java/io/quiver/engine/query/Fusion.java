package io.quiver.engine.query;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reciprocal rank fusion (sum over the lists of 1 / (k + 0-based rank)) or distribution-based
 * score fusion (each list normalised by its mean ± 3 sample standard deviations, then summed).
 */
final class Fusion {
  private Fusion() {}

  /** A point keeps what its first list said of it but the score. Ties keep first-seen order; {@code threshold} keeps scores at or above it. */
  static List<Hit> fuse(List<List<Hit>> sources, Plan.FusionScoring f, Float threshold, int limit) {
    Map<Integer, Hit> first = new LinkedHashMap<>();
    Map<Integer, Float> scores = new HashMap<>();
    for (List<Hit> source : sources) {
      float[] normalised = f.dbsf() ? distributionNormalised(source) : null;
      for (int i = 0; i < source.size(); i++) {
        Hit h = source.get(i);
        float score = f.dbsf() ? normalised[i] : 1f / ((float) i + (float) f.k());
        first.putIfAbsent(h.doc(), h);
        scores.merge(h.doc(), score, Float::sum);
      }
    }
    List<Hit> fused = new ArrayList<>(first.size());
    first.values().forEach(h -> fused.add(new Hit(h.doc(), scores.get(h.doc()), h.orderValue(), h.scrolled())));
    fused.sort(Comparator.comparingDouble(Hit::score).reversed());
    List<Hit> out = new ArrayList<>();
    for (Hit h : fused) {
      if (out.size() == limit || (threshold != null && h.score() < threshold)) {
        break;
      }
      out.add(h);
    }
    return out;
  }

  /** Qdrant's {@code distr_norm}, in f32 with Welford's mean and sample variance. */
  private static float[] distributionNormalised(List<Hit> points) {
    float[] out = new float[points.size()];
    if (points.size() < 2) {
      Arrays.fill(out, 0.5f);
      return out;
    }
    float mean = 0;
    float aggregate = 0;
    int k = 1;
    for (Hit p : points) {
      float oldDelta = p.score() - mean;
      mean += oldDelta / k++;
      aggregate += oldDelta * (p.score() - mean);
    }
    float std = (float) Math.sqrt(aggregate / (points.size() - 1f));
    float min = mean - 3f * std;
    float max = mean + 3f * std;
    for (int i = 0; i < out.length; i++) {
      out[i] = min == max ? 0.5f : (points.get(i).score() - min) / (max - min);
    }
    return out;
  }
}
