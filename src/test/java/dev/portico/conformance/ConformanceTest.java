package dev.portico.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.config.AccessLogConfig;
import dev.portico.config.OperationsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.TestAbortedException;

/**
 * Runs every vector of {@code src/test/resources/conformance/*.txt} (format: {@link Vector}) through a real
 * Portico (port 0, one worker, route {@code /}) to a {@link RecordingBackend}, once written whole and once in
 * 1-byte writes (TCP_NODELAY, a flush per byte; a write failing after the proxy answered and closed ends the
 * writing, and the response is still read).
 *
 * <p>For each vector and mode: the statuses must be those expected, in order. With {@code close: true} the proxy
 * must then close the connection; with {@code close: false} a probe ({@code GET /probe}) on the same connection
 * must get its 200. Then a canary ({@code GET /canary}, Host {@code canary}) on a new connection must get its own
 * 200 and reach the backend as a request of its own, last: a desync that left bytes in a pooled upstream
 * connection would glue them to the canary.
 *
 * <p>What the backend received is compared in {@link WireRequest#canonical()} form: the request line, the fields
 * with lower-cased names sorted by name (the order of same-name fields kept), the de-chunked body (the proxy
 * re-chunks, so chunk boundaries and extensions are not compared) and trailers. Names are compared lower-cased
 * because they are case-insensitive (RFC 9110 section 5.1) and Portico changes the case of the fields it sets
 * (it sends {@code host}); the order of different names carries no meaning (section 5.3). The bytes must be exactly
 * accounted for: every byte received since the vector started belongs to an expected request, the probe or the
 * canary ({@code backend: nothing} means not one other byte; {@code backend: incomplete} allows a cut-off prefix,
 * but only on a connection the proxy closes within 2 s), and the strict backend reader must have found no error.
 * In the expectation, {@code {fwd:HOST}} stands for the fields Portico adds ({@code x-forwarded-for: 127.0.0.1},
 * {@code x-forwarded-proto: http}, {@code x-forwarded-host: HOST}, {@code via: 1.1 portico}), {@code {fwd}} for
 * the same without {@code x-forwarded-host}, {@code {backend}} for the backend's authority.
 *
 * <p>One proxy and backend serve the whole class; after a failing vector both are restarted, so one failure does
 * not cascade. Vectors with {@code known_failure} are skipped (an aborted test, listed at the end); run them with
 * {@code -Dconformance.known=run}: a known failure that passes then fails, so its marker gets removed.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConformanceTest {
    enum Mode { WHOLE, BYTES }

    private static final byte[] PROBE = "GET /probe HTTP/1.1\r\nHost: probe\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CANARY = "GET /canary HTTP/1.1\r\nHost: canary\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static final boolean RUN_KNOWN = "run".equals(System.getProperty("conformance.known"));
    private static final ConcurrentLinkedQueue<String> PASSED = new ConcurrentLinkedQueue<>();
    private static final ConcurrentLinkedQueue<String> FAILED = new ConcurrentLinkedQueue<>();
    private static final ConcurrentLinkedQueue<String> KNOWN = new ConcurrentLinkedQueue<>();

    private static RecordingBackend backend;
    private static ProxyServer proxy;
    private static boolean dirty;
    private static long started;

    static Stream<Arguments> vectors() {
        List<Arguments> all = new ArrayList<>();
        for (Vector v : Vector.loadAll()) {
            for (Mode m : Mode.values()) {
                all.add(Arguments.of(v, m));
            }
        }
        return all.stream();
    }

    @BeforeAll
    static void start() throws IOException {
        started = System.nanoTime();
        startFixture();
    }

    private static void startFixture() throws IOException {
        backend = new RecordingBackend();
        proxy = new ProxyServer(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                .accessLog(new AccessLogConfig(false)).route("/", "http://" + backend.authority())
                // The vectors pin every forwarded field; request ids are tested on their own (OperationsIT).
                .operations(new OperationsConfig(null, false, OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false,
                        false))
                .build()).start();
        dirty = false;
    }

    private static void stopFixture() throws IOException {
        proxy.stop();
        backend.close();
    }

    @AfterAll
    static void stop() throws IOException {
        stopFixture();
        StringBuilder sb = new StringBuilder(String.format("%nconformance corpus: %d passed, %d failed, %d known "
                + "failures%s, %.1f s%n", PASSED.size(), FAILED.size(), KNOWN.size(),
                RUN_KNOWN ? " (run, still failing)" : " (skipped)",
                (System.nanoTime() - started) / 1e9));
        FAILED.forEach(f -> sb.append("  FAILED ").append(f).append('\n'));
        KNOWN.forEach(k -> sb.append("  KNOWN FAILURE ").append(k.length() > 140 ? k.substring(0, 137) + "..." : k)
                .append('\n'));
        System.out.print(sb);
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("vectors")
    void answersAndForwardsEachVectorAsTheRfcRequires(Vector v, Mode mode) throws Exception {
        String id = v + " [" + mode + "]";
        if (v.knownFailure() != null && !RUN_KNOWN) {
            KNOWN.add(id + ": " + v.knownFailure());
            Assumptions.abort("known failure: " + v.knownFailure());
        }
        if (dirty) {
            stopFixture();
            startFixture();
        }
        try {
            check(v, mode);
        } catch (AssertionError | Exception e) {
            dirty = true;
            if (v.knownFailure() != null) {
                KNOWN.add(id + ": " + v.knownFailure());
                throw new TestAbortedException("known failure (" + v.knownFailure() + "): " + e.getMessage(), e);
            }
            FAILED.add(id);
            throw e;
        }
        assertThat(v.knownFailure()).as("%s passes now: remove its known_failure", id).isNull();
        PASSED.add(id);
    }

    private void check(Vector v, Mode mode) throws Exception {
        RecordingBackend.Mark mark = backend.mark();
        List<Integer> statuses = new ArrayList<>();
        String closeProblem = null;
        int expectedExtra = 1;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(5000);
            RawClient client = new RawClient(s);
            write(s.getOutputStream(), v.request(), mode);
            boolean head = new String(v.request(), StandardCharsets.ISO_8859_1).startsWith("HEAD ");
            try {
                for (int i = 0; i < v.statuses().size(); i++) {
                    statuses.add(client.read(head && i == 0).status());
                }
            } catch (IOException e) {
                statuses.add(-1); // no (further) response: connection closed or timed out
            }
            if (statuses.equals(v.statuses())) {
                if (v.close()) {
                    closeProblem = client.closedByPeer() ? null : "the connection was left open";
                } else {
                    closeProblem = probe(client);
                    expectedExtra = 2;
                }
            }
        }
        RawClient.Response canary;
        try (RawClient c = new RawClient(proxy.port())) {
            canary = c.send(CANARY).read();
        } catch (IOException e) {
            canary = new RawClient.Response(-1, Map.of(), "no response: " + e.getMessage());
        }
        RecordingBackend.Since seen = awaitSettled(mark);
        String context = "\n  request: " + Vector.escape(v.request()) + "\n  backend received since the vector:\n"
                + seen.log();
        assertThat(statuses).as("statuses%s", context).isEqualTo(v.statuses());
        assertThat(closeProblem).as("connection handling (close: %s)%s", v.close(), context).isNull();
        assertThat(canary.status()).as("canary status%s", context).isEqualTo(200);
        assertThat(canary.body()).as("canary body%s", context).isEqualTo("ok");
        assertThat(seen.errors()).as("backend parse errors%s", context).isEmpty();
        List<RecordingBackend.Received> got = seen.requests();
        assertThat(got).as("backend requests%s", context).isNotEmpty();
        WireRequest last = got.get(got.size() - 1).request();
        assertThat(last.requestLine + " host=" + last.header("host")).as("the canary, as its own request%s", context)
                .isEqualTo("GET /canary HTTP/1.1 host=canary");
        if (expectedExtra == 2) {
            WireRequest probe = got.get(Math.max(0, got.size() - 2)).request();
            assertThat(probe.requestLine + " host=" + probe.header("host")).as("the probe, as its own request%s",
                    context).isEqualTo("GET /probe HTTP/1.1 host=probe");
        }
        List<WireRequest> forwarded = new ArrayList<>();
        long accounted = seen.truncated();
        for (RecordingBackend.Received r : got) {
            accounted += r.request().rawLength;
        }
        for (RecordingBackend.Received r : got.subList(0, Math.max(0, got.size() - expectedExtra))) {
            forwarded.add(r.request());
        }
        assertThat(seen.bytes()).as("bytes received vs bytes of complete or closed requests%s", context)
                .isEqualTo(accounted);
        assertThat(seen.pendingOpen()).as("partial request left on an open upstream connection%s", context)
                .isZero();
        if (v.backend().equals(Vector.NOTHING)) {
            assertThat(seen.truncated()).as("bytes that reached the backend%s", context).isZero();
            assertThat(canon(forwarded)).as("requests that reached the backend%s", context).isEmpty();
        } else if (v.backend().equals(Vector.INCOMPLETE)) {
            assertThat(canon(forwarded)).as("complete requests that reached the backend%s", context).isEmpty();
        } else {
            List<WireRequest> expected = WireRequest.parseAll(Vector.decode(v.backend(), Map.of(
                    "fwd:", "x-forwarded-for: 127.0.0.1\\r\\nx-forwarded-proto: http\\r\\nx-forwarded-host: $\\r\\n"
                            + "via: 1.1 portico\\r\\n",
                    "fwd", "x-forwarded-for: 127.0.0.1\\r\\nx-forwarded-proto: http\\r\\nvia: 1.1 portico\\r\\n",
                    "backend", backend.authority())));
            assertThat(seen.truncated()).as("bytes of cut-off requests%s", context).isZero();
            assertThat(canon(forwarded)).as("what the backend received%s", context).isEqualTo(canon(expected));
        }
    }

    /** Sends the keep-alive probe on the vector's connection: null if it got its 200, else the problem. */
    private static String probe(RawClient client) {
        try {
            RawClient.Response r = client.send(PROBE).read();
            return r.status() == 200 && r.body().equals("ok") ? null : "the probe after the vector got " + r.status();
        } catch (IOException e) {
            return "the connection was closed (probe after the vector failed: " + e.getMessage() + ")";
        }
    }

    /**
     * Waits (up to 2 s) until no open backend connection holds part of a request: a proxy that aborts a forwarded
     * request must close that upstream connection, and it may do so a moment after answering the client.
     */
    private static RecordingBackend.Since awaitSettled(RecordingBackend.Mark mark) {
        try {
            Awaitility.await().atMost(Duration.ofSeconds(2)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(10)).until(() -> backend.since(mark).pendingOpen() == 0);
        } catch (ConditionTimeoutException e) {
            // reported by the assertion on pendingOpen, with the bytes received
        }
        return backend.since(mark);
    }

    private static void write(OutputStream out, byte[] request, Mode mode) {
        try {
            if (mode == Mode.WHOLE) {
                out.write(request);
                out.flush();
            } else {
                for (byte b : request) {
                    out.write(b);
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the proxy answered and closed before everything was written: the response is still read
        }
    }

    private static List<String> canon(List<WireRequest> requests) {
        return requests.stream().map(WireRequest::canonical).toList();
    }
}
