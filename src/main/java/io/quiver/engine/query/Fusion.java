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
public final class Fusion {
  private Fusion() {}

  /** A point keeps what its first list said of it but the score. Ties keep first-seen order; {@code threshold} keeps scores at or above it. */
  static List<Hit> fuse(List<List<Hit>> sources, Plan.FusionScoring f, Float threshold, int limit) {
    return fuse(sources, Hit::doc, Hit::score, (h, score) -> new Hit(h.doc(), score, h.orderValue(), h.scrolled()), f, threshold, limit);
  }

  /** How fusion reads an item's score and makes the fused item. */
  public interface Scores<T> {
    float of(T item);
  }

  /**
   * Fuses lists of any items, told apart by {@code key}: each item keeps what its first list said of
   * it but the score ({@code rescored}). Ties keep first-seen order; {@code threshold} keeps scores
   * at or above it.
   */
  public static <T> List<T> fuse(List<List<T>> sources, java.util.function.Function<T, Object> key, Scores<T> score,
      java.util.function.BiFunction<T, Float, T> rescored, Plan.FusionScoring f, Float threshold, int limit) {
    Map<Object, T> first = new LinkedHashMap<>();
    Map<Object, Float> scores = new HashMap<>();
    for (List<T> source : sources) {
      float[] normalised = f.dbsf() ? distributionNormalised(source, score) : null;
      for (int i = 0; i < source.size(); i++) {
        T h = source.get(i);
        float s = f.dbsf() ? normalised[i] : 1f / ((float) i + (float) f.k());
        Object k = key.apply(h);
        first.putIfAbsent(k, h);
        scores.merge(k, s, Float::sum);
      }
    }
    List<T> fused = new ArrayList<>(first.size());
    first.forEach((k, h) -> fused.add(rescored.apply(h, scores.get(k))));
    fused.sort(Comparator.comparingDouble((T h) -> score.of(h)).reversed());
    List<T> out = new ArrayList<>();
    for (T h : fused) {
      if (out.size() == limit || (threshold != null && score.of(h) < threshold)) {
        break;
      }
      out.add(h);
    }
    return out;
  }

  /** Qdrant's {@code distr_norm}, in f32 with Welford's mean and sample variance. */
  private static <T> float[] distributionNormalised(List<T> points, Scores<T> score) {
    float[] out = new float[points.size()];
    if (points.size() < 2) {
      Arrays.fill(out, 0.5f);
      return out;
    }
    float mean = 0;
    float aggregate = 0;
    int k = 1;
    for (T p : points) {
      float oldDelta = score.of(p) - mean;
      mean += oldDelta / k++;
      aggregate += oldDelta * (score.of(p) - mean);
    }
    float std = (float) Math.sqrt(aggregate / (points.size() - 1f));
    float min = mean - 3f * std;
    float max = mean + 3f * std;
    for (int i = 0; i < out.length; i++) {
      out[i] = min == max ? 0.5f : (score.of(points.get(i)) - min) / (max - min);
    }
    return out;
  }
}
