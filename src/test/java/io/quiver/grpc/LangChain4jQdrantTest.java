package io.quiver.grpc;

import static dev.langchain4j.store.embedding.filter.MetadataFilterBuilder.metadataKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.EmbeddingStore;
import dev.langchain4j.store.embedding.RelevanceScore;
import dev.langchain4j.store.embedding.filter.Filter;
import io.qdrant.client.ConditionFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Points;
import io.quiver.testing.TestNode;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j's {@code QdrantEmbeddingStore} (langchain4j-qdrant) against a node with an API key,
 * over gRPC: a dozen text segments with metadata ({@code lang}, {@code year}) embedded by a
 * deterministic hashing model, searched with metadata filters (ranked as the model's cosine ranks
 * them, scores as LangChain4j's relevance), then removed by id, by filter and all at once. The
 * collection is created beforehand through Qdrant's official client, as LangChain4j's guide says.
 *
 * <p>langchain4j-qdrant 1.11.0-beta19 is compiled against Qdrant's Java client 1.16, where {@code
 * PointId}, {@code Filter} and {@code Condition} moved from {@code Points} to {@code Common}: it
 * cannot link against the 1.15 client this project builds on. So the store and its client are loaded
 * by a class loader of their own ({@link StoreLoader}); LangChain4j's core, grpc-java, protobuf and
 * guava come from the classpath, so the store is an ordinary {@link EmbeddingStore} here. This also
 * shows that a 1.16 client's messages are understood.
 */
@Timeout(60)
class LangChain4jQdrantTest {
  private static final String API_KEY = "lc4j-secret";
  private static final String COLLECTION = "docs";
  private static final int DIM = 128;
  private static final HashingEmbeddingModel MODEL = new HashingEmbeddingModel(DIM);

  /** Text, language, year. */
  private static final List<Doc> DOCS = List.of(
      new Doc("The cat sleeps on the warm sofa all afternoon", "en", 2019),
      new Doc("A young cat chases a red ball across the kitchen", "en", 2021),
      new Doc("Dogs need a long walk every morning", "en", 2023),
      new Doc("The stock market closed higher on Friday", "en", 2018),
      new Doc("Fresh bread needs flour, water, salt and yeast", "en", 2022),
      new Doc("Heavy rain and strong wind are expected this weekend", "en", 2020),
      new Doc("Le chat dort sur le canapé tout l'après-midi", "fr", 2019),
      new Doc("La bourse a fini en hausse vendredi", "fr", 2021),
      new Doc("Le pain frais demande de la farine, de l'eau, du sel et de la levure", "fr", 2023),
      new Doc("Die Katze schläft den ganzen Nachmittag auf dem Sofa", "de", 2020),
      new Doc("Der Hund braucht jeden Morgen einen langen Spaziergang", "de", 2022),
      new Doc("Starker Regen und Wind werden am Wochenende erwartet", "de", 2024));

  record Doc(String text, String lang, int year) {
    TextSegment segment() {
      return TextSegment.from(text, new Metadata().put("lang", lang).put("year", year));
    }
  }

