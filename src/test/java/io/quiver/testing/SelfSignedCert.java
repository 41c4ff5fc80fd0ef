package io.quiver.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made at test time with the running JDK's
 * {@code keytool} (no extra dependency), written as PEM files ({@code cert.pem}, PKCS#8 {@code
 * key.pem}) the way Qdrant's {@code tls.cert} and {@code tls.key} expect them; or a certificate
 * authority ({@link #authority}) that issues server and client certificates ({@link #issue}).
 */
public record SelfSignedCert(Path cert, Path key, KeyStore keyStore) {
  private static final char[] PASSWORD = "changeit".toCharArray();

  /** Generates a fresh key pair and certificate named {@code cn} in {@code dir}. */
  public static SelfSignedCert create(Path dir, String cn) throws IOException, InterruptedException, GeneralSecurityException {
    return generate(dir, cn, List.of("-ext", "san=ip:127.0.0.1,dns:localhost"));
  }

  /** A certificate authority named {@code cn} (basic constraints CA), to {@link #issue} certificates with. */
  public static SelfSignedCert authority(Path dir, String cn) throws IOException, InterruptedException, GeneralSecurityException {
    return generate(dir, cn, List.of("-ext", "bc:c"));
  }

  private static SelfSignedCert generate(Path dir, String cn, List<String> extensions)
      throws IOException, InterruptedException, GeneralSecurityException {
    Files.createDirectories(dir);
    Path store = dir.resolve(cn + ".p12");
    Files.deleteIfExists(store);
    List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", "quiver", "-keyalg", "RSA", "-keysize", "2048",
        "-validity", "2", "-dname", "CN=" + cn));
    args.addAll(extensions);
    args.addAll(List.of("-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", new String(PASSWORD),
        "-keypass", new String(PASSWORD)));
    keytool(args);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, PASSWORD);
    }
    Certificate certificate = ks.getCertificate("quiver");
    PrivateKey privateKey = (PrivateKey) ks.getKey("quiver", PASSWORD);
    Path cert = dir.resolve(cn + "-cert.pem");
    Path key = dir.resolve(cn + "-key.pem");
    Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()));
    Files.writeString(key, pem("PRIVATE KEY", privateKey.getEncoded()));
    return new SelfSignedCert(cert, key, ks);
  }

  /** A certificate and its key as PEM files; {@code cert} holds the chain, leaf first. */
  public record Issued(Path cert, Path key) {}

  /**
   * A fresh key pair for {@code cn} with a certificate signed by this one (which should be an {@link
   * #authority}): for a server ({@code server}: names 127.0.0.1 and localhost, server and client
   * authentication) or for a client (no names, client authentication only).
   */
  public Issued issue(Path dir, String cn, boolean server) throws IOException, InterruptedException, GeneralSecurityException {
    Files.createDirectories(dir);
    Path authorityStore = dir.resolve(cn + "-issuer.p12");
    try (OutputStream out = Files.newOutputStream(authorityStore)) {
      keyStore.store(out, PASSWORD);
    }
    Path leaf = generate(dir, cn, List.of()).cert().resolveSibling(cn + ".p12");
    Path request = dir.resolve(cn + ".csr");
    Path signed = dir.resolve(cn + "-signed.pem");
    String pass = new String(PASSWORD);
    keytool(List.of("-certreq", "-alias", "quiver", "-keystore", leaf.toString(), "-storepass", pass, "-file", request.toString()));
    List<String> sign = new ArrayList<>(List.of("-gencert", "-alias", "quiver", "-keystore", authorityStore.toString(),
        "-storepass", pass, "-infile", request.toString(), "-outfile", signed.toString(), "-rfc", "-validity", "2",
        "-ext", "ku:c=digitalSignature,keyEncipherment"));
    sign.addAll(server ? List.of("-ext", "san=ip:127.0.0.1,dns:localhost", "-ext", "eku=serverAuth,clientAuth")
        : List.of("-ext", "eku=clientAuth"));
    keytool(sign);
    Path cert = dir.resolve(cn + "-cert.pem");
    Files.writeString(cert, Files.readString(signed) + pem("CERTIFICATE", keyStore.getCertificate("quiver").getEncoded()));
    return new Issued(cert, dir.resolve(cn + "-key.pem"));
  }

  private static void keytool(List<String> args) throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", isWindows() ? "keytool.exe" : "keytool");
    List<String> command = new ArrayList<>();
    command.add(keytool.toString());
    command.addAll(args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool failed: " + new String(output, StandardCharsets.UTF_8));
    }
  }

  /** A client context that trusts only this certificate; with {@code present} it also offers it as a client certificate. */
  public SSLContext clientContext(boolean present) throws GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try {
      trust.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    trust.setCertificateEntry("quiver", keyStore.getCertificate("quiver"));
    var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keyStore, PASSWORD);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(present ? kmf.getKeyManagers() : null, tmf.getTrustManagers(), null);
    return ctx;
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private static boolean isWindows() {
    return System.getProperty("os.name", "").toLowerCase().startsWith("windows");
  }
}
