package io.quiver.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiver.request.Request;
import io.quiver.request.RequestSamples;
import io.quiver.request.RequestSamples.Sample;
import io.quiver.request.StorageOp;
import io.quiver.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access belongs to the operation, and every edge agrees: each REST route that carries a storage
 * operation has that operation's access class, every operation but the node's internal ones is
 * served by a route, and the JSON event bus parses what REST parses into the same request (so the
 * write lock and the API keys judge both alike).
 */
@Timeout(60)
class AccessAgreementTest {
  private static List<Route> routes;

  @BeforeAll
  static void readTheRouteTable(@TempDir Path dir) throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      routes = node.deployment.router().routes();
    }
  }

  @Test
  void everyRouteOfAnOperationHasItsAccess() {
    for (Route route : routes) {
      if (route.op() != null) {
        assertEquals(route.op().access(), route.access(), route.key());
      }
    }
  }

  @Test
  void everyOperationButTheInternalOnesIsServed() {
    Set<StorageOp> served = routes.stream().map(Route::op).filter(op -> op != null)
        .collect(Collectors.toCollection(() -> EnumSet.noneOf(StorageOp.class)));
    Set<StorageOp> expected = EnumSet.complementOf(EnumSet.copyOf(RequestSamples.INTERNAL));
    assertEquals(expected, served);
  }

  @Test
  void snapshotUploadsRecoverAndHaveTheAccessOfARecovery() {
    List<Route> uploads = routes.stream().filter(r -> r.path().endsWith("/snapshots/upload")).toList();
    assertEquals(2, uploads.size(), "collection and shard uploads");
    uploads.forEach(r -> assertEquals(StorageOp.RECOVER_SNAPSHOT.access(), r.access(), r.key()));
  }

  @Test
  void theBusParsesWhatRestParsesIntoTheSameRequest() {
    for (Sample s : RequestSamples.all()) {
      Request rest = s.parse();
      Request bus = StorageBusVerticle.parse(message(s));
      assertEquals(rest.access(), bus.access(), s.toString()); // the lock and the API keys judge both alike
      assertEquals(rest, bus, s.toString());
    }
  }

  /** The bus message of a sample: {@code {"op", "collection", "body", "params"}}, the op in lower case as clients send it. */
  private static JsonObject message(Sample s) {
    JsonObject m = new JsonObject().put("op", s.op().name().toLowerCase(Locale.ROOT)).put("collection", s.collection());
    if (s.body() != null) {
      m.put("body", new JsonObject(s.bodyTree().toString()));
    }
    JsonObject params = new JsonObject();
    s.params().forEach(params::put);
    return m.put("params", params);
  }
}
