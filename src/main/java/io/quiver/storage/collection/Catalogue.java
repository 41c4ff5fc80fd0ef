package io.quiver.storage.collection;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.error.ApiException;
import io.quiver.request.AliasRequest;
import io.quiver.request.Names;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.nio.file.Files;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's collections and aliases. Collections live in {@code <storage>/collections/<name>};
 * aliases in {@code <storage>/aliases.json} ({@code {"alias": "collection"}}), written atomically.
 * Creating, deleting and alias changes are serialised; lookups are lock-free.
 */
public final class Catalogue {
  private final Path root;
  private final Path storage;
  private final ObjectMapper mapper;
  private final Map<String, Collection> collections = new ConcurrentHashMap<>();
  private final Object changes = new Object();
  private volatile Map<String, String> aliases;

  public Catalogue(Path storage, ObjectMapper mapper) throws IOException {
    this.storage = storage;
    this.root = StorageLayout.collections(storage);
    this.mapper = mapper;
    Files.createDirectories(root);
    aliases = Map.copyOf(StorageLayout.readAliases(storage, mapper));
  }

  public Path root() {
    return root;
  }

  public void put(Collection c) {
    collections.put(c.name, c);
  }

  /** The collection named, directly or by alias; 404 when there is none. */
  public Collection resolve(String nameOrAlias) {
    Names.check(nameOrAlias);
    Collection c = collections.get(nameOrAlias);
    if (c == null) {
      String target = aliases.get(nameOrAlias);
      c = target == null ? null : collections.get(target);
    }
    if (c == null) {
      throw ApiException.collectionNotFound(nameOrAlias);
    }
    return c;
  }

  public boolean exists(String name) {
    Names.check(name);
    return collections.containsKey(name) || aliases.containsKey(name) && collections.containsKey(aliases.get(name));
  }

  public List<String> names() {
    return collections.keySet().stream().sorted().toList();
  }

  public List<Collection> all() {
    return List.copyOf(collections.values());
  }

  public Map<String, String> aliases() {
    return aliases;
  }

  /** Creates a collection: 409 when the name is taken by a collection or an alias. */
  public Collection create(String name, ObjectNode config, Collection.ShardOpener opener) throws IOException {
    return create(name, config, ShardLayout.forNew(config), null, opener);
  }

  /**
   * Creates a collection of these shards, of which {@code localIds} (null: all) are held here: 409
   * when the name is taken by a collection or an alias.
   */
  public Collection create(String name, ObjectNode config, ShardLayout layout, java.util.Set<Integer> localIds,
      Collection.ShardOpener opener) throws IOException {
    Names.check(name);
    synchronized (changes) {
      if (collections.containsKey(name)) {
        throw ApiException.conflict("Wrong input: Collection `" + name + "` already exists!");
      }
      if (aliases.containsKey(name)) {
        throw ApiException.wrongInput("Alias with name `" + name + "` already exists");
      }
      Path dir = root.resolve(name);
      AtomicFiles.deleteTree(dir);
      Collection c;
      try {
        c = Collection.create(name, dir, config, layout, localIds, mapper, opener);
      } catch (IOException | RuntimeException e) {
        AtomicFiles.deleteTree(dir);
        throw e;
      }
      collections.put(name, c);
      return c;
    }
  }

