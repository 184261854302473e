// Consumer-group scenarios of conformance/SCENARIOS.md (group-offsets, group-rebalance, group-cooperative,
// group-consumer-protocol, group-static). Each consumer runs in its own thread (KafkaConsumer is single
// threaded) and records its callbacks, records and commits against one monotonic clock.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

final class GroupScenarios {

    private GroupScenarios() {}

    static final long START = System.nanoTime();

    /** The shared monotonic clock, ms. */
    static double now() { return (System.nanoTime() - START) / 1e6; }

    // ------------------------------------------------------------------ group-offsets

    static void offsets(ConformanceDriver.Ctx ctx) throws Exception {
        String topic = ctx.topic("consume-earliest");
        String group = ctx.topic("group-offsets");
        TopicPartition tp = new TopicPartition(topic, 0);
        Properties cp = new Properties();
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");

        KafkaConsumer<byte[], byte[]> c1 = ctx.consumer(cp);
        c1.assign(Collections.singletonList(tp));
        ctx.step = "endOffsets " + tp;
        long end = c1.endOffsets(Collections.singletonList(tp), Duration.ofMillis(ctx.remainingMs())).get(tp);
        if (end == 0) {
            KafkaProducer<byte[], byte[]> producer = ctx.producer(ConformanceDriver.acksAll());
            ConformanceDriver.produceStandard(ctx, producer, topic, 0, 20, "consume-earliest", i -> 0);
            end = 20;
        }
        ctx.facts.put("end_offset", end);
        ctx.step = "commitSync offset 7 metadata m7 (group " + group + ")";
        c1.commitSync(Collections.singletonMap(tp, new OffsetAndMetadata(7, "m7")), Duration.ofMillis(ctx.remainingMs()));
        ctx.step = "close first consumer";
        c1.close(Duration.ofSeconds(5));

        KafkaConsumer<byte[], byte[]> c2 = ctx.consumer(cp);
        ctx.step = "committed() by a new consumer";
        Map<TopicPartition, OffsetAndMetadata> got =
                c2.committed(Collections.singleton(tp), Duration.ofMillis(ctx.remainingMs()));
        OffsetAndMetadata om = got.get(tp);
        ctx.facts.put("committed", om == null ? null : om.offset() + " " + om.metadata());
        ConformanceDriver.check(om != null, "committed offset of " + tp, "7 m7", "none");
        ConformanceDriver.check(om.offset() == 7, "committed offset of " + tp, 7, om.offset());
        ConformanceDriver.check("m7".equals(om.metadata()), "committed metadata of " + tp, "m7", om.metadata());
        c2.assign(Collections.singletonList(tp));
        List<ConsumerRecord<byte[], byte[]>> recs = ConformanceDriver.pollUntil(ctx, c2, 1, 0, "a record after the committed offset");
        ConsumerRecord<byte[], byte[]> r = recs.get(0);
        ctx.facts.put("resumed_at", r.offset());
        ConformanceDriver.check(r.offset() == 7, "first offset read after resume", 7, r.offset());
        ConformanceDriver.check(java.util.Arrays.equals(r.key(), ConformanceDriver.utf8("k7")), "key at offset 7", "k7",
                ConformanceDriver.str(r.key()));
    }

    // ------------------------------------------------------------------ shared bookkeeping

    static final class Interval {
        final int partition;
        final double start, end;
        final String member;

        Interval(int partition, double start, double end, String member) {
            this.partition = partition;
            this.start = start;
            this.end = end;
            this.member = member;
        }
    }

    static final class Event {
        final double t;
        final String type; // assigned, revoked, lost
        final Set<Integer> partitions;

        Event(double t, String type, Collection<TopicPartition> tps) {
            this.t = t;
            this.type = type;
            this.partitions = new TreeSet<>();
            for (TopicPartition tp : tps) partitions.add(tp.partition());
        }

        String rel(double t0) { return String.format("%.0f %s %s", t - t0, type, partitions); }

        @Override public String toString() { return rel(0); }
    }

    /** Everything the consumers of one scenario share. */
    static final class Group {
        final ConformanceDriver.Ctx ctx;
        final String topic, groupId;
        final Object lock = new Object();
        final List<Interval> intervals = new ArrayList<>();
        final List<Map<Integer, Long>> commits = new ArrayList<>(); // completion order
        final Map<String, Integer> commitErrors = new TreeMap<>();
        final Set<Long> consumedKeys = new HashSet<>();             // partition << 40 | offset
        final double t0 = now();
        int consumedTotal;
        int rebalances;
        volatile Throwable memberError;
        volatile String memberErrorWhere;

