package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.config.AccessLogConfig;
import dev.portico.config.AccessLogConfig.Format;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Access log lines in both formats, checked field by field, written to a file that is reopened for rotation. */
class AccessLogTest {
    private static final Pattern COMBINED = Pattern.compile("^(\\S+) (\\S+) (\\S+) \\[([^]]+)] "
            + "\"(\\S+) (\\S+) (\\S+)\" (\\d{3}|-) (\\d+|-) \"((?:[^\"\\\\]|\\\\.)*)\" \"((?:[^\"\\\\]|\\\\.)*)\" "
            + "(\\S+) (\\d+) (\\S+) (\\S+)$");
    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private final TestBackend backend = TestBackend.echo();

    @TempDir
    Path dir;

    @AfterEach
    void stopBackend() {
        backend.close();
    }

    @Test
    @Timeout(30)
    void combinedLinesCarryEveryFieldInOrder() throws Exception {
        Path log = dir.resolve("access.log");
        portico.start(b -> b.route("/api", backend.url()).accessLog(new AccessLogConfig(true, Format.COMBINED,
                log.toString())));
        long before = System.currentTimeMillis();
        RawClient.Response ok;
        RawClient.Response missing;
        try (RawClient c = portico.raw()) {
            c.send("GET /api/a?x=1 HTTP/1.1\r\nHost: t\r\nReferer: http://ref.example/p\r\n"
                    + "User-Agent: agent/1.0 \"quoted\"\r\nX-Request-Id: req-1\r\n\r\n");
            ok = c.read();
            c.send("GET /nowhere HTTP/1.1\r\nHost: t\r\nUser-Agent: other\r\n\r\n");
            missing = c.read();
        }
        List<String> lines = awaitLines(log, 2);

        Matcher m = match(lines.get(0));
        assertThat(m.group(1)).isEqualTo("127.0.0.1");
        assertThat(m.group(2)).isEqualTo("-");
        assertThat(m.group(3)).isEqualTo("-");
        long at = ZonedDateTime.parse(m.group(4), DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT))
                .toInstant().toEpochMilli();
        assertThat(at).isBetween(before / 1000 * 1000, System.currentTimeMillis());
        assertThat(m.group(5)).isEqualTo("GET");
        assertThat(m.group(6)).isEqualTo("/api/a?x=1");
        assertThat(m.group(7)).isEqualTo("HTTP/1.1");
        assertThat(m.group(8)).isEqualTo("200");
        assertThat(m.group(9)).isEqualTo(Integer.toString(ok.body().length()));
        assertThat(m.group(10)).isEqualTo("http://ref.example/p");
        assertThat(m.group(11)).isEqualTo("agent/1.0 \\\"quoted\\\"");
        assertThat(m.group(12)).isEqualTo("req-1");
        assertThat(Long.parseLong(m.group(13))).isBetween(0L, 10_000L);
        assertThat(m.group(14)).isEqualTo("127.0.0.1:" + backend.port());
        assertThat(Long.parseLong(m.group(15))).isBetween(0L, Long.parseLong(m.group(13)));

