package io.quiver.engine.filter;

import java.util.List;

/** Geo shapes of filter conditions, with Qdrant's exact point tests (planar polygons, spherical radius). */
public final class Geo {
  private Geo() {}

  /** Mean earth radius used by the {@code geo} crate's Haversine, which Qdrant uses. */
  static final double EARTH_RADIUS_METERS = 6371008.8;

  public record Point(double lon, double lat) {}

  /** Strictly inside; {@code topLeft.lon > bottomRight.lon} means the box crosses the antimeridian. */
  public record BoundingBox(Point topLeft, Point bottomRight) {
    public boolean contains(double lon, double lat) {
      boolean lonOk = topLeft.lon() > bottomRight.lon()
          ? lon > topLeft.lon() || lon < bottomRight.lon()
          : topLeft.lon() < lon && lon < bottomRight.lon();
      return lonOk && bottomRight.lat() < lat && lat < topLeft.lat();
    }
  }

  /** Haversine distance strictly below {@code radius} meters. */
  public record Radius(Point center, double radius) {
    public boolean contains(double lon, double lat) {
      return haversineMeters(center.lat(), center.lon(), lat, lon) < radius;
    }
  }

  /** Strictly inside the exterior ring and not inside or on any interior ring (holes); rings are closed. */
  public record Polygon(List<Point> exterior, List<List<Point>> interiors) {
    public Polygon {
      exterior = List.copyOf(exterior);
      interiors = interiors.stream().map(List::copyOf).toList();
    }

    public boolean contains(double lon, double lat) {
      if (position(exterior, lon, lat) != 1) {
        return false;
      }
      for (List<Point> hole : interiors) {
        if (position(hole, lon, lat) != -1) {
          return false;
        }
      }
      return true;
    }
  }

  public static double haversineMeters(double lat1, double lon1, double lat2, double lon2) {
    double phi1 = Math.toRadians(lat1);
    double phi2 = Math.toRadians(lat2);
    double dPhi = Math.toRadians(lat2 - lat1);
    double dLambda = Math.toRadians(lon2 - lon1);
    double sinPhi = Math.sin(dPhi / 2);
    double sinLambda = Math.sin(dLambda / 2);
    double a = sinPhi * sinPhi + Math.cos(phi1) * Math.cos(phi2) * sinLambda * sinLambda;
    return EARTH_RADIUS_METERS * 2 * Math.asin(Math.sqrt(a));
  }

  /** 1 inside, 0 on the boundary, -1 outside the ring (x = lon, y = lat), by winding number. */
  static int position(List<Point> ring, double x, double y) {
    int winding = 0;
    int n = ring.size();
    for (int i = 0; i < n; i++) {
      Point a = ring.get(i);
      Point b = ring.get((i + 1) % n); // closes the ring if the caller did not
      double cross = (b.lon() - a.lon()) * (y - a.lat()) - (x - a.lon()) * (b.lat() - a.lat());
      if (cross == 0 && Math.min(a.lon(), b.lon()) <= x && x <= Math.max(a.lon(), b.lon())
          && Math.min(a.lat(), b.lat()) <= y && y <= Math.max(a.lat(), b.lat())) {
        return 0;
      }
      if (a.lat() <= y) {
        if (b.lat() > y && cross > 0) {
          winding++;
        }
      } else if (b.lat() <= y && cross < 0) {
        winding--;
      }
    }
    return winding != 0 ? 1 : -1;
  }
}
