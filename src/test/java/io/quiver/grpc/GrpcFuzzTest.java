package io.quiver.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.qdrant.client.grpc.Collections.ListCollectionsRequest;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import io.qdrant.client.grpc.SnapshotsGrpc;
import io.quiver.testing.GrpcCalls;
import io.quiver.testing.TestNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Robustness of every method of {@code qdrant.Qdrant}, {@code qdrant.Collections}, {@code
 * qdrant.Points} and {@code qdrant.Snapshots} (enumerated from the services' descriptors, so that
 * methods written later are covered as they land) against bytes no client would send: seeded random
 * bytes, messages generated from the request's descriptor, and their encodings truncated, bit-flipped,
 * with fields of the wrong wire type, huge or negative length prefixes, overlong varints, invalid
 * UTF-8, a million-element repeated field within the size bound, and nesting of recursive messages
 * (Qdrant's {@code Value} structs, filters) around and far beyond protobuf's depth limit. Sent raw,
 * with a byte-array marshaller, to a node holding fixtures.
 *
 * <p>Properties: every call ends with a status within {@link #CALL_BOUND_MS}; no UNKNOWN, and no
 * INTERNAL without a proper description (INTERNAL with one is reported, not failed); the node keeps
 * answering its health check; a refused call leaves collections, aliases, points (payloads and
 * vectors), payload schemas and snapshots exactly as they were, and after an accepted one the
 * fixtures are put back, so that the node ends as it started. UNIMPLEMENTED is a clean answer, so the
 * test passes while RPCs are still missing and covers them once they exist.
 *
 * <p>Known defect, tolerated and counted (see {@link #KNOWN_UNDECODABLE}): a message that protobuf
 * cannot decode ends in grpc-java's UNKNOWN "Application error processing RPC". Only for bytes that
 * this test's own parser of the request type also rejects; {@code -Dquiver.fuzz.strict=true} fails
 * on it too.
 *
 * <p>Seeded and reproducible: the seed is printed; rerun with {@code -Dquiver.fuzz.seed=N}, {@code
 * -Dquiver.fuzz.tries=N} for a longer run, {@code -Dquiver.fuzz.seed=random} to explore. The first
 * rounds give every method every kind of message; the random rounds after them stop when the time
 * budget ({@code -Dquiver.fuzz.budget}, 25 s) is spent, so that the run stays bounded as the RPCs
 * behind UNIMPLEMENTED today are written and accepted calls need their fixtures restored.
 */
@Timeout(300)
class GrpcFuzzTest {
  /** The build's seed, so that a build passes or fails for its code alone. */
  static final long BUILD_SEED = 6334_2025_0715L;
  /** Each call must end within this, whatever it carries. */
  static final long CALL_BOUND_MS = 10_000;
  /** grpc-java's status when parsing the request throws. */
  static final String KNOWN_UNDECODABLE = "Application error processing RPC";
  static final List<ServiceDescriptor> SERVICES = List.of(QdrantGrpc.getServiceDescriptor(), CollectionsGrpc.getServiceDescriptor(),
      PointsGrpc.getServiceDescriptor(), SnapshotsGrpc.getServiceDescriptor());
  /** How often (in tries) everything stored is compared, whatever the calls were. */
  static final int FULL_CHECK_EVERY = 100;
  /**
   * The methods that only read (Qdrant's read-only list and the other lists, gets and queries): after
   * each, the collections and a point count are compared; after any other, every point, alias and
   * config, and for snapshot methods the snapshots too.
   */
  static final Set<String> READS = Set.of("qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Collections/List",
      "qdrant.Collections/ListAliases", "qdrant.Collections/ListCollectionAliases", "qdrant.Collections/CollectionExists",
      "qdrant.Collections/CollectionClusterInfo", "qdrant.Points/Get", "qdrant.Points/Scroll", "qdrant.Points/Count",
      "qdrant.Points/Search", "qdrant.Points/SearchBatch", "qdrant.Points/SearchGroups", "qdrant.Points/Recommend",
      "qdrant.Points/RecommendBatch", "qdrant.Points/RecommendGroups", "qdrant.Points/Discover", "qdrant.Points/DiscoverBatch",
      "qdrant.Points/Query", "qdrant.Points/QueryBatch", "qdrant.Points/QueryGroups", "qdrant.Points/Facet",
      "qdrant.Points/SearchMatrixPairs", "qdrant.Points/SearchMatrixOffsets", "qdrant.Snapshots/List", "qdrant.Snapshots/ListFull");

  /** How much of what is stored a fingerprint covers. */
  enum Depth { COUNT, DATA, ALL }

  /** What a try sends; every method gets each of the first ones once, then a random mix. */
  enum Kind { EMPTY, VALID, RANDOM_BYTES, TRUNCATED, FLIPPED, WRONG_WIRE_TYPE, HUGE_LENGTH, OVERLONG_VARINT, BAD_UTF8,
    LARGE_REPEATED, DEEP_NESTING, UNKNOWN_FIELDS, SPLICED }

  /** Random mix after the first rounds: large messages only in the first rounds, to bound the time. */
  static final Kind[] MIX = {Kind.VALID, Kind.VALID, Kind.VALID, Kind.VALID, Kind.VALID, Kind.VALID, Kind.RANDOM_BYTES, Kind.TRUNCATED,
    Kind.FLIPPED, Kind.FLIPPED, Kind.FLIPPED, Kind.WRONG_WIRE_TYPE, Kind.HUGE_LENGTH, Kind.OVERLONG_VARINT, Kind.BAD_UTF8,
    Kind.DEEP_NESTING, Kind.DEEP_NESTING, Kind.UNKNOWN_FIELDS, Kind.UNKNOWN_FIELDS, Kind.SPLICED};

  @TempDir Path dir;

  private Random random;

  /** One RPC: its name, its request type, and the request type's own parser. */
  record Rpc(String fullName, Descriptor input, MethodDescriptor<?, ?> method) {
    boolean decodes(byte[] body) {
      try {
        method.parseRequest(new ByteArrayInputStream(body));
        return true;
      } catch (RuntimeException e) {
        return false;
      }
    }
  }

  @Test
  void everyMethodAnswersMalformedAndMutatedMessagesWithACleanStatusAndChangesNothingWhenItRefuses() throws Exception {
    String seedProperty = System.getProperty("quiver.fuzz.seed", Long.toString(BUILD_SEED));
    long seed = seedProperty.equals("random") ? System.nanoTime() : Long.parseLong(seedProperty);
    int tries = Integer.getInteger("quiver.fuzz.tries", 1500);
    boolean strict = !"false".equals(System.getProperty("quiver.fuzz.strict"));
    long budgetNanos = TimeUnit.SECONDS.toNanos(Integer.getInteger("quiver.fuzz.budget", 25));
    System.out.println("GrpcFuzzTest seed " + seed + " (rerun with -Dquiver.fuzz.seed=" + seed + ")");
    random = new Random(seed);
    List<Rpc> rpcs = rpcs();
    long started = System.nanoTime();
    try (TestNode node = TestNode.start(dir.resolve("storage"))) {
      ManagedChannel channel = GrpcCalls.channel(node);
      try {
        fixtures(node);
        Map<Depth, String> initial = fingerprints(node, channel);
        Map<Depth, String> before = initial;
        int lastFullCheck = 0;
        Map<String, Map<String, Integer>> codes = new TreeMap<>();
        Map<Kind, int[]> decodable = new EnumMap<>(Kind.class);
        Map<String, Integer> findings = new TreeMap<>();
        List<String> violations = new ArrayList<>();
        int knownUndecodable = 0;
        int accepted = 0;
        int done = 0;
        for (int i = 0; i < tries; i++, done++) {
          Rpc rpc = rpcs.get(i % rpcs.size());
          int round = i / rpcs.size();
          if (round >= Kind.values().length && System.nanoTime() - started > budgetNanos) {
            System.out.println("GrpcFuzzTest: time budget spent after " + i + " tries (every method had every kind); -Dquiver.fuzz.budget=S");
            break;
          }
          Kind kind = round < Kind.values().length ? Kind.values()[round] : MIX[random.nextInt(MIX.length)];
          byte[] body = body(rpc, kind);
          boolean decodes = rpc.decodes(body);
          long t0 = System.nanoTime();
          GrpcCalls.Outcome outcome = GrpcCalls.call(channel, rpc.fullName(), body, CALL_BOUND_MS);
          long ms = (System.nanoTime() - t0) / 1_000_000;
          String what = "try " + i + " (seed " + seed + "): " + rpc.fullName() + " " + kind + " " + body.length + " bytes "
              + (decodes ? "(decodable)" : "(undecodable)") + " " + preview(body) + " -> " + outcome + " in " + ms + " ms";
          codes.computeIfAbsent(rpc.fullName(), k -> new TreeMap<>()).merge(outcome.code().name(), 1, Integer::sum);
          int[] tally = decodable.computeIfAbsent(kind, k -> new int[2]);
          tally[0]++;
          tally[1] += decodes ? 1 : 0;

          if (ms >= CALL_BOUND_MS) {
            fail("no answer within " + CALL_BOUND_MS + " ms: " + what);
          }
          Status status = outcome.status();
          if (status.getCode() == Status.Code.UNKNOWN && KNOWN_UNDECODABLE.equals(status.getDescription()) && !decodes && !strict) {
            knownUndecodable++;
          } else if (status.getCode() == Status.Code.UNKNOWN) {
            violations.add("UNKNOWN: " + what);
          } else if (status.getCode() == Status.Code.INTERNAL) {
            if (improper(status.getDescription())) {
              violations.add("INTERNAL without a proper message: " + what);
            } else {
              findings.merge(rpc.fullName() + " INTERNAL \"" + abbreviate(status.getDescription(), 160) + "\"", 1, Integer::sum);
            }
          }
          if (violations.size() >= 20) {
            break;
          }
          healthy(channel, what);

          // a method that does not exist (yet), or bytes its own request type cannot parse, never reach storage
          if (decodes && status.getCode() != Status.Code.UNIMPLEMENTED) {
            // reads are checked for the collections and a count, writes for every point, snapshot operations for the files too
            boolean read = READS.contains(rpc.fullName());
            Depth depth = read ? Depth.COUNT : rpc.fullName().startsWith("qdrant.Snapshots/") ? Depth.ALL : Depth.DATA;
            String after = fingerprint(node, channel, depth);
            if (!after.equals(before.get(depth))) {
              if (read || !status.isOk()) {
                fail((read ? "a read" : "a refused call") + " changed stored data: " + what + "\n" + difference(before.get(depth), after));
              }
              accepted++;
              restore(node, channel, initial);
              before = fingerprints(node, channel);
            }
          }
          if (i - lastFullCheck >= FULL_CHECK_EVERY) {
            String all = fingerprint(node, channel, Depth.ALL);
            if (!all.equals(before.get(Depth.ALL))) {
              fail("stored data changed between tries " + lastFullCheck + " and " + i + " (seed " + seed + "), by refused calls or reads:\n"
                  + difference(before.get(Depth.ALL), all));
            }
            lastFullCheck = i;
          }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("GrpcFuzzTest: %d calls over %d methods in %.1f s; %d accepted calls changed data (fixtures restored)%n",
            done, rpcs.size(), seconds, accepted);
        codes.forEach((method, byCode) -> System.out.println("  " + method + " " + byCode));
        decodable.forEach((kind, t) -> System.out.println("  " + kind + ": " + t[0] + " calls, " + t[1] + " decodable"));
        if (knownUndecodable > 0) {
          System.out.println("GrpcFuzzTest finding (known defect, tolerated): " + knownUndecodable + " undecodable messages answered "
              + "UNKNOWN \"" + KNOWN_UNDECODABLE + "\" instead of INVALID_ARGUMENT; -Dquiver.fuzz.strict=true fails on them");
        }
        findings.forEach((f, n) -> System.out.println("GrpcFuzzTest finding: " + n + " x " + f));
        if (!violations.isEmpty()) {
          fail(violations.size() + " calls did not end with a clean status:\n" + String.join("\n", violations));
        }
        if (!before.get(Depth.ALL).equals(fingerprint(node, channel, Depth.ALL))) {
          fail("stored data changed after the last full check (try " + lastFullCheck + ")");
        }
        restore(node, channel, initial);
        assertEquals(initial.get(Depth.ALL), fingerprint(node, channel, Depth.ALL), "the node ends as it started");
      } finally {
        GrpcCalls.close(channel);
      }
    }
  }

  /** The generators make what they claim: nesting below protobuf's limit decodes, beyond it does not; a million floats arrive. */
  @Test
  void theGeneratorsBuildWhatTheyClaim() throws Exception {
    random = new Random(1);
    Rpc upsert = rpcs().stream().filter(r -> r.fullName().equals("qdrant.Points/Upsert")).findFirst().orElseThrow();
    List<FieldDescriptor> value = recursions(upsert.input()).get(0);
    assertEquals("qdrant.Value", value.get(value.indexOf(null) - 1).getMessageType().getFullName());
    List<FieldDescriptor> cycle = value.subList(value.indexOf(null) + 1, value.size());
    List<FieldDescriptor> prefix = value.subList(0, value.indexOf(null));
    for (int cycles : new int[] {1, 10, 30, 40, 1000}) {
      List<FieldDescriptor> path = new ArrayList<>(prefix);
      for (int i = 0; i < cycles; i++) {
        path.addAll(cycle);
      }
      assertEquals(path.size() < 100, upsert.decodes(nest(path, new byte[0])), path.size() + " levels");
    }
    List<FieldDescriptor> floats = pathToRepeated(upsert.input());
    assertEquals(FieldDescriptor.JavaType.FLOAT, floats.get(floats.size() - 1).getJavaType());
    byte[] large = large(upsert);
    var parsed = UpsertPoints.parseFrom(large);
    int longest = 0;
    for (var p : parsed.getPointsList()) {
      longest = Math.max(longest, p.getVectors().getVector().getDataCount());
    }
    assertEquals(1_000_000, longest);
  }

  // ---- the methods ----

  static List<Rpc> rpcs() {
    List<Rpc> out = new ArrayList<>();
    for (ServiceDescriptor service : SERVICES) {
      for (MethodDescriptor<?, ?> m : service.getMethods()) {
        Descriptor input = ((ProtoMethodDescriptorSupplier) m.getSchemaDescriptor()).getMethodDescriptor().getInputType();
        out.add(new Rpc(m.getFullMethodName(), input, m));
      }
    }
    return out;
  }

  // ---- what is sent ----

  private byte[] body(Rpc rpc, Kind kind) throws IOException {
    return switch (kind) {
      case EMPTY -> new byte[0];
      case VALID -> message(rpc.input(), 0).toByteArray();
      case RANDOM_BYTES -> randomBytes(pick(16, 64, 256, 2048, 65_536));
      case TRUNCATED -> {
        byte[] valid = nonEmpty(rpc);
        byte[] cut = new byte[random.nextInt(valid.length)];
        System.arraycopy(valid, 0, cut, 0, cut.length);
        yield cut;
      }
      case FLIPPED -> {
        byte[] b = nonEmpty(rpc).clone();
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
          b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
        }
        yield b;
      }
      case WRONG_WIRE_TYPE -> concat(valid(rpc), wrongWireType(rpc.input()));
      case HUGE_LENGTH -> concat(valid(rpc), hugeLength(rpc.input()));
      case OVERLONG_VARINT -> {
        var out = new ByteArrayOutputStream();
        out.writeBytes(tag(anyFieldNumber(rpc.input()), 0));
        for (int n = 0; n < 11; n++) {
          out.write(0xFF);
        }
        out.write(0x01);
        yield concat(valid(rpc), out.toByteArray());
      }
      case BAD_UTF8 -> concat(valid(rpc), badUtf8(rpc.input()));
      case LARGE_REPEATED -> large(rpc);
      case DEEP_NESTING -> deep(rpc);
      case UNKNOWN_FIELDS -> concat(valid(rpc), unknownFields());
      case SPLICED -> {
        byte[] valid = valid(rpc);
        byte[] insert = randomBytes(1 + random.nextInt(16));
        int at = valid.length == 0 ? 0 : random.nextInt(valid.length + 1);
        var out = new ByteArrayOutputStream();
        out.write(valid, 0, at);
        out.writeBytes(insert);
        out.write(valid, at, valid.length - at);
        yield out.toByteArray();
      }
    };
  }

  private byte[] valid(Rpc rpc) {
    return message(rpc.input(), 0).toByteArray();
  }

  /** A generated message with at least one byte (so that there is something to cut or flip). */
  private byte[] nonEmpty(Rpc rpc) {
    for (int n = 0; n < 10; n++) {
      byte[] b = valid(rpc);
      if (b.length > 0) {
        return b;
      }
    }
    return new byte[] {0x0a, 0x02, 'f', 'z'};
  }

  /** A message of type {@code d} with random fields set, names mostly those of the fixtures. */
  private DynamicMessage message(Descriptor d, int depth) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
    for (OneofDescriptor oneof : d.getRealOneofs()) {
      if (random.nextInt(4) > 0) {
        FieldDescriptor f = oneof.getField(random.nextInt(oneof.getFieldCount()));
        set(b, f, depth);
      }
    }
    for (FieldDescriptor f : d.getFields()) {
      if (f.getRealContainingOneof() != null) {
        continue;
      }
      boolean name = f.getName().equals("collection_name");
      if (name ? random.nextInt(10) > 0 : random.nextInt(3) == 0) {
        set(b, f, depth);
      }
    }
    return b.build();
  }

  private void set(DynamicMessage.Builder b, FieldDescriptor f, int depth) {
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && depth >= 5) {
      return;
    }
    if (f.isRepeated()) {
      for (int n = random.nextInt(4); n > 0; n--) {
        b.addRepeatedField(f, value(f, depth));
      }
    } else {
      b.setField(f, value(f, depth));
    }
  }

  private Object value(FieldDescriptor f, int depth) {
    return switch (f.getJavaType()) {
      case INT -> pick(0, 1, 2, 4, 7, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, random.nextInt());
      case LONG -> pick(0L, 1L, 3L, 12L, 100_001L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, random.nextLong());
      case FLOAT -> pick(0f, 1f, 0.5f, -2f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
          (float) random.nextGaussian());
      case DOUBLE -> pick(0d, 1d, 0.5, -2d, Double.NaN, Double.POSITIVE_INFINITY, Double.MAX_VALUE, -Double.MAX_VALUE,
          random.nextGaussian() * 1e6);
      case BOOLEAN -> random.nextBoolean();
      case STRING -> string(f);
      case BYTE_STRING -> ByteString.copyFrom(randomBytes(random.nextInt(32)));
      case ENUM -> enumValue(f.getEnumType());
      case MESSAGE -> message(f.getMessageType(), depth + 1);
    };
  }

  private Object enumValue(EnumDescriptor e) {
    if (random.nextInt(8) == 0) {
      // an open enum takes numbers it does not name
      return e.findValueByNumberCreatingIfUnknown(pick(-1, 99, 1 << 20, Integer.MAX_VALUE));
    }
    return e.getValues().get(random.nextInt(e.getValues().size()));
  }

  private String string(FieldDescriptor f) {
    String name = f.getName();
    if (random.nextInt(6) == 0) {
      return odd();
    }
    if (name.equals("collection_name")) {
      return pick("fz", "fz", "fz", "fz_sparse", "fz_alias", "fz_new", "nope");
    }
    if (name.contains("alias")) {
      return pick("fz_alias", "fz_alias2", "fz", "other_alias");
    }
    if (name.contains("snapshot")) {
      return pick("nope.snapshot", "fz-1-2025-01-01-00-00-00.snapshot", "../storage/peer_id", "..", "");
    }
    if (name.equals("uuid")) {
      return pick("5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "not-a-uuid", "00000000-0000-0000-0000-000000000000");
    }
    if (name.equals("key") || name.equals("field_name") || name.contains("payload") || name.equals("group_by")) {
      return pick("k", "n", "tags", "k[]", "nested.x", "missing");
    }
    if (name.contains("vector") || name.equals("using") || name.equals("name")) {
      return pick("d", "e", "s", "", "missing");
    }
    return pick("", "k", "v1", "d", "fz", "text", "qdrant/bm25");
  }

  private String odd() {
    return pick("", ".", "..", "a/b", "../../etc", "x".repeat(300), "\u0000", "é漢字\uD83D\uDE00", "%2e%2e", " ", "\\", "*");
  }

  // ---- mutations of the wire format ----

  private byte[] wrongWireType(Descriptor d) {
    FieldDescriptor f = anyField(d);
    int number = f == null ? 1 : f.getNumber();
    int expected = f == null ? 2 : wireType(f);
    var out = new ByteArrayOutputStream();
    int wire;
    do {
      wire = random.nextInt(8);
    } while (wire == expected);
    out.writeBytes(tag(number, wire));
    switch (wire) {
      case 0 -> out.writeBytes(varint(random.nextLong()));
      case 1 -> out.writeBytes(randomBytes(8));
      case 2 -> {
        byte[] payload = randomBytes(random.nextInt(12));
        out.writeBytes(varint(payload.length));
        out.writeBytes(payload);
      }
      case 5 -> out.writeBytes(randomBytes(4));
      default -> out.writeBytes(randomBytes(random.nextInt(4))); // groups (3, 4) and the invalid 6, 7
    }
    return out.toByteArray();
  }

  private byte[] hugeLength(Descriptor d) {
    var out = new ByteArrayOutputStream();
    FieldDescriptor f = anyField(d);
    out.writeBytes(tag(f == null ? 1 : f.getNumber(), 2));
    long length = pick((long) Integer.MAX_VALUE, 0xFFFF_FFFFL, 0x1_0000_0005L, Long.MAX_VALUE, -1L, 64L * 1024 * 1024, 1_000_000L);
    out.writeBytes(varint(length));
    out.writeBytes(randomBytes(random.nextInt(32)));
    return out.toByteArray();
  }

  private byte[] badUtf8(Descriptor d) {
    List<FieldDescriptor> strings = new ArrayList<>();
    for (FieldDescriptor f : d.getFields()) {
      if (f.getType() == FieldDescriptor.Type.STRING) {
        strings.add(f);
      }
    }
    int number = strings.isEmpty() ? anyFieldNumber(d) : strings.get(random.nextInt(strings.size())).getNumber();
    byte[] bad = pick(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF}, new byte[] {'f', 'z', (byte) 0xED, (byte) 0xA0, (byte) 0x80},
        new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
    return concat(tag(number, 2), varint(bad.length), bad);
  }

  private byte[] unknownFields() {
    var out = new ByteArrayOutputStream();
    for (int n = 1 + random.nextInt(3); n > 0; n--) {
      int number = pick(999, 4096, 536_870_911, 19_000 + random.nextInt(1000));
      int wire = pick(0, 1, 2, 5);
      out.writeBytes(tag(number, wire));
      switch (wire) {
        case 0 -> out.writeBytes(varint(random.nextInt(1000)));
        case 1 -> out.writeBytes(randomBytes(8));
        case 2 -> {
          byte[] payload = randomBytes(random.nextInt(40));
          out.writeBytes(varint(payload.length));
          out.writeBytes(payload);
        }
        default -> out.writeBytes(randomBytes(4));
      }
    }
    return out.toByteArray();
  }

  // ---- large and deep messages ----

  /**
   * The method's message with a million-element repeated field appended along the shortest path to
   * one (a float list when there is one: 4 MB packed, 5 MB unpacked, within the 32 MiB bound), or a
   * hundred thousand elements of a repeated message or string.
   */
  private byte[] large(Rpc rpc) {
    List<FieldDescriptor> path = pathToRepeated(rpc.input());
    if (path == null) {
      return valid(rpc);
    }
    FieldDescriptor target = path.get(path.size() - 1);
    var content = new ByteArrayOutputStream();
    switch (target.getJavaType()) {
      case FLOAT -> {
        int n = 1_000_000;
        if (random.nextBoolean()) {
          byte[] packed = new byte[4 * n];
          for (int i = 0; i < packed.length; i += 4) {
            int bits = Float.floatToIntBits((float) random.nextGaussian());
            packed[i] = (byte) bits;
            packed[i + 1] = (byte) (bits >>> 8);
            packed[i + 2] = (byte) (bits >>> 16);
            packed[i + 3] = (byte) (bits >>> 24);
          }
          content.writeBytes(tag(target.getNumber(), 2));
          content.writeBytes(varint(packed.length));
          content.writeBytes(packed);
        } else {
          byte[] one = tag(target.getNumber(), 5);
          for (int i = 0; i < n; i++) {
            content.writeBytes(one);
            int bits = Float.floatToIntBits(i % 7);
            content.write(bits);
            content.write(bits >>> 8);
            content.write(bits >>> 16);
            content.write(bits >>> 24);
          }
        }
      }
      case MESSAGE, STRING, BYTE_STRING -> {
        byte[] element = target.getJavaType() == FieldDescriptor.JavaType.MESSAGE
            ? message(target.getMessageType(), 4).toByteArray() : "k".getBytes(StandardCharsets.UTF_8);
        byte[] one = concat(tag(target.getNumber(), 2), varint(element.length), element);
        int n = Math.max(1, Math.min(100_000, 20_000_000 / one.length));
        for (int i = 0; i < n; i++) {
          content.writeBytes(one);
        }
      }
      default -> {
        // integers and the like: a million of them, varint-encoded
        content.writeBytes(tag(target.getNumber(), 2));
        var packed = new ByteArrayOutputStream();
        for (int i = 0; i < 1_000_000; i++) {
          packed.writeBytes(varint(i % 100));
        }
        content.writeBytes(varint(packed.size()));
        content.writeBytes(packed.toByteArray());
      }
    }
    return concat(valid(rpc), nest(path.subList(0, path.size() - 1), content.toByteArray()));
  }

  /**
   * The method's message with a recursive message (a {@code Value} struct when the request has one,
   * else a filter or any other) nested around protobuf's limit of 100 levels, below it or far beyond.
   */
  private byte[] deep(Rpc rpc) {
    List<List<FieldDescriptor>> recursions = recursions(rpc.input());
    if (recursions.isEmpty()) {
      return valid(rpc);
    }
    List<FieldDescriptor> chosen = recursions.get(0);
    if (random.nextInt(3) == 0) {
      chosen = recursions.get(random.nextInt(recursions.size()));
    }
    int split = chosen.indexOf(null);
    List<FieldDescriptor> prefix = chosen.subList(0, split);
    List<FieldDescriptor> cycle = chosen.subList(split + 1, chosen.size());
    int levels = pick(20, 60, 97, 98, 99, 100, 101, 120, 5_000, 100_000);
    int cycles = Math.max(1, levels / cycle.size());
    List<FieldDescriptor> path = new ArrayList<>(prefix);
    for (int i = 0; i < cycles; i++) {
      path.addAll(cycle);
    }
    return concat(valid(rpc), nest(path, new byte[0]));
  }

  /**
   * {@code content} inside messages along {@code path}, each step a length-delimited field. Lengths
   * are computed from the inside out first, so that a path of a million steps costs linear time.
   */
  static byte[] nest(List<FieldDescriptor> path, byte[] content) {
    int n = path.size();
    long[] inner = new long[n + 1];
    inner[n] = content.length;
    for (int i = n - 1; i >= 0; i--) {
      inner[i] = tag(path.get(i).getNumber(), 2).length + CodedOutputStream.computeUInt64SizeNoTag(inner[i + 1]) + inner[i + 1];
    }
    var out = new ByteArrayOutputStream((int) inner[0]);
    for (int i = 0; i < n; i++) {
      out.writeBytes(tag(path.get(i).getNumber(), 2));
      out.writeBytes(varint(inner[i + 1]));
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static final Map<Descriptor, List<FieldDescriptor>> REPEATED = new HashMap<>();
  private static final Map<Descriptor, List<List<FieldDescriptor>>> RECURSIONS = new HashMap<>();

  /** The shortest path of message fields to a repeated float field, or else to any repeated field; null when none. */
  static synchronized List<FieldDescriptor> pathToRepeated(Descriptor root) {
    return REPEATED.computeIfAbsent(root, r -> {
      List<FieldDescriptor> floats = shortest(r, f -> f.isRepeated() && f.getJavaType() == FieldDescriptor.JavaType.FLOAT);
      return floats != null ? floats : shortest(r, f -> f.isRepeated() && !f.isMapField());
    });
  }

  /**
   * Each recursive message type reachable from {@code root}, {@code Value} first: the path to it, a
   * null separator, and the shortest cycle of fields from it back to itself.
   */
  static synchronized List<List<FieldDescriptor>> recursions(Descriptor root) {
    return RECURSIONS.computeIfAbsent(root, r -> {
      List<List<FieldDescriptor>> out = new ArrayList<>();
      for (Map.Entry<Descriptor, List<FieldDescriptor>> reach : reachable(r).entrySet()) {
        Descriptor type = reach.getKey();
        List<FieldDescriptor> cycle = shortest(type, f -> f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && f.getMessageType() == type);
        if (cycle == null) {
          continue;
        }
        List<FieldDescriptor> entry = new ArrayList<>(reach.getValue());
        entry.add(null);
        entry.addAll(cycle);
        if (type.getFullName().equals("qdrant.Value")) {
          out.add(0, entry);
        } else {
          out.add(entry);
        }
      }
      return out;
    });
  }

  /** Every message type reachable from {@code root} with the shortest path of fields to it (the root: empty). */
  static Map<Descriptor, List<FieldDescriptor>> reachable(Descriptor root) {
    Map<Descriptor, List<FieldDescriptor>> paths = new LinkedHashMap<>();
    paths.put(root, List.of());
    ArrayDeque<Descriptor> queue = new ArrayDeque<>(List.of(root));
    while (!queue.isEmpty()) {
      Descriptor d = queue.poll();
      for (FieldDescriptor f : d.getFields()) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !paths.containsKey(f.getMessageType())) {
          List<FieldDescriptor> p = new ArrayList<>(paths.get(d));
          p.add(f);
          paths.put(f.getMessageType(), p);
          queue.add(f.getMessageType());
        }
      }
    }
    return paths;
  }

  /** The shortest path of fields from {@code root} ending with a field that {@code target} accepts; null when none. */
  static List<FieldDescriptor> shortest(Descriptor root, Predicate<FieldDescriptor> target) {
    Map<Descriptor, List<FieldDescriptor>> paths = new HashMap<>();
    paths.put(root, List.of());
    ArrayDeque<Descriptor> queue = new ArrayDeque<>(List.of(root));
    while (!queue.isEmpty()) {
      Descriptor d = queue.poll();
      for (FieldDescriptor f : d.getFields()) {
        if (target.test(f)) {
          List<FieldDescriptor> p = new ArrayList<>(paths.get(d));
          p.add(f);
          return p;
        }
      }
      for (FieldDescriptor f : d.getFields()) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !paths.containsKey(f.getMessageType())) {
          List<FieldDescriptor> p = new ArrayList<>(paths.get(d));
          p.add(f);
          paths.put(f.getMessageType(), p);
          queue.add(f.getMessageType());
        }
      }
    }
    return null;
  }

  // ---- encoding helpers ----

  static byte[] tag(int fieldNumber, int wireType) {
    return varint(((long) fieldNumber << 3) | wireType);
  }

  static byte[] varint(long value) {
    var out = new ByteArrayOutputStream(10);
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteArray();
  }

  static int wireType(FieldDescriptor f) {
    if (f.isPackable() && f.isPacked()) {
      return 2;
    }
    return switch (f.getType()) {
      case DOUBLE, FIXED64, SFIXED64 -> 1;
      case FLOAT, FIXED32, SFIXED32 -> 5;
      case STRING, BYTES, MESSAGE -> 2;
      case GROUP -> 3;
      default -> 0;
    };
  }

  private FieldDescriptor anyField(Descriptor d) {
    return d.getFields().isEmpty() ? null : d.getFields().get(random.nextInt(d.getFields().size()));
  }

  private int anyFieldNumber(Descriptor d) {
    FieldDescriptor f = anyField(d);
    return f == null ? 1 : f.getNumber();
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  static byte[] concat(byte[]... parts) {
    var out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @SafeVarargs
  private <T> T pick(T... options) {
    return options[random.nextInt(options.length)];
  }

  // ---- fixtures, health and the fingerprint of everything stored ----

  private static void fixtures(TestNode node) throws Exception {
    createFz(node);
    createFzSparse(node);
    createAlias(node);
  }

  private static void createFz(TestNode node) throws Exception {
    ok(node.send("PUT", "/collections/fz", "{\"vectors\": {\"d\": {\"size\": 4, \"distance\": \"Cosine\"},"
        + " \"e\": {\"size\": 2, \"distance\": \"Euclid\"}}, \"sparse_vectors\": {\"s\": {}}}"));
    ok(node.send("PUT", "/collections/fz/index?wait=true", "{\"field_name\": \"k\", \"field_schema\": \"keyword\"}"));
    ok(node.send("PUT", "/collections/fz/index?wait=true", "{\"field_name\": \"n\", \"field_schema\": \"integer\"}"));
    StringBuilder points = new StringBuilder("{\"points\": [");
    for (int i = 1; i <= 12; i++) {
      points.append(i == 1 ? "" : ",").append("{\"id\": ").append(i).append(", \"vector\": {\"d\": [").append(i).append(", 1, 0, ")
          .append(i % 3).append("], \"e\": [").append(i).append(", 2], \"s\": {\"indices\": [").append(i).append("], \"values\": [0.5]}},")
          .append(" \"payload\": {\"k\": \"v").append(i % 4).append("\", \"n\": ").append(i).append(", \"tags\": [\"a\", \"b\"]}}");
    }
    points.append(", {\"id\": \"5c56c793-69f3-4fbf-87e6-c4bf54c28c26\", \"vector\": {\"d\": [0, 0, 1, 0]}, \"payload\": {\"k\": \"u\"}}]}");
    ok(node.send("PUT", "/collections/fz/points?wait=true", points.toString()));
  }

  private static void createFzSparse(TestNode node) throws Exception {
    ok(node.send("PUT", "/collections/fz_sparse", "{\"sparse_vectors\": {\"t\": {\"modifier\": \"idf\"}}}"));
  }

  private static void createAlias(TestNode node) throws Exception {
    ok(node.send("POST", "/collections/aliases", "{\"actions\": [{\"create_alias\": {\"collection_name\": \"fz\", \"alias_name\": \"fz_alias\"}}]}"));
  }

  /**
   * After an accepted call changed something: the lock lifted, every snapshot and every other
   * collection deleted, and the fixtures that differ from {@code initial} (its {@link Depth#DATA}
   * fingerprint) made again, so that a restore costs what the change broke.
   */
  private static void restore(TestNode node, ManagedChannel channel, Map<Depth, String> initial) throws Exception {
    if (node.get("/locks").result().path("write").asBoolean()) {
      ok(node.send("POST", "/locks", "{\"write\": false}"));
    }
    for (JsonNode s : node.get("/snapshots").result()) {
      node.send("DELETE", "/snapshots/" + segment(s.get("name").asText()), null);
    }
    for (JsonNode c : node.get("/collections").result().path("collections")) {
      String name = c.get("name").asText();
      TestNode.Response snapshots = node.get("/collections/" + segment(name) + "/snapshots");
      if (snapshots.status() == 200) {
        for (JsonNode s : snapshots.result()) {
          node.send("DELETE", "/collections/" + segment(name) + "/snapshots/" + segment(s.get("name").asText()), null);
        }
      }
      if (!name.equals("fz") && !name.equals("fz_sparse")) {
        node.send("DELETE", "/collections/" + segment(name), null);
      }
    }
    String now = fingerprint(node, channel, Depth.DATA);
    String wanted = initial.get(Depth.DATA);
    if (!line(now, "fz ").equals(line(wanted, "fz "))) {
      node.send("DELETE", "/collections/fz", null);
      createFz(node);
    }
    if (!line(now, "fz_sparse ").equals(line(wanted, "fz_sparse "))) {
      node.send("DELETE", "/collections/fz_sparse", null);
      createFzSparse(node);
    }
    if (!line(fingerprint(node, channel, Depth.DATA), "aliases ").equals(line(wanted, "aliases "))) {
      for (JsonNode a : node.get("/aliases").result().path("aliases")) {
        node.send("POST", "/collections/aliases", "{\"actions\": [{\"delete_alias\": {\"alias_name\": " + a.get("alias_name") + "}}]}");
      }
      createAlias(node);
    }
  }

  private static String line(String fingerprint, String prefix) {
    return fingerprint.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("");
  }

  private static Map<Depth, String> fingerprints(TestNode node, ManagedChannel channel) throws Exception {
    Map<Depth, String> out = new EnumMap<>(Depth.class);
    for (Depth d : Depth.values()) {
      out.put(d, fingerprint(node, channel, d));
    }
    return out;
  }

  /**
   * What is stored, as text: the collections (listed over gRPC) and the count of {@code fz}; from
   * {@link Depth#DATA} aliases and per collection its config, payload schema and every point with
   * payload and vectors; at {@link Depth#ALL} the lock and the snapshots too.
   */
  private static String fingerprint(TestNode node, ManagedChannel channel, Depth depth) throws Exception {
    StringBuilder out = new StringBuilder();
    Set<String> names = new TreeSet<>();
    CollectionsGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_BOUND_MS, TimeUnit.MILLISECONDS)
        .list(ListCollectionsRequest.getDefaultInstance()).getCollectionsList().forEach(c -> names.add(c.getName()));
    out.append("collections ").append(names).append('\n');
    if (depth == Depth.COUNT) {
      TestNode.Response count = node.send("POST", "/collections/fz/points/count", "{\"exact\": true}");
      return out.append("fz count ").append(count.status() == 200 ? count.result() : count.body()).toString();
    }
    out.append("aliases ").append(node.get("/aliases").result()).append('\n');
    if (depth == Depth.ALL) {
      out.append("locks ").append(node.get("/locks").result()).append('\n');
      out.append("full snapshots ").append(snapshotNames(node.get("/snapshots"))).append('\n');
    }
    for (String name : names) {
      String c = "/collections/" + segment(name);
      TestNode.Response info = node.get(c);
      out.append(name).append(' ').append(info.status() == 200
          ? info.result().path("config").toString() + info.result().path("payload_schema") + info.result().path("points_count") : info.body());
      TestNode.Response scroll = node.send("POST", c + "/points/scroll", "{\"limit\": 1000, \"with_payload\": true, \"with_vector\": true}");
      out.append(" points ").append(scroll.status() == 200 ? scroll.result().path("points") : scroll.body());
      if (depth == Depth.ALL) {
        out.append(" snapshots ").append(snapshotNames(node.get(c + "/snapshots")));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String snapshotNames(TestNode.Response r) {
    if (r.status() != 200) {
      return r.body();
    }
    List<String> names = new ArrayList<>();
    r.result().forEach(s -> names.add(s.path("name").asText()));
    return names.toString();
  }

  private static void healthy(ManagedChannel channel, String after) {
    try {
      assertEquals("1.15.5", QdrantGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_BOUND_MS, TimeUnit.MILLISECONDS)
          .healthCheck(HealthCheckRequest.getDefaultInstance()).getVersion());
    } catch (RuntimeException e) {
      throw new AssertionError("health check failed after " + after, e);
    }
  }

  /** INTERNAL is a defect unless it says what went wrong: not blank, not grpc-java's default, not a bare class name. */
  static boolean improper(String description) {
    return description == null || description.isBlank() || description.equals(KNOWN_UNDECODABLE)
        || Pattern.matches("Service internal error: [\\w.$]+", description) || description.contains("java.lang.");
  }

  private static void ok(TestNode.Response r) {
    assertEquals(200, r.status(), r.body());
  }

  private static String segment(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String preview(byte[] body) {
    return HexFormat.of().formatHex(body, 0, Math.min(body.length, 48)) + (body.length > 48 ? "…" : "");
  }

  private static String abbreviate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max) + "…";
  }

  private static String difference(String before, String after) {
    List<String> a = before.lines().toList();
    List<String> b = after.lines().toList();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
      String x = i < a.size() ? a.get(i) : "";
      String y = i < b.size() ? b.get(i) : "";
      if (!x.equals(y)) {
        out.append("- ").append(abbreviate(x, 600)).append("\n+ ").append(abbreviate(y, 600)).append('\n');
      }
    }
    return out.toString();
  }
}
