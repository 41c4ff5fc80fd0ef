package io.quiver.request;

import static io.quiver.request.RequestSamples.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.error.ApiException;
import io.quiver.request.RequestSamples.Sample;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What each parser refuses, with the status and the exact message a client sees: format errors
 * (400, "Format error in JSON body: ..."), constraint violations (422 with Qdrant's path of the
 * field), bad query and path parameters, and Qdrant's own words where it has some. Pins today's
 * wording; a change here is a change of the API.
 */
@Timeout(60)
class RequestErrorsTest {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  // ---- bodies ----

  @Test
  void everyOperationThatNeedsABodySaysEofWithoutOne() {
    Set<StorageOp> optional = EnumSet.of(StorageOp.SCROLL_POINTS, StorageOp.COUNT_POINTS);
    for (Sample s : RequestSamples.all()) {
      if (s.body() == null) {
        continue;
      }
      if (optional.contains(s.op())) {
        assertNotNull(s.op().parse("c", null, Map.of()), s.op() + " takes no body");
      } else {
        assertFormat("EOF while parsing a value at line 1 column 0", s.op(), null);
      }
    }
  }

  @Test
  void bodiesOfTheWrongShape() {
    assertFormat("body: invalid type: sequence, expected a map", StorageOp.UPSERT_POINTS, "[]");
    assertFormat("body: invalid type: string \"x\", expected a map", StorageOp.QUERY_POINTS, "'x'");
    assertFormat("body: invalid type: sequence, expected a map", StorageOp.UPDATE_COLLECTION, "[]");
    assertFormat("body: invalid type: integer `1`, expected a map", StorageOp.CREATE_COLLECTION, "1");
    assertFormat("operations[0]: invalid type: integer `1`, expected a map", StorageOp.BATCH_UPDATE, "{'operations': [1]}");
    assertFormat("searches[0]: invalid type: null, expected a map", StorageOp.QUERY_BATCH, "{'searches': [null]}");
  }

