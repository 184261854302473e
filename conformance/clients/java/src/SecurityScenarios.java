// The security scenarios of conformance/SCENARIOS.md (security-ssl, security-sasl-plaintext,
// security-sasl-ssl, security-auth-failure) over the listeners of the runner's --security file.
// kafka-clients 2.8 and 4.x: PEM truststores (KIP-651, 2.7+), credentials in sasl.jaas.config;
// OAUTHBEARER: the client's own unsecured JWT (OAuthBearerUnsecuredLoginCallbackHandler, the default),
// or a given token as is (FixedToken, for the expired and signed tokens that must be refused).

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

public final class SecurityScenarios {
    private SecurityScenarios() {}

    static final String[] MECHANISMS = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"};
    static final String OAUTHBEARER = "OAUTHBEARER";
    static final String OAUTH_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

    /** A login callback handler handing out the JAAS option {@code token} as is (lifetime: 5 minutes from now). */
    public static final class FixedToken implements AuthenticateCallbackHandler {
        private String token;
        private String principal;

        @Override
        public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {
            token = (String) entries.get(0).getOptions().get("token");
            principal = (String) entries.get(0).getOptions().get("principal");
        }

        @Override
        public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
            for (Callback cb : callbacks) {
                if (!(cb instanceof OAuthBearerTokenCallback)) throw new UnsupportedCallbackException(cb);
                final long lifetime = System.currentTimeMillis() + 300_000L;
                ((OAuthBearerTokenCallback) cb).token(new OAuthBearerToken() {
                    @Override public String value() { return token; }
                    @Override public Set<String> scope() { return java.util.Collections.emptySet(); }
                    @Override public long lifetimeMs() { return lifetime; }
                    @Override public String principalName() { return principal; }
                    @Override public Long startTimeMs() { return null; }
                });
            }
        }

