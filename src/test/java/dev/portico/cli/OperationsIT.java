package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar under operations: SIGTERM under load, SIGHUP reload, SIGUSR1 log reopen, the admin port. */
class OperationsIT {
    private static final Pattern ADMIN = Pattern.compile("admin endpoint at 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern RESPONSE_HEAD = Pattern.compile("^HTTP/1\\.1 (\\d{3}) ");

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T resource(T r) {
        resources.add(r);
        return r;
    }

    private static int adminPort(PorticoProcess p) {
        await("admin endpoint").atMost(Duration.ofSeconds(20)).until(() -> ADMIN.matcher(p.stderr()).find());
        Matcher m = ADMIN.matcher(p.stderr());
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private int status(int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /**
     * SIGTERM while clients keep sending: /readyz turns 503 and serving goes on for the drain delay; then the
     * listener closes, and every request Portico took (every access-log line) reached its client complete.
     */
    @Test
    @Timeout(90)
    void sigtermUnderLoadCompletesEveryAcceptedRequestAndExitsZero() throws Exception {
        TestBackend backend = resource(TestBackend.start((req, ctx) -> ctx.executor().schedule(
                () -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "ok " + req.uri())),
                50, TimeUnit.MILLISECONDS)));
        Path file = dir.resolve("drain.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\nadmin: {listen: 127.0.0.1:0}\n"
                + "routes: {/: \"" + backend.url() + "\"}\ntimeouts: {drain: 15s, drain_delay: 1s}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        int admin = adminPort(proxy);
        Load load = new Load(port, 6);
        load.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> load.complete.get() >= 60);

        proxy.terminate();
        await("not ready").atMost(Duration.ofMillis(900)).pollInterval(Duration.ofMillis(20))
                .until(() -> status(admin, "/readyz") == 503);
        int atNotReady = load.complete.get();
        int exit = proxy.awaitExit(Duration.ofSeconds(30));
        load.join();

        assertThat(exit).as("exit code; stderr:%n%s", proxy.stderr()).isZero();
        assertThat(load.failures).as("requests that failed after Portico took them").isEmpty();
        assertThat(load.complete.get()).as("served during the drain delay").isGreaterThan(atNotReady + 10);
        assertThat(load.closing.get()).as("responses saying Connection: close").isPositive();
        long logged = proxy.stdout().lines().filter(l -> l.contains("\" 200 ")).count();
        assertThat(logged).as("access-log lines = complete responses received").isEqualTo(load.complete.get());
        assertThat(proxy.stderr()).doesNotContain("drain timeout", "Exception");
    }

    /** Clients on keep-alive connections, each sending GETs one after another until the proxy refuses them. */
    private static final class Load {
        final AtomicInteger complete = new AtomicInteger();
        final AtomicInteger closing = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        private final List<Thread> threads = new ArrayList<>();

        Load(int port, int clients) {
            for (int i = 0; i < clients; i++) {
                int id = i;
                threads.add(new Thread(() -> run(port, id), "load-" + i));
            }
        }

        void start() {
            threads.forEach(Thread::start);
        }

        void join() throws InterruptedException {
            for (Thread t : threads) {
                t.join(30_000);
                assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
            }
        }

        private void run(int port, int id) {
            Socket s = null;
            int n = 0;
            try {
                while (true) {
                    if (s == null) {
                        try {
                            s = new Socket(InetAddress.getLoopbackAddress(), port);
                            s.setSoTimeout(20_000);
                        } catch (ConnectException e) {
                            return; // the listener is closed: nothing more is accepted
                        }
                    }
                    String path = "/c" + id + "/" + n;
                    Outcome o = exchange(s, path);
                    switch (o) {
                        case COMPLETE -> n++;
                        case COMPLETE_CLOSE -> {
                            n++;
                            s.close();
                            s = null;
                        }
                        case NOT_TAKEN -> {
                            // Closed before any byte of a response: Portico never read the request (an idle
                            // connection closed by the drain), so it is sent again on a new connection.
                            s.close();
                            s = null;
                        }
                        default -> {
                            return;
                        }
                    }
                }
            } catch (IOException e) {
                failures.add("client " + id + ": " + e);
            } finally {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing
                    }
                }
            }
        }

        private enum Outcome { COMPLETE, COMPLETE_CLOSE, NOT_TAKEN, FAILED }

