package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CompressPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.testing.Decoding;
import dev.portico.testing.H2Fetch;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import dev.portico.testing.TextBody;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The compress policy through a real proxy: what is encoded, how, and what is left alone. */
@Timeout(30)
class CompressTest {
    private static final byte[] TEXT = TextBody.of(1, 20_000);
    private static final String EVENT = "event: tick\ndata: the first of many\n\n";

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.start(CompressTest::answer);

    @BeforeEach
    void start() {
        TestBackend dead = TestBackend.echo();
        String deadUrl = dead.url();
        dead.close();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/local", r -> r.upstream(backend.url()).policies(CompressPolicyConfig.defaults(),
                        RespondPolicyConfig.of(200, new String(TEXT, StandardCharsets.US_ASCII))))
                .route("/down", r -> r.upstream(deadUrl)
                        .policies(CompressPolicyConfig.builder().minLength(0).build()))
                .route("/", r -> r.upstream(backend.url()).policies(CompressPolicyConfig.defaults()))
                .build());
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    /** The backend: the path names the response; {@code h} query parameters add fields ("Name: value"). */
    private static void answer(FullHttpRequest req, io.netty.channel.ChannelHandlerContext ctx) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        if (q.path().equals("/events")) {
            io.netty.handler.codec.http.HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(
                    HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set("Content-Type", "text/event-stream").set("Transfer-Encoding", "chunked");
            ctx.write(head);
            ctx.writeAndFlush(new io.netty.handler.codec.http.DefaultHttpContent(
                    Unpooled.copiedBuffer(EVENT, StandardCharsets.US_ASCII))); // and nothing more: the stream stays open
            return;
        }
        byte[] body = TEXT;
        String type = "text/html; charset=utf-8";
        int status = 200;
        switch (q.path()) {
            case "/json" -> type = "application/json";
            case "/png" -> type = "image/png";
            case "/small" -> body = TextBody.of(2, 1000);
            case "/encoded" -> body = gzip(TEXT);
            case "/range" -> {
                if (req.headers().contains("Range")) {
                    status = 206;
                    body = java.util.Arrays.copyOf(TEXT, 100);
                }
            }
            case "/empty" -> status = 204;
            case "/unchanged" -> status = 304;
            default -> {
            }
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                status == 204 || status == 304 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        r.headers().set("Content-Type", type);
        if (q.path().equals("/chunked")) {
            r.headers().set("Transfer-Encoding", "chunked");
        } else if (status != 204 && status != 304) {
            r.headers().setInt("Content-Length", body.length);
        }
        if (status == 206) {
            r.headers().set("Content-Range", "bytes 0-99/" + TEXT.length);
        }
        for (String h : q.parameters().getOrDefault("h", java.util.List.of())) {
            int colon = h.indexOf(':');
            r.headers().add(h.substring(0, colon), h.substring(colon + 1).trim());
        }
        ctx.writeAndFlush(r);
    }

    private static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private RawClient.Response get(String target, String... fields) throws Exception {
        return request("GET", target, fields);
    }

    private RawClient.Response request(String method, String target, String... fields) throws Exception {
        StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: h\r\n");
        for (String f : fields) {
            head.append(f).append("\r\n");
        }
        try (RawClient c = portico.raw()) {
            c.socket().setSoTimeout(10_000);
            return c.send(head.append("\r\n").toString()).read(method.equals("HEAD"));
        }
    }

    private static byte[] bytes(RawClient.Response r) {
        return r.body().getBytes(StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void encodesWithTheAcceptedEncodingAndTheClientDecodesTheBackendsBytes(String encoding) throws Exception {
        RawClient.Response r = get("/text", "Accept-Encoding: " + encoding);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-encoding")).isEqualTo(encoding);
        assertThat(r.headers()).doesNotContainKey("content-length");
        assertThat(r.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(r.header("vary")).isEqualTo("Accept-Encoding");
        assertThat(bytes(r).length).isLessThan(TEXT.length / 2);
        assertThat(Decoding.decode(encoding, bytes(r))).isEqualTo(TEXT);
    }

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource(delimiter = '|', value = {
        "gzip;q=1, br;q=0.1       | gzip",
        "gzip, deflate, br, zstd  | zstd",
        "gzip, br                 | br",
        "*;q=0.5, zstd;q=0        | br",
        "identity;q=0, gzip       | gzip",
    })
    void honoursQValuesAndThenPorticosPreference(String accept, String expected) throws Exception {
        RawClient.Response r = get("/json", "Accept-Encoding: " + accept);

        assertThat(r.header("content-encoding")).isEqualTo(expected);
        assertThat(Decoding.decode(expected, bytes(r))).isEqualTo(TEXT);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no Accept-Encoding           | GET  | /text      | X-None: 1",
        "gzip;q=0 alone               | GET  | /text      | Accept-Encoding: gzip;q=0",
        "identity preferred           | GET  | /text      | Accept-Encoding: gzip;q=0.5, identity",
        "a type not listed            | GET  | /png       | Accept-Encoding: gzip",
        "under min_length             | GET  | /small     | Accept-Encoding: gzip",
        "Cache-Control: no-transform  | GET  | /text?h=Cache-Control:%20public,%20no-transform | Accept-Encoding: gzip",
        "a request's no-transform     | GET  | /text      | Accept-Encoding: gzip & Cache-Control: no-transform",
        "a range request              | GET  | /range     | Accept-Encoding: gzip & Range: bytes=0-99",
        "HEAD                         | HEAD | /text      | Accept-Encoding: gzip",
        "204                          | GET  | /empty     | Accept-Encoding: gzip",
        "an upgrade request           | GET  | /text      | Accept-Encoding: gzip & Connection: Upgrade & Upgrade: "
            + "websocket & Sec-WebSocket-Version: 13 & Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    })
    void leavesTheResponseAsTheBackendSentIt(String why, String method, String target, String fields)
            throws Exception {
        RawClient.Response r = request(method, target, fields.split(" & "));

        assertThat(r.headers()).as(why).doesNotContainKey("content-encoding");
        if (r.status() == 200 && !method.equals("HEAD")) {
            assertThat(r.header("content-length")).isEqualTo(String.valueOf(bytes(r).length));
        }
        if (method.equals("HEAD")) {
            assertThat(r.header("content-length")).isEqualTo(String.valueOf(TEXT.length));
        }
        if (r.status() == 206) {
            assertThat(bytes(r)).isEqualTo(java.util.Arrays.copyOf(TEXT, 100));
        } else if (r.status() == 200 && !method.equals("HEAD")) {
            assertThat(r.body().length()).isIn(TEXT.length, 1000);
        }
    }

    @Test
    void aBodyTheBackendEncodedPassesUntouched() throws Exception {
        RawClient.Response r = get("/encoded?h=Content-Encoding:%20gzip", "Accept-Encoding: br, gzip");

        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(Decoding.decode("gzip", bytes(r))).isEqualTo(TEXT);
        assertThat(r.headers()).doesNotContainKey("vary");
    }

    @Test
    void aRangeAnsweredWithTheWholeBodyIsNotEncodedEither() throws Exception {
        RawClient.Response r = get("/text", "Accept-Encoding: gzip", "Range: bytes=0-99");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).doesNotContainKey("content-encoding");
        assertThat(bytes(r)).isEqualTo(TEXT);
        assertThat(r.header("vary")).as("other requests get it encoded").isEqualTo("Accept-Encoding");
    }

    @Test
    void aBodyOfUnknownLengthIsEncodedWhateverItsSize() throws Exception {
        RawClient.Response r = get("/chunked", "Accept-Encoding: gzip");

        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(Decoding.decode("gzip", bytes(r))).isEqualTo(TEXT);
    }

    @Test
    void anHttp10ClientGetsTheBodyUnencodedWithItsLength() throws Exception {
        try (RawClient c = portico.raw()) {
            RawClient.Response r = c.send("GET /text HTTP/1.0\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n").read();

            assertThat(r.headers()).doesNotContainKey("content-encoding");
            assertThat(bytes(r)).isEqualTo(TEXT);
        }
    }

    @ParameterizedTest(name = "Vary: {0}")
    @CsvSource(delimiter = '|', value = {
        "Origin                   | Origin, Accept-Encoding",
        "Origin, User-Agent       | Origin, User-Agent, Accept-Encoding",
        "accept-encoding          | accept-encoding",
        "Origin, Accept-Encoding  | Origin, Accept-Encoding",
        "*                        | *",
    })
    void mergesAcceptEncodingIntoTheBackendsVary(String backendVary, String expected) throws Exception {
        String v = java.net.URLEncoder.encode("Vary: " + backendVary, StandardCharsets.UTF_8);
        RawClient.Response r = get("/text?h=" + v, "Accept-Encoding: gzip");

        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(r.header("vary")).isEqualTo(expected);
    }

    @Test
    void twoVaryLinesBecomeOneWithAcceptEncoding() throws Exception {
        RawClient.Response r = get("/text?h=Vary:%20Origin&h=Vary:%20Cookie", "Accept-Encoding: gzip");

        assertThat(r.header("vary")).isEqualTo("Origin, Cookie, Accept-Encoding");
    }

    @Test
    void weakensAStrongETagOfAnEncodedBodyAndKeepsAWeakOne() throws Exception {
        assertThat(get("/text?h=ETag:%20%22v1%22", "Accept-Encoding: gzip").header("etag")).isEqualTo("W/\"v1\"");
        assertThat(get("/text?h=ETag:%20W/%22v2%22", "Accept-Encoding: gzip").header("etag")).isEqualTo("W/\"v2\"");
        assertThat(get("/text?h=ETag:%20%22v1%22").header("etag")).as("identity keeps it").isEqualTo("\"v1\"");
        assertThat(get("/png?h=ETag:%20%22v1%22", "Accept-Encoding: gzip").header("etag")).isEqualTo("\"v1\"");
    }

    @Test
    void a304ValidatingAnEncodedBodyNamesTheWeakenedTag() throws Exception {
        RawClient.Response r = get("/unchanged?h=ETag:%20%22v1%22", "Accept-Encoding: gzip",
                "If-None-Match: W/\"v1\"");

        assertThat(r.status()).isEqualTo(304);
        assertThat(r.header("etag")).isEqualTo("W/\"v1\"");
        assertThat(r.headers()).doesNotContainKey("content-encoding");
    }

    @Test
    void aPolicysLocalResponseIsEncodedWithItsExactLength() throws Exception {
        RawClient.Response r = get("/local", "Accept-Encoding: br");

        assertThat(r.header("content-encoding")).isEqualTo("br");
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(bytes(r).length));
        assertThat(Decoding.decode("br", bytes(r))).isEqualTo(TEXT);
    }

    @Test
    void porticosOwnErrorPassesTheResponsePhasesAndIsEncoded() throws Exception {
        RawClient.Response r = get("/down", "Accept-Encoding: gzip");

        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("content-encoding")).isEqualTo("gzip");
        assertThat(new String(Decoding.decode("gzip", bytes(r)), StandardCharsets.UTF_8)).startsWith("502 ");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void encodesForHttp2ClientsWithoutALength(String encoding) throws Exception {
        try (H2Fetch h2 = new H2Fetch(portico.port())) {
            H2Fetch.Result r = h2.send(HttpMethod.GET, "/text", "accept-encoding", encoding).get(10, TimeUnit.SECONDS);
            H2Fetch.Result local = h2.send(HttpMethod.GET, "/local", "accept-encoding", encoding)
                    .get(10, TimeUnit.SECONDS);

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().get("content-encoding")).isEqualTo(encoding);
            assertThat(r.wire().contains("content-length")).isFalse();
            assertThat(r.wire().contains("transfer-encoding")).isFalse();
            assertThat(Decoding.decode(encoding, r.body())).isEqualTo(TEXT);
            assertThat(local.headers().get("content-encoding")).isEqualTo(encoding);
            assertThat(Decoding.decode(encoding, local.body())).isEqualTo(TEXT);
        }
    }
    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void whatTheBackendSentReachesTheClientDecodableWithoutWaitingForMore(String encoding) throws Exception {
        try (RawClient c = portico.raw()) {
            c.socket().setSoTimeout(5_000);
            c.send("GET /events HTTP/1.1\r\nHost: h\r\nAccept-Encoding: " + encoding + "\r\n\r\n");
            java.io.InputStream in = c.socket().getInputStream();
            String head = readLine(in);
            String line;
            boolean encoded = false;
            while (!(line = readLine(in)).isEmpty()) {
                encoded |= line.equalsIgnoreCase("content-encoding: " + encoding);
            }
            assertThat(head).startsWith("HTTP/1.1 200");
            assertThat(encoded).isTrue();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            byte[] expected = EVENT.getBytes(StandardCharsets.US_ASCII);
            // The stream stays open: the event must be decodable from the chunks that came, within the timeout.
            do {
                int size = Integer.parseInt(readLine(in).trim(), 16);
                body.writeBytes(in.readNBytes(size));
                readLine(in);
            } while (!java.util.Arrays.equals(Decoding.decodePrefix(encoding, body.toByteArray(), expected.length),
                    expected));
        }
    }

    private static String readLine(java.io.InputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        int ch;
        while ((ch = in.read()) >= 0 && ch != '\n') {
            if (ch != '\r') {
                sb.append((char) ch);
            }
        }
        return sb.toString();
    }
}
