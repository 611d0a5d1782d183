package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar's command line: modes, exit codes, messages, logging and signal handling. */
class CommandLineIT {
    private static final Duration EXIT = Duration.ofSeconds(20);

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

    @Test
    @Timeout(30)
    void versionPrintsTheVersionAndExitsZero() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run("--version");

        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("portico").containsPattern("\\d+\\.\\d+");
    }

    @Test
    @Timeout(30)
    void helpDescribesTheOptionsAndExitsZero() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run("--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("--config", "--listen", "--route", "--demo", "--check");
    }

    @Test
    @Timeout(30)
    void checkAcceptsAValidFileAndExitsZero() throws Exception {
        Path file = write("valid.yaml", """
                listen: 127.0.0.1:0
                routes:
                  - path: /api
                    upstream: "http://127.0.0.1:8000"
                    strip_prefix: true
                    max_request_body: 1MiB
                  - {path: /web, host: example.test, upstream: "http://127.0.0.1:8001"}
                timeouts: {connect: 250ms, response: 2s, idle: 1m, request_header: 2s, drain: 2s}
                limits: {max_request_line: 8KiB, max_header_size: 64KiB, max_request_body: 10MiB}
                workers: 1
                access_log: {enabled: false}
                """);

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", file.toString());

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains(file + ": OK");
    }

    @Test
    @Timeout(30)
    void checkAcceptsTheShortRouteFormAndExitsZero() throws Exception {
        Path file = write("short.yaml", """
                listen: 127.0.0.1:0
                routes: {/api: "http://127.0.0.1:8000", /web: "http://127.0.0.1:8001"}
                """);

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", file.toString());

        assertThat(r.exitCode()).as(r.stderr()).isZero();
        assertThat(r.stdout()).contains(file + ": OK");
    }

    @Test
    @Timeout(30)
    void checkListsEveryProblemWithFileAndKeyPathAndExitsTwo() throws Exception {
        Path file = write("broken.yaml", """
                listen: 127.0.0.1:0
                routes:
                  - path: /api
                    upstream: "htp://127.0.0.1:8000"
                timeouts: {connect: soon}
                """);

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", file.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains(file.toString())
                .containsPattern("routes\\[0]\\.upstream: .*htp")
                .containsPattern("timeouts\\.connect: .*soon")
                .doesNotContain("\tat ", "Exception");
        assertThat(r.stdout()).doesNotContain(": OK");
    }

    @Test
    @Timeout(30)
    void checkRejectsAnUnknownKeyAndExitsTwo() throws Exception {
        Path file = write("unknown.yaml", """
                listen: 127.0.0.1:0
                routes: {/api: "http://127.0.0.1:8000"}
                access_log: {enabled: true, rotate: daily}
                """);

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", file.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains(file.toString(), "access_log.rotate").doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void missingConfigFileExitsTwoNamingTheFile() throws Exception {
        Path file = dir.resolve("absent.yaml");

        PorticoProcess.Result r = PorticoProcess.run("--check", "--config", file.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains(file.toString()).doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void noModeGivenExitsTwo() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run();

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).isNotBlank().doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void malformedRouteExitsTwo() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run("--listen", "127.0.0.1:0", "--route", "/api-without-url");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--route").doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void malformedListenAddressExitsTwo() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run("--listen", "127.0.0.1:notaport",
                "--route", "/api=http://127.0.0.1:8000");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--listen").doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void portInUseExitsOneWithOneLineNamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();

            PorticoProcess.Result r = PorticoProcess.run("--listen", "127.0.0.1:" + port,
                    "--route", "/api=http://127.0.0.1:8000");

            assertThat(r.exitCode()).as(r.stderr()).isEqualTo(1);
            assertThat(r.stderr().lines().filter(l -> l.contains("cannot listen on 127.0.0.1:" + port)))
                    .hasSize(1);
            assertThat(r.stderr()).doesNotContain("\tat ", "Exception");
        }
    }

    @Test
    @Timeout(30)
    void listenAndRouteOptionsProxyARequestAndLogIt() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        PorticoProcess proxy = resource(PorticoProcess.start("--listen", "127.0.0.1:0",
                "--route", "/api=" + backend.url()));
        int port = proxy.awaitPort();

        HttpResponse<String> res = get(port, "/api/x?q=1");

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).startsWith("GET /api/x?q=1\n");
        assertThat(proxy.stderr()).contains("listening on 127.0.0.1:" + port);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(proxy.stdout()).containsPattern(
                "(?m)^127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /api/x\\?q=1 HTTP/1\\.1\" 200 \\d+ \"-\" \"[^\"]*\" "
                        + "[0-9a-f]{32} \\d+ 127\\.0\\.0\\.1:" + backend.port() + " \\d+$"));
    }

    @Test
    @Timeout(60)
    void warmupLoadsALoopbackProxyBeforeListeningAndNeitherTheBackendNorTheLogsSeeIt() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        Path file = write("warm.yaml", "listen: 127.0.0.1:0\nroutes: {/api: \"" + backend.url() + "\"}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--warmup", "1s", "--config", file.toString()));
        int port = proxy.awaitPort();

        HttpResponse<String> res = get(port, "/api/after-warmup");

        assertThat(res.statusCode()).isEqualTo(200);
        String err = proxy.stderr();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "warm-up: (\\d+) requests through a loopback proxy in (\\d+) ms").matcher(err);
        assertThat(m.find()).as(err).isTrue();
        assertThat(Long.parseLong(m.group(1))).as("answered 200 by the loopback proxy").isGreaterThan(20);
        assertThat(Long.parseLong(m.group(2))).isBetween(1000L, 20_000L);
        assertThat(err.indexOf("warm-up:")).isLessThan(err.indexOf("listening on"));
        assertThat(err.split("listening on", -1)).as("only the real listener is logged").hasSize(2);
        assertThat(err.split("epoll transport|nio transport", -1)).hasSize(2);
        assertThat(backend.take().uri()).isEqualTo("/api/after-warmup");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(proxy.stdout())
                .contains("/api/after-warmup").doesNotContain("/warmup"));
    }

    @Test
    @Timeout(30)
    void aWarmupThatIsNotADurationIsAUsageErrorExitingTwo() throws Exception {
        PorticoProcess.Result r = PorticoProcess.run("--warmup", "soon", "--listen", "127.0.0.1:0",
                "--route", "/=http://127.0.0.1:9");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--warmup: expected a duration such as 3s, got \"soon\"");
    }

    @Test
    @Timeout(30)
    void configFileModeProxiesThroughTheShortRouteForm() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        Path file = write("run.yaml", "listen: 127.0.0.1:0\nroutes: {/api: \"" + backend.url() + "\"}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();

        HttpResponse<String> res = get(port, "/api/from-file");

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).startsWith("GET /api/from-file\n");
        assertThat(get(port, "/elsewhere").statusCode()).isEqualTo(404);
    }

    @Test
    @Timeout(40)
    void sigtermStopsAcceptingLetsTheInFlightRequestFinishAndExitsZero() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend backend = resource(TestBackend.start((req, ctx) -> {
            arrived.countDown();
            ctx.executor().schedule(() -> ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "slow done")),
                    1500, TimeUnit.MILLISECONDS);
        }));
        Path file = write("drain.yaml", "listen: 127.0.0.1:0\nroutes: {/slow: \"" + backend.url() + "\"}\n"
                + "timeouts: {drain: 10s}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                request(port, "/slow/x"), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).as("request reached the backend").isTrue();

        proxy.terminate();

        await("listener closed").atMost(Duration.ofMillis(1200)).pollInterval(Duration.ofMillis(20))
                .until(() -> refusesConnections(port));
        HttpResponse<String> res = inFlight.get(10, TimeUnit.SECONDS);
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body()).isEqualTo("slow done");
        assertThat(proxy.awaitExit(EXIT)).as(proxy.stderr()).isZero();
        assertThat(proxy.stdout()).as("stdout; stderr was:%n%s", proxy.stderr())
                .contains("\"GET /slow/x HTTP/1.1\" 200 9 ");
    }

    @Test
    @Timeout(30)
    void sigtermCutsARequestStillInFlightAfterTheDrainTimeoutAndExitsZero() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend backend = resource(TestBackend.start((req, ctx) -> arrived.countDown()));
        Path file = write("cut.yaml", "listen: 127.0.0.1:0\nroutes: {/never: \"" + backend.url() + "\"}\n"
                + "timeouts: {drain: 300ms, response: 30s}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                request(port, "/never/answered"), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).as("request reached the backend").isTrue();
        long signalled = System.nanoTime();

        proxy.terminate();

        assertThat(proxy.awaitExit(EXIT)).as(proxy.stderr()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - signalled)).isLessThan(Duration.ofSeconds(10));
        assertThat(inFlight).failsWithin(Duration.ofSeconds(10));
        assertThat(proxy.stderr()).doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(40)
    void aSecondSigtermStopsAtOnceWithoutWaitingForTheDrain() throws Exception {
        CountDownLatch arrived = new CountDownLatch(1);
        TestBackend backend = resource(TestBackend.start((req, ctx) -> arrived.countDown()));
        Path file = write("fast.yaml", "listen: 127.0.0.1:0\nroutes: {/never: \"" + backend.url() + "\"}\n"
                + "timeouts: {drain: 60s, response: 60s}\n");
        PorticoProcess proxy = resource(PorticoProcess.start("--config", file.toString()));
        int port = proxy.awaitPort();
        CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                request(port, "/never/answered"), HttpResponse.BodyHandlers.ofString());
        assertThat(arrived.await(10, TimeUnit.SECONDS)).as("request reached the backend").isTrue();
        proxy.terminate();
        await("graceful shutdown begun").atMost(Duration.ofSeconds(10)).until(() -> refusesConnections(port));
        assertThat(proxy.isAlive()).as("draining the request in flight").isTrue();
        long again = System.nanoTime();

        proxy.terminate();

        assertThat(proxy.awaitExit(Duration.ofSeconds(10))).as(proxy.stderr()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - again)).isLessThan(Duration.ofSeconds(5));
        assertThat(inFlight).failsWithin(Duration.ofSeconds(5));
        assertThat(proxy.stderr()).contains("received again: stopping at once", "fast shutdown: closing 1 connections")
                .doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(30)
    void sigintShutsDownAndExitsZero() throws Exception {
        TestBackend backend = resource(TestBackend.echo());
        PorticoProcess proxy = resource(PorticoProcess.start("--listen", "127.0.0.1:0",
                "--route", "/api=" + backend.url()));
        int port = proxy.awaitPort();
        assertThat(get(port, "/api/before").statusCode()).isEqualTo(200);

        proxy.signal("INT");

        assertThat(proxy.awaitExit(EXIT)).as(proxy.stderr()).isZero();
        assertThat(proxy.stderr()).doesNotContain("\tat ", "Exception");
    }

    @Test
    @Timeout(40)
    void demoServesTheApiBackendThroughPort8080() throws Exception {
        for (int port : new int[] {8080, 8000, 8001}) {
            Assumptions.assumeTrue(isFree(port), "port " + port + " is in use");
        }
        PorticoProcess demo = resource(PorticoProcess.start("--demo"));
        assertThat(demo.awaitPort()).isEqualTo(8080);

        HttpResponse<String> api = get(8080, "/api/hello");
        HttpResponse<String> web = get(8080, "/web/page");

        assertThat(api.statusCode()).isEqualTo(200);
        assertThat(api.body()).contains("\"api\"", "GET /api/hello");
        assertThat(web.statusCode()).isEqualTo(200);
        assertThat(web.body()).contains("\"web\"", "GET /web/page");
        demo.terminate();
        assertThat(demo.awaitExit(EXIT)).as(demo.stderr()).isZero();
    }

    private HttpResponse<String> get(int port, String pathAndQuery) throws Exception {
        return client.send(request(port, pathAndQuery), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(int port, String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).build();
    }

    private static boolean refusesConnections(int port) {
        try (Socket s = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether nothing listens on the port; the probe socket is closed at once and reserves nothing. */
    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Path write(String name, String yaml) throws IOException {
        return Files.writeString(dir.resolve(name), yaml);
    }

    private <T extends AutoCloseable> T resource(T r) {
        resources.add(r);
        return r;
    }
}
