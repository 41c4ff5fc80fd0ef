package io.quiver.storage.point;

import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Point;
import io.quiver.engine.SparseVector;
import io.quiver.engine.VectorSpec;
import io.quiver.error.ApiException;
import io.quiver.request.PointStruct;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import java.util.HashMap;
import java.util.Map;

/**
 * Checks a request's vectors against a collection and turns them into what the engine stores:
 * names must exist with the right kind (dense, multi or sparse), dimensions must match, values are
 * rounded to the vector's datatype and prepared for its distance (cosine vectors normalised).
 */
public final class VectorValues {
  private VectorValues() {}

  /** The point to store for an upserted point. */
  public static Point point(PointStruct p, CollectionSchema schema) {
    Map<String, float[]> dense = new HashMap<>();
    Map<String, SparseVector> sparse = new HashMap<>();
    into(p.vectors(), schema, dense, sparse);
    return new Point(p.id(), dense, sparse, p.payload());
  }

  /** Adds the vectors to {@code dense} and {@code sparse}, by name. */
  public static void into(Vectors vectors, CollectionSchema schema, Map<String, float[]> dense, Map<String, SparseVector> sparse) {
    vectors.byName().forEach((name, value) -> {
      if (schema.sparse().containsKey(name)) {
        sparse.put(name, switch (value) {
          case VectorInput.Sparse s -> s.vector();
          case VectorInput.Document d -> d.bm25().document(d.text());
          default -> throw ApiException.wrongInput("Conversion between sparse and regular vectors failed");
        });
      } else {
        dense.put(name, stored(name, value, schema));
      }
    });
  }

  private static float[] stored(String name, VectorInput value, CollectionSchema schema) {
    if (value instanceof VectorInput.Document d) {
      throw ApiException.badRequest("server-side inference (model `" + d.model() + "`) is not supported by this server yet: send vectors");
    }
    VectorSpec spec = schema.dense().get(name);
    if (spec == null || value instanceof VectorInput.Sparse) {
      throw ApiException.wrongInput("Not existing vector name error: " + name);
    }
    if (value instanceof VectorInput.Multi m && !spec.multi()) {
      throw ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got a multivector"
          + " (vector `" + name + "` has no multivector_config)");
    }
    return dense(value, spec);
  }

  /**
   * A dense vector or multivector for {@code spec}, as stored: a plain vector has the spec's size (for
   * a multivector spec, it is a multivector of one row); a multivector's rows are flattened. Rounded
   * to the datatype and prepared.
   */
  public static float[] dense(VectorInput value, VectorSpec spec) {
    return switch (value) {
      case VectorInput.Dense d -> {
        if (spec.multi() && d.values().length == 0) {
          throw dimension(spec, 0);
        }
        yield row(d.values(), spec);
      }
      case VectorInput.Multi m -> {
        if (!spec.multi()) {
          throw ApiException.wrongInput("Conversion between multi and regular vectors failed");
        }
        float[] out = new float[m.rows().length * spec.size()];
        for (int i = 0; i < m.rows().length; i++) {
          System.arraycopy(row(m.rows()[i], spec), 0, out, i * spec.size(), spec.size());
        }
        yield out;
      }
      default -> throw ApiException.wrongInput("Conversion between sparse and regular vectors failed");
    };
  }

  /** One vector of {@code spec.size()} numbers, rounded to the datatype and prepared. */
  private static float[] row(float[] values, VectorSpec spec) {
    if (values.length != spec.size()) {
      throw dimension(spec, values.length);
    }
    float[] out = values;
    if (spec.datatype() != VectorSpec.Datatype.FLOAT32) {
      out = new float[values.length];
      for (int i = 0; i < out.length; i++) {
        out[i] = spec.datatype().round(values[i]);
      }
    }
    return spec.distance().prepare(out);
  }

  private static ApiException dimension(VectorSpec spec, int got) {
    return ApiException.wrongInput("Vector dimension error: expected dim: " + spec.size() + ", got " + got);
  }
}
