package io.quiver.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.quiver.config.ConfigException;
import io.quiver.config.QuiverConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a clustered Vert.x over Hazelcast from {@code cluster.*}. Only used when {@code
 * cluster.enabled} is true: single-node mode never loads a Hazelcast class.
 *
 * <p>Ports: Hazelcast listens on {@code cluster.p2p.port} (default 6335) and the Vert.x event bus on
 * {@code cluster.bus.port} (default 0: a free port, advertised through Hazelcast), both bound to
 * {@code cluster.p2p.host}. With a wildcard host (0.0.0.0) both bind every interface and advertise
 * the host of {@code --uri} when given, else the address Hazelcast picks. Members come from {@code
 * cluster.members} (TCP/IP join, {@code host:port} of peers' p2p ports) plus the {@code
 * --bootstrap} peer and the peers this node knew before it stopped, or from the DNS records of a
 * Kubernetes headless service ({@code cluster.discovery.kubernetes_service}); multicast, auto
 * detection and phone-home are off.
 *
 * <p>Failure detection is tuned for a small cluster (a dead member is dropped after about 10 s);
 * every {@code hazelcast.*} system property given to the JVM wins over these defaults, which is how
 * tests shorten it further.
 */
public final class ClusterSetup {
  /** The Hazelcast cluster name: members of another cluster name never join. */
  public static final String CLUSTER_NAME = "quiver";

  private ClusterSetup() {}

  /** A started clustered Vert.x and its cluster manager. */
  public record Clustered(Vertx vertx, HazelcastClusterManager clusterManager) {}

  /** Joins (or forms) the cluster; fails with a {@link ConfigException} on an unusable setting. */
  public static Future<Clustered> start(QuiverConfig.Cluster cluster, VertxOptions base) {
    return start(cluster, List.of(), base);
  }