  @Test
  void fieldsOfTheWrongType() {
    assertFormat("points: expected a list of points", StorageOp.UPSERT_POINTS, "{'points': 5}");
    assertFormat("points[0].id: value -1 is not a valid point ID, valid values are either an unsigned integer or a UUID",
        StorageOp.UPSERT_POINTS, "{'points': [{'id': -1, 'vector': [1]}]}");
    assertFormat("points[0].vector[1]: invalid type: string \"a\", expected f32", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': [1, 'a']}]}");
    assertFormat("points[0].vector: data did not match any variant of untagged enum VectorStruct", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': 5}]}");
    assertFormat("points[0].vector.s.indices[0]: expected u32", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'s': {'indices': [-1], 'values': [1]}}}]}");
    assertFormat("internal.limit: invalid type: string \"ten\", expected an integer", StorageOp.QUERY_POINTS, "{'limit': 'ten'}");
    assertFormat("using: invalid type: integer `5`, expected a string", StorageOp.QUERY_POINTS, "{'using': 5}");
    assertFormat("score_threshold: invalid type: string \"high\", expected f32", StorageOp.QUERY_POINTS, "{'score_threshold': 'high'}");
    assertFormat("query: Expected some form of vector, id, or a type of query", StorageOp.QUERY_POINTS, "{'query': true}");
    assertFormat("query.fusion: unknown variant `max`, expected `rrf` or `dbsf`", StorageOp.QUERY_POINTS, "{'query': {'fusion': 'max'}}");
    assertFormat("query.sample: unknown variant `first`, expected `random`", StorageOp.QUERY_POINTS, "{'query': {'sample': 'first'}}");
    assertFormat("query.nearest: data did not match any variant of untagged enum VectorInput", StorageOp.QUERY_POINTS,
        "{'query': {'nearest': 'not-an-id'}}");
    assertFormat("vector: invalid type: string \"x\", expected a map", StorageOp.SEARCH_POINTS, "{'vector': 'x', 'limit': 1}");
    assertFormat("vector: data did not match any variant of untagged enum NamedVectorStruct", StorageOp.SEARCH_POINTS,
        "{'vector': {'name': 'img'}, 'limit': 1}");
    assertFormat("with_payload: data did not match any variant of untagged enum WithPayloadInterface", StorageOp.SCROLL_POINTS,
        "{'with_payload': 5}");
    assertFormat("with_vector: data did not match any variant of untagged enum WithVector", StorageOp.SCROLL_POINTS,
        "{'with_vector': 'img'}");
    assertFormat("shard_key: data did not match any variant of untagged enum ShardKeySelector", StorageOp.COUNT_POINTS,
        "{'shard_key': -1}");
    assertFormat("exact: invalid type: string \"yes\", expected a boolean", StorageOp.FACET, "{'key': 'city', 'exact': 'yes'}");
    assertFormat("location: invalid type: integer `5`, expected a string", StorageOp.RECOVER_SNAPSHOT, "{'location': 5}");
    assertFormat("order_by.direction: unknown variant `up`, expected `asc` or `desc`", StorageOp.SCROLL_POINTS,
        "{'order_by': {'key': 'n', 'direction': 'up'}}");
    assertFormat("vectors: missing field `distance`", StorageOp.CREATE_COLLECTION, "{'vectors': {'size': 4}}");
  }

  @Test
  void filtersThatDoNotParse() {
    assertFormat("filter.must[0]: unknown condition (field `foo`); expected a field condition (with `key`), `is_empty`, `is_null`, "
        + "`has_id`, `has_vector`, `nested` or a filter", StorageOp.COUNT_POINTS, "{'filter': {'must': [{'foo': 1}]}}");
    assertValidation("filter.must[0]: At least one field condition must be specified", StorageOp.DELETE_POINTS,
        "{'filter': {'must': [{'key': 'a'}]}}");
  }

  @Test
  void requiredFields() {
    assertFormat("missing field `limit`", StorageOp.SEARCH_POINTS, "{'vector': [1]}");
    assertFormat("missing field `limit`", StorageOp.RECOMMEND_POINTS, "{'positive': [1]}");
    assertFormat("missing field `vector`", StorageOp.SEARCH_POINTS, "{'limit': 1}");
    assertFormat("missing field `group_by`", StorageOp.SEARCH_GROUPS, "{'vector': [1], 'limit': 1, 'group_size': 2}");
    assertFormat("missing field `group_size`", StorageOp.SEARCH_GROUPS, "{'vector': [1], 'limit': 1, 'group_by': 'a'}");
    assertFormat("missing field `group_by`", StorageOp.QUERY_GROUPS, "{'query': [1]}");
    assertFormat("missing field `operations`", StorageOp.BATCH_UPDATE, "{}");
    assertFormat("missing field `searches`", StorageOp.QUERY_BATCH, "{}");
    assertFormat("missing field `searches`", StorageOp.SEARCH_BATCH, "{'searches': {}}");
    assertFormat("missing field `actions`", StorageOp.UPDATE_ALIASES, "{}");
    assertFormat("missing field `alias_name`", StorageOp.UPDATE_ALIASES, "{'actions': [{'create_alias': {'collection_name': 'c'}}]}");
    assertFormat("missing field `payload`", StorageOp.SET_PAYLOAD, "{'points': [1]}");
    assertFormat("missing field `keys`", StorageOp.DELETE_PAYLOAD, "{'points': [1]}");
    assertFormat("missing field `vector`", StorageOp.DELETE_VECTORS, "{'points': [1]}");
    assertFormat("missing field `field_name`", StorageOp.CREATE_FIELD_INDEX, "{}");
    assertFormat("missing field `location`", StorageOp.RECOVER_SNAPSHOT, "{}");
    assertFormat("init_from: missing field `collection`", StorageOp.CREATE_COLLECTION, "{'init_from': {}}");
    assertFormat("query.discover: missing field `context`", StorageOp.QUERY_POINTS, "{'query': {'discover': {'target': 1}}}");
    assertFormat("lookup_from: missing field `collection`", StorageOp.QUERY_POINTS, "{'lookup_from': {'vector': 'v'}}");
    assertFormat("points[0]: missing field `id`", StorageOp.UPSERT_POINTS, "{'points': [{'vector': [1]}]}");
    assertFormat("points[0]: missing field `vector`", StorageOp.UPSERT_POINTS, "{'points': [{'id': 1}]}");
    assertFormat("points[0]: missing field `vector`", StorageOp.UPDATE_VECTORS, "{'points': [{'id': 1}]}");
    assertFormat("data did not match any variant of untagged enum PointInsertOperations: expected `points` or `batch`",
        StorageOp.UPSERT_POINTS, "{}");
    assertFormat("data did not match any variant of untagged enum PointsSelector: expected `points` or `filter`",
        StorageOp.DELETE_POINTS, "{}");
    assertFormat("data did not match any variant of untagged enum PointsSelector: expected `points` or `filter`",
        StorageOp.SET_PAYLOAD, "{'payload': {}}");
    assertFormat("key: expected a payload key", StorageOp.FACET, "{}");
    assertValidation("points[0].vector: must specify vectors to update for point", StorageOp.UPDATE_VECTORS,
        "{'points': [{'id': 1, 'vector': {}}]}");
    assertError(400, "Bad request: target and/or context_pairs must be specified", StorageOp.DISCOVER_POINTS, "{'limit': 1}");
    assertError(400, "Bad request: At least one positive vector ID required", StorageOp.RECOMMEND_POINTS,
        "{'negative': [1], 'limit': 1}");
    assertValidation("internal.query.recommend.positives, negatives: Validation error: At least one positive or negative "
        + "vector/id must be provided [{}]", StorageOp.QUERY_POINTS, "{'query': {'recommend': {}}}");
    assertFormat("Can't auto-detect field type, please specify `field_schema` in the request", StorageOp.CREATE_FIELD_INDEX,
        "{'field_name': 'a'}");
  }

  // ---- limits ----

  @Test
  void limitsOfTheUniversalQueryNameQdrantsPath() {
    assertValidation("internal.limit: value 0 invalid, must be 1 or larger", StorageOp.QUERY_POINTS, "{'limit': 0}");
    assertValidation("searches[1].internal.limit: value 0 invalid, must be 1 or larger", StorageOp.QUERY_BATCH,
        "{'searches': [{}, {'limit': 0}]}");
    assertValidation("internal.prefetch[0].limit: value 0 invalid, must be 1 or larger, internal.limit: value 0 invalid, "
        + "must be 1 or larger, internal.offset: value -1 invalid, must be 0 or larger", StorageOp.QUERY_POINTS,
        "{'prefetch': [{'limit': 0}], 'limit': 0, 'offset': -1}");
    assertValidation("internal.params.hnsw_ef: value -1 invalid, must be 0 or larger", StorageOp.QUERY_POINTS,
        "{'params': {'hnsw_ef': -1}}");
    assertValidation("internal.query.mmr.diversity: value 1.5 invalid, must be from 0.0 to 1.0", StorageOp.QUERY_POINTS,
        "{'query': {'nearest': [1], 'mmr': {'diversity': 1.5}}}");
    assertValidation("internal.query.mmr.candidates_limit: value 20000 invalid, must be 16384 or smaller", StorageOp.QUERY_POINTS,
        "{'query': {'nearest': [1], 'mmr': {'candidates_limit': 20000}}}");
    assertValidation("internal.query.rrf.k: value 0 invalid, must be 1 or larger", StorageOp.QUERY_POINTS, "{'query': {'rrf': {'k': 0}}}");
    assertValidation("search_group_request.group_request.group_size: value 0 invalid, must be 1 or larger", StorageOp.QUERY_GROUPS,
        "{'group_by': 'a', 'group_size': 0}");
  }

  @Test
  void limitsOfTheOtherRequests() {
    assertValidation("limit: value 0 invalid, must be 1 or larger", StorageOp.SEARCH_POINTS, "{'vector': [1], 'limit': 0}");
    assertValidation("limit: value 0 invalid, must be 1 or larger, offset: value -2 invalid, must be 0 or larger",
        StorageOp.RECOMMEND_POINTS, "{'positive': [1], 'limit': 0, 'offset': -2}");
    assertValidation("params.hnsw_ef: value 100001 invalid, must be from 0 to 100000", StorageOp.SEARCH_POINTS,
        "{'vector': [1], 'limit': 1, 'params': {'hnsw_ef': 100001}}");
    assertValidation("limit: value 0 invalid, must be 1 or larger", StorageOp.SEARCH_BATCH,
        "{'searches': [{'vector': [1], 'limit': 0}]}");
    assertValidation("group_size: value 0 invalid, must be from 1 to 100000", StorageOp.SEARCH_GROUPS,
        "{'vector': [1], 'limit': 1, 'group_by': 'a', 'group_size': 0}");
    assertValidation("limit: value 0 invalid, must be from 1 to 2147483646", StorageOp.SCROLL_POINTS, "{'limit': 0}");
    assertValidation("limit: value 0 invalid, must be from 1 to 2147483646", StorageOp.FACET, "{'key': 'a', 'limit': 0}");
    assertValidation("sample: value 1 invalid, must be from 2 to 100000", StorageOp.SEARCH_MATRIX_PAIRS, "{'sample': 1}");
    assertValidation("vectors.size: value 0 invalid, must be from 1 to 65536", StorageOp.CREATE_COLLECTION,
        "{'vectors': {'size': 0, 'distance': 'Cosine'}}");
  }

  @Test
  void listsLongerThanARequestMayCarry() {
    String ids = IntStream.rangeClosed(0, Limits.MAX_POINTS).mapToObj(Integer::toString).collect(Collectors.joining(","));
    assertValidation("points: value of 100001 items invalid, must be at most 100000 items per request", StorageOp.DELETE_POINTS,
        "{'points': [" + ids + "]}");
    assertValidation("ids: value of 100001 items invalid, must be at most 100000 items per request", StorageOp.GET_POINTS,
        "{'ids': [" + ids + "]}");
  }

  // ---- query and path parameters ----

  @Test
  void badQueryParameters() {
    assertError(400, "Format error in query params: wait: expected true or false, got `maybe`", StorageOp.UPSERT_POINTS,
        upsertBody(), "wait", "maybe");
    assertError(400, "Format error in query params: wait: expected true or false, got `yes`", StorageOp.CREATE_SNAPSHOT, null,
        "wait", "yes");
    assertError(422, "Validation error in query params: [timeout: value 0 invalid, must be 1 or larger]", StorageOp.DELETE_COLLECTION,
        null, "timeout", "0");
    assertError(400, "Format error in query params: timeout: invalid digit found in string", StorageOp.QUERY_POINTS, "{}",
        "timeout", "soon");
    assertError(400, "Format error in query params: ordering: unknown variant `eventual`, expected one of `weak`, `medium`, `strong`",
        StorageOp.UPSERT_POINTS, upsertBody(), "ordering", "eventual");
    for (String consistency : List.of("some", "0", "-1")) {
      assertError(400, "Format error in query params: consistency: data did not match any variant of untagged enum ReadConsistency: "
          + "expected a positive integer, `majority`, `quorum` or `all`", StorageOp.GET_POINTS, "{'ids': [1]}",
          "consistency", consistency);
    }
  }

  @Test
  void badPathParameters() {
    for (String shard : List.of("x", "-1", "4294967296")) {
      assertError(400, "Format error in path: can not parse `" + shard + "` to a u32", StorageOp.LIST_SNAPSHOTS, null,
          "shard_id", shard);
    }
    // Qdrant's own words (its get_point handler)
    assertError(400, "Wrong input: Can not recognize \"abc\" as point id", StorageOp.GET_POINT, null, "id", "abc");
    assertError(400, "Wrong input: Can not recognize \"18446744073709551616\" as point id", StorageOp.GET_POINT, null,
        "id", "18446744073709551616");
  }

  // ---- vectors ----

  @Test
  void sparseVectorsOfUnequalLengthsOrRepeatedIndices() {
    assertValidation("points[0].vector.?.values: Validation error: must be the same length as indices [{}]", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'text': {'indices': [100, 500], 'values': [0.9, 0.8, 0.5]}}}]}");
    assertValidation("points[0].vector.?.indices: Validation error: must be unique [{}]", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'text': {'indices': [100, 500, 500], 'values': [0.9, 0.8, 0.5]}}}]}");
    assertValidation("points[1].vector.?.values: Validation error: must be the same length as indices [{}], "
        + "points[1].vector.?.indices: Validation error: must be unique [{}]", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': [1]}, {'id': 2, 'vector': {'text': {'indices': [1, 1], 'values': [1]}}}]}");
    assertValidation("points[0].vector.?.indices: Validation error: must be unique [{}]", StorageOp.UPDATE_VECTORS,
        "{'points': [{'id': 1, 'vector': {'text': {'indices': [3, 3], 'values': [1, 2]}}}]}");
    assertValidation("query.?.indices: Validation error: must be unique [{}]", StorageOp.QUERY_POINTS,
        "{'query': {'indices': [3, 3], 'values': [1, 2]}, 'using': 'text'}");
    assertValidation("vector.vector.?.values: Validation error: must be the same length as indices [{}]", StorageOp.SEARCH_POINTS,
        "{'vector': {'name': 'text', 'vector': {'indices': [3], 'values': [1, 2]}}, 'limit': 1}");
    assertValidation("batch.vectors.?.values: Validation error: must be the same length as indices [{}]", StorageOp.UPSERT_POINTS,
        "{'batch': {'ids': [1], 'vectors': {'text': [{'indices': [3], 'values': []}]}}}");
    assertFormat("points[0].vector.text: missing field `values`", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'text': {'indices': [1]}}}]}");
  }

  @Test
  void multivectorRowsOfDifferentDimensions() {
    assertValidation("points[0].vector.?.data: all vectors must have the same dimension, found vector with dimension 3",
        StorageOp.UPSERT_POINTS, "{'points': [{'id': 1, 'vector': {'colbert': [[1, 2], [3, 4, 5]]}}]}");
    assertValidation("points[0].vector.?.data: all vectors must be non-empty", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'colbert': [[1], []]}}]}");
    assertValidation("query.?.data: all vectors must have the same dimension, found vector with dimension 1", StorageOp.QUERY_POINTS,
        "{'query': [[1, 2], [3]], 'using': 'colbert'}");
    assertFormat("points[0].vector.colbert: expected a list of vectors", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'colbert': [[1, 2], 3]}}]}");
  }

  @Test
  void columnsOfAnUpsertMustMatchItsIds() {
    assertError(400, "Bad request: number of vectors does not match the number of ids", StorageOp.UPSERT_POINTS,
        "{'batch': {'ids': [1, 2], 'vectors': [[1]]}}");
    assertError(400, "Bad request: number of vectors `img` does not match the number of ids", StorageOp.UPSERT_POINTS,
        "{'batch': {'ids': [1, 2], 'vectors': {'img': [[1]]}}}");
    assertError(400, "Bad request: number of payloads does not match the number of ids", StorageOp.UPSERT_POINTS,
        "{'batch': {'ids': [1], 'vectors': [[1]], 'payloads': [{}, {}]}}");
    assertFormat("batch: missing field `vectors`", StorageOp.UPSERT_POINTS, "{'batch': {'ids': [1]}}");
  }

  @Test
  void inferenceModelsOtherThanBm25() {
    // an upsert says what is missing; a query says what Qdrant says without an inference service
    assertError(400, "Bad request: server-side inference (model `openai/text-embedding-3-small`) is not supported by this server yet: "
        + "send vectors", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'d': {'model': 'openai/text-embedding-3-small', 'text': 'hi'}}}]}");
    assertError(400, "Bad request: InferenceService is not initialized. Please check if it was properly configured and initialized "
        + "during startup.", StorageOp.QUERY_POINTS, "{'query': {'nearest': {'model': 'openai/text-embedding-3-small', 'text': 'hi'}}}");
    assertError(400, "Bad request: InferenceService is not initialized. Please check if it was properly configured and initialized "
        + "during startup.", StorageOp.QUERY_POINTS, "{'query': {'model': 'clip', 'image': 'http://x/y.png'}}");
    assertError(400, "Bad request: Only text input is supported for qdrant/bm25.", StorageOp.UPSERT_POINTS,
        "{'points': [{'id': 1, 'vector': {'b': {'model': 'qdrant/bm25', 'image': 'x'}}}]}");
    assertError(400, "Bad request: Only text input is supported for Qdrant/BM25.", StorageOp.QUERY_POINTS,
        "{'query': {'model': 'Qdrant/BM25', 'text': 3}}");
  }

  // ---- queries ----

  @Test
  void unknownRecommendStrategies() {
    String expected = "unknown variant `worst`, expected one of `average_vector`, `best_score`, `sum_scores`";
    assertFormat("strategy: " + expected, StorageOp.RECOMMEND_POINTS, "{'positive': [1], 'strategy': 'worst', 'limit': 1}");
    assertFormat("query.recommend.strategy: " + expected, StorageOp.QUERY_POINTS,
        "{'query': {'recommend': {'positive': [1], 'strategy': 'worst'}}}");
    assertFormat("prefetch[0].query.recommend.strategy: " + expected, StorageOp.QUERY_POINTS,
        "{'prefetch': {'query': {'recommend': {'positive': [1], 'strategy': 'worst'}}}}");
  }

  @Test
  void badFormulaVariablesAndDecays() {
    assertError(400, "Bad request: Invalid reserved word: $foo", StorageOp.QUERY_POINTS, formula("'$foo'"));
    assertError(400, "Bad request: Invalid reserved variable: $score[a]", StorageOp.QUERY_POINTS, formula("'$score[a]'"));
    assertError(400, "Bad request: Invalid reserved variable: $score.x", StorageOp.QUERY_POINTS, formula("'$score.x'"));
    assertError(400, "Bad request: Invalid payload variable: a..b", StorageOp.QUERY_POINTS, formula("{'sum': [1, 'a..b']}"));
    assertError(400, "Bad request: Invalid reserved word: $bar", StorageOp.QUERY_POINTS,
        "{'query': {'formula': '$score', 'defaults': {'$bar': 1}}}");
    assertFormat("query.formula.sum[1]: data did not match any variant of untagged enum Expression", StorageOp.QUERY_POINTS,
        formula("{'sum': [1, {'max': [1, 2]}]}"));
    assertError(400, "Wrong input: Validation failed: Decay midpoint should be in the range (0.0, 1.0), got 1.", StorageOp.QUERY_POINTS,
        formula("{'exp_decay': {'x': 'n', 'midpoint': 1}}"));
    assertError(400, "Wrong input: Validation failed: Linear decay midpoint should be in the range [0.0, 1.0], got 1.5.",
        StorageOp.QUERY_POINTS, formula("{'lin_decay': {'x': 'n', 'midpoint': 1.5}}"));
    assertError(400, "Wrong input: Validation failed: Decay scale should be non-zero positive, got -2.", StorageOp.QUERY_POINTS,
        formula("{'gauss_decay': {'x': 'n', 'scale': -2}}"));
    assertError(400, "Wrong input: failed to parse date-time \"tomorrow\": input contains invalid characters", StorageOp.QUERY_POINTS,
        formula("{'datetime': 'tomorrow'}"));
  }

  @Test
  void scrollOrderedByAKeyCannotTakeAnOffset() {
    assertError(400, "Bad request: Cannot use an `offset` when using `order_by`. The alternative for paging is to use "
        + "`order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value",
        StorageOp.SCROLL_POINTS, "{'order_by': 'price', 'offset': 10}");
  }

  // ---- administration ----

  @Test
  void aliasActions() {
    assertFormat("actions[0]: unknown variant, expected one of `create_alias`, `delete_alias`, `rename_alias`",
        StorageOp.UPDATE_ALIASES, "{'actions': [{'drop_alias': {'alias_name': 'a'}}]}");
    assertError(422, "Validation error in path parameters: [collection_name: collection name cannot contain \"/\" char]",
        StorageOp.UPDATE_ALIASES, "{'actions': [{'create_alias': {'collection_name': 'c', 'alias_name': 'a/b'}}]}");
    assertError(422, "Validation error in path parameters: [collection_name: value is empty, must be from 1 to 255 characters]",
        StorageOp.UPDATE_ALIASES, "{'actions': [{'rename_alias': {'old_alias_name': 'a', 'new_alias_name': ''}}]}");
  }

  @Test
  void batchSteps() {
    assertFormat("unknown operation `upsert_all`", StorageOp.BATCH_UPDATE, "{'operations': [{'upsert_all': {}}]}");
    assertFormat("operations[0]: expected exactly one operation", StorageOp.BATCH_UPDATE,
        "{'operations': [{'delete': {'points': [1]}, 'clear_payload': {'points': [1]}}]}");
    assertFormat("points[0]: missing field `vector`", StorageOp.BATCH_UPDATE,
        "{'operations': [{'delete': {'points': [1]}}, {'upsert': {'points': [{'id': 1}]}}]}");
  }

  @Test
  void collectionsAndIndexes() {
    assertFormat("shard_key: data did not match any variant of untagged enum ShardKey", StorageOp.CREATE_SHARD_KEY, "{'shard_key': -1}");
    assertFormat("missing field `shard_key`", StorageOp.DELETE_SHARD_KEY, "{}");
    assertError(400, "Bad request: Dense and sparse vector names must be unique - duplicate found with 'a'", StorageOp.CREATE_COLLECTION,
        "{'vectors': {'a': {'size': 1, 'distance': 'Dot'}}, 'sparse_vectors': {'a': {}}}");
    assertError(422, "Validation error: the 'lookup' and 'range' capabilities can't be both disabled", StorageOp.CREATE_FIELD_INDEX,
        "{'field_name': 'n', 'field_schema': {'type': 'integer', 'lookup': false, 'range': false}}");
  }

  // ---- robustness ----

  /**
   * Every field of every sample (and of richer query, upsert and config bodies) replaced by values of
   * other types and odd numbers and strings, or dropped, and every parameter given odd values: the
   * parser either accepts the request or refuses it with a 4xx, never anything else.
   */
  @Test
  void noMutationOfAValidRequestFailsOtherwiseThanWithA4xx() {
    List<Sample> samples = new ArrayList<>(RequestSamples.all());
    RICH_BODIES.forEach((op, body) -> samples.add(new Sample(op, "c", body, Map.of())));
    List<String> failures = new ArrayList<>();
    int tries = 0;
    for (Sample s : samples) {
      for (String name : PARAM_NAMES) {
        for (String value : ODD_PARAMS) {
          Map<String, String> params = new HashMap<>(s.params());
          params.put(name, value);
          tries++;
          check(s.op(), s.bodyTree(), params, failures);
        }
      }
      JsonNode body = s.bodyTree();
      if (body == null) {
        continue;
      }
      for (String path : paths(body)) {
        JsonNode dropped = body.deepCopy();
        drop(dropped, path);
        tries++;
        check(s.op(), dropped, s.params(), failures);
        for (JsonNode odd : oddValues()) {
          tries++;
          check(s.op(), replace(body.deepCopy(), path, odd), s.params(), failures);
        }
      }
    }
    assertTrue(tries > 10_000, "tried " + tries);
    if (!failures.isEmpty()) {
      fail(failures.size() + " mutations failed otherwise than with a 4xx, e.g.:\n" + String.join("\n", failures.subList(0,
          Math.min(10, failures.size()))));
    }
  }

  /** Bodies that reach the corners of the parsers the samples do not. */
  private static final Map<StorageOp, String> RICH_BODIES = richBodies();

  private static Map<StorageOp, String> richBodies() {
    Map<StorageOp, String> m = new LinkedHashMap<>();
    m.put(StorageOp.QUERY_POINTS, "{'prefetch': [{'prefetch': {'query': [1, 0], 'limit': 50}, 'query': {'indices': [5, 1],"
        + " 'values': [0.5, 0.25]}, 'using': 'text', 'limit': 20, 'filter': {'must': {'key': 'a', 'range': {'gte': 1}}}},"
        + " {'query': {'formula': {'sum': ['$score', {'mult': [0.5, 'p']}, {'key': 'tag', 'match': {'any': ['x']}},"
        + " {'exp_decay': {'x': {'geo_distance': {'origin': {'lon': 2.35, 'lat': 48.85}, 'to': 'loc'}}, 'scale': 1000, 'target': 1,"
        + " 'midpoint': 0.3}}, {'div': {'left': '$score[1]', 'right': {'abs': 'n'}, 'by_zero_default': 0}},"
        + " {'pow': {'base': 2, 'exponent': {'datetime': '2024-01-01'}}}, {'datetime_key': 'd'}]}, 'defaults': {'p': 1, '$score[1]': 0.25}}},"
        + " {'query': {'nearest': [1, 0], 'mmr': {'diversity': 0.5, 'candidates_limit': 100}}, 'using': 'img'},"
        + " {'query': {'recommend': {'positive': [1, [0.5, 0.5]], 'negative': [2], 'strategy': 'sum_scores'}},"
        + " 'lookup_from': {'collection': 'x', 'vector': 'y'}},"
        + " {'query': {'discover': {'target': 1, 'context': [{'positive': 2, 'negative': 3}]}}},"
        + " {'query': {'context': {'positive': 2, 'negative': 3}}}, {'query': {'order_by': {'key': 'p', 'direction': 'desc',"
        + " 'start_from': 3}}}, {'query': {'model': 'qdrant/bm25', 'text': 'hello', 'options': {'language': 'english'}}}],"
        + " 'query': {'rrf': {'k': 3}}, 'limit': 5, 'offset': 2, 'with_payload': ['city'], 'with_vectors': ['img'],"
        + " 'params': {'hnsw_ef': 3, 'quantization': {'oversampling': 2}}, 'score_threshold': 0.1,"
        + " 'shard_key': {'target': ['a'], 'fallback': 'b'}}");
    m.put(StorageOp.QUERY_GROUPS, "{'query': {'fusion': 'dbsf'}, 'prefetch': {'query': [[1], [2]]}, 'group_by': 'g', 'group_size': 2,"
        + " 'limit': 1, 'with_lookup': {'collection': 'x', 'with_payload': {'include': ['a']}, 'with_vectors': true}}");
    m.put(StorageOp.UPSERT_POINTS, "{'batch': {'ids': [1, 2], 'vectors': {'a': [[1, 2], [3, 4]], 'm': [[[1]], [[2]]],"
        + " 's': [{'indices': [1], 'values': [1]}, {'indices': [], 'values': []}],"
        + " 'b': [{'model': 'bm25', 'text': 'x', 'options': {'k': 1, 'language': 'french'}}, {'model': 'qdrant/bm25', 'text': 'y'}]},"
        + " 'payloads': [{'a': 1}, null]}, 'update_filter': {'should': [{'has_id': [1]}], 'min_should': {'conditions': [{'is_null':"
        + " {'key': 'x'}}], 'min_count': 1}}, 'shard_key': 'k'}");
    m.put(StorageOp.SEARCH_GROUPS, "{'vector': {'name': 'a', 'vector': {'indices': [1], 'values': [1]}}, 'group_by': 'a',"
        + " 'group_size': 2, 'limit': 1, 'offset': 1, 'params': {'hnsw_ef': 1, 'exact': true}, 'score_threshold': 1,"
        + " 'with_lookup': {'collection': 'x', 'with_payload': true, 'with_vectors': true}}");
    m.put(StorageOp.RECOMMEND_POINTS, "{'positive': [1], 'negative': [[1, 2]], 'strategy': 'best_score', 'using': 'a',"
        + " 'lookup_from': {'collection': 'x', 'vector': 'y'}, 'limit': 1, 'filter': {'must_not': {'nested': {'key': 'n',"
        + " 'filter': {'must': {'key': 'x', 'values_count': {'gt': 1}}}}}}}");
    m.put(StorageOp.CREATE_COLLECTION, "{'vectors': {'a': {'size': 4, 'distance': 'Cosine', 'hnsw_config': {'m': 4},"
        + " 'quantization_config': {'scalar': {'type': 'int8', 'quantile': 0.9}}, 'on_disk': true, 'datatype': 'float16',"
        + " 'multivector_config': {'comparator': 'max_sim'}}}, 'sparse_vectors': {'s': {'index': {'full_scan_threshold': 1,"
        + " 'on_disk': true, 'datatype': 'uint8'}, 'modifier': 'idf'}}, 'hnsw_config': {'m': 3}, 'optimizers_config':"
        + " {'deleted_threshold': 0.3}, 'wal_config': {'wal_capacity_mb': 3}, 'quantization_config': {'product': {'compression': 'x4'}},"
        + " 'strict_mode_config': {'enabled': true}, 'metadata': {'a': 1}, 'shard_number': 2, 'sharding_method': 'auto',"
        + " 'on_disk_payload': false}");
    m.put(StorageOp.UPDATE_COLLECTION, "{'vectors': {'a': {'hnsw_config': {'m': 4}, 'quantization_config': {'binary': {}},"
        + " 'on_disk': true}}, 'params': {'replication_factor': 2, 'on_disk_payload': true, 'read_fan_out_factor': 1},"
        + " 'hnsw_config': {'m': 3}, 'optimizers_config': {'deleted_threshold': 0.3}, 'quantization_config': {'scalar': {'type': 'int8'}},"
        + " 'sparse_vectors': {'s': {'modifier': 'none'}}, 'strict_mode_config': {'enabled': true}, 'metadata': {'a': 1}}");
    m.put(StorageOp.CREATE_FIELD_INDEX, "{'field_name': 't', 'field_schema': {'type': 'text', 'tokenizer': 'word', 'min_token_len': 2,"
        + " 'stopwords': {'languages': ['english'], 'custom': ['a']}, 'stemmer': {'type': 'snowball', 'language': 'english'},"
        + " 'phrase_matching': true}}");
    m.put(StorageOp.UPDATE_VECTORS, "{'points': [{'id': 1, 'vector': {'a': [1], 's': {'indices': [1], 'values': [2]}}}],"
        + " 'update_filter': {'must': {'has_id': [1]}}}");
    return m;
  }

  private static final List<String> PARAM_NAMES = List.of("wait", "timeout", "ordering", "consistency", "id", "shard_id",
      "snapshot_name", "field_name", "upload_file", "checksum");
  private static final List<String> ODD_PARAMS = List.of("", "x", "-1", "0", "99999999999999999999", "1.5", " 1", "true", "\u0000");

  private static List<JsonNode> oddValues() {
    return List.of(F.nullNode(), F.booleanNode(true), F.numberNode(-1), F.numberNode(0), F.numberNode(1.5), F.numberNode(-0.0),
        F.numberNode(1e300), F.numberNode(Double.NaN), F.numberNode(Long.MAX_VALUE), F.numberNode(Long.MIN_VALUE),
        F.numberNode(new BigInteger("1180591620717411303424")), F.textNode(""), F.textNode("x"), F.textNode("a..b"), F.textNode("$"),
        F.textNode("$score[99999999999999999999]"), F.textNode("2024-13-45"), F.arrayNode(), F.arrayNode().add(F.arrayNode()),
        F.arrayNode().addNull(), F.arrayNode().add("x"), F.arrayNode().add(1).add(F.arrayNode()), F.objectNode(),
        F.objectNode().put("x", 1));
  }

  private static void check(StorageOp op, JsonNode body, Map<String, String> params, List<String> failures) {
    try {
      op.parse("c", body, params);
    } catch (ApiException e) {
      if (e.status() < 400 || e.status() >= 500) {
        failures.add(op + " " + body + " " + params + " -> " + e.status() + " " + e.getMessage());
      }
    } catch (RuntimeException e) {
      failures.add(op + " " + body + " " + params + " -> " + e);
    }
  }

  /** JSON pointers of every field and element of {@code root}, the root itself ("") included. */
  private static List<String> paths(JsonNode root) {
    List<String> out = new ArrayList<>();
    out.add("");
    collect(root, "", out);
    return out;
  }

  private static void collect(JsonNode n, String at, List<String> out) {
    if (n.isObject()) {
      n.properties().forEach(e -> {
        String p = at + "/" + e.getKey().replace("~", "~0").replace("/", "~1");
        out.add(p);
        collect(e.getValue(), p, out);
      });
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        out.add(at + "/" + i);
        collect(n.get(i), at + "/" + i, out);
      }
    }
  }

  private static JsonNode replace(JsonNode root, String path, JsonNode value) {
    if (path.isEmpty()) {
      return value;
    }
    int cut = path.lastIndexOf('/');
    JsonNode parent = root.at(path.substring(0, cut));
    String last = path.substring(cut + 1).replace("~1", "/").replace("~0", "~");
    if (parent instanceof ObjectNode o) {
      o.set(last, value);
    } else {
      ((ArrayNode) parent).set(Integer.parseInt(last), value);
    }
    return root;
  }

  private static void drop(JsonNode root, String path) {
    if (path.isEmpty()) {
      return;
    }
    int cut = path.lastIndexOf('/');
    JsonNode parent = root.at(path.substring(0, cut));
    String last = path.substring(cut + 1).replace("~1", "/").replace("~0", "~");
    if (parent instanceof ObjectNode o) {
      o.remove(last);
    } else {
      ((ArrayNode) parent).remove(Integer.parseInt(last));
    }
  }

  // ---- helpers ----

  private static String upsertBody() {
    return "{'points': [{'id': 1, 'vector': [1]}]}";
  }

  private static String formula(String expression) {
    return "{'prefetch': {'query': [1]}, 'query': {'formula': " + expression + "}}";
  }

  private static void assertFormat(String message, StorageOp op, String body) {
    assertError(400, "Format error in JSON body: " + message, op, body);
  }

  private static void assertValidation(String errors, StorageOp op, String body) {
    assertError(422, "Validation error in JSON body: [" + errors + "]", op, body);
  }

  /** Parses as REST would for collection {@code c} and expects this refusal; params as name, value, ... */
  private static void assertError(int status, String message, StorageOp op, String body, String... params) {
    Map<String, String> p = new HashMap<>();
    for (int i = 0; i < params.length; i += 2) {
      p.put(params[i], params[i + 1]);
    }
    ApiException e = assertThrows(ApiException.class, () -> op.parse("c", body == null ? null : json(body), p),
        () -> op + " " + body + " " + p);
    assertEquals(message, e.getMessage(), () -> op + " " + body + " " + p);
    assertEquals(status, e.status(), () -> op + " " + body + " " + p + ": " + e.getMessage());
  }
}
