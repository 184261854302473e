// Produce records with the real Java producer (kafka-clients) to a capture endpoint, one
// producer per compression codec, each to topic "java-<codec>" partition 0:
//   java -cp 'tests/javacheck/lib/<v>/*' tests/javacheck/ProduceTo.java host:port count codec...
// Records: key "k<i>" (null for every 5th), value "value-<i>" repeated, header h=<i>,
// timestamp 1700000000000 + i. Idempotence off (the capture endpoint has no InitProducerId).
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ProduceTo {
    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[1]);
        for (int c = 2; c < args.length; c++) {
            produce(args[0], "java-" + args[c], args[c], count);
        }
    }

    static void produce(String bootstrap, String topic, String codec, int count) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("compression.type", codec);
        p.put("enable.idempotence", "false");
        p.put("acks", "1");
        p.put("linger.ms", "50");
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                byte[] key = i % 5 == 0 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8);
                byte[] value = ("value-" + i).repeat(1 + i % 7).getBytes(StandardCharsets.UTF_8);
                RecordHeaders headers = new RecordHeaders();
                headers.add("h", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                producer.send(new ProducerRecord<>(topic, 0, 1700000000000L + i, key, value, headers));
            }
            producer.flush();
        }
    }
}
