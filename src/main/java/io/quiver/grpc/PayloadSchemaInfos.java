package io.quiver.grpc;

import static io.quiver.grpc.CollectionConvert.ifBool;
import static io.quiver.grpc.CollectionConvert.ifLong;

import com.fasterxml.jackson.databind.JsonNode;
import io.qdrant.client.grpc.Collections.BoolIndexParams;
import io.qdrant.client.grpc.Collections.DatetimeIndexParams;
import io.qdrant.client.grpc.Collections.FloatIndexParams;
import io.qdrant.client.grpc.Collections.GeoIndexParams;
import io.qdrant.client.grpc.Collections.IntegerIndexParams;
import io.qdrant.client.grpc.Collections.KeywordIndexParams;
import io.qdrant.client.grpc.Collections.PayloadIndexParams;
import io.qdrant.client.grpc.Collections.PayloadSchemaInfo;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.SnowballParams;
import io.qdrant.client.grpc.Collections.StemmingAlgorithm;
import io.qdrant.client.grpc.Collections.StopwordsSet;
import io.qdrant.client.grpc.Collections.TextIndexParams;
import io.qdrant.client.grpc.Collections.TokenizerType;
import io.qdrant.client.grpc.Collections.UuidIndexParams;
import java.util.Map;

/**
 * {@code PayloadSchemaInfo} from an entry of the REST collection info's {@code payload_schema}
 * ({@code {"data_type", "params"?, "points"}}): the type and tokenizer names as Qdrant's enums, the
 * index params as the message of their type, only the options the REST form shows.
 */
final class PayloadSchemaInfos {
  static final CollectionConvert.Spelling<PayloadSchemaType> TYPE = new CollectionConvert.Spelling<>(
      Map.entry(PayloadSchemaType.Keyword, "keyword"), Map.entry(PayloadSchemaType.Integer, "integer"),
      Map.entry(PayloadSchemaType.Float, "float"), Map.entry(PayloadSchemaType.Geo, "geo"), Map.entry(PayloadSchemaType.Text, "text"),
      Map.entry(PayloadSchemaType.Bool, "bool"), Map.entry(PayloadSchemaType.Datetime, "datetime"),
      Map.entry(PayloadSchemaType.Uuid, "uuid"));
  static final CollectionConvert.Spelling<TokenizerType> TOKENIZER = new CollectionConvert.Spelling<>(
      Map.entry(TokenizerType.Prefix, "prefix"), Map.entry(TokenizerType.Whitespace, "whitespace"),
      Map.entry(TokenizerType.Word, "word"), Map.entry(TokenizerType.Multilingual, "multilingual"));

  private PayloadSchemaInfos() {}

  static PayloadSchemaInfo info(JsonNode entry) {
    var out = PayloadSchemaInfo.newBuilder().setDataType(TYPE.proto(entry.get("data_type"), PayloadSchemaType.UnknownType));
    ifLong(entry, "points", out::setPoints);
    if (entry.path("params").isObject()) {
      out.setParams(params(entry.get("params")));
    }
    return out.build();
  }

  private static PayloadIndexParams params(JsonNode p) {
    var out = PayloadIndexParams.newBuilder();
    switch (TYPE.proto(p.get("type"), PayloadSchemaType.UnknownType)) {
      case Keyword -> {
        var k = KeywordIndexParams.newBuilder();
        ifBool(p, "is_tenant", k::setIsTenant);
        ifBool(p, "on_disk", k::setOnDisk);
        out.setKeywordIndexParams(k);
      }
      case Integer -> {
        var i = IntegerIndexParams.newBuilder();
        ifBool(p, "lookup", i::setLookup);
        ifBool(p, "range", i::setRange);
        ifBool(p, "is_principal", i::setIsPrincipal);
        ifBool(p, "on_disk", i::setOnDisk);
        out.setIntegerIndexParams(i);
      }
      case Float -> {
        var f = FloatIndexParams.newBuilder();
        ifBool(p, "on_disk", f::setOnDisk);
        ifBool(p, "is_principal", f::setIsPrincipal);
        out.setFloatIndexParams(f);
      }
      case Geo -> {
        var g = GeoIndexParams.newBuilder();
        ifBool(p, "on_disk", g::setOnDisk);
        out.setGeoIndexParams(g);
      }
      case Text -> out.setTextIndexParams(text(p));
      case Bool -> {
        var b = BoolIndexParams.newBuilder();
        ifBool(p, "on_disk", b::setOnDisk);
        out.setBoolIndexParams(b);
      }
      case Datetime -> {
        var d = DatetimeIndexParams.newBuilder();
        ifBool(p, "on_disk", d::setOnDisk);
        ifBool(p, "is_principal", d::setIsPrincipal);
        out.setDatetimeIndexParams(d);
      }
      case Uuid -> {
        var u = UuidIndexParams.newBuilder();
        ifBool(p, "is_tenant", u::setIsTenant);
        ifBool(p, "on_disk", u::setOnDisk);
        out.setUuidIndexParams(u);
      }
      case UnknownType, UNRECOGNIZED -> { }
    }
    return out.build();
  }

  private static TextIndexParams text(JsonNode p) {
    var t = TextIndexParams.newBuilder().setTokenizer(TOKENIZER.proto(p.get("tokenizer"), TokenizerType.Word));
    ifBool(p, "lowercase", t::setLowercase);
    ifLong(p, "min_token_len", t::setMinTokenLen);
    ifLong(p, "max_token_len", t::setMaxTokenLen);
    ifBool(p, "on_disk", t::setOnDisk);
    ifBool(p, "phrase_matching", t::setPhraseMatching);
    JsonNode stopwords = p.get("stopwords");
    if (stopwords != null && stopwords.isTextual()) {
      t.setStopwords(StopwordsSet.newBuilder().addLanguages(stopwords.textValue()));
    } else if (stopwords != null && stopwords.isObject()) {
      var set = StopwordsSet.newBuilder();
      stopwords.path("languages").forEach(l -> set.addLanguages(l.asText()));
      stopwords.path("custom").forEach(c -> set.addCustom(c.asText()));
      t.setStopwords(set);
    }
    JsonNode stemmer = p.get("stemmer");
    if (stemmer != null && stemmer.isObject() && "snowball".equals(stemmer.path("type").asText())) {
      t.setStemmer(StemmingAlgorithm.newBuilder().setSnowball(SnowballParams.newBuilder().setLanguage(stemmer.path("language").asText())));
    }
    return t.build();
  }
}
