package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.ProxyServer;
import dev.portico.internal.balance.Endpoint;
import dev.portico.internal.balance.UpstreamGroup;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.AccessLogCapture;
import dev.portico.testing.HoldingBackend;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.Upstreams;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** max_connections and max_pending with pipelining, health checks and clients that leave while they wait. */
@Timeout(60)
class UpstreamLimitsTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private ProxyServer start(String upstream, String... urls) {
        return portico.start(ProxyConfig.parse("""
                listen: 127.0.0.1:0
                workers: 1
                timeouts: {connect: 1s, response: 5s, drain: 1s}
                upstreams:
                  app:
                    servers: [%s]
                %s
                routes: {/: app}
                """.formatted(String.join(", ", urls), upstream.indent(4)), "test.yaml"));
    }

    private CompletableFuture<HttpResponse<String>> sendAsync(String path) {
        return portico.client().sendAsync(HttpRequest.newBuilder(portico.uri(path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pipelinedRequestsShareTheOnlyConnectionAllowed() throws Exception {
        try (TestBackend echo = TestBackend.echo()) {
            start("max_connections: 1\nmax_pending: 4", echo.url());

            try (RawClient c = portico.raw()) {
                c.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n");
                RawClient.Response a = c.read();
                RawClient.Response b = c.read();

                assertThat(a.status()).isEqualTo(200);
                assertThat(a.body()).isEqualTo("GET /a\n");
                assertThat(b.status()).as("served by the connection /a gave back").isEqualTo(200);
                assertThat(b.body()).isEqualTo("GET /b\n");
            }
            assertThat(echo.connections()).isEqualTo(1);
        }
    }

    @Test
    void anEndpointTakenOutByItsCheckGetsNoTrafficWhenTheHealthyOnesAreFull() throws Exception {
        AtomicInteger served = new AtomicInteger();
        try (HoldingBackend healthy = new HoldingBackend();
             TestBackend failing = TestBackend.start((req, ctx) -> {
                 if (!req.uri().equals("/healthz")) {
                     served.incrementAndGet();
                 }
                 ctx.writeAndFlush(TestBackend.text(req.uri().equals("/healthz")
                         ? HttpResponseStatus.INTERNAL_SERVER_ERROR : HttpResponseStatus.OK, "failing"));
             })) {
            start("""
                    max_connections: 1
                    balance: round_robin
                    health_check: {path: /healthz, interval: 100ms, unhealthy_threshold: 1}
                    """, healthy.url(), failing.url());
            UpstreamGroup g = Upstreams.of(portico.proxy(), "app");
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> !g.endpoints().get(1).healthy() && g.endpoints().get(0).healthy());
            CompletableFuture<HttpResponse<String>> held = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> healthy.held() == 1);

            HttpResponse<String> r = portico.get("/x");

            assertThat(r.statusCode()).as("the healthy endpoint is full and no request may wait").isEqualTo(503);
            assertThat(served.get()).as("requests that reached the endpoint out of service").isZero();
            healthy.release();
            assertThat(held.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aWaiterWhoseClientLeftGivesUpItsPlace() throws Exception {
        try (HoldingBackend backend = new HoldingBackend(); AccessLogCapture log = new AccessLogCapture()) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 1
                    timeouts: {connect: 5s, response: 5s, drain: 1s}
                    upstreams:
                      app: {servers: [%s], max_connections: 1, max_pending: 1}
                    routes: {/: app}
                    """.formatted(backend.url()), "test.yaml"));
            CompletableFuture<HttpResponse<String>> first = sendAsync("/hold");
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> backend.held() == 1);
            try (RawClient gone = portico.raw()) {
                gone.send("GET /gone HTTP/1.1\r\nHost: t\r\n\r\n");
                Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1))
                        .until(() -> log.find("GET /gone") == null);
            }
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.find("GET /gone") != null);

            CompletableFuture<HttpResponse<String>> waiting = sendAsync("/fast");
            Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1))
                    .until(() -> !waiting.isDone());
            backend.release();

            assertThat(first.get(5, TimeUnit.SECONDS).body()).isEqualTo("held");
            HttpResponse<String> served = waiting.get(5, TimeUnit.SECONDS);
            assertThat(served.statusCode()).as("the place the gone client held is free").isEqualTo(200);
            assertThat(served.body()).isEqualTo("fast");
            assertThat(backend.connections()).as("the pooled connection was reused, not closed").isEqualTo(1);
        }
    }

    @Test
    void aSlotFreedForAWaiterOnAnotherLoopGoesToThatWaiterAlone() throws Exception {
        ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();
        try (TestBackend backend = TestBackend.start((req, ctx) -> {
            if (req.uri().equals("/hold")) {
                held.add(ctx);
            } else {
                ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, req.uri()));
            }
        })) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 2
                    timeouts: {connect: 5s, response: 5s, drain: 1s}
                    upstreams:
                      app: {servers: [%s], max_connections: 1, max_pending: 8}
                    routes: {/: app}
                    """.formatted(backend.url()), "test.yaml"));
            Endpoint endpoint = Upstreams.of(portico.proxy(), "app").endpoints().get(0);
            List<RawClient> clients = new ArrayList<>();
            try {
                // Client connections go to the two loops in turn: /w1 and /w3 wait on the other loop than /hold.
                RawClient holder = portico.raw();
                clients.add(holder);
                holder.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
                Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> held.size() == 1);
                for (int i = 1; i <= 3; i++) {
                    RawClient c = portico.raw();
                    clients.add(c);
                    c.send("GET /w" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
                    int queued = i;
                    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.waiting() == queued);
                }
                assertThat(backend.take().uri()).isEqualTo("/hold");

                held.poll().writeAndFlush(TestBackend.text(HttpResponseStatus.OK, "held"));

                assertThat(holder.read().status()).isEqualTo(200);
                for (int i = 1; i <= 3; i++) {
                    RawClient.Response r = clients.get(i).read();
                    assertThat(r.status()).as("/w" + i).isEqualTo(200);
                    assertThat(r.body()).isEqualTo("/w" + i);
                }
                List<String> order = new ArrayList<>();
                for (int i = 1; i <= 3; i++) {
                    order.add(backend.take().uri());
                }
                assertThat(order).as("served in the order they began waiting").containsExactly("/w1", "/w2", "/w3");
                assertThat(backend.mostOpen()).as("backend connections open at once").isEqualTo(1);
            } finally {
                for (RawClient c : clients) {
                    c.close();
                }
            }
        }
    }
}
