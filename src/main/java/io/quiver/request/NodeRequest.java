package io.quiver.request;

/** Requests about the node's storage as a whole; all are reads. */
public sealed interface NodeRequest extends Request {
  @Override
  default Access access() {
    return Access.READ;
  }

  /** Readiness and mode: {@code {"ready": bool, "mode": "normal"|"recovery", ...}}. */
  record Status() implements NodeRequest {}

  /** Per-collection figures for {@code /telemetry}. */
  record Telemetry() implements NodeRequest {}

  record ListCollections() implements NodeRequest {}

  /** Every alias of the node. */
  record ListAliases() implements NodeRequest {}
}
