// Consumer groups with the Java client: AdminClient creates a topic, a producer writes COUNT records,
// two consumers subscribed in one group (group.protocol=classic or consumer, KIP-848) read them all and
// commit synchronously; the group's committed offsets are then read back with AdminClient.
// Consumers poll slowly so that the second one joins while the first owns every partition: the rebalance
// listeners check that no partition is ever owned by both at once (revocation before assignment).
// Prints "OK protocol=P consumed=N committed=N assignments=A" or fails.
//   java -cp 'tests/javacheck/lib/<v>/*' tests/javacheck/GroupScenario.java host:port protocol topic group count
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class GroupScenario {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], protocol = args[1], topic = args[2], group = args[3];
        int count = Integer.parseInt(args[4]);
        int partitions = 6;
        Properties common = new Properties();
        common.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
        Properties pp = new Properties();
        pp.putAll(common);
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, "v" + i));
            producer.flush();
        }
        Set<String> seen = ConcurrentHashMap.newKeySet();
        Map<TopicPartition, Integer> owners = new ConcurrentHashMap<>();
        AtomicInteger assignments = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean done = new AtomicBoolean(false);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            final int me = c;
            Thread t = new Thread(() -> {
                Properties cp = new Properties();
                cp.putAll(common);
                cp.put("group.id", group);
                cp.put("group.protocol", protocol);
                cp.put("auto.offset.reset", "earliest");
                cp.put("enable.auto.commit", "false");
                cp.put("key.deserializer", StringDeserializer.class.getName());
                cp.put("value.deserializer", StringDeserializer.class.getName());
                cp.put("max.poll.records", "20");
                if (protocol.equals("classic")) {
                    cp.put("session.timeout.ms", "6000");
                    cp.put("heartbeat.interval.ms", "500");
                }
                try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
                    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                            for (TopicPartition tp : parts) owners.remove(tp, me);
                        }
                        public void onPartitionsLost(Collection<TopicPartition> parts) {
                            for (TopicPartition tp : parts) owners.remove(tp, me);
                        }
                        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                            if (!parts.isEmpty()) assignments.incrementAndGet();
                            for (TopicPartition tp : parts) {
                                Integer other = owners.putIfAbsent(tp, me);
                                if (other != null && other != me)
                                    failure.compareAndSet(null, new AssertionError(tp + " owned by " + other + " and " + me));
                            }
                        }
                    });
                    while (!done.get()) {
                        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                        for (ConsumerRecord<String, String> r : records) seen.add(r.key());
                        if (!records.isEmpty()) consumer.commitSync();
                        Thread.sleep(20);
                    }
                    consumer.commitSync();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            t.start();
            threads.add(t);
            Thread.sleep(500);
        }
        long deadline = System.currentTimeMillis() + 60000;
        while ((seen.size() < count || assignments.get() < 2) && System.currentTimeMillis() < deadline
               && failure.get() == null) Thread.sleep(100);
        Thread.sleep(500);
        done.set(true);
        for (Thread t : threads) t.join(30000);
        if (failure.get() != null) throw new RuntimeException(failure.get());
        long committed = 0;
        try (Admin admin = Admin.create(common)) {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            for (OffsetAndMetadata o : offsets.values()) committed += o.offset();
        }
        System.out.println("OK protocol=" + protocol + " consumed=" + seen.size() + " committed=" + committed
            + " assignments=" + assignments.get());
        if (seen.size() != count || committed != count || assignments.get() < 2) System.exit(1);
    }
}
