package io.quiver.storage.strict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.ActionCodec;
import io.quiver.engine.DocMapper;
import io.quiver.engine.Shard;
import io.quiver.engine.wal.FsyncPolicy;
import io.quiver.engine.wal.WalOptions;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.Access;
import io.quiver.request.CollectionRequest;
import io.quiver.request.PointWrite;
import io.quiver.request.Request;
import io.quiver.request.StorageOp;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.CollectionService;
import io.quiver.storage.point.PointWrites;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strict mode on the typed request, operation by operation: each limit of {@code
 * strict_mode_config} refuses what exceeds it with Qdrant's message ({@code Bad request: <what>.
 * Help: <how>}) and lets the rest through, alike for the universal query and the legacy search,
 * recommend and discover forms parsed into it; the rate limiters charge Qdrant's costs and answer
 * 429 with the seconds to wait.
 *
 * <p>Each test makes a fresh collection (so a fresh rate limiter) with vectors {@code d} (Dot, 4,
 * HNSW), {@code flat} (m = 0, payload_m = 16), {@code bare} (m = 0, payload_m = 0), {@code mv} (a
 * max_sim multivector of size 2) and sparse {@code sp}; indexes on {@code color} (keyword), {@code
 * n} (integer), {@code tenant} (keyword, tenant) and {@code rating} (float); ten points. The
 * requests are parsed by their {@link StorageOp}, as an edge parses them, and given to {@link
 * StrictMode#check}; nothing runs them.
 */
@Timeout(60)
class StrictModeTest {
  private static final Shard.Options OPTIONS = new Shard.Options(new WalOptions(FsyncPolicy.ALWAYS, 0, 1 << 20), 3_600_000, 3_600_000);
  private static final String VECTORS = "\"vectors\": {\"d\": {\"size\": 4, \"distance\": \"Dot\"}, "
      + "\"flat\": {\"size\": 4, \"distance\": \"Dot\", \"hnsw_config\": {\"m\": 0, \"payload_m\": 16}}, "
      + "\"bare\": {\"size\": 4, \"distance\": \"Dot\", \"hnsw_config\": {\"m\": 0, \"payload_m\": 0}}, "
      + "\"mv\": {\"size\": 2, \"distance\": \"Cosine\", \"multivector_config\": {\"comparator\": \"max_sim\"}}}, "
      + "\"sparse_vectors\": {\"sp\": {}}";
  private static final String V = "[0.1, 0.2, 0.3, 0.4]";
  private static final String PRICE = "{\"must\": [{\"key\": \"price\", \"range\": {\"gte\": 1}}]}";
  private static final String COLOR = "{\"must\": [{\"key\": \"color\", \"match\": {\"value\": \"red\"}}]}";

  @TempDir static Path dir;
  static ScheduledExecutorService scheduler;
  static Catalogue catalogue;
  static CollectionService collections;
  static int created;

  final StrictMode strict = new StrictMode();

  @BeforeAll
  static void open() throws IOException {
    scheduler = Executors.newSingleThreadScheduledExecutor();
    var codec = new ActionCodec(Json.MAPPER);
    var docs = new DocMapper(Json.MAPPER);
    catalogue = new Catalogue(dir, Json.MAPPER);
    collections = new CollectionService(catalogue,
        io.quiver.storage.query.LocalShard.opener((path, schema) -> Shard.open(path, schema, OPTIONS, codec, docs, scheduler), Runnable::run));
  }

  @AfterAll
  static void close() throws IOException {
    for (Collection c : catalogue.closeAll()) {
      c.close();
    }
    scheduler.shutdownNow();
  }

  // ---- limits of searches ----

  @Test
  void queryLimitBoundsEveryFormAlike() throws IOException {
    Collection c = collection("\"max_query_limit\": 5");
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"limit\": 5}");
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"limit\": 6}", limit(6, 5, "limit"));
    // without a limit, a query returns 10
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\"}", limit(10, 5, "limit"));
    refused(c, StorageOp.QUERY_POINTS, "{\"prefetch\": {\"query\": " + V + ", \"using\": \"d\", \"limit\": 6}, "
        + "\"query\": {\"fusion\": \"rrf\"}, \"limit\": 5}", limit(6, 5, "limit"));

    allowed(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 5}");
    refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 6}", limit(6, 5, "limit"));
    refused(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 6}", limit(6, 5, "limit"));
    refused(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"context\": [{\"positive\": 2, \"negative\": 3}], "
        + "\"using\": \"d\", \"limit\": 6}", limit(6, 5, "limit"));
    allowed(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 5}");

    String ok = "{\"query\": " + V + ", \"using\": \"d\", \"limit\": 5}";
    String over = "{\"query\": " + V + ", \"using\": \"d\", \"limit\": 6}";
    refused(c, StorageOp.QUERY_BATCH, "{\"searches\": [" + ok + ", " + over + "]}", limit(6, 5, "limit"));
    refused(c, StorageOp.SEARCH_BATCH, "{\"searches\": [{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 5}, "
        + "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 6}]}", limit(6, 5, "limit"));
    refused(c, StorageOp.RECOMMEND_BATCH, "{\"searches\": [{\"positive\": [1], \"using\": \"d\", \"limit\": 6}]}", limit(6, 5, "limit"));
    refused(c, StorageOp.DISCOVER_BATCH, "{\"searches\": [{\"target\": 1, \"using\": \"d\", \"limit\": 6}]}", limit(6, 5, "limit"));
    allowed(c, StorageOp.QUERY_BATCH, "{\"searches\": [" + ok + ", " + ok + "]}");

    // groups: the limit counts groups of group_size points
    String groups = "\"group_by\": \"color\", \"group_size\": 2, \"limit\": 3";
    refused(c, StorageOp.QUERY_GROUPS, "{\"query\": " + V + ", \"using\": \"d\", " + groups + "}", limit(6, 5, "limit"));
    refused(c, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, " + groups + "}", limit(6, 5, "limit"));
    refused(c, StorageOp.RECOMMEND_GROUPS, "{\"positive\": [1], \"using\": \"d\", " + groups + "}", limit(6, 5, "limit"));
    refused(c, StorageOp.QUERY_GROUPS, "{\"query\": " + V + ", \"using\": \"d\", \"group_by\": \"color\"}", limit(30, 5, "limit"));
    String fits = "\"group_by\": \"color\", \"group_size\": 1, \"limit\": 5";
    allowed(c, StorageOp.QUERY_GROUPS, "{\"query\": " + V + ", \"using\": \"d\", " + fits + "}");
    allowed(c, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, " + fits + "}");
    allowed(c, StorageOp.RECOMMEND_GROUPS, "{\"positive\": [1], \"using\": \"d\", " + fits + "}");

    // the distance matrix: sample × limit
    refused(c, StorageOp.SEARCH_MATRIX_PAIRS, "{\"sample\": 3, \"limit\": 2, \"using\": \"d\"}", limit(6, 5, "limit"));
    refused(c, StorageOp.SEARCH_MATRIX_OFFSETS, "{\"using\": \"d\"}", limit(30, 5, "limit"));
    allowed(c, StorageOp.SEARCH_MATRIX_OFFSETS, "{\"sample\": 5, \"limit\": 1, \"using\": \"d\"}");

    refused(c, StorageOp.SCROLL_POINTS, "{\"limit\": 6}", limit(6, 5, "limit"));
    refused(c, StorageOp.FACET, "{\"key\": \"color\", \"limit\": 6}", limit(6, 5, "limit"));
    allowed(c, StorageOp.SCROLL_POINTS, "{\"limit\": 5}");
    allowed(c, StorageOp.COUNT_POINTS, "{}");
  }

  @Test
  void timeoutIsBounded() throws IOException {
    Collection c = collection("\"max_timeout\": 3");
    Map<String, String> over = Map.of("timeout", "4");
    Map<String, String> fits = Map.of("timeout", "3");
    String search = "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3}";
    String query = "{\"query\": " + V + ", \"using\": \"d\"}";
    String groups = "{\"query\": " + V + ", \"using\": \"d\", \"group_by\": \"color\"}";
    for (var request : List.of(Map.entry(StorageOp.QUERY_POINTS, query), Map.entry(StorageOp.SEARCH_POINTS, search),
        Map.entry(StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3}"),
        Map.entry(StorageOp.QUERY_GROUPS, groups), Map.entry(StorageOp.SCROLL_POINTS, "{}"),
        Map.entry(StorageOp.COUNT_POINTS, "{}"), Map.entry(StorageOp.GET_POINTS, "{\"ids\": [1, 2]}"),
        Map.entry(StorageOp.SEARCH_MATRIX_PAIRS, "{\"using\": \"d\"}"))) {
      refused(c, request.getKey(), request.getValue(), over, limit(4, 3, "timeout"));
      allowed(c, request.getKey(), request.getValue(), fits);
    }
  }

  @Test
  void searchParamsAreBounded() throws IOException {
    Collection c = collection("\"search_max_hnsw_ef\": 50, \"search_max_oversampling\": 2.0");
    for (String params : List.of("{\"hnsw_ef\": 51}", "{\"quantization\": {\"oversampling\": 3}}",
        "{\"quantization\": {\"oversampling\": 2.5}}")) {
      String message = params.contains("hnsw_ef") ? limit(51, 50, "hnsw_ef")
          : params.contains("2.5") ? bad("Limit exceeded 2.5 > 2 for \"oversampling\"", "Reduce the \"oversampling\" parameter to or below 2.")
          : limit(3, 2, "oversampling");
      String p = "\"params\": " + params;
      refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", " + p + "}", message);
      refused(c, StorageOp.QUERY_POINTS, "{\"prefetch\": {\"query\": " + V + ", \"using\": \"d\", " + p + "}, "
          + "\"query\": {\"fusion\": \"rrf\"}}", message);
      refused(c, StorageOp.QUERY_GROUPS, "{\"query\": " + V + ", \"using\": \"d\", \"group_by\": \"color\", " + p + "}", message);
      refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, " + p + "}", message);
      refused(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3, " + p + "}", message);
      refused(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"using\": \"d\", \"limit\": 3, " + p + "}", message);
      refused(c, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"group_by\": \"color\", "
          + "\"group_size\": 1, \"limit\": 3, " + p + "}", message);
    }
    String p = "\"params\": {\"hnsw_ef\": 50, \"quantization\": {\"oversampling\": 2}}";
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", " + p + "}");
    allowed(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, " + p + "}");
  }

  @Test
  void exactSearchAndFullScans() throws IOException {
    Collection c = collection("\"search_allow_exact\": false");
    String exact = bad("Exact search disabled!", "Set exact=false.");
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"params\": {\"exact\": true}}", exact);
    refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, "
        + "\"params\": {\"exact\": true}}", exact);
    refused(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3, \"params\": {\"exact\": true}}", exact);
    refused(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"using\": \"d\", \"limit\": 3, \"params\": {\"exact\": true}}", exact);
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"params\": {\"exact\": false}}");
    allowed(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, "
        + "\"params\": {\"exact\": false}}");

    // a vector without an HNSW graph (m = 0) would be scanned whole: refused for the query, not for the legacy search (as Qdrant)
    String global = bad("Request is forbidden on 'flat' because global vector indexing is disabled (hnsw_config.m = 0)",
        "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option");
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"flat\"}", global);
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": {\"recommend\": {\"positive\": [1]}}, \"using\": \"flat\"}", global);
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"flat\", \"filter\": " + COLOR + "}", global);
    refused(c, StorageOp.QUERY_POINTS, "{\"prefetch\": {\"query\": " + V + ", \"using\": \"flat\"}, \"query\": {\"fusion\": \"rrf\"}}",
        global);
    refused(c, StorageOp.QUERY_GROUPS, "{\"query\": " + V + ", \"using\": \"flat\", \"group_by\": \"color\"}", global);
    refused(c, StorageOp.QUERY_BATCH, "{\"searches\": [{\"query\": " + V + ", \"using\": \"flat\"}]}", global);
    allowed(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"flat\", \"vector\": " + V + "}, \"limit\": 3}");
    allowed(c, StorageOp.SEARCH_BATCH, "{\"searches\": [{\"vector\": {\"name\": \"flat\", \"vector\": " + V + "}, \"limit\": 3}]}");
    allowed(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"flat\", \"limit\": 3}");
    allowed(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"using\": \"flat\", \"limit\": 3}");
    allowed(c, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"flat\", \"vector\": " + V + "}, \"group_by\": \"color\", "
        + "\"group_size\": 1, \"limit\": 3}");
    allowed(c, StorageOp.RECOMMEND_GROUPS, "{\"positive\": [1], \"using\": \"flat\", \"group_by\": \"color\", "
        + "\"group_size\": 1, \"limit\": 3}");
    // a tenant's filter searches its own graph (payload_m); rescoring prefetched points scans nothing; sparse vectors are indexed
    String tenant = "{\"must\": [{\"key\": \"tenant\", \"match\": {\"value\": \"t1\"}}]}";
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"flat\", \"filter\": " + tenant + "}");
    allowed(c, StorageOp.QUERY_POINTS, "{\"prefetch\": {\"query\": " + V + ", \"using\": \"d\"}, \"query\": " + V + ", \"using\": \"flat\"}");
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": {\"indices\": [1, 2], \"values\": [0.5, 0.5]}, \"using\": \"sp\"}");
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\"}");
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"bare\", \"filter\": " + tenant + "}",
        bad("Request is forbidden on 'bare' because vector indexing is disabled (hnsw_config.m = 0 and hnsw_config.payload_m = 0)",
            "Enable vector indexing, use a prefetch query with indexed vectors or enable strict mode `search_allow_exact` option"));

    // the unnamed vector of a collection without a graph: no vector named in the message
    Collection unnamed = create("{\"vectors\": {\"size\": 4, \"distance\": \"Dot\"}, \"hnsw_config\": {\"m\": 0}, "
        + "\"strict_mode_config\": {\"enabled\": true, \"search_allow_exact\": false}}");
    refused(unnamed, StorageOp.QUERY_POINTS, "{\"query\": " + V + "}",
        bad("Request is forbidden because global vector indexing is disabled (hnsw_config.m = 0)",
            "Use tenant-specific filter, enable global vector indexing or enable strict mode `search_allow_exact` option"));
    allowed(unnamed, StorageOp.SEARCH_POINTS, "{\"vector\": " + V + ", \"limit\": 3}");
  }

  // ---- filters ----

  @Test
  void unindexedKeysAreRefusedForReads() throws IOException {
    Collection c = collection("\"unindexed_filtering_retrieve\": false");
    String price = bad("Index required but not found for \"price\" of one of the following types: [float, integer]",
        "Create an index for this key or use a different filter.");
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.QUERY_POINTS, "{\"prefetch\": {\"query\": " + V + ", \"using\": \"d\", \"filter\": " + PRICE + "}, "
        + "\"query\": {\"fusion\": \"rrf\"}}", price);
    refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, \"filter\": " + PRICE + "}",
        price);
    refused(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3, \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"using\": \"d\", \"limit\": 3, \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"group_by\": \"color\", "
        + "\"group_size\": 1, \"limit\": 3, \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.SCROLL_POINTS, "{\"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.COUNT_POINTS, "{\"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.FACET, "{\"key\": \"color\", \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.SEARCH_MATRIX_PAIRS, "{\"using\": \"d\", \"filter\": " + PRICE + "}", price);
    // a condition of min_should counts as any other
    refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": {\"min_should\": {\"conditions\": ["
        + "{\"key\": \"color\", \"match\": {\"value\": \"red\"}}, {\"key\": \"price\", \"range\": {\"lt\": 3}}], \"min_count\": 1}}}", price);
    // a nested key is the array's key with []
    refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, \"filter\": {\"must\": "
        + "[{\"nested\": {\"key\": \"items\", \"filter\": {\"must\": [{\"key\": \"k\", \"match\": {\"value\": 1}}]}}}]}}",
        bad("Index required but not found for \"items[].k\" of one of the following types: [integer]",
            "Create an index for this key or use a different filter."));
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": " + COLOR + "}");
    allowed(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, \"filter\": {\"must\": ["
        + "{\"key\": \"n\", \"range\": {\"gte\": 2}}, {\"key\": \"n\", \"match\": {\"value\": 3}}, {\"has_id\": [1, 2]}]}}");

    // formula variables need an index of their type
    String prefetch = "\"prefetch\": {\"query\": " + V + ", \"using\": \"d\"}, ";
    refused(c, StorageOp.QUERY_POINTS, "{" + prefetch + "\"query\": {\"formula\": {\"sum\": [\"$score\", \"price\"]}}}",
        bad("Index required but not found for \"price\" of one of the following types: [float, integer]",
            "Create an index for this key or use a different formula expression."));
    allowed(c, StorageOp.QUERY_POINTS, "{" + prefetch + "\"query\": {\"formula\": {\"sum\": [\"$score\", \"n\", \"rating\"]}}}");

    // group_by needs an index that can match values
    for (StorageOp op : List.of(StorageOp.QUERY_GROUPS, StorageOp.SEARCH_GROUPS)) {
      String query = op == StorageOp.QUERY_GROUPS ? "\"query\": " + V + ", \"using\": \"d\""
          : "\"vector\": {\"name\": \"d\", \"vector\": " + V + "}";
      String sizes = ", \"group_size\": 1, \"limit\": 3}";
      refused(c, op, "{" + query + ", \"group_by\": \"price\"" + sizes,
          bad("Index required but not found for \"price\"", "Create an index supporting `match` for this key."));
      refused(c, op, "{" + query + ", \"group_by\": \"rating\"" + sizes,
          bad("Index of type \"Float\" found for \"rating\"", "Create an index supporting `match` for this key."));
      allowed(c, op, "{" + query + ", \"group_by\": \"color\"" + sizes);
      allowed(c, op, "{" + query + ", \"group_by\": \"n\"" + sizes);
    }
    refused(c, StorageOp.RECOMMEND_GROUPS, "{\"positive\": [1], \"using\": \"d\", \"group_by\": \"price\", \"group_size\": 1, \"limit\": 3}",
        bad("Index required but not found for \"price\"", "Create an index supporting `match` for this key."));

    // updates are not reads
    allowed(c, StorageOp.DELETE_POINTS, "{\"filter\": " + PRICE + "}");
  }

  @Test
  void unindexedKeysAreRefusedForFilteredUpdates() throws IOException {
    Collection c = collection("\"unindexed_filtering_update\": false");
    String price = bad("Index required but not found for \"price\" of one of the following types: [float, integer]",
        "Create an index for this key or use a different filter.");
    refused(c, StorageOp.DELETE_POINTS, "{\"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.SET_PAYLOAD, "{\"payload\": {\"x\": 1}, \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.CLEAR_PAYLOAD, "{\"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.DELETE_VECTORS, "{\"vector\": [\"d\"], \"filter\": " + PRICE + "}", price);
    refused(c, StorageOp.BATCH_UPDATE, "{\"operations\": [{\"delete\": {\"filter\": " + PRICE + "}}]}", price);
    allowed(c, StorageOp.DELETE_POINTS, "{\"filter\": " + COLOR + "}");
    allowed(c, StorageOp.DELETE_POINTS, "{\"points\": [1, 2]}");
    // reads are not updates
    allowed(c, StorageOp.SCROLL_POINTS, "{\"filter\": " + PRICE + "}");
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": " + PRICE + "}");
  }

  @Test
  void filterSizeIsBounded() throws IOException {
    Collection c = collection("\"filter_max_conditions\": 2, \"condition_max_size\": 3");
    String a = "{\"key\": \"color\", \"match\": {\"value\": \"red\"}}";
    String b = "{\"key\": \"n\", \"range\": {\"gte\": 2}}";
    String three = bad("Filter condition limit reached (3 > 2)", "Reduce the amount of conditions of your filter.");
    for (String filter : List.of("{\"must\": [" + a + ", " + b + ", " + a + "]}",
        "{\"must\": [" + a + "], \"should\": [" + a + "], \"must_not\": [" + b + "]}",
        // min_should's conditions count too
        "{\"must\": [" + a + "], \"min_should\": {\"conditions\": [" + a + ", " + b + "], \"min_count\": 1}}",
        // nested filters count by their conditions
        "{\"must\": [{\"must\": [" + a + ", " + b + "]}, {\"nested\": {\"key\": \"items\", \"filter\": {\"must\": [" + b + "]}}}]}")) {
      refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": " + filter + "}", three);
      refused(c, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, \"filter\": " + filter + "}",
          three);
      refused(c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3, \"filter\": " + filter + "}", three);
      refused(c, StorageOp.SCROLL_POINTS, "{\"filter\": " + filter + "}", three);
      refused(c, StorageOp.DELETE_POINTS, "{\"filter\": " + filter + "}", three);
    }
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": {\"must\": [" + a + "], "
        + "\"min_should\": {\"conditions\": [" + b + "], \"min_count\": 1}}}");

    String four = bad("Condition size limit reached (4 > 3)", "Reduce the size of your condition.");
    for (String filter : List.of("{\"must\": [{\"key\": \"color\", \"match\": {\"any\": [\"a\", \"b\", \"c\", \"d\"]}}]}",
        "{\"must_not\": [{\"key\": \"n\", \"match\": {\"except\": [1, 2, 3, 4]}}]}",
        "{\"min_should\": {\"conditions\": [{\"has_id\": [1, 2, 3, 4]}], \"min_count\": 1}}")) {
      refused(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": " + filter + "}", four);
      refused(c, StorageOp.DISCOVER_POINTS, "{\"target\": 1, \"using\": \"d\", \"limit\": 3, \"filter\": " + filter + "}", four);
      refused(c, StorageOp.COUNT_POINTS, "{\"filter\": " + filter + "}", four);
    }
    allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", \"filter\": {\"must\": [{\"has_id\": [1, 2, 3]}]}}");
  }

  // ---- limits of updates ----

  @Test
  void upsertBatchSizeIsBounded() throws IOException {
    Collection c = collection("\"upsert_max_batchsize\": 2");
    String three = "{\"points\": [{\"id\": 21, \"vector\": {\"d\": " + V + "}}, {\"id\": 22, \"vector\": {\"d\": " + V + "}}, "
        + "{\"id\": 23, \"vector\": {\"d\": " + V + "}}]}";
    refused(c, StorageOp.UPSERT_POINTS, three, limit(3, 2, "upsert limit"));
    refused(c, StorageOp.UPSERT_POINTS, "{\"batch\": {\"ids\": [21, 22, 23], \"vectors\": {\"d\": [" + V + ", " + V + ", " + V + "]}}}",
        limit(3, 2, "upsert limit"));
    refused(c, StorageOp.BATCH_UPDATE, "{\"operations\": [{\"upsert\": " + three + "}]}", limit(3, 2, "upsert limit"));
    refused(c, StorageOp.UPDATE_VECTORS, "{\"points\": [{\"id\": 1, \"vector\": {\"d\": " + V + "}}, {\"id\": 2, \"vector\": {\"d\": "
        + V + "}}, {\"id\": 3, \"vector\": {\"d\": " + V + "}}]}", limit(3, 2, "update limit"));
    allowed(c, StorageOp.UPSERT_POINTS, "{\"points\": [{\"id\": 21, \"vector\": {\"d\": " + V + "}}, {\"id\": 22, \"vector\": {}}]}");
  }

  @Test
  void pointsCountIsBounded() throws IOException {
    Collection c = collection("\"max_points_count\": 10");
    String one = "{\"points\": [{\"id\": 100, \"vector\": {\"d\": " + V + "}}]}";
    refused(c, StorageOp.UPSERT_POINTS, one, "Bad request: Max points count limit of 10 reached!");
    allowed(c, StorageOp.DELETE_POINTS, "{\"points\": [1]}");
    strictUpdate(c, "\"max_points_count\": 11");
    allowed(c, StorageOp.UPSERT_POINTS, one);
  }

  @Test
  void multivectorAndSparseSizesAreBounded() throws IOException {
    Collection c = collection("\"multivector_config\": {\"mv\": {\"max_vectors\": 2}}, \"sparse_config\": {\"sp\": {\"max_length\": 3}}");
    String rows = "Bad request: Multivector 'mv' has a limit of 2 vectors, but 3 were provided!";
    String indices = "Bad request: Sparse vector 'sp' has a limit of 3 indices, but 4 were provided!";
    String mv3 = "{\"mv\": [[1, 0], [0, 1], [1, 1]]}";
    String sp4 = "{\"sp\": {\"indices\": [1, 2, 3, 4], \"values\": [1, 1, 1, 1]}}";
    refused(c, StorageOp.UPSERT_POINTS, "{\"points\": [{\"id\": 1, \"vector\": " + mv3 + "}]}", rows);
    refused(c, StorageOp.UPDATE_VECTORS, "{\"points\": [{\"id\": 1, \"vector\": " + mv3 + "}]}", rows);
    refused(c, StorageOp.UPSERT_POINTS, "{\"points\": [{\"id\": 1, \"vector\": " + sp4 + "}]}", indices);
    refused(c, StorageOp.BATCH_UPDATE, "{\"operations\": [{\"update_vectors\": {\"points\": [{\"id\": 1, \"vector\": " + sp4 + "}]}}]}",
        indices);
    allowed(c, StorageOp.UPSERT_POINTS, "{\"points\": [{\"id\": 1, \"vector\": {\"mv\": [[1, 0], [0, 1]], "
        + "\"sp\": {\"indices\": [1, 2, 3], \"values\": [1, 1, 1]}}}]}");
  }

  @Test
  void payloadIndexCountIsBounded() throws IOException {
    Collection c = collection("\"max_payload_index_count\": 4");
    refused(c, StorageOp.CREATE_FIELD_INDEX, "{\"field_name\": \"price\", \"field_schema\": \"float\"}",
        bad("Collection already has the maximum number of payload indices (4)", "Please delete an existing index before creating a new one."));
    // replacing an index adds none
    allowed(c, StorageOp.CREATE_FIELD_INDEX, "{\"field_name\": \"color\", \"field_schema\": \"keyword\"}");
    strictUpdate(c, "\"max_payload_index_count\": 5");
    allowed(c, StorageOp.CREATE_FIELD_INDEX, "{\"field_name\": \"price\", \"field_schema\": \"float\"}");
  }

  @Test
  void disabledStrictModeLimitsNothing() throws IOException {
    Collection c = create("{" + VECTORS + ", \"strict_mode_config\": {\"enabled\": false, \"max_query_limit\": 1, "
        + "\"search_allow_exact\": false, \"unindexed_filtering_retrieve\": false, \"read_rate_limit\": 1}}");
    for (int i = 0; i < 3; i++) {
      allowed(c, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"flat\", \"limit\": 5, \"params\": {\"exact\": true}, "
          + "\"filter\": " + PRICE + "}");
    }
  }

  // ---- rate limits ----

  @Test
  void readCostsAreQdrants() throws IOException {
    Collection c = collection("\"read_rate_limit\": 100");
    String sparse64 = sparse(64);
    // a search: one per vector; an id costs its fetch and the filter that leaves it out too (Qdrant's test_strictmode)
    cost(c, 1, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\"}");
    cost(c, 1, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3}");
    cost(c, 3, StorageOp.QUERY_POINTS, "{\"query\": 1, \"using\": \"d\"}");
    // a multivector costs its rows, a sparse vector one per 64 indices
    cost(c, 3, StorageOp.QUERY_POINTS, "{\"query\": [[1, 0], [0, 1], [1, 1]], \"using\": \"mv\"}");
    cost(c, 3, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"mv\", \"vector\": [[1, 0], [0, 1], [1, 1]]}, \"limit\": 3}");
    cost(c, 1, StorageOp.QUERY_POINTS, "{\"query\": " + sparse64 + ", \"using\": \"sp\"}");
    cost(c, 2, StorageOp.QUERY_POINTS, "{\"query\": " + sparse(65) + ", \"using\": \"sp\"}");
    cost(c, 3, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"sp\", \"vector\": " + sparse(130) + "}, \"limit\": 3}");
    // an average recommendation searches one vector; the other strategies score every example
    String examples = "\"positive\": [1, 2, 3], \"negative\": [4, 5]";
    cost(c, 1, StorageOp.RECOMMEND_POINTS, "{" + examples + ", \"using\": \"d\", \"limit\": 3}");
    cost(c, 1, StorageOp.QUERY_POINTS, "{\"query\": {\"recommend\": {" + examples + "}}, \"using\": \"d\"}");
    for (String strategy : List.of("best_score", "sum_scores")) {
      cost(c, 5, StorageOp.RECOMMEND_POINTS, "{" + examples + ", \"strategy\": \"" + strategy + "\", \"using\": \"d\", \"limit\": 3}");
      cost(c, 5, StorageOp.QUERY_POINTS, "{\"query\": {\"recommend\": {" + examples + ", \"strategy\": \"" + strategy + "\"}}, "
          + "\"using\": \"d\"}");
    }
    String sparseExamples = "\"positive\": [" + sparse(65) + ", 1], \"negative\": [" + sparse64 + "], \"strategy\": \"best_score\"";
    cost(c, 4, StorageOp.RECOMMEND_POINTS, "{" + sparseExamples + ", \"using\": \"sp\", \"limit\": 3}");
    cost(c, 4, StorageOp.QUERY_POINTS, "{\"query\": {\"recommend\": {" + sparseExamples + "}}, \"using\": \"sp\"}");
    cost(c, 1, StorageOp.RECOMMEND_POINTS, "{\"positive\": [" + sparse(130) + "], \"using\": \"sp\", \"limit\": 3}");
    // discovery: the target and both sides of every pair
    String pairs = "[{\"positive\": 1, \"negative\": 2}, {\"positive\": 3, \"negative\": " + V + "}]";
    cost(c, 5, StorageOp.DISCOVER_POINTS, "{\"target\": 4, \"context\": " + pairs + ", \"using\": \"d\", \"limit\": 3}");
    cost(c, 5, StorageOp.QUERY_POINTS, "{\"query\": {\"discover\": {\"target\": 4, \"context\": " + pairs + "}}, \"using\": \"d\"}");
    cost(c, 4, StorageOp.DISCOVER_POINTS, "{\"context\": " + pairs + ", \"using\": \"d\", \"limit\": 3}");
    cost(c, 4, StorageOp.QUERY_POINTS, "{\"query\": {\"context\": " + pairs + "}, \"using\": \"d\"}");
    // filter conditions add one each, min_should's too
    String filter = "\"filter\": {\"must\": [{\"key\": \"n\", \"range\": {\"gte\": 1}}], \"min_should\": {\"conditions\": ["
        + "{\"key\": \"color\", \"match\": {\"value\": \"red\"}}, {\"has_id\": [1, 2]}], \"min_count\": 1}}";
    cost(c, 4, StorageOp.SEARCH_POINTS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3, " + filter + "}");
    cost(c, 4, StorageOp.QUERY_POINTS, "{\"query\": " + V + ", \"using\": \"d\", " + filter + "}");
    // batches sum their searches; prefetches add theirs
    cost(c, 3, StorageOp.SEARCH_BATCH, "{\"searches\": [{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3}, "
        + "{\"vector\": {\"name\": \"mv\", \"vector\": [[1, 0], [0, 1]]}, \"limit\": 3}]}");
    cost(c, 2, StorageOp.QUERY_POINTS, "{\"prefetch\": [{\"query\": " + V + ", \"using\": \"d\"}, {\"query\": " + sparse64
        + ", \"using\": \"sp\"}], \"query\": {\"fusion\": \"rrf\"}}");
    cost(c, 1, StorageOp.SEARCH_GROUPS, "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"group_by\": \"color\", "
        + "\"group_size\": 2, \"limit\": 3}");
    // other reads
    cost(c, 4, StorageOp.GET_POINTS, "{\"ids\": [1, 2, 3, 4]}");
    cost(c, 2, StorageOp.SCROLL_POINTS, "{\"filter\": " + COLOR + "}");
    cost(c, 1, StorageOp.COUNT_POINTS, "{}");
    cost(c, 5, StorageOp.SEARCH_MATRIX_PAIRS, "{\"sample\": 5, \"limit\": 1, \"using\": \"d\"}");
  }

  @Test
  void writeCostsAreQdrants() throws IOException {
    Collection c = collection("\"write_rate_limit\": 100");
    String v = "{\"d\": " + V + "}";
    cost(c, 3, StorageOp.UPSERT_POINTS, "{\"points\": [{\"id\": 31, \"vector\": " + v + "}, {\"id\": 32, \"vector\": " + v + "}, "
        + "{\"id\": 33, \"vector\": " + v + "}]}");
    cost(c, 2, StorageOp.DELETE_POINTS, "{\"points\": [1, 2]}");
    // a filter costs the points it is expected to select: half of the ten are red
    cost(c, 5, StorageOp.DELETE_POINTS, "{\"filter\": " + COLOR + "}");
    cost(c, 4, StorageOp.BATCH_UPDATE, "{\"operations\": [{\"delete\": {\"points\": [1, 2, 3]}}, {\"upsert\": {\"points\": ["
        + "{\"id\": 31, \"vector\": " + v + "}]}}]}");
  }

  @Test
  void exhaustedLimitersAnswer429WithTheWait() throws IOException {
    Collection c = collection("\"read_rate_limit\": 2, \"write_rate_limit\": 3");
    String query = "{\"query\": " + V + ", \"using\": \"d\"}";
    String legacy = "{\"vector\": {\"name\": \"d\", \"vector\": " + V + "}, \"limit\": 3}";
    allowed(c, StorageOp.QUERY_POINTS, query);
    allowed(c, StorageOp.SEARCH_POINTS, legacy);
    // both forms drain the same bucket: 2 per minute, one token back in 30 s
    ApiException e = refused(429, c, StorageOp.QUERY_POINTS, query, Map.of());
    assertTrue(e.getMessage().startsWith("Rate limiting exceeded: Read rate limit exceeded: Operation requires 1 tokens but only 0.0 "
        + "were available. Retry after "), e.getMessage());
    int wait = e.retryAfterSeconds();
    assertTrue(wait >= 28 && wait <= 30, "Retry-After " + wait);
    assertTrue(e.getMessage().endsWith("Retry after " + wait + "s"), e.getMessage());
    refused(429, c, StorageOp.RECOMMEND_POINTS, "{\"positive\": [1], \"using\": \"d\", \"limit\": 3}", Map.of());

    String three = "{\"points\": [{\"id\": 41, \"vector\": {}}, {\"id\": 42, \"vector\": {}}, {\"id\": 43, \"vector\": {}}]}";
    allowed(c, StorageOp.UPSERT_POINTS, three);
    ApiException w = refused(429, c, StorageOp.DELETE_POINTS, "{\"points\": [1]}", Map.of());
    assertTrue(w.getMessage().startsWith("Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens"), w.getMessage());
    // 3 per minute: one token back in 20 s
    assertTrue(w.retryAfterSeconds() >= 18 && w.retryAfterSeconds() <= 20, "Retry-After " + w.retryAfterSeconds());
  }

  // ---- helpers ----

  /**
   * Asserts a request costs {@code cost} tokens: a fresh limiter of that capacity lets it through,
   * one of a token less refuses it as larger than its capacity (429, no time helps).
   */
  private void cost(Collection c, long cost, StorageOp op, String body) throws IOException {
    String kind = op.access() == Access.READ ? "read" : "write";
    strictUpdate(c, "\"" + kind + "_rate_limit\": " + cost);
    allowed(c, op, body);
    if (cost > 1) {
      strictUpdate(c, "\"" + kind + "_rate_limit\": " + (cost - 1));
      ApiException e = refused(429, c, op, body, Map.of());
      assertEquals("Rate limiting exceeded: " + (kind.equals("read") ? "Read" : "Write")
          + " rate limit exceeded, request larger than rate limiter capacity, please try to split your request", e.getMessage(), body);
      assertNull(e.retryAfterSeconds());
    }
  }

  /** A sparse vector of {@code n} indices. */
  private static String sparse(int n) {
    StringBuilder indices = new StringBuilder();
    StringBuilder values = new StringBuilder();
    for (int i = 0; i < n; i++) {
      indices.append(i == 0 ? "" : ", ").append(i);
      values.append(i == 0 ? "" : ", ").append("0.5");
    }
    return "{\"indices\": [" + indices + "], \"values\": [" + values + "]}";
  }

  private static String bad(String what, String help) {
    return "Bad request: " + what + ". Help: " + help;
  }

  private static String limit(long value, long limit, String name) {
    return bad("Limit exceeded " + value + " > " + limit + " for \"" + name + "\"",
        "Reduce the \"" + name + "\" parameter to or below " + limit + ".");
  }

  private void allowed(Collection c, StorageOp op, String body) throws IOException {
    allowed(c, op, body, Map.of());
  }

  private void allowed(Collection c, StorageOp op, String body, Map<String, String> params) throws IOException {
    strict.check(c, parse(c, op, body, params));
  }

  private void refused(Collection c, StorageOp op, String body, String message) {
    refused(c, op, body, Map.of(), message);
  }

  private void refused(Collection c, StorageOp op, String body, Map<String, String> params, String message) {
    assertEquals(message, refused(400, c, op, body, params).getMessage(), op + " " + body);
  }

  private ApiException refused(int status, Collection c, StorageOp op, String body, Map<String, String> params) {
    Request request = parse(c, op, body, params);
    ApiException e = assertThrows(ApiException.class, () -> strict.check(c, request), op + " " + body);
    assertEquals(status, e.status(), e.getMessage());
    return e;
  }

  private static Request parse(Collection c, StorageOp op, String body, Map<String, String> params) {
    try {
      return op.parse(c.name, Json.MAPPER.readTree(body), params);
    } catch (IOException e) {
      throw new AssertionError(body, e);
    }
  }

  /** A fresh collection of the standard shape with its ten points, strict mode enabled with {@code options}. */
  private static Collection collection(String options) throws IOException {
    return create("{" + VECTORS + ", \"strict_mode_config\": {\"enabled\": true, " + options + "}}");
  }

  private static Collection create(String config) throws IOException {
    String name = "c" + ++created;
    collections.create((CollectionRequest.Create) StorageOp.CREATE_COLLECTION.parse(name, Json.MAPPER.readTree(config), Map.of()));
    Collection c = catalogue.resolve(name);
    boolean named = config.contains("\"flat\"");
    for (String index : List.of("{\"field_name\": \"color\", \"field_schema\": \"keyword\"}",
        "{\"field_name\": \"n\", \"field_schema\": \"integer\"}",
        "{\"field_name\": \"tenant\", \"field_schema\": {\"type\": \"keyword\", \"is_tenant\": true}}",
        "{\"field_name\": \"rating\", \"field_schema\": \"float\"}")) {
      collections.createIndex(c, (CollectionRequest.CreateIndex) StorageOp.CREATE_FIELD_INDEX.parse(name, Json.MAPPER.readTree(index),
          Map.of("wait", "true")));
    }
    StringBuilder points = new StringBuilder();
    for (int i = 1; i <= 10; i++) {
      String vector = named ? "{\"d\": " + V + ", \"flat\": " + V + ", \"bare\": " + V + ", \"mv\": [[1, 0], [0, 1]], "
          + "\"sp\": {\"indices\": [" + i + ", 20], \"values\": [1, 0.5]}}" : V;
      points.append(i == 1 ? "" : ", ").append("{\"id\": ").append(i).append(", \"vector\": ").append(vector)
          .append(", \"payload\": {\"color\": \"").append(i % 2 == 0 ? "red" : "blue").append("\", \"n\": ").append(i)
          .append(", \"price\": ").append(i * 1.5).append(", \"rating\": ").append(i % 5).append(", \"tenant\": \"t")
          .append(i % 3).append("\", \"items\": [{\"k\": ").append(i).append("}]}}");
    }
    PointWrites.apply(c, (PointWrite) StorageOp.UPSERT_POINTS.parse(name, Json.MAPPER.readTree("{\"points\": [" + points + "]}"),
        Map.of("wait", "true"))).toCompletableFuture().join();
    return c;
  }

  /** Merges {@code options} into the collection's strict-mode config, as a PATCH of the collection does. */
  private static void strictUpdate(Collection c, String options) throws IOException {
    JsonNode body = Json.MAPPER.readTree("{\"strict_mode_config\": {" + options + "}}");
    collections.update(c, (CollectionRequest.Update) StorageOp.UPDATE_COLLECTION.parse(c.name, body, Map.of()));
  }
}
