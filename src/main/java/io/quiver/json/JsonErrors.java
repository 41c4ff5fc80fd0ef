package io.quiver.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.quiver.error.ApiException;
import java.io.IOException;

/** Turns Jackson's exceptions into Qdrant-style errors that name the offending field. */
public final class JsonErrors {
  private JsonErrors() {}

  /** The exception to answer with: a validation error raised while binding, else a 400 format error. */
  public static ApiException toApiException(IOException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ApiException api) {
        return api;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return ApiException.formatError(describe(e));
  }

  private static StreamConstraintsException constraint(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof StreamConstraintsException s) {
        return s;
      }
    }
    return null;
  }

  private static String describe(IOException e) {
    String message = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    StreamConstraintsException limit = constraint(e);
    if (limit != null) {
      message = limit.getOriginalMessage();
      // Qdrant's wording for deep nesting; Jackson's own for the other limits, without its API hint
      message = message.startsWith("Document nesting depth") ? "recursion limit exceeded"
          : message.replaceFirst(", from `StreamReadConstraints\\.[A-Za-z]+\\(\\)`", "");
      // Jackson raises these without a location
      return message;
    }
    Throwable cause = e.getCause();
    if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
      message = cause.getMessage();
    }
    if (message != null && message.indexOf('\n') > 0) {
      message = message.substring(0, message.indexOf('\n'));
    }
    if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      StringBuilder path = new StringBuilder();
      for (JsonMappingException.Reference ref : m.getPath()) {
        if (ref.getFieldName() != null) {
          path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
        } else if (ref.getIndex() >= 0) {
          path.append('[').append(ref.getIndex()).append(']');
        }
      }
      return path + ": " + message;
    }
    if (e instanceof JsonProcessingException jpe && jpe.getLocation() != null) {
      return message + " at line " + jpe.getLocation().getLineNr() + " column " + jpe.getLocation().getColumnNr();
    }
    return message;
  }
}
