package io.quiver.request;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.PointId;
import io.quiver.engine.SparseVector;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.Geo;
import io.quiver.engine.filter.Match;
import io.quiver.request.QueryOperation.Shape;
import java.io.IOException;
import java.math.BigInteger;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Writes the typed request model as Qdrant's JSON in one canonical spelling, straight to a
 * {@link JsonGenerator} (see {@link RequestJson} for the rules). Every number is written so that
 * the parser reads back the very value: what the parser reads as f32 is written as the f32's
 * shortest decimal, what it reads as f64 as the f64's. Sets and maps whose order the model does not
 * keep are written sorted. Stateless.
 */
final class CanonicalWriter {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  /** The config of a collection created from {@code {}}: what a create body need not say. */
  private static final ObjectNode DEFAULT_CONFIG = CollectionConfigParser.create(F.objectNode());
  /** The largest {@code hnsw_ef} the legacy searches accept. */
  private static final int LEGACY_MAX_EF = 100_000;

  private CanonicalWriter() {}

  /** The body of a request (null when it has none), written when asked. */
  @FunctionalInterface
  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** What the REST route carries: the operation, the query and path parameters, the body. */
  private record Parts(StorageOp op, Map<String, String> params, Body body) {}

  // ---- whole requests ----

  /** {@code {"op", "collection", "params", "body"}}: absent parts left out. */
  static void request(JsonGenerator g, Request r) throws IOException {
    Parts parts = parts(r);
    g.writeStartObject();
    g.writeStringField("op", parts.op().name().toLowerCase(Locale.ROOT));
    if (r.collection() != null) {
      g.writeStringField("collection", r.collection());
    }
    if (!parts.params().isEmpty()) {
      g.writeObjectFieldStart("params");
      for (var e : parts.params().entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
    }
    if (parts.body() != null) {
      g.writeFieldName("body");
      parts.body().write(g);
    }
    g.writeEndObject();
  }

  private static Parts parts(Request r) {
    return switch (r) {
      case NodeRequest n -> new Parts(switch (n) {
        case NodeRequest.Status s -> StorageOp.STATUS;
        case NodeRequest.Telemetry t -> StorageOp.TELEMETRY;
        case NodeRequest.ListCollections l -> StorageOp.LIST_COLLECTIONS;
        case NodeRequest.ListAliases a -> StorageOp.LIST_ALIASES;
      }, Map.of(), null);
      case CollectionRequest c -> collection(c);
      case AliasRequest a -> new Parts(StorageOp.UPDATE_ALIASES, timeout(new LinkedHashMap<>(), a.timeoutSeconds()), g -> aliases(g, a));
      case PointWrite w -> pointWrite(w);
      case PointRead p -> pointRead(p);
      case QueryOperation q -> queryOperation(q);
      case SnapshotRequest s -> snapshot(s);
    };
  }

  private static Parts collection(CollectionRequest c) {
    Map<String, String> p = new LinkedHashMap<>();
    return switch (c) {
      case CollectionRequest.Get x -> new Parts(StorageOp.GET_COLLECTION, p, null);
      case CollectionRequest.Cluster x ->
          throw new IllegalArgumentException("a collection's cluster info is asked of each node, it has no wire form");
      case CollectionRequest.Exists x -> new Parts(StorageOp.COLLECTION_EXISTS, p, null);
      case CollectionRequest.Aliases x -> new Parts(StorageOp.LIST_COLLECTION_ALIASES, p, null);
      case CollectionRequest.Create x -> {
        ObjectNode body = createBody(x.config(), x.initFrom());
        yield new Parts(StorageOp.CREATE_COLLECTION, timeout(p, x.timeoutSeconds()), g -> g.writeTree(body));
      }
      case CollectionRequest.Update x -> {
        ObjectNode body = updateBody(x.update().diff());
        yield new Parts(StorageOp.UPDATE_COLLECTION, timeout(p, x.timeoutSeconds()), g -> g.writeTree(body));
      }
      case CollectionRequest.Delete x -> new Parts(StorageOp.DELETE_COLLECTION, timeout(p, x.timeoutSeconds()), null);
      case CollectionRequest.CreateIndex x -> new Parts(StorageOp.CREATE_FIELD_INDEX, writeParams(p, x.write()), g -> {
        g.writeStartObject();
        g.writeStringField("field_name", x.field());
        g.writeFieldName("field_schema");
        if (x.index().withParams()) {
          g.writeTree(x.index().paramsJson());
        } else {
          g.writeString(x.index().type().json());
        }
        g.writeEndObject();
      });
      case CollectionRequest.DeleteIndex x -> {
        p.put("field_name", x.field());
        yield new Parts(StorageOp.DELETE_FIELD_INDEX, writeParams(p, x.write()), null);
      }
      case CollectionRequest.CreateShardKey x -> new Parts(StorageOp.CREATE_SHARD_KEY, timeout(p, x.timeoutSeconds()), g -> {
        g.writeStartObject();
        shardKeyField(g, x.key());
        if (x.shardsNumber() != null) {
          g.writeNumberField("shards_number", x.shardsNumber());
        }
        if (x.replicationFactor() != null) {
          g.writeNumberField("replication_factor", x.replicationFactor());
        }
        if (x.placement() != null) {
          g.writeArrayFieldStart("placement");
          for (long peer : x.placement()) {
            g.writeNumber(new BigInteger(Long.toUnsignedString(peer)));
          }
          g.writeEndArray();
        }
        g.writeEndObject();
      });
      case CollectionRequest.DropShardKey x -> new Parts(StorageOp.DELETE_SHARD_KEY, timeout(p, x.timeoutSeconds()), g -> {
        g.writeStartObject();
        shardKeyField(g, x.key());
        g.writeEndObject();
      });
    };
  }

  private static void shardKeyField(JsonGenerator g, Object key) throws IOException {
    if (key instanceof Long n) {
      g.writeNumberField("shard_key", n);
    } else {
      g.writeStringField("shard_key", (String) key);
    }
  }

  /**
   * A create body that parses into {@code config}: the params as they are, and of the other parts
   * what differs from a default config (a value given equal to a default is stored as a number of
   * another width, so it differs too and is written).
   */
  static ObjectNode createBody(ObjectNode config, String initFrom) {
    ObjectNode out = F.objectNode();
    config.path("params").properties().forEach(e -> {
      if (!(e.getKey().equals("shard_number") && e.getValue().isNull())) {
        out.set(e.getKey(), e.getValue());
      }
    });
    changed(out, "hnsw_config", config.get("hnsw_config"), DEFAULT_CONFIG.get("hnsw_config"));
    changed(out, "optimizers_config", config.get("optimizer_config"), DEFAULT_CONFIG.get("optimizer_config"));
    changed(out, "wal_config", config.get("wal_config"), DEFAULT_CONFIG.get("wal_config"));
    JsonNode quantization = config.get("quantization_config");
    if (quantization != null && !quantization.isNull()) {
      out.set("quantization_config", quantization);
    }
    JsonNode strict = config.get("strict_mode_config");
    if (strict != null && !strict.equals(DEFAULT_CONFIG.get("strict_mode_config"))) {
      out.set("strict_mode_config", strict);
    }
    if (config.has("metadata")) {
      out.set("metadata", config.get("metadata"));
    }
    if (initFrom != null) {
      out.putObject("init_from").put("collection", initFrom);
    }
    return out;
  }

  private static void changed(ObjectNode out, String name, JsonNode actual, JsonNode defaults) {
    if (actual == null) {
      return;
    }
    ObjectNode diff = F.objectNode();
    actual.properties().forEach(e -> {
      if (!e.getValue().equals(defaults.get(e.getKey()))) {
        diff.set(e.getKey(), e.getValue());
      }
    });
    if (!diff.isEmpty()) {
      out.set(name, diff);
    }
  }

  /** The diff is the body, but for the optimizer threads' "no limit", which the diff keeps as null and a body says as "auto". */
  static ObjectNode updateBody(ObjectNode diff) {
    if (diff.get("optimizers_config") instanceof ObjectNode o && o.has("max_optimization_threads")
        && o.get("max_optimization_threads").isNull()) {
      ObjectNode out = diff.deepCopy();
      ((ObjectNode) out.get("optimizers_config")).put("max_optimization_threads", "auto");
      return out;
    }
    return diff;
  }

  private static void aliases(JsonGenerator g, AliasRequest a) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("actions");
    for (AliasRequest.Action action : a.actions()) {
      g.writeStartObject();
      switch (action) {
        case AliasRequest.Create c -> {
          g.writeObjectFieldStart("create_alias");
          g.writeStringField("collection_name", c.collection());
          g.writeStringField("alias_name", c.alias());
        }
        case AliasRequest.Delete d -> {
          g.writeObjectFieldStart("delete_alias");
          g.writeStringField("alias_name", d.alias());
        }
        case AliasRequest.Rename r -> {
          g.writeObjectFieldStart("rename_alias");
          g.writeStringField("old_alias_name", r.oldAlias());
          g.writeStringField("new_alias_name", r.newAlias());
        }
      }
      g.writeEndObject();
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  private static Parts pointWrite(PointWrite w) {
    Map<String, String> p = writeParams(new LinkedHashMap<>(), w.write());
    if (w.batch()) {
      return new Parts(StorageOp.BATCH_UPDATE, p, g -> operations(g, w.operations()));
    }
    if (w.operations().size() != 1) {
      throw new IllegalArgumentException("a point write that is not a batch has one operation, not " + w.operations().size());
    }
    PointOperation op = w.operations().getFirst();
    return new Parts(storageOp(op), p, g -> operationBody(g, op));
  }

  /** The operation that carries {@code op} alone. */
  static StorageOp storageOp(PointOperation op) {
    return switch (op) {
      case PointOperation.Upsert u -> StorageOp.UPSERT_POINTS;
      case PointOperation.Delete d -> StorageOp.DELETE_POINTS;
      case PointOperation.SetPayload s -> s.overwrite() ? StorageOp.OVERWRITE_PAYLOAD : StorageOp.SET_PAYLOAD;
      case PointOperation.DeletePayload d -> StorageOp.DELETE_PAYLOAD;
      case PointOperation.ClearPayload c -> StorageOp.CLEAR_PAYLOAD;
      case PointOperation.UpdateVectors u -> StorageOp.UPDATE_VECTORS;
      case PointOperation.DeleteVectors d -> StorageOp.DELETE_VECTORS;
    };
  }

  private static Parts pointRead(PointRead r) {
    Map<String, String> p = new LinkedHashMap<>();
    return switch (r) {
      case PointRead.Retrieve x -> new Parts(StorageOp.GET_POINTS, readParams(p, x.read()), g -> {
        g.writeStartObject();
        g.writeFieldName("ids");
        ids(g, x.ids());
        returned(g, x.withPayload(), WithPayload.ALL, x.withVector());
        shardKeyField(g, x.shardKey());
        g.writeEndObject();
      });
      case PointRead.GetOne x -> {
        p.put("id", x.rawId());
        yield new Parts(StorageOp.GET_POINT, p, null);
      }
      case PointRead.Scroll x -> new Parts(StorageOp.SCROLL_POINTS, readParams(p, x.read()), g -> {
        g.writeStartObject();
        filterField(g, "filter", x.filter());
        intField(g, "limit", x.limit());
        if (x.offset() != null) {
          g.writeFieldName("offset");
          id(g, x.offset());
        }
        if (x.orderBy() != null) {
          g.writeFieldName("order_by");
          orderBy(g, x.orderBy());
        }
        returned(g, x.withPayload(), WithPayload.ALL, x.withVector());
        shardKeyField(g, x.shardKey());
        g.writeEndObject();
      });
      case PointRead.Count x -> new Parts(StorageOp.COUNT_POINTS, readParams(p, x.read()), g -> {
        g.writeStartObject();
        filterField(g, "filter", x.filter());
        if (!x.exact()) {
          g.writeBooleanField("exact", false);
        }
        shardKeyField(g, x.shardKey());
        g.writeEndObject();
      });
      case PointRead.Facet x -> new Parts(StorageOp.FACET, readParams(p, x.read()), g -> {
        g.writeStartObject();
        g.writeStringField("key", x.key().toString());
        filterField(g, "filter", x.filter());
        intField(g, "limit", x.limit());
        if (x.exact()) {
          g.writeBooleanField("exact", true);
        }
        shardKeyField(g, x.shardKey());
        g.writeEndObject();
      });
      case PointRead.Matrix x -> new Parts(x.offsets() ? StorageOp.SEARCH_MATRIX_OFFSETS : StorageOp.SEARCH_MATRIX_PAIRS,
          readParams(p, x.read()), g -> {
            g.writeStartObject();
            filterField(g, "filter", x.filter());
            intField(g, "sample", x.sample());
            intField(g, "limit", x.limit());
            if (!x.using().isEmpty()) {
              g.writeStringField("using", x.using());
            }
            shardKeyField(g, x.shardKey());
            g.writeEndObject();
          });
    };
  }

  private static Parts queryOperation(QueryOperation q) {
    Map<String, String> p = new LinkedHashMap<>();
    return switch (q) {
      case QueryOperation.Queries x -> {
        readParams(p, x.read());
        yield switch (x.shape()) {
          case QUERY -> {
            if (x.requests().size() != 1) {
              throw new IllegalArgumentException("a query has one request, not " + x.requests().size());
            }
            yield new Parts(StorageOp.QUERY_POINTS, p, g -> queryRequest(g, x.requests().getFirst()));
          }
          case QUERY_BATCH -> new Parts(StorageOp.QUERY_BATCH, p, g -> queryBatch(g, x.requests()));
          case POINTS -> {
            if (x.requests().size() != 1) {
              throw new IllegalArgumentException("a search has one request, not " + x.requests().size());
            }
            QueryRequest one = x.requests().getFirst();
            yield new Parts(legacyOp(one, false), p, g -> legacy(g, one, null));
          }
          case POINTS_BATCH -> {
            StorageOp op = x.requests().isEmpty() ? StorageOp.SEARCH_BATCH : legacyOp(x.requests().getFirst(), true);
            for (QueryRequest one : x.requests()) {
              if (legacyOp(one, true) != op) {
                throw new IllegalArgumentException("a legacy batch holds requests of one kind: " + op + ", " + legacyOp(one, true));
              }
            }
            yield new Parts(op, p, g -> {
              g.writeStartObject();
              g.writeArrayFieldStart("searches");
              for (QueryRequest one : x.requests()) {
                legacy(g, one, null);
              }
              g.writeEndArray();
              g.writeEndObject();
            });
          }
        };
      }
      case QueryOperation.Groups x -> {
        readParams(p, x.read());
        if (!x.legacy()) {
          yield new Parts(StorageOp.QUERY_GROUPS, p, g -> groups(g, x.request()));
        }
        StorageOp op = switch (legacyOp(x.request().query(), false)) {
          case SEARCH_POINTS -> StorageOp.SEARCH_GROUPS;
          case RECOMMEND_POINTS -> StorageOp.RECOMMEND_GROUPS;
          default -> throw new IllegalArgumentException("no legacy grouped form of " + x.request().query().root().query());
        };
        if (x.request().query().root().limitOrDefault() != x.request().groups()) {
          throw new IllegalArgumentException("a legacy grouped request's limit is its number of groups");
        }
        yield new Parts(op, p, g -> legacy(g, x.request().query(), x.request()));
      }
    };
  }

  private static Parts snapshot(SnapshotRequest s) {
    Map<String, String> p = new LinkedHashMap<>();
    if (s.shardId() != null) {
      p.put("shard_id", Integer.toString(s.shardId()));
    }
    boolean full = s.collection() == null;
    if (full && s.shardId() != null) {
      throw new IllegalArgumentException("a shard snapshot names its collection");
    }
    return switch (s) {
      case SnapshotRequest.ListAll x -> new Parts(full ? StorageOp.LIST_FULL_SNAPSHOTS : StorageOp.LIST_SNAPSHOTS, p, null);
      case SnapshotRequest.Create x -> new Parts(full ? StorageOp.CREATE_FULL_SNAPSHOT : StorageOp.CREATE_SNAPSHOT,
          waitParam(p, x.waitForResult()), null);
      case SnapshotRequest.Delete x -> {
        p.put("snapshot_name", x.name());
        yield new Parts(full ? StorageOp.DELETE_FULL_SNAPSHOT : StorageOp.DELETE_SNAPSHOT, waitParam(p, x.waitForResult()), null);
      }
      case SnapshotRequest.File x -> {
        p.put("snapshot_name", x.name());
        yield new Parts(full ? StorageOp.GET_FULL_SNAPSHOT : StorageOp.GET_SNAPSHOT, p, null);
      }
      case SnapshotRequest.Recover x -> {
        if (full) {
          throw new IllegalArgumentException("a snapshot is recovered into a collection");
        }
        waitParam(p, x.waitForResult());
        SnapshotRequest.Source src = x.source();
        if (src.uploadedFile() != null) {
          if (src.location() != null || src.apiKey() != null) {
            throw new IllegalArgumentException("an uploaded snapshot has no location nor API key");
          }
          p.put("upload_file", src.uploadedFile());
          putIfSet(p, "checksum", src.checksum());
          putIfSet(p, "priority", src.priority());
          yield new Parts(StorageOp.RECOVER_SNAPSHOT, p, null);
        }
        yield new Parts(StorageOp.RECOVER_SNAPSHOT, p, g -> {
          g.writeStartObject();
          g.writeStringField("location", src.location());
          stringField(g, "checksum", src.checksum());
          stringField(g, "priority", src.priority());
          stringField(g, "api_key", src.apiKey());
          g.writeEndObject();
        });
      }
    };
  }

  // ---- parameters ----

  /** {@code wait} when true, {@code ordering} when not weak (the defaults are left out). */
  static Map<String, String> writeParams(Map<String, String> p, WriteParams w) {
    if (w.waitForResult()) {
      p.put("wait", "true");
    }
    if (w.ordering() != WriteParams.Ordering.WEAK) {
      p.put("ordering", w.ordering().name().toLowerCase(Locale.ROOT));
    }
    return p;
  }

  static Map<String, String> readParams(Map<String, String> p, ReadParams r) {
    timeout(p, r.timeoutSeconds());
    putIfSet(p, "consistency", r.consistency());
    return p;
  }

  private static Map<String, String> timeout(Map<String, String> p, Integer seconds) {
    if (seconds != null) {
      p.put("timeout", Integer.toString(seconds));
    }
    return p;
  }

  /** A snapshot's {@code wait}, true by default. */
  private static Map<String, String> waitParam(Map<String, String> p, boolean wait) {
    if (!wait) {
      p.put("wait", "false");
    }
    return p;
  }

  private static void putIfSet(Map<String, String> p, String name, String value) {
    if (value != null) {
      p.put(name, value);
    }
  }

  // ---- point operations ----

  /** {@code {"operations": [{"upsert": {...}}, ...]}}. */
  static void operations(JsonGenerator g, List<PointOperation> ops) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("operations");
    for (PointOperation op : ops) {
      step(g, op);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  /** One operation as a step of a batch: {@code {"<kind>": body}}. */
  static void step(JsonGenerator g, PointOperation op) throws IOException {
    g.writeStartObject();
    g.writeFieldName(stepName(op));
    operationBody(g, op);
    g.writeEndObject();
  }

  private static String stepName(PointOperation op) {
    return switch (op) {
      case PointOperation.Upsert u -> "upsert";
      case PointOperation.Delete d -> "delete";
      case PointOperation.SetPayload s -> s.overwrite() ? "overwrite_payload" : "set_payload";
      case PointOperation.DeletePayload d -> "delete_payload";
      case PointOperation.ClearPayload c -> "clear_payload";
      case PointOperation.UpdateVectors u -> "update_vectors";
      case PointOperation.DeleteVectors d -> "delete_vectors";
    };
  }

  /** The body of one operation, as its own endpoint and a step of a batch take it. */
  static void operationBody(JsonGenerator g, PointOperation op) throws IOException {
    g.writeStartObject();
    switch (op) {
      case PointOperation.Upsert u -> {
        g.writeArrayFieldStart("points");
        for (PointStruct p : u.points()) {
          g.writeStartObject();
          g.writeFieldName("id");
          id(g, p.id());
          g.writeFieldName("vector");
          vectors(g, p.vectors());
          if (!p.payload().isEmpty()) {
            g.writeFieldName("payload");
            g.writeTree(p.payload());
          }
          g.writeEndObject();
        }
        g.writeEndArray();
        filterField(g, "update_filter", u.updateFilter());
      }
      case PointOperation.Delete d -> selector(g, d.selector());
      case PointOperation.SetPayload s -> {
        g.writeFieldName("payload");
        g.writeTree(s.payload());
        selector(g, s.selector());
        stringField(g, "key", s.key());
      }
      case PointOperation.DeletePayload d -> {
        g.writeFieldName("keys");
        strings(g, d.keys());
        selector(g, d.selector());
      }
      case PointOperation.ClearPayload c -> selector(g, c.selector());
      case PointOperation.UpdateVectors u -> {
        g.writeArrayFieldStart("points");
        for (PointVectors p : u.points()) {
          g.writeStartObject();
          g.writeFieldName("id");
          id(g, p.id());
          g.writeFieldName("vector");
          vectors(g, p.vectors());
          g.writeEndObject();
        }
        g.writeEndArray();
        filterField(g, "update_filter", u.updateFilter());
      }
      case PointOperation.DeleteVectors d -> {
        selector(g, d.selector());
        g.writeFieldName("vector");
        strings(g, d.vectors());
      }
    }
    shardKeyField(g, op.shardKey());
    g.writeEndObject();
  }

  private static void selector(JsonGenerator g, PointsSelector s) throws IOException {
    if (s.ids() != null) {
      g.writeFieldName("points");
      ids(g, s.ids());
    } else {
      filterField(g, "filter", s.filter());
    }
  }

  // ---- vectors and ids ----

  /** The unnamed dense or multivector alone, anything else as an object of named vectors (by name). */
  static void vectors(JsonGenerator g, Vectors v) throws IOException {
    Map<String, VectorInput> byName = v.byName();
    if (byName.size() == 1) {
      var e = byName.entrySet().iterator().next();
      if (e.getKey().isEmpty() && (e.getValue() instanceof VectorInput.Dense || e.getValue() instanceof VectorInput.Multi)) {
        vector(g, e.getValue());
        return;
      }
    }
    g.writeStartObject();
    for (String name : sorted(byName.keySet())) {
      g.writeFieldName(name);
      vector(g, byName.get(name));
    }
    g.writeEndObject();
  }

  static void vector(JsonGenerator g, VectorInput v) throws IOException {
    switch (v) {
      case VectorInput.Dense d -> floats(g, d.values());
      case VectorInput.Multi m -> {
        g.writeStartArray(m.rows(), m.rows().length);
        for (float[] row : m.rows()) {
          floats(g, row);
        }
        g.writeEndArray();
      }
      case VectorInput.Sparse s -> sparse(g, s.vector());
      case VectorInput.Id id -> id(g, id.id());
      case VectorInput.Document d -> {
        g.writeStartObject();
        g.writeStringField("model", d.model());
        g.writeStringField("text", d.text());
        JsonNode options = d.bm25().options();
        if (options != null) {
          g.writeFieldName("options");
          g.writeTree(options);
        }
        g.writeEndObject();
      }
    }
  }

  private static void floats(JsonGenerator g, float[] values) throws IOException {
    g.writeStartArray(values, values.length);
    for (float x : values) {
      g.writeNumber(x);
    }
    g.writeEndArray();
  }

  /** Indices are unsigned 32-bit numbers kept in ints. */
  private static void sparse(JsonGenerator g, SparseVector v) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("indices");
    for (int i : v.indices()) {
      g.writeNumber(Integer.toUnsignedLong(i));
    }
    g.writeEndArray();
    g.writeFieldName("values");
    floats(g, v.values());
    g.writeEndObject();
  }

  /** A number below 2^64, or a hyphenated lower-case UUID. */
  static void id(JsonGenerator g, PointId id) throws IOException {
    switch (id) {
      case PointId.Num n when n.value() >= 0 -> g.writeNumber(n.value());
      case PointId.Num n -> g.writeNumber(new BigInteger(Long.toUnsignedString(n.value())));
      case PointId.Uuid u -> g.writeString(u.value().toString());
    }
  }

  private static void ids(JsonGenerator g, List<PointId> ids) throws IOException {
    g.writeStartArray(ids, ids.size());
    for (PointId id : ids) {
      id(g, id);
    }
    g.writeEndArray();
  }

  // ---- filters ----

  private static void filterField(JsonGenerator g, String name, Filter f) throws IOException {
    if (f != null) {
      g.writeFieldName(name);
      filter(g, f);
    }
  }

  /** {@code must}, {@code should}, {@code must_not} as lists (absent when null), then {@code min_should}. */
  static void filter(JsonGenerator g, Filter f) throws IOException {
    g.writeStartObject();
    conditions(g, "must", f.must());
    conditions(g, "should", f.should());
    conditions(g, "must_not", f.mustNot());
    if (f.minShould() != null) {
      g.writeObjectFieldStart("min_should");
      conditions(g, "conditions", f.minShould().conditions());
      g.writeNumberField("min_count", f.minShould().minCount());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void conditions(JsonGenerator g, String name, List<Condition> conditions) throws IOException {
    if (conditions != null) {
      g.writeArrayFieldStart(name);
      for (Condition c : conditions) {
        condition(g, c);
      }
      g.writeEndArray();
    }
  }

  static void condition(JsonGenerator g, Condition c) throws IOException {
    switch (c) {
      case Filter f -> filter(g, f);
      case Condition.Field f -> field(g, f);
      case Condition.IsEmpty e -> {
        g.writeStartObject();
        g.writeObjectFieldStart("is_empty");
        g.writeStringField("key", e.key().toString());
        g.writeEndObject();
        g.writeEndObject();
      }
      case Condition.IsNull n -> {
        g.writeStartObject();
        g.writeObjectFieldStart("is_null");
        g.writeStringField("key", n.key().toString());
        g.writeEndObject();
        g.writeEndObject();
      }
      case Condition.HasId h -> {
        g.writeStartObject();
        g.writeFieldName("has_id");
        ids(g, h.ids());
        g.writeEndObject();
      }
      case Condition.HasVector h -> {
        g.writeStartObject();
        g.writeStringField("has_vector", h.vector());
        g.writeEndObject();
      }
      case Condition.Nested n -> {
        g.writeStartObject();
        g.writeObjectFieldStart("nested");
        g.writeStringField("key", n.key().toString());
        g.writeFieldName("filter");
        filter(g, n.filter());
        g.writeEndObject();
        g.writeEndObject();
      }
    }
  }

  private static void field(JsonGenerator g, Condition.Field f) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", f.key().toString());
    if (f.match() != null) {
      g.writeFieldName("match");
      match(g, f.match());
    }
    switch (f.range()) {
      case null -> {}
      case Condition.NumberRange n -> {
        g.writeObjectFieldStart("range");
        doubleField(g, "lt", n.lt());
        doubleField(g, "gt", n.gt());
        doubleField(g, "gte", n.gte());
        doubleField(g, "lte", n.lte());
        g.writeEndObject();
      }
      case Condition.DatetimeRange d -> {
        g.writeObjectFieldStart("range");
        datetimeField(g, "lt", d.lt());
        datetimeField(g, "gt", d.gt());
        datetimeField(g, "gte", d.gte());
        datetimeField(g, "lte", d.lte());
        g.writeEndObject();
      }
    }
    if (f.geoBoundingBox() != null) {
      g.writeObjectFieldStart("geo_bounding_box");
      geoPoint(g, "top_left", f.geoBoundingBox().topLeft());
      geoPoint(g, "bottom_right", f.geoBoundingBox().bottomRight());
      g.writeEndObject();
    }
    if (f.geoRadius() != null) {
      g.writeObjectFieldStart("geo_radius");
      geoPoint(g, "center", f.geoRadius().center());
      g.writeNumberField("radius", f.geoRadius().radius());
      g.writeEndObject();
    }
    if (f.geoPolygon() != null) {
      g.writeObjectFieldStart("geo_polygon");
      ring(g, "exterior", f.geoPolygon().exterior());
      if (!f.geoPolygon().interiors().isEmpty()) {
        g.writeArrayFieldStart("interiors");
        for (List<Geo.Point> interior : f.geoPolygon().interiors()) {
          g.writeStartObject();
          points(g, interior);
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    }
    if (f.valuesCount() != null) {
      g.writeObjectFieldStart("values_count");
      longField(g, "lt", f.valuesCount().lt());
      longField(g, "gt", f.valuesCount().gt());
      longField(g, "gte", f.valuesCount().gte());
      longField(g, "lte", f.valuesCount().lte());
      g.writeEndObject();
    }
    if (f.isEmpty() != null) {
      g.writeBooleanField("is_empty", f.isEmpty());
    }
    if (f.isNull() != null) {
      g.writeBooleanField("is_null", f.isNull());
    }
    g.writeEndObject();
  }

  private static void geoPoint(JsonGenerator g, String name, Geo.Point p) throws IOException {
    g.writeObjectFieldStart(name);
    g.writeNumberField("lon", p.lon());
    g.writeNumberField("lat", p.lat());
    g.writeEndObject();
  }

  private static void ring(JsonGenerator g, String name, List<Geo.Point> points) throws IOException {
    g.writeObjectFieldStart(name);
    points(g, points);
    g.writeEndObject();
  }

  private static void points(JsonGenerator g, List<Geo.Point> points) throws IOException {
    g.writeArrayFieldStart("points");
    for (Geo.Point p : points) {
      g.writeStartObject();
      g.writeNumberField("lon", p.lon());
      g.writeNumberField("lat", p.lat());
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void match(JsonGenerator g, Match m) throws IOException {
    g.writeStartObject();
    switch (m) {
      case Match.Value v -> {
        g.writeFieldName("value");
        switch (v.value()) {
          case String s -> g.writeString(s);
          case Long l -> g.writeNumber(l);
          case Boolean b -> g.writeBoolean(b);
          default -> throw new IllegalArgumentException("match value " + v.value());
        }
      }
      case Match.Text t -> g.writeStringField("text", t.text());
      case Match.TextAny t -> g.writeStringField("text_any", t.textAny());
      case Match.Phrase p -> g.writeStringField("phrase", p.phrase());
      case Match.Any a -> {
        g.writeFieldName("any");
        values(g, a.any());
      }
      case Match.Except e -> {
        g.writeFieldName("except");
        values(g, e.except());
      }
    }
    g.writeEndObject();
  }

  private static void values(JsonGenerator g, Match.Values values) throws IOException {
    switch (values) {
      case Match.Keywords k -> strings(g, k.values());
      case Match.Integers i -> {
        g.writeStartArray();
        for (long x : i.values()) {
          g.writeNumber(x);
        }
        g.writeEndArray();
      }
    }
  }

  // ---- universal queries ----

  /** {@code {"searches": [...]}}. */
  static void queryBatch(JsonGenerator g, List<QueryRequest> requests) throws IOException {
    g.writeStartObject();
    g.writeArrayFieldStart("searches");
    for (QueryRequest q : requests) {
      queryRequest(g, q);
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  static void queryRequest(JsonGenerator g, QueryRequest q) throws IOException {
    g.writeStartObject();
    stageFields(g, q.root());
    if (q.offset() != 0) {
      g.writeNumberField("offset", q.offset());
    }
    returned(g, q.withPayload(), WithPayload.NONE, q.withVector());
    shardKeyField(g, q.shardKey());
    g.writeEndObject();
  }

  /** A universal grouped query: its root has no limit of its own and no offset (the request's limit counts groups). */
  static void groups(JsonGenerator g, QueryGroupsRequest r) throws IOException {
    QueryRequest q = r.query();
    if (q.root().limit() != null || q.offset() != 0) {
      throw new IllegalArgumentException("a grouped query's root has no limit nor offset of its own");
    }
    g.writeStartObject();
    stageFields(g, q.root());
    returned(g, q.withPayload(), WithPayload.NONE, q.withVector());
    shardKeyField(g, q.shardKey());
    groupFields(g, r);
    g.writeEndObject();
  }

  private static void groupFields(JsonGenerator g, QueryGroupsRequest r) throws IOException {
    g.writeStringField("group_by", r.groupBy().toString());
    g.writeNumberField("group_size", r.groupSize());
    if (r.query().root().limit() == null) {
      g.writeNumberField("limit", r.groups());
    }
    QueryGroupsRequest.WithLookup lookup = r.withLookup();
    if (lookup != null) {
      if (lookup.withPayload().equals(WithPayload.ALL) && !lookup.withVector().enabled()) {
        g.writeStringField("with_lookup", lookup.collection());
      } else {
        g.writeObjectFieldStart("with_lookup");
        g.writeStringField("collection", lookup.collection());
        returned(g, lookup.withPayload(), WithPayload.ALL, lookup.withVector());
        g.writeEndObject();
      }
    }
  }

  static void stage(JsonGenerator g, Stage s) throws IOException {
    g.writeStartObject();
    stageFields(g, s);
    g.writeEndObject();
  }

  private static void stageFields(JsonGenerator g, Stage s) throws IOException {
    if (!s.prefetch().isEmpty()) {
      g.writeArrayFieldStart("prefetch");
      for (Stage p : s.prefetch()) {
        stage(g, p);
      }
      g.writeEndArray();
    }
    if (s.query() != null) {
      g.writeFieldName("query");
      query(g, s.query());
    }
    if (!s.using().isEmpty()) {
      g.writeStringField("using", s.using());
    }
    filterField(g, "filter", s.filter());
    if (!s.params().equals(SearchParams.DEFAULT)) {
      g.writeFieldName("params");
      searchParams(g, s.params());
    }
    if (s.scoreThreshold() != null) {
      g.writeNumberField("score_threshold", s.scoreThreshold());
    }
    intField(g, "limit", s.limit());
    if (s.lookupFrom() != null) {
      lookupFrom(g, s.lookupFrom());
    }
  }

  private static void lookupFrom(JsonGenerator g, LookupLocation l) throws IOException {
    g.writeObjectFieldStart("lookup_from");
    g.writeStringField("collection", l.collection());
    stringField(g, "vector", l.vector());
    g.writeEndObject();
  }

  static void searchParams(JsonGenerator g, SearchParams p) throws IOException {
    g.writeStartObject();
    intField(g, "hnsw_ef", p.hnswEf());
    if (p.exact()) {
      g.writeBooleanField("exact", true);
    }
    if (p.oversampling() != null) {
      g.writeObjectFieldStart("quantization");
      g.writeNumberField("oversampling", p.oversampling());
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  /** A nearest query without MMR as its vector alone; the others as Qdrant's query objects. */
  static void query(JsonGenerator g, Query q) throws IOException {
    if (q instanceof Query.Nearest n && n.mmr() == null) {
      vector(g, n.vector());
      return;
    }
    g.writeStartObject();
    switch (q) {
      case Query.Nearest n -> {
        g.writeFieldName("nearest");
        vector(g, n.vector());
        g.writeObjectFieldStart("mmr");
        if (n.mmr().diversity() != null) {
          g.writeNumberField("diversity", n.mmr().diversity());
        }
        intField(g, "candidates_limit", n.mmr().candidatesLimit());
        g.writeEndObject();
      }
      case Query.Recommend r -> {
        g.writeObjectFieldStart("recommend");
        examples(g, "positive", r.positive());
        examples(g, "negative", r.negative());
        if (r.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR) {
          g.writeStringField("strategy", r.strategy().name().toLowerCase(Locale.ROOT));
        }
        g.writeEndObject();
      }
      case Query.Discover d -> {
        g.writeObjectFieldStart("discover");
        g.writeFieldName("target");
        vector(g, d.target());
        pairs(g, d.context());
        g.writeEndObject();
      }
      case Query.Context c -> pairs(g, c.pairs());
      case Query.OrderByQuery o -> {
        g.writeFieldName("order_by");
        orderBy(g, o.orderBy());
      }
      case Query.Fusion f when f.dbsf() -> g.writeStringField("fusion", "dbsf");
      case Query.Fusion f when f.k() == Query.Fusion.DEFAULT_RRF_K -> g.writeStringField("fusion", "rrf");
      case Query.Fusion f -> {
        g.writeObjectFieldStart("rrf");
        g.writeNumberField("k", f.k());
        g.writeEndObject();
      }
      case Query.Formula f -> formula(g, f);
      case Query.Sample s -> g.writeStringField("sample", "random");
    }
    g.writeEndObject();
  }

  private static void examples(JsonGenerator g, String name, List<VectorInput> examples) throws IOException {
    if (!examples.isEmpty()) {
      g.writeArrayFieldStart(name);
      for (VectorInput v : examples) {
        vector(g, v);
      }
      g.writeEndArray();
    }
  }

  /** {@code "context": [{"positive", "negative"}, ...]}, always a list. */
  private static void pairs(JsonGenerator g, List<Query.ContextPair> pairs) throws IOException {
    g.writeArrayFieldStart("context");
    for (Query.ContextPair p : pairs) {
      g.writeStartObject();
      g.writeFieldName("positive");
      vector(g, p.positive());
      g.writeFieldName("negative");
      vector(g, p.negative());
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  /** {@code {"key", "direction"?, "start_from"?}}: ascending and no start left out. */
  static void orderBy(JsonGenerator g, OrderBy o) throws IOException {
    g.writeStartObject();
    g.writeStringField("key", o.key().toString());
    if (o.descending()) {
      g.writeStringField("direction", "desc");
    }
    if (o.startFrom() != null) {
      g.writeNumberField("start_from", o.startFrom());
    }
    g.writeEndObject();
  }

  // ---- formulas ----

  /** {@code "formula": ..., "defaults": {...}}: payload defaults by key, then score defaults by prefetch. */
  private static void formula(JsonGenerator g, Query.Formula f) throws IOException {
    g.writeFieldName("formula");
    expression(g, f.expression());
    if (!f.payloadDefaults().isEmpty() || !f.scoreDefaults().isEmpty()) {
      g.writeObjectFieldStart("defaults");
      for (String key : sorted(f.payloadDefaults().keySet())) {
        g.writeFieldName(key);
        g.writeTree(f.payloadDefaults().get(key));
      }
      for (int prefetch : sorted(f.scoreDefaults().keySet())) {
        g.writeNumberField(score(prefetch), f.scoreDefaults().get(prefetch));
      }
      g.writeEndObject();
    }
  }

  private static String score(int prefetch) {
    return "$score[" + prefetch + "]";
  }

  static void expression(JsonGenerator g, Expression e) throws IOException {
    switch (e) {
      case Expression.Constant c -> f32(g, c.value());
      case Expression.Score s -> g.writeString(score(s.prefetch()));
      case Expression.Payload p -> g.writeString(p.key().toString());
      case Expression.Condition c -> {
        Filter f = c.filter();
        boolean one = f.must() != null && f.must().size() == 1 && f.should() == null && f.mustNot() == null && f.minShould() == null;
        condition(g, one ? f.must().getFirst() : f);
      }
      case Expression.GeoDistance d -> {
        g.writeStartObject();
        g.writeObjectFieldStart("geo_distance");
        geoPoint(g, "origin", new Geo.Point(d.lon(), d.lat()));
        g.writeStringField("to", d.to().toString());
        g.writeEndObject();
        g.writeEndObject();
      }
      case Expression.Datetime d -> {
        g.writeStartObject();
        g.writeStringField("datetime", datetime(d.micros()));
        g.writeEndObject();
      }
      case Expression.DatetimeKey d -> {
        g.writeStartObject();
        g.writeStringField("datetime_key", d.key().toString());
        g.writeEndObject();
      }
      case Expression.Nary n -> {
        g.writeStartObject();
        g.writeArrayFieldStart(n.mult() ? "mult" : "sum");
        for (Expression a : n.args()) {
          expression(g, a);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      case Expression.Unary u -> {
        g.writeStartObject();
        g.writeFieldName(u.op().name().toLowerCase(Locale.ROOT));
        expression(g, u.arg());
        g.writeEndObject();
      }
      case Expression.Div d -> {
        g.writeStartObject();
        g.writeObjectFieldStart("div");
        g.writeFieldName("left");
        expression(g, d.left());
        g.writeFieldName("right");
        expression(g, d.right());
        if (d.byZeroDefault() != null) {
          g.writeFieldName("by_zero_default");
          f32(g, d.byZeroDefault());
        }
        g.writeEndObject();
        g.writeEndObject();
      }
      case Expression.Pow p -> {
        g.writeStartObject();
        g.writeObjectFieldStart("pow");
        g.writeFieldName("base");
        expression(g, p.base());
        g.writeFieldName("exponent");
        expression(g, p.exponent());
        g.writeEndObject();
        g.writeEndObject();
      }
      case Expression.Decay d -> decay(g, d);
    }
  }

  /**
   * A decay: its midpoint and scale, which the model folds into lambda. The parser computes lambda
   * from an f32 midpoint and scale; the pair written is one that gives back the very lambda where one
   * is found near scale 1 or midpoint 0.5 (always so for the decays of scale 1), else the nearest.
   */
  private static void decay(JsonGenerator g, Expression.Decay d) throws IOException {
    float[] ms = DecayParams.of(d.kind(), d.lambda());
    g.writeStartObject();
    g.writeObjectFieldStart(d.kind().name().toLowerCase(Locale.ROOT) + "_decay");
    g.writeFieldName("x");
    expression(g, d.x());
    if (d.target() != null) {
      g.writeFieldName("target");
      expression(g, d.target());
    }
    g.writeNumberField("midpoint", ms[0]);
    if (ms[1] != 1f) {
      g.writeNumberField("scale", ms[1]);
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  /** Midpoint and scale for a lambda, as the parser computes it back. */
  static final class DecayParams {
    private DecayParams() {}

    static double lambda(Expression.DecayKind kind, float midpoint, float scale) {
      double m = midpoint;
      double s = scale;
      return switch (kind) {
        case LIN -> (1.0 - m) / s;
        case EXP -> Math.log(m) / s;
        case GAUSS -> Math.log(m) / (s * s);
      };
    }

    static boolean valid(Expression.DecayKind kind, float midpoint, float scale) {
      boolean m = kind == Expression.DecayKind.LIN ? midpoint >= 0 && midpoint <= 1 : midpoint > 0 && midpoint < 1;
      return m && scale > 0 && Float.isFinite(scale);
    }

    static float[] of(Expression.DecayKind kind, double lambda) {
      boolean lin = kind == Expression.DecayKind.LIN;
      float m0 = (float) (lin ? 1.0 - lambda : Math.exp(lambda));
      float s0 = lin ? (float) (0.5 / lambda) : kind == Expression.DecayKind.EXP ? (float) (Math.log(0.5) / lambda)
          : (float) Math.sqrt(Math.log(0.5) / lambda);
      float[] best = null;
      double bestError = Double.POSITIVE_INFINITY;
      float[][] starts = {{m0, 1f}, {0.5f, s0}};
      for (int c = 0; c < starts.length; c++) {
        for (int step = 0; step <= 8; step++) {
          float m = c == 0 ? nudge(starts[c][0], step) : starts[c][0];
          float s = c == 1 ? nudge(starts[c][1], step) : starts[c][1];
          if (!valid(kind, m, s)) {
            continue;
          }
          double error = Math.abs(lambda(kind, m, s) - lambda);
          if (error == 0) {
            return new float[] {m, s};
          }
          if (error < bestError) {
            bestError = error;
            best = new float[] {m, s};
          }
        }
      }
      return best != null ? best : new float[] {lin ? 1f : 0.5f, 1f};
    }

    /** {@code x}, then one ulp up, one down, two up, two down, ... */
    private static float nudge(float x, int step) {
      int k = (step + 1) / 2;
      float out = x;
      for (int i = 0; i < k; i++) {
        out = step % 2 == 1 ? Math.nextUp(out) : Math.nextDown(out);
      }
      return out;
    }
  }

  // ---- what to return, shard keys ----

  /** {@code with_payload} unless it is the default, then {@code with_vector} unless none. */
  private static void returned(JsonGenerator g, WithPayload payload, WithPayload byDefault, WithVector vector) throws IOException {
    if (!payload.equals(byDefault)) {
      g.writeFieldName("with_payload");
      withPayload(g, payload);
    }
    if (vector.enabled()) {
      g.writeFieldName("with_vector");
      withVector(g, vector);
    }
  }

  /** {@code true}, {@code false}, the included keys, or {@code {"exclude": [...]}}; keys sorted. */
  static void withPayload(JsonGenerator g, WithPayload p) throws IOException {
    if (!p.enabled()) {
      g.writeBoolean(false);
    } else if (p.include() != null) {
      strings(g, sorted(p.include()));
    } else if (p.exclude() != null) {
      g.writeStartObject();
      g.writeFieldName("exclude");
      strings(g, sorted(p.exclude()));
      g.writeEndObject();
    } else {
      g.writeBoolean(true);
    }
  }

  static void withVector(JsonGenerator g, WithVector v) throws IOException {
    if (!v.enabled() || v.names() == null) {
      g.writeBoolean(v.enabled());
    } else {
      strings(g, sorted(v.names()));
    }
  }

  private static void shardKeyField(JsonGenerator g, ShardKeySelector s) throws IOException {
    if (s != null) {
      g.writeFieldName("shard_key");
      shardKey(g, s);
    }
  }

  /** One key alone, several as a list; with a fallback, {@code {"target", "fallback"}}. */
  static void shardKey(JsonGenerator g, ShardKeySelector s) throws IOException {
    if (s.fallback() == null) {
      shardKeys(g, s.keys());
      return;
    }
    g.writeStartObject();
    g.writeFieldName("target");
    shardKeys(g, s.keys());
    g.writeFieldName("fallback");
    shardKeyValue(g, s.fallback());
    g.writeEndObject();
  }

  private static void shardKeys(JsonGenerator g, List<Object> keys) throws IOException {
    if (keys.size() == 1) {
      shardKeyValue(g, keys.getFirst());
      return;
    }
    g.writeStartArray();
    for (Object k : keys) {
      shardKeyValue(g, k);
    }
    g.writeEndArray();
  }

  private static void shardKeyValue(JsonGenerator g, Object key) throws IOException {
    switch (key) {
      case String s -> g.writeString(s);
      case Long l -> g.writeNumber(l);
      default -> throw new IllegalArgumentException("a shard key is a string or an integer: " + key);
    }
  }

  // ---- legacy searches ----

  /**
   * The legacy operation whose body says {@code q}: search (nearest), recommend, discover
   * (discover or context); an {@link IllegalArgumentException} for what no legacy request can say.
   */
  static StorageOp legacyOp(QueryRequest q, boolean batch) {
    Stage s = q.root();
    if (!s.prefetch().isEmpty() || s.limit() == null) {
      throw new IllegalArgumentException("a legacy search has one stage and a limit");
    }
    if (s.params().hnswEf() != null && s.params().hnswEf() > LEGACY_MAX_EF) {
      throw new IllegalArgumentException("a legacy search's hnsw_ef is at most " + LEGACY_MAX_EF);
    }
    return switch (s.query()) {
      case Query.Nearest n when n.mmr() == null && s.lookupFrom() == null
          && (n.vector() instanceof VectorInput.Dense || n.vector() instanceof VectorInput.Multi || n.vector() instanceof VectorInput.Sparse) ->
          batch ? StorageOp.SEARCH_BATCH : StorageOp.SEARCH_POINTS;
      case Query.Recommend r when s.lookupFrom() == null || s.lookupFrom().vector() != null ->
          batch ? StorageOp.RECOMMEND_BATCH : StorageOp.RECOMMEND_POINTS;
      case Query.Discover d when s.lookupFrom() == null || s.lookupFrom().vector() != null ->
          batch ? StorageOp.DISCOVER_BATCH : StorageOp.DISCOVER_POINTS;
      case Query.Context c when !c.pairs().isEmpty() && (s.lookupFrom() == null || s.lookupFrom().vector() != null) ->
          batch ? StorageOp.DISCOVER_BATCH : StorageOp.DISCOVER_POINTS;
      case null, default -> throw new IllegalArgumentException("no legacy form of " + s.query());
    };
  }

  /** A legacy search, recommend or discover body (with the group fields when {@code groups} is given). */
  private static void legacy(JsonGenerator g, QueryRequest q, QueryGroupsRequest groups) throws IOException {
    legacyOp(q, false);
    Stage s = q.root();
    g.writeStartObject();
    switch (s.query()) {
      case Query.Nearest n -> {
        g.writeFieldName("vector");
        if (s.using().isEmpty() && !(n.vector() instanceof VectorInput.Sparse)) {
          vector(g, n.vector());
        } else {
          g.writeStartObject();
          g.writeStringField("name", s.using());
          g.writeFieldName("vector");
          vector(g, n.vector());
          g.writeEndObject();
        }
      }
      case Query.Recommend r -> {
        examples(g, "positive", r.positive());
        examples(g, "negative", r.negative());
        if (r.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR) {
          g.writeStringField("strategy", r.strategy().name().toLowerCase(Locale.ROOT));
        }
      }
      case Query.Discover d -> {
        g.writeFieldName("target");
        vector(g, d.target());
        if (!d.context().isEmpty()) {
          pairs(g, d.context());
        }
      }
      case Query.Context c -> pairs(g, c.pairs());
      default -> throw new IllegalArgumentException("no legacy form of " + s.query());
    }
    if (!(s.query() instanceof Query.Nearest) && !s.using().isEmpty()) {
      g.writeStringField("using", s.using());
    }
    if (s.lookupFrom() != null) {
      lookupFrom(g, s.lookupFrom());
    }
    g.writeNumberField("limit", s.limit());
    if (q.offset() != 0) {
      g.writeNumberField("offset", q.offset());
    }
    filterField(g, "filter", s.filter());
    if (!s.params().equals(SearchParams.DEFAULT)) {
      g.writeFieldName("params");
      searchParams(g, s.params());
    }
    if (s.scoreThreshold() != null) {
      g.writeNumberField("score_threshold", s.scoreThreshold());
    }
    returned(g, q.withPayload(), WithPayload.NONE, q.withVector());
    shardKeyField(g, q.shardKey());
    if (groups != null) {
      groupFields(g, groups);
    }
    g.writeEndObject();
  }

  // ---- basics ----

  /** A value the parser reads as f32 (and keeps widened to f64): its f32's shortest decimal. */
  private static void f32(JsonGenerator g, double value) throws IOException {
    float f = (float) value;
    if (f == value) {
      g.writeNumber(f);
    } else {
      g.writeNumber(value);
    }
  }

  private static void doubleField(JsonGenerator g, String name, Double value) throws IOException {
    if (value != null) {
      g.writeNumberField(name, value);
    }
  }

  private static void longField(JsonGenerator g, String name, Long value) throws IOException {
    if (value != null) {
      g.writeNumberField(name, value);
    }
  }

  private static void intField(JsonGenerator g, String name, Integer value) throws IOException {
    if (value != null) {
      g.writeNumberField(name, value);
    }
  }

  private static void stringField(JsonGenerator g, String name, String value) throws IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }

  private static void datetimeField(JsonGenerator g, String name, Long micros) throws IOException {
    if (micros != null) {
      g.writeStringField(name, datetime(micros));
    }
  }

  private static void strings(JsonGenerator g, Collection<String> values) throws IOException {
    g.writeStartArray();
    for (String s : values) {
      g.writeString(s);
    }
    g.writeEndArray();
  }

  private static <T extends Comparable<T>> Collection<T> sorted(Set<T> set) {
    if (set.size() < 2) {
      return set;
    }
    List<T> out = new ArrayList<>(set);
    out.sort(null);
    return out;
  }

  /**
   * Epoch microseconds as RFC 3339 in UTC ({@code 2024-05-01T12:00:00Z}, with six fraction digits
   * when there is a fraction); a time whose UTC year has not four digits is given in the farthest
   * offset that makes it so, as a datetime Qdrant accepts can be.
   */
  static String datetime(long micros) {
    long seconds = Math.floorDiv(micros, 1_000_000L);
    int fraction = (int) Math.floorMod(micros, 1_000_000L);
    String offset = "Z";
    LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
    long farthest = 23 * 3600 + 59 * 60; // beyond java.time's offsets, within Qdrant's
    if (t.getYear() < 0) {
      t = LocalDateTime.ofEpochSecond(seconds + farthest, 0, ZoneOffset.UTC);
      offset = "+23:59";
    } else if (t.getYear() > 9999) {
      t = LocalDateTime.ofEpochSecond(seconds - farthest, 0, ZoneOffset.UTC);
      offset = "-23:59";
    }
    StringBuilder sb = new StringBuilder(32);
    pad(sb, t.getYear(), 4).append('-');
    pad(sb, t.getMonthValue(), 2).append('-');
    pad(sb, t.getDayOfMonth(), 2).append('T');
    pad(sb, t.getHour(), 2).append(':');
    pad(sb, t.getMinute(), 2).append(':');
    pad(sb, t.getSecond(), 2);
    if (fraction != 0) {
      pad(sb.append('.'), fraction, 6);
    }
    return sb.append(offset).toString();
  }

  private static StringBuilder pad(StringBuilder sb, int value, int width) {
    String s = Integer.toString(value);
    for (int i = s.length(); i < width; i++) {
      sb.append('0');
    }
    return sb.append(s);
  }
}
