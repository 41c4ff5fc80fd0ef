package io.quiver.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * Plain grpc-java clients for a {@link TestNode}'s gRPC port: channels, API keys as metadata, and
 * unary calls of raw bytes to any method name (whatever the bytes are, the server has to answer).
 */
public final class GrpcCalls {
  /** Passes bytes through unchanged, both ways. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private GrpcCalls() {}

  /** A plaintext channel to the node's gRPC port on 127.0.0.1. */
  public static ManagedChannel channel(TestNode node) {
    return ManagedChannelBuilder.forAddress("127.0.0.1", node.deployment.grpc().actualPort()).usePlaintext().build();
  }

  /** The channel sending {@code name: value} metadata with every call ({@code api-key}, {@code authorization}). */
  public static Channel withHeader(Channel channel, String name, String value) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
  }

  /** A unary method of raw bytes, named as {@code qdrant.Points/Upsert}. */
  public static MethodDescriptor<byte[], byte[]> raw(String fullMethodName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullMethodName).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
  }

  /** What a raw call ended with: the status, and the response bytes when it is OK. */
  public record Outcome(Status status, byte[] response) {
    public Status.Code code() {
      return status.getCode();
    }

    @Override
    public String toString() {
      return status.getCode() + (status.getDescription() == null ? "" : " \"" + status.getDescription() + "\"");
    }
  }

  /** Sends {@code body} to the method within {@code timeoutMs}; never throws for a status. */
  public static Outcome call(Channel channel, String fullMethodName, byte[] body, long timeoutMs) {
    try {
      byte[] response = ClientCalls.blockingUnaryCall(channel, raw(fullMethodName),
          CallOptions.DEFAULT.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS), body);
      return new Outcome(Status.OK, response);
    } catch (StatusRuntimeException e) {
      return new Outcome(e.getStatus(), null);
    }
  }

  /** Closes the channel and waits a little for it. */
  public static void close(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
