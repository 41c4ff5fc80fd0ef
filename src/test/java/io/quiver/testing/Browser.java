package io.quiver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.json.Json;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Headless Chromium driven over the W3C WebDriver protocol: a chromedriver process of its own on a
 * free loopback port, one session, and the dozen commands the dashboard's end-to-end tests need.
 * It speaks the protocol's JSON directly (java.net.http), so the tests need no client library and
 * no driver download: the browser and driver are the system's ({@code chromium} and {@code
 * chromedriver} on the PATH, or the {@code CHROME_BIN} and {@code CHROMEDRIVER} variables). Close it
 * to end the session and the driver.
 */
public final class Browser implements AutoCloseable {
  private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Process driver;
  private final String base;
  private String session;

  /** A failed WebDriver command, with the protocol's error code ({@code no such element}, ...). */
  public static final class WebDriverException extends RuntimeException {
    public final String error;

    WebDriverException(String error, String message) {
      super(error + ": " + message);
      this.error = error;
    }
  }

  private Browser(Process driver, String base) {
    this.driver = driver;
    this.base = base;
  }

  /** The browser and its driver, when both are installed. */
  public static Optional<Path[]> installation() {
    Optional<Path> chrome = find("CHROME_BIN", "chromium", "chromium-browser", "google-chrome");
    Optional<Path> driver = find("CHROMEDRIVER", "chromedriver");
    return chrome.isPresent() && driver.isPresent() ? Optional.of(new Path[] {chrome.get(), driver.get()}) : Optional.empty();
  }

  private static Optional<Path> find(String variable, String... names) {
    String explicit = System.getenv(variable);
    if (explicit != null && !explicit.isBlank()) {
      return Optional.of(Path.of(explicit)).filter(Files::isExecutable);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : names) {
        Path p = Path.of(dir, name);
        if (!dir.isEmpty() && Files.isExecutable(p)) {
          return Optional.of(p);
        }
      }
    }
    return Optional.empty();
  }

  /** Starts chromedriver and a headless session with a 1280x800 window; driver output goes to {@code log}. */
  public static Browser start(Path log) throws Exception {
    Path[] installed = installation().orElseThrow(() -> new IllegalStateException("chromium or chromedriver not installed"));
    int port;
    try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Files.createDirectories(log.getParent());
    Process process = new ProcessBuilder(installed[1].toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    var browser = new Browser(process, "http://127.0.0.1:" + port);
    try {
      browser.awaitDriver();
      browser.newSession(installed[0]);
      return browser;
    } catch (Exception | Error e) {
      browser.close();
      throw e;
    }
  }

  private void awaitDriver() throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!driver.isAlive()) {
        throw new IllegalStateException("chromedriver exited with " + driver.exitValue());
      }
      try {
        if (command("GET", "/status", null).path("ready").asBoolean()) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("chromedriver not ready within " + WAIT);
  }

  private void newSession(Path chrome) throws Exception {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ObjectNode options = body.putObject("capabilities").putObject("alwaysMatch")
        .put("browserName", "chrome").putObject("goog:chromeOptions");
    options.put("binary", chrome.toString());
    options.putArray("args").add("--headless=new").add("--no-sandbox").add("--disable-dev-shm-usage")
        .add("--disable-gpu").add("--window-size=1280,800").add("--lang=en-US");
    session = command("POST", "/session", body).path("sessionId").asText();
    viewport(1280, 800);
  }

  /** Sizes the window so that the page itself (not the window with its frame) has this size. */
  public void viewport(int width, int height) {
    session("POST", "/window/rect", object("width", width, "height", height));
    Object inner = script("return [window.innerWidth, window.innerHeight];");
    if (inner instanceof List<?> l && l.size() == 2) {
      int dw = width - ((Number) l.get(0)).intValue();
      int dh = height - ((Number) l.get(1)).intValue();
      if (dw != 0 || dh != 0) {
        session("POST", "/window/rect", object("width", width + dw, "height", height + dh));
      }
    }
  }

  private JsonNode command(String method, String path, JsonNode body) throws IOException, InterruptedException {
    var request = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("content-type", "application/json; charset=utf-8")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(body)))
        .build();
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode value = Json.MAPPER.readTree(response.body()).path("value");
    if (response.statusCode() != 200) {
      throw new WebDriverException(value.path("error").asText("unknown error"), value.path("message").asText(response.body()));
    }
    return value;
  }

  private JsonNode session(String method, String path, JsonNode body) {
    try {
      return command(method, "/session/" + session + path, body);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode object(Object... pairs) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    for (int i = 0; i < pairs.length; i += 2) {
      o.set((String) pairs[i], Json.MAPPER.valueToTree(pairs[i + 1]));
    }
    return o;
  }

  public void open(String url) {
    session("POST", "/url", object("url", url));
  }

  /** The elements matching a CSS selector now (maybe none). */
  public List<String> all(String css) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : session("POST", "/elements", object("using", "css selector", "value", css))) {
      out.add(e.path(ELEMENT).asText());
    }
    return out;
  }

  /** The first element matching a CSS selector, waiting for it to appear. */
  public String find(String css) {
    String[] found = new String[1];
    waitUntil("an element " + css, () -> {
      List<String> list = all(css);
      found[0] = list.isEmpty() ? null : list.get(0);
      return found[0] != null;
    });
    return found[0];
  }

  public String text(String element) {
    return session("GET", "/element/" + element + "/text", null).asText();
  }

  public String attribute(String element, String name) {
    JsonNode v = session("GET", "/element/" + element + "/attribute/" + name, null);
    return v.isNull() ? null : v.asText();
  }

  public boolean enabled(String element) {
    return session("GET", "/element/" + element + "/enabled", null).asBoolean();
  }

  /** Clicks an element once it is enabled (dialog buttons enable themselves after a confirmation). */
  public void click(String css) {
    waitUntil(css + " enabled", () -> enabled(find(css)));
    session("POST", "/element/" + find(css) + "/click", object());
  }

  public void type(String css, String text) {
    String e = find(css);
    session("POST", "/element/" + e + "/clear", object());
    session("POST", "/element/" + e + "/value", object("text", text));
  }

  /** The text of the first element matching {@code css}, once it appears. */
  public String textOf(String css) {
    return text(find(css));
  }

  public Object script(String js, Object... args) {
    return Json.MAPPER.convertValue(session("POST", "/execute/sync", object("script", js, "args", List.of(args))), Object.class);
  }

  /** Polls {@code condition} until it holds, for up to 30 s; WebDriver errors meanwhile count as "not yet". */
  public void waitUntil(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (WebDriverException e) {
        last = e;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what + (last == null ? "" : " (" + last.getMessage() + ")"));
  }

  /** Saves a PNG of the window. */
  public Path screenshot(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(session("GET", "/screenshot", null).asText()));
    return file;
  }

  public String pageSource() {
    return session("GET", "/source", null).asText();
  }

  @Override
  public void close() throws Exception {
    try {
      if (session != null) {
        session("DELETE", "", null);
      }
    } catch (RuntimeException e) {
      // the driver goes anyway
    } finally {
      driver.descendants().forEach(ProcessHandle::destroy);
      driver.destroy();
      if (!driver.waitFor(10, TimeUnit.SECONDS)) {
        driver.destroyForcibly();
      }
    }
  }
}
