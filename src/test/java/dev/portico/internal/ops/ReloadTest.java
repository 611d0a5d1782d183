package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TestCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Hot reload from the configuration file: under load, with long responses in flight, and when invalid. */
class ReloadTest {
    private final TestBackend a = TestBackend.start(new SlowStream());
    private final TestBackend b = TestBackend.echo();
    private final List<AutoCloseable> resources = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        a.close();
        b.close();
    }

    private ProxyServer start(Path file) {
        ProxyServer proxy = new ProxyServer(ProxyConfig.load(file), file).start();
        resources.add(proxy);
        return proxy;
    }

    private Path write(String yaml) throws IOException {
        Path file = dir.resolve("portico.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private String config(String listen, boolean withB) {
        return "listen: " + listen + "\nworkers: 1\nadmin: {listen: 127.0.0.1:0}\nroutes:\n  /a: \"" + a.url() + "\"\n"
                + (withB ? "  /b: \"" + b.url() + "\"\n" : "");
    }

    @Test
    @Timeout(60)
    void reloadsTwentyTimesUnderLoadWithoutAFailedRequestOrACutStream() throws Exception {
        Path file = write(config("127.0.0.1:0", false));
        ProxyServer proxy = start(file);
        int port = proxy.port();
        CompletableFuture<RawClient.Response> stream = CompletableFuture.supplyAsync(() -> {
            try (RawClient c = new RawClient(port)) {
                c.send("GET /a/stream HTTP/1.1\r\nHost: t\r\n\r\n");
                return c.read();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            Thread client = new Thread(() -> load(port, running, ok, failures), "load-" + t);
            client.start();
            clients.add(client);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ok.get() > 20);

        for (int i = 0; i < 20; i++) {
            Files.writeString(file, config("127.0.0.1:0", i % 2 == 0));
            ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));
            Thread.sleep(40);
        }
        int before = ok.get();
        await().atMost(Duration.ofSeconds(5)).until(() -> ok.get() > before + 20);
        running.set(false);
        for (Thread c : clients) {
            c.join(10_000);
        }

        assertThat(failures).as("failed requests").isEmpty();
        assertThat(ok.get()).isGreaterThan(40);
        // The last reload (i = 19) left /b out; one more brings it in, and it serves at once.
        Files.writeString(file, config("127.0.0.1:0", true));
        ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));
        assertThat(get(port, "/b/new").body()).isEqualTo("GET /b/new\n");
        RawClient.Response streamed = stream.get(20, TimeUnit.SECONDS);
        assertThat(streamed.status()).isEqualTo(200);
        assertThat(streamed.body()).isEqualTo(SlowStream.expectedBody());
        Prometheus m = new Admin(proxy.adminAddress()).metrics();
        assertThat(m.value("portico_reloads_total", "outcome", "success")).isEqualTo(21.0);
        assertThat(m.value("portico_reloads_total", "outcome", "failure")).isZero();
    }

    /** GETs /a on a keep-alive connection until told to stop; any failure is recorded. */
    private static void load(int port, AtomicBoolean running, AtomicInteger ok, ConcurrentLinkedQueue<String> fails) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        while (running.get()) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/a/n")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().equals("GET /a/n\n")) {
                    ok.incrementAndGet();
                } else {
                    fails.add(r.statusCode() + " " + r.body());
                }
            } catch (IOException e) {
                fails.add(e.toString());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Test
    @Timeout(60)
    void anInvalidConfigurationIsRefusedWithItsProblemsAndTheRunningOneKeepsServing() throws Exception {
        Path file = write(config("127.0.0.1:0", true));
        ProxyServer proxy = start(file);
        Admin admin = new Admin(proxy.adminAddress());
        Files.writeString(file, "listen: 127.0.0.1:0\nroutes:\n  - {path: /a, upstream: \"htp://x\"}\n"
                + "timeouts: {conect: 1s}\n");

        ReloadResult result = proxy.reload().get(10, TimeUnit.SECONDS);
        HttpResponse<String> viaAdmin = admin.post("/reload");

        assertThat(result.applied()).isFalse();
        assertThat(result.problems()).anySatisfy(p -> assertThat(p).startsWith(file + ": routes[0].upstream"))
                .anySatisfy(p -> assertThat(p).startsWith(file + ": timeouts.conect: unknown key"));
        assertThat(viaAdmin.statusCode()).isEqualTo(400);
        assertThat(viaAdmin.body()).contains("\"applied\":false", "routes[0].upstream", "timeouts.conect");
        assertThat(get(proxy.port(), "/b/still").body()).isEqualTo("GET /b/still\n");
        assertThat(proxy.config().routes()).hasSize(2);

        Files.writeString(file, config("127.0.0.1:0", false));
        HttpResponse<String> fixed = admin.post("/reload");
        assertThat(fixed.statusCode()).isEqualTo(200);
        assertThat(fixed.body()).contains("\"applied\":true");
        assertThat(get(proxy.port(), "/b/gone").statusCode()).isEqualTo(404);
        Prometheus m = admin.metrics();
        assertThat(m.value("portico_reloads_total", "outcome", "failure")).isEqualTo(2.0);
        assertThat(m.value("portico_reloads_total", "outcome", "success")).isEqualTo(1.0);
    }

    @Test
    @Timeout(60)
    void postReloadAnswersValidJsonBeforeTheRequestPipelinedAfterIt() throws Exception {
        Path file = write(config("127.0.0.1:0", true));
        ProxyServer proxy = start(file);
        Files.writeString(file, "listen: 127.0.0.1:0\nroutes:\n  \"/a\\tb\": \"" + a.url() + "\"\n");

        try (RawClient c = new RawClient(proxy.adminAddress().getPort())) {
            c.send("POST /reload HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n");
            RawClient.Response reload = c.read();
            RawClient.Response health = c.read();

            assertThat(reload.status()).isEqualTo(400);
            assertThat(reload.body()).startsWith("{\"applied\":false").contains("a\\u0009b")
                    .doesNotContain("\t").endsWith("]}\n");
            assertThat(reload.body().chars().filter(ch -> ch < 0x20).count()).as("raw control characters")
                    .isEqualTo(1); // the final newline
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.body()).isEqualTo("ok\n");
        }
    }

    @Test
    @Timeout(60)
    void aConfigurationErrorFoundWhileApplyingIsAnsweredLoggedAndCountedAndTheOldConfigurationStays()
            throws Exception {
        Path file = write(config("127.0.0.1:0", true));
        ProxyServer proxy = start(file);
        Admin admin = new Admin(proxy.adminAddress());
        // Valid when the file is read; the SNI table refuses the name when the listener's TLS is built.
        TestCertificates.Issued ca = TestCertificates.ca("Test CA");
        TestCertificates.Pem pem = TestCertificates.server(ca, ".bad.test").write(dir, "bad");
        Files.writeString(file, config("[127.0.0.1:0, {address: \"127.0.0.1:0\", tls: {certificate: bad.pem, "
                + "key: bad.key}}]", false));

        HttpResponse<String> r = admin.post("/reload");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("\"applied\":false", "listen[1].tls", pem.certificate().getFileName().toString()
                .replace(".pem", ""));
        assertThat(proxy.addresses()).hasSize(1);
        assertThat(get(proxy.port(), "/b/still").body()).isEqualTo("GET /b/still\n");
        assertThat(admin.metrics().value("portico_reloads_total", "outcome", "failure")).isEqualTo(1.0);
    }

    @Test
    @Timeout(60)
    void addsAndRemovesListenersAndARemovedListenerDrainsItsStream() throws Exception {
        Path file = write(config("127.0.0.1:0", false));
        ProxyServer proxy = start(file);
        InetSocketAddress first = proxy.addresses().get(0);
        Files.writeString(file, config("[127.0.0.1:0, \"localhost:0\"]", false));
        ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));
        assertThat(proxy.addresses()).hasSize(2);
        InetSocketAddress second = proxy.addresses().get(1);
        assertThat(get(second, "/a/via-second").body()).isEqualTo("GET /a/via-second\n");
        RawClient streaming = new RawClient(first.getPort());
        resources.add(streaming);
        streaming.send("GET /a/stream HTTP/1.1\r\nHost: t\r\n\r\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> a.pending() > 0);

        Files.writeString(file, config("\"localhost:0\"", false));
        ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));

        assertThat(proxy.addresses()).containsExactly(second);
        await().atMost(Duration.ofSeconds(5)).until(() -> refuses(first));
        RawClient.Response r = streaming.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(SlowStream.expectedBody());
        assertThat(r.header("connection")).as("drained: the connection closes after its response").isNull();
        assertThat(streaming.closedByPeer()).isTrue();
        assertThat(get(second, "/a/still").body()).isEqualTo("GET /a/still\n");
    }

    @Test
    @Timeout(60)
    void anExchangeInFlightFinishesOnTheRouteItStartedWithAfterAReloadRemovesIt() throws Exception {
        Path file = write(config("127.0.0.1:0", true));
        ProxyServer proxy = start(file);
        Admin admin = new Admin(proxy.adminAddress());
        RawClient streaming = new RawClient(proxy.port());
        resources.add(streaming);
        streaming.send("GET /a/stream HTTP/1.1\r\nHost: t\r\n\r\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> a.pending() > 0);

        Files.writeString(file, "listen: 127.0.0.1:0\nworkers: 1\nadmin: {listen: 127.0.0.1:0}\nroutes:\n  /b: \""
                + b.url() + "\"\n");
        ReloadResultAssert.applied(proxy.reload().get(10, TimeUnit.SECONDS));
        assertThat(get(proxy.port(), "/a/new").statusCode()).isEqualTo(404);

        RawClient.Response r = streaming.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(SlowStream.expectedBody());
        streaming.send("GET /a/again HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(streaming.read().status()).as("the same connection, now on the new routes").isEqualTo(404);
        // The removed route's series are gone from /metrics, and the finished stream did not bring them back.
        Prometheus m = admin.metrics();
        assertThat(m.value("portico_requests_total", "route", "/a")).isEqualTo(-1.0);
        assertThat(m.value("portico_rejected_requests_total", "reason", "no_route")).isEqualTo(2.0);
    }

    @Test
    @Timeout(60)
    void reloadsTenThousandRoutesInUnder200Milliseconds() throws Exception {
        Path file = write(config("127.0.0.1:0", false));
        ProxyServer proxy = start(file);
        List<Long> millis = new ArrayList<>();
        List<Long> cpuMillis = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            StringBuilder yaml = new StringBuilder(config("127.0.0.1:0", false));
            for (int i = 0; i < 10_000; i++) {
                yaml.append("  /r").append(round).append('/').append(i).append(": \"").append(b.url()).append("\"\n");
            }
            Files.writeString(file, yaml);
            ReloadResult r = proxy.reload().get(30, TimeUnit.SECONDS);
            ReloadResultAssert.applied(r);
            millis.add(r.millis());
            cpuMillis.add(r.cpuMillis());
        }
        System.out.println("reload of 10,001 routes, ms per round: " + millis + ", CPU ms: " + cpuMillis);

        assertThat(proxy.config().routes()).hasSize(10_001);
        assertThat(get(proxy.port(), "/r9/9999/x").body()).isEqualTo("GET /r9/9999/x\n");
        assertThat(get(proxy.port(), "/r8/1/x").statusCode()).isEqualTo(404);
        // The first rounds pay for class loading and JIT compilation; a warm reload is what operators see. CPU time,
        // because a shared test machine's load stretches wall-clock time by whatever share of a core it leaves us.
        assertThat(cpuMillis.stream().mapToLong(Long::longValue).min().getAsLong()).isLessThan(200);
    }

    @Test
    @Timeout(60)
    void watchReloadsWhenTheFileChanges() throws Exception {
        Path file = write(config("127.0.0.1:0", false) + "reload: {watch: true}\n");
        ProxyServer proxy = start(file);
        assertThat(get(proxy.port(), "/b/x").statusCode()).isEqualTo(404);

        Files.writeString(file, config("127.0.0.1:0", true) + "reload: {watch: true}\n");

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> get(proxy.port(), "/b/x").statusCode() == 200);
        assertThat(proxy.config().routes()).hasSize(2);
    }

    private static boolean refuses(InetSocketAddress address) {
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return get(new InetSocketAddress("127.0.0.1", port), path);
    }

    private static HttpResponse<String> get(InetSocketAddress address, String path) throws Exception {
        String host = address.getAddress().getHostAddress();
        host = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(HttpRequest.newBuilder(
                URI.create("http://" + host + ":" + address.getPort() + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Assertions on a reload's outcome. */
    static final class ReloadResultAssert {
        static void applied(ReloadResult r) {
            assertThat(r.problems()).as("reload problems").isEmpty();
            assertThat(r.applied()).isTrue();
        }
    }
}
