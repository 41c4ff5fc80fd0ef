package io.quiver.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qdrant.client.grpc.Collections;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Filter;
import io.quiver.error.ApiException;
import io.quiver.request.AdminParser;
import io.quiver.request.CollectionRequest;
import io.quiver.request.Limits;
import io.quiver.request.Params;
import io.quiver.request.PointOperation;
import io.quiver.request.PointParser;
import io.quiver.request.PointStruct;
import io.quiver.request.PointVectors;
import io.quiver.request.PointWrite;
import io.quiver.request.PointsSelector;
import io.quiver.request.QueryParser;
import io.quiver.request.ShardKeySelector;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.request.WriteParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The point parts of Qdrant's gRPC messages (ids, vectors, payloads, selectors, shard keys, what to
 * return, write options), the point writes and the payload indexes, mapped onto the request model as REST's
 * parsers build it for the same JSON, with REST's checks and wording ({@link PointParser}, {@link
 * Limits}, {@link Params}). What only the protobuf can get wrong (a oneof with no variant, a missing
 * message) is refused as Qdrant's gRPC API refuses it, in its words. Vectors go straight from the
 * messages into float arrays.
 */
final class PointConvert {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private PointConvert() {}

  /** A request only the protobuf can get wrong, refused as Qdrant's gRPC API does (INVALID_ARGUMENT). */
  static ApiException invalid(String message) {
    return new ApiException(400, message);
  }

  // ---- the point writes ----