        @Override
        public void close() {}
    }

    /** The parsed --security file, or null when the runner gave none. */
    static volatile Map<String, Object> security;

    static void load(String path) {
        try {
            String text = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) new JsonReader(text).value();
            security = m;
        } catch (Exception e) {
            System.err.println("--security " + path + ": " + e);
            System.exit(2);
        }
    }

    static Map<String, Object> sec() {
        if (security == null) throw new ConformanceDriver.CheckFailed("security scenario without --security FILE");
        return security;
    }

    @SuppressWarnings("unchecked")
    static String user(String mechanism, String field) {
        return (String) ((Map<String, Object>) ((Map<String, Object>) sec().get("users")).get(mechanism)).get(field);
    }

    static String jaasQuote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Client settings for a secured listener (the mechanism's own user and password unless given; OAUTHBEARER:
     *  the client's unsecured JWT for the user, or the password as the token). */
    static Properties conn(String protocol, String mechanism, String username, String password) {
        Map<String, Object> sec = sec();
        Properties p = new Properties();
        p.put("bootstrap.servers", (String) sec.get(protocol.toLowerCase()));
        p.put("security.protocol", protocol);
        if (protocol.endsWith("SSL")) {
            // Verify the chain against the CA and the name (IP SAN) against the address (the default "https").
            p.put("ssl.truststore.type", "PEM");
            p.put("ssl.truststore.location", (String) sec.get("ca_file"));
            p.put("ssl.endpoint.identification.algorithm", "https");
        }
        if (OAUTHBEARER.equals(mechanism)) {
            String u = username != null ? username : user(mechanism, "username");
            p.put("sasl.mechanism", mechanism);
            if (password == null) {
                p.put("sasl.jaas.config", OAUTH_MODULE + " required unsecuredLoginStringClaim_sub=" + jaasQuote(u) + ";");
            } else {
                p.put("sasl.login.callback.handler.class", FixedToken.class.getName());
                p.put("sasl.jaas.config", OAUTH_MODULE + " required principal=" + jaasQuote(u) + " token="
                        + jaasQuote(password) + ";");
            }
        } else if (mechanism != null) {
            String module = mechanism.equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            String u = username != null ? username : user(mechanism, "username");
            String pw = password != null ? password : user(mechanism, "password");
            p.put("sasl.mechanism", mechanism);
            p.put("sasl.jaas.config", module + " required username=" + jaasQuote(u) + " password=" + jaasQuote(pw) + ";");
        }
        return p;
    }

    /** Produce standard records 0..n-1 to `partition` of T(s) over `conn`, read them back identical. */
    static void roundtrip(ConformanceDriver.Ctx ctx, Properties conn, int n, int partition, String label) throws Exception {
        ctx.conn = conn;
        try {
            String topic = ctx.topic(ctx.scenario);
            KafkaProducer<byte[], byte[]> producer = ctx.producer(ConformanceDriver.acksAll());
            List<RecordMetadata> md = ConformanceDriver.produceStandard(ctx, producer, topic, 0, n, i -> partition);
            for (int i = 0; i < n; i++) {
                ConformanceDriver.check(md.get(i).offset() == i, label + ": delivery offset of record " + i, i, md.get(i).offset());
            }
            List<ConsumerRecord<byte[], byte[]>> got = ConformanceDriver.readFrom(ctx, topic, partition, 0L, n, 0);
            ctx.facts.put("consumed" + (label.isEmpty() ? "" : "_" + label), got.size());
            for (int i = 0; i < got.size() && i < n; i++) {
                ConformanceDriver.compareStandard(ctx.scenario, got.get(i), i, i, label.isEmpty() ? "" : label + " ");
            }
            ConformanceDriver.check(got.size() == n, label + " records read", n, got.size());
        } finally {
            ctx.closeAll();
            ctx.conn = new Properties();
        }
    }

    static void ssl(ConformanceDriver.Ctx ctx) throws Exception {
        roundtrip(ctx, conn("SSL", null, null, null), 20, 0, "");
        ctx.facts.put("ca_verified", true);
    }

    static void sasl(ConformanceDriver.Ctx ctx, String protocol) throws Exception {
        List<String> used = new ArrayList<>();
        for (int m = 0; m < MECHANISMS.length; m++) {
            roundtrip(ctx, conn(protocol, MECHANISMS[m], null, null), 10, m, MECHANISMS[m]);
            used.add(MECHANISMS[m]);
        }
        ctx.facts.put("mechanisms", used);
    }

    static Admin admin(ConformanceDriver.Ctx ctx, Properties conn) {
        Properties p = new Properties();
        p.put("client.id", "conformance-java-" + ctx.scenario);
        p.put("request.timeout.ms", "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.putAll(conn);
        Admin a = Admin.create(p);
        ctx.toClose.add(() -> a.close(java.time.Duration.ofSeconds(5)));
        return a;
    }

    static void authFailure(ConformanceDriver.Ctx ctx) throws Exception {
        Map<String, Object> sec = sec();
        Map<String, Object> refused = new LinkedHashMap<>();
        for (String mech : MECHANISMS) {
            String[][] attempts = OAUTHBEARER.equals(mech)
                    ? new String[][] {
                        {"expired token", user(mech, "username"), (String) sec.get("expired_token")},
                        {"signed token", user(mech, "username"), (String) sec.get("bad_token")},
                    }
                    : new String[][] {
                        {"wrong password", user(mech, "username"), (String) sec.get("wrong_password")},
                        {"unknown user", (String) sec.get("unknown_user"), user(mech, "password")},
                    };
            for (String[] a : attempts) {
                ctx.step = mech + " " + a[0] + ": authentication error";
                Admin admin = admin(ctx, conn("SASL_PLAINTEXT", mech, a[1], a[2]));
                Throwable err = null;
                try {
                    ctx.await(admin.describeCluster().nodes(), ctx.step);
                } catch (ExecutionException e) {
                    err = e.getCause();
                }
                if (!(err instanceof AuthenticationException)) {
                    throw new ConformanceDriver.CheckFailed(mech + " " + a[0] + ": expected an AuthenticationException, got "
                            + (err == null ? "a successful login" : ConformanceDriver.describe(err)));
                }
                Errors code = Errors.forException(err);
                ConformanceDriver.check(code == Errors.SASL_AUTHENTICATION_FAILED, mech + " " + a[0] + " error",
                        "SASL_AUTHENTICATION_FAILED (58)", ConformanceDriver.describe(err));
                refused.put(mech + " " + a[0], err.getClass().getSimpleName() + " (" + code.name() + ", code " + code.code()
                        + "): " + err.getMessage());
                ctx.closeAll();
            }
            ctx.step = mech + ": list topics with the right credentials after the refusals";
            Admin admin = admin(ctx, conn("SASL_PLAINTEXT", mech, null, null));
            Set<String> names = ctx.await(admin.listTopics().names(), ctx.step);
            String topic = ctx.topic(ctx.scenario);
            ConformanceDriver.check(names.contains(topic), mech + " login after the refusals: topic listed", topic,
                    names.size() + " other topics");
            ctx.closeAll();
        }
        ctx.facts.put("refused", refused);
        List<String> used = new ArrayList<>();
        for (String m : MECHANISMS) used.add(m);
        ctx.facts.put("mechanisms", used);
    }

    /** Just enough of a JSON reader for the --security file: objects, arrays, strings, numbers, literals. */
    static final class JsonReader {
        final String s;
        int i;

        JsonReader(String s) { this.s = s; }

        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') { i++; return m; }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (s.charAt(i) == ',') { i++; continue; }
                    expect('}');
                    return m;
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') { i++; return l; }
                while (true) {
                    l.add(value());
                    ws();
                    if (s.charAt(i) == ',') { i++; continue; }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') return string();
            int start = i;
            while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) i++;
            String lit = s.substring(start, i);
            switch (lit) {
                case "true": return Boolean.TRUE;
                case "false": return Boolean.FALSE;
                case "null": return null;
                default: return Double.valueOf(lit);
            }
        }

        String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c != '\\') { sb.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'r': sb.append('\r'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: sb.append(e);
                }
            }
        }

        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }

        void expect(char c) {
            if (s.charAt(i) != c) throw new IllegalArgumentException("expected '" + c + "' at " + i);
            i++;
        }
    }
}
