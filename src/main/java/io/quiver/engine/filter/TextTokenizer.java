package io.quiver.engine.filter;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.WordlistLoader;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.tartarus.snowball.SnowballStemmer;

/**
 * Qdrant's full-text tokenization for a text index: the word, whitespace and prefix tokenizers,
 * then lowercase, stopwords, stemming and token length limits, in Qdrant's order. Documents and
 * queries differ only for the prefix tokenizer (documents index every prefix, a query word is
 * one token cut to max_token_len). Thread-safe.
 *
 * <p>Approximations (Qdrant uses libraries Java lacks): the multilingual tokenizer segments with
 * Lucene's Unicode word rules and strips diacritics (Qdrant: charabia, with dictionary segmentation
 * for Chinese and Japanese); language stopwords come from Lucene's lists for that language (none
 * for languages Lucene has no list for); stemming is Lucene's Snowball implementation.
 */
final class TextTokenizer {
  private static final Map<FieldIndex.TextParams, TextTokenizer> CACHE = new ConcurrentHashMap<>();

  private final FieldIndex.Tokenizer kind;
  private final boolean lowercase;
  private final Set<String> stopwords;
  private final String stemmer;
  private final long minLen;
  private final long maxLen;

  private TextTokenizer(FieldIndex.TextParams p) {
    kind = p.tokenizer();
    lowercase = p.lowercase() == null || p.lowercase();
    minLen = p.minTokenLen() == null ? -1 : p.minTokenLen();
    maxLen = p.maxTokenLen() == null ? -1 : p.maxTokenLen();
    stopwords = stopwords(p.stopwords(), lowercase);
    stemmer = p.stemmer() == null ? null : p.stemmer().get("language").textValue();
  }

  static TextTokenizer of(FieldIndex index) {
    return of(index.text());
  }

  static TextTokenizer of(FieldIndex.TextParams params) {
    return CACHE.computeIfAbsent(params, TextTokenizer::new);
  }

  /** The tokens of a stored value, in order (duplicates kept: phrases need them). */
  List<String> document(String text) {
    List<String> out = new ArrayList<>();
    SnowballStemmer st = newStemmer();
    switch (kind) {
      case WORD -> Text.splitWords(text).forEach(w -> add(out, process(w, true, st)));
      case WHITESPACE -> Text.splitWhitespace(text).forEach(w -> add(out, process(w, true, st)));
      case MULTILINGUAL -> multilingual(text).forEach(w -> add(out, process(w, true, st)));
      case PREFIX -> {
        long min = minLen < 0 ? 1 : minLen;
        for (String word : Text.splitWords(text)) {
          String w = process(word, false, st);
          if (w == null) {
            continue;
          }
          int chars = w.codePointCount(0, w.length());
          // every prefix from min chars up to max chars; the whole word if it is not longer than that
          for (long n = min; maxLen < 0 || n <= maxLen; n++) {
            if (n >= chars) {
              out.add(w);
              break;
            }
            out.add(w.substring(0, w.offsetByCodePoints(0, (int) n)));
          }
        }
      }
    }
    return out;
  }

  /** The tokens of a query text. */
  List<String> query(String text) {
    if (kind != FieldIndex.Tokenizer.PREFIX) {
      return document(text);
    }
    // Qdrant applies no stopwords to prefix queries: a typed prefix may be a stopword
    List<String> out = new ArrayList<>();
    SnowballStemmer st = newStemmer();
    for (String word : Text.splitWords(text)) {
      String w = stem(lowercase ? word.toLowerCase(Locale.ROOT) : word, st);
      int chars = w.codePointCount(0, w.length());
      if (minLen >= 0 && chars < minLen) {
        continue;
      }
      out.add(maxLen >= 0 && chars > maxLen ? w.substring(0, w.offsetByCodePoints(0, (int) maxLen)) : w);
    }
    return out;
  }

  private static void add(List<String> out, String token) {
    if (token != null) {
      out.add(token);
    }
  }

  private String process(String token, boolean checkMax, SnowballStemmer st) {
    if (token.isEmpty()) {
      return null;
    }
    String t = lowercase ? token.toLowerCase(Locale.ROOT) : token;
    if (stopwords.contains(t)) {
      return null;
    }
    t = stem(t, st);
    int chars = t.codePointCount(0, t.length());
    if ((minLen >= 0 && chars < minLen) || (checkMax && maxLen >= 0 && chars > maxLen)) {
      return null;
    }
    return t;
  }

