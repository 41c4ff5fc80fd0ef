package io.quiver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nodes a cluster test starts: server jars on 127.0.0.1, node {@code i} with its storage in
 * {@code dir/node<i>}, all with the same JVM options. {@link #close()} stops every one started.
 */
public final class ClusterNodes implements AutoCloseable {
  private final Path dir;
  private final String[] jvm;
  private final List<JarProcess> started = java.util.Collections.synchronizedList(new ArrayList<>());

  public ClusterNodes(Path dir, String... jvm) {
    this.dir = dir;
    this.jvm = jvm.clone();
  }

  /** Node {@code index} of the cluster whose members are the p2p ports {@code p2p}. */
  public JarProcess start(int index, int[] p2p) throws Exception {
    return start(index, p2p, Map.of());
  }

  /** As {@link #start(int, int[])}, with more environment variables. */
  public JarProcess start(int index, int[] p2p, Map<String, String> extra) throws Exception {
    Map<String, String> env = JarProcess.clusterEnv(index, p2p);
    env.putAll(extra);
    var p = JarProcess.start(dir.resolve("node" + index), env, jvm);
    started.add(p);
    return p;
  }

  @Override
  public void close() throws InterruptedException {
    synchronized (started) {
      for (JarProcess p : started) {
        p.close();
      }
    }
  }

  /** Each shard's replicas (peer id to state) in a {@code GET /collections/{name}/cluster} result. */
  public static Map<Integer, Map<Long, String>> placement(JsonNode clusterInfo) {
    Map<Integer, Map<Long, String>> out = new TreeMap<>();
    long self = clusterInfo.get("peer_id").asLong();
    for (JsonNode s : clusterInfo.get("local_shards")) {
      out.computeIfAbsent(s.get("shard_id").asInt(), k -> new TreeMap<>()).put(self, s.get("state").asText());
    }
    for (JsonNode s : clusterInfo.get("remote_shards")) {
      out.computeIfAbsent(s.get("shard_id").asInt(), k -> new TreeMap<>()).put(s.get("peer_id").asLong(), s.get("state").asText());
    }
    return out;
  }
}
