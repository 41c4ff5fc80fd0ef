package io.quiver.cluster;

import io.quiver.bus.Addresses;
import io.quiver.lock.LockState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The write lock of every node at once ({@code /locks?scope=cluster}). The lock stays per node:
 * this sends the node-scoped {@code lock.get}/{@code lock.set} message of each live node (this one
 * included) with a timeout and collects the answers, so a node that joins later is not locked and a
 * node that does not answer is named, not waited for.
 */
public final class ClusterLocks {
  private final Vertx vertx;
  private final Peers peers;
  private final SendFailures failures;

  public ClusterLocks(Vertx vertx, Peers peers, SendFailures failures) {
    this.vertx = vertx;
    this.peers = peers;
    this.failures = failures;
  }

  /**
   * What every node answered. {@code answered} maps a peer id to its lock state ({@code write},
   * {@code error_message}) plus {@code uri}; {@code notAnswered} maps a peer id to {@code uri} and
   * {@code error}.
   */
  public record Report(Map<String, Map<String, Object>> answered, Map<String, Map<String, Object>> notAnswered) {
    /** The documented JSON shape of {@code result} for {@code scope=cluster}. */
    public Map<String, Object> toResult() {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("scope", "cluster");
      out.put("peers", answered);
      out.put("not_answered", notAnswered);
      return out;
    }
  }

  /** Sets {@code next} on every live node; each answer is that node's previous state. */
  public Future<Report> set(LockState next, long timeoutMs) {
    return set(next, io.quiver.lock.LockOrigin.UNKNOWN, timeoutMs);
  }

  /** {@link #set(LockState, long)}, naming who asked in every node's lock history. */
  public Future<Report> set(LockState next, io.quiver.lock.LockOrigin origin, long timeoutMs) {
    return fanOut(a -> a.lockSet(), next.toJson().put("origin", origin.toJson()), timeoutMs);
  }

  /** Reads every live node's lock. */
  public Future<Report> get(long timeoutMs) {
    return fanOut(a -> a.lockGet(), new JsonObject(), timeoutMs);
  }

  private Future<Report> fanOut(java.util.function.Function<Addresses, String> address, JsonObject body, long timeoutMs) {
    var options = new DeliveryOptions().setSendTimeout(timeoutMs);
    return peers.live().compose(list -> {
      List<Future<JsonObject>> answers = new ArrayList<>();
      for (Peer p : list) {
        String to = address.apply(new Addresses(Long.toString(p.peerId())));
        answers.add(vertx.eventBus().<JsonObject>request(to, body, options).map(m -> m.body()));
      }
      return Future.join(answers).transform(ignored -> {
        Map<String, Map<String, Object>> answered = new LinkedHashMap<>();
        Map<String, Map<String, Object>> missing = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
          Peer p = list.get(i);
          String key = p.uri() != null ? p.uri() : Long.toString(p.peerId());
          Future<JsonObject> f = answers.get(i);
          if (f.succeeded()) {
            failures.succeeded(key);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("uri", p.uri());
            m.put("write", f.result().getBoolean("write", false));
            m.put("error_message", f.result().getString("error_message"));
            Map<String, Object> diskBlock = io.quiver.lock.DiskGuard.summary(f.result().getJsonObject("disk"));
            if (diskBlock != null) {
              m.put("disk_write_block", diskBlock); // that node's automatic disk write block, while on
            }
            answered.put(Long.toString(p.peerId()), m);
          } else {
            String why = describe(f.cause(), timeoutMs);
            failures.failed(key, why);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("uri", p.uri());
            m.put("error", why);
            missing.put(Long.toString(p.peerId()), m);
          }
        }
        return Future.succeededFuture(new Report(answered, missing));
      });
    });
  }

  private static String describe(Throwable cause, long timeoutMs) {
    if (cause instanceof ReplyException r) {
      if (r.failureType() == ReplyFailure.TIMEOUT) {
        return "no answer within " + timeoutMs + " ms";
      }
      if (r.failureType() == ReplyFailure.NO_HANDLERS) {
        return "node unreachable: no lock handler registered";
      }
      return r.getMessage();
    }
    return String.valueOf(cause);
  }
}
