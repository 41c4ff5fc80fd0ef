package io.quiver.api;

import io.quiver.json.Json;
import io.quiver.json.JsonErrors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.quiver.error.ApiException;
import io.quiver.lock.LockOrigin;
import io.quiver.request.Request;
import io.quiver.request.StorageOp;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/** What a route handler sees of a request: path and query parameters and the parsed body. */
public final class ApiRequest {
  private final RoutingContext ctx;
  private JsonNode tree;
  private Request parsed;

  ApiRequest(RoutingContext ctx) {
    this.ctx = ctx;
  }

  public String path(String name) {
    return ctx.pathParam(name);
  }

  public String query(String name) {
    return ctx.queryParams().get(name);
  }

  /**
   * Who sent this request, for audit records: the TCP peer's address (forwarding headers are not
   * trusted) and which key it came with, {@code "read-write"}, {@code "read-only"} or {@code "none"}
   * when no keys are configured. Never the key itself.
   */
  public LockOrigin origin() {
    var remote = ctx.request().remoteAddress();
    ApiKeys.Grant grant = ctx.get(HttpRouterVerticle.GRANT_KEY);
    String key = grant == null ? "none" : grant == ApiKeys.Grant.FULL ? "read-write" : "read-only";
    return new LockOrigin(remote == null ? null : remote.hostAddress(), key);
  }

  /** Query parameters, plus the path parameters other than the collection name. */
  public Map<String, String> params() {
    Map<String, String> out = new HashMap<>();
    ctx.queryParams().forEach(out::put);
    ctx.pathParams().forEach((k, v) -> {
      if (!k.equals("collection_name")) {
        out.put(k, v);
      }
    });
    out.remove("upload_file"); // only the router names an uploaded file
    return out;
  }

  /** The request as its route's storage operation parsed it; set by the router before the handler runs. */
  public Request parsed() {
    if (parsed == null) {
      throw new IllegalStateException("not a storage operation's route");
    }
    return parsed;
  }

  /** Parses this request with {@code op}: the collection from the path, the body, the query and path parameters. */
  Request parse(StorageOp op) {
    parsed = op.parse(path("collection_name"), bodyTreeOrNull(), params());
    return parsed;
  }

  /** Paths of the files of a multipart upload, as the router stored them. */
  public java.util.List<String> uploadedFiles() {
    return ctx.fileUploads().stream().map(io.vertx.ext.web.FileUpload::uploadedFileName).toList();
  }

  /** The body parsed as {@code type}; a missing or malformed body is a 400 format error. */
  public <T> T body(Class<T> type) {
    Buffer buffer = ctx.body().buffer();
    if (buffer == null || buffer.length() == 0) {
      throw ApiException.formatError("EOF while parsing a value at line 1 column 0");
    }
    try {
      return Json.MAPPER.readValue(buffer.getBytes(), type);
    } catch (IOException e) {
      throw JsonErrors.toApiException(e);
    }
  }

  /** The body as a JSON tree, or null when there is none. Parsed once, then shared. */
  public JsonNode bodyTreeOrNull() {
    if (tree == null) {
      Buffer buffer = ctx.body().buffer();
      tree = buffer == null || buffer.length() == 0 ? NullNode.instance : body(JsonNode.class);
    }
    return tree == NullNode.instance ? null : tree;
  }
}
