package io.quiver.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Attributes;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
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

  private static <Q, R> ServerMethodDefinition<InputStream, R> decodedInCall(ServerMethodDefinition<Q, R> definition) {
    MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
    ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
    MethodDescriptor<InputStream, R> raw = method.toBuilder(STREAM, method.getResponseMarshaller()).build();
    return ServerMethodDefinition.create(raw, (call, headers) -> {
      ServerCall.Listener<Q> listener = handler.startCall(new TypedCall<>(call, method), headers);
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(InputStream message) {
          listener.onMessage(method.parseRequest(message));
        }

        @Override
        public void onHalfClose() {
          listener.onHalfClose();
        }

        @Override
        public void onCancel() {
          listener.onCancel();
        }

        @Override
        public void onComplete() {
          listener.onComplete();
        }

        @Override
        public void onReady() {
          listener.onReady();
        }
      };
    });
  }

  /** The transport's call seen with the method's own request type: answers and everything else pass through. */
  private static final class TypedCall<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> method;

    TypedCall(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }
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
