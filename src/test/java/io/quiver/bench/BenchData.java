package io.quiver.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Reproducible synthetic points: 128-d vectors and small payloads, from a fixed seed. */
final class BenchData {
  static final String[] CITIES = {"Berlin", "London", "Paris", "Tokyo", "Lima", "Oslo", "Cairo", "Quito"};

  private BenchData() {}

  static List<Point> points(int count, int dim, long seed) {
    Random r = new Random(seed);
    List<Point> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = (float) r.nextGaussian();
      }
      ObjectNode payload = Json.MAPPER.createObjectNode()
          .put("city", CITIES[r.nextInt(CITIES.length)])
          .put("price", r.nextInt(1000))
          .put("rating", r.nextDouble() * 5);
      payload.putArray("tags").add("t" + r.nextInt(20)).add("t" + r.nextInt(20));
      out.add(new Point(PointId.of(i), Map.of("", v), Map.of(), payload));
    }
    return out;
  }

  /** The REST body of an upsert of {@code points}. */
  static String upsertBody(List<Point> points) {
    StringBuilder sb = new StringBuilder(points.size() * 1400).append("{\"points\":[");
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      sb.append(i == 0 ? "" : ",").append("{\"id\":").append(p.id()).append(",\"vector\":[");
      float[] v = p.dense().get("");
      for (int d = 0; d < v.length; d++) {
        sb.append(d == 0 ? "" : ",").append(v[d]);
      }
      sb.append("],\"payload\":").append(p.payload().toString()).append('}');
    }
    return sb.append("]}").toString();
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
