package io.quiver.cluster.shard;

import static io.quiver.cluster.shard.ShardCodec.F;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.bus.Addresses;
import io.quiver.engine.filter.JsonPath;
import io.quiver.error.ApiException;
import io.quiver.json.Json;
import io.quiver.request.RequestJson;
import io.quiver.storage.collection.Catalogue;
import io.quiver.storage.collection.Collection;
import io.quiver.storage.collection.ShardEndpoint;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the shards this node holds to the other nodes' coordinators: one consumer on {@link
 * Addresses#shards()}, each message a {@link ShardEndpoint} call on one local shard (see {@link
 * RemoteShard} for the message format), answered with the call's result or with the failure's
 * status and Qdrant's message. Work runs on the storage's pools, never on the event loop.
 */
public final class ShardServer implements AutoCloseable {
  /** How long a call waits for a shard of a new shard key this node has not opened yet: polls, and the pause between them. */
  private static final int NEW_SHARD_POLLS = 100;
  private static final long NEW_SHARD_POLL_MS = 100;
  /** A collection missing here: its creation is at most this many polls behind (creations wait for every peer). */
  private static final int NEW_COLLECTION_POLLS = 20;

  private static final Logger log = LoggerFactory.getLogger(ShardServer.class);

  private final Catalogue catalogue;
  private final Replication replication;
  private final MessageConsumer<Buffer> consumer;

  public ShardServer(Vertx vertx, Addresses addresses, Catalogue catalogue, Replication replication) {
    this.catalogue = catalogue;
    this.replication = replication;
    this.consumer = vertx.eventBus().consumer(addresses.shards(), this::handle);
  }

  private void handle(Message<Buffer> message) {
    CompletionStage<JsonNode> answer;
    try {
      JsonNode m = Json.MAPPER.readTree(message.body().getBytes());
      answer = call(m);
    } catch (Exception | StackOverflowError e) {
      answer = CompletableFuture.failedFuture(e);
    }
    answer.whenComplete((result, err) -> {
      if (err == null) {
        try {
          message.reply(Buffer.buffer(Json.MAPPER.writeValueAsBytes(result)));
        } catch (Exception e) {
          message.fail(500, "Service internal error: " + e);
        }
        return;
      }
      Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (cause instanceof ApiException api) {
        message.fail(api.status(), api.getMessage());
      } else {
        log.warn("A shard call from another node failed", cause);
        message.fail(500, "Service internal error: " + cause);
      }
    });
  }

  private CompletionStage<JsonNode> call(JsonNode m) {
    return call(m, 0);
  }

