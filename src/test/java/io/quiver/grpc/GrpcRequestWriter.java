package io.quiver.grpc;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.qdrant.client.grpc.Collections;
import io.qdrant.client.grpc.JsonWithInt;
import io.qdrant.client.grpc.Points;
import io.quiver.engine.PointId;
import io.quiver.engine.filter.Condition;
import io.quiver.engine.filter.Filter;
import io.quiver.engine.filter.Match;
import io.quiver.request.Expression;
import io.quiver.request.OrderBy;
import io.quiver.request.PointOperation;
import io.quiver.request.PointStruct;
import io.quiver.request.PointVectors;
import io.quiver.request.PointsSelector;
import io.quiver.request.Query;
import io.quiver.request.QueryGroupsRequest;
import io.quiver.request.QueryParser;
import io.quiver.request.QueryRequest;
import io.quiver.request.SearchParams;
import io.quiver.request.ShardKeySelector;
import io.quiver.request.Stage;
import io.quiver.request.VectorInput;
import io.quiver.request.Vectors;
import io.quiver.request.WithPayload;
import io.quiver.request.WithVector;
import io.quiver.request.WriteParams;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes request models into the protobuf messages a Qdrant gRPC client sends, for {@link
 * GrpcRoundTripTest}. Where the messages can say one thing several ways (a default given or left
 * out, a vector in the current form or the deprecated {@code data}/{@code indices}/{@code
 * vectors_count} one, rrf with the default k as the {@code RRF} fusion or as {@code rrf}), it picks
 * one at random. The fields newer than the generated classes ({@code update_filter}, {@code rrf},
 * {@code text_any}) are written as unknown fields, as such a client's bytes arrive.
 */
final class GrpcRequestWriter {
  private static final String COLLECTION = "c";
  private final Random r;

  GrpcRequestWriter(Random r) {
    this.r = r;
  }

  // ---- universal query ----

  Points.QueryPoints query(QueryRequest q) {
    var out = copyStage(stage(q.root()), Points.QueryPoints.newBuilder()).setCollectionName(COLLECTION);
    if (q.offset() != 0 || r.nextBoolean()) {
      out.setOffset(q.offset());
    }
    withPayload(q.withPayload(), false, out::setWithPayload);
    withVector(q.withVector(), out::setWithVectors);
    if (q.shardKey() != null) {
      out.setShardKeySelector(shardKey(q.shardKey()));
    }
    return out.build();
  }

  Points.QueryPointGroups groups(QueryGroupsRequest g) {
    QueryRequest q = g.query();
    var out = copyStage(stage(q.root()), Points.QueryPointGroups.newBuilder()).setCollectionName(COLLECTION)
        .setGroupBy(g.groupBy().toString());
    if (g.groupSize() != QueryParser.DEFAULT_GROUP_SIZE || r.nextBoolean()) {
      out.setGroupSize(g.groupSize());
    }
    if (g.groups() != Stage.DEFAULT_LIMIT || r.nextBoolean()) {
      out.setLimit(g.groups());
    }
    withPayload(q.withPayload(), false, out::setWithPayload);
    withVector(q.withVector(), out::setWithVectors);
    if (q.shardKey() != null) {
      out.setShardKeySelector(shardKey(q.shardKey()));
    }
    if (g.withLookup() != null) {
      out.setWithLookup(withLookup(g.withLookup()));
    }
    return out.build();
  }

  private Points.WithLookup withLookup(QueryGroupsRequest.WithLookup l) {
    var out = Points.WithLookup.newBuilder().setCollection(l.collection());
    withPayload(l.withPayload(), true, out::setWithPayload);
    withVector(l.withVector(), out::setWithVectors);
    return out.build();
  }

