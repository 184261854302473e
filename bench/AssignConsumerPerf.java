/*
 * Consumer throughput without a consumer group, for brokers that do not (yet) serve the group APIs.
 *
 * Kafka's own org.apache.kafka.tools.ConsumerPerformance always subscribes through a group
 * (FindCoordinator, JoinGroup, SyncGroup...). This tool reads the same way with assign() and
 * seekToBeginning() on every partition of the topic, with ConsumerPerformance's client settings
 * (max.partition.fetch.bytes 1 MiB, receive.buffer.bytes 2 MiB, check.crcs=false), and prints one
 * line in ConsumerPerformance's CSV layout (rebalance.time.ms is 0, fetch.* equal the totals):
 *
 *   java -cp 'bench/.kafka/classes:conformance/.kafka/lib/*' AssignConsumerPerf BOOTSTRAP TOPIC NUM_RECORDS TIMEOUT_MS \
 *       [CONFIG_FILE]
 *
 * CONFIG_FILE (optional) is a client properties file loaded on top of those settings, like
 * ConsumerPerformance's --command-config: e.g. security.protocol=SSL and the ssl.truststore.* keys.
 *
 * bench/broker_bench.py compiles it into bench/.kafka/classes on first use.
 */

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class AssignConsumerPerf {
    private static final DateTimeFormatter FMT =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss:SSS").withZone(ZoneId.systemDefault());

    public static void main(String[] args) throws IOException {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: AssignConsumerPerf BOOTSTRAP TOPIC NUM_RECORDS TIMEOUT_MS [CONFIG_FILE]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        long wanted = Long.parseLong(args[2]);
        long timeoutMs = Long.parseLong(args[3]);

        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(1024 * 1024));
        props.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, Integer.toString(2 * 1024 * 1024));
        props.put(ConsumerConfig.CHECK_CRCS_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "assign-consumer-perf");
        if (args.length == 5) {
            try (InputStream in = Files.newInputStream(Paths.get(args[4]))) {
                props.load(in);
            }
        }

        long records = 0;
        long bytes = 0;
        long start;
        long end;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofMillis(timeoutMs))) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            start = System.currentTimeMillis();
            long lastProgress = start;
            end = start;
            while (records < wanted && System.currentTimeMillis() - lastProgress <= timeoutMs) {
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
                if (batch.isEmpty()) {
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    records++;
                    if (r.key() != null) {
                        bytes += r.key().length;
                    }
                    if (r.value() != null) {
                        bytes += r.value().length;
                    }
                }
                lastProgress = System.currentTimeMillis();
                end = lastProgress;
            }
        }
        if (records < wanted) {
            System.err.printf("WARNING: Exiting before consuming the expected number of records: timeout (%d ms) exceeded.%n",
                timeoutMs);
        }
        double seconds = Math.max(end - start, 1) / 1000.0;
        double mb = bytes / (1024.0 * 1024.0);
        System.out.println("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
            + "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec");
        System.out.printf("%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f%n",
            FMT.format(Instant.ofEpochMilli(start)), FMT.format(Instant.ofEpochMilli(end)), mb, mb / seconds,
            records, records / seconds, 0, end - start, mb / seconds, records / seconds);
    }
}
