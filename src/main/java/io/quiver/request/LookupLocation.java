package io.quiver.request;

/** Where examples given by id are read: another collection, and the vector there (null: the searched one). */
public record LookupLocation(String collection, String vector) {}
