package io.quiver.config;

/** Startup stops with this when a configuration value is invalid; the message names key and source. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
