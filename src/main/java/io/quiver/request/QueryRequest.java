package io.quiver.request;

/**
 * Qdrant's universal query ({@code QueryRequest}): a {@link Stage} tree, the offset of the first
 * result, what to return of each point, and the shard key. The legacy search, recommend and
 * discover requests are parsed into this form, as Qdrant itself translates them.
 */
public record QueryRequest(Stage root, int offset, WithPayload withPayload, WithVector withVector, ShardKeySelector shardKey) {}
