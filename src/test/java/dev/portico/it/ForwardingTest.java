package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.RouteConfig;
import dev.portico.config.UpstreamUrl;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

@Timeout(30)
class ForwardingTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private TestBackend api;
    private TestBackend web;

    @AfterEach
    void closeBackends() {
        if (api != null) {
            api.close();
        }
        if (web != null) {
            web.close();
        }
    }

    @Test
    void routesByLongestPrefixAndForwardsPathAndQueryByteForByte() throws Exception {
        api = TestBackend.echo();
        web = TestBackend.echo();
        portico.start(b -> b.route("/", web.url()).route("/api", api.url()));

        HttpResponse<String> r = portico.get("/api/a%2Fb/c?q=%20x&y=1");
        HttpResponse<String> other = portico.get("/apix");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(api.take().uri()).isEqualTo("/api/a%2Fb/c?q=%20x&y=1");
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(web.take().uri()).isEqualTo("/apix");
    }

    @Test
    void stripsPrefixAndPrependsUpstreamPath() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route(new RouteConfig("/static", "", UpstreamUrl.parse(api.url() + "/assets"),
                true, RouteConfig.INHERIT)));

        assertThat(portico.get("/static/a.css?v=2").body()).startsWith("GET /assets/a.css?v=2");
        assertThat(portico.get("/static").body()).startsWith("GET /assets/");
    }

    @Test
    void routesByHostBeforeHostlessRoutes() throws Exception {
        api = TestBackend.echo();
        web = TestBackend.echo();
        portico.start(b -> b.route("/", web.url())
                .route(new RouteConfig("/", "*.example.com", UpstreamUrl.parse(api.url()), false, -1)));

        try (RawClient c = portico.raw()) {
            c.send("GET /x HTTP/1.1\r\nHost: Shop.Example.COM:8080\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /y HTTP/1.1\r\nHost: example.com\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(api.take().uri()).isEqualTo("/x");
        assertThat(web.take().uri()).isEqualTo("/y");
    }

    @Test
    void rewritesRequestHeaders() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("GET /h HTTP/1.1\r\nHost: front.example:8443\r\nConnection: keep-alive, X-Secret\r\n"
                    + "X-Secret: s\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
                    + "Upgrade: h2c\r\nX-Forwarded-For: 10.1.1.1\r\nVia: 1.0 edge\r\nX-Custom: kept\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }

        TestBackend.Received got = api.take();
        assertThat(got.headers().get("Host")).isEqualTo("front.example:8443");
        assertThat(got.headers().get("X-Forwarded-For")).isEqualTo("10.1.1.1, 127.0.0.1");
        assertThat(got.headers().get("X-Forwarded-Host")).isEqualTo("front.example:8443");
        assertThat(got.headers().get("X-Forwarded-Proto")).isEqualTo("http");
        assertThat(got.headers().get("Via")).isEqualTo("1.0 edge, 1.1 portico");
        assertThat(got.headers().get("X-Custom")).isEqualTo("kept");
        for (String hop : new String[] {"Connection", "X-Secret", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade"}) {
            assertThat(got.headers().contains(hop)).as(hop).isFalse();
        }
    }

    @Test
    void aBodyCannotBeSmuggledByNamingContentLengthInConnection() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/", api.url()));
        String smuggled = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";

        try (RawClient c = portico.raw()) {
            c.send("POST /form HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: "
                    + smuggled.length() + "\r\n\r\n" + smuggled);
            assertThat(c.read().body()).isEqualTo("POST /form\n" + smuggled);
        }
        assertThat(api.take().uri()).isEqualTo("/form");
        Thread.sleep(200);
        assertThat(api.pending()).as("no second request reached the backend").isZero();
    }

    @Test
    void removesHopByHopHeadersFromResponses() throws Exception {
        api = TestBackend.start((req, ctx) -> {
            FullHttpResponse res = TestBackend.text(HttpResponseStatus.OK, "ok");
            res.headers().set("Connection", "X-Internal").set("X-Internal", "1").set("Keep-Alive", "timeout=3")
                    .set("Upgrade", "foo").set("X-App", "yes");
            ctx.writeAndFlush(res);
        });
        portico.start(b -> b.route("/", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.body()).isEqualTo("ok");
            assertThat(r.header("X-App")).isEqualTo("yes");
            assertThat(r.header("X-Internal")).isNull();
            assertThat(r.header("Keep-Alive")).isNull();
            assertThat(r.header("Upgrade")).isNull();
            assertThat(r.header("Connection")).isNull();
        }
    }

    @Test
    void absoluteFormIsRoutedByItsAuthorityAndSentInOriginForm() throws Exception {
        api = TestBackend.echo();
        web = TestBackend.echo();
        portico.start(b -> b.route("/", web.url())
                .route(new RouteConfig("/", "b.example", UpstreamUrl.parse(api.url()), false, -1)));

        try (RawClient c = portico.raw()) {
            c.send("GET http://b.example/x?y=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestBackend.Received got = api.take();
        assertThat(got.uri()).isEqualTo("/x?y=1");
        assertThat(got.headers().get("Host")).isEqualTo("b.example");
    }

    @Test
    void http10WithoutHostIsRoutedByPathAndClosed() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/api", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("GET /api/old HTTP/1.0\r\n\r\n");
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /api/old");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(api.take().headers().get("Host")).isEqualTo(api.url().substring("http://".length()));
    }

    @Test
    void http10KeepAliveGetsLengthAndStaysOpen() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            RawClient.Response first = c.read();
            c.send("GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            RawClient.Response second = c.read();
            assertThat(first.header("Connection")).isEqualToIgnoringCase("keep-alive");
            assertThat(second.body()).startsWith("GET /2");
        }
    }

    @Test
    void forwardsPostBodiesWithLengthAndChunked() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/", api.url()));

        HttpResponse<String> r = portico.send(HttpRequest.newBuilder(portico.uri("/p"))
                .POST(HttpRequest.BodyPublishers.ofString("hello body")).build());
        assertThat(r.body()).isEqualTo("POST /p\nhello body");

        try (RawClient c = portico.raw()) {
            c.send("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            assertThat(c.read().body()).isEqualTo("POST /c\nhello world");
        }
        assertThat(api.take().headers().get("Content-Length")).isEqualTo("10");
        assertThat(api.take().headers().get("Transfer-Encoding")).isNull(); // aggregated by the test backend
    }

    @Test
    void headAnd204And304HaveNoBody() throws Exception {
        api = TestBackend.start((req, ctx) -> {
            String p = req.uri();
            if (p.equals("/204")) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT));
            } else if (p.equals("/304")) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED));
            } else {
                FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                res.headers().setInt("Content-Length", 1234);
                ctx.writeAndFlush(res);
            }
        });
        portico.start(b -> b.route("/", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response head = c.read(true);
            c.send("GET /204 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response noContent = c.read();
            c.send("GET /304 HTTP/1.1\r\nHost: a\r\n\r\n");
            RawClient.Response notModified = c.read();
            c.send("GET /204 HTTP/1.1\r\nHost: a\r\n\r\n");

            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("1234");
            assertThat(noContent.status()).isEqualTo(204);
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(c.read().status()).as("connection still in sync").isEqualTo(204);
        }
    }

    @Test
    void answersExpectContinueAndForwardsTheBody() throws Exception {
        api = TestBackend.echo();
        portico.start(b -> b.route("/", api.url()));

        try (RawClient c = portico.raw()) {
            c.send("PUT /up HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
            RawClient.Response interim = c.read();
            c.send("data");
            RawClient.Response fin = c.read();

            assertThat(interim.status()).isEqualTo(100);
            assertThat(fin.status()).isEqualTo(200);
            assertThat(fin.body()).isEqualTo("PUT /up\ndata");
        }
        assertThat(api.take().headers().contains("Expect")).isFalse();
    }

    @Test
    void closeDelimitedResponseIsRechunkedForHttp11Clients() throws Exception {
        try (var raw = dev.portico.testing.RawBackend.start(conn -> {
            conn.readHead();
            conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil close");
            conn.close();
        })) {
            portico.start(b -> b.route("/", raw.url()));
            try (RawClient c = portico.raw()) {
                c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                RawClient.Response r = c.read();
                c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
                RawClient.Response again = c.read();

                assertThat(r.header("Transfer-Encoding")).isEqualToIgnoringCase("chunked");
                assertThat(r.body()).isEqualTo("until close");
                assertThat(again.body()).as("client connection kept alive").isEqualTo("until close");
            }
        }
    }
}
