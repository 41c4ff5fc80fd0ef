package io.quiver.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Messages are decoded inside the call ({@code ServerInterceptors.useInputStreamMessages}), so that a
 * message that does not decode (truncated, wrong wire type, bad UTF-8, over the size bound once
 * decompressed) ends with a clean status instead of grpc-java's UNKNOWN: INVALID_ARGUMENT naming the
 * protobuf error, or the status the decoder gave (RESOURCE_EXHAUSTED for size). Innermost interceptor.
 */
final class DecodeGuard implements ServerInterceptor {
  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      private boolean closed;

      @Override
      public void onMessage(Q message) {
        try {
          super.onMessage(message);
        } catch (StatusRuntimeException e) {
          closed = true;
          call.close(refusal(e), new Metadata());
        }
      }

      @Override
      public void onHalfClose() {
        if (!closed) {
          super.onHalfClose();
        }
      }
    };
  }

  private static Status refusal(StatusRuntimeException e) {
    Status s = e.getStatus();
    if (s.getCode() == Status.Code.INTERNAL && s.getCause() instanceof InvalidProtocolBufferException bad) {
      return Status.INVALID_ARGUMENT.withDescription("Unable to decode the request: " + bad.getMessage());
    }
    return s;
  }
}