  static PointWrite upsert(Points.UpsertPoints r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), upsert(r.getPointsList(), NewerPointFields.updateFilter(r),
        r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  static PointWrite delete(Points.DeletePoints r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), delete(r.hasPoints() ? r.getPoints() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  static PointWrite updateVectors(Points.UpdatePointVectors r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), updateVectors(r.getPointsList(), NewerPointFields.updateFilter(r),
        r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  static PointWrite deleteVectors(Points.DeletePointVectors r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), deleteVectors(r.hasPointsSelector() ? r.getPointsSelector() : null,
        r.hasVectors() ? r.getVectors() : null, r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  /** Set ({@code overwrite} false) or overwrite the payload; an overwrite ignores {@code key}, as Qdrant's gRPC API. */
  static PointWrite setPayload(Points.SetPayloadPoints r, boolean overwrite) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), setPayload(r.getPayloadMap(), r.hasPointsSelector() ? r.getPointsSelector() : null,
        !overwrite && r.hasKey() ? r.getKey() : null, overwrite, r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  static PointWrite deletePayload(Points.DeletePayloadPoints r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), deletePayload(r.getKeysList(), r.hasPointsSelector() ? r.getPointsSelector() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  static PointWrite clearPayload(Points.ClearPayloadPoints r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    return PointWrite.one(r.getCollectionName(), clearPayload(r.hasPoints() ? r.getPoints() : null,
        r.hasShardKeySelector() ? r.getShardKeySelector() : null), write);
  }

  /** The steps of a batch, applied as one write (all or nothing), as REST's {@code /points/batch}. */
  static PointWrite batch(Points.UpdateBatchPoints r) {
    WriteParams write = write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null);
    Limits.atMost(r.getOperationsCount(), Limits.MAX_BATCH_OPERATIONS, "operations");
    List<PointOperation> ops = new ArrayList<>(r.getOperationsCount());
    for (Points.PointsUpdateOperation op : r.getOperationsList()) {
      ops.add(switch (op.getOperationCase()) {
        case UPSERT -> {
          var u = op.getUpsert();
          yield upsert(u.getPointsList(), NewerPointFields.updateFilter(u), u.hasShardKeySelector() ? u.getShardKeySelector() : null);
        }
        case DELETE_POINTS -> delete(op.getDeletePoints().hasPoints() ? op.getDeletePoints().getPoints() : null,
            op.getDeletePoints().hasShardKeySelector() ? op.getDeletePoints().getShardKeySelector() : null);
        case DELETE_DEPRECATED -> delete(op.getDeleteDeprecated(), null);
        case SET_PAYLOAD -> {
          var s = op.getSetPayload();
          yield setPayload(s.getPayloadMap(), s.hasPointsSelector() ? s.getPointsSelector() : null, s.hasKey() ? s.getKey() : null, false,
              s.hasShardKeySelector() ? s.getShardKeySelector() : null);
        }
        case OVERWRITE_PAYLOAD -> {
          var s = op.getOverwritePayload();
          yield setPayload(s.getPayloadMap(), s.hasPointsSelector() ? s.getPointsSelector() : null, null, true,
              s.hasShardKeySelector() ? s.getShardKeySelector() : null);
        }
        case DELETE_PAYLOAD -> {
          var d = op.getDeletePayload();
          yield deletePayload(d.getKeysList(), d.hasPointsSelector() ? d.getPointsSelector() : null,
              d.hasShardKeySelector() ? d.getShardKeySelector() : null);
        }
        case CLEAR_PAYLOAD -> clearPayload(op.getClearPayload().hasPoints() ? op.getClearPayload().getPoints() : null,
            op.getClearPayload().hasShardKeySelector() ? op.getClearPayload().getShardKeySelector() : null);
        case CLEAR_PAYLOAD_DEPRECATED -> clearPayload(op.getClearPayloadDeprecated(), null);
        case UPDATE_VECTORS -> {
          var u = op.getUpdateVectors();
          yield updateVectors(u.getPointsList(), NewerPointFields.updateFilter(u), u.hasShardKeySelector() ? u.getShardKeySelector() : null);
        }
        case DELETE_VECTORS -> {
          var d = op.getDeleteVectors();
          yield deleteVectors(d.hasPointsSelector() ? d.getPointsSelector() : null, d.hasVectors() ? d.getVectors() : null,
              d.hasShardKeySelector() ? d.getShardKeySelector() : null);
        }
        case OPERATION_NOT_SET -> throw invalid("Operation is missing");
      });
    }
    return new PointWrite(r.getCollectionName(), ops, true, write);
  }

  private static PointOperation.Upsert upsert(List<Points.PointStruct> points, Points.Filter updateFilter,
      Points.ShardKeySelector shardKey) {
    Filter filter = updateFilter == null ? null : FilterConvert.filter(updateFilter, "update_filter");
    Limits.atMost(points.size(), Limits.MAX_POINTS, "points");
    List<PointStruct> out = new ArrayList<>(points.size());
    for (int i = 0; i < points.size(); i++) {
      Points.PointStruct p = points.get(i);
      if (!p.hasId()) {
        throw invalid("Empty ID is not allowed");
      }
      if (!p.hasVectors()) {
        throw invalid("Expected some vectors");
      }
      PointId id = Values.id(p.getId());
      String path = "points[" + i + "]";
      out.add(new PointStruct(id, vectors(p.getVectors(), path + ".vector"), Values.json(p.getPayloadMap())));
    }
    return new PointOperation.Upsert(out, filter, shardKey(shardKey));
  }

  private static PointOperation.Delete delete(Points.PointsSelector selector, Points.ShardKeySelector shardKey) {
    if (selector == null) {
      throw invalid("PointSelector is missing");
    }
    return new PointOperation.Delete(selector(selector), shardKey(shardKey));
  }

  private static PointOperation.UpdateVectors updateVectors(List<Points.PointVectors> points, Points.Filter updateFilter,
      Points.ShardKeySelector shardKey) {
    Filter filter = updateFilter == null ? null : FilterConvert.filter(updateFilter, "update_filter");
    Limits.atMost(points.size(), Limits.MAX_POINTS, "points");
    List<PointVectors> out = new ArrayList<>(points.size());
    for (int i = 0; i < points.size(); i++) {
      Points.PointVectors p = points.get(i);
      if (!p.hasId()) {
        throw invalid("id is expected");
      }
      if (!p.hasVectors()) {
        throw invalid("vectors is expected");
      }
      PointId id = Values.id(p.getId());
      Points.Vectors v = p.getVectors();
      if (v.hasVectors() && v.getVectors().getVectorsCount() == 0) {
        throw new ApiException(422, "Validation error in JSON body: [points[" + i + "].vector: must specify vectors to update for point]");
      }
      out.add(new PointVectors(id, vectors(v, "points[" + i + "].vector")));
    }
    return new PointOperation.UpdateVectors(out, filter, shardKey(shardKey));
  }

  private static PointOperation.DeleteVectors deleteVectors(Points.PointsSelector selector, Points.VectorsSelector vectors,
      Points.ShardKeySelector shardKey) {
    if (selector == null) {
      throw invalid("points_selector is expected");
    }
    if (vectors == null) {
      throw invalid("vectors is expected");
    }
    return new PointOperation.DeleteVectors(selector(selector), vectors.getNamesList(), shardKey(shardKey));
  }

  private static PointOperation.SetPayload setPayload(Map<String, JsonWithInt.Value> payload, Points.PointsSelector selector, String key,
      boolean overwrite, Points.ShardKeySelector shardKey) {
    if (selector == null) {
      throw invalid("points_selector is expected");
    }
    return new PointOperation.SetPayload(Values.json(payload), selector(selector), key, overwrite, shardKey(shardKey));
  }

  private static PointOperation.DeletePayload deletePayload(List<String> keys, Points.PointsSelector selector,
      Points.ShardKeySelector shardKey) {
    if (selector == null) {
      throw invalid("points_selector is expected");
    }
    return new PointOperation.DeletePayload(keys, selector(selector), shardKey(shardKey));
  }

  private static PointOperation.ClearPayload clearPayload(Points.PointsSelector selector, Points.ShardKeySelector shardKey) {
    if (selector == null) {
      throw invalid("PointSelector is missing");
    }
    return new PointOperation.ClearPayload(selector(selector), shardKey(shardKey));
  }

  // ---- payload indexes ----

  /** A payload index, with its schema written as REST's {@code field_schema} and parsed as REST parses it. */
  static CollectionRequest.CreateIndex createIndex(Points.CreateFieldIndexCollection r) {
    ObjectNode body = F.objectNode().put("field_name", r.getFieldName());
    if (r.hasFieldType() && r.getFieldType() != Points.FieldType.UNRECOGNIZED) {
      body.set("field_schema", fieldSchema(r.getFieldType(), r.hasFieldIndexParams() ? r.getFieldIndexParams() : null));
    }
    return AdminParser.createIndex(r.getCollectionName(), body, new Params(writeParams(r.hasWait() ? r.getWait() : null,
        r.hasOrdering() ? r.getOrdering() : null)));
  }

  /**
   * REST's {@code field_schema}: the type's name, or {@code {"type", ...params}} when params are
   * given; params of another type than {@code field_type} are refused as Qdrant's gRPC API does.
   */
  private static JsonNode fieldSchema(Points.FieldType fieldType, Collections.PayloadIndexParams params) {
    String type = fieldType.name().substring("FieldType".length()).toLowerCase(java.util.Locale.ROOT);
    if (params == null || params.getIndexParamsCase() == Collections.PayloadIndexParams.IndexParamsCase.INDEXPARAMS_NOT_SET) {
      return F.textNode(type);
    }
    ObjectNode out = F.objectNode().put("type", type);
    String paramsType = switch (params.getIndexParamsCase()) {
      case KEYWORD_INDEX_PARAMS -> {
        var k = params.getKeywordIndexParams();
        optional(out, "is_tenant", k.hasIsTenant(), k.getIsTenant());
        optional(out, "on_disk", k.hasOnDisk(), k.getOnDisk());
        yield "keyword";
      }
      case INTEGER_INDEX_PARAMS -> {
        var i = params.getIntegerIndexParams();
        optional(out, "lookup", i.hasLookup(), i.getLookup());
        optional(out, "range", i.hasRange(), i.getRange());
        optional(out, "is_principal", i.hasIsPrincipal(), i.getIsPrincipal());
        optional(out, "on_disk", i.hasOnDisk(), i.getOnDisk());
        yield "integer";
      }
      case FLOAT_INDEX_PARAMS -> {
        var f = params.getFloatIndexParams();
        optional(out, "on_disk", f.hasOnDisk(), f.getOnDisk());
        optional(out, "is_principal", f.hasIsPrincipal(), f.getIsPrincipal());
        yield "float";
      }
      case GEO_INDEX_PARAMS -> {
        optional(out, "on_disk", params.getGeoIndexParams().hasOnDisk(), params.getGeoIndexParams().getOnDisk());
        yield "geo";
      }
      case TEXT_INDEX_PARAMS -> {
        text(out, params.getTextIndexParams());
        yield "text";
      }
      case BOOL_INDEX_PARAMS -> {
        optional(out, "on_disk", params.getBoolIndexParams().hasOnDisk(), params.getBoolIndexParams().getOnDisk());
        yield "bool";
      }
      case DATETIME_INDEX_PARAMS -> {
        var d = params.getDatetimeIndexParams();
        optional(out, "on_disk", d.hasOnDisk(), d.getOnDisk());
        optional(out, "is_principal", d.hasIsPrincipal(), d.getIsPrincipal());
        yield "datetime";
      }
      case UUID_INDEX_PARAMS -> {
        var u = params.getUuidIndexParams();
        optional(out, "is_tenant", u.hasIsTenant(), u.getIsTenant());
        optional(out, "on_disk", u.hasOnDisk(), u.getOnDisk());
        yield "uuid";
      }
      case INDEXPARAMS_NOT_SET -> type;
    };
    if (!paramsType.equals(type)) {
      throw invalid("field_type (" + fieldType.name().substring("FieldType".length()) + ") and field_index_params do not match");
    }
    return out;
  }

  private static void text(ObjectNode out, Collections.TextIndexParams t) {
    out.put("tokenizer", switch (t.getTokenizer()) {
      case Prefix -> "prefix";
      case Whitespace -> "whitespace";
      case Word -> "word";
      case Multilingual -> "multilingual";
      case Unknown, UNRECOGNIZED -> throw invalid("unknown tokenizer type");
    });
    optional(out, "lowercase", t.hasLowercase(), t.getLowercase());
    if (t.hasMinTokenLen()) {
      out.set("min_token_len", FilterConvert.u64(t.getMinTokenLen()));
    }
    if (t.hasMaxTokenLen()) {
      out.set("max_token_len", FilterConvert.u64(t.getMaxTokenLen()));
    }
    optional(out, "on_disk", t.hasOnDisk(), t.getOnDisk());
    optional(out, "phrase_matching", t.hasPhraseMatching(), t.getPhraseMatching());
    if (t.hasStopwords()) {
      ObjectNode stopwords = out.putObject("stopwords");
      if (t.getStopwords().getLanguagesCount() > 0) {
        t.getStopwords().getLanguagesList().forEach(stopwords.putArray("languages")::add);
      }
      if (t.getStopwords().getCustomCount() > 0) {
        // Qdrant's gRPC API lowercases custom stopwords
        t.getStopwords().getCustomList().forEach(w -> stopwords.withArray("custom").add(w.toLowerCase(java.util.Locale.ROOT)));
      }
    }
    if (t.hasStemmer() && t.getStemmer().hasSnowball()) {
      out.putObject("stemmer").put("type", "snowball").put("language", t.getStemmer().getSnowball().getLanguage());
    }
  }

  private static void optional(ObjectNode out, String name, boolean present, boolean value) {
    if (present) {
      out.put(name, value);
    }
  }

  static CollectionRequest.DeleteIndex deleteIndex(Points.DeleteFieldIndexCollection r) {
    return new CollectionRequest.DeleteIndex(r.getCollectionName(), r.getFieldName(),
        write(r.hasWait() ? r.getWait() : null, r.hasOrdering() ? r.getOrdering() : null));
  }

  // ---- point parts ----

  /** Qdrant's {@code PointsSelector}: the listed ids or a filter. */
  static PointsSelector selector(Points.PointsSelector s) {
    return switch (s.getPointsSelectorOneOfCase()) {
      case POINTS -> PointsSelector.ids(ids(s.getPoints().getIdsList(), "points"));
      case FILTER -> PointsSelector.filter(FilterConvert.filter(s.getFilter(), "filter"));
      case POINTSSELECTORONEOF_NOT_SET -> throw invalid("Malformed PointsSelector type");
    };
  }

  static List<PointId> ids(List<Points.PointId> ids, String path) {
    Limits.atMost(ids.size(), Limits.MAX_POINTS, path);
    List<PointId> out = new ArrayList<>(ids.size());
    for (Points.PointId id : ids) {
      out.add(Values.id(id));
    }
    return out;
  }

  /** The vectors of a point: the unnamed one, or named ones. */
  static Vectors vectors(Points.Vectors v, String path) {
    return switch (v.getVectorsOptionsCase()) {
      case VECTOR -> {
        Points.Vector vector = v.getVector();
        if (vector.hasSparse() || vector.getVectorCase() == Points.Vector.VectorCase.VECTOR_NOT_SET && vector.hasIndices()) {
          throw invalid("Sparse vector must be named");
        }
        yield Vectors.unnamed(pointVector(vector, path));
      }
      case VECTORS -> {
        Map<String, VectorInput> named = new HashMap<>();
        v.getVectors().getVectorsMap().forEach((name, vector) -> named.put(name, pointVector(vector, path + "." + name)));
        yield new Vectors(named);
      }
      case VECTORSOPTIONS_NOT_SET -> throw invalid("No Vector Provided");
    };
  }

  /** One vector of a point: dense, sparse, multi or a document to embed (the BM25 model only, as REST). */
  private static VectorInput pointVector(Points.Vector v, String path) {
    return switch (v.getVectorCase()) {
      case DOCUMENT -> PointParser.vector(document(v.getDocument()), path);
      case IMAGE -> PointParser.vector(inference(v.getImage().getModel(), "image", v.getImage().getImage()), path);
      case OBJECT -> PointParser.vector(inference(v.getObject().getModel(), "object", v.getObject().getObject()), path);
      default -> plainVector(v, path);
    };
  }

  /**
   * A vector of a query's legacy form ({@code Vector}: recommend examples, discovery targets): as a
   * point's, but a document is a query to embed (BM25 only), as REST's {@code VectorInput}.
   */
  static VectorInput queryVector(Points.Vector v, String path) {
    return switch (v.getVectorCase()) {
      case DOCUMENT -> QueryParser.requiredInput(document(v.getDocument()), path);
      case IMAGE -> QueryParser.requiredInput(inference(v.getImage().getModel(), "image", v.getImage().getImage()), path);
      case OBJECT -> QueryParser.requiredInput(inference(v.getObject().getModel(), "object", v.getObject().getObject()), path);
      default -> plainVector(v, path);
    };
  }

  /** A dense, sparse or multi vector, in the current form or the deprecated one ({@code data}, {@code indices}, {@code vectors_count}). */
  private static VectorInput plainVector(Points.Vector v, String path) {
    switch (v.getVectorCase()) {
      case DENSE -> {
        return new VectorInput.Dense(floats(v.getDense()));
      }
      case SPARSE -> {
        return new VectorInput.Sparse(sparse(v.getSparse(), path));
      }
      case MULTI_DENSE -> {
        return multi(v.getMultiDense(), path);
      }
      default -> {
        // the deprecated fields
      }
    }
    float[] data = new float[v.getDataCount()];
    for (int i = 0; i < data.length; i++) {
      data[i] = v.getData(i);
    }
    if (v.hasIndices()) {
      int[] indices = new int[v.getIndices().getDataCount()];
      for (int i = 0; i < indices.length; i++) {
        indices[i] = v.getIndices().getData(i);
      }
      return new VectorInput.Sparse(PointParser.sparse(indices, data, path));
    }
    if (v.hasVectorsCount()) {
      long count = Integer.toUnsignedLong(v.getVectorsCount());
      if (count == 0 || data.length % count != 0) {
        throw invalid("Unable to convert to multi-dense vector: Data length is not divisible by vectors count. Data length: " + data.length
            + ", vectors count: " + count);
      }
      int dim = (int) (data.length / count);
      float[][] rows = new float[(int) count][];
      for (int r = 0; r < rows.length; r++) {
        rows[r] = java.util.Arrays.copyOfRange(data, r * dim, (r + 1) * dim);
      }
      return PointParser.multi(rows, path);
    }
    return new VectorInput.Dense(data);
  }

  /** A vector of a universal query ({@code VectorInput}): an id, a dense, sparse or multi vector, or a document. */
  static VectorInput input(Points.VectorInput v, String path) {
    return switch (v.getVariantCase()) {
      case ID -> new VectorInput.Id(Values.id(v.getId()));
      case DENSE -> new VectorInput.Dense(floats(v.getDense()));
      case SPARSE -> new VectorInput.Sparse(sparse(v.getSparse(), path));
      case MULTI_DENSE -> multi(v.getMultiDense(), path);
      case DOCUMENT -> QueryParser.requiredInput(document(v.getDocument()), path);
      case IMAGE -> QueryParser.requiredInput(inference(v.getImage().getModel(), "image", v.getImage().getImage()), path);
      case OBJECT -> QueryParser.requiredInput(inference(v.getObject().getModel(), "object", v.getObject().getObject()), path);
      case VARIANT_NOT_SET -> throw invalid("VectorInput variant is missing");
    };
  }

  static float[] floats(Points.DenseVector d) {
    float[] out = new float[d.getDataCount()];
    for (int i = 0; i < out.length; i++) {
      out[i] = d.getData(i);
    }
    return out;
  }

  private static io.quiver.engine.SparseVector sparse(Points.SparseVector s, String path) {
    int[] indices = new int[s.getIndicesCount()];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = s.getIndices(i);
    }
    float[] values = new float[s.getValuesCount()];
    for (int i = 0; i < values.length; i++) {
      values[i] = s.getValues(i);
    }
    return PointParser.sparse(indices, values, path);
  }

  /** Rows of a multivector; none at all is what REST's {@code []} is, an empty dense vector. */
  private static VectorInput multi(Points.MultiDenseVector m, String path) {
    if (m.getVectorsCount() == 0) {
      return new VectorInput.Dense(new float[0]);
    }
    float[][] rows = new float[m.getVectorsCount()][];
    for (int r = 0; r < rows.length; r++) {
      rows[r] = floats(m.getVectors(r));
    }
    return PointParser.multi(rows, path);
  }

  /** A document as REST's JSON ({@code {"model", "text", "options"}}), which REST's parsers embed or refuse. */
  private static ObjectNode document(Points.Document d) {
    ObjectNode out = F.objectNode().put("model", d.getModel()).put("text", d.getText());
    if (d.getOptionsCount() > 0) {
      out.set("options", Values.json(d.getOptionsMap()));
    }
    return out;
  }

  /** An image or object to embed, as REST's JSON: refused by REST's parsers (no inference service). */
  private static ObjectNode inference(String model, String kind, JsonWithInt.Value value) {
    return F.objectNode().put("model", model).set(kind, Values.json(value));
  }

  /** Qdrant's {@code ShardKeySelector}: its keys (strings, or numbers that fit REST's non-negative integers); null when absent. */
  static ShardKeySelector shardKey(Points.ShardKeySelector s) {
    if (s == null) {
      return null;
    }
    List<Object> keys = new ArrayList<>(s.getShardKeysCount());
    for (Collections.ShardKey k : s.getShardKeysList()) {
      keys.add(switch (k.getKeyCase()) {
        case KEYWORD -> k.getKeyword();
        case NUMBER -> {
          if (k.getNumber() < 0) {
            throw ApiException.formatError("shard_key: data did not match any variant of untagged enum ShardKeySelector");
          }
          yield k.getNumber();
        }
        case KEY_NOT_SET -> throw invalid("Malformed shard key");
      });
    }
    return new ShardKeySelector(keys, null);
  }

  /** {@code with_payload}: {@code otherwise} when absent (REST's default of the request); a selector with no option is refused. */
  static WithPayload withPayload(Points.WithPayloadSelector s, boolean otherwise) {
    if (s == null) {
      return otherwise ? WithPayload.ALL : WithPayload.NONE;
    }
    return switch (s.getSelectorOptionsCase()) {
      case ENABLE -> s.getEnable() ? WithPayload.ALL : WithPayload.NONE;
      case INCLUDE -> new WithPayload(true, new LinkedHashSet<>(s.getInclude().getFieldsList()), null);
      case EXCLUDE -> new WithPayload(true, null, new LinkedHashSet<>(s.getExclude().getFieldsList()));
      case SELECTOROPTIONS_NOT_SET -> throw invalid("No PayloadSelector");
    };
  }

  /** {@code with_vectors}: none when absent or without an option, all, or the named ones. */
  static WithVector withVector(Points.WithVectorsSelector s) {
    if (s == null) {
      return WithVector.NONE;
    }
    return switch (s.getSelectorOptionsCase()) {
      case ENABLE -> s.getEnable() ? WithVector.ALL : WithVector.NONE;
      case INCLUDE -> new WithVector(true, new LinkedHashSet<>(s.getInclude().getNamesList()));
      case SELECTOROPTIONS_NOT_SET -> WithVector.NONE;
    };
  }

  // ---- write options, as REST's query parameters ----

  /** {@code wait} (default false) and {@code ordering} (default weak), checked as REST's query parameters. */
  static WriteParams write(Boolean wait, Points.WriteOrdering ordering) {
    return new Params(writeParams(wait, ordering)).write();
  }

  private static Map<String, String> writeParams(Boolean wait, Points.WriteOrdering ordering) {
    Map<String, String> params = new HashMap<>();
    if (wait != null) {
      params.put("wait", wait.toString());
    }
    if (ordering != null) {
      params.put("ordering", switch (ordering.getType()) {
        case Weak -> "weak";
        case Medium -> "medium";
        case Strong -> "strong";
        case UNRECOGNIZED -> Integer.toString(ordering.getTypeValue());
      });
    }
    return params;
  }
}
