package io.quiver.cluster.shard;

import static io.quiver.cluster.shard.ShardCodec.F;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.bus.Addresses;
import io.quiver.engine.Point;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Facets;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.JsonPath;
import io.quiver.engine.query.Sampling;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.RequestJson;
import io.quiver.storage.collection.ShardEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A shard of a collection that lives on another node, reached over the event bus at that node's
 * {@link Addresses#shards()}. Each call is one message: {@code {"collection": name, "shard": id,
 * "call": "search"|"rescore"|"retrieve"|"vectors"|"scroll"|"count"|"facet"|"sample"|"stats"|"write",
 * ...the call's arguments}}, request parts in canonical Qdrant JSON and floats by their bits ({@link
 * ShardCodec}). A peer that does not answer makes the call fail with 503 naming the shard and the
 * peer: a read never silently leaves a shard out.
 */
public final class RemoteShard implements ShardEndpoint {
  /** How long a call may wait for the other node (a search of a large shard included). */
  static final long TIMEOUT_MS = 60_000;
  /** How long a write may wait for the shard's primary (which waits for its replicas). */
  static final long WRITE_TIMEOUT_MS = 30_000;
  /** How long taking a peer's write permission may take. */
  static final long RESERVE_TIMEOUT_MS = 5_000;

  private final Vertx vertx;
  private final String collection;
  private final int id;
  private final LongSupplier owner;

  /** @param owner the peer id holding the shard now (looked up on every call: placement may change) */
  public RemoteShard(Vertx vertx, String collection, int id, LongSupplier owner) {
    this(vertx, collection, id, owner, InFlight.NONE);
  }

  /** @param inFlight hears of every call in flight, so that calls to a peer that left the cluster fail at once */
  public RemoteShard(Vertx vertx, String collection, int id, LongSupplier owner, InFlight inFlight) {
    this.vertx = vertx;
    this.collection = collection;
    this.id = id;
    this.owner = owner;
    this.inFlight = inFlight;
  }

  /** Where calls in flight are registered until they complete (see {@link Replication#peerLeft}). */
  public interface InFlight {
    InFlight NONE = (peer, call, why) -> { };

    /** {@code call} waits for {@code peer}; {@code why} is its failure should the peer leave. */
    void track(long peer, CompletableFuture<?> call, ApiException why);
  }

  private final InFlight inFlight;

  @Override
  public int id() {
    return id;
  }

  private ObjectNode message(String call) {
    return F.objectNode().put("collection", collection).put("shard", id).put("call", call);
  }

  /** The peer this endpoint reaches now. */
  public long peer() {
    return owner.getAsLong();
  }

  /**
   * A call of the replication protocol (see {@link ShardServer}): {@code args} plus the
   * collection, shard and call name; answers the reply's JSON. Fails with {@link Unreachable} when
   * the peer does not answer within {@code timeoutMs}.
   */
  public CompletionStage<JsonNode> call(String call, ObjectNode args, long timeoutMs) {
    ObjectNode m = message(call);
    m.setAll(args);
    return send(m, j -> j, timeoutMs);
  }

  /** The peer did not answer: it is down, unreachable, or too slow. */
  public static final class Unreachable extends ApiException {
    public final long peer;

    Unreachable(long peer, String message) {
      super(503, message);
      this.peer = peer;
    }
  }

  private <T> CompletionStage<T> send(ObjectNode message, Function<JsonNode, T> decode) {
    return send(message, decode, TIMEOUT_MS);
  }

