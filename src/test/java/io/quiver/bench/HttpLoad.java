package io.quiver.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Closed-loop HTTP/1.1 load as wrk drives it: a few client threads, each keeping its share of the
 * connections busy from one selector, one request in flight per connection, the next sent as soon as
 * an answer is complete. On a machine whose cores the server shares, a thread per connection would
 * bill the server for the client's context switches (8 blocking threads on 2 cores preempt the
 * server's threads several times per request); a selector thread serves several connections per
 * wake-up. Answers must be 200 with a {@code content-length} (what the server sends for JSON); the
 * body is not read beyond its length. Not a general client.
 */
final class HttpLoad {
  private HttpLoad() {}

  /**
   * Runs for {@code seconds}: request {@code i % nq} (prepared bytes, head and body) goes out on the
   * connections in turn. Returns each thread's latencies in nanoseconds.
   */
  static List<long[]> run(String host, int port, IntFunction<byte[]> requests, int nq, int threads, int connections,
      double seconds, ExecutorService pool) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<Future<long[]>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int share = connections / threads + (t < connections % threads ? 1 : 0);
      int first = t * nq / threads;
      futures.add(pool.submit(() -> drive(host, port, requests, nq, first, share, deadline)));
    }
    List<long[]> out = new ArrayList<>();
    for (Future<long[]> f : futures) {
      out.add(f.get());
    }
    return out;
  }

  private static long[] drive(String host, int port, IntFunction<byte[]> requests, int nq, int first, int connections,
      long deadline) throws IOException {
    long[] latencies = new long[4096];
    int count = 0;
    int next = first;
    try (Selector selector = Selector.open()) {
      List<Conn> open = new ArrayList<>();
      try {
        for (int c = 0; c < connections; c++) {
          SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
          ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
          ch.configureBlocking(false);
          Conn conn = new Conn(ch);
          open.add(conn);
          conn.key = ch.register(selector, 0, conn);
          conn.send(requests.apply(next++ % nq));
        }
        int inFlight = connections;
        while (inFlight > 0) {
          selector.select(1000);
          for (SelectionKey key : selector.selectedKeys()) {
            Conn conn = (Conn) key.attachment();
            if (key.isValid() && key.isWritable()) {
              conn.flush();
            }
            if (key.isValid() && key.isReadable() && conn.receive()) {
              long now = System.nanoTime();
              if (count == latencies.length) {
                latencies = Arrays.copyOf(latencies, count * 2);
              }
              latencies[count++] = now - conn.sent;
              if (now < deadline) {
                conn.send(requests.apply(next++ % nq));
              } else {
                conn.key.interestOps(0);
                inFlight--;
              }
            }
          }
          selector.selectedKeys().clear();
        }
      } finally {
        for (Conn conn : open) {
          conn.channel.close();
        }
      }
    }
    return Arrays.copyOf(latencies, count);
  }

  /** One connection: the request being written, and the answer being read. */
  private static final class Conn {
    private static final byte[] LENGTH = "\ncontent-length:".getBytes(StandardCharsets.US_ASCII);

    final SocketChannel channel;
    SelectionKey key;
    ByteBuffer out;
    ByteBuffer in = ByteBuffer.allocate(64 * 1024);
    long sent;

    Conn(SocketChannel channel) {
      this.channel = channel;
    }

    void send(byte[] request) throws IOException {
      sent = System.nanoTime();
      out = ByteBuffer.wrap(request);
      in.clear();
      flush();
    }

    /** Writes what the socket takes; waits for writability while some is left, else for the answer. */
    void flush() throws IOException {
      channel.write(out);
      key.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    }

    /** Reads what arrived; true once the whole answer is in. */
    boolean receive() throws IOException {
      if (!in.hasRemaining()) {
        ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
        in.flip();
        in = bigger.put(in);
      }
      if (channel.read(in) < 0) {
        throw new IOException("connection closed by the server");
      }
      byte[] b = in.array();
      int end = in.position();
      int head = RawHttp.indexOf(b, RawHttp.HEAD_END, 0, end);
      if (head < 0) {
        return false;
      }
      int status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
      if (status != 200) {
        throw new IOException("status " + status + ": " + new String(b, 0, end, StandardCharsets.UTF_8));
      }
      int length = contentLength(b, head);
      return end >= head + RawHttp.HEAD_END.length + length;
    }

    private static int contentLength(byte[] b, int headEnd) throws IOException {
      for (int i = 0; i + LENGTH.length < headEnd; i++) {
        if (b[i] == '\n' && matchesIgnoreCase(b, i)) {
          int j = i + LENGTH.length;
          while (b[j] == ' ') {
            j++;
          }
          int n = 0;
          for (; b[j] >= '0' && b[j] <= '9'; j++) {
            n = n * 10 + (b[j] - '0');
          }
          return n;
        }
      }
      throw new IOException("an answer without content-length");
    }

    private static boolean matchesIgnoreCase(byte[] b, int at) {
      for (int k = 0; k < LENGTH.length; k++) {
        if (Character.toLowerCase(b[at + k]) != LENGTH[k]) {
          return false;
        }
      }
      return true;
    }
  }
}