  /**
   * Puts the collection prepared (closed, complete, verified) in {@code prepared} under {@code
   * name}, replacing the collection of that name if there is one; its aliases stay. Operations on
   * the old collection finish first; later ones see the new one. If the new one does not open, the
   * old one is put back and opened again, and {@code prepared} is left as it was.
   *
   * @param trash an unused path on the same file system, where the old directory is moved before it is deleted
   */
  public Collection replace(String name, Path prepared, Path trash, Collection.ShardOpener opener) throws IOException {
    Names.check(name);
    synchronized (changes) {
      if (aliases.containsKey(name)) {
        throw ApiException.wrongInput("Alias with name `" + name + "` already exists");
      }
      Path dir = root.resolve(name);
      Collection old = collections.remove(name);
      if (old != null) {
        old.close();
      }
      boolean moved = false;
      try {
        if (Files.exists(dir)) {
          Files.move(dir, trash, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
          moved = true;
        }
        Files.move(prepared, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.syncDir(root);
      } catch (IOException | RuntimeException e) {
        if (moved) {
          Files.move(trash, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        reopen(name, dir, old, opener, e);
        throw e;
      }
      try {
        Collection c = Collection.open(name, dir, mapper, opener);
        collections.put(name, c);
        AtomicFiles.deleteTree(trash);
        return c;
      } catch (IOException | RuntimeException e) {
        Files.move(dir, prepared, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        if (moved) {
          Files.move(trash, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        reopen(name, dir, old, opener, e);
        throw e;
      }
    }
  }

  private void reopen(String name, Path dir, Collection old, Collection.ShardOpener opener, Exception failure) {
    if (old == null) {
      return;
    }
    try {
      collections.put(name, Collection.open(name, dir, mapper, opener));
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /** Deletes a collection and its aliases; false when there is none. */
  public boolean delete(String name) throws IOException {
    return delete(name, null);
  }

  /**
   * Deletes the collection {@code name} and its aliases if it is still {@code expected} (any
   * collection of that name when null); false when there is none, or another one by now.
   */
  public boolean delete(String name, Collection expected) throws IOException {
    Names.check(name);
    synchronized (changes) {
      Collection c = collections.get(name);
      if (c == null || (expected != null && c != expected)) {
        return false;
      }
      Map<String, String> next = new TreeMap<>(aliases);
      next.values().removeIf(name::equals);
      if (next.size() != aliases.size()) {
        writeAliases(next);
      }
      collections.remove(name);
      c.drop();
      return true;
    }
  }

  /** Applies alias actions in order, all or none: 404 for a missing collection or alias, 409 for a name taken by a collection. */
  public void updateAliases(List<AliasRequest.Action> actions) throws IOException {
    synchronized (changes) {
      writeAliases(aliasesAfter(aliases, collections::containsKey, actions));
    }
  }

  /**
   * The aliases after {@code actions}, applied in order to a copy of {@code aliases}, all or none:
   * 404 for a missing collection or alias, 409 for a name taken by a collection (Qdrant's wording).
   * The one rule for a node's catalogue and for the cluster's replicated metadata.
   */
  public static java.util.SortedMap<String, String> aliasesAfter(Map<String, String> aliases,
      java.util.function.Predicate<String> isCollection, List<AliasRequest.Action> actions) {
    TreeMap<String, String> next = new TreeMap<>(aliases);
    for (AliasRequest.Action action : actions) {
      switch (action) {
        case AliasRequest.Create(String collection, String alias) -> {
          if (!isCollection.test(collection)) {
            throw ApiException.collectionNotFound(collection);
          }
          if (isCollection.test(alias)) {
            throw ApiException.conflict("Wrong input: Collection `" + alias + "` already exists!");
          }
          next.put(alias, collection);
        }
        case AliasRequest.Delete(String alias) -> {
          if (next.remove(alias) == null) {
            throw ApiException.notFound("Alias " + alias + " does not exists!");
          }
        }
        case AliasRequest.Rename(String from, String to) -> {
          String target = next.remove(from);
          if (target == null) {
            throw ApiException.notFound("Alias " + from + " does not exists!");
          }
          if (isCollection.test(to)) {
            throw ApiException.conflict("Wrong input: Collection `" + to + "` already exists!");
          }
          next.put(to, target);
        }
      }
    }
    return next;
  }

  private void writeAliases(Map<String, String> next) throws IOException {
    StorageLayout.writeAliases(storage, next, mapper);
    aliases = Map.copyOf(next);
  }


  public List<Collection> closeAll() {
    List<Collection> all = new ArrayList<>(collections.values());
    collections.clear();
    return all;
  }
}
