// The Java client against a broker: AdminClient creates a topic, the producer with its
// defaults (idempotent, acks=all) sends records, a consumer reads them back by assignment,
// AdminClient lists and deletes the topic. Prints "OK produced=N consumed=N" or fails.
//   java -cp 'tests/javacheck/lib/<v>/*' tests/javacheck/ClientScenario.java host:port count [client.properties]
// The optional properties file adds client settings (security.protocol, sasl.*, ssl.*) to every client.
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class ClientScenario {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        int count = Integer.parseInt(args[1]);
        String topic = "java-scenario";
        Properties common = new Properties();
        common.put("bootstrap.servers", bootstrap);
        if (args.length > 2) {
            try (var in = new java.io.FileInputStream(args[2])) {
                common.load(in);
            }
        }
        try (Admin admin = Admin.create(common)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            Set<String> names = admin.listTopics().names().get();
            if (!names.contains(topic)) throw new AssertionError("topic not listed: " + names);
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            if (d.partitions().size() != 2) throw new AssertionError("partitions: " + d);
        }
        Properties pp = new Properties();
        pp.putAll(common);
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            List<java.util.concurrent.Future<RecordMetadata>> acks = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, i % 2, "k" + i, "v" + i);
                r.headers().add("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                acks.add(producer.send(r));
            }
            for (var f : acks) f.get();
        }
        Properties cp = new Properties();
        cp.putAll(common);
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        cp.put("enable.auto.commit", "false");
        int consumed = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 60000;
            Set<String> seen = new HashSet<>();
            while (seen.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    int i = Integer.parseInt(r.key().substring(1));
                    String h = new String(r.headers().lastHeader("i").value(), StandardCharsets.UTF_8);
                    if (!r.value().equals("v" + i) || !h.equals(Integer.toString(i)) || r.partition() != i % 2)
                        throw new AssertionError("bad record " + r);
                    seen.add(r.key());
                }
            }
            consumed = seen.size();
            Map<TopicPartition, Long> end = consumer.endOffsets(tps);
            long total = end.values().stream().mapToLong(Long::longValue).sum();
            if (total != count) throw new AssertionError("end offsets " + end);
        }
        try (Admin admin = Admin.create(common)) {
            admin.deleteTopics(List.of(topic)).all().get();
        }
        System.out.println("OK produced=" + count + " consumed=" + consumed);
        if (consumed != count) System.exit(1);
    }
}
