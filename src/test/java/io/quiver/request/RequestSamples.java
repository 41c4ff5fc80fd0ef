package io.quiver.request;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.json.Json;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One realistic valid request per {@link StorageOp} (two for the batch update: a mixed one and one
 * of deletes only), as the REST edge hands them to the parser: the collection from the path, the
 * body, and the query and path parameters as strings. Shared by the parsing tests here and the
 * REST/bus agreement test in {@code io.quiver.api}.
 */
public final class RequestSamples {
  /** Operations no REST route carries: the node's own status and telemetry figures. */
  public static final Set<StorageOp> INTERNAL = EnumSet.of(StorageOp.STATUS, StorageOp.TELEMETRY);

  /** A request as an edge receives it; {@code body} is JSON text, or null when there is none. */
  public record Sample(StorageOp op, String collection, String body, Map<String, String> params) {
    public JsonNode bodyTree() {
      return body == null ? null : json(body);
    }

    public Request parse() {
      return op.parse(collection, bodyTree(), params);
    }

    @Override
    public String toString() {
      return op + (body == null ? "" : " " + body) + (params.isEmpty() ? "" : " " + params);
    }
  }

  private RequestSamples() {}

  /** JSON with single quotes for double quotes, to keep bodies readable in Java strings. */
  public static JsonNode json(String singleQuoted) {
    try {
      return Json.MAPPER.readTree(singleQuoted.replace('\'', '"'));
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first sample of {@code op}. */
  public static Sample of(StorageOp op) {
    return all().stream().filter(s -> s.op() == op).findFirst().orElseThrow(() -> new AssertionError("no sample of " + op));
  }

  /** Every sample, at least one per operation, in the operations' order. */
  public static List<Sample> all() {
    List<Sample> s = new ArrayList<>();
    s.add(node(StorageOp.STATUS));
    s.add(node(StorageOp.LIST_COLLECTIONS));
    s.add(sample(StorageOp.GET_COLLECTION, null));
    s.add(sample(StorageOp.COLLECTION_EXISTS, null));
    s.add(sample(StorageOp.CREATE_COLLECTION, "{'vectors': {'size': 4, 'distance': 'Cosine'},"
        + " 'sparse_vectors': {'text': {'modifier': 'idf'}}, 'init_from': {'collection': 'old'}}", "timeout", "30"));
    s.add(sample(StorageOp.UPDATE_COLLECTION, "{'optimizers_config': {'indexing_threshold': 20000}, 'params': {'replication_factor': 2}}",
        "timeout", "10"));
    s.add(sample(StorageOp.DELETE_COLLECTION, null, "timeout", "5"));
    s.add(node(StorageOp.UPDATE_ALIASES, "{'actions': [{'create_alias': {'collection_name': 'c', 'alias_name': 'a'}},"
        + " {'rename_alias': {'old_alias_name': 'a', 'new_alias_name': 'b'}}, {'delete_alias': {'alias_name': 'b'}}]}"));
    s.add(node(StorageOp.LIST_ALIASES));
    s.add(sample(StorageOp.LIST_COLLECTION_ALIASES, null));
    s.add(sample(StorageOp.UPSERT_POINTS, "{'points': [{'id': 1, 'vector': {'img': [0.5, 1, 0, 0], 'text': {'indices': [7, 2],"
        + " 'values': [0.25, 0.75]}}, 'payload': {'city': 'Paris'}}, {'id': '550e8400-e29b-41d4-a716-446655440000',"
        + " 'vector': {'img': [1, 0, 0, 0]}}]}", "wait", "true", "ordering", "strong"));
    s.add(sample(StorageOp.DELETE_POINTS, "{'filter': {'must': [{'key': 'city', 'match': {'value': 'Paris'}}]}}", "wait", "true"));
    s.add(sample(StorageOp.UPDATE_VECTORS, "{'points': [{'id': 1, 'vector': {'img': [0, 1, 0, 0]}}]}"));
    s.add(sample(StorageOp.DELETE_VECTORS, "{'points': [1, 2], 'vector': ['img']}"));
    s.add(sample(StorageOp.SET_PAYLOAD, "{'payload': {'zip': 75001}, 'points': [1], 'key': 'address'}", "wait", "1"));
    s.add(sample(StorageOp.OVERWRITE_PAYLOAD, "{'payload': {'city': 'Lyon'}, 'filter': {'must': {'has_id': [1]}}}"));
    s.add(sample(StorageOp.DELETE_PAYLOAD, "{'keys': ['city', 'address.zip'], 'points': [1]}"));
    s.add(sample(StorageOp.CLEAR_PAYLOAD, "{'points': [1, 2]}"));
    s.add(sample(StorageOp.BATCH_UPDATE, "{'operations': [{'upsert': {'points': [{'id': 3, 'vector': [1, 2]}]}},"
        + " {'delete': {'points': [1]}}]}", "ordering", "medium"));
    s.add(sample(StorageOp.BATCH_UPDATE, "{'operations': [{'delete': {'points': [1]}}, {'delete_payload': {'keys': ['a'], 'points': [2]}},"
        + " {'clear_payload': {'points': [3]}}, {'delete_vectors': {'points': [4], 'vector': ['img']}}]}"));
    s.add(sample(StorageOp.GET_POINT, null, "id", "42"));
    s.add(sample(StorageOp.GET_POINTS, "{'ids': [1, 2], 'with_payload': ['city'], 'with_vector': true}", "consistency", "majority"));
    s.add(sample(StorageOp.SCROLL_POINTS, "{'limit': 5, 'order_by': {'key': 'price', 'direction': 'desc', 'start_from': 100},"
        + " 'with_payload': {'exclude': ['secret']}}"));
    s.add(sample(StorageOp.COUNT_POINTS, "{'filter': {'must_not': [{'is_empty': {'key': 'tags'}}]}, 'exact': false}"));
    s.add(sample(StorageOp.CREATE_FIELD_INDEX, "{'field_name': 'city', 'field_schema': 'keyword'}", "wait", "true"));
    s.add(sample(StorageOp.DELETE_FIELD_INDEX, null, "field_name", "city", "wait", "true"));
    s.add(sample(StorageOp.SEARCH_POINTS, "{'vector': [0.5, 1, 0, 0], 'limit': 3, 'with_payload': true}"));
    s.add(sample(StorageOp.SEARCH_BATCH, "{'searches': [{'vector': [1, 0], 'limit': 1}, {'vector': [0, 1], 'limit': 2}]}"));
    s.add(sample(StorageOp.RECOMMEND_POINTS, "{'positive': [1, 2], 'negative': [3], 'limit': 5}"));
    s.add(sample(StorageOp.RECOMMEND_BATCH, "{'searches': [{'positive': [1], 'limit': 2}]}"));
    s.add(node(StorageOp.TELEMETRY));
    s.add(sample(StorageOp.QUERY_POINTS, "{'query': [0.5, 1, 0, 0], 'limit': 3}", "timeout", "2"));
    s.add(sample(StorageOp.QUERY_BATCH, "{'searches': [{'query': 1}, {'query': {'sample': 'random'}, 'limit': 2}]}"));
    s.add(sample(StorageOp.FACET, "{'key': 'city', 'limit': 3, 'exact': true}"));
    s.add(sample(StorageOp.DISCOVER_POINTS, "{'target': 1, 'context': [{'positive': 2, 'negative': 3}], 'limit': 4}"));
    s.add(sample(StorageOp.DISCOVER_BATCH, "{'searches': [{'context': [{'positive': 2, 'negative': 3}], 'limit': 4}]}"));
    s.add(sample(StorageOp.SEARCH_GROUPS, "{'vector': [1, 0], 'limit': 2, 'group_by': 'city', 'group_size': 3}"));
    s.add(sample(StorageOp.RECOMMEND_GROUPS, "{'positive': [1], 'limit': 2, 'group_by': 'city', 'group_size': 1}"));
    s.add(sample(StorageOp.SEARCH_MATRIX_PAIRS, "{'sample': 10, 'limit': 2}"));
    s.add(sample(StorageOp.SEARCH_MATRIX_OFFSETS, "{'sample': 5, 'limit': 1, 'using': 'img'}"));
    s.add(sample(StorageOp.QUERY_GROUPS, "{'query': [1, 0], 'group_by': 'city', 'group_size': 2, 'limit': 4}"));
    s.add(sample(StorageOp.LIST_SNAPSHOTS, null));
    s.add(sample(StorageOp.CREATE_SNAPSHOT, null, "wait", "false"));
    s.add(sample(StorageOp.DELETE_SNAPSHOT, null, "snapshot_name", "c-1.snapshot"));
    s.add(sample(StorageOp.GET_SNAPSHOT, null, "snapshot_name", "c-1.snapshot", "shard_id", "0"));
    s.add(sample(StorageOp.RECOVER_SNAPSHOT, "{'location': 'http://backup.example/c.snapshot', 'priority': 'snapshot'}"));
    s.add(node(StorageOp.LIST_FULL_SNAPSHOTS));
    s.add(node(StorageOp.CREATE_FULL_SNAPSHOT));
    s.add(new Sample(StorageOp.DELETE_FULL_SNAPSHOT, null, null, Map.of("snapshot_name", "full-1.snapshot")));
    s.add(new Sample(StorageOp.GET_FULL_SNAPSHOT, null, null, Map.of("snapshot_name", "full-1.snapshot")));
    s.add(sample(StorageOp.CREATE_SHARD_KEY, "{'shard_key': 'eu', 'shards_number': 2, 'replication_factor': 1, "
        + "'placement': [1, 18446744073709551615]}", "timeout", "10"));
    s.add(sample(StorageOp.CREATE_SHARD_KEY, "{'shard_key': 7}"));
    s.add(sample(StorageOp.DELETE_SHARD_KEY, "{'shard_key': 7}"));
    return s;
  }

  /** A request on collection {@code c}, with parameters given as name, value, name, value... */
  private static Sample sample(StorageOp op, String body, String... params) {
    Map<String, String> p = new LinkedHashMap<>();
    for (int i = 0; i < params.length; i += 2) {
      p.put(params[i], params[i + 1]);
    }
    return new Sample(op, "c", body, p);
  }

  private static Sample node(StorageOp op) {
    return node(op, null);
  }

  private static Sample node(StorageOp op, String body) {
    return new Sample(op, null, body, Map.of());
  }
}
