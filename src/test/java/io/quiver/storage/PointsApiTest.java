package io.quiver.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.testing.TestNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The collections and points REST API against a real node on port 0. */
@Timeout(120)
class PointsApiTest {
  @TempDir static Path dir;
  static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  TestNode.Response call(String method, String path, String body) throws Exception {
    return node.send(method, path, body);
  }

  @BeforeEach
  void fresh() throws Exception {
    call("DELETE", "/collections/c", null);
    var created = call("PUT", "/collections/c", """
        {"vectors": {"size": 4, "distance": "Dot"}}""");
    assertEquals(200, created.status(), created.body());
    var up = call("PUT", "/collections/c/points?wait=true", """
        {"points": [
          {"id": 1, "vector": [0.05, 0.61, 0.76, 0.74], "payload": {"city": "Berlin", "n": 1, "tags": ["a", "b"]}},
          {"id": 2, "vector": [0.19, 0.81, 0.75, 0.11], "payload": {"city": "London", "n": 2}},
          {"id": 3, "vector": [0.36, 0.55, 0.47, 0.94], "payload": {"city": "Moscow", "n": 3, "nested": {"x": null}}},
          {"id": "6e0a9e9c-7a0e-4b8e-9d5f-3b2c1a0f9e8d", "vector": [0.1, 0.2, 0.3, 0.4]}
        ]}""");
    assertEquals(200, up.status(), up.body());
    assertEquals("completed", up.result().get("status").asText());
  }

  @Test
  void collectionLifecycle() throws Exception {
    var info = call("GET", "/collections/c", null).result();
    assertEquals("green", info.get("status").asText());
    assertEquals(4, info.get("points_count").asInt());
    assertEquals(4, info.at("/config/params/vectors/size").asInt());
    assertEquals(16, info.at("/config/hnsw_config/m").asInt());
    assertTrue(call("GET", "/collections/c/exists", null).result().get("exists").asBoolean());
    assertFalse(call("GET", "/collections/nope/exists", null).result().get("exists").asBoolean());
    var dup = call("PUT", "/collections/c", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}");
    assertEquals(409, dup.status());
    assertEquals("Wrong input: Collection `c` already exists!", dup.error());
    var missing = call("GET", "/collections/nope", null);
    assertEquals(404, missing.status());
    assertEquals("Not found: Collection `nope` doesn't exist!", missing.error());
    assertFalse(call("DELETE", "/collections/nope", null).result().asBoolean());
  }

  @Test
  void badCollectionRequestsChangeNothing() throws Exception {
    var tooBig = call("PUT", "/collections/big", "{\"vectors\": {\"size\": 65537, \"distance\": \"Dot\"}}");
    assertEquals(422, tooBig.status());
    assertEquals("Validation error in JSON body: [vectors.size: value 65537 invalid, must be from 1 to 65536]", tooBig.error());
    var badDistance = call("PUT", "/collections/big", "{\"vectors\": {\"size\": 4, \"distance\": \"Cos\"}}");
    assertEquals(400, badDistance.status());
    var ef = call("PUT", "/collections/big", "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"hnsw_config\": {\"ef_construct\": 0}}");
    assertEquals(422, ef.status());
    assertTrue(ef.error().contains("hnsw_config.ef_construct"), ef.body());
    for (String name : List.of("..", ".", "a%2Fb", "a%5Cb", "x".repeat(256))) {
      var r = call("PUT", "/collections/" + name, "{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}}");
      // the router normalises dot segments away (then 404/405); what reaches storage is refused with 422
      assertTrue(r.status() == 422 || r.status() == 404 || r.status() == 405, name + " -> " + r.status() + " " + r.body());
    }
    assertEquals(List.of("c"), names());
  }

  List<String> names() throws Exception {
    List<String> out = new ArrayList<>();
    call("GET", "/collections", null).result().get("collections").forEach(c -> out.add(c.get("name").asText()));
    return out;
  }