        Group(ConformanceDriver.Ctx ctx, String topic, String groupId) {
            this.ctx = ctx;
            this.topic = topic;
            this.groupId = groupId;
        }

        int uniqueConsumed() {
            synchronized (lock) { return consumedKeys.size(); }
        }

        boolean consumedAll(Collection<Long> keys) {
            synchronized (lock) { return consumedKeys.containsAll(keys); }
        }
    }

    static long key(int partition, long offset) { return ((long) partition << 40) | offset; }

    /** One group member in its own thread: subscribe, poll, commit synchronously after each poll, close. */
    static final class Member implements Runnable, ConsumerRebalanceListener {
        final String name;
        final Group g;
        final Properties props;
        final List<Event> events = Collections.synchronizedList(new ArrayList<>());
        final Map<Integer, Double> owned = new TreeMap<>();
        final Thread thread;
        volatile KafkaConsumer<byte[], byte[]> consumer;
        volatile boolean stop;
        volatile boolean closed;
        volatile double stopAt = Double.MAX_VALUE;

        Member(String name, Group g, Properties props) {
            this.name = name;
            this.g = g;
            this.props = props;
            this.thread = new Thread(this, "member-" + name);
            this.thread.setDaemon(true);
        }

        void start() { thread.start(); }

        /** Ask the member to close (leaving the group as the client does on close) and wait for it. */
        void stopAndJoin(long ms) throws InterruptedException {
            stopAt = now();
            stop = true;
            KafkaConsumer<byte[], byte[]> c = consumer;
            if (c != null) c.wakeup();
            thread.join(ms);
        }

        Set<Integer> ownedNow() {
            synchronized (owned) { return new TreeSet<>(owned.keySet()); }
        }

        boolean hasAssignment() {
            synchronized (events) {
                for (Event e : events) if (e.type.equals("assigned")) return true;
            }
            return false;
        }

        @Override public void onPartitionsAssigned(Collection<TopicPartition> tps) {
            double t = now();
            events.add(new Event(t, "assigned", tps));
            synchronized (g.lock) { g.rebalances++; }
            synchronized (owned) {
                for (TopicPartition tp : tps) owned.putIfAbsent(tp.partition(), t);
            }
        }

        @Override public void onPartitionsRevoked(Collection<TopicPartition> tps) { release("revoked", tps); }

        @Override public void onPartitionsLost(Collection<TopicPartition> tps) { release("lost", tps); }

        void release(String type, Collection<TopicPartition> tps) {
            double t = now();
            if (tps.isEmpty()) return;
            events.add(new Event(t, type, tps));
            synchronized (owned) {
                for (TopicPartition tp : tps) {
                    Double since = owned.remove(tp.partition());
                    if (since != null) synchronized (g.lock) { g.intervals.add(new Interval(tp.partition(), since, t, name)); }
                }
            }
        }