  private String stem(String t, SnowballStemmer st) {
    if (st == null) {
      return t;
    }
    st.setCurrent(t);
    st.stem();
    return st.getCurrent();
  }

  private SnowballStemmer newStemmer() {
    if (stemmer == null || stemmer.isEmpty()) { // BM25 options may name no language at all: as Qdrant, no stemming
      return null;
    }
    String cls = "org.tartarus.snowball.ext." + Character.toUpperCase(stemmer.charAt(0)) + stemmer.substring(1) + "Stemmer";
    try {
      return (SnowballStemmer) Class.forName(cls).getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      return null; // a language Lucene has no stemmer for: no stemming
    }
  }

  private static List<String> multilingual(String text) {
    List<String> out = new ArrayList<>();
    try (var ts = new StandardTokenizer()) {
      ts.setReader(new StringReader(text));
      CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        String t = Normalizer.normalize(term.toString(), Normalizer.Form.NFKD).replaceAll("\\p{Mn}+", "").toLowerCase(Locale.ROOT);
        if (t.codePoints().anyMatch(Character::isAlphabetic)) {
          out.add(t);
        }
      }
      ts.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Lucene's stopword list per Qdrant language: a snowball-format list or a plain one. */
  private static final Map<String, String> STOPWORD_FILES = Map.ofEntries(
      Map.entry("arabic", "ar/stopwords.txt"), Map.entry("basque", "eu/stopwords.txt"),
      Map.entry("bengali", "bn/stopwords.txt"), Map.entry("catalan", "ca/stopwords.txt"),
      Map.entry("danish", "snowball/danish_stop.txt"), Map.entry("dutch", "snowball/dutch_stop.txt"),
      Map.entry("english", "snowball/english_stop.txt"), Map.entry("finnish", "snowball/finnish_stop.txt"),
      Map.entry("french", "snowball/french_stop.txt"), Map.entry("german", "snowball/german_stop.txt"),
      Map.entry("greek", "el/stopwords.txt"), Map.entry("hungarian", "snowball/hungarian_stop.txt"),
      Map.entry("indonesian", "snowball/indonesian_stop.txt"), Map.entry("italian", "snowball/italian_stop.txt"),
      Map.entry("nepali", "ne/stopwords.txt"), Map.entry("norwegian", "snowball/norwegian_stop.txt"),
      Map.entry("portuguese", "snowball/portuguese_stop.txt"), Map.entry("romanian", "ro/stopwords.txt"),
      Map.entry("russian", "snowball/russian_stop.txt"), Map.entry("spanish", "snowball/spanish_stop.txt"),
      Map.entry("swedish", "snowball/swedish_stop.txt"), Map.entry("turkish", "tr/stopwords.txt"));

  private static Set<String> stopwords(JsonNode spec, boolean lowercase) {
    Set<String> out = new HashSet<>();
    if (spec == null) {
      return out;
    }
    List<String> languages = new ArrayList<>();
    if (spec.isTextual()) {
      languages.add(spec.textValue());
    } else {
      spec.path("languages").forEach(l -> languages.add(l.textValue()));
      spec.path("custom").forEach(w -> out.add(lowercase ? w.textValue().toLowerCase(Locale.ROOT) : w.textValue()));
    }
    for (String lang : languages) {
      for (Object w : languageStopwords(lang)) {
        String s = new String((char[]) w);
        out.add(lowercase ? s.toLowerCase(Locale.ROOT) : s);
      }
    }
    return out;
  }

  private static CharArraySet languageStopwords(String language) {
    String file = STOPWORD_FILES.get(language);
    if (file == null) {
      return CharArraySet.EMPTY_SET;
    }
    try (InputStream in = SnowballStemmer.class.getClassLoader().getResourceAsStream("org/apache/lucene/analysis/" + file)) {
      if (in == null) {
        return CharArraySet.EMPTY_SET;
      }
      Reader r = new InputStreamReader(in, StandardCharsets.UTF_8);
      return file.startsWith("snowball/") ? WordlistLoader.getSnowballWordSet(r) : WordlistLoader.getWordSet(r, "#");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
