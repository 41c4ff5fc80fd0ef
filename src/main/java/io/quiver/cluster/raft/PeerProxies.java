package io.quiver.cluster.raft;

import java.io.Closeable;
import java.lang.reflect.Field;
import java.util.Collection;
import java.util.Map;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerRpcWithProxy;
import org.apache.ratis.util.PeerProxyMap;

/**
 * Points a Ratis server's connections at the addresses of the current configuration.
 *
 * <p>Why: Ratis 3.3 keeps, per server process, the first address it ever saw for a peer id (its
 * {@link PeerProxyMap} adds peers with {@code computeIfAbsent} and reconnects to the remembered
 * address). A configuration that gives a known peer id a new address is committed, but the
 * running servers go on calling the old one. There is no public way to forget a peer, so this
 * replaces the stale entry through reflection, under the map's own reset lock. If a Ratis upgrade
 * renames those fields, {@link #supported()} turns false and peers reach a moved peer only after
 * they restart (RaftNodeTest's address-change case fails first).
 */
final class PeerProxies {
  private static final System.Logger log = System.getLogger(PeerProxies.class.getName());
  private static final Field PEERS;
  private static final Field RESET_LOCK;
  private static final Field PEER;
  private static final Field PROXY;

  static {
    Field peers = null;
    Field resetLock = null;
    Field peer = null;
    Field proxy = null;
    try {
      peers = accessible(PeerProxyMap.class.getDeclaredField("peers"));
      resetLock = accessible(PeerProxyMap.class.getDeclaredField("resetLock"));
      Class<?> entry = Class.forName(PeerProxyMap.class.getName() + "$PeerAndProxy");
      peer = accessible(entry.getDeclaredField("peer"));
      proxy = accessible(entry.getDeclaredField("proxy"));
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.log(System.Logger.Level.WARNING, "Ratis's peer proxy map has changed: a peer that moves to another "
          + "address is reached by the others only after they restart", e);
      peers = null;
    }
    PEERS = peers;
    RESET_LOCK = resetLock;
    PEER = peer;
    PROXY = proxy;
  }

  private PeerProxies() {}

  static boolean supported() {
    return PEERS != null;
  }

  /** Replaces every connection of {@code server} whose address differs from {@code peers}'. */
  static void refresh(RaftServer server, Collection<RaftPeer> peers) {
    if (!supported() || !(server.getServerRpc() instanceof RaftServerRpcWithProxy<?, ?> rpc)) {
      return;
    }
    PeerProxyMap<?> map = rpc.getProxies();
    try {
      @SuppressWarnings("unchecked")
      Map<RaftPeerId, Object> entries = (Map<RaftPeerId, Object>) PEERS.get(map);
      for (RaftPeer p : peers) {
        if (p.getId().equals(server.getId())) {
          continue;
        }
        Closeable stale = null;
        synchronized (RESET_LOCK.get(map)) {
          Object entry = entries.get(p.getId());
          if (entry == null) {
            continue;
          }
          RaftPeer known = (RaftPeer) PEER.get(entry);
          if (known.getAddress().equals(p.getAddress())) {
            continue;
          }
          if (entries.remove(p.getId(), entry)) {
            stale = (Closeable) PROXY.get(entry);
            map.computeIfAbsent(p);
            log.log(System.Logger.Level.INFO, "Raft peer {0} moved from {1} to {2}",
                p.getId(), known.getAddress(), p.getAddress());
          }
        }
        if (stale != null) {
          try {
            stale.close();
          } catch (Exception e) {
            log.log(System.Logger.Level.DEBUG, "closing the connection to a moved peer", e);
          }
        }
      }
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Field accessible(Field f) {
    f.setAccessible(true);
    return f;
  }
}
