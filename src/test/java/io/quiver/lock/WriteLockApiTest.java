package io.quiver.lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Under the write lock every write route answers 403 and changes nothing; deletes and reads still work. */
@Timeout(120)
class WriteLockApiTest {
  @TempDir static Path dir;
  static TestNode node;

  /** Every route that creates collections or adds data, with a body that would succeed unlocked. */
  static final List<String[]> WRITES = List.of(
      new String[] {"PUT", "/collections/new", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"},
      new String[] {"PUT", "/collections/c/points?wait=true", "{\"points\": [{\"id\": 9, \"vector\": [1, 2, 3, 4]}]}"},
      new String[] {"PUT", "/collections/c/points?wait=true", "{\"batch\": {\"ids\": [9], \"vectors\": [[1, 2, 3, 4]]}}"},
      new String[] {"PUT", "/collections/c/points/vectors?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [9, 9, 9, 9]}]}"},
      new String[] {"POST", "/collections/c/points/payload?wait=true", "{\"payload\": {\"x\": 1}, \"points\": [1]}"},
      new String[] {"PUT", "/collections/c/points/payload?wait=true", "{\"payload\": {\"x\": 1}, \"points\": [1]}"},
      new String[] {"PUT", "/collections/c/index?wait=true", "{\"field_name\": \"city\", \"field_schema\": \"keyword\"}"},
      new String[] {"POST", "/collections/c/points/batch?wait=true",
          "{\"operations\": [{\"delete\": {\"points\": [2]}}, {\"upsert\": {\"points\": [{\"id\": 9, \"vector\": [1, 2, 3, 4]}]}}]}"});

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
    ok(node.send("PUT", "/collections/c", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}"));
    ok(node.send("PUT", "/collections/c/points?wait=true", """
        {"points": [
          {"id": 1, "vector": [1, 0, 0, 0], "payload": {"city": "Berlin", "a": 1}},
          {"id": 2, "vector": [0, 1, 0, 0], "payload": {"city": "Paris", "a": 2}},
          {"id": 3, "vector": [0, 0, 1, 0], "payload": {"city": "Rome", "a": 3}},
          {"id": 4, "vector": [0, 0, 0, 1], "payload": {"city": "Oslo", "a": 4}}
        ]}"""));
    ok(node.send("PUT", "/collections/c/index?wait=true", "{\"field_name\": \"a\", \"field_schema\": \"integer\"}"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.send("POST", "/locks", "{\"write\": false}");
    node.close();
  }

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  String snapshot() throws Exception {
    return node.send("POST", "/collections/c/points/scroll", "{\"limit\": 100, \"with_vector\": true}").result().toString()
        + node.get("/collections").result()
        + node.get("/collections/c").result().get("payload_schema");
  }

  @Test
  void writesAreRefusedAndChangeNothingDeletesStillWork() throws Exception {
    String before = snapshot();
    long rejectedBefore = rejected();
    var previous = node.send("POST", "/locks", "{\"write\": true, \"error_message\": \"backup running\"}");
    ok(previous);
    assertEquals(false, previous.result().get("write").asBoolean());
    try {
      for (String[] w : WRITES) {
        var r = node.send(w[0], w[1], w[2]);
        assertEquals(403, r.status(), w[0] + " " + w[1] + " -> " + r.body());
        assertEquals("Storage locked: backup running", r.error());
      }
      assertEquals(before, snapshot(), "refused writes changed nothing");

      ok(node.send("POST", "/collections/c/points/scroll", "{}"));
      ok(node.send("POST", "/collections/c/points/count", "{}"));
      ok(node.send("POST", "/collections/c/points/payload/delete?wait=true", "{\"keys\": [\"a\"], \"points\": [1]}"));
      ok(node.send("POST", "/collections/c/points/payload/clear?wait=true", "{\"points\": [2]}"));
      ok(node.send("POST", "/collections/c/points/vectors/delete?wait=true", "{\"points\": [3], \"vector\": [\"\"]}"));
      ok(node.send("POST", "/collections/c/points/batch?wait=true", "{\"operations\": [{\"delete\": {\"points\": [4]}}]}"));
      ok(node.send("POST", "/collections/c/points/delete?wait=true", "{\"points\": [3]}"));
      ok(node.send("DELETE", "/collections/c/index/a?wait=true", null));
      ok(node.send("PATCH", "/collections/c", "{\"optimizers_config\": {\"indexing_threshold\": 20000}}"));
      ok(node.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"c\", \"alias_name\": \"x\"}}]}"));
      assertEquals(2, node.send("POST", "/collections/c/points/count", "{}").result().get("count").asInt());
      assertTrue(node.get("/metrics").body().contains("quiver_write_locked 1"));
    } finally {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
    ok(node.send("PUT", "/collections/c/points?wait=true", "{\"points\": [{\"id\": 9, \"vector\": [1, 2, 3, 4]}]}"));
    assertEquals(rejectedBefore + WRITES.size(), rejected());
  }

  static long rejected() throws Exception {
    return node.get("/metrics").body().lines().filter(l -> l.startsWith("quiver_rejected_writes_total "))
        .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(' ') + 1).trim())).findFirst().orElseThrow();
  }

  @Test
  void deleteCollectionIsAllowedUnderTheLock() throws Exception {
    ok(node.send("PUT", "/collections/doomed", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}"));
    ok(node.send("POST", "/locks", "{\"write\": true}"));
    try {
      var r = node.send("PUT", "/collections/other", "{\"vectors\": {\"size\": 2, \"distance\": \"Dot\"}}");
      assertEquals(403, r.status());
      assertEquals("Storage locked: Write operations are forbidden", r.error());
      ok(node.send("DELETE", "/collections/doomed", null));
    } finally {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
  }
}
