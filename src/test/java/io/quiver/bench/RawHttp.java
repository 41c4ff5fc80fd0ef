package io.quiver.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking HTTP/1.1 client for benchmarks: one keep-alive connection per thread, no
 * executor, no futures, so the client's own CPU stays small next to the server's. Real clients run
 * in another process or on another machine; on a shared 2-core box a heavy in-process client would
 * be billed to the server. Handles {@code content-length} and chunked responses; not a general client.
 */
final class RawHttp {
  private final String host;
  private final int port;
  private final ThreadLocal<Connection> connections = new ThreadLocal<>();

  RawHttp(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** A response: status and body text. */
  record Response(int status, String body) {}

  Response send(String method, String path, String body) throws IOException {
    Connection c = connections.get();
    if (c == null || c.socket.isClosed()) {
      c = new Connection(new Socket());
      c.socket.setTcpNoDelay(true);
      c.socket.connect(new InetSocketAddress(host, port), 5000);
      c.socket.setSoTimeout(120_000);
      c.in = new BufferedInputStream(c.socket.getInputStream(), 64 * 1024);
      c.out = c.socket.getOutputStream();
      connections.set(c);
    }
    byte[] payload = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    String head = method + " " + path + " HTTP/1.1\r\nhost: " + host + ":" + port
        + "\r\ncontent-type: application/json\r\ncontent-length: " + payload.length + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[headBytes.length + payload.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(payload, 0, request, headBytes.length, payload.length);
    c.out.write(request);
    c.out.flush();
    return read(c);
  }

  private static Response read(Connection c) throws IOException {
    String statusLine = line(c.in);
    int status = Integer.parseInt(statusLine.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    boolean close = false;
    for (String h = line(c.in); !h.isEmpty(); h = line(c.in)) {
      int colon = h.indexOf(':');
      String name = h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
        case "connection" -> close = value.equalsIgnoreCase("close");
        default -> { }
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      for (int size = Integer.parseInt(line(c.in).split(";")[0].trim(), 16); size > 0;
          size = Integer.parseInt(line(c.in).split(";")[0].trim(), 16)) {
        body.write(c.in.readNBytes(size));
        line(c.in);
      }
      line(c.in);
    } else if (length >= 0) {
      body.write(c.in.readNBytes((int) length));
    }
    if (close) {
      c.socket.close();
    }
    return new Response(status, body.toString(StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder(64);
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed");
      }
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }

  private static final class Connection {
    final Socket socket;
    InputStream in;
    OutputStream out;

    Connection(Socket socket) {
      this.socket = socket;
    }
  }
}
