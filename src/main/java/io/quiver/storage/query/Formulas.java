package io.quiver.storage.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Datetimes;
import io.quiver.engine.filter.FieldIndex;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.Geo;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.engine.query.Plan;
import io.quiver.error.ApiException;
import io.quiver.request.Expression;
import io.quiver.request.Query;
import io.quiver.request.Validation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static io.quiver.request.QueryParser.rust;

/**
 * Qdrant's score-boosting formulas: builds the engine's formula stage from a formula query, whose
 * scorer evaluates the expression for each candidate in f64, as Qdrant's FormulaScorer, over the
 * prefetches' scores, the formula's conditions and the point's payload.
 */
final class Formulas {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Formulas() {}

  /** The formula stage: its conditions numbered in the order the expression holds them. */
  static Plan.FormulaScoring scoring(CollectionSchema schema, Query.Formula f) {
    List<Filter> conditions = new ArrayList<>();
    Map<Expression.Condition, Integer> numbers = new IdentityHashMap<>();
    collect(f.expression(), conditions, numbers);
    PayloadSchema payload = schema.payload();
    return new Plan.FormulaScoring(conditions, candidate -> {
      double score = eval(f.expression(), new Evaluation(f, numbers, candidate, payload));
      float single = (float) score;
      if (!Float.isFinite(single)) {
        throw ApiException.wrongInput("The expression " + rust(score) + " as f32 = " + rust(single) + " produced a non-finite number");
      }
      return single;
    });
  }

  private static void collect(Expression e, List<Filter> conditions, Map<Expression.Condition, Integer> numbers) {
    switch (e) {
      case Expression.Condition c -> {
        numbers.put(c, conditions.size());
        conditions.add(c.filter());
      }
      case Expression.Nary n -> n.args().forEach(a -> collect(a, conditions, numbers));
      case Expression.Unary u -> collect(u.arg(), conditions, numbers);
      case Expression.Div d -> {
        collect(d.left(), conditions, numbers);
        collect(d.right(), conditions, numbers);
      }
      case Expression.Pow p -> {
        collect(p.base(), conditions, numbers);
        collect(p.exponent(), conditions, numbers);
      }
      case Expression.Decay d -> {
        collect(d.x(), conditions, numbers);
        if (d.target() != null) {
          collect(d.target(), conditions, numbers);
        }
      }
      default -> {
        // constants and variables hold no condition
      }
    }
  }

  /** What a formula reads for one candidate. */
  private record Evaluation(Query.Formula f, Map<Expression.Condition, Integer> conditions, Plan.FormulaInput candidate,
      PayloadSchema payload) {}

  /** Qdrant's {@code FormulaScorer::eval_expression}, in f64. */
  private static double eval(Expression e, Evaluation c) throws IOException {
    switch (e) {
      case Expression.Constant k -> {
        return k.value();
      }
      case Expression.Score s -> {
        Float score = c.candidate().prefetchScore(s.prefetch());
        if (score != null) {
          return score;
        }
        return c.f().scoreDefaults().getOrDefault(s.prefetch(), 0.0);
      }
      case Expression.Payload p -> {
        JsonNode v = variable(p.key(), "number", c);
        if (!v.isNumber()) {
          throw typeError(p.key(), "number", "Value is not a number");
        }
        return v.doubleValue();
      }
      case Expression.Condition cv -> {
        return c.candidate().meets(c.conditions().get(cv)) ? 1 : 0;
      }
      case Expression.GeoDistance g -> {
        JsonNode v = variable(g.to(), "geo point", c);
        if (!v.isObject() || !v.path("lon").isNumber() || !v.path("lat").isNumber()) {
          throw typeError(g.to(), "geo point", "invalid type: " + Validation.kind(v) + ", expected a geo point {lon, lat}");
        }
        return Geo.haversineMeters(g.lat(), g.lon(), v.get("lat").doubleValue(), v.get("lon").doubleValue());
      }
      case Expression.Datetime d -> {
        return d.micros() / 1_000_000.0;
      }
      case Expression.DatetimeKey d -> {
        JsonNode v = variable(d.key(), "datetime", c);
        if (!v.isTextual()) {
          throw typeError(d.key(), "datetime", "Value is not a string");
        }
        Long micros = Datetimes.parseMicros(v.textValue());
        if (micros == null) {
          throw typeError(d.key(), "datetime", "input contains invalid characters");
        }
        return micros / 1_000_000.0;
      }
      case Expression.Nary n -> {
        double acc = n.mult() ? 1 : 0;
        for (Expression arg : n.args()) {
          double x = eval(arg, c);
          if (n.mult() && x == 0) {
            return 0;
          }
          acc = n.mult() ? acc * x : acc + x;
        }
        return acc;
      }
      case Expression.Unary u -> {
        double x = eval(u.arg(), c);
        return switch (u.op()) {
          case NEG -> -x;
          case ABS -> Math.abs(x);
          case SQRT -> finite(Math.sqrt(x), "√" + rust(x));
          case EXP -> finite(Math.exp(x), "exp(" + rust(x) + ")");
          case LOG10 -> finite(Math.log10(x), "log10(" + rust(x) + ")");
          case LN -> finite(Math.log(x), "ln(" + rust(x) + ")");
        };
      }
      case Expression.Div d -> {
        double left = eval(d.left(), c);
        if (left == 0) {
          return 0;
        }
        double right = eval(d.right(), c);
        if (right == 0 && d.byZeroDefault() != null) {
          return d.byZeroDefault();
        }
        return finite(left / right, rust(left) + "/" + rust(right));
      }
      case Expression.Pow p -> {
        double base = eval(p.base(), c);
        double exponent = eval(p.exponent(), c);
        return finite(Math.pow(base, exponent), rust(base) + "^" + rust(exponent));
      }
      case Expression.Decay d -> {
        double x = eval(d.x(), c);
        double target = d.target() == null ? 0 : eval(d.target(), c);
        double diff = Math.abs(x - target);
        return switch (d.kind()) {
          case EXP -> Math.exp(d.lambda() * diff);
          case GAUSS -> Math.exp(d.lambda() * diff * diff);
          case LIN -> Math.max(-d.lambda() * diff + 1.0, 0.0);
        };
      }
    }
  }