  @Test
  void retrieveScrollCount() throws Exception {
    var one = call("GET", "/collections/c/points/1", null).result();
    assertEquals("Berlin", one.at("/payload/city").asText());
    assertEquals(4, one.get("vector").size());
    assertEquals(404, call("GET", "/collections/c/points/99", null).status());
    assertEquals(400, call("GET", "/collections/c/points/not-an-id", null).status());

    var many = call("POST", "/collections/c/points", "{\"ids\": [3, 1, 99], \"with_payload\": [\"city\"], \"with_vector\": false}").result();
    assertEquals(2, many.size());
    assertEquals(3, many.get(0).get("id").asInt());
    assertEquals(1, many.get(0).get("payload").size());
    assertTrue(many.get(0).get("vector").isNull());

    var page = call("POST", "/collections/c/points/scroll", "{\"limit\": 2}").result();
    assertEquals(2, page.get("points").size());
    assertEquals(3, page.get("next_page_offset").asInt());
    var rest = call("POST", "/collections/c/points/scroll", "{\"limit\": 5, \"offset\": 3}").result();
    assertEquals(2, rest.get("points").size());
    assertTrue(rest.get("next_page_offset").isNull());
    assertEquals("6e0a9e9c-7a0e-4b8e-9d5f-3b2c1a0f9e8d", rest.get("points").get(1).get("id").asText());

    assertEquals(4, call("POST", "/collections/c/points/count", "{}").result().get("count").asInt());
    var filtered = call("POST", "/collections/c/points/count", """
        {"filter": {"must": [{"key": "city", "match": {"value": "London"}}]}}""").result();
    assertEquals(1, filtered.get("count").asInt());
    var ranged = call("POST", "/collections/c/points/scroll", """
        {"filter": {"must": [{"key": "n", "range": {"gte": 2}}], "must_not": [{"has_id": [3]}]}}""").result();
    assertEquals(1, ranged.get("points").size());
    assertEquals(2, ranged.get("points").get(0).get("id").asInt());
  }

  @Test
  void badPointsAreRefusedWhole() throws Exception {
    var dims = call("PUT", "/collections/c/points?wait=true", """
        {"points": [{"id": 10, "vector": [1, 2, 3, 4]}, {"id": 11, "vector": [1, 2, 3]}]}""");
    assertEquals(400, dims.status());
    assertEquals("Wrong input: Vector dimension error: expected dim: 4, got 3", dims.error());
    var name = call("PUT", "/collections/c/points?wait=true", """
        {"points": [{"id": 12, "vector": {"nope": [1, 2, 3, 4]}}]}""");
    assertEquals(400, name.status());
    assertEquals("Wrong input: Not existing vector name error: nope", name.error());
    var badId = call("PUT", "/collections/c/points?wait=true", """
        {"points": [{"id": -1, "vector": [1, 2, 3, 4]}]}""");
    assertEquals(400, badId.status());
    var badFilter = call("POST", "/collections/c/points/scroll", "{\"filter\": {\"must\": [{\"bogus\": 1}]}}");
    assertEquals(400, badFilter.status());
    var broken = call("PUT", "/collections/c/points", "{\"points\": [");
    assertEquals(400, broken.status());
    assertTrue(broken.error().startsWith("Format error in JSON body"), broken.body());
    assertEquals(4, call("POST", "/collections/c/points/count", "{}").result().get("count").asInt());
    assertEquals(404, call("GET", "/collections/c/points/10", null).status());
  }