  @TempDir static Path dir;
  static TestNode node;
  static QdrantClient admin;
  static StoreLoader loader;
  static EmbeddingStore<TextSegment> store;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dir.resolve("storage"), Map.of("QDRANT__SERVICE__API_KEY", API_KEY));
    int port = node.deployment.grpc().actualPort();
    admin = new QdrantClient(QdrantGrpcClient.newBuilder("127.0.0.1", port, false).withApiKey(API_KEY).build());
    loader = StoreLoader.create();
    store = open(loader, port);
    assertEquals(loader, store.getClass().getClassLoader());
  }

  @AfterAll
  static void stop() throws Exception {
    if (store != null) {
      store.getClass().getMethod("close").invoke(store);
    }
    if (loader != null) {
      loader.close();
    }
    if (admin != null) {
      admin.close();
    }
    node.close();
  }

  /** A fresh collection with the dozen segments; returns their ids in {@link #DOCS}' order. */
  private static List<String> fill() throws Exception {
    if (admin.collectionExistsAsync(COLLECTION).get(30, TimeUnit.SECONDS)) {
      admin.deleteCollectionAsync(COLLECTION).get(30, TimeUnit.SECONDS);
    }
    admin.createCollectionAsync(COLLECTION, VectorParams.newBuilder().setSize(DIM).setDistance(Distance.Cosine).build())
        .get(30, TimeUnit.SECONDS);
    List<TextSegment> segments = DOCS.stream().map(Doc::segment).toList();
    List<String> ids = store.addAll(MODEL.embedAll(segments).content(), segments);
    assertEquals(DOCS.size(), ids.size());
    assertEquals(DOCS.size(), count(null));
    return ids;
  }

  private List<String> ids;

  @BeforeEach
  void filled() throws Exception {
    ids = fill();
  }

  @Test
  void aFilteredSearchFindsTheNearestSegmentsOfThatLanguage() throws Exception {
    Embedding query = MODEL.embed("a cat sleeping on the sofa").content();
    List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(3)
        .filter(metadataKey("lang").isEqualTo("en")).build()).matches();

    assertEquals(DOCS.getFirst().text(), matches.getFirst().embedded().text());
    assertMatches(oracle(query, d -> d.lang().equals("en")), 3, matches);
    for (EmbeddingMatch<TextSegment> m : matches) {
      assertEquals("en", m.embedded().metadata().getString("lang"));
      Doc doc = DOCS.get(ids.indexOf(m.embeddingId()));
      assertEquals(doc.text(), m.embedded().text());
      assertEquals(doc.year(), m.embedded().metadata().getInteger("year"));
      assertEmbedding(MODEL.embed(doc.text()).content(), m.embedding());
    }

    // the same query without the filter reaches the German sofa too; an exact text scores 1
    List<EmbeddingMatch<TextSegment>> any = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(12).build())
        .matches();
    assertMatches(oracle(query, d -> true), 12, any);
    Embedding exact = MODEL.embed(DOCS.get(9).text()).content();
    EmbeddingMatch<TextSegment> top = store.search(EmbeddingSearchRequest.builder().queryEmbedding(exact).maxResults(1).build())
        .matches().getFirst();
    assertEquals(ids.get(9), top.embeddingId());
    assertEquals(1.0, top.score(), 1e-6);
  }

  @Test
  void filtersCombineRangesListsAndNegation() throws Exception {
    Embedding query = MODEL.embed("le pain frais et la farine").content();
    Filter recentFrenchOrGerman = metadataKey("year").isGreaterThanOrEqualTo(2021).and(metadataKey("lang").isIn(List.of("fr", "de")));
    List<EmbeddingMatch<TextSegment>> recent = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(3)
        .filter(recentFrenchOrGerman).build()).matches();
    assertEquals(DOCS.get(8).text(), recent.getFirst().embedded().text());
    assertMatches(oracle(query, d -> d.year() >= 2021 && !d.lang().equals("en")), 3, recent);

    Filter notEnglishBefore2021 = Filter.not(metadataKey("lang").isEqualTo("en")).and(metadataKey("year").isLessThan(2021));
    List<EmbeddingMatch<TextSegment>> old = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(10)
        .filter(notEnglishBefore2021).build()).matches();
    assertMatches(oracle(query, d -> !d.lang().equals("en") && d.year() < 2021), 10, old);

    // LangChain4j drops matches under min_score itself: only those at or above the cut stay
    List<Map.Entry<Integer, Double>> all = oracle(query, d -> true);
    double cut = (all.get(0).getValue() + all.get(1).getValue()) / 2;
    List<EmbeddingMatch<TextSegment>> above = store.search(EmbeddingSearchRequest.builder().queryEmbedding(query).maxResults(12)
        .minScore(cut).build()).matches();
    assertEquals(List.of(ids.get(8)), above.stream().map(EmbeddingMatch::embeddingId).toList());
  }

  @Test
  void segmentsAreRemovedByIdByFilterAndAll() throws Exception {
    store.remove(ids.get(0));
    store.removeAll(List.of(ids.get(1), ids.get(2)));
    assertEquals(DOCS.size() - 3, awaitCount(DOCS.size() - 3));
    Embedding cat = MODEL.embed("the cat sleeps on the warm sofa").content();
    List<EmbeddingMatch<TextSegment>> left = store.search(EmbeddingSearchRequest.builder().queryEmbedding(cat).maxResults(12)
        .filter(metadataKey("lang").isEqualTo("en")).build()).matches();
    assertEquals(List.of(ids.get(3), ids.get(4), ids.get(5)), left.stream().map(EmbeddingMatch::embeddingId).sorted(
        Comparator.comparingInt(ids::indexOf)).toList());

    store.removeAll(metadataKey("lang").isEqualTo("de"));
    assertEquals(DOCS.size() - 6, awaitCount(DOCS.size() - 6));
    assertEquals(0, count(ConditionFactory.matchKeyword("lang", "de")));
    assertEquals(3, count(ConditionFactory.matchKeyword("lang", "fr")));

    // an embedding alone is stored and found, without a segment
    String bare = store.add(MODEL.embed("nothing but a vector").content());
    assertNotNull(bare);
    EmbeddingMatch<TextSegment> found = store.search(EmbeddingSearchRequest.builder().queryEmbedding(MODEL.embed("nothing but a vector")
        .content()).maxResults(1).build()).matches().getFirst();
    assertEquals(bare, found.embeddingId());
    assertNull(found.embedded());

    store.removeAll();
    assertEquals(0, awaitCount(0));
  }

  // ---- the oracle ----

  /** The documents passing {@code keep} by the model's cosine with {@code query}, best first, as (index, relevance score). */
  private static List<Map.Entry<Integer, Double>> oracle(Embedding query, Predicate<Doc> keep) {
    List<Map.Entry<Integer, Double>> out = new ArrayList<>();
    for (int i = 0; i < DOCS.size(); i++) {
      if (keep.test(DOCS.get(i))) {
        float[] v = MODEL.embed(DOCS.get(i).text()).content().vector();
        double dot = 0;
        for (int d = 0; d < DIM; d++) {
          dot += (double) v[d] * query.vector()[d];
        }
        out.add(Map.entry(i, RelevanceScore.fromCosineSimilarity(dot)));
      }
    }
    out.sort(Map.Entry.<Integer, Double>comparingByValue().reversed());
    return out;
  }

  /**
   * The matches are the oracle's first {@code k}: the same scores in the same order, each match a
   * candidate with its own score. Segments sharing no word with the query tie at 0.5, in any order.
   */
  private void assertMatches(List<Map.Entry<Integer, Double>> candidates, int k, List<EmbeddingMatch<TextSegment>> matches) {
    Map<String, Double> score = new HashMap<>();
    candidates.forEach(e -> score.put(ids.get(e.getKey()), e.getValue()));
    String got = matches.stream().map(m -> ids.indexOf(m.embeddingId()) + "=" + m.score()).toList().toString();
    assertEquals(Math.min(k, candidates.size()), matches.size(), got);
    for (int i = 0; i < matches.size(); i++) {
      EmbeddingMatch<TextSegment> m = matches.get(i);
      assertEquals(candidates.get(i).getValue(), m.score(), 1e-6, () -> "expected " + candidates + ", got " + got);
      assertTrue(score.containsKey(m.embeddingId()), () -> "not a candidate: " + got);
      assertEquals(score.get(m.embeddingId()), m.score(), 1e-6, got);
    }
  }

  private static void assertEmbedding(Embedding expected, Embedding got) {
    assertEquals(expected.dimension(), got.dimension());
    for (int d = 0; d < expected.dimension(); d++) {
      assertEquals(expected.vector()[d], got.vector()[d], 1e-6);
    }
  }

  // ---- through the official client ----

  private static long count(Points.Condition condition) throws Exception {
    Points.Filter filter = condition == null ? null : Points.Filter.newBuilder().addMust(condition).build();
    return admin.countAsync(COLLECTION, filter, true).get(30, TimeUnit.SECONDS);
  }

  /** LangChain4j deletes without {@code wait}: the count catches up shortly after. */
  private static long awaitCount(long expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long n;
    while ((n = count(null)) != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return n;
  }

  // ---- LangChain4j's store, loaded apart ----

  @SuppressWarnings("unchecked")
  private static EmbeddingStore<TextSegment> open(ClassLoader loader, int port) throws ReflectiveOperationException {
    Class<?> type = loader.loadClass("dev.langchain4j.store.embedding.qdrant.QdrantEmbeddingStore");
    Object builder = type.getMethod("builder").invoke(null);
    Class<?> b = builder.getClass();
    b.getMethod("host", String.class).invoke(builder, "127.0.0.1");
    b.getMethod("port", int.class).invoke(builder, port);
    b.getMethod("useTls", boolean.class).invoke(builder, false);
    b.getMethod("apiKey", String.class).invoke(builder, API_KEY);
    b.getMethod("collectionName", String.class).invoke(builder, COLLECTION);
    return (EmbeddingStore<TextSegment>) b.getMethod("build").invoke(builder);
  }

  /**
   * Loads {@code dev.langchain4j.store.embedding.qdrant} and {@code io.qdrant.client} from
   * langchain4j-qdrant's jar and the Qdrant client it was built on, before the classpath; every
   * other class from the classpath. Surefire names the client's jar, which the build copies aside.
   */
  static final class StoreLoader extends URLClassLoader {
    private static final List<String> OWN = List.of("dev.langchain4j.store.embedding.qdrant.", "io.qdrant.client.");

    private StoreLoader(URL[] urls, ClassLoader parent) {
      super("langchain4j-qdrant", urls, parent);
    }

    static StoreLoader create() throws Exception {
      ClassLoader parent = LangChain4jQdrantTest.class.getClassLoader();
      URL store = parent.getResource("dev/langchain4j/store/embedding/qdrant/QdrantEmbeddingStore.class");
      assertNotNull(store, "langchain4j-qdrant is not on the test classpath");
      URL storeJar = ((JarURLConnection) store.openConnection()).getJarFileURL();
      String client = System.getProperty("langchain4j.qdrant.client");
      assertNotNull(client, "system property langchain4j.qdrant.client (the Qdrant client jar langchain4j-qdrant is built on) is not set");
      assertTrue(Files.isRegularFile(Path.of(client)), client + " is missing: run the build's generate-test-resources phase");
      return new StoreLoader(new URL[] {storeJar, Path.of(client).toUri().toURL()}, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (OWN.stream().noneMatch(name::startsWith)) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          c = findClass(name);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
  }

  // ---- the model ----

  /**
   * A deterministic embedding model for tests: each lowercase word (letters and digits) adds ±1 to
   * one of {@code dimension} coordinates, both chosen by a fixed hash of the word; the sum is
   * normalised. Texts sharing words are near; no network, no model files.
   */
  static final class HashingEmbeddingModel implements EmbeddingModel {
    private final int dimension;
    private final Map<String, Embedding> cache = new HashMap<>();

    HashingEmbeddingModel(int dimension) {
      this.dimension = dimension;
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
      return Response.from(segments.stream().map(s -> embedding(s.text())).toList());
    }

    @Override
    public int dimension() {
      return dimension;
    }

    private synchronized Embedding embedding(String text) {
      return cache.computeIfAbsent(text, t -> {
        float[] v = new float[dimension];
        for (String word : t.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
          if (!word.isEmpty()) {
            int h = mix(word.hashCode());
            v[Math.floorMod(h, dimension)] += (h & (1 << 30)) == 0 ? 1 : -1;
          }
        }
        Embedding e = Embedding.from(v);
        e.normalize();
        return e;
      });
    }

    /** murmur3's finaliser: String.hashCode's low bits alone would crowd similar words together. */
    private static int mix(int h) {
      h ^= h >>> 16;
      h *= 0x85ebca6b;
      h ^= h >>> 13;
      h *= 0xc2b2ae35;
      return h ^ (h >>> 16);
    }
  }
}
