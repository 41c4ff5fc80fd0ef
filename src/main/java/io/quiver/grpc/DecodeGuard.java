package io.quiver.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Messages are decoded inside the call ({@link #decodedInCall}), so that a message that does not
 * decode (truncated, wrong wire type, bad UTF-8, over the size bound once decompressed) ends with a
 * clean status instead of grpc-java's UNKNOWN: INVALID_ARGUMENT naming the protobuf error, or the
 * status the decoder gave (RESOURCE_EXHAUSTED for size). Innermost interceptor.
 */
final class DecodeGuard implements ServerInterceptor {
  /** Requests as the transport's stream, decoded by the call; the generated marshaller of the answers kept. */
  private static final MethodDescriptor.Marshaller<InputStream> STREAM = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  /**
   * {@code service} with its requests decoded inside the call, where this guard sees a bad one.
   * Unlike grpc-java's {@code ServerInterceptors.useInputStreamMessages}, which turns answers into
   * streams too (each answer serialised into a stream, buffered and copied again: two 8 KB buffers
   * an answer, a fifth of the bytes a gRPC search allocated), answers keep their generated
   * marshaller and are written straight to the transport.
   */
  static ServerServiceDefinition decodedInCall(ServerServiceDefinition service) {
    List<ServerMethodDefinition<InputStream, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName())
        .setSchemaDescriptor(service.getServiceDescriptor().getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<InputStream, ?> wrapped = decodedInCall(m);
      methods.add(wrapped);
      descriptor.addMethod(wrapped.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  /**
   * The method taking the transport's stream. A call's request type shows only in its method
   * descriptor and its listener's {@code onMessage}, so the transport's call and the method's
   * listener are passed on as they are (the casts only rename that type) with those two replaced.
   */
  @SuppressWarnings("unchecked")
  private static <Q, R> ServerMethodDefinition<InputStream, R> decodedInCall(ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    MethodDescriptor<InputStream, R> raw = method.toBuilder(STREAM, method.getResponseMarshaller()).build();
    return ServerMethodDefinition.create(raw, (call, headers) -> {
      ServerCall<Q, R> typed = new ForwardingServerCall.SimpleForwardingServerCall<>((ServerCall<Q, R>) (ServerCall<?, R>) call) {
        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
          return method;
        }
      };
      ServerCall.Listener<Q> listener = handler.startCall(typed, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          (ServerCall.Listener<InputStream>) (ServerCall.Listener<?>) listener) {
        @Override
        public void onMessage(InputStream message) {
          listener.onMessage(method.parseRequest(message));
        }
      };
    });
  }

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
