package dev.portico.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Backends that answer their name, and a proxy started from YAML in front of them, for load-balancing tests. */
public final class Balancing {
    private Balancing() {
    }

    /** @return a backend answering 200 with its name; {@code /healthz} answers {@code health}'s status */
    public static TestBackend named(String name, AtomicInteger health) {
        return TestBackend.start((req, ctx) -> ctx.writeAndFlush(req.uri().equals("/healthz")
                ? TestBackend.text(HttpResponseStatus.valueOf(health.get()), "health")
                : TestBackend.text(HttpResponseStatus.OK, name)));
    }

    /** @return a backend answering 200 with its name */
    public static TestBackend named(String name) {
        return named(name, new AtomicInteger(200));
    }

    /** @return a backend answering every request with {@code status} and its name */
    public static TestBackend answering(int status, String name) {
        return TestBackend.start((req, ctx) -> ctx.writeAndFlush(TestBackend.text(
                HttpResponseStatus.valueOf(status), name)));
    }

    /** @return the backends' URLs as a YAML flow list */
    public static String servers(TestBackend... backends) {
        StringBuilder b = new StringBuilder("[");
        for (TestBackend t : backends) {
            b.append(b.length() == 1 ? "" : ", ").append(t.url());
        }
        return b.append(']').toString();
    }

    /**
     * Starts a proxy on 127.0.0.1:0 with the access log off.
     *
     * @param portico the extension that stops it after the test
     * @param workers event loops
     * @param timeouts the {@code timeouts:} value as YAML flow mapping
     * @param yaml the {@code upstreams:} and {@code routes:} sections
     */
    public static ProxyServer start(PorticoExtension portico, int workers, String timeouts, String yaml) {
        return portico.start(ProxyConfig.parse("""
                listen: 127.0.0.1:0
                workers: %d
                access_log: {enabled: false}
                timeouts: %s
                """.formatted(workers, timeouts) + yaml, "test.yaml"));
    }

    /** Like {@link #start(PorticoExtension, int, String, String)} with one worker and short timeouts. */
    public static ProxyServer start(PorticoExtension portico, String yaml) {
        return start(portico, 1, "{connect: 1s, response: 5s, drain: 1s}", yaml);
    }

    /** @return a GET through the proxy, with header name/value pairs */
    public static HttpResponse<String> get(PorticoExtension portico, String path, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return portico.send(b.build());
    }

    /**
     * Sends {@code n} GETs one after the other.
     *
     * @return how many answers each body (backend name) had
     * @throws AssertionError if a status is not one of {@code statuses}
     */
    public static Map<String, Integer> spread(PorticoExtension portico, int n, String path, Integer... statuses)
            throws Exception {
        List<Integer> allowed = statuses.length == 0 ? List.of(200) : List.of(statuses);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get(portico, path);
            assertThat(r.statusCode()).isIn(allowed);
            counts.merge(r.body(), 1, Integer::sum);
        }
        return counts;
    }
}