  private static double finite(double value, String expression) {
    if (Double.isFinite(value)) {
      return value;
    }
    throw ApiException.wrongInput("The expression " + expression + " = " + rust(value) + " produced a non-finite number");
  }

  private static ApiException typeError(JsonPath key, String type, String description) {
    return ApiException.wrongInput("Expected " + type + " value for " + key
        + " in the payload and/or in the formula defaults. Error: " + description);
  }

  /** The value of a payload variable: its one value, an array of its values, or the default. */
  private static JsonNode variable(JsonPath key, String type, Evaluation c) throws IOException {
    List<JsonNode> values = payloadValues(key, c.candidate().payload(), c.payload());
    if (values.isEmpty()) {
      JsonNode d = c.f().payloadDefaults().get(key.toString());
      if (d == null) {
        throw typeError(key, type, "No value found in a payload nor defaults");
      }
      return d;
    }
    return values.size() == 1 ? values.get(0) : F.arrayNode().addAll(values);
  }

  /**
   * The values Qdrant reads for a variable: those of its payload index when the key has one (only
   * values of the index's type), else the payload's; arrays are flattened one level.
   */
  private static List<JsonNode> payloadValues(JsonPath key, JsonNode payload, PayloadSchema schema) {
    List<JsonNode> values = new ArrayList<>();
    boolean wildcard = !key.rest().isEmpty() && key.rest().getLast() instanceof JsonPath.Wildcard;
    for (JsonNode v : key.values(payload)) {
      if (v.isArray() && !wildcard) {
        v.forEach(values::add);
      } else {
        values.add(v);
      }
    }
    FieldIndex index = schema.get(key);
    if (index == null) {
      return values;
    }
    return switch (index.type()) {
      case INTEGER -> values.stream().filter(v -> v.isIntegralNumber() && v.canConvertToLong()).toList();
      case FLOAT -> values.stream().filter(JsonNode::isNumber).toList();
      case KEYWORD -> values.stream().filter(JsonNode::isTextual).toList();
      case UUID -> values.stream().filter(v -> v.isTextual() && PointId.parseUuid(v.textValue()) != null)
          .map(v -> (JsonNode) F.textNode(PointId.parseUuid(v.textValue()).toString())).toList();
      case BOOL -> values.stream().filter(JsonNode::isBoolean).toList();
      case DATETIME -> values.stream().filter(v -> v.isTextual() && Datetimes.parseMicros(v.textValue()) != null).toList();
      case GEO -> values.stream().filter(v -> v.isObject() && v.path("lon").isNumber() && v.path("lat").isNumber()).toList();
      case TEXT -> values;
    };
  }
}
