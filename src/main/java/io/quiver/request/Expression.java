package io.quiver.request;

import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import java.util.List;

/** A formula expression, as Qdrant's {@code ParsedExpression}. Evaluated in f64. */
public sealed interface Expression {
  record Constant(double value) implements Expression {}

  /** The score of a point in the n-th prefetch ({@code $score[n]}; {@code $score} is the first). */
  record Score(int prefetch) implements Expression {}

  /** A payload value: one number, or the default when the point has none. */
  record Payload(JsonPath key) implements Expression {}

  /** 1 when the point meets the condition, else 0. */
  record Condition(Filter filter) implements Expression {}

  /** Haversine distance in meters from the origin to the geo point at {@code to}. */
  record GeoDistance(double lon, double lat, JsonPath to) implements Expression {}

  /** A datetime constant, as epoch microseconds (evaluated in seconds). */
  record Datetime(long micros) implements Expression {}

  /** A datetime payload value (evaluated in seconds). */
  record DatetimeKey(JsonPath key) implements Expression {}

  /** {@code mult} (product, short-circuits on a zero) or {@code sum}. */
  record Nary(boolean mult, List<Expression> args) implements Expression {
    public Nary {
      args = List.copyOf(args);
    }
  }

  enum UnaryOp {
    NEG,
    ABS,
    SQRT,
    EXP,
    LOG10,
    LN
  }

  record Unary(UnaryOp op, Expression arg) implements Expression {}

  /** {@code left / right}; {@code byZeroDefault} (or null) when right is 0. */
  record Div(Expression left, Expression right, Double byZeroDefault) implements Expression {}

  record Pow(Expression base, Expression exponent) implements Expression {}

  enum DecayKind {
    LIN,
    EXP,
    GAUSS
  }

  /** A decay of |x - target| (target 0 when null), with its midpoint and scale folded into lambda. */
  record Decay(DecayKind kind, Expression x, Expression target, double lambda) implements Expression {}
}
