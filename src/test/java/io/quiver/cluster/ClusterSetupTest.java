package io.quiver.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import io.quiver.config.ConfigException;
import io.quiver.config.QuiverConfig;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Hazelcast and event-bus settings derived from {@code cluster.*}, without starting anything. */
@Timeout(30)
class ClusterSetupTest {
  static QuiverConfig.Cluster cluster(String host, int port, List<String> members, String k8s) {
    return new QuiverConfig.Cluster(true, host, port, members, k8s);
  }

  @Test
  void memberListBindsTheConfiguredInterfaceWithoutMulticast() {
    Config c = ClusterSetup.hazelcastConfig(cluster("127.0.0.1", 7000, List.of("127.0.0.1:7000", "127.0.0.1", " 10.1.2.3:7010 "), null));
    var net = c.getNetworkConfig();
    assertEquals(7000, net.getPort());
    assertFalse(net.isPortAutoIncrement());
    assertTrue(net.getInterfaces().isEnabled());
    assertEquals(List.of("127.0.0.1"), List.copyOf(net.getInterfaces().getInterfaces()));
    assertEquals("127.0.0.1:7000", net.getPublicAddress());
    assertFalse(net.getJoin().getMulticastConfig().isEnabled());
    assertFalse(net.getJoin().getAutoDetectionConfig().isEnabled());
    assertFalse(net.getJoin().getKubernetesConfig().isEnabled());
    assertEquals(List.of("127.0.0.1:7000", "127.0.0.1:7000", "10.1.2.3:7010"), net.getJoin().getTcpIpConfig().getMembers());
    assertEquals("false", c.getProperty("hazelcast.phone.home.enabled"));
    assertEquals("false", System.getProperty("hazelcast.phone.home.enabled"));
    assertEquals(ClusterSetup.CLUSTER_NAME, c.getClusterName());

    var bus = ClusterSetup.eventBusOptions(cluster("127.0.0.1", 7000, List.of(), null));
    assertEquals(0, bus.getPort(), "no internal port assumes that p2p + 1 is free");
    assertEquals("127.0.0.1", bus.getHost());
    var fixed = new QuiverConfig.Cluster(true, "127.0.0.1", 7000, List.of(), null, null, 7005, 7006, null, null);
    assertEquals(7005, ClusterSetup.eventBusOptions(fixed).getPort());
  }

  @Test
  void uriAndBootstrapOfTheCommandLine() {
    var joining = cluster("0.0.0.0", 7000, List.of("10.0.0.1:7000"), null).withJoin("http://10.0.0.9:7000/", "http://10.0.0.2:7100");
    Config c = ClusterSetup.hazelcastConfig(joining);
    assertEquals("10.0.0.9:7000", c.getNetworkConfig().getPublicAddress(), "--uri is what the others reach this peer at");
    assertEquals(List.of("10.0.0.1:7000", "10.0.0.2:7100"), c.getNetworkConfig().getJoin().getTcpIpConfig().getMembers());
    assertEquals("10.0.0.9", ClusterSetup.eventBusOptions(joining).getClusterPublicHost());
    assertEquals("10.0.0.2:7100", ClusterSetup.hostPort("http://10.0.0.2:7100/"));
    assertEquals("h:1", ClusterSetup.hostPort("h:1"));
  }

  @Test
  void kubernetesServiceUsesDnsLookup() {
    Config c = ClusterSetup.hazelcastConfig(cluster("0.0.0.0", 6335, List.of(), "quiver-headless"));
    var join = c.getNetworkConfig().getJoin();
    assertTrue(join.getKubernetesConfig().isEnabled());
    assertEquals("quiver-headless", join.getKubernetesConfig().getProperty("service-dns"));
    assertEquals("6335", join.getKubernetesConfig().getProperty("service-port"));
    assertFalse(join.getTcpIpConfig().isEnabled());
    assertFalse(c.getNetworkConfig().getInterfaces().isEnabled(), "a wildcard host binds every interface");
    assertEquals(null, ClusterSetup.eventBusOptions(cluster("0.0.0.0", 6335, List.of(), null)).getHost());
  }

  @Test
  void unusableSettingsStopStartupWithTheKey() {
    var port = assertThrows(ConfigException.class, () -> ClusterSetup.hazelcastConfig(cluster("127.0.0.1", 65536, List.of(), null)));
    assertTrue(port.getMessage().contains("cluster.p2p.port"), port.getMessage());
    var member = assertThrows(ConfigException.class, () -> ClusterSetup.hazelcastConfig(cluster("127.0.0.1", 6335, List.of("a:b"), null)));
    assertTrue(member.getMessage().contains("cluster.members"), member.getMessage());
    var host = assertThrows(ConfigException.class, () -> ClusterSetup.hazelcastConfig(cluster("no-such-host.invalid", 6335, List.of(), null)));
    assertTrue(host.getMessage().contains("cluster.p2p.host"), host.getMessage());
  }
}
