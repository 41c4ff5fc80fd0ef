package io.quiver.api;

import io.quiver.config.QuiverConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the REST listener ({@code service.enable_tls} with {@code tls.cert} and {@code tls.key},
 * PEM), offering HTTP/2 and HTTP/1.1 by ALPN. With {@code service.verify_https_client_certificate}
 * every client must present a certificate signed by {@code tls.ca_cert}. With {@code tls.cert_ttl} the files are re-read that often, so a
 * rotated certificate is served without a restart; a rotation that fails to load keeps the old one.
 */
final class Https {
  private static final Logger log = LoggerFactory.getLogger(Https.class);

  private Https() {}

  /** {@code options} with TLS switched on when {@code tls} is not null. */
  static HttpServerOptions apply(HttpServerOptions options, QuiverConfig.Tls tls) {
    if (tls == null) {
      return options;
    }
    // ALPN offers HTTP/2 and HTTP/1.1, as Qdrant's REST server does over TLS
    options.setSsl(true).setKeyCertOptions(keyCert(tls)).setUseAlpn(true)
        .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1));
    if (tls.caCert() != null) {
      options.setTrustOptions(trust(tls)).setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }

  /** Re-reads the certificate every {@code cert_ttl} seconds; returns the timer id, or -1 when there is none. */
  static long scheduleReload(Vertx vertx, HttpServer server, QuiverConfig.Tls tls) {
    if (tls == null || tls.certTtlSec() <= 0) {
      return -1;
    }
    return vertx.setPeriodic(tls.certTtlSec() * 1000L, id -> {
      var ssl = new ServerSSLOptions().setKeyCertOptions(keyCert(tls));
      if (tls.caCert() != null) {
        ssl.setTrustOptions(trust(tls)).setClientAuth(ClientAuth.REQUIRED);
      }
      server.updateSSLOptions(ssl, true)
          .onFailure(e -> log.error("Failed to reload the TLS certificate {}, keeping the current one: {}", tls.cert(),
              e.getMessage()));
    });
  }

  private static PemKeyCertOptions keyCert(QuiverConfig.Tls tls) {
    return new PemKeyCertOptions().setCertPath(tls.cert().toString()).setKeyPath(tls.key().toString());
  }

  private static PemTrustOptions trust(QuiverConfig.Tls tls) {
    return new PemTrustOptions().addCertPath(tls.caCert().toString());
  }
}