        Matcher r = match(lines.get(1));
        assertThat(r.group(6)).isEqualTo("/nowhere");
        assertThat(r.group(8)).isEqualTo("404");
        assertThat(r.group(9)).isEqualTo("-");
        assertThat(r.group(10)).isEqualTo("-");
        assertThat(r.group(11)).isEqualTo("other");
        assertThat(r.group(12)).matches("[0-9a-f]{32}").isEqualTo(missing.header("x-request-id"));
        assertThat(r.group(14)).isEqualTo("-");
        assertThat(r.group(15)).isEqualTo("-");
    }

    @Test
    @Timeout(30)
    void jsonLinesCarryTheSameFieldsPlusRouteAttemptsAndTraceId() throws Exception {
        Path log = dir.resolve("access.json");
        portico.start(b -> b.route("/api", backend.url()).accessLog(new AccessLogConfig(true, Format.JSON,
                log.toString())));
        long before = System.currentTimeMillis();
        RawClient.Response ok;
        try (RawClient c = portico.raw()) {
            c.send("POST /api/b HTTP/1.1\r\nHost: t\r\nUser-Agent: agent \"q\" \\ x\r\ntraceparent: " + TRACEPARENT
                    + "\r\nContent-Length: 3\r\n\r\nabc");
            ok = c.read();
            c.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
            c.read();
        }
        List<String> lines = awaitLines(log, 2);

        Map<String, Object> j = FlatJson.parse(lines.get(0));
        assertThat(j.keySet()).containsExactly("time", "client", "method", "target", "protocol", "status", "bytes",
                "duration_ms", "referer", "user_agent", "request_id", "upstream", "upstream_ms", "route", "attempts",
                "trace_id", "tls", "policy");
        assertThat(Instant.parse((String) j.get("time")).toEpochMilli()).isBetween(before,
                System.currentTimeMillis());
        assertThat(j.get("client")).isEqualTo("127.0.0.1");
        assertThat(j.get("method")).isEqualTo("POST");
        assertThat(j.get("target")).isEqualTo("/api/b");
        assertThat(j.get("protocol")).isEqualTo("HTTP/1.1");
        assertThat(j.get("status")).isEqualTo(200L);
        assertThat(j.get("bytes")).isEqualTo((long) ok.body().length());
        assertThat((Long) j.get("duration_ms")).isBetween(0L, 10_000L);
        assertThat(j.get("referer")).isNull();
        assertThat(j.get("user_agent")).isEqualTo("agent \"q\" \\ x");
        assertThat(j.get("request_id")).isEqualTo(ok.header("x-request-id"));
        assertThat(j.get("upstream")).isEqualTo("127.0.0.1:" + backend.port());
        assertThat((Long) j.get("upstream_ms")).isBetween(0L, (Long) j.get("duration_ms"));
        assertThat(j.get("route")).isEqualTo("/api");
        assertThat(j.get("attempts")).isEqualTo(1L);
        assertThat(j.get("trace_id")).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");

        Map<String, Object> r = FlatJson.parse(lines.get(1));
        assertThat(r.get("status")).isEqualTo(404L);
        assertThat(r.get("route")).isNull();
        assertThat(r.get("upstream")).isNull();
        assertThat(r.get("upstream_ms")).isNull();
        assertThat(r.get("attempts")).isEqualTo(0L);
        assertThat(r.get("trace_id")).isNull();
    }

    @Test
    @Timeout(30)
    void reopenStartsANewFileAfterTheOldOneWasMovedAway() throws Exception {
        Path log = dir.resolve("access.log");
        Path rotated = dir.resolve("access.log.1");
        portico.start(b -> b.route("/api", backend.url()).accessLog(new AccessLogConfig(true, Format.COMBINED,
                log.toString())));
        assertThat(portico.get("/api/first").statusCode()).isEqualTo(200);
        awaitLines(log, 1);

        Files.move(log, rotated);
        portico.proxy().reopenAccessLog();
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log));
        assertThat(portico.get("/api/second").statusCode()).isEqualTo(200);

        assertThat(awaitLines(log, 1).get(0)).contains("\"GET /api/second HTTP/1.1\" 200 ");
        assertThat(Files.readAllLines(rotated)).singleElement().asString().contains("/api/first");
    }

    @Test
    @Timeout(30)
    void aDisabledLogWritesNothing() throws Exception {
        Path log = dir.resolve("off.log");
        portico.start(b -> b.route("/api", backend.url()).accessLog(new AccessLogConfig(false, Format.JSON,
                log.toString())));

        assertThat(portico.get("/api/x").statusCode()).isEqualTo(200);

        assertThat(log).doesNotExist();
    }

    private static Matcher match(String line) {
        Matcher m = COMBINED.matcher(line);
        assertThat(m.matches()).as("combined line: %s", line).isTrue();
        return m;
    }

    private static List<String> awaitLines(Path log, int n) {
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log) && Files.readAllLines(log).size() >= n);
        try {
            List<String> lines = Files.readAllLines(log);
            assertThat(lines).hasSize(n);
            return lines;
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