  private CompletionStage<JsonNode> call(JsonNode m, int attempt) {
    String name = m.get("collection").asText();
    int shard = m.get("shard").asInt();
    Collection col = catalogue.names().contains(name) ? catalogue.resolve(name) : null;
    if (col == null) {
      if (attempt < NEW_COLLECTION_POLLS) {
        // a collection created a moment ago: the coordinator applied the change before this node did
        return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(NEW_SHARD_POLL_MS, TimeUnit.MILLISECONDS))
            .thenCompose(v -> call(m, attempt + 1));
      }
      throw ApiException.collectionNotFound(name);
    }
    // the lease first: a shard given up after it is still open until the call is done (Collection.dropLocalShard)
    Collection.Lease lease = col.lease(); // the collection is not dropped under a call
    ShardEndpoint e = col.localShards().containsKey(shard) ? col.endpoints().get(shard) : null;
    if (e == null) {
      lease.close();
      if (col.layout().custom() && shard >= col.layout().nextId() && attempt < NEW_SHARD_POLLS) {
        // a shard of a key created a moment ago: the coordinator applied the change before this node did
        return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(NEW_SHARD_POLL_MS, TimeUnit.MILLISECONDS))
            .thenCompose(v -> call(m, attempt + 1));
      }
      if ("frames".equals(m.path("call").asText()) && !heldHere(name, shard)) {
        // a transfer's receiver that has not opened its replica yet (or no longer holds it): no recovery
        // runs here, and the one to come starts from an export taken after the primary applied these frames
        return CompletableFuture.completedFuture(F.objectNode().put("seq", -1));
      }
      throw new ApiException(503, "Service unavailable: shard " + shard + " of collection `" + name + "` is not on this peer");
    }
    Replica replica = e instanceof ReplicatedShard rs ? rs.replica() : null;
    CompletionStage<JsonNode> out;
    try {
      String name2 = m.get("call").asText();
      out = replica == null ? run(e, name2, m) : switch (name2) {
        case "write" -> replica.primaryWrite(new ShardEndpoint.Write(RequestJson.OPERATIONS.read(m.get("operations")),
                m.get("wait").asBoolean(), m.path("ordering").asText("weak")))
            .thenApply(r -> F.objectNode().put("operation_id", r.operationId()).put("completed", r.completed()));
        case "frames" -> replica.applyFrames(m.get("term").asLong(), Replica.frames(m.get("frames")), m.path("wait").asBoolean())
            .thenApply(seq -> F.objectNode().put("seq", seq));
        case "fence" -> replica.fence(m.get("term").asLong()).thenApply(seq -> F.objectNode().put("seq", seq));
        case "export_open" -> replica.exportOpen(m.get("target").asLong(), m.get("term").asLong());
        case "export_next" -> replica.exportNext(m.get("export").asText(), m.path("max").asInt(256));
        case "delta_open" -> replica.deltaOpen(m.get("target").asLong(), m.get("term").asLong(), m.get("after").asLong());
        case "delta_next" -> replica.deltaNext(m.get("after").asLong(), m.path("max").asInt(256));
        case "export_close" -> {
          replica.exportClose(m.get("export").asText());
          yield CompletableFuture.completedFuture(F.objectNode());
        }
        default -> run(replica.local(), name2, m);
      };
    } catch (RuntimeException | Error failure) {
      lease.close();
      throw failure;
    }
    return out.whenComplete((r, err) -> lease.close());
  }

  /** Whether this node's metadata may have this peer's replica of the shard in a state that is read without a recovery first. */
  private boolean heldHere(String collection, int shard) {
    try {
      io.quiver.cluster.meta.ReplicaState state = replication.shard(collection, shard).state(replication.self);
      return state != null && state != io.quiver.cluster.meta.ReplicaState.PARTIAL && state != io.quiver.cluster.meta.ReplicaState.DEAD;
    } catch (ApiException unknown) {
      return true; // a shard this node's metadata does not know yet may have been made with Active replicas
    }
  }

  private static CompletionStage<JsonNode> run(ShardEndpoint e, String call, JsonNode m) {
    return switch (call) {
      case "search" -> {
        Map<Integer, ShardEndpoint.Examples> examples = new HashMap<>();
        m.path("examples").properties().forEach(x -> examples.put(Integer.parseInt(x.getKey()), ShardCodec.examples(x.getValue())));
        var s = new ShardEndpoint.Search(RequestJson.STAGE.read(m.get("stage")), ShardCodec.filter(m.get("filter")), examples,
            m.get("take").asInt(), m.get("scale").asInt(), m.hasNonNull("root_limit") ? m.get("root_limit").asInt() : null,
            m.get("skip").asInt(), RequestJson.WITH_PAYLOAD.read(m.get("with_payload")), RequestJson.WITH_VECTOR.read(m.get("with_vector")));
        yield e.search(s).thenApply(ShardCodec::hits);
      }
      case "rescore" -> {
        List<List<ShardEndpoint.Hit>> sources = new java.util.ArrayList<>();
        m.get("sources").forEach(s -> sources.add(ShardCodec.hits(s)));
        var r = new ShardEndpoint.Rescore(RequestJson.STAGE.read(m.get("stage")), ShardCodec.examples(m.get("examples")), sources,
            m.get("limit").asInt());
        yield e.rescore(r).thenApply(ShardCodec::hits);
      }
      case "retrieve" -> e.retrieve(new ShardEndpoint.Retrieve(ShardCodec.ids(m.get("ids")),
          RequestJson.WITH_PAYLOAD.read(m.get("with_payload")), RequestJson.WITH_VECTOR.read(m.get("with_vector"))))
          .thenApply(ShardCodec::hits);
      case "vectors" -> {
        Set<String> names = new HashSet<>();
        m.get("vectors").forEach(v -> names.add(v.asText()));
        yield e.vectors(ShardCodec.ids(m.get("ids")), names).thenApply(ShardCodec::points);
      }
      case "scroll" -> e.scroll(new ShardEndpoint.Scroll(ShardCodec.filter(m.get("filter")),
              m.hasNonNull("offset") ? ShardCodec.id(m.get("offset")) : null, m.get("limit").asInt(),
              m.hasNonNull("order_by") ? RequestJson.ORDER_BY.read(m.get("order_by")) : null,
              RequestJson.WITH_PAYLOAD.read(m.get("with_payload")), RequestJson.WITH_VECTOR.read(m.get("with_vector"))))
          .thenApply(page -> {
            ObjectNode o = F.objectNode();
            o.set("points", ShardCodec.hits(page.points()));
            o.set("next", page.next() == null ? F.nullNode() : page.next().toJson());
            return o;
          });
      case "count" -> e.count(ShardCodec.filter(m.get("filter"))).thenApply(n -> F.numberNode(n));
      case "facet" -> e.facet(JsonPath.parse(m.get("key").asText()), ShardCodec.filter(m.get("filter")), m.get("limit").asInt())
          .thenApply(hits -> {
            ArrayNode a = F.arrayNode();
            hits.forEach(h -> a.add(ShardCodec.facetHit(h)));
            return a;
          });
      case "sample" -> e.sample(ShardCodec.filter(m.get("filter")), m.get("using").asText(), m.get("n").asInt())
          .thenApply(s -> {
            ObjectNode o = F.objectNode().put("matched", s.matched());
            ArrayNode a = o.putArray("points");
            s.points().forEach(p -> a.add(ShardCodec.sampled(p)));
            return o;
          });
      case "stats" -> e.stats().thenApply(s -> {
        ObjectNode o = F.objectNode().put("points", s.points()).put("segments", s.segments())
            .put("indexed_vectors", s.indexedVectors()).put("disk_bytes", s.diskBytes())
            .put("optimizing", s.optimizing());
        ObjectNode v = o.putObject("vectors");
        s.vectors().forEach(v::put);
        return o;
      });
      case "write" -> e.write(new ShardEndpoint.Write(RequestJson.OPERATIONS.read(m.get("operations")), m.get("wait").asBoolean()))
          .thenApply(r -> F.objectNode().put("operation_id", r.operationId()).put("completed", r.completed()));
      default -> throw new ApiException(400, "Bad request: unknown shard call `" + call + "`");
    };
  }

  @Override
  public void close() {
    consumer.unregister();
  }
}
