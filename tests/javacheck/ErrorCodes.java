// Print every Kafka error: "code NAME [retriable]" (kafka-clients on the classpath).
import org.apache.kafka.common.protocol.Errors;
public class ErrorCodes { public static void main(String[] a) { for (Errors e : Errors.values()) System.out.println(e.code() + " " + e.name() + " " + (e.exception() == null ? "" : (e.exception() instanceof org.apache.kafka.common.errors.RetriableException ? "retriable" : ""))); } }
