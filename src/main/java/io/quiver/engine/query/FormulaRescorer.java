package io.quiver.engine.query;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.DocMapper;
import io.quiver.engine.PointId;
import io.quiver.engine.Shard;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.FilterQueries;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A formula stage: the prefetches' candidates (each once) rescored; the best {@code limit}, ties by point id. */
final class FormulaRescorer {
  private static final DocMapper.Selector PAYLOAD_ONLY = new DocMapper.Selector(true, false, Set.of());

  private FormulaRescorer() {}

  static List<Hit> rescore(Shard.Reader r, Plan.FormulaScoring f, List<List<Hit>> sources, int limit) throws IOException {
    List<Map<Integer, Float>> scores = new ArrayList<>();
    for (List<Hit> source : sources) {
      Map<Integer, Float> m = new HashMap<>();
      source.forEach(h -> m.put(h.doc(), h.score()));
      scores.add(m);
    }
    Set<Integer> docs = new LinkedHashSet<>();
    sources.forEach(s -> s.forEach(h -> docs.add(h.doc())));
    var ids = LuceneQueries.docs(r, docs);
    List<Set<Integer>> conditions = new ArrayList<>();
    for (Filter c : f.conditions()) {
      Set<Integer> matching = new HashSet<>();
      LuceneQueries.forEachDoc(r, LuceneQueries.and(FilterQueries.toQuery(c, r.schema().payload()), ids), matching::add);
      conditions.add(matching);
    }
    List<Hit> out = new ArrayList<>();
    Map<Integer, PointId> pointIds = new HashMap<>();
    for (int doc : docs) {
      PointId id = r.idOf(doc);
      pointIds.put(doc, id);
      out.add(Hit.scored(doc, f.scorer().score(new Candidate(r, doc, id, scores, conditions))));
    }
    out.sort(Comparator.comparingDouble(Hit::score).reversed().thenComparing(h -> pointIds.get(h.doc())));
    return out.size() > limit ? out.subList(0, limit) : out;
  }

  private static final class Candidate implements Plan.FormulaInput {
    private final Shard.Reader reader;
    private final int doc;
    private final PointId id;
    private final List<Map<Integer, Float>> scores;
    private final List<Set<Integer>> conditions;
    private JsonNode payload;

    Candidate(Shard.Reader reader, int doc, PointId id, List<Map<Integer, Float>> scores, List<Set<Integer>> conditions) {
      this.reader = reader;
      this.doc = doc;
      this.id = id;
      this.scores = scores;
      this.conditions = conditions;
    }

    @Override
    public PointId id() {
      return id;
    }

    @Override
    public Float prefetchScore(int n) {
      return n < scores.size() ? scores.get(n).get(doc) : null;
    }

    @Override
    public boolean meets(int condition) {
      return conditions.get(condition).contains(doc);
    }

    @Override
    public JsonNode payload() throws IOException {
      if (payload == null) {
        payload = reader.load(doc, id, PAYLOAD_ONLY).payload();
      }
      return payload;
    }
  }
}
