package io.quiver.storage.query;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Distance;
import io.quiver.engine.VectorSpec;
import io.quiver.engine.query.Sampling;
import io.quiver.error.ApiException;
import io.quiver.request.PointRead;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.quiver.storage.collection.Shards;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Qdrant's distance matrix: a random sample of points having the vector (and passing the filter),
 * sorted by id, and for each the {@code limit} nearest other points of the sample, scored exactly.
 * Over several shards the sample is drawn from each in proportion to the points it has, so that it
 * is uniform over the collection.
 */
public final class DistanceMatrix {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int DEFAULT_SAMPLE = 10;
  private static final int DEFAULT_LIMIT = 3;

  private DistanceMatrix() {}

  public static CompletionStage<ObjectNode> of(Collection col, PointRead.Matrix req) {
    CollectionSchema schema = col.schema();
    String using = req.using();
    if (schema.sparse().containsKey(using)) {
      throw ApiException.badRequest("distance matrix over sparse vectors is not supported by this server yet");
    }
    VectorSpec spec = schema.dense().get(using);
    if (spec == null) {
      throw ApiException.wrongInput("Not existing vector name error: " + using);
    }
    int n = req.sample() == null ? DEFAULT_SAMPLE : req.sample();
    int k = req.limit() == null ? DEFAULT_LIMIT : req.limit();
    List<CompletionStage<ShardEndpoint.VectorSample>> calls = new ArrayList<>();
    col.endpoints().values().forEach(e -> calls.add(e.sample(req.filter(), using, n)));
    return Shards.all(calls).thenApply(samples -> matrix(draw(samples, n), spec.distance(), k, req.offsets()));
  }

  /** Up to {@code n} of the shards' samples, drawn as from all their points at once; sorted by id. */
  private static List<Sampling.Sampled> draw(List<ShardEndpoint.VectorSample> samples, int n) {
    if (samples.size() == 1) {
      return samples.get(0).points();
    }
    var random = ThreadLocalRandom.current();
    List<List<Sampling.Sampled>> shuffled = new ArrayList<>();
    long[] left = new long[samples.size()];
    long total = 0;
    for (int i = 0; i < left.length; i++) {
      List<Sampling.Sampled> s = new ArrayList<>(samples.get(i).points());
      Collections.shuffle(s, random);
      shuffled.add(s);
      left[i] = samples.get(i).matched();
      total += left[i];
    }
    int[] taken = new int[left.length];
    List<Sampling.Sampled> out = new ArrayList<>();
    while (out.size() < n && total > 0) {
      long d = random.nextLong(total);
      int i = 0;
      while (d >= left[i]) {
        d -= left[i++];
      }
      if (taken[i] < shuffled.get(i).size()) {
        out.add(shuffled.get(i).get(taken[i]));
      }
      taken[i]++;
      left[i]--;
      total--;
    }
    out.sort(Comparator.comparing(Sampling.Sampled::id));
    return out;
  }

  private static ObjectNode matrix(List<Sampling.Sampled> points, Distance d, int k, boolean offsets) {
    List<List<Score>> nearest = new ArrayList<>();
    Comparator<Score> best = Comparator.comparingDouble(Score::score);
    if (d.higherIsBetter()) {
      best = best.reversed();
    }
    best = best.thenComparing(Score::index);
    if (points.size() >= 2) {
      for (int i = 0; i < points.size(); i++) {
        List<Score> row = new ArrayList<>();
        for (int j = 0; j < points.size(); j++) {
          if (j != i) {
            row.add(new Score(j, d.score(points.get(i).vector(), points.get(j).vector())));
          }
        }
        row.sort(best);
        nearest.add(row.size() > k ? row.subList(0, k) : row);
      }
    }
    ObjectNode out = F.objectNode();
    if (offsets) {
      ArrayNode rows = out.putArray("offsets_row");
      ArrayNode cols = out.putArray("offsets_col");
      ArrayNode scores = out.putArray("scores");
      ArrayNode ids = out.putArray("ids");
      for (int i = 0; i < nearest.size(); i++) {
        for (Score s : nearest.get(i)) {
          rows.add(i);
          cols.add(s.index());
          scores.add(s.score());
        }
      }
      if (points.size() >= 2) {
        points.forEach(p -> ids.add(p.id().toJson()));
      }
    } else {
      ArrayNode pairs = out.putArray("pairs");
      for (int i = 0; i < nearest.size(); i++) {
        for (Score s : nearest.get(i)) {
          ObjectNode pair = pairs.addObject();
          pair.set("a", points.get(i).id().toJson());
          pair.set("b", points.get(s.index()).id().toJson());
          pair.put("score", s.score());
        }
      }
    }
    return out;
  }

  private record Score(int index, float score) {}
}