  @Test
  void payloadOperations() throws Exception {
    ok(call("POST", "/collections/c/points/payload?wait=true", "{\"payload\": {\"k\": 1}, \"points\": [1, 2]}"));
    ok(call("POST", "/collections/c/points/payload?wait=true", "{\"payload\": {\"z\": true}, \"key\": \"nested\", \"points\": [3]}"));
    ok(call("PUT", "/collections/c/points/payload?wait=true", "{\"payload\": {\"only\": 1}, \"points\": [2]}"));
    ok(call("POST", "/collections/c/points/payload/delete?wait=true", "{\"keys\": [\"city\"], \"filter\": {\"must\": [{\"key\": \"k\", \"match\": {\"value\": 1}}]}}"));
    assertEquals("{\"n\":1,\"tags\":[\"a\",\"b\"],\"k\":1}", point(1).get("payload").toString());
    assertEquals("{\"only\":1}", point(2).get("payload").toString());
    assertEquals("{\"x\":null,\"z\":true}", point(3).at("/payload/nested").toString());
    ok(call("POST", "/collections/c/points/payload/clear?wait=true", "{\"points\": [1]}"));
    assertEquals("{}", point(1).get("payload").toString());
    var missing = call("POST", "/collections/c/points/payload?wait=true", "{\"payload\": {\"k\": 1}, \"points\": [77]}");
    assertEquals(404, missing.status());
  }

  @Test
  void vectorsAndDeletes() throws Exception {
    ok(call("PUT", "/collections/c/points/vectors?wait=true", "{\"points\": [{\"id\": 1, \"vector\": [1, 1, 1, 1]}]}"));
    assertEquals("[1.0,1.0,1.0,1.0]", point(1).get("vector").toString());
    ok(call("POST", "/collections/c/points/vectors/delete?wait=true", "{\"points\": [1], \"vector\": [\"\"]}"));
    assertEquals("{}", point(1).get("vector").toString());
    ok(call("POST", "/collections/c/points/delete?wait=true", "{\"filter\": {\"must\": [{\"key\": \"city\", \"match\": {\"any\": [\"London\", \"Moscow\"]}}]}}"));
    ok(call("POST", "/collections/c/points/delete?wait=true", "{\"points\": [\"6e0a9e9c-7a0e-4b8e-9d5f-3b2c1a0f9e8d\"]}"));
    assertEquals(1, call("POST", "/collections/c/points/count", "{}").result().get("count").asInt());
  }

  @Test
  void batchIsAllOrNothing() throws Exception {
    var bad = call("POST", "/collections/c/points/batch?wait=true", """
        {"operations": [
          {"upsert": {"points": [{"id": 20, "vector": [1, 2, 3, 4]}]}},
          {"set_payload": {"payload": {"a": 1}, "points": [999]}}
        ]}""");
    assertEquals(404, bad.status());
    assertEquals(404, call("GET", "/collections/c/points/20", null).status());

    var good = call("POST", "/collections/c/points/batch?wait=true", """
        {"operations": [
          {"upsert": {"batch": {"ids": [20, 21], "vectors": [[1, 2, 3, 4], [4, 3, 2, 1]], "payloads": [{"a": 1}, {"a": 2}]}}},
          {"set_payload": {"payload": {"b": 1}, "filter": {"must": [{"key": "a", "match": {"value": 2}}]}}},
          {"delete": {"points": [1]}}
        ]}""");
    ok(good);
    assertEquals(3, good.result().size());
    assertEquals("{\"a\":2,\"b\":1}", point(21).get("payload").toString());
    assertEquals(404, call("GET", "/collections/c/points/1", null).status());
  }

  @Test
  void aliasesWorkWhereNamesDo() throws Exception {
    ok(call("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"c\", \"alias_name\": \"al\"}}]}"));
    assertEquals(4, call("POST", "/collections/al/points/count", "{}").result().get("count").asInt());
    var bad = call("POST", "/collections/aliases", """
        {"actions": [{"rename_alias": {"old_alias_name": "al", "new_alias_name": "al2"}}, {"delete_alias": {"alias_name": "nope"}}]}""");
    assertEquals(404, bad.status());
    assertEquals("al", call("GET", "/aliases", null).result().at("/aliases/0/alias_name").asText());
    ok(call("POST", "/collections/aliases", "{\"actions\": [{\"delete_alias\": {\"alias_name\": \"al\"}}]}"));
    assertEquals(0, call("GET", "/collections/c/aliases", null).result().get("aliases").size());
  }

  JsonNode point(Object id) throws Exception {
    var r = call("GET", "/collections/c/points/" + id, null);
    assertEquals(200, r.status(), r.body());
    return r.result();
  }

  static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }
}
