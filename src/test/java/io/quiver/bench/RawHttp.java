package io.quiver.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A minimal blocking HTTP/1.1 client for benchmarks: one keep-alive connection per thread, no
 * executor, no futures, so the client's own CPU stays small next to the server's (as wrk's would).
 * Real clients run in another process or on another machine; on a shared 2-core box a heavy
 * in-process client would be billed to the server. A request can be prepared once ({@link
 * #request}) and sent many times ({@link #exchange}); the answer's head is parsed from the bytes read
 * and its body is left in the connection's buffer. Handles {@code content-length} and chunked
 * responses; not a general client.
 */
final class RawHttp {
  /** The blank line that ends an HTTP head. */
  static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};
  private static final byte[] LINE_END = {'\r', '\n'};

  private final String host;
  private final int port;
  private final ThreadLocal<Connection> connections = new ThreadLocal<>();

  RawHttp(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** A response: status and body text. */
  record Response(int status, String body) {}

  /**
   * A response whose body is {@code bytes[from, to)}: the connection's buffer, valid until the same
   * thread's next exchange.
   */
  record Raw(int status, byte[] bytes, int from, int to) {
    String text() {
      return new String(bytes, from, to - from, StandardCharsets.UTF_8);
    }
  }

  Response send(String method, String path, String body) throws IOException {
    Raw r = exchange(request(method, path, body));
    return new Response(r.status(), r.text());
  }

  /** A request's bytes, head and body, to send with {@link #exchange} as often as wanted. */
  byte[] request(String method, String path, String body) {
    byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    String head = method + " " + path + " HTTP/1.1\r\nhost: " + host + ":" + port
        + "\r\ncontent-type: application/json\r\ncontent-length: " + payload.length + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] request = Arrays.copyOf(headBytes, headBytes.length + payload.length);
    System.arraycopy(payload, 0, request, headBytes.length, payload.length);
    return request;
  }

  /** Sends a prepared request on this thread's connection and reads the answer. */
  Raw exchange(byte[] request) throws IOException {
    Connection c = connections.get();
    if (c == null || c.socket.isClosed()) {
      Socket socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), 5000);
      socket.setSoTimeout(120_000);
      c = new Connection(socket);
      connections.set(c);
    }
    c.out.write(request);
    c.out.flush();
    return c.read();
  }

  private static final class Connection {
    final Socket socket;
    final InputStream in;
    final OutputStream out;
    /** Bytes read and not consumed yet: {@code [start, end)}. */
    byte[] buf = new byte[64 * 1024];
    int start;
    int end;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    Raw read() throws IOException {
      int headEnd;
      while ((headEnd = indexOf(HEAD_END, start)) < 0) {
        fill();
      }
      int status = (buf[start + 9] - '0') * 100 + (buf[start + 10] - '0') * 10 + (buf[start + 11] - '0');
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      for (int line = lineEnd(start) + 2; line < headEnd; line = lineEnd(line) + 2) {
        int eol = lineEnd(line);
        int colon = line;
        while (colon < eol && buf[colon] != ':') {
          colon++;
        }
        String name = new String(buf, line, colon - line, StandardCharsets.US_ASCII).trim().toLowerCase(java.util.Locale.ROOT);
        String value = colon < eol ? new String(buf, colon + 1, eol - colon - 1, StandardCharsets.US_ASCII).trim() : "";
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
          case "connection" -> close = value.equalsIgnoreCase("close");
          default -> { }
        }
      }
      start = headEnd + HEAD_END.length;
      Raw raw;
      if (chunked) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size = chunkSize(); size > 0; size = chunkSize()) {
          need(size + 2);
          body.write(buf, start, size);
          start += size + 2;
        }
        need(2);
        start += 2;
        byte[] all = body.toByteArray();
        raw = new Raw(status, all, 0, all.length);
      } else {
        int n = (int) Math.max(0, length);
        need(n);
        raw = new Raw(status, buf, start, start + n);
        start += n;
      }
      if (close) {
        socket.close();
      }
      return raw;
    }

    /** A chunk's size line, consumed. */
    private int chunkSize() throws IOException {
      int eol;
      while ((eol = indexOf(LINE_END, start)) < 0) {
        fill();
      }
      String line = new String(buf, start, eol - start, StandardCharsets.US_ASCII);
      start = eol + 2;
      return Integer.parseInt(line.split(";")[0].trim(), 16);
    }

    /** Reads until {@code n} unconsumed bytes are in the buffer. */
    private void need(int n) throws IOException {
      while (end - start < n) {
        fill();
      }
    }

    /** Reads more: the unconsumed bytes move to the buffer's start, which grows when they fill it. */
    private void fill() throws IOException {
      if (start > 0) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        start = 0;
      }
      if (end == buf.length) {
        buf = Arrays.copyOf(buf, buf.length * 2);
      }
      int n = in.read(buf, end, buf.length - end);
      if (n < 0) {
        throw new IOException("connection closed");
      }
      end += n;
    }

    /** Where the line starting at {@code from} ends (its CR), within the head already read. */
    private int lineEnd(int from) {
      int i = from;
      while (buf[i] != '\r') {
        i++;
      }
      return i;
    }

    private int indexOf(byte[] pattern, int from) {
      return RawHttp.indexOf(buf, pattern, from, end);
    }
  }

  /** Where {@code pattern} first occurs in {@code b[from, end)}; -1 when it does not. */
  static int indexOf(byte[] b, byte[] pattern, int from, int end) {
    outer:
    for (int i = from; i + pattern.length <= end; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (b[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