        private Outcome exchange(Socket s, String path) throws IOException {
            OutputStream out = s.getOutputStream();
            try {
                out.write(("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                return Outcome.NOT_TAKEN;
            }
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            try {
                int c;
                while (!head.toString().endsWith("\r\n\r\n")) {
                    c = in.read();
                    if (c < 0) {
                        if (head.length() == 0) {
                            return Outcome.NOT_TAKEN;
                        }
                        failures.add(path + ": connection closed inside the response head: " + head);
                        return Outcome.FAILED;
                    }
                    head.append((char) c);
                }
            } catch (IOException e) {
                if (head.length() == 0) {
                    return Outcome.NOT_TAKEN;
                }
                failures.add(path + ": " + e + " inside the response head");
                return Outcome.FAILED;
            }
            Matcher m = RESPONSE_HEAD.matcher(head);
            String h = head.toString().toLowerCase(java.util.Locale.ROOT);
            int lengthAt = h.indexOf("content-length: ");
            if (!m.find() || !m.group(1).equals("200") || lengthAt < 0) {
                failures.add(path + ": unexpected response " + head);
                return Outcome.FAILED;
            }
            int length = Integer.parseInt(h.substring(lengthAt + 16, h.indexOf("\r\n", lengthAt)).trim());
            byte[] body = in.readNBytes(length);
            String expected = "ok " + path;
            if (!new String(body, StandardCharsets.US_ASCII).equals(expected)) {
                failures.add(path + ": body cut short or wrong: " + new String(body, StandardCharsets.US_ASCII));
                return Outcome.FAILED;
            }
            complete.incrementAndGet();
            if (h.contains("connection: close")) {
                closing.incrementAndGet();
                return Outcome.COMPLETE_CLOSE;
            }
            return Outcome.COMPLETE;
        }
    }

    @Test
    @Timeout(60)
    void sighupReloadsAndAnInvalidFileKeepsTheRunningConfiguration() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        Path file = dir.resolve("hup.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nroutes: {/a: \"" + backend.url() + "\"}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        assertThat(status(port, "/b/x")).isEqualTo(404);

        Files.writeString(file, "listen: 127.0.0.1:0\nroutes: {/a: \"" + backend.url() + "\", /b: \""
                + backend.url() + "\"}\n");
        proxy.signal("HUP");
        await().atMost(Duration.ofSeconds(10)).until(() -> status(port, "/b/x") == 200);

        Files.writeString(file, "listen: 127.0.0.1:0\nroutes: {/a: 42}\n");
        proxy.signal("HUP");
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.stderr().contains("reload (SIGHUP) refused"));
        assertThat(proxy.stderr()).contains(file + ": routes./a: expected an upstream name, URL or list of URLs, got 42");
        assertThat(status(port, "/b/x")).isEqualTo(200);
        assertThat(proxy.isAlive()).isTrue();
        proxy.terminate();
        assertThat(proxy.awaitExit(Duration.ofSeconds(20))).isZero();
    }

    /**
     * "listening on" shows before the start is over; a SIGHUP sent as soon as it shows (say, a reload right after a
     * start that waited for it) used to reach the JVM before Portico handled the signal, and stopped the process
     * (exit 129). Each of several starts is signalled at once and must reload, not stop.
     */
    @Test
    @Timeout(120)
    void aSighupAsSoonAsListeningShowsReloadsInsteadOfStoppingTheProxy() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        Path file = dir.resolve("early.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nroutes: {/a: \"" + backend.url() + "\"}\n");
        for (int start = 1; start <= 6; start++) {
            try (PorticoProcess proxy = PorticoProcess.start("--config", file.toString())) {
                Runnable hup = proxy.signaller("HUP");
                int port = proxy.awaitPortPromptly();
                hup.run();
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> proxy.stderr().contains("configuration reloaded (SIGHUP)") || !proxy.isAlive());
                assertThat(proxy.isAlive()).as("start %d: alive after an early SIGHUP; stderr:%n%s", start,
                        proxy.stderr()).isTrue();
                assertThat(status(port, "/a/x")).isEqualTo(200);
                proxy.terminate();
                assertThat(proxy.awaitExit(Duration.ofSeconds(20))).isZero();
            }
        }
    }

    @Test
    @Timeout(60)
    void sigusr1ReopensTheAccessLogFile() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        Path log = dir.resolve("access.log");
        Path file = dir.resolve("log.yaml");
        Files.writeString(file, "listen: 127.0.0.1:0\nroutes: {/: \"" + backend.url() + "\"}\n"
                + "access_log: {format: json, path: \"" + log + "\"}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        assertThat(status(port, "/before")).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log) && Files.readString(log).contains("/before"));

        Files.move(log, dir.resolve("access.log.1"));
        proxy.signal("USR1");
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log));
        assertThat(status(port, "/after")).isEqualTo(200);

        await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(log).contains("\"target\":\"/after\""));
        assertThat(Files.readString(dir.resolve("access.log.1"))).contains("/before").doesNotContain("/after");
        assertThat(proxy.stdout()).doesNotContain("/after");
    }
}
