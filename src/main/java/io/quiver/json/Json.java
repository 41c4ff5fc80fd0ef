package io.quiver.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one configured {@link ObjectMapper}: the API boundary, the JSON bus API, the WAL and stored
 * payloads all parse with it, under the same {@link StreamReadConstraints}. Thread-safe.
 */
public final class Json {
  /**
   * JSON nesting deeper than this is refused while parsing, before anything recurses over it (as
   * Qdrant's parser: 128 levels, "recursion limit exceeded").
   */
  public static final int MAX_NESTING = 128;

  /** The longest string value (a payload text, a key): 64 Mi characters; bodies are bounded by size anyway. */
  public static final int MAX_STRING_LENGTH = 64 * 1024 * 1024;

  /** The longest number literal in characters: no vector, id or limit needs more. */
  public static final int MAX_NUMBER_LENGTH = 1000;

  /** The longest field name (payload keys included). */
  public static final int MAX_NAME_LENGTH = 65_536;

  public static final ObjectMapper MAPPER = JsonMapper.builder(
          JsonFactory.builder()
              // correctly rounded as Double.parseDouble, a third faster on a query's vector
              .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
              .streamReadConstraints(StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_NESTING)
                  .maxStringLength(MAX_STRING_LENGTH)
                  .maxNumberLength(MAX_NUMBER_LENGTH)
                  .maxNameLength(MAX_NAME_LENGTH)
                  .build())
              .build())
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .serializationInclusion(JsonInclude.Include.ALWAYS)
      .build();

  private Json() {}
}
