package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.engine.CollectionSchema;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.PayloadSchema;
import io.quiver.error.ApiException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A collection on disk: {@code <dir>/config.json} (the whole config), {@code
 * <dir>/payload_index.json} (payload indexes) and one shard under {@code <dir>/shards/0}. The two
 * JSON files are what recovery mode reads; they are written atomically.
 *
 * <p>Thread-safety: data operations hold the read side of {@link #lifecycle}; dropping holds the
 * write side, so a collection is never deleted under a running operation.
 */
public final class Collection implements Closeable {
  public static final String CONFIG = StorageLayout.CONFIG;
  public static final String PAYLOAD_INDEX = StorageLayout.PAYLOAD_INDEX;
  /** Present while the collection is being opened: a crash during load leaves it behind. */
  static final String LOADING_MARK = StorageLayout.LOADING_MARK;

  public final String name;
  public final Path dir;
  public final Shard shard;
  private final ObjectMapper mapper;
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private volatile ObjectNode config;
  private volatile boolean dropped;

  private Collection(String name, Path dir, ObjectNode config, Shard shard, ObjectMapper mapper) {
    this.name = name;
    this.dir = dir;
    this.config = config;
    this.shard = shard;
    this.mapper = mapper;
  }

  public interface ShardOpener {
    Shard open(Path dir, CollectionSchema schema) throws IOException;
  }

  /** Writes the config files of a new collection, then opens it. */
  public static Collection create(String name, Path dir, ObjectNode config, ObjectMapper mapper, ShardOpener opener) throws IOException {
    Files.createDirectories(dir);
    AtomicFiles.write(dir.resolve(PAYLOAD_INDEX), mapper.writeValueAsBytes(mapper.createObjectNode()));
    AtomicFiles.write(dir.resolve(CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
    return open(name, dir, mapper, opener);
  }

  /** Opens an existing collection, marking it as loading on disk until its shard is open. */
  public static Collection open(String name, Path dir, ObjectMapper mapper, ShardOpener opener) throws IOException {
    ObjectNode config = StorageLayout.readConfig(dir, mapper);
    PayloadSchema payload = readPayloadSchema(dir, mapper);
    Path mark = dir.resolve(LOADING_MARK);
    try {
      Files.writeString(mark, Long.toString(System.currentTimeMillis()));
    } catch (IOException e) {
      if (!io.quiver.engine.NoSpace.causedBy(e)) {
        throw e;
      }
      // The mark only helps to diagnose a load that kills the process; a full disk must not stop the load.
      Files.deleteIfExists(mark);
    }
    Shard shard = opener.open(dir.resolve("shards").resolve("0"), CollectionConfigs.schema(config, payload));
    Files.deleteIfExists(mark);
    return new Collection(name, dir, config, shard, mapper);
  }

  public static PayloadSchema readPayloadSchema(Path dir, ObjectMapper mapper) throws IOException {
    return PayloadSchema.fromJson(StorageLayout.readPayloadIndex(dir, mapper));
  }

  public ObjectNode config() {
    return config;
  }

  public CollectionSchema schema() {
    return shard.schema();
  }

  /** Persists and applies a new config (atomic file write first, so a crash keeps either version). */
  public void updateConfig(ObjectNode next) throws IOException {
    AtomicFiles.write(dir.resolve(CONFIG), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next));
    config = next;
    shard.setSchema(CollectionConfigs.schema(next, shard.schema().payload()));
  }

  public void updatePayloadSchema(PayloadSchema next) throws IOException {
    AtomicFiles.write(dir.resolve(PAYLOAD_INDEX), mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(next.toJson()));
    shard.setSchema(shard.schema().withPayload(next));
  }

  /** Runs {@code op} unless the collection is being or has been dropped. */
  public <T> T use(IoSupplier<T> op) throws IOException {
    lifecycle.readLock().lock();
    try {
      if (dropped) {
        throw ApiException.collectionNotFound(name);
      }
      return op.get();
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @FunctionalInterface
  public interface IoSupplier<T> {
    T get() throws IOException;
  }

  /** Waits for running operations, closes the shard without committing and deletes the directory. */
  public void drop() throws IOException {
    lifecycle.writeLock().lock();
    try {
      dropped = true;
      shard.abandon();
    } finally {
      lifecycle.writeLock().unlock();
    }
    StorageLayout.deleteCollectionDir(dir);
  }

  @Override
  public void close() throws IOException {
    lifecycle.writeLock().lock();
    try {
      if (!dropped) {
        dropped = true;
        shard.close();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}
