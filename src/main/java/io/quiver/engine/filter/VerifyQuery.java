package io.quiver.engine.filter;

import io.quiver.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiver.engine.Fields;
import java.io.IOException;
import java.util.Objects;
import java.util.Set;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.ConstantScoreScorer;
import org.apache.lucene.search.ConstantScoreWeight;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.Scorer;
import org.apache.lucene.search.ScorerSupplier;
import org.apache.lucene.search.TwoPhaseIterator;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BytesRef;

/**
 * The documents of {@code approximation} (a superset) whose stored payload satisfies {@code
 * condition} at the top level. Documents also matching {@code accept} (a subset known to match,
 * optional) skip the payload check. For conditions the index fields answer only approximately:
 * nested (same array element), {@code [n]} paths, geo shapes (Lucene quantizes coordinates),
 * strings too long for terms.
 */
final class VerifyQuery extends Query {
  private static final Set<String> PAYLOAD_ONLY = Set.of(Fields.PAYLOAD);

  private final Query approximation;
  private final Query accept;
  private final Condition condition;
  private final PayloadSchema schema;

  VerifyQuery(Query approximation, Query accept, Condition condition, PayloadSchema schema) {
    this.approximation = approximation;
    this.accept = accept;
    this.condition = condition;
    this.schema = schema;
  }

  @Override
  public Query rewrite(IndexSearcher searcher) throws IOException {
    Query a = approximation.rewrite(searcher);
    if (a instanceof MatchNoDocsQuery) {
      return a;
    }
    Query f = accept == null ? null : accept.rewrite(searcher);
    return a != approximation || f != accept ? new VerifyQuery(a, f, condition, schema) : this;
  }

  @Override
  public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) throws IOException {
    Weight approxWeight = searcher.createWeight(searcher.rewrite(approximation), ScoreMode.COMPLETE_NO_SCORES, 1f);
    Weight acceptWeight = accept == null ? null : searcher.createWeight(searcher.rewrite(accept), ScoreMode.COMPLETE_NO_SCORES, 1f);
    return new ConstantScoreWeight(this, boost) {
      @Override
      public ScorerSupplier scorerSupplier(LeafReaderContext ctx) throws IOException {
        ScorerSupplier approx = approxWeight.scorerSupplier(ctx);
        if (approx == null) {
          return null;
        }
        ScorerSupplier acc = acceptWeight == null ? null : acceptWeight.scorerSupplier(ctx);
        return new ScorerSupplier() {
          @Override
          public Scorer get(long leadCost) throws IOException {
            Scorer a = approx.get(leadCost);
            TwoPhaseIterator inner = a.twoPhaseIterator();
            DocIdSetIterator candidates = inner == null ? a.iterator() : inner.approximation();
            DocIdSetIterator accepted = acc == null ? null : acc.get(leadCost).iterator();
            StoredFields stored = ctx.reader().storedFields();
            return new ConstantScoreScorer(score(), scoreMode, new TwoPhaseIterator(candidates) {
              @Override
              public boolean matches() throws IOException {
                if (inner != null && !inner.matches()) {
                  return false;
                }
                int doc = candidates.docID();
                if (accepted != null) {
                  if (accepted.docID() < doc) {
                    accepted.advance(doc);
                  }
                  if (accepted.docID() == doc) {
                    return true;
                  }
                }
                return FilterMatcher.test(condition, payload(stored, doc), schema);
              }

              @Override
              public float matchCost() {
                return 1000f + (inner == null ? 0 : inner.matchCost()); // a stored-field read and a JSON parse
              }
            });
          }

          @Override
          public long cost() {
            return approx.cost();
          }
        };
      }

      @Override
      public boolean isCacheable(LeafReaderContext ctx) {
        return true; // depends on stored fields only, which never change within a segment
      }
    };
  }

  private static JsonNode payload(StoredFields stored, int doc) throws IOException {
    Document d = stored.document(doc, PAYLOAD_ONLY);
    BytesRef b = d.getBinaryValue(Fields.PAYLOAD);
    return b == null ? null : Json.MAPPER.readTree(b.bytes, b.offset, b.length);
  }

  @Override
  public void visit(QueryVisitor visitor) {
    visitor.visitLeaf(this);
  }

  @Override
  public String toString(String field) {
    return "verify(" + approximation.toString(field) + (accept == null ? "" : ", accept " + accept.toString(field)) + ", " + condition + ")";
  }

  @Override
  public boolean equals(Object o) {
    return sameClassAs(o) && o instanceof VerifyQuery v && approximation.equals(v.approximation)
        && Objects.equals(accept, v.accept) && condition.equals(v.condition) && schema.equals(v.schema);
  }

  @Override
  public int hashCode() {
    return Objects.hash(classHash(), approximation, accept, condition, schema);
  }
}
