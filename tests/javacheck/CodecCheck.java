/*
 * CodecCheck: byte-exact cross-check of Chronik's generated Python codecs against Kafka's own
 * generated Java message classes (org.apache.kafka.common.message.*) in kafka-clients.
 *
 * Java 17, one file, no build tool. Must compile and run against every pinned kafka-clients jar
 * (4.4.0 and 3.9.2): it only uses APIs present in both (Message, Readable, ByteBufferAccessor,
 * ObjectSerializationCache) and reaches the per-message classes by reflection.
 *
 *   javac -cp 'lib/<v>/*' -d target/<v> CodecCheck.java
 *   java -cp 'target/<v>:lib/<v>/*' CodecCheck in.jsonl out.jsonl      ("-" = stdin / stdout)
 *
 * INPUT: JSON Lines, one vector per line
 *   {"id": "ProduceRequest/v9/filled", "message": "ProduceRequest", "version": 9,
 *    "json": {...} or null, "python_hex": "..." or null}
 *   "message" is the spec's "name". The class is org.apache.kafka.common.message.<name>Data
 *   (requests, responses, headers), else org.apache.kafka.common.message.<name> (data specs such
 *   as LeaderChangeMessage, DefaultPrincipalData, ConsumerProtocolAssignment); its JSON converter
 *   is <class>JsonConverter (static read(JsonNode, short) / write(<class>, short)).
 *
 * OUTPUT: JSON Lines, one per input line, same order
 *   {"id": ..., "java_hex": hex of Java's serialization of the "json" message, or null,
 *    "java_json": <class>JsonConverter.write(message parsed from python bytes) or null,
 *    "parsed_equals_json": python-bytes message .equals(json message), or null,
 *    "reserialized_equals_python": Java re-serialization of the python-bytes message == python bytes,
 *    "consumed_all": the parse consumed every python byte,
 *    "error": null or "ExceptionClass: message" (the first failure),
 *    "error_stage": null or where that failure happened: input | class | version | json_fields |
 *                   json_read | json_serialize | parse | reserialize | json_write}
 *   "version" = outside the class's LOWEST..HIGHEST_SUPPORTED_VERSION (then nothing else is run;
 *   Kafka's own read/write do not reject every such version, e.g. the headers accept any).
 *   (json_fields is checked before json_read, so a misspelt key is the error reported.)
 *   A failure in one vector is reported in that vector and never stops the run.
 *
 * THE JSON FORMAT THE KAFKA CONVERTERS ACCEPT (read) AND PRODUCE (write), per the generator
 * (generator/.../JsonConverterGenerator.java) and MessageUtil.jsonNodeTo* in both pinned jars:
 *   - An object per struct. Keys are the spec field names in camelCase with the first letter lower
 *     case ("ClientSoftwareName" -> "clientSoftwareName", "ThrottleTimeMs" -> "throttleTimeMs").
 *     Keys the converter does not know are IGNORED by Kafka; this tool reports them instead as
 *     error_stage "json_fields" (UnknownJsonField), so a misspelt key cannot pass silently.
 *   - Which keys: a field present in the version and not tagged is MANDATORY (missing -> "unable
 *     to locate field"). A tagged field, or a field absent from the version, may be omitted: it then
 *     takes its spec default. A field that is absent from the version but given a non-default value
 *     is read, and then writing throws UnsupportedVersionException (unless the field is
 *     "ignorable", in which case it is silently dropped): do not send fields outside the version.
 *     write() emits every field of the version; tagged fields only when != default.
 *   - bool: JSON true/false only.
 *   - int8 / int16 / int32 / uint16: a JSON integer (not a string: strings are rejected; not 1.0).
 *     int8 is signed (-128..127); beware Kafka maps 128..256 to value-128 instead of rejecting.
 *     write() gives plain numbers.
 *   - int64 / uint32: a JSON integer (any size that fits; uint32 0..4294967295). Not a string.
 *   - float64: a JSON number WITH a fraction or exponent (isFloatingPointNumber): 1.0 or 1e0, never
 *     1. NaN / Infinity / -Infinity are accepted bare (this tool enables Jackson's non-numeric
 *     numbers, as Python's json module writes them) and written back bare.
 *   - string: a JSON string; JSON null only where the version is in nullableVersions.
 *   - uuid: a JSON string, Kafka's Uuid.toString(): the 16 bytes in URL-safe base64 without
 *     padding (22 chars, '-' and '_'), e.g. zero uuid "AAAAAAAAAAAAAAAAAAAAAA". Uuid.fromString
 *     takes at most 24 chars (padding allowed) that must decode to exactly 16 bytes. Never null.
 *   - bytes (zero-copy or not): a JSON string in standard base64 ('+' '/', with '=' padding;
 *     Jackson's default MIME_NO_LINEFEEDS variant), or null where nullable. write() gives the same.
 *   - records: like bytes: standard base64 of the raw record batches, or null where nullable.
 *     Kafka's write() ALWAYS emits "" for a non-null records field (KIP-673 shortcut); this tool
 *     replaces that "" by the real base64 bytes in java_json, so java_json is comparable.
 *   - struct: a nested object (null where nullable). array: a JSON array of the element format
 *     (null where nullable); arrays of structs are arrays of objects.
 *   - unknown tagged fields (ones the spec does not define) have no JSON form: they are neither
 *     read nor written by the converters (but are kept by the binary parse and re-serialization).
 * Identical in 4.4.0 and 3.9.2 except for which messages/versions exist (e.g. 4.x dropped
 * LeaderAndIsr/StopReplica/UpdateMetadata/ControlledShutdown, RequestHeader v0, ApiVersions v5
 * is 4.x only) and the record classes' package (o.a.k.common.record vs ...record.internal).
 */

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class CodecCheck {
    private static final String PACKAGE = "org.apache.kafka.common.message.";
    private static final HexFormat HEX = HexFormat.of();
    private static final ObjectMapper MAPPER = JsonMapper.builder()
        .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
        .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
        .build();

    /** Reflection handles for one top-level message, looked up once. */
    private static final class Codec {
        final Class<?> cls;
        final Constructor<?> readCtor;
        final Method jsonRead;
        final Method jsonWrite;
        final short lowest;
        final short highest;

        Codec(Class<?> cls, Constructor<?> readCtor, Method jsonRead, Method jsonWrite,
              short lowest, short highest) {
            this.cls = cls;
            this.readCtor = readCtor;
            this.jsonRead = jsonRead;
            this.jsonWrite = jsonWrite;
            this.lowest = lowest;
            this.highest = highest;
        }
    }

    private enum Kind { RECORDS, STRUCT, STRUCT_ARRAY, OTHER }

    /** One field of a generated data class, as the JSON converter sees it. */
    private static final class FieldInfo {
        final Field field;
        final Kind kind;
        final Class<?> struct;   // for STRUCT / STRUCT_ARRAY

        FieldInfo(Field field, Kind kind, Class<?> struct) {
            this.field = field;
            this.kind = kind;
            this.struct = struct;
        }
    }

    /** The JSON-visible fields of a generated data class (struct), keyed by camelCase name. */
    private static final class StructInfo {
        final Map<String, FieldInfo> fields = new LinkedHashMap<>();
        boolean hasRecords;      // records anywhere below: java_json needs patching
    }

    private static final Map<String, Object> CODECS = new HashMap<>();   // Codec or Throwable
    private static final Map<Class<?>, StructInfo> STRUCTS = new HashMap<>();

    /** Thrown (and reported) when a vector's JSON has keys the converter would silently ignore. */
    static final class UnknownJsonField extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnknownJsonField(String message) {
            super(message);
        }
    }

    /** Reported (as "UnsupportedVersionException: ...") for a version outside the class's range. */
    static final class UnsupportedVersionError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UnsupportedVersionError(String message) {
            super(message);
        }
    }

    /** Per-vector failure bookkeeping: the first failure wins. */
    private static final class Outcome {
        String error;
        String stage;

        void fail(String stage, Throwable t) {
            if (error == null) {
                this.error = describe(t);
                this.stage = stage;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: CodecCheck <in.jsonl|-> <out.jsonl|->");
            System.exit(2);
        }
        Reader in = "-".equals(args[0])
            ? new InputStreamReader(System.in, StandardCharsets.UTF_8)
            : Files.newBufferedReader(Path.of(args[0]), StandardCharsets.UTF_8);
        Writer out = "-".equals(args[1])
            ? new OutputStreamWriter(System.out, StandardCharsets.UTF_8)
            : Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8);
        try (BufferedReader reader = new BufferedReader(in, 1 << 16);
             BufferedWriter writer = new BufferedWriter(out, 1 << 16)) {
            String line;
            int lineNo = 0;
            while ((line = reader.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                ObjectNode result = checkLine(line, lineNo);
                writer.write(MAPPER.writeValueAsString(result));
                writer.write('\n');
            }
        }
    }

    private static ObjectNode checkLine(String line, int lineNo) {
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        result.putNull("id");
        result.putNull("java_hex");
        result.putNull("java_json");
        result.putNull("parsed_equals_json");
        result.put("reserialized_equals_python", false);
        result.put("consumed_all", false);
        Outcome outcome = new Outcome();
        try {
            JsonNode vector = MAPPER.readTree(line);
            if (vector == null || !vector.isObject()) {
                throw new IllegalArgumentException("line " + lineNo + " is not a JSON object");
            }
            JsonNode id = vector.get("id");
            if (id != null) {
                result.set("id", id);
            }
            check(vector, result, outcome);
        } catch (Throwable t) {
            outcome.fail("input", t);
        }
        if (outcome.error == null) {
            result.putNull("error");
            result.putNull("error_stage");
        } else {
            result.put("error", outcome.error);
            result.put("error_stage", outcome.stage);
        }
        return result;
    }

    private static void check(JsonNode vector, ObjectNode result, Outcome outcome) {
        String name = text(vector, "message");
        JsonNode versionNode = vector.get("version");
        if (versionNode == null || !versionNode.canConvertToInt()) {
            throw new IllegalArgumentException("vector needs an integer \"version\"");
        }
        short version = (short) versionNode.asInt();
        JsonNode json = vector.get("json");
        JsonNode pythonHex = vector.get("python_hex");
        byte[] pythonBytes = (pythonHex == null || pythonHex.isNull())
            ? null : HEX.parseHex(pythonHex.asText());
        if (pythonBytes == null) {
            result.putNull("reserialized_equals_python");
            result.putNull("consumed_all");
        }

        Codec codec;
        try {
            codec = codec(name);
        } catch (Throwable t) {
            outcome.fail("class", t);
            return;
        }
        if (version < codec.lowest || version > codec.highest) {
            // Kafka's read/write do not all check this themselves (headers accept any version).
            outcome.fail("version", new UnsupportedVersionError(codec.cls.getSimpleName()
                + " supports versions " + codec.lowest + "-" + codec.highest + ", not " + version));
            return;
        }

        // (a) the JSON message, as Java reads and serializes it.
        Message fromJson = null;
        if (json != null && !json.isNull()) {
            try {
                List<String> unknown = new ArrayList<>();
                unknownKeys(codec.cls, json, "", unknown);
                if (!unknown.isEmpty()) {
                    throw new UnknownJsonField("keys the " + codec.cls.getSimpleName()
                        + " converter ignores: " + String.join(", ", unknown));
                }
            } catch (Throwable t) {
                outcome.fail("json_fields", t);
            }
            try {
                fromJson = (Message) invoke(codec.jsonRead, null, json, version);
            } catch (Throwable t) {
                outcome.fail("json_read", t);
            }
            if (fromJson != null) {
                try {
                    result.put("java_hex", HEX.formatHex(serialize(fromJson, version)));
                } catch (Throwable t) {
                    outcome.fail("json_serialize", t);
                }
            }
        }

        // (b) the python bytes, as Java parses and re-serializes them.
        if (pythonBytes == null) {
            return;
        }
        Message fromPython = null;
        try {
            ByteBufferAccessor accessor = new ByteBufferAccessor(ByteBuffer.wrap(pythonBytes));
            fromPython = (Message) construct(codec.readCtor, accessor, version);
            result.put("consumed_all", accessor.remaining() == 0);
        } catch (Throwable t) {
            outcome.fail("parse", t);
        }
        if (fromPython == null) {
            return;
        }
        try {
            byte[] again = serialize(fromPython, version);
            result.put("reserialized_equals_python", java.util.Arrays.equals(again, pythonBytes));
        } catch (Throwable t) {
            outcome.fail("reserialize", t);
        }
        if (fromJson != null) {
            result.put("parsed_equals_json", fromPython.equals(fromJson));
        }
        try {
            JsonNode written = (JsonNode) invoke(codec.jsonWrite, null, fromPython, version);
            patchRecords(fromPython, written);
            result.set("java_json", written);
        } catch (Throwable t) {
            outcome.fail("json_write", t);
        }
    }

    /** Kafka's own serialization: size() then write() into an exactly sized buffer. */
    static byte[] serialize(Message message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = message.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(size);
        message.write(new ByteBufferAccessor(buffer), cache, version);
        if (buffer.position() != size) {
            throw new IllegalStateException("size() was " + size + " but write() wrote "
                + buffer.position() + " bytes");
        }
        return buffer.array();
    }

    private static Codec codec(String name) throws Throwable {
        Object cached = CODECS.get(name);
        if (cached == null) {
            try {
                cached = lookup(name);
            } catch (Throwable t) {
                cached = t;
            }
            CODECS.put(name, cached);
        }
        if (cached instanceof Throwable) {
            throw (Throwable) cached;
        }
        return (Codec) cached;
    }

    private static Codec lookup(String name) throws ReflectiveOperationException {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("vector needs a \"message\" name");
        }
        Class<?> cls = null;
        for (String candidate : new String[] {PACKAGE + name + "Data", PACKAGE + name}) {
            try {
                Class<?> c = Class.forName(candidate);
                if (Message.class.isAssignableFrom(c)) {
                    cls = c;
                    break;
                }
            } catch (ClassNotFoundException e) {
                // try the next candidate
            }
        }
        if (cls == null) {
            throw new ClassNotFoundException("no Message class " + PACKAGE + name + "Data or "
                + PACKAGE + name + " in this kafka-clients jar");
        }
        Class<?> converter = Class.forName(cls.getName() + "JsonConverter");
        Constructor<?> readCtor = cls.getConstructor(
            org.apache.kafka.common.protocol.Readable.class, short.class);
        Method read = converter.getMethod("read", JsonNode.class, short.class);
        Method write = converter.getMethod("write", cls, short.class);
        short lowest = cls.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
        short highest = cls.getField("HIGHEST_SUPPORTED_VERSION").getShort(null);
        return new Codec(cls, readCtor, read, write, lowest, highest);
    }

    private static StructInfo struct(Class<?> cls) {
        StructInfo info = STRUCTS.get(cls);
        if (info != null) {
            return info;
        }
        info = new StructInfo();
        STRUCTS.put(cls, info);   // before recursing: guards against (impossible) cycles
        for (Field f : cls.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) || f.getName().startsWith("_") || f.isSynthetic()) {
                continue;
            }
            f.setAccessible(true);
            Class<?> type = f.getType();
            FieldInfo fi;
            if (isRecords(type)) {
                fi = new FieldInfo(f, Kind.RECORDS, null);
                info.hasRecords = true;
            } else if (Message.class.isAssignableFrom(type)) {
                fi = new FieldInfo(f, Kind.STRUCT, type);
            } else if (Collection.class.isAssignableFrom(type)) {
                Class<?> element = messageElement(f.getGenericType());
                fi = element == null
                    ? new FieldInfo(f, Kind.OTHER, null)
                    : new FieldInfo(f, Kind.STRUCT_ARRAY, element);
            } else {
                fi = new FieldInfo(f, Kind.OTHER, null);
            }
            info.fields.put(f.getName(), fi);
        }
        for (FieldInfo fi : info.fields.values()) {
            if (fi.struct != null && struct(fi.struct).hasRecords) {
                info.hasRecords = true;
            }
        }
        return info;
    }

    /** BaseRecords / MemoryRecords / Records, in o.a.k.common.record (3.x) or record.internal (4.x). */
    private static boolean isRecords(Class<?> type) {
        return type.getName().startsWith("org.apache.kafka.common.record")
            && type.getSimpleName().endsWith("Records");
    }

    /** The Message element type of List<X> or of a generated XCollection (ImplicitLinkedHash...). */
    private static Class<?> messageElement(Type type) {
        while (type != null) {
            if (type instanceof ParameterizedType) {
                for (Type arg : ((ParameterizedType) type).getActualTypeArguments()) {
                    if (arg instanceof Class && Message.class.isAssignableFrom((Class<?>) arg)) {
                        return (Class<?>) arg;
                    }
                }
                type = ((ParameterizedType) type).getRawType();
            }
            if (type instanceof Class) {
                Class<?> c = (Class<?>) type;
                if (c.getName().startsWith("java.")) {
                    return null;
                }
                type = c.getGenericSuperclass();
            } else {
                return null;
            }
        }
        return null;
    }

    /** Collect JSON keys that are not fields of the data class (Kafka would ignore them). */
    private static void unknownKeys(Class<?> cls, JsonNode node, String path, List<String> out) {
        if (node == null || !node.isObject()) {
            return;
        }
        StructInfo info = struct(cls);
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
            FieldInfo fi = info.fields.get(e.getKey());
            if (fi == null) {
                out.add(key);
            } else if (fi.kind == Kind.STRUCT) {
                unknownKeys(fi.struct, e.getValue(), key, out);
            } else if (fi.kind == Kind.STRUCT_ARRAY && e.getValue().isArray()) {
                int i = 0;
                for (JsonNode element : e.getValue()) {
                    unknownKeys(fi.struct, element, key + "[" + i++ + "]", out);
                }
            }
        }
    }

    /** Replace the "" Kafka's converter writes for every records field by the real bytes. */
    private static void patchRecords(Object message, JsonNode node) throws ReflectiveOperationException {
        if (message == null || !(node instanceof ObjectNode)) {
            return;
        }
        StructInfo info = struct(message.getClass());
        if (!info.hasRecords) {
            return;
        }
        ObjectNode object = (ObjectNode) node;
        for (Map.Entry<String, FieldInfo> e : info.fields.entrySet()) {
            FieldInfo fi = e.getValue();
            if (fi.kind == Kind.OTHER || !object.has(e.getKey())) {
                continue;
            }
            Object value = fi.field.get(message);
            if (value == null) {
                continue;
            }
            if (fi.kind == Kind.RECORDS) {
                object.set(e.getKey(), new BinaryNode(recordsBytes(value)));
            } else if (fi.kind == Kind.STRUCT) {
                patchRecords(value, object.get(e.getKey()));
            } else if (object.get(e.getKey()) instanceof ArrayNode) {
                ArrayNode array = (ArrayNode) object.get(e.getKey());
                int i = 0;
                for (Object element : (Collection<?>) value) {
                    patchRecords(element, array.get(i++));
                }
            }
        }
    }

    private static final Map<Class<?>, Method> BUFFER_METHODS = new HashMap<>();

    /** The raw bytes of a MemoryRecords (via its buffer() method, found reflectively). */
    private static byte[] recordsBytes(Object records) throws ReflectiveOperationException {
        Method m = BUFFER_METHODS.get(records.getClass());
        if (m == null) {
            m = records.getClass().getMethod("buffer");
            BUFFER_METHODS.put(records.getClass(), m);
        }
        ByteBuffer buffer = ((ByteBuffer) m.invoke(records)).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    private static Object invoke(Method m, Object target, Object... args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Object construct(Constructor<?> c, Object... args) throws Throwable {
        try {
            return c.newInstance(args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static String text(JsonNode node, String key) {
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        String name = t instanceof UnsupportedVersionError
            ? "UnsupportedVersionException" : t.getClass().getSimpleName();
        return name + ": " + (message == null ? "" : message);
    }
}
