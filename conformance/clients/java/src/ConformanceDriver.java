// Java (kafka-clients) driver of the conformance suite: conformance/SCENARIOS.md is the contract.
//
//   ConformanceDriver --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c [--security FILE]
//   ConformanceDriver --client-version
//
// One JSON line per scenario on stdout; everything else (client logs) goes to stderr.
// The same source compiles against kafka-clients 2.8.x and 4.x: only APIs present in both are used
// (the few that were renamed in between are reached by reflection, see describeTopic()).

import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.ApiVersions;
import org.apache.kafka.clients.NodeApiVersions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class ConformanceDriver {

    static final long T0 = 1700000000000L;
    static final long SCENARIO_TIMEOUT_MS = 60_000;
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    // ------------------------------------------------------------------ entry point

    public static void main(String[] args) throws Exception {
        // stdout is reserved for the JSON lines: anything a library prints there goes to stderr instead.
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
        System.setOut(System.err);

        String bootstrap = null, prefix = null, scenarios = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--client-version":
                    out.println("kafka-clients " + clientVersion());
                    out.flush();
                    System.exit(0);
                    break;
                case "--bootstrap": bootstrap = arg(args, ++i); break;
                case "--prefix": prefix = arg(args, ++i); break;
                case "--scenarios": scenarios = arg(args, ++i); break;
                case "--security": SecurityScenarios.load(arg(args, ++i)); break;
                default:
                    System.err.println("unknown argument " + args[i]);
                    System.exit(2);
            }
        }
        if (bootstrap == null || prefix == null || scenarios == null) {
            System.err.println("usage: run --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c | run --client-version");
            System.exit(2);
        }

        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "scenario");
            t.setDaemon(true);
            return t;
        });
        for (String name : scenarios.split(",")) {
            name = name.trim();
            if (name.isEmpty()) continue;
            Ctx ctx = new Ctx(name, bootstrap, prefix);
            long start = System.nanoTime();
            Future<?> f = pool.submit(() -> runScenario(ctx));
            try {
                // The scenario watches its own 60 s deadline; this is the backstop for a call that hangs.
                f.get(SCENARIO_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                ctx.fail("timeout: " + ctx.step);
                ctx.abort();
                f.cancel(true);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            out.println(ctx.toJson(seconds));
            out.flush();
        }
        out.flush();
        System.exit(0);
    }

    /** The version in kafka-clients' own kafka/kafka-version.properties (AppInfoParser moved packages in 4.x). */
    static String clientVersion() throws java.io.IOException {
        Properties p = new Properties();
        try (java.io.InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) p.load(in);
        }
        return p.getProperty("version", "unknown");
    }

    static String arg(String[] args, int i) {
        if (i >= args.length) {
            System.err.println("missing value after " + args[i - 1]);
            System.exit(2);
        }
        return args[i];
    }

    static void runScenario(Ctx ctx) {
        try {
            dispatch(ctx);
            if (ctx.status == null) ctx.status = "pass";
        } catch (CheckFailed e) {
            ctx.fail(e.getMessage());
        } catch (Throwable t) {
            ctx.fail(ctx.step + ": " + describe(t));
        } finally {
            ctx.closeAll();
        }
    }

    static void dispatch(Ctx ctx) throws Exception {
        String s = ctx.scenario;
        if (s.startsWith("roundtrip-")) {
            String codec = s.substring("roundtrip-".length());
            if (!Arrays.asList(CODECS).contains(codec)) throw new CheckFailed("unknown scenario " + s);
            roundtrip(ctx, codec);
            return;
        }
        switch (s) {
            case "connect": connect(ctx); break;
            case "metadata": metadata(ctx); break;
            case "max-message-bytes": maxMessageBytes(ctx); break;
            case "acks-0": acks(ctx, "0"); break;
            case "acks-1": acks(ctx, "1"); break;
            case "acks-all": acks(ctx, "all"); break;
            case "consume-earliest": consumeEarliest(ctx); break;
            case "consume-latest": consumeLatest(ctx); break;
            case "consume-timestamp": consumeTimestamp(ctx); break;
            case "idempotent": idempotent(ctx); break;
            case "admin-topics": adminTopics(ctx); break;
            case "admin-configs": adminConfigs(ctx); break;
            case "admin-partitions": adminPartitions(ctx); break;
            case "admin-records": adminRecords(ctx); break;
            case "restart-produce": restartProduce(ctx); break;
            case "restart-consume": restartConsume(ctx); break;
            case "group-offsets": GroupScenarios.offsets(ctx); break;
            case "group-rebalance": GroupScenarios.rebalance(ctx, "classic"); break;
            case "group-cooperative": GroupScenarios.rebalance(ctx, "cooperative"); break;
            case "group-consumer-protocol": GroupScenarios.rebalance(ctx, "consumer"); break;
            case "group-static": GroupScenarios.staticMembership(ctx); break;
            case "security-ssl": SecurityScenarios.ssl(ctx); break;
            case "security-sasl-plaintext": SecurityScenarios.sasl(ctx, "SASL_PLAINTEXT"); break;
            case "security-sasl-ssl": SecurityScenarios.sasl(ctx, "SASL_SSL"); break;
            case "security-auth-failure": SecurityScenarios.authFailure(ctx); break;
            default: throw new CheckFailed("unknown scenario " + s);
        }
    }

    // ------------------------------------------------------------------ scenarios

    static void connect(Ctx ctx) throws Exception {
        Admin admin = ctx.admin();
        ctx.step = "describeCluster";
        DescribeClusterResult dc = admin.describeCluster();
        Collection<Node> nodes = ctx.await(dc.nodes(), "describeCluster nodes");
        String clusterId = ctx.await(dc.clusterId(), "describeCluster clusterId");
        Node controller = ctx.await(dc.controller(), "describeCluster controller");
        List<Object> brokers = new ArrayList<>();
        for (Node n : nodes) brokers.add(n.idString() + "@" + n.host() + ":" + n.port());
        ctx.facts.put("brokers", brokers);
        ctx.facts.put("cluster_id", clusterId);
        ctx.facts.put("controller_id", controller == null ? null : controller.id());
        check(nodes.size() == 1, "broker count", 1, nodes.size());
        Node n = nodes.iterator().next();
        ctx.facts.put("broker_id", n.id());
        String[] hp = ctx.bootstrap.split(":");
        check(n.host().equals(hp[0]), "broker host", hp[0], n.host());
        check(n.port() == Integer.parseInt(hp[1]), "broker port", hp[1], n.port());
        check(n.id() >= 0, "broker node id >= 0", ">= 0", n.id());
        Map<String, Object> versions = negotiatedVersions(admin, n);
        if (versions != null) ctx.facts.put("api_versions", versions);
    }

    static void metadata(Ctx ctx) throws Exception {
        Admin admin = ctx.admin();
        String topic = ctx.topic("metadata");
        ctx.step = "describeCluster";
        Collection<Node> nodes = ctx.await(admin.describeCluster().nodes(), "describeCluster nodes");
        check(nodes.size() == 1, "broker count", 1, nodes.size());
        int id = nodes.iterator().next().id();
        ctx.facts.put("broker_id", id);
        ctx.step = "describeTopics " + topic;
        TopicDescription td = describeTopic(ctx, admin, topic);
        Set<Integer> parts = new TreeSet<>();
        List<Object> shown = new ArrayList<>();
        for (TopicPartitionInfo p : td.partitions()) {
            parts.add(p.partition());
            shown.add(p.partition() + ":leader=" + nodeId(p.leader()) + ",replicas=" + nodeIds(p.replicas())
                    + ",isr=" + nodeIds(p.isr()));
        }
        ctx.facts.put("partitions", shown);
        check(parts.equals(new TreeSet<>(Arrays.asList(0, 1, 2))), "partitions of " + topic, "[0, 1, 2]", parts);
        for (TopicPartitionInfo p : td.partitions()) {
            check(p.leader() != null && p.leader().id() == id, "partition " + p.partition() + " leader", id, nodeId(p.leader()));
            check(nodeIds(p.replicas()).equals(Collections.singletonList(id)), "partition " + p.partition() + " replicas",
                    "[" + id + "]", nodeIds(p.replicas()));
            check(nodeIds(p.isr()).equals(Collections.singletonList(id)), "partition " + p.partition() + " isr",
                    "[" + id + "]", nodeIds(p.isr()));
        }
        ctx.step = "listTopics";
        Set<String> names = ctx.await(admin.listTopics().names(), "listTopics");
        ctx.facts.put("topics_listed", names.size());
        check(names.contains(topic), "listTopics contains " + topic, true, false);
    }

    static void roundtrip(Ctx ctx, String codec) throws Exception {
        String topic = ctx.topic(ctx.scenario);
        Properties p = new Properties();
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(p);
        List<RecordMetadata> md = produceStandard(ctx, producer, topic, 0, 200, i -> 0);
        for (int i = 0; i < md.size(); i++) {
            check(md.get(i).offset() == i, "delivery offset of record " + i, i, md.get(i).offset());
        }
        ctx.facts.put("produced", md.size());
        List<ConsumerRecord<byte[], byte[]>> got = readFrom(ctx, topic, 0, 0L, 200, 0);
        checkConsumed(ctx, ctx.scenario, got, 0, 200, 0);
    }

    static void maxMessageBytes(Ctx ctx) throws Exception {
        String topic = ctx.topic("max-message-bytes");
        Properties p = new Properties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "1048576"); // the default; stays above 70,000
        KafkaProducer<byte[], byte[]> producer = ctx.producer(p);
        byte[] a = repeat('a', 60_000), b = repeat('b', 70_000);

        ctx.step = "produce record A (60,000 bytes)";
        Future<RecordMetadata> fa = producer.send(new ProducerRecord<>(topic, 0, utf8("a"), a));
        producer.flush();
        RecordMetadata ma = ctx.await(fa, "delivery of record A");
        check(ma.offset() == 0, "record A offset", 0, ma.offset());

        ctx.step = "produce record B (70,000 bytes)";
        Future<RecordMetadata> fb = producer.send(new ProducerRecord<>(topic, 0, utf8("b"), b));
        producer.flush();
        try {
            RecordMetadata mb = ctx.await(fb, "delivery of record B");
            throw new CheckFailed("record B: expected MESSAGE_TOO_LARGE (10), got acknowledged at offset " + mb.offset());
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            ctx.facts.put("error", errorName(c));
            if (!(c instanceof RecordTooLargeException)) {
                throw new CheckFailed("record B: expected RecordTooLargeException (MESSAGE_TOO_LARGE, 10), got " + describe(c));
            }
        }
        List<ConsumerRecord<byte[], byte[]>> got = readFrom(ctx, topic, 0, 0L, 1, 1000);
        ctx.facts.put("consumed", got.size());
        check(got.size() == 1, "records in topic", 1, got.size());
        ConsumerRecord<byte[], byte[]> r = got.get(0);
        check(r.offset() == 0, "record A read offset", 0, r.offset());
        check(Arrays.equals(r.key(), utf8("a")), "record A key", "a", str(r.key()));
        check(Arrays.equals(r.value(), a), "record A value", "60000 x 'a'", r.value() == null ? null : r.value().length + " bytes");
    }

    static void acks(Ctx ctx, String acks) throws Exception {
        String topic = ctx.topic(ctx.scenario);
        Properties p = new Properties();
        p.put(ProducerConfig.ACKS_CONFIG, acks);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, acks.equals("all") ? "true" : "false");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(p);
        List<RecordMetadata> md = produceStandard(ctx, producer, topic, 0, 100, i -> 0);
        ctx.facts.put("produced", md.size());
        List<ConsumerRecord<byte[], byte[]>> got = readFrom(ctx, topic, 0, 0L, 100, 0);
        checkConsumed(ctx, ctx.scenario, got, 0, 100, 0);
    }

    static void consumeEarliest(Ctx ctx) throws Exception {
        String topic = ctx.topic("consume-earliest");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(acksAll());
        produceStandard(ctx, producer, topic, 0, 20, i -> 0);
        KafkaConsumer<byte[], byte[]> consumer = assigned(ctx, new TopicPartition(topic, 0), "earliest");
        List<ConsumerRecord<byte[], byte[]>> got = pollUntil(ctx, consumer, 20, 0, "20 records (reset earliest)");
        checkConsumed(ctx, ctx.scenario, got, 0, 20, 0);
    }

    static void consumeLatest(Ctx ctx) throws Exception {
        String topic = ctx.topic("consume-latest");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(acksAll());
        produceStandard(ctx, producer, topic, 0, 10, i -> 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        KafkaConsumer<byte[], byte[]> consumer = assigned(ctx, tp, "latest");
        ctx.step = "consumer.position (reset latest)";
        long pos = consumer.position(tp, Duration.ofMillis(ctx.remainingMs()));
        ctx.facts.put("position", pos);
        check(pos == 10, "position after reset to latest", 10, pos);
        produceStandard(ctx, producer, topic, 10, 1, i -> 0);
        List<ConsumerRecord<byte[], byte[]>> got = pollUntil(ctx, consumer, 1, 1000, "record 10");
        checkConsumed(ctx, ctx.scenario, got, 10, 1, 10);
    }

    static void consumeTimestamp(Ctx ctx) throws Exception {
        String topic = ctx.topic("consume-timestamp");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(acksAll());
        produceStandard(ctx, producer, topic, 0, 10, i -> 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        KafkaConsumer<byte[], byte[]> consumer = assigned(ctx, tp, null);
        long[] ts = {T0 + 5000, T0 + 5500, T0 + 60000};
        Long[] want = {5L, 6L, null};
        String[] keys = {"offset_for_T0+5000", "offset_for_T0+5500", "offset_for_T0+60000"};
        Long found5000 = null;
        for (int k = 0; k < ts.length; k++) {
            ctx.step = "offsetsForTimes(" + ts[k] + ")";
            Map<TopicPartition, OffsetAndTimestamp> r =
                    consumer.offsetsForTimes(Collections.singletonMap(tp, ts[k]), Duration.ofMillis(ctx.remainingMs()));
            OffsetAndTimestamp oat = r.get(tp);
            Long off = oat == null ? null : oat.offset();
            ctx.facts.put(keys[k], off == null ? "null" : off);
            check(java.util.Objects.equals(off, want[k]), "offsetsForTimes(T0+" + (ts[k] - T0) + ")",
                    want[k] == null ? "null" : want[k], off == null ? "null" : off);
            if (k == 0) found5000 = off;
        }
        ctx.step = "seek to " + found5000;
        consumer.seek(tp, found5000);
        List<ConsumerRecord<byte[], byte[]>> got = pollUntil(ctx, consumer, 5, 0, "records 5..9");
        checkConsumed(ctx, ctx.scenario, got, 5, 5, 5);
    }

    static void idempotent(Ctx ctx) throws Exception {
        String topic = ctx.topic("idempotent");
        Properties p = new Properties();
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(p);
        int n = 3000;
        List<RecordMetadata> md = produceStandard(ctx, producer, topic, 0, n, i -> i % 3);
        Object pid = producerId(producer);
        if (pid != null) ctx.facts.put("producer_id", pid);
        for (int i = 0; i < n; i++) {
            RecordMetadata m = md.get(i);
            check(m.partition() == i % 3 && m.offset() == i / 3, "delivery of record " + i,
                    (i % 3) + "@" + (i / 3), m.partition() + "@" + m.offset());
        }
        ctx.facts.put("produced", n);
        KafkaConsumer<byte[], byte[]> consumer = ctx.consumer(new Properties());
        List<TopicPartition> tps = new ArrayList<>();
        for (int q = 0; q < 3; q++) tps.add(new TopicPartition(topic, q));
        consumer.assign(tps);
        for (TopicPartition tp : tps) consumer.seek(tp, 0);
        Map<Integer, List<ConsumerRecord<byte[], byte[]>>> byPart = new TreeMap<>();
        for (int q = 0; q < 3; q++) byPart.put(q, new ArrayList<>());
        ctx.step = "consume 3 x 1000 records";
        int total = 0;
        while (total < n) {
            ConsumerRecords<byte[], byte[]> recs = poll(ctx, consumer, "3 x 1000 records (have " + total + ")");
            for (ConsumerRecord<byte[], byte[]> r : recs) {
                byPart.get(r.partition()).add(r);
                total++;
            }
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        for (int q = 0; q < 3; q++) counts.put(String.valueOf(q), byPart.get(q).size());
        ctx.facts.put("consumed", counts);
        for (int q = 0; q < 3; q++) {
            List<ConsumerRecord<byte[], byte[]>> got = byPart.get(q);
            check(got.size() == 1000, "partition " + q + " record count", 1000, got.size());
            for (int j = 0; j < got.size(); j++) {
                compareStandard(ctx.scenario, got.get(j), 3 * j + q, j, "partition " + q + " ");
            }
        }
    }

    static void adminTopics(Ctx ctx) throws Exception {
        Admin admin = ctx.admin();
        String topic = ctx.prefix + ".admin-topics-new";
        NewTopic nt = new NewTopic(topic, 3, (short) 1)
                .configs(Collections.singletonMap("retention.ms", "3600000"));
        ctx.step = "createTopics " + topic;
        ctx.await(admin.createTopics(Collections.singletonList(nt)).all(), "createTopics");
        ctx.step = "listTopics after create";
        waitListed(ctx, admin, topic, true, 10_000);
        ctx.step = "describeTopics " + topic;
        TopicDescription td = describeTopic(ctx, admin, topic);
        ctx.facts.put("partitions", td.partitions().size());
        check(td.partitions().size() == 3, "partitions of " + topic, 3, td.partitions().size());
        ctx.step = "createTopics again";
        try {
            ctx.await(admin.createTopics(Collections.singletonList(nt)).all(), "second createTopics");
            throw new CheckFailed("creating " + topic + " again: expected TOPIC_ALREADY_EXISTS (36), got success");
        } catch (ExecutionException e) {
            ctx.facts.put("create_again_error", errorName(e.getCause()));
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new CheckFailed("creating " + topic + " again: expected TopicExistsException (TOPIC_ALREADY_EXISTS, 36), got "
                        + describe(e.getCause()));
            }
        }
        ctx.step = "deleteTopics " + topic;
        ctx.await(admin.deleteTopics(Collections.singletonList(topic)).all(), "deleteTopics");
        ctx.step = "listTopics after delete";
        waitListed(ctx, admin, topic, false, 10_000);
    }

    static void adminConfigs(Ctx ctx) throws Exception {
        Admin admin = ctx.admin();
        String topic = ctx.prefix + ".admin-configs-new";
        ctx.step = "createTopics " + topic;
        ctx.await(admin.createTopics(Collections.singletonList(new NewTopic(topic, 1, (short) 1))).all(), "createTopics");
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);

        ctx.step = "describeConfigs " + topic;
        Config cfg = describeConfigs(ctx, admin, res, c -> c.get("retention.ms") != null);
        ConfigEntry ret = cfg.get("retention.ms");
        check(ret != null, "describeConfigs has retention.ms", true, false);
        ctx.facts.put("retention.ms_before", ret.value() + " (" + ret.source() + ")");
        check("604800000".equals(ret.value()), "retention.ms before alter", "604800000", ret.value());
        check(ret.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG, "retention.ms source before alter",
                "DEFAULT_CONFIG", ret.source());

        ctx.step = "incrementalAlterConfigs " + topic;
        ctx.facts.put("alter_api", "incrementalAlterConfigs");
        Collection<AlterConfigOp> ops = Arrays.asList(
                new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET));
        ctx.await(admin.incrementalAlterConfigs(Collections.singletonMap(res, ops)).all(), "incrementalAlterConfigs");

        ctx.step = "describeConfigs after alter";
        cfg = describeConfigs(ctx, admin, res, c -> c.get("retention.ms") != null
                && "3600000".equals(c.get("retention.ms").value())
                && c.get("cleanup.policy") != null && "compact".equals(c.get("cleanup.policy").value()));
        ret = cfg.get("retention.ms");
        ConfigEntry cp = cfg.get("cleanup.policy");
        ctx.facts.put("retention.ms_after", ret == null ? null : ret.value() + " (" + ret.source() + ")");
        ctx.facts.put("cleanup.policy_after", cp == null ? null : cp.value() + " (" + cp.source() + ")");
        check(ret != null && "3600000".equals(ret.value()), "retention.ms after alter", "3600000", ret == null ? null : ret.value());
        check(ret.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, "retention.ms source after alter",
                "DYNAMIC_TOPIC_CONFIG", ret.source());
        check(cp != null && "compact".equals(cp.value()), "cleanup.policy after alter", "compact", cp == null ? null : cp.value());

        deleteUnchecked(ctx, admin, topic);
    }

    static void adminPartitions(Ctx ctx) throws Exception {
        Admin admin = ctx.admin();
        String topic = ctx.prefix + ".admin-partitions-new";
        ctx.step = "createTopics " + topic;
        ctx.await(admin.createTopics(Collections.singletonList(new NewTopic(topic, 1, (short) 1))).all(), "createTopics");
        waitListed(ctx, admin, topic, true, 10_000);
        ctx.step = "createPartitions increaseTo(4)";
        ctx.await(admin.createPartitions(Collections.singletonMap(topic, NewPartitions.increaseTo(4))).all(), "createPartitions(4)");
        ctx.step = "describeTopics after increase";
        Set<Integer> parts = new TreeSet<>();
        long until = System.currentTimeMillis() + 10_000;
        while (true) {
            parts.clear();
            for (TopicPartitionInfo p : describeTopic(ctx, admin, topic).partitions()) parts.add(p.partition());
            if (parts.size() == 4 || System.currentTimeMillis() > until) break;
            ctx.sleep(200); // metadata propagation after the controller commits
        }
        ctx.facts.put("partitions", new ArrayList<>(parts));
        check(parts.equals(new TreeSet<>(Arrays.asList(0, 1, 2, 3))), "partitions after increase", "[0, 1, 2, 3]", parts);
        ctx.step = "createPartitions increaseTo(2)";
        try {
            ctx.await(admin.createPartitions(Collections.singletonMap(topic, NewPartitions.increaseTo(2))).all(), "createPartitions(2)");
            throw new CheckFailed("createPartitions increaseTo(2): expected INVALID_PARTITIONS (37), got success");
        } catch (ExecutionException e) {
            ctx.facts.put("decrease_error", errorName(e.getCause()));
            if (!(e.getCause() instanceof InvalidPartitionsException)) {
                throw new CheckFailed("createPartitions increaseTo(2): expected InvalidPartitionsException (INVALID_PARTITIONS, 37), got "
                        + describe(e.getCause()));
            }
        }
        deleteUnchecked(ctx, admin, topic);
    }

    static void adminRecords(Ctx ctx) throws Exception {
        String topic = ctx.topic("admin-records");
        TopicPartition tp = new TopicPartition(topic, 0);
        KafkaProducer<byte[], byte[]> producer = ctx.producer(acksAll());
        produceStandard(ctx, producer, topic, 0, 10, i -> 0);
        Admin admin = ctx.admin();

        long earliest = listOffset(ctx, admin, tp, OffsetSpec.earliest(), "earliest");
        long latest = listOffset(ctx, admin, tp, OffsetSpec.latest(), "latest");
        long byTs = listOffset(ctx, admin, tp, OffsetSpec.forTimestamp(T0 + 3000), "timestamp T0+3000");
        ctx.facts.put("earliest", earliest);
        ctx.facts.put("latest", latest);
        ctx.facts.put("offset_for_T0+3000", byTs);
        check(earliest == 0, "listOffsets earliest", 0, earliest);
        check(latest == 10, "listOffsets latest", 10, latest);
        check(byTs == 3, "listOffsets timestamp T0+3000", 3, byTs);

        ctx.step = "deleteRecords before offset 4";
        long low = ctx.await(admin.deleteRecords(Collections.singletonMap(tp, RecordsToDelete.beforeOffset(4)))
                .lowWatermarks().get(tp), "deleteRecords").lowWatermark();
        ctx.facts.put("low_watermark", low);
        check(low == 4, "deleteRecords low watermark", 4, low);

        long earliest2 = listOffset(ctx, admin, tp, OffsetSpec.earliest(), "earliest after deleteRecords");
        ctx.facts.put("earliest_after_delete", earliest2);
        check(earliest2 == 4, "listOffsets earliest after deleteRecords", 4, earliest2);

        KafkaConsumer<byte[], byte[]> consumer = assigned(ctx, tp, null);
        ctx.step = "consumer seekToBeginning";
        consumer.seekToBeginning(Collections.singletonList(tp));
        List<ConsumerRecord<byte[], byte[]>> got = pollUntil(ctx, consumer, 6, 0, "records 4..9");
        checkConsumed(ctx, ctx.scenario, got, 4, 6, 4);
    }

    static void restartProduce(Ctx ctx) throws Exception {
        String topic = ctx.topic("restart");
        KafkaProducer<byte[], byte[]> producer = ctx.producer(acksAll());
        List<RecordMetadata> md = produceStandard(ctx, producer, topic, 0, 100, "restart", i -> 0);
        for (int i = 0; i < md.size(); i++) check(md.get(i).offset() == i, "delivery offset of record " + i, i, md.get(i).offset());
        ctx.facts.put("produced", md.size());
    }

    static void restartConsume(Ctx ctx) throws Exception {
        String topic = ctx.topic("restart");
        List<ConsumerRecord<byte[], byte[]>> got = readFrom(ctx, topic, 0, 0L, 100, 0);
        checkConsumed(ctx, "restart", got, 0, 100, 0);
    }

    // ------------------------------------------------------------------ helpers: produce / consume

    interface PartitionOf { int of(int i); }

    static Properties acksAll() {
        Properties p = new Properties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return p;
    }

    static byte[] standardValue(String s, int i) {
        StringBuilder sb = new StringBuilder(s).append("-v").append(i).append('-');
        for (int k = 0; k < i % 10; k++) sb.append("abcdefghij");
        return utf8(sb.toString());
    }

    static ProducerRecord<byte[], byte[]> standardRecord(String topic, int partition, String s, int i) {
        RecordHeaders h = new RecordHeaders();
        h.add("i", utf8(String.valueOf(i)));
        h.add("s", utf8(s));
        return new ProducerRecord<>(topic, partition, T0 + i * 1000L, utf8("k" + i), standardValue(s, i), h);
    }

    static List<RecordMetadata> produceStandard(Ctx ctx, KafkaProducer<byte[], byte[]> producer, String topic,
                                                int from, int count, PartitionOf part) throws Exception {
        return produceStandard(ctx, producer, topic, from, count, ctx.scenario, part);
    }

    /** Send standard records from..from+count-1, flush, wait for every delivery; the metadata in send order. */
    static List<RecordMetadata> produceStandard(Ctx ctx, KafkaProducer<byte[], byte[]> producer, String topic,
                                                int from, int count, String s, PartitionOf part) throws Exception {
        ctx.step = "produce standard records " + from + ".." + (from + count - 1) + " to " + topic;
        List<Future<RecordMetadata>> fs = new ArrayList<>(count);
        for (int i = from; i < from + count; i++) fs.add(producer.send(standardRecord(topic, part.of(i), s, i)));
        producer.flush();
        List<RecordMetadata> md = new ArrayList<>(count);
        for (int k = 0; k < fs.size(); k++) {
            try {
                md.add(ctx.await(fs.get(k), "delivery of record " + (from + k)));
            } catch (ExecutionException e) {
                throw new CheckFailed("delivery of record " + (from + k) + " to " + topic + ": " + describe(e.getCause()));
            }
        }
        return md;
    }

    /** A fresh consumer assigned `tp` (no group), resetting to `reset` (null: no reset, auto.offset.reset=none). */
    static KafkaConsumer<byte[], byte[]> assigned(Ctx ctx, TopicPartition tp, String reset) {
        Properties cp = new Properties();
        if (reset != null) cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        KafkaConsumer<byte[], byte[]> consumer = ctx.consumer(cp);
        consumer.assign(Collections.singletonList(tp));
        return consumer;
    }

    /** A fresh consumer reads `count` records of topic/partition from `offset` (then polls `extraMs` more). */
    static List<ConsumerRecord<byte[], byte[]>> readFrom(Ctx ctx, String topic, int partition, long offset, int count,
                                                         long extraMs) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        KafkaConsumer<byte[], byte[]> consumer = assigned(ctx, tp, null);
        consumer.seek(tp, offset);
        return pollUntil(ctx, consumer, count, extraMs, count + " records of " + tp + " from offset " + offset);
    }

    static List<ConsumerRecord<byte[], byte[]>> pollUntil(Ctx ctx, KafkaConsumer<byte[], byte[]> consumer, int count,
                                                          long extraMs, String what) throws Exception {
        ctx.step = "consume " + what;
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        while (got.size() < count) {
            for (ConsumerRecord<byte[], byte[]> r : poll(ctx, consumer, what + " (have " + got.size() + ")")) got.add(r);
        }
        if (extraMs > 0) {
            ctx.step = "poll " + extraMs + " ms more after " + what;
            long until = System.currentTimeMillis() + extraMs;
            long left;
            while ((left = until - System.currentTimeMillis()) > 0) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(left))) got.add(r);
            }
        }
        return got;
    }

    static ConsumerRecords<byte[], byte[]> poll(Ctx ctx, KafkaConsumer<byte[], byte[]> consumer, String what) {
        long left = ctx.remainingMs();
        if (left <= 0) throw new CheckFailed("timeout: " + what);
        try {
            return consumer.poll(Duration.ofMillis(Math.min(left, 500)));
        } catch (WakeupException e) {
            throw new CheckFailed("timeout: " + what);
        }
    }

    /** Records how many were read (fact "consumed") and checks them with checkStandard. */
    static void checkConsumed(Ctx ctx, String s, List<ConsumerRecord<byte[], byte[]>> got, int firstIndex, int count,
                              long firstOffset) {
        ctx.facts.put("consumed", got.size());
        checkStandard(s, got, firstIndex, count, firstOffset);
    }

    static void checkStandard(String s, List<ConsumerRecord<byte[], byte[]>> got, int firstIndex, int count, long firstOffset) {
        check(got.size() == count, "records read", count, got.size());
        for (int k = 0; k < count; k++) compareStandard(s, got.get(k), firstIndex + k, firstOffset + k, "");
    }

    static void compareStandard(String s, ConsumerRecord<byte[], byte[]> r, int i, long offset, String where) {
        String w = where + "record " + i + " ";
        check(r.offset() == offset, w + "offset", offset, r.offset());
        check(Arrays.equals(r.key(), utf8("k" + i)), w + "key", "k" + i, str(r.key()));
        check(Arrays.equals(r.value(), standardValue(s, i)), w + "value", str(standardValue(s, i)), str(r.value()));
        Header[] hs = r.headers().toArray();
        List<String> hgot = new ArrayList<>();
        for (Header h : hs) hgot.add(h.key() + "=" + str(h.value()));
        List<String> hwant = Arrays.asList("i=" + i, "s=" + s);
        check(hgot.equals(hwant), w + "headers", hwant, hgot);
        check(r.timestamp() == T0 + i * 1000L, w + "timestamp", T0 + i * 1000L, r.timestamp());
        check(r.timestampType() == TimestampType.CREATE_TIME, w + "timestamp type", "CreateTime", r.timestampType());
    }

    // ------------------------------------------------------------------ helpers: admin

    /** Delete a topic at the end of a scenario; an error is only a fact (delete_error). */
    static void deleteUnchecked(Ctx ctx, Admin admin, String topic) throws Exception {
        ctx.step = "deleteTopics " + topic;
        try {
            ctx.await(admin.deleteTopics(Collections.singletonList(topic)).all(), "deleteTopics");
        } catch (ExecutionException e) {
            ctx.facts.put("delete_error", errorName(e.getCause())); // not checked
        }
    }

    /** Whether to retry after `e`: UNKNOWN_TOPIC_OR_PARTITION before `until` (metadata propagation); sleeps 200 ms. */
    static boolean retryUnknownTopic(Ctx ctx, ExecutionException e, long until) throws InterruptedException {
        if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException
                && System.currentTimeMillis() < until) {
            ctx.sleep(200);
            return true;
        }
        return false;
    }

    /** Describe one topic; retries briefly while the broker does not know it yet (metadata propagation). */
    static TopicDescription describeTopic(Ctx ctx, Admin admin, String topic) throws Exception {
        long until = System.currentTimeMillis() + 5_000;
        while (true) {
            DescribeTopicsResult r = admin.describeTopics(Collections.singletonList(topic));
            try {
                Map<String, TopicDescription> all = ctx.await(allTopicNames(r), "describeTopics " + topic);
                return all.get(topic);
            } catch (ExecutionException e) {
                if (retryUnknownTopic(ctx, e, until)) continue;
                throw e;
            }
        }
    }

    /** DescribeTopicsResult.allTopicNames() (3.1+) or all() (removed in 4.0). */
    @SuppressWarnings("unchecked")
    static KafkaFuture<Map<String, TopicDescription>> allTopicNames(DescribeTopicsResult r) throws Exception {
        Method m;
        try {
            m = DescribeTopicsResult.class.getMethod("allTopicNames");
        } catch (NoSuchMethodException e) {
            m = DescribeTopicsResult.class.getMethod("all");
        }
        return (KafkaFuture<Map<String, TopicDescription>>) m.invoke(r);
    }

    interface ConfigReady { boolean ok(Config c); }

    /** Describe a config resource; re-describes for up to 5 s until `ready` holds (propagation after alter). */
    static Config describeConfigs(Ctx ctx, Admin admin, ConfigResource res, ConfigReady ready) throws Exception {
        long until = System.currentTimeMillis() + 5_000;
        while (true) {
            Config c;
            try {
                c = ctx.await(admin.describeConfigs(Collections.singletonList(res)).all(), "describeConfigs").get(res);
            } catch (ExecutionException e) {
                if (retryUnknownTopic(ctx, e, until)) continue;
                throw e;
            }
            if (ready.ok(c) || System.currentTimeMillis() > until) return c;
            ctx.sleep(200);
        }
    }

    static void waitListed(Ctx ctx, Admin admin, String topic, boolean present, long ms) throws Exception {
        long until = System.currentTimeMillis() + ms;
        while (true) {
            Set<String> names = ctx.await(admin.listTopics().names(), "listTopics");
            if (names.contains(topic) == present) return;
            if (System.currentTimeMillis() > until) {
                throw new CheckFailed("listTopics " + (present ? "includes " : "no longer includes ") + topic + " within "
                        + ms / 1000 + " s: expected " + present + ", got " + !present);
            }
            ctx.sleep(200);
        }
    }

    static long listOffset(Ctx ctx, Admin admin, TopicPartition tp, OffsetSpec spec, String what) throws Exception {
        ctx.step = "listOffsets " + what;
        ListOffsetsResult r = admin.listOffsets(Collections.singletonMap(tp, spec));
        return ctx.await(r.partitionResult(tp), "listOffsets " + what).offset();
    }

    static Map<String, Object> negotiatedVersions(Admin admin, Node n) {
        // Not public API: KafkaAdminClient.client (NetworkClient).apiVersions -> NodeApiVersions.
        try {
            Field cf = admin.getClass().getDeclaredField("client");
            cf.setAccessible(true);
            Object client = cf.get(admin);
            Field af = client.getClass().getDeclaredField("apiVersions");
            af.setAccessible(true);
            ApiVersions av = (ApiVersions) af.get(client);
            NodeApiVersions nav = av.get(n.idString());
            if (nav == null) nav = av.get("-1");
            if (nav == null) return null;
            Map<String, Object> m = new TreeMap<>();
            for (ApiKeys k : ApiKeys.values()) {
                try {
                    m.put(k.name, (int) nav.latestUsableVersion(k));
                } catch (Exception e) {
                    // not supported by the broker or the client
                }
            }
            return m;
        } catch (Throwable t) {
            System.err.println("api_versions not available: " + t);
            return null;
        }
    }

    static Object producerId(KafkaProducer<?, ?> producer) {
        // Not public API: KafkaProducer.transactionManager.producerIdAndEpoch().producerId
        try {
            Field f = KafkaProducer.class.getDeclaredField("transactionManager");
            f.setAccessible(true);
            Object tm = f.get(producer);
            if (tm == null) return null;
            Method m = tm.getClass().getDeclaredMethod("producerIdAndEpoch");
            m.setAccessible(true);
            Object pe = m.invoke(tm);
            Field pf = pe.getClass().getDeclaredField("producerId");
            pf.setAccessible(true);
            return pf.get(pe);
        } catch (Throwable t) {
            System.err.println("producer_id not available: " + t);
            return null;
        }
    }

    // ------------------------------------------------------------------ helpers: misc

    static final class CheckFailed extends RuntimeException {
        CheckFailed(String m) { super(m); }
    }

    static void check(boolean ok, String what, Object expected, Object actual) {
        if (!ok) throw new CheckFailed(what + ": expected " + expected + ", got " + actual);
    }

    static String errorName(Throwable t) {
        if (t instanceof ApiException) {
            Errors e = Errors.forException(t);
            if (e != Errors.UNKNOWN_SERVER_ERROR || t.getClass() == org.apache.kafka.common.errors.UnknownServerException.class) {
                return e.name();
            }
        }
        return t.getClass().getSimpleName();
    }

    /** "ExceptionClass (KAFKA_ERROR, code): message", one line. */
    static String describe(Throwable t) {
        while ((t instanceof ExecutionException || t instanceof java.lang.reflect.InvocationTargetException
                || t.getClass() == org.apache.kafka.common.KafkaException.class) && t.getCause() != null) {
            t = t.getCause();
        }
        StringBuilder sb = new StringBuilder(t.getClass().getName());
        if (t instanceof ApiException) {
            Errors e = Errors.forException(t);
            if (e != Errors.UNKNOWN_SERVER_ERROR || t.getClass() == org.apache.kafka.common.errors.UnknownServerException.class) {
                sb.append(" (").append(e.name()).append(", code ").append(e.code()).append(')');
            }
        }
        if (t.getMessage() != null) sb.append(": ").append(t.getMessage());
        if (t.getCause() != null && t.getCause() != t) sb.append(" caused by ").append(t.getCause());
        return sb.toString().replace('\n', ' ').replace('\r', ' ');
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static String str(byte[] b) {
        if (b == null) return "null";
        String s = new String(b, StandardCharsets.UTF_8);
        return s.length() > 80 ? s.substring(0, 80) + "...(" + b.length + " bytes)" : s;
    }

    static byte[] repeat(char c, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    static Object nodeId(Node n) { return n == null ? "none" : n.id(); }

    static List<Integer> nodeIds(List<Node> ns) {
        List<Integer> l = new ArrayList<>();
        for (Node n : ns) l.add(n.id());
        return l;
    }

    // ------------------------------------------------------------------ per-scenario context

    static final class Ctx {
        final String scenario, bootstrap, prefix;
        final long deadline = System.currentTimeMillis() + SCENARIO_TIMEOUT_MS;
        final Map<String, Object> facts = new LinkedHashMap<>();
        final List<AutoCloseable> toClose = Collections.synchronizedList(new ArrayList<>());
        final List<KafkaConsumer<?, ?>> consumers = Collections.synchronizedList(new ArrayList<>());
        volatile String step = "start";
        volatile String status, detail = "";
        /** Client settings added to every client of the scenario (the secured listener's, see SecurityScenarios). */
        volatile Properties conn = new Properties();

        Ctx(String scenario, String bootstrap, String prefix) {
            this.scenario = scenario;
            this.bootstrap = bootstrap;
            this.prefix = prefix;
        }

        String topic(String s) { return prefix + "." + s; }

        long remainingMs() { return deadline - System.currentTimeMillis(); }

        synchronized void fail(String d) {
            if ("fail".equals(status)) return;
            status = "fail";
            detail = d;
        }

        <T> T await(Future<T> f, String what) throws Exception {
            long left = remainingMs();
            if (left <= 0) throw new CheckFailed("timeout: " + what);
            try {
                return f.get(left, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new CheckFailed("timeout: " + what);
            }
        }

        void sleep(long ms) throws InterruptedException {
            if (remainingMs() <= ms) throw new CheckFailed("timeout: " + step);
            Thread.sleep(ms);
        }

        Properties common() {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("client.id", "conformance-java-" + scenario);
            p.put("request.timeout.ms", "20000");
            p.putAll(conn);
            return p;
        }

        KafkaProducer<byte[], byte[]> producer(Properties extra) {
            Properties p = common();
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "50000");
            p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            p.putAll(extra);
            KafkaProducer<byte[], byte[]> pr = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            toClose.add(() -> pr.close(Duration.ofSeconds(5)));
            return pr;
        }

        KafkaConsumer<byte[], byte[]> consumer(Properties extra) {
            Properties p = common();
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"); // no group.id (unless given): assign + seek
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
            p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
            p.putAll(extra);
            KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumers.add(c);
            toClose.add(() -> c.close(Duration.ofSeconds(5)));
            return c;
        }

        Admin admin() {
            Properties p = common();
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
            Admin a = Admin.create(p);
            toClose.add(() -> a.close(Duration.ofSeconds(5)));
            return a;
        }

        /** From the main thread after the backstop timeout: unblock a consumer stuck in poll. */
        void abort() {
            synchronized (consumers) {
                for (KafkaConsumer<?, ?> c : consumers) c.wakeup();
            }
        }

        void unsupported(String why) {
            status = "unsupported";
            detail = why;
        }

        void closeAll() {
            List<AutoCloseable> l;
            synchronized (toClose) {
                l = new ArrayList<>(toClose);
                toClose.clear();
            }
            Collections.reverse(l);
            for (AutoCloseable c : l) {
                try {
                    c.close();
                } catch (Throwable t) {
                    System.err.println(scenario + ": close: " + t);
                }
            }
        }

        String toJson(double seconds) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", scenario);
            m.put("status", status == null ? "fail" : status);
            m.put("detail", status == null ? "timeout: " + step : detail);
            m.put("facts", new LinkedHashMap<>(facts));
            m.put("seconds", Math.round(seconds * 100) / 100.0);
            return Json.write(m);
        }
    }

    /** Just enough JSON: maps, lists, strings, numbers, booleans, null. */
    static final class Json {
        static String write(Object o) {
            StringBuilder sb = new StringBuilder();
            write(sb, o);
            return sb.toString();
        }

        static void write(StringBuilder sb, Object o) {
            if (o == null) {
                sb.append("null");
            } else if (o instanceof Map) {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                    if (!first) sb.append(", ");
                    first = false;
                    string(sb, String.valueOf(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue());
                }
                sb.append('}');
            } else if (o instanceof Collection) {
                sb.append('[');
                boolean first = true;
                for (Object e : (Collection<?>) o) {
                    if (!first) sb.append(", ");
                    first = false;
                    write(sb, e);
                }
                sb.append(']');
            } else if (o instanceof Boolean || o instanceof Integer || o instanceof Long || o instanceof Short) {
                sb.append(o);
            } else if (o instanceof Double || o instanceof Float) {
                double d = ((Number) o).doubleValue();
                if (Double.isFinite(d)) sb.append(o); else string(sb, String.valueOf(o));
            } else {
                string(sb, String.valueOf(o));
            }
        }

        static void string(StringBuilder sb, String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"': sb.append("\\\""); break;
                    case '\\': sb.append("\\\\"); break;
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default:
                        if (c < 0x20) sb.append(String.format("\\u%04x", (int) c)); else sb.append(c);
                }
            }
            sb.append('"');
        }
    }
}
