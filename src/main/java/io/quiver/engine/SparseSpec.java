package io.quiver.engine;

/** How one named sparse vector is stored; {@code idf} applies Qdrant's inverse-document-frequency modifier. */
public record SparseSpec(String name, boolean idf) {}