  /**
   * As {@link #start(QuiverConfig.Cluster, VertxOptions)}, also trying {@code knownPeers} ({@code
   * host:port} of p2p ports this node learned from the cluster before it stopped).
   */
  public static Future<Clustered> start(QuiverConfig.Cluster cluster, List<String> knownPeers, VertxOptions base) {
    Config hazelcast;
    EventBusOptions bus;
    try {
      hazelcast = hazelcastConfig(cluster, knownPeers);
      bus = eventBusOptions(cluster);
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    var manager = new HazelcastClusterManager(hazelcast);
    var options = new VertxOptions(base).setEventBusOptions(bus);
    return Vertx.builder().with(options).withClusterManager(manager).buildClustered()
        .map(vertx -> new Clustered(vertx, manager));
  }

  static EventBusOptions eventBusOptions(QuiverConfig.Cluster cluster) {
    var bus = new EventBusOptions().setPort(cluster.busPort());
    if (!isWildcard(cluster.p2pHost())) {
      bus.setHost(cluster.p2pHost()).setClusterPublicHost(cluster.p2pHost());
    } else if (uriHost(cluster.uri()) != null) {
      bus.setClusterPublicHost(uriHost(cluster.uri()));
    }
    // with a wildcard host, Vert.x advertises the address the cluster manager picked
    var tls = cluster.p2pTls();
    if (tls != null) {
      // both ends of every event-bus connection prove a certificate signed by the cluster's CA
      bus.setSsl(true)
          .setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(tls.cert().toString()).setKeyPath(tls.key().toString()))
          .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(tls.caCert().toString()))
          .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED);
    }
    return bus;
  }

  /** The Hazelcast configuration, built in code (no XML lookup, no classpath scanning). */
  public static Config hazelcastConfig(QuiverConfig.Cluster cluster) {
    return hazelcastConfig(cluster, List.of());
  }

  static Config hazelcastConfig(QuiverConfig.Cluster cluster, List<String> knownPeers) {
    if (cluster.p2pPort() < 1 || cluster.p2pPort() > 65535) {
      throw new ConfigException("Invalid configuration value for `cluster.p2p.port`: got " + cluster.p2pPort()
          + ", expected 1 to 65535 in cluster mode");
    }
    // read by Hazelcast before it looks at the config as well
    System.setProperty("hazelcast.phone.home.enabled", "false");
    var config = new Config().setClusterName(CLUSTER_NAME);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.shutdownhook.enabled", "false"); // Main's hook leaves the cluster in order
    defaultProperty(config, "hazelcast.heartbeat.interval.seconds", "1");
    defaultProperty(config, "hazelcast.max.no.heartbeat.seconds", "10");
    defaultProperty(config, "hazelcast.wait.seconds.before.join", "1");
    defaultProperty(config, "hazelcast.max.wait.seconds.before.join", "5");
    defaultProperty(config, "hazelcast.merge.first.run.delay.seconds", "20");
    defaultProperty(config, "hazelcast.merge.next.run.delay.seconds", "20");

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.p2pPort()).setPortAutoIncrement(false);
    network.getRestApiConfig().setEnabled(false);
    if (!isWildcard(cluster.p2pHost())) {
      String ip = resolve("cluster.p2p.host", cluster.p2pHost());
      network.getInterfaces().setEnabled(true).setInterfaces(List.of(ip));
      network.setPublicAddress(ip + ":" + cluster.p2pPort());
      config.setProperty("hazelcast.socket.bind.any", "false");
    } else if (uriHost(cluster.uri()) != null) {
      network.setPublicAddress(resolve("--uri", uriHost(cluster.uri())) + ":" + cluster.p2pPort());
    }

    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getAwsConfig().setEnabled(false);
    if (cluster.kubernetesService() != null) {
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true)
          .setProperty("service-dns", cluster.kubernetesService())
          .setProperty("service-port", Integer.toString(cluster.p2pPort()));
    } else {
      List<String> members = new ArrayList<>(members(cluster));
      for (String extra : knownPeers) {
        if (!members.contains(extra)) {
          members.add(extra);
        }
      }
      join.getTcpIpConfig().setEnabled(true).setMembers(members);
    }

    // the structures the Vert.x cluster manager uses, as its own default XML declares them
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }

  /**
   * Members as {@code host:port}, the {@code --bootstrap} peer last; a member without a port gets the
   * p2p port.
   */
  static List<String> members(QuiverConfig.Cluster cluster) {
    List<String> out = new ArrayList<>();
    List<String> given = new ArrayList<>(cluster.members());
    String bootstrap = hostPort(cluster.bootstrap());
    if (bootstrap != null && !given.contains(bootstrap)) {
      given.add(bootstrap);
    }
    for (String m : given) {
      String member = m.trim();
      if (member.isEmpty()) {
        continue;
      }
      int colon = member.lastIndexOf(':');
      if (colon < 0) {
        member = member + ":" + cluster.p2pPort();
      } else {
        try {
          int port = Integer.parseInt(member.substring(colon + 1));
          if (port < 1 || port > 65535) {
            throw new NumberFormatException();
          }
        } catch (NumberFormatException e) {
          throw new ConfigException("Invalid configuration value for `cluster.members`: got '" + m
              + "', expected host:port entries");
        }
      }
      out.add(member);
    }
    return out;
  }

  /** {@code host:port} of a URI such as {@code http://host:port/}, or null for null. */
  public static String hostPort(String uri) {
    if (uri == null || uri.isBlank()) {
      return null;
    }
    String s = uri.trim();
    int scheme = s.indexOf("://");
    if (scheme >= 0) {
      s = s.substring(scheme + 3);
    }
    int slash = s.indexOf('/');
    return slash >= 0 ? s.substring(0, slash) : s;
  }

  /** The host of a URI, without brackets, or null. */
  static String uriHost(String uri) {
    String hp = hostPort(uri);
    if (hp == null) {
      return null;
    }
    int colon = hp.lastIndexOf(':');
    String host = colon > 0 && hp.indexOf(']') < colon ? hp.substring(0, colon) : hp;
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static void defaultProperty(Config config, String name, String value) {
    config.setProperty(name, System.getProperty(name, value));
  }

  static boolean isWildcard(String host) {
    return host == null || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  private static String resolve(String key, String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new ConfigException("Invalid configuration value for `" + key + "`: cannot resolve '" + host + "'");
    }
  }
}