  private <T> CompletionStage<T> send(ObjectNode message, Function<JsonNode, T> decode, long timeoutMs) {
    long peer;
    byte[] bytes;
    try {
      peer = owner.getAsLong();
      bytes = Json.MAPPER.writeValueAsBytes(message);
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e instanceof ApiException ? e : new ApiException(500, "Service internal error: " + e));
    }
    String address = new Addresses(Long.toString(peer)).shards();
    CompletableFuture<T> out = new CompletableFuture<>();
    inFlight.track(peer, out, new Unreachable(peer, "Service unavailable: shard " + id + " of collection `" + collection
        + "` is on peer " + peer + ", which left the cluster"));
    vertx.eventBus().<Buffer>request(address, Buffer.buffer(bytes), new DeliveryOptions().setSendTimeout(timeoutMs))
        .onComplete(ar -> {
          if (ar.failed()) {
            out.completeExceptionally(failure(ar.cause(), peer));
            return;
          }
          try {
            out.complete(decode.apply(Json.MAPPER.readTree(ar.result().body().getBytes())));
          } catch (Exception | StackOverflowError e) {
            out.completeExceptionally(new ApiException(500, "Service internal error: unreadable answer of peer " + peer + ": " + e));
          }
        });
    return out;
  }

  private ApiException failure(Throwable cause, long peer) {
    if (cause instanceof ReplyException r) {
      return switch (r.failureType()) {
        case RECIPIENT_FAILURE -> new ApiException(r.failureCode() > 0 ? r.failureCode() : 500, r.getMessage());
        case NO_HANDLERS -> new Unreachable(peer, "Service unavailable: shard " + id + " of collection `" + collection
            + "` is on peer " + peer + ", which is not reachable");
        default -> new Unreachable(peer, "Service unavailable: shard " + id + " of collection `" + collection
            + "` on peer " + peer + " did not answer in time");
      };
    }
    return new Unreachable(peer, "Service unavailable: shard " + id + " of collection `" + collection + "` on peer " + peer + ": " + cause);
  }

  private static JsonNode stage(io.quiver.request.Stage s) {
    return ShardCodec.tree(RequestJson.STAGE.write(s));
  }

  @Override
  public CompletionStage<List<Hit>> search(Search call) {
    ObjectNode m = message("search");
    m.set("stage", stage(call.stage()));
    m.set("filter", ShardCodec.filter(call.filter()));
    ObjectNode examples = m.putObject("examples");
    call.examples().forEach((k, v) -> examples.set(Integer.toString(k), ShardCodec.examples(v)));
    m.put("take", call.take()).put("scale", call.scale()).put("skip", call.skip());
    if (call.rootLimit() != null) {
      m.put("root_limit", call.rootLimit());
    }
    m.set("with_payload", ShardCodec.tree(RequestJson.WITH_PAYLOAD.write(call.withPayload())));
    m.set("with_vector", ShardCodec.tree(RequestJson.WITH_VECTOR.write(call.withVector())));
    return send(m, ShardCodec::hits);
  }

  @Override
  public CompletionStage<List<Hit>> rescore(Rescore call) {
    ObjectNode m = message("rescore");
    m.set("stage", stage(call.stage()));
    m.set("examples", call.examples() == null ? F.nullNode() : ShardCodec.examples(call.examples()));
    ArrayNode sources = m.putArray("sources");
    call.sources().forEach(s -> sources.add(ShardCodec.hits(s)));
    m.put("limit", call.limit());
    return send(m, ShardCodec::hits);
  }

  @Override
  public CompletionStage<List<Hit>> retrieve(Retrieve call) {
    ObjectNode m = message("retrieve");
    m.set("ids", ShardCodec.ids(call.ids()));
    m.set("with_payload", ShardCodec.tree(RequestJson.WITH_PAYLOAD.write(call.withPayload())));
    m.set("with_vector", ShardCodec.tree(RequestJson.WITH_VECTOR.write(call.withVector())));
    return send(m, ShardCodec::hits);
  }

  @Override
  public CompletionStage<List<Point>> vectors(List<PointId> ids, Set<String> vectors) {
    ObjectNode m = message("vectors");
    m.set("ids", ShardCodec.ids(ids));
    ArrayNode names = m.putArray("vectors");
    vectors.stream().sorted().forEach(names::add);
    return send(m, ShardCodec::points);
  }

  @Override
  public CompletionStage<Page> scroll(Scroll call) {
    ObjectNode m = message("scroll");
    m.set("filter", ShardCodec.filter(call.filter()));
    m.set("offset", call.offset() == null ? F.nullNode() : call.offset().toJson());
    m.put("limit", call.limit());
    m.set("order_by", call.orderBy() == null ? F.nullNode() : ShardCodec.tree(RequestJson.ORDER_BY.write(call.orderBy())));
    m.set("with_payload", ShardCodec.tree(RequestJson.WITH_PAYLOAD.write(call.withPayload())));
    m.set("with_vector", ShardCodec.tree(RequestJson.WITH_VECTOR.write(call.withVector())));
    return send(m, o -> new Page(ShardCodec.hits(o.get("points")), o.get("next").isNull() ? null : ShardCodec.id(o.get("next"))));
  }

  @Override
  public CompletionStage<Long> count(Filter filter) {
    ObjectNode m = message("count");
    m.set("filter", ShardCodec.filter(filter));
    return send(m, JsonNode::asLong);
  }

  @Override
  public CompletionStage<List<Facets.Hit>> facet(JsonPath key, Filter filter, int limit) {
    ObjectNode m = message("facet");
    m.put("key", key.toString());
    m.set("filter", ShardCodec.filter(filter));
    m.put("limit", limit);
    return send(m, a -> {
      List<Facets.Hit> out = new ArrayList<>();
      a.forEach(h -> out.add(ShardCodec.facetHit(h)));
      return out;
    });
  }

  @Override
  public CompletionStage<VectorSample> sample(Filter filter, String using, int n) {
    ObjectNode m = message("sample");
    m.set("filter", ShardCodec.filter(filter));
    m.put("using", using).put("n", n);
    return send(m, o -> {
      List<Sampling.Sampled> pts = new ArrayList<>();
      o.get("points").forEach(p -> pts.add(ShardCodec.sampled(p)));
      return new VectorSample(pts, o.get("matched").asLong());
    });
  }

  @Override
  public CompletionStage<Stats> stats() {
    return send(message("stats"), o -> {
      Map<String, Long> vectors = new LinkedHashMap<>();
      o.path("vectors").properties().forEach(e -> vectors.put(e.getKey(), e.getValue().asLong()));
      return new Stats(o.get("points").asLong(), o.get("segments").asInt(), o.get("indexed_vectors").asLong(), vectors,
          o.get("disk_bytes").asLong(), o.path("optimizing").asBoolean(false));
    });
  }

  @Override
  public CompletionStage<Runnable> reserve() {
    long peer;
    try {
      peer = owner.getAsLong();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    var lock = new io.quiver.lock.LockClient(vertx, new Addresses(Long.toString(peer)));
    CompletableFuture<Runnable> out = new CompletableFuture<>();
    lock.acquire(RESERVE_TIMEOUT_MS).onComplete(ar -> {
      if (ar.succeeded()) {
        long permit = ar.result();
        out.complete(() -> lock.release(permit));
      } else {
        out.completeExceptionally(ar.cause() instanceof ApiException api ? api : failure(ar.cause(), peer));
      }
    });
    return out;
  }

  @Override
  public CompletionStage<WriteResult> write(Write call) {
    ObjectNode m = message("write");
    m.set("operations", ShardCodec.tree(RequestJson.OPERATIONS.write(call.operations())));
    m.put("wait", call.waitForResult()).put("ordering", call.ordering());
    return send(m, o -> new WriteResult(o.get("operation_id").asLong(), o.get("completed").asBoolean()), WRITE_TIMEOUT_MS);
  }
}
