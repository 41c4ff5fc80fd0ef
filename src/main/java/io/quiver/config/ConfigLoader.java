package io.quiver.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the configuration once, in layers where later sources win: built-in defaults, {@code
 * conf/config.yaml}, {@code conf/$RUN_MODE.yaml}, {@code conf/local.yaml}, the file given with
 * {@code --config-path}, then environment variables {@code QDRANT__SECTION__KEY} (nested with
 * {@code __}, lower-cased). {@code QDRANT_ALLOW_RECOVERY_MODE} maps to {@code
 * storage.allow_recovery_mode}. Files are read with Vert.x Config; each layer is read on its own so
 * that an invalid value can be traced to its source.
 */
public final class ConfigLoader {
  private static final String ENV_PREFIX = "QDRANT__";

  private ConfigLoader() {}

  /**
   * @param confDir folder of the layered files (normally {@code ./conf})
   * @param configPath the {@code --config-path} file, or null; unlike the layered files it must exist
   * @param env the process environment (a map, so tests can supply their own)
   */
  public static Future<QuiverConfig> load(Vertx vertx, Path confDir, String configPath, Map<String, String> env) {
    List<String> files = new ArrayList<>();
    files.add(confDir.resolve("config.yaml").toString());
    String runMode = env.get("RUN_MODE");
    if (runMode != null && !runMode.isBlank()) {
      files.add(confDir.resolve(runMode + ".yaml").toString());
    }
    files.add(confDir.resolve("local.yaml").toString());
    if (configPath != null) {
      if (!Files.isRegularFile(Path.of(configPath))) {
        return Future.failedFuture(new ConfigException("Config file given with --config-path does not exist: " + configPath));
      }
      files.add(configPath);
    }
    Future<List<JsonObject>> layers = Future.succeededFuture(new ArrayList<>());
    for (String file : files) {
      layers = layers.compose(list -> readYaml(vertx, file).map(json -> {
        list.add(json);
        return list;
      }));
    }
    return layers.map(list -> {
      JsonObject merged = QuiverConfig.defaults();
      Map<String, String> origin = new HashMap<>();
      List<String> used = new ArrayList<>(List.of("defaults"));
      for (int i = 0; i < files.size(); i++) {
        if (!list.get(i).isEmpty()) {
          merge(merged, list.get(i), "", "file " + files.get(i), origin);
          used.add(files.get(i));
        }
      }
      JsonObject fromEnv = fromEnvironment(env, origin);
      if (!fromEnv.isEmpty()) {
        merge(merged, fromEnv, "", null, origin);
        used.add("environment");
      }
      return QuiverConfig.from(merged, origin, used);
    });
  }

  /** A missing layered file is skipped; one that exists but does not parse stops startup. */
  private static Future<JsonObject> readYaml(Vertx vertx, String file) {
    if (!Files.isRegularFile(Path.of(file))) {
      return Future.succeededFuture(new JsonObject());
    }
    var store = new ConfigStoreOptions()
        .setType("file")
        .setFormat("yaml")
        .setConfig(new JsonObject().put("path", file));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, new ConfigRetrieverOptions().setScanPeriod(0).addStore(store));
    return retriever.getConfig()
        .recover(err -> Future.failedFuture(new ConfigException("Cannot read config file " + file + ": " + err.getMessage())))
        .eventually(retriever::close);
  }

  /** Environment values stay strings; {@link QuiverConfig} coerces them to the type each key needs. */
  static JsonObject fromEnvironment(Map<String, String> env, Map<String, String> origin) {
    JsonObject out = new JsonObject();
    env.forEach((name, value) -> {
      String key;
      if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
        key = String.join(".", name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).split("__"));
      } else if (name.equals("QDRANT_ALLOW_RECOVERY_MODE")) {
        key = "storage.allow_recovery_mode";
      } else {
        return;
      }
      String[] parts = key.split("\\.");
      JsonObject node = out;
      for (int i = 0; i < parts.length - 1; i++) {
        JsonObject next = node.getValue(parts[i]) instanceof JsonObject o ? o : new JsonObject();
        node.put(parts[i], next);
        node = next;
      }
      node.put(parts[parts.length - 1], value);
      origin.put(key, "environment variable " + name);
    });
    return out;
  }

  /** Deep merge of {@code layer} into {@code target}; records the source of each leaf it sets. */
  private static void merge(JsonObject target, JsonObject layer, String path, String source, Map<String, String> origin) {
    for (String k : layer.fieldNames()) {
      Object v = layer.getValue(k);
      String key = path.isEmpty() ? k : path + "." + k;
      if (v instanceof JsonObject o && target.getValue(k) instanceof JsonObject t) {
        merge(t, o, key, source, origin);
      } else {
        target.put(k, v instanceof JsonObject o ? o.copy() : v);
        if (source != null) {
          origin.put(key, source);
        }
      }
    }
  }
}
