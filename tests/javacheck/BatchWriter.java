// Byte-exact cross-check of chronik.protocol.records against Apache Kafka's own record code.
//
//   java -cp 'tests/javacheck/lib/4.4.0/*' tests/javacheck/BatchWriter.java write-v2
//   java -cp 'tests/javacheck/lib/3.9.2/*' tests/javacheck/BatchWriter.java write-legacy
//   java -cp 'tests/javacheck/lib/<v>/*'   tests/javacheck/BatchWriter.java read  < hex lines
//
// write-v2 / write-legacy: builds batches with MemoryRecords.builder(...) (every CompressionType, keys,
// null keys/values, headers, explicit timestamps, producer id/epoch/sequence, transactional,
// LogAppendTime) and MemoryRecords.withEndTransactionMarker, and prints one JSON document: for each
// case the parameters, the records appended, the bytes (hex) and Kafka's own reading of them.
// Kafka 4.x can no longer write magic v0/v1, so write-legacy needs the 3.9.x jars.
// read: reads one hex-encoded buffer per stdin line, and prints Kafka's reading of each (ensureValid
// on every batch, then every record), or the exception Kafka throws.
//
// Kafka 4.x moved the record classes to org.apache.kafka.common.record.internal; this file reaches
// them by reflection so that one source runs against both jar sets. Output is JSON on stdout only.

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public class BatchWriter {
    static String pkg;
    static Class<?> memoryRecords, recordBatchIface, recordIface, endTxnMarker, controlRecordType, builderClass;

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("org.apache.kafka.common.record.internal.MemoryRecords");
            pkg = "org.apache.kafka.common.record.internal";
        } catch (ClassNotFoundException e) {
            pkg = "org.apache.kafka.common.record";
        }
        memoryRecords = Class.forName(pkg + ".MemoryRecords");
        recordBatchIface = Class.forName(pkg + ".RecordBatch");
        recordIface = Class.forName(pkg + ".Record");
        endTxnMarker = Class.forName(pkg + ".EndTransactionMarker");
        controlRecordType = Class.forName(pkg + ".ControlRecordType");
        builderClass = Class.forName(pkg + ".MemoryRecordsBuilder");

        String mode = args.length > 0 ? args[0] : "write-v2";
        StringBuilder out = new StringBuilder();
        switch (mode) {
            case "write-v2" -> writeV2(out);
            case "write-legacy" -> writeLegacy(out);
            case "read" -> read(out);
            default -> throw new IllegalArgumentException("mode: write-v2 | write-legacy | read");
        }
        System.out.print(out);
        System.out.flush();
    }

    // ------------------------------------------------------------------------------------ cases

    record Rec(long offset, long timestamp, byte[] key, byte[] value, Header[] headers) {}

    static byte[] b(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] big(int n, int seed) {
        // compressible but not trivial: words from a small vocabulary, deterministic
        String[] words = {"kafka", "chronik", "record", "batch", "offset", "epoch", "zstd", "lz4", "snappy", "gzip"};
        StringBuilder sb = new StringBuilder();
        long x = seed * 2654435761L + 1;
        while (sb.length() < n) {
            x = (x * 6364136223846793005L + 1442695040888963407L);
            sb.append(words[(int) ((x >>> 33) % words.length)]).append(' ');
            if (((x >>> 20) & 7) == 0) sb.append((x >>> 40) & 0xffff);
        }
        return sb.substring(0, n).getBytes(StandardCharsets.UTF_8);
    }

    static List<Rec> basicRecords(long base, boolean headers) {
        Header[] none = new Header[0];
        Header[] hs = headers ? new Header[]{new RecordHeader("h1", b("x")), new RecordHeader("h-null", null),
                new RecordHeader("ünï", new byte[]{0, 1, 2, (byte) 0xff})} : none;
        Header[] hs2 = headers ? new Header[]{new RecordHeader("", new byte[0])} : none;
        List<Rec> recs = new ArrayList<>();
        recs.add(new Rec(base, 1700000000000L, b("key-1"), b("value-1"), hs));
        recs.add(new Rec(base + 1, 1700000000005L, null, b("value with a null key"), none));
        recs.add(new Rec(base + 2, 1699999999990L, b("key-3"), null, hs2));
        recs.add(new Rec(base + 3, 1700000000100L, new byte[0], new byte[0], none));
        recs.add(new Rec(base + 4, 1700000000050L, b("k5"), big(300, 5), none));
        return recs;
    }

    static Compression compression(String name) {
        return switch (name) {
            case "NONE" -> Compression.NONE;
            case "GZIP" -> Compression.gzip().build();
            case "SNAPPY" -> Compression.snappy().build();
            case "LZ4" -> Compression.lz4().build();
            case "ZSTD" -> Compression.zstd().build();
            default -> throw new IllegalArgumentException(name);
        };
    }

    static void writeV2(StringBuilder out) throws Exception {
        List<String> cases = new ArrayList<>();
        for (String codec : new String[]{"NONE", "GZIP", "SNAPPY", "LZ4", "ZSTD"}) {
            cases.add(build("basic", (byte) 2, codec, TimestampType.CREATE_TIME, 0L, -1L, -1L, (short) -1, -1,
                    false, -1, basicRecords(0, true)));
            cases.add(build("idempotent-gaps", (byte) 2, codec, TimestampType.CREATE_TIME, 1000L, -1L, 12345L,
                    (short) 3, 42, false, 7, List.of(
                            new Rec(1000, 1700000000000L, b("a"), b("1"), new Header[0]),
                            new Rec(1001, 1700000000001L, b("b"), b("2"), new Header[0]),
                            new Rec(1005, 1700000000002L, b("c"), b("3"), new Header[0]))));
            cases.add(build("transactional", (byte) 2, codec, TimestampType.CREATE_TIME, 77L, -1L, 999L,
                    (short) 0, 0, true, 2, basicRecords(77, true)));
            cases.add(build("log-append-time", (byte) 2, codec, TimestampType.LOG_APPEND_TIME, 5L,
                    1700000012345L, -1L, (short) -1, -1, false, 0, basicRecords(5, false)));
            cases.add(build("no-timestamps", (byte) 2, codec, TimestampType.CREATE_TIME, 0L, -1L, -1L,
                    (short) -1, -1, false, -1, List.of(
                            new Rec(0, -1L, b("k"), b("v"), new Header[0]),
                            new Rec(1, -1L, null, b("v2"), new Header[0]))));
            cases.add(build("sequence-wrap", (byte) 2, codec, TimestampType.CREATE_TIME, 10L, -1L, 5L,
                    (short) 1, Integer.MAX_VALUE - 1, false, 0, List.of(
                            new Rec(10, 1L, null, b("x"), new Header[0]),
                            new Rec(11, 2L, null, b("y"), new Header[0]),
                            new Rec(12, 3L, null, b("z"), new Header[0]))));
            cases.add(build("large", (byte) 2, codec, TimestampType.CREATE_TIME, 0L, -1L, -1L, (short) -1, -1,
                    false, -1, List.of(
                            new Rec(0, 1L, b("big-1"), big(70000, 1), new Header[0]),
                            new Rec(1, 2L, b("big-2"), big(40000, 2), new Header[0]),
                            new Rec(2, 3L, b("big-3"), big(200, 3), new Header[0]))));
        }
        for (String type : new String[]{"COMMIT", "ABORT"}) {
            cases.add(control("control-" + type.toLowerCase(), type, 500L, 1700000000000L, 4, 777L, (short) 5, 9));
        }
        cases.add(control("control-commit-no-epoch", "COMMIT", 0L, -1L, -1, 1L, (short) 0, 0));
        out.append("{\"kafka_package\": ").append(q(pkg)).append(", \"cases\": [\n");
        out.append(String.join(",\n", cases)).append("\n]}\n");
    }

    static void writeLegacy(StringBuilder out) throws Exception {
        List<String> cases = new ArrayList<>();
        for (byte magic : new byte[]{0, 1}) {
            for (String codec : new String[]{"NONE", "GZIP", "SNAPPY", "LZ4"}) {
                cases.add(build("legacy-basic", magic, codec, TimestampType.CREATE_TIME, 200L, -1L, -1L,
                        (short) -1, -1, false, -1, basicRecords(200, false)));
                cases.add(build("legacy-gaps", magic, codec, TimestampType.CREATE_TIME, 300L, -1L, -1L,
                        (short) -1, -1, false, -1, List.of(
                                new Rec(300, 1000L, b("a"), b("1"), new Header[0]),
                                new Rec(302, 1002L, null, b("2"), new Header[0]),
                                new Rec(307, 1001L, b("c"), null, new Header[0]))));
                cases.add(build("legacy-large", magic, codec, TimestampType.CREATE_TIME, 0L, -1L, -1L,
                        (short) -1, -1, false, -1, List.of(
                                new Rec(0, 1L, b("big-1"), big(70000, 1), new Header[0]),
                                new Rec(1, 2L, b("big-2"), big(300, 2), new Header[0]))));
                if (magic == 1) {
                    cases.add(build("legacy-log-append-time", magic, codec, TimestampType.LOG_APPEND_TIME, 40L,
                            1700000054321L, -1L, (short) -1, -1, false, -1, basicRecords(40, false)));
                }
            }
        }
        out.append("{\"kafka_package\": ").append(q(pkg)).append(", \"cases\": [\n");
        out.append(String.join(",\n", cases)).append("\n]}\n");
    }

    // ---------------------------------------------------------------------------------- building

    static Object invoke(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) throw ex;
            throw new RuntimeException(c);
        }
    }

    static String build(String name, byte magic, String codec, TimestampType tsType, long baseOffset,
                        long logAppendTime, long producerId, short producerEpoch, int baseSequence,
                        boolean transactional, int leaderEpoch, List<Rec> recs) throws Exception {
        Method builder = memoryRecords.getMethod("builder", ByteBuffer.class, byte.class, Compression.class,
                TimestampType.class, long.class, long.class, long.class, short.class, int.class, boolean.class,
                int.class);
        Object bld = invoke(builder, null, ByteBuffer.allocate(1024), magic, compression(codec), tsType, baseOffset,
                logAppendTime, producerId, producerEpoch, baseSequence, transactional, leaderEpoch);
        Method append = builderClass.getMethod("appendWithOffset", long.class, long.class, byte[].class,
                byte[].class, Header[].class);
        for (Rec r : recs) invoke(append, bld, r.offset, r.timestamp, r.key, r.value, r.headers);
        Object records = invoke(builderClass.getMethod("build"), bld);
        ByteBuffer buf = (ByteBuffer) invoke(memoryRecords.getMethod("buffer"), records);
        StringBuilder sb = new StringBuilder();
        sb.append("{\"name\": ").append(q(name)).append(", \"magic\": ").append(magic)
                .append(", \"codec\": ").append(q(codec)).append(", \"timestamp_type\": ").append(q(tsType.name()))
                .append(", \"base_offset\": ").append(baseOffset).append(", \"log_append_time\": ").append(logAppendTime)
                .append(", \"producer_id\": ").append(producerId).append(", \"producer_epoch\": ").append(producerEpoch)
                .append(", \"base_sequence\": ").append(baseSequence).append(", \"transactional\": ").append(transactional)
                .append(", \"control\": false, \"partition_leader_epoch\": ").append(leaderEpoch)
                .append(", \"records\": [");
        for (int i = 0; i < recs.size(); i++) {
            Rec r = recs.get(i);
            if (i > 0) sb.append(", ");
            sb.append("{\"offset\": ").append(r.offset).append(", \"timestamp\": ").append(r.timestamp)
                    .append(", \"key\": ").append(hexOrNull(r.key)).append(", \"value\": ").append(hexOrNull(r.value))
                    .append(", \"headers\": ").append(headersJson(r.headers)).append("}");
        }
        sb.append("], \"hex\": ").append(q(hex(buf))).append(", \"kafka\": ").append(describe(buf)).append("}");
        return sb.toString();
    }

    static String control(String name, String type, long offset, long timestamp, int leaderEpoch, long producerId,
                          short producerEpoch, int coordinatorEpoch) throws Exception {
        @SuppressWarnings({"unchecked", "rawtypes"})
        Object ct = Enum.valueOf((Class<Enum>) controlRecordType, type);
        Object marker = endTxnMarker.getConstructor(controlRecordType, int.class).newInstance(ct, coordinatorEpoch);
        Method m = memoryRecords.getMethod("withEndTransactionMarker", long.class, long.class, int.class, long.class,
                short.class, endTxnMarker);
        Object records = invoke(m, null, offset, timestamp, leaderEpoch, producerId, producerEpoch, marker);
        ByteBuffer buf = (ByteBuffer) invoke(memoryRecords.getMethod("buffer"), records);
        return "{\"name\": " + q(name) + ", \"magic\": 2, \"codec\": \"NONE\", \"control_type\": " + q(type)
                + ", \"base_offset\": " + offset + ", \"timestamp\": " + timestamp + ", \"partition_leader_epoch\": "
                + leaderEpoch + ", \"producer_id\": " + producerId + ", \"producer_epoch\": " + producerEpoch
                + ", \"coordinator_epoch\": " + coordinatorEpoch + ", \"control\": true, \"hex\": " + q(hex(buf))
                + ", \"kafka\": " + describe(buf) + "}";
    }

    // ----------------------------------------------------------------------------------- reading

    static void read(StringBuilder out) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        List<String> results = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.isEmpty()) continue;
            results.add(describe(ByteBuffer.wrap(unhex(line))));
        }
        out.append("[\n").append(String.join(",\n", results)).append("\n]\n");
    }

    /** Kafka's reading of a buffer of batches: every batch validated, every record decoded. */
    static String describe(ByteBuffer buffer) throws Exception {
        try {
            return describeOrThrow(buffer.duplicate());
        } catch (Exception e) {
            return "{\"error\": " + q(e.getClass().getSimpleName() + ": " + e.getMessage()) + "}";
        }
    }

    static String describeOrThrow(ByteBuffer buffer) throws Exception {
        Object records = invoke(memoryRecords.getMethod("readableRecords", ByteBuffer.class), null, buffer);
        Iterable<?> batches = (Iterable<?>) invoke(memoryRecords.getMethod("batches"), records);
        Method[] bm = new Method[20];
        String[] names = {"ensureValid", "baseOffset", "lastOffset", "magic", "checksum", "compressionType",
                "timestampType", "isTransactional", "isControlBatch", "producerId", "producerEpoch", "baseSequence",
                "lastSequence", "partitionLeaderEpoch", "maxTimestamp", "sizeInBytes", "countOrNull"};
        for (int i = 0; i < names.length; i++) bm[i] = recordBatchIface.getMethod(names[i]);
        Method rOffset = recordIface.getMethod("offset"), rTs = recordIface.getMethod("timestamp"),
                rSeq = recordIface.getMethod("sequence"), rKey = recordIface.getMethod("key"),
                rValue = recordIface.getMethod("value"), rHeaders = recordIface.getMethod("headers");
        StringBuilder sb = new StringBuilder("{\"batches\": [");
        boolean first = true;
        for (Object batch : batches) {
            if (!first) sb.append(", ");
            first = false;
            invoke(bm[0], batch);
            sb.append("{");
            for (int i = 1; i < names.length; i++) {
                Object v = invoke(bm[i], batch);
                sb.append(i > 1 ? ", " : "").append(q(names[i])).append(": ");
                if (v == null) sb.append("null");
                else if (v instanceof Number || v instanceof Boolean) sb.append(v);
                else if (v instanceof Enum<?> en) sb.append(q(en.name()));
                else sb.append(q(v.toString()));
            }
            sb.append(", \"records\": [");
            boolean firstRec = true;
            for (Object r : (Iterable<?>) batch) {
                if (!firstRec) sb.append(", ");
                firstRec = false;
                sb.append("{\"offset\": ").append(invoke(rOffset, r)).append(", \"timestamp\": ").append(invoke(rTs, r))
                        .append(", \"sequence\": ").append(invoke(rSeq, r))
                        .append(", \"key\": ").append(hexOrNull((ByteBuffer) invoke(rKey, r)))
                        .append(", \"value\": ").append(hexOrNull((ByteBuffer) invoke(rValue, r)))
                        .append(", \"headers\": ").append(headersJson((Header[]) invoke(rHeaders, r))).append("}");
            }
            sb.append("]}");
        }
        return sb.append("]}").toString();
    }

    // ------------------------------------------------------------------------------------- JSON

    static String headersJson(Header[] headers) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < headers.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append("[").append(q(headers[i].key())).append(", ").append(hexOrNull(headers[i].value())).append("]");
        }
        return sb.append("]").toString();
    }

    static String hexOrNull(byte[] bytes) {
        return bytes == null ? "null" : q(hex(ByteBuffer.wrap(bytes)));
    }

    static String hexOrNull(ByteBuffer bb) {
        return bb == null ? "null" : q(hex(bb));
    }

    static String hex(ByteBuffer bb) {
        ByteBuffer d = bb.duplicate();
        StringBuilder sb = new StringBuilder(d.remaining() * 2);
        while (d.hasRemaining()) {
            int v = d.get() & 0xff;
            sb.append(HEX[v >>> 4]).append(HEX[v & 15]);
        }
        return sb.toString();
    }

    static final char[] HEX = "0123456789abcdef".toCharArray();

    static byte[] unhex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return out;
    }

    static String q(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }

}