        @Override public void run() {
            String where = "create consumer";
            try {
                consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                where = "subscribe";
                consumer.subscribe(Collections.singletonList(g.topic), this);
                while (!stop) {
                    where = "poll";
                    ConsumerRecords<byte[], byte[]> recs;
                    try {
                        recs = consumer.poll(Duration.ofMillis(100));
                    } catch (WakeupException e) {
                        if (stop) break;
                        continue;
                    }
                    if (recs.isEmpty()) continue;
                    Map<TopicPartition, OffsetAndMetadata> pos = new HashMap<>();
                    synchronized (g.lock) {
                        for (ConsumerRecord<byte[], byte[]> r : recs) {
                            g.consumedKeys.add(key(r.partition(), r.offset()));
                            g.consumedTotal++;
                        }
                    }
                    for (TopicPartition tp : recs.partitions()) {
                        List<ConsumerRecord<byte[], byte[]>> l = recs.records(tp);
                        pos.put(tp, new OffsetAndMetadata(l.get(l.size() - 1).offset() + 1));
                    }
                    where = "commitSync";
                    try {
                        consumer.commitSync(pos);
                        Map<Integer, Long> done = new TreeMap<>();
                        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : pos.entrySet()) {
                            done.put(e.getKey().partition(), e.getValue().offset());
                        }
                        synchronized (g.lock) { g.commits.add(done); }
                    } catch (WakeupException e) {
                        if (stop) break;
                    } catch (KafkaException e) {
                        String n = ConformanceDriver.errorName(e);
                        synchronized (g.lock) { g.commitErrors.merge(n, 1, Integer::sum); }
                    }
                }
            } catch (Throwable t) {
                if (g.memberError == null) {
                    g.memberErrorWhere = name + " " + where;
                    g.memberError = t;
                }
            } finally {
                KafkaConsumer<byte[], byte[]> c = consumer;
                if (c != null) {
                    try {
                        c.close(Duration.ofSeconds(5));
                    } catch (Throwable t) {
                        System.err.println(name + ": close: " + t);
                    }
                }
                double t = now();
                synchronized (owned) {
                    for (Map.Entry<Integer, Double> e : owned.entrySet()) {
                        synchronized (g.lock) { g.intervals.add(new Interval(e.getKey(), e.getValue(), t, name)); }
                    }
                    owned.clear();
                }
                closed = true;
            }
        }
    }

    static Properties memberProps(ConformanceDriver.Ctx ctx, String groupId, String mode) {
        Properties p = new Properties();
        p.put("bootstrap.servers", ctx.bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "20000");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        if (mode.equals("consumer")) {
            p.put("group.protocol", "consumer"); // KIP-848: heartbeat and assignor are the broker's
        } else {
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
            if (mode.equals("cooperative")) {
                p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                        org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
            }
        }
        return p;
    }

    static boolean hasConsumerProtocol() {
        try {
            ConsumerConfig.class.getField("GROUP_PROTOCOL_CONFIG");
            return true;
        } catch (NoSuchFieldException e) {
            return false;
        }
    }

    static void throwMemberError(Group g) {
        Throwable t = g.memberError;
        if (t != null) throw new ConformanceDriver.CheckFailed(g.memberErrorWhere + ": " + ConformanceDriver.describe(t));
    }

    static void sleepUntil(ConformanceDriver.Ctx ctx, Group g, double t0, long atMs) throws InterruptedException {
        while (now() - t0 < atMs) {
            throwMemberError(g);
            if (ctx.remainingMs() < 1000) throw new ConformanceDriver.CheckFailed("timeout: " + ctx.step);
            Thread.sleep(Math.max(1, Math.min(50, (long) (atMs - (now() - t0)))));
        }
    }

    // ------------------------------------------------------------------ group-rebalance / -cooperative / -consumer-protocol

    static void rebalance(ConformanceDriver.Ctx ctx, String mode) throws Exception {
        if (mode.equals("consumer") && !hasConsumerProtocol()) {
            ctx.unsupported("kafka-clients " + ConformanceDriver.clientVersion()
                    + " has no group.protocol=consumer (the KIP-848 consumer arrived in kafka-clients 3.7)");
            return;
        }
        String topic = ctx.topic(ctx.scenario);
        Group g = new Group(ctx, topic, ctx.topic(ctx.scenario));
        int n = 3000, parts = 12;
        KafkaProducer<byte[], byte[]> producer = ctx.producer(ConformanceDriver.acksAll());
        List<Future<RecordMetadata>> futures = Collections.synchronizedList(new ArrayList<>());
        Throwable[] produceError = new Throwable[1];
        double t0 = g.t0;
        Thread prod = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    double due = i * 1000.0 / 300.0;
                    double ahead = due - (now() - t0);
                    if (ahead > 5) Thread.sleep((long) ahead);
                    futures.add(producer.send(ConformanceDriver.standardRecord(topic, i % parts, ctx.scenario, i)));
                }
                producer.flush();
            } catch (Throwable t) {
                produceError[0] = t;
            }
        }, "producer");
        prod.setDaemon(true);
        Properties props = memberProps(ctx, g.groupId, mode);
        Member c1 = new Member("C1", g, props), c2 = new Member("C2", g, props), c3 = new Member("C3", g, props);
        List<Member> members = List.of(c1, c2, c3);
        try {
            ctx.step = "produce at 300 records/s; C1 starts";
            prod.start();
            c1.start();
            ctx.step = "C2 joins at 2 s";
            sleepUntil(ctx, g, t0, 2000);
            c2.start();
            ctx.step = "C3 joins at 4 s";
            sleepUntil(ctx, g, t0, 4000);
            c3.start();
            ctx.step = "C1 closes at 6 s";
            sleepUntil(ctx, g, t0, 6000);
            c1.stopAndJoin(10_000);
            ctx.step = "C2 closes at 8 s";
            sleepUntil(ctx, g, t0, 8000);
            c2.stopAndJoin(10_000);

            ctx.step = "producer done";
            prod.join(Math.max(1, ctx.remainingMs() - 8000));
            if (prod.isAlive()) throw new ConformanceDriver.CheckFailed("timeout: producing 3000 records");
            if (produceError[0] != null) throw new ConformanceDriver.CheckFailed("produce: " + ConformanceDriver.describe(produceError[0]));
            List<Long> keys = new ArrayList<>();
            for (int i = 0; i < futures.size(); i++) {
                try {
                    RecordMetadata m = ctx.await(futures.get(i), "delivery of record " + i);
                    keys.add(key(m.partition(), m.offset()));
                } catch (ExecutionException e) {
                    throw new ConformanceDriver.CheckFailed("delivery of record " + i + ": " + ConformanceDriver.describe(e.getCause()));
                }
            }
            ctx.facts.put("produced", keys.size());

            ctx.step = "C3 consumes every record";
            while (!g.consumedAll(keys)) {
                throwMemberError(g);
                if (c3.closed) throw new ConformanceDriver.CheckFailed("C3 stopped before every record was consumed");
                if (ctx.remainingMs() < 8000) {
                    throw new ConformanceDriver.CheckFailed("timeout: every record consumed (have " + g.uniqueConsumed()
                            + " of " + keys.size() + ")");
                }
                Thread.sleep(50);
            }
            c3.stopAndJoin(10_000);
            throwMemberError(g);
        } finally {
            for (Member m : members) if (!m.closed) m.stopAndJoin(6_000);
            prod.interrupt();
            facts(ctx, g, members);
        }

        // (b) committed offsets never decrease per partition, in completion order
        Map<Integer, Long> last = new HashMap<>();
        for (Map<Integer, Long> c : g.commits) {
            for (Map.Entry<Integer, Long> e : c.entrySet()) {
                Long prev = last.get(e.getKey());
                ConformanceDriver.check(prev == null || e.getValue() >= prev,
                        "committed offsets of partition " + e.getKey() + " never decrease", ">= " + prev, e.getValue());
                last.put(e.getKey(), e.getValue());
            }
        }
        // (c) ownership intervals of a partition never overlap
        checkNoOverlap(g);
        // cooperative: C3 keeps its partitions when C1 or C2 leaves
        if (mode.equals("cooperative")) {
            synchronized (c3.events) {
                for (Event e : c3.events) {
                    if (!e.type.equals("assigned") && e.t < c3.stopAt) {
                        throw new ConformanceDriver.CheckFailed("C3 keeps its partitions (incremental rebalance): expected no revocation, got "
                                + e.type + " " + e.partitions + " at " + String.format("%.0f", e.t - t0) + " ms");
                    }
                }
            }
        }
    }

    static void checkNoOverlap(Group g) {
        Map<Integer, List<Interval>> by = new TreeMap<>();
        synchronized (g.lock) {
            for (Interval iv : g.intervals) by.computeIfAbsent(iv.partition, k -> new ArrayList<>()).add(iv);
        }
        for (Map.Entry<Integer, List<Interval>> e : by.entrySet()) {
            List<Interval> l = e.getValue();
            l.sort((a, b) -> Double.compare(a.start, b.start));
            for (int k = 1; k < l.size(); k++) {
                Interval a = l.get(k - 1), b = l.get(k);
                ConformanceDriver.check(b.start >= a.end, "partition " + e.getKey() + " owned by one consumer at a time",
                        a.member + " until " + String.format("%.0f", a.end) + " ms before " + b.member + " from",
                        String.format("%.0f", b.start) + " ms");
            }
        }
    }

    static void facts(ConformanceDriver.Ctx ctx, Group g, List<Member> members) {
        synchronized (g.lock) {
            ctx.facts.put("consumed", g.consumedTotal);
            ctx.facts.put("duplicates", g.consumedTotal - g.consumedKeys.size());
            ctx.facts.put("rebalances", g.rebalances);
            ctx.facts.put("commits", g.commits.size());
            ctx.facts.put("commit_errors", new TreeMap<>(g.commitErrors));
        }
        Map<String, Object> ev = new LinkedHashMap<>();
        for (Member m : members) {
            List<Object> l = new ArrayList<>();
            synchronized (m.events) {
                for (Event e : m.events) l.add(e.rel(g.t0));
            }
            ev.put(m.name, l);
        }
        ctx.facts.put("callbacks_ms", ev);
    }

    // ------------------------------------------------------------------ group-static

    static void staticMembership(ConformanceDriver.Ctx ctx) throws Exception {
        String topic = ctx.topic("group-static");
        Group g = new Group(ctx, topic, ctx.topic("group-static"));
        KafkaProducer<byte[], byte[]> producer = ctx.producer(ConformanceDriver.acksAll());
        List<RecordMetadata> first = ConformanceDriver.produceStandard(ctx, producer, topic, 0, 100, "group-static", i -> i % 4);
        List<Long> firstKeys = new ArrayList<>();
        for (RecordMetadata m : first) firstKeys.add(key(m.partition(), m.offset()));

        Properties base = memberProps(ctx, g.groupId, "classic");
        base.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        base.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        Properties pa = new Properties(), pb = new Properties();
        pa.putAll(base);
        pb.putAll(base);
        pa.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, ctx.prefix + ".a");
        pb.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, ctx.prefix + ".b");
        Member a = new Member("A", g, pa), b = new Member("B", g, pb), a2 = new Member("A2", g, pa);
        List<Member> members = List.of(a, b, a2);
        try {
            ctx.step = "A joins";
            a.start();
            while (!a.hasAssignment()) pause(ctx, g);
            ctx.step = "B joins; A and B consume records 0..99";
            b.start();
            while (!(b.hasAssignment() && g.consumedAll(firstKeys) && a.ownedNow().size() + b.ownedNow().size() == 4
                    && !a.ownedNow().isEmpty() && !b.ownedNow().isEmpty())) {
                pause(ctx, g);
            }
            Set<Integer> assignA = a.ownedNow(), assignB = b.ownedNow();
            ctx.facts.put("assignment_a", new ArrayList<>(assignA));
            ctx.facts.put("assignment_b", new ArrayList<>(assignB));

            ctx.step = "close A (static member: no LeaveGroup)";
            a.stopAndJoin(10_000);
            ctx.step = "A' joins with A's instance id";
            a2.start();
            List<RecordMetadata> second = ConformanceDriver.produceStandard(ctx, producer, topic, 100, 100, "group-static", i -> i % 4);
            List<Long> secondKeys = new ArrayList<>();
            for (RecordMetadata m : second) secondKeys.add(key(m.partition(), m.offset()));
            ctx.step = "A' and B consume records 100..199";
            while (!g.consumedAll(secondKeys)) pause(ctx, g);
            Set<Integer> assignA2 = a2.ownedNow();
            ctx.facts.put("assignment_a2", new ArrayList<>(assignA2));
            List<Event> bEvents;
            synchronized (b.events) { bEvents = new ArrayList<>(b.events); }
            List<Object> shown = new ArrayList<>();
            for (Event e : bEvents) shown.add(e.rel(g.t0));
            ctx.facts.put("callbacks_b_ms", shown);
            ConformanceDriver.check(bEvents.size() == 1, "B sees no revocation or new assignment after its first assignment",
                    "[" + shown.get(0) + "]", shown);
            ConformanceDriver.check(assignA2.equals(assignA), "A' gets A's partitions", assignA, assignA2);
        } finally {
            for (Member m : members) if (!m.closed && m.thread.isAlive()) m.stopAndJoin(6_000);
            synchronized (g.lock) {
                ctx.facts.put("consumed", g.consumedTotal);
                ctx.facts.put("commit_errors", new TreeMap<>(g.commitErrors));
            }
        }
    }

    static void pause(ConformanceDriver.Ctx ctx, Group g) throws InterruptedException {
        throwMemberError(g);
        if (ctx.remainingMs() < 8000) throw new ConformanceDriver.CheckFailed("timeout: " + ctx.step);
        Thread.sleep(50);
    }
}