  /** A stage as a prefetch; a query's and a grouped query's own fields are the same, copied by name. */
  Points.PrefetchQuery stage(Stage s) {
    var out = Points.PrefetchQuery.newBuilder();
    s.prefetch().forEach(p -> out.addPrefetch(stage(p)));
    if (s.query() != null) {
      out.setQuery(query(s.query()));
    }
    if (!s.using().isEmpty() || r.nextBoolean()) {
      out.setUsing(s.using());
    }
    if (s.filter() != null) {
      out.setFilter(filter(s.filter()));
    }
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.setParams(params(s.params()));
    }
    if (s.scoreThreshold() != null) {
      out.setScoreThreshold(s.scoreThreshold());
    }
    if (s.limit() != null) {
      out.setLimit(s.limit());
    }
    if (s.lookupFrom() != null) {
      var l = Points.LookupLocation.newBuilder().setCollectionName(s.lookupFrom().collection());
      if (s.lookupFrom().vector() != null) {
        l.setVectorName(s.lookupFrom().vector());
      }
      out.setLookupFrom(l);
    }
    return out.build();
  }

  @SuppressWarnings("unchecked")
  private static <B extends Message.Builder> B copyStage(Points.PrefetchQuery stage, B to) {
    stage.getAllFields().forEach((field, value) -> to.setField(to.getDescriptorForType().findFieldByName(field.getName()), value));
    return to;
  }

  private Points.SearchParams params(SearchParams p) {
    var out = Points.SearchParams.newBuilder();
    if (p.hnswEf() != null) {
      out.setHnswEf(p.hnswEf());
    }
    if (p.exact() || r.nextBoolean()) {
      out.setExact(p.exact());
    }
    if (p.oversampling() != null) {
      out.setQuantization(Points.QuantizationSearchParams.newBuilder().setOversampling(p.oversampling()));
    }
    return out.build();
  }

  Points.Query query(Query q) {
    var out = Points.Query.newBuilder();
    switch (q) {
      case Query.Nearest n when n.mmr() == null -> out.setNearest(input(n.vector()));
      case Query.Nearest n -> {
        var mmr = Points.Mmr.newBuilder();
        if (n.mmr().diversity() != null) {
          mmr.setDiversity(n.mmr().diversity());
        }
        if (n.mmr().candidatesLimit() != null) {
          mmr.setCandidatesLimit(n.mmr().candidatesLimit());
        }
        out.setNearestWithMmr(Points.NearestInputWithMmr.newBuilder().setNearest(input(n.vector())).setMmr(mmr));
      }
      case Query.Recommend rec -> {
        var body = Points.RecommendInput.newBuilder();
        rec.positive().forEach(v -> body.addPositive(input(v)));
        rec.negative().forEach(v -> body.addNegative(input(v)));
        if (rec.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR || r.nextBoolean()) {
          body.setStrategy(strategy(rec.strategy()));
        }
        out.setRecommend(body);
      }
      case Query.Discover d -> out.setDiscover(Points.DiscoverInput.newBuilder().setTarget(input(d.target())).setContext(pairs(d.context())));
      case Query.Context c -> out.setContext(pairs(c.pairs()));
      case Query.OrderByQuery o -> out.setOrderBy(orderBy(o.orderBy()));
      case Query.Fusion f when f.dbsf() -> out.setFusion(Points.Fusion.DBSF);
      case Query.Fusion f when f.k() == Query.Fusion.DEFAULT_RRF_K && r.nextBoolean() -> out.setFusion(Points.Fusion.RRF);
      case Query.Fusion f -> {
        UnknownFieldSet.Builder rrf = UnknownFieldSet.newBuilder();
        if (f.k() != Query.Fusion.DEFAULT_RRF_K || r.nextBoolean()) {
          rrf.addField(1, UnknownFieldSet.Field.newBuilder().addVarint(f.k()).build());
        }
        out.setUnknownFields(unknown(10, rrf.build().toByteString()));
      }
      case Query.Formula f -> {
        var formula = Points.Formula.newBuilder().setExpression(expression(f.expression()));
        f.payloadDefaults().forEach((k, v) -> formula.putDefaults(k, Values.value(v)));
        f.scoreDefaults().forEach((i, v) -> formula.putDefaults(score(i), JsonWithInt.Value.newBuilder().setDoubleValue(v).build()));
        out.setFormula(formula);
      }
      case Query.Sample s -> out.setSample(Points.Sample.Random);
    }
    return out.build();
  }

  private static Points.RecommendStrategy strategy(Query.RecommendStrategy s) {
    return switch (s) {
      case AVERAGE_VECTOR -> Points.RecommendStrategy.AverageVector;
      case BEST_SCORE -> Points.RecommendStrategy.BestScore;
      case SUM_SCORES -> Points.RecommendStrategy.SumScores;
    };
  }

  private Points.ContextInput pairs(List<Query.ContextPair> pairs) {
    var out = Points.ContextInput.newBuilder();
    pairs.forEach(p -> out.addPairs(Points.ContextInputPair.newBuilder().setPositive(input(p.positive())).setNegative(input(p.negative()))));
    return out.build();
  }

  Points.OrderBy orderBy(OrderBy o) {
    var out = Points.OrderBy.newBuilder().setKey(o.key().toString());
    if (o.descending() || r.nextBoolean()) {
      out.setDirection(o.descending() ? Points.Direction.Desc : Points.Direction.Asc);
    }
    if (o.startFrom() != null) {
      double from = o.startFrom();
      out.setStartFrom(from == Math.rint(from) && r.nextBoolean() ? Points.StartFrom.newBuilder().setInteger((long) from)
          : Points.StartFrom.newBuilder().setFloat(from));
    }
    return out.build();
  }

  private String score(int prefetch) {
    return prefetch == 0 && r.nextBoolean() ? "$score" : "$score[" + prefetch + "]";
  }

  Points.Expression expression(Expression e) {
    var out = Points.Expression.newBuilder();
    switch (e) {
      case Expression.Constant c -> out.setConstant((float) c.value());
      case Expression.Score s -> out.setVariable(score(s.prefetch()));
      case Expression.Payload p -> out.setVariable(p.key().toString());
      case Expression.Condition c -> out.setCondition(condition(c.filter().must().getFirst()));
      case Expression.GeoDistance g -> out.setGeoDistance(Points.GeoDistance.newBuilder()
          .setOrigin(Points.GeoPoint.newBuilder().setLon(g.lon()).setLat(g.lat())).setTo(g.to().toString()));
      case Expression.Datetime d -> out.setDatetime(Instant.ofEpochSecond(d.micros() / 1_000_000).toString());
      case Expression.DatetimeKey d -> out.setDatetimeKey(d.key().toString());
      case Expression.Nary n when n.mult() -> out.setMult(Points.MultExpression.newBuilder().addAllMult(n.args().stream().map(this::expression)
          .toList()));
      case Expression.Nary n -> out.setSum(Points.SumExpression.newBuilder().addAllSum(n.args().stream().map(this::expression).toList()));
      case Expression.Unary u -> {
        Points.Expression arg = expression(u.arg());
        switch (u.op()) {
          case NEG -> out.setNeg(arg);
          case ABS -> out.setAbs(arg);
          case SQRT -> out.setSqrt(arg);
          case EXP -> out.setExp(arg);
          case LOG10 -> out.setLog10(arg);
          case LN -> out.setLn(arg);
        }
      }
      case Expression.Div d -> {
        var div = Points.DivExpression.newBuilder().setLeft(expression(d.left())).setRight(expression(d.right()));
        if (d.byZeroDefault() != null) {
          div.setByZeroDefault(d.byZeroDefault().floatValue());
        }
        out.setDiv(div);
      }
      case Expression.Pow p -> out.setPow(Points.PowExpression.newBuilder().setBase(expression(p.base())).setExponent(expression(p.exponent())));
      case Expression.Decay d -> {
        var decay = Points.DecayParamsExpression.newBuilder().setX(expression(d.x()));
        if (d.target() != null) {
          decay.setTarget(expression(d.target()));
        }
        // scale 1, so that the midpoint is found back from lambda (as the JSON writer does)
        double midpoint = d.kind() == Expression.DecayKind.LIN ? 1 - d.lambda() : Math.exp(d.lambda());
        if ((float) midpoint != 0.5f || r.nextBoolean()) {
          decay.setMidpoint((float) midpoint);
        }
        if (r.nextBoolean()) {
          decay.setScale(1);
        }
        switch (d.kind()) {
          case LIN -> out.setLinDecay(decay);
          case EXP -> out.setExpDecay(decay);
          case GAUSS -> out.setGaussDecay(decay);
        }
      }
    }
    return out.build();
  }

  // ---- vectors ----

  Points.VectorInput input(VectorInput v) {
    var out = Points.VectorInput.newBuilder();
    switch (v) {
      case VectorInput.Dense d -> out.setDense(dense(d.values()));
      case VectorInput.Multi m -> out.setMultiDense(multi(m.rows()));
      case VectorInput.Sparse s -> out.setSparse(sparse(s));
      case VectorInput.Id id -> out.setId(id(id.id()));
      case VectorInput.Document d -> throw new IllegalArgumentException("documents are not generated");
    }
    return out.build();
  }

  /** A vector of a point or a legacy example: the current form, or at random the deprecated one. */
  Points.Vector vector(VectorInput v) {
    var out = Points.Vector.newBuilder();
    boolean deprecated = r.nextBoolean();
    switch (v) {
      case VectorInput.Dense d when deprecated -> out.addAllData(floats(d.values()));
      case VectorInput.Dense d -> out.setDense(dense(d.values()));
      case VectorInput.Multi m when deprecated -> {
        for (float[] row : m.rows()) {
          out.addAllData(floats(row));
        }
        out.setVectorsCount(m.rows().length);
      }
      case VectorInput.Multi m -> out.setMultiDense(multi(m.rows()));
      case VectorInput.Sparse s when deprecated -> {
        var indices = Points.SparseIndices.newBuilder();
        for (int i = 0; i < s.vector().indices().length; i++) {
          indices.addData(s.vector().indices()[i]);
          out.addData(s.vector().values()[i]);
        }
        out.setIndices(indices);
      }
      case VectorInput.Sparse s -> out.setSparse(sparse(s));
      default -> throw new IllegalArgumentException("not a vector: " + v);
    }
    return out.build();
  }

  Points.Vectors vectors(Vectors v) {
    if (v.byName().size() == 1 && v.byName().containsKey("")) {
      return Points.Vectors.newBuilder().setVector(vector(v.byName().get(""))).build();
    }
    var named = Points.NamedVectors.newBuilder();
    v.byName().forEach((name, vector) -> named.putVectors(name, vector(vector)));
    return Points.Vectors.newBuilder().setVectors(named).build();
  }

  private static Points.DenseVector dense(float[] values) {
    return Points.DenseVector.newBuilder().addAllData(floats(values)).build();
  }

  private static Points.MultiDenseVector multi(float[][] rows) {
    var out = Points.MultiDenseVector.newBuilder();
    for (float[] row : rows) {
      out.addVectors(dense(row));
    }
    return out.build();
  }

  /** A sparse vector, its pairs in reverse order at random (the parser sorts them). */
  private Points.SparseVector sparse(VectorInput.Sparse s) {
    var out = Points.SparseVector.newBuilder();
    int n = s.vector().indices().length;
    boolean reverse = r.nextBoolean();
    for (int k = 0; k < n; k++) {
      int i = reverse ? n - 1 - k : k;
      out.addIndices(s.vector().indices()[i]).addValues(s.vector().values()[i]);
    }
    return out.build();
  }

  private static List<Float> floats(float[] values) {
    Float[] boxed = new Float[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return List.of(boxed);
  }

  static Points.PointId id(PointId id) {
    return Values.id(id);
  }

  // ---- filters ----

  Points.Filter filter(Filter f) {
    var out = Points.Filter.newBuilder();
    if (f.must() != null) {
      f.must().forEach(c -> out.addMust(condition(c)));
    }
    if (f.should() != null) {
      f.should().forEach(c -> out.addShould(condition(c)));
    }
    if (f.mustNot() != null) {
      f.mustNot().forEach(c -> out.addMustNot(condition(c)));
    }
    if (f.minShould() != null) {
      var min = Points.MinShould.newBuilder().setMinCount(f.minShould().minCount());
      f.minShould().conditions().forEach(c -> min.addConditions(condition(c)));
      out.setMinShould(min);
    }
    return out.build();
  }

  Points.Condition condition(Condition c) {
    var out = Points.Condition.newBuilder();
    switch (c) {
      case Filter f -> out.setFilter(filter(f));
      case Condition.Field f -> out.setField(field(f));
      case Condition.IsEmpty e -> out.setIsEmpty(Points.IsEmptyCondition.newBuilder().setKey(e.key().toString()));
      case Condition.IsNull n -> out.setIsNull(Points.IsNullCondition.newBuilder().setKey(n.key().toString()));
      case Condition.HasId h -> out.setHasId(Points.HasIdCondition.newBuilder().addAllHasId(h.ids().stream().map(GrpcRequestWriter::id)
          .toList()));
      case Condition.HasVector h -> out.setHasVector(Points.HasVectorCondition.newBuilder().setHasVector(h.vector()));
      case Condition.Nested n -> out.setNested(Points.NestedCondition.newBuilder().setKey(n.key().toString()).setFilter(filter(n.filter())));
    }
    return out.build();
  }

  private Points.FieldCondition field(Condition.Field f) {
    var out = Points.FieldCondition.newBuilder().setKey(f.key().toString());
    if (f.match() != null) {
      out.setMatch(match(f.match()));
    }
    if (f.range() instanceof Condition.NumberRange n) {
      var range = Points.Range.newBuilder();
      if (n.lt() != null) {
        range.setLt(n.lt());
      }
      if (n.gt() != null) {
        range.setGt(n.gt());
      }
      if (n.gte() != null) {
        range.setGte(n.gte());
      }
      if (n.lte() != null) {
        range.setLte(n.lte());
      }
      out.setRange(range);
    } else if (f.range() != null) {
      throw new IllegalArgumentException("datetime ranges are not generated");
    }
    if (f.valuesCount() != null) {
      var count = Points.ValuesCount.newBuilder();
      Condition.ValuesCount v = f.valuesCount();
      if (v.lt() != null) {
        count.setLt(v.lt());
      }
      if (v.gt() != null) {
        count.setGt(v.gt());
      }
      if (v.gte() != null) {
        count.setGte(v.gte());
      }
      if (v.lte() != null) {
        count.setLte(v.lte());
      }
      out.setValuesCount(count);
    }
    if (f.isEmpty() != null) {
      out.setIsEmpty(f.isEmpty());
    }
    if (f.isNull() != null) {
      out.setIsNull(f.isNull());
    }
    return out.build();
  }

  private Points.Match match(Match m) {
    var out = Points.Match.newBuilder();
    switch (m) {
      case Match.Value v when v.value() instanceof String s -> out.setKeyword(s);
      case Match.Value v when v.value() instanceof Long n -> out.setInteger(n);
      case Match.Value v -> out.setBoolean((Boolean) v.value());
      case Match.Text t -> out.setText(t.text());
      case Match.Phrase p -> out.setPhrase(p.phrase());
      case Match.TextAny t -> out.setUnknownFields(unknown(10, ByteString.copyFromUtf8(t.textAny())));
      case Match.Any a when a.any() instanceof Match.Keywords k -> out.setKeywords(Points.RepeatedStrings.newBuilder().addAllStrings(k.values()));
      case Match.Any a -> out.setIntegers(Points.RepeatedIntegers.newBuilder().addAllIntegers(((Match.Integers) a.any()).values()));
      case Match.Except e when e.except() instanceof Match.Keywords k ->
          out.setExceptKeywords(Points.RepeatedStrings.newBuilder().addAllStrings(k.values()));
      case Match.Except e -> out.setExceptIntegers(Points.RepeatedIntegers.newBuilder()
          .addAllIntegers(((Match.Integers) e.except()).values()));
    }
    return out.build();
  }

  // ---- what to return, where ----

  private void withPayload(WithPayload w, boolean otherwise, java.util.function.Consumer<Points.WithPayloadSelector> set) {
    if (w.equals(otherwise ? WithPayload.ALL : WithPayload.NONE) && r.nextBoolean()) {
      return;
    }
    var out = Points.WithPayloadSelector.newBuilder();
    if (w.include() != null) {
      out.setInclude(Points.PayloadIncludeSelector.newBuilder().addAllFields(w.include()));
    } else if (w.exclude() != null) {
      out.setExclude(Points.PayloadExcludeSelector.newBuilder().addAllFields(w.exclude()));
    } else {
      out.setEnable(w.enabled());
    }
    set.accept(out.build());
  }

  private void withVector(WithVector w, java.util.function.Consumer<Points.WithVectorsSelector> set) {
    if (w.equals(WithVector.NONE) && r.nextBoolean()) {
      return;
    }
    var out = Points.WithVectorsSelector.newBuilder();
    if (w.names() != null) {
      out.setInclude(Points.VectorsSelector.newBuilder().addAllNames(w.names()));
    } else {
      out.setEnable(w.enabled());
    }
    set.accept(out.build());
  }

  Points.ShardKeySelector shardKey(ShardKeySelector s) {
    var out = Points.ShardKeySelector.newBuilder();
    for (Object k : s.keys()) {
      out.addShardKeys(k instanceof String str ? Collections.ShardKey.newBuilder().setKeyword(str)
          : Collections.ShardKey.newBuilder().setNumber((Long) k));
    }
    return out.build();
  }

  // ---- legacy searches ----

  /** A legacy search of a nearest query: a dense vector, or a sparse one by name. */
  Points.SearchPoints search(QueryRequest q) {
    Stage s = q.root();
    var out = Points.SearchPoints.newBuilder().setCollectionName(COLLECTION);
    switch (((Query.Nearest) s.query()).vector()) {
      case VectorInput.Dense d -> {
        out.addAllVector(floats(d.values()));
        if (!s.using().isEmpty() || r.nextBoolean()) {
          out.setVectorName(s.using());
        }
      }
      case VectorInput.Sparse sp -> {
        var indices = Points.SparseIndices.newBuilder();
        for (int i = 0; i < sp.vector().indices().length; i++) {
          indices.addData(sp.vector().indices()[i]);
          out.addVector(sp.vector().values()[i]);
        }
        out.setSparseIndices(indices).setVectorName(s.using());
      }
      default -> throw new IllegalArgumentException("not a legacy search: " + s.query());
    }
    out.setLimit(s.limit());
    if (q.offset() != 0 || r.nextBoolean()) {
      out.setOffset(q.offset());
    }
    if (s.filter() != null) {
      out.setFilter(filter(s.filter()));
    }
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.setParams(params(s.params()));
    }
    if (s.scoreThreshold() != null) {
      out.setScoreThreshold(s.scoreThreshold());
    }
    withPayload(q.withPayload(), false, out::setWithPayload);
    withVector(q.withVector(), out::setWithVectors);
    if (q.shardKey() != null) {
      out.setShardKeySelector(shardKey(q.shardKey()));
    }
    return out.build();
  }

  /** A legacy recommendation: examples by id first, then as vectors (the order Qdrant's gRPC API joins them in). */
  Points.RecommendPoints recommend(QueryRequest q) {
    Stage s = q.root();
    Query.Recommend rec = (Query.Recommend) s.query();
    var out = Points.RecommendPoints.newBuilder().setCollectionName(COLLECTION).setLimit(s.limit());
    for (VectorInput v : rec.positive()) {
      if (v instanceof VectorInput.Id id) {
        out.addPositive(id(id.id()));
      } else {
        out.addPositiveVectors(vector(v));
      }
    }
    for (VectorInput v : rec.negative()) {
      if (v instanceof VectorInput.Id id) {
        out.addNegative(id(id.id()));
      } else {
        out.addNegativeVectors(vector(v));
      }
    }
    if (rec.strategy() != Query.RecommendStrategy.AVERAGE_VECTOR || r.nextBoolean()) {
      out.setStrategy(strategy(rec.strategy()));
    }
    if (!s.using().isEmpty() || r.nextBoolean()) {
      out.setUsing(s.using());
    }
    if (s.lookupFrom() != null) {
      out.setLookupFrom(legacyLookup(s));
    }
    if (q.offset() != 0 || r.nextBoolean()) {
      out.setOffset(q.offset());
    }
    if (s.filter() != null) {
      out.setFilter(filter(s.filter()));
    }
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.setParams(params(s.params()));
    }
    if (s.scoreThreshold() != null) {
      out.setScoreThreshold(s.scoreThreshold());
    }
    withPayload(q.withPayload(), false, out::setWithPayload);
    withVector(q.withVector(), out::setWithVectors);
    if (q.shardKey() != null) {
      out.setShardKeySelector(shardKey(q.shardKey()));
    }
    return out.build();
  }

  /** A legacy discovery (no score threshold in its message). */
  Points.DiscoverPoints discover(QueryRequest q) {
    Stage s = q.root();
    var out = Points.DiscoverPoints.newBuilder().setCollectionName(COLLECTION).setLimit(s.limit());
    List<Query.ContextPair> pairs = switch (s.query()) {
      case Query.Discover d -> {
        out.setTarget(Points.TargetVector.newBuilder().setSingle(example(d.target())));
        yield d.context();
      }
      case Query.Context c -> c.pairs();
      default -> throw new IllegalArgumentException("not a discovery: " + s.query());
    };
    pairs.forEach(p -> out.addContext(Points.ContextExamplePair.newBuilder().setPositive(example(p.positive()))
        .setNegative(example(p.negative()))));
    if (!s.using().isEmpty() || r.nextBoolean()) {
      out.setUsing(s.using());
    }
    if (s.lookupFrom() != null) {
      out.setLookupFrom(legacyLookup(s));
    }
    if (q.offset() != 0 || r.nextBoolean()) {
      out.setOffset(q.offset());
    }
    if (s.filter() != null) {
      out.setFilter(filter(s.filter()));
    }
    if (!s.params().equals(SearchParams.DEFAULT) || r.nextInt(4) == 0) {
      out.setParams(params(s.params()));
    }
    withPayload(q.withPayload(), false, out::setWithPayload);
    withVector(q.withVector(), out::setWithVectors);
    if (q.shardKey() != null) {
      out.setShardKeySelector(shardKey(q.shardKey()));
    }
    return out.build();
  }

  private Points.VectorExample example(VectorInput v) {
    return v instanceof VectorInput.Id id ? Points.VectorExample.newBuilder().setId(id(id.id())).build()
        : Points.VectorExample.newBuilder().setVector(vector(v)).build();
  }

  /** A legacy {@code lookup_from}; its vector name left out at random when it is the searched one. */
  private Points.LookupLocation legacyLookup(Stage s) {
    var out = Points.LookupLocation.newBuilder().setCollectionName(s.lookupFrom().collection());
    if (!s.lookupFrom().vector().equals(s.using()) || r.nextBoolean()) {
      out.setVectorName(s.lookupFrom().vector());
    }
    return out.build();
  }

  // ---- point writes ----

  Points.WriteOrdering ordering(WriteParams p) {
    return Points.WriteOrdering.newBuilder().setType(switch (p.ordering()) {
      case WEAK -> Points.WriteOrderingType.Weak;
      case MEDIUM -> Points.WriteOrderingType.Medium;
      case STRONG -> Points.WriteOrderingType.Strong;
    }).build();
  }

  /** One operation as the message of its own RPC (a payload overwrite is a {@code SetPayloadPoints} too). */
  Message operation(PointOperation op, WriteParams p) {
    Message.Builder out = switch (op) {
      case PointOperation.Upsert u -> {
        var b = Points.UpsertPoints.newBuilder().addAllPoints(u.points().stream().map(this::point).toList());
        if (u.shardKey() != null) {
          b.setShardKeySelector(shardKey(u.shardKey()));
        }
        if (u.updateFilter() != null) {
          b.setUnknownFields(unknown(6, filter(u.updateFilter()).toByteString()));
        }
        yield b;
      }
      case PointOperation.Delete d -> {
        var b = Points.DeletePoints.newBuilder().setPoints(selector(d.selector()));
        if (d.shardKey() != null) {
          b.setShardKeySelector(shardKey(d.shardKey()));
        }
        yield b;
      }
      case PointOperation.SetPayload s -> {
        var b = Points.SetPayloadPoints.newBuilder().putAllPayload(payload(s.payload())).setPointsSelector(selector(s.selector()));
        if (s.key() != null) {
          b.setKey(s.key());
        }
        if (s.shardKey() != null) {
          b.setShardKeySelector(shardKey(s.shardKey()));
        }
        yield b;
      }
      case PointOperation.DeletePayload d -> {
        var b = Points.DeletePayloadPoints.newBuilder().addAllKeys(d.keys()).setPointsSelector(selector(d.selector()));
        if (d.shardKey() != null) {
          b.setShardKeySelector(shardKey(d.shardKey()));
        }
        yield b;
      }
      case PointOperation.ClearPayload c -> {
        var b = Points.ClearPayloadPoints.newBuilder().setPoints(selector(c.selector()));
        if (c.shardKey() != null) {
          b.setShardKeySelector(shardKey(c.shardKey()));
        }
        yield b;
      }
      case PointOperation.UpdateVectors u -> {
        var b = Points.UpdatePointVectors.newBuilder().addAllPoints(u.points().stream().map(this::pointVectors).toList());
        if (u.shardKey() != null) {
          b.setShardKeySelector(shardKey(u.shardKey()));
        }
        if (u.updateFilter() != null) {
          b.setUnknownFields(unknown(6, filter(u.updateFilter()).toByteString()));
        }
        yield b;
      }
      case PointOperation.DeleteVectors d -> {
        var b = Points.DeletePointVectors.newBuilder().setPointsSelector(selector(d.selector()))
            .setVectors(Points.VectorsSelector.newBuilder().addAllNames(d.vectors()));
        if (d.shardKey() != null) {
          b.setShardKeySelector(shardKey(d.shardKey()));
        }
        yield b;
      }
    };
    writeOptions(out, p);
    return out.setField(out.getDescriptorForType().findFieldByName("collection_name"), COLLECTION).build();
  }

  /** {@code wait} and {@code ordering}, defaults left out at random. */
  private void writeOptions(Message.Builder b, WriteParams p) {
    if (p.waitForResult() || r.nextBoolean()) {
      b.setField(b.getDescriptorForType().findFieldByName("wait"), p.waitForResult());
    }
    if (p.ordering() != WriteParams.Ordering.WEAK || r.nextBoolean()) {
      b.setField(b.getDescriptorForType().findFieldByName("ordering"), ordering(p));
    }
  }

  Points.UpdateBatchPoints batch(List<PointOperation> ops, WriteParams p) {
    var out = Points.UpdateBatchPoints.newBuilder().setCollectionName(COLLECTION);
    for (PointOperation op : ops) {
      var step = Points.PointsUpdateOperation.newBuilder();
      switch (op) {
        case PointOperation.Upsert u -> {
          var list = Points.PointsUpdateOperation.PointStructList.newBuilder().addAllPoints(u.points().stream().map(this::point).toList());
          if (u.shardKey() != null) {
            list.setShardKeySelector(shardKey(u.shardKey()));
          }
          if (u.updateFilter() != null) {
            list.setUnknownFields(unknown(3, filter(u.updateFilter()).toByteString()));
          }
          step.setUpsert(list);
        }
        case PointOperation.Delete d when d.shardKey() == null && r.nextBoolean() -> step.setDeleteDeprecated(selector(d.selector()));
        case PointOperation.Delete d -> {
          var b = Points.PointsUpdateOperation.DeletePoints.newBuilder().setPoints(selector(d.selector()));
          if (d.shardKey() != null) {
            b.setShardKeySelector(shardKey(d.shardKey()));
          }
          step.setDeletePoints(b);
        }
        case PointOperation.SetPayload s when s.overwrite() -> {
          var b = Points.PointsUpdateOperation.OverwritePayload.newBuilder().putAllPayload(payload(s.payload()))
              .setPointsSelector(selector(s.selector()));
          if (s.shardKey() != null) {
            b.setShardKeySelector(shardKey(s.shardKey()));
          }
          step.setOverwritePayload(b);
        }
        case PointOperation.SetPayload s -> {
          var b = Points.PointsUpdateOperation.SetPayload.newBuilder().putAllPayload(payload(s.payload()))
              .setPointsSelector(selector(s.selector()));
          if (s.key() != null) {
            b.setKey(s.key());
          }
          if (s.shardKey() != null) {
            b.setShardKeySelector(shardKey(s.shardKey()));
          }
          step.setSetPayload(b);
        }
        case PointOperation.DeletePayload d -> {
          var b = Points.PointsUpdateOperation.DeletePayload.newBuilder().addAllKeys(d.keys()).setPointsSelector(selector(d.selector()));
          if (d.shardKey() != null) {
            b.setShardKeySelector(shardKey(d.shardKey()));
          }
          step.setDeletePayload(b);
        }
        case PointOperation.ClearPayload c when c.shardKey() == null && r.nextBoolean() ->
            step.setClearPayloadDeprecated(selector(c.selector()));
        case PointOperation.ClearPayload c -> {
          var b = Points.PointsUpdateOperation.ClearPayload.newBuilder().setPoints(selector(c.selector()));
          if (c.shardKey() != null) {
            b.setShardKeySelector(shardKey(c.shardKey()));
          }
          step.setClearPayload(b);
        }
        case PointOperation.UpdateVectors u -> {
          var b = Points.PointsUpdateOperation.UpdateVectors.newBuilder()
              .addAllPoints(u.points().stream().map(this::pointVectors).toList());
          if (u.shardKey() != null) {
            b.setShardKeySelector(shardKey(u.shardKey()));
          }
          if (u.updateFilter() != null) {
            b.setUnknownFields(unknown(3, filter(u.updateFilter()).toByteString()));
          }
          step.setUpdateVectors(b);
        }
        case PointOperation.DeleteVectors d -> {
          var b = Points.PointsUpdateOperation.DeleteVectors.newBuilder().setPointsSelector(selector(d.selector()))
              .setVectors(Points.VectorsSelector.newBuilder().addAllNames(d.vectors()));
          if (d.shardKey() != null) {
            b.setShardKeySelector(shardKey(d.shardKey()));
          }
          step.setDeleteVectors(b);
        }
      }
      out.addOperations(step);
    }
    writeOptions(out, p);
    return out.build();
  }

  private Points.PointStruct point(PointStruct p) {
    return Points.PointStruct.newBuilder().setId(id(p.id())).setVectors(vectors(p.vectors())).putAllPayload(payload(p.payload())).build();
  }

  private Points.PointVectors pointVectors(PointVectors p) {
    return Points.PointVectors.newBuilder().setId(id(p.id())).setVectors(vectors(p.vectors())).build();
  }

  private Points.PointsSelector selector(PointsSelector s) {
    if (s.ids() != null) {
      return Points.PointsSelector.newBuilder().setPoints(Points.PointsIdsList.newBuilder()
          .addAllIds(s.ids().stream().map(GrpcRequestWriter::id).toList())).build();
    }
    return Points.PointsSelector.newBuilder().setFilter(filter(s.filter())).build();
  }

  private static Map<String, JsonWithInt.Value> payload(ObjectNode payload) {
    return Values.struct(payload).getFieldsMap();
  }

  private static UnknownFieldSet unknown(int number, ByteString bytes) {
    return UnknownFieldSet.newBuilder().addField(number, UnknownFieldSet.Field.newBuilder().addLengthDelimited(bytes).build()).build();
  }
}
