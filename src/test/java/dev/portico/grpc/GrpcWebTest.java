package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ProxyConfig;
import dev.portico.grpc.GrpcH1Backend.Ok;
import dev.portico.grpc.GrpcH1Backend.TrailersOnly;
import dev.portico.testing.H2Fetch;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * gRPC-Web on a route with {@code grpc_web: true}, with hand-built frames from HTTP/1.1 (raw socket) and HTTP/2
 * clients: the backend gets gRPC, the client gets gRPC-Web with the backend's trailers as the trailer frame.
 */
@Timeout(60)
class GrpcWebTest {
    private static final String PATH = "/grpc.testing.SimpleService/UnaryRpc";
    private static final byte[] PING = "ping-message".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PONG = "pong!".getBytes(StandardCharsets.UTF_8);

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private int start(GrpcH1Backend backend) {
        portico.start(ProxyConfig.parse("""
                listen: {address: 127.0.0.1:0, h2c: true}
                workers: 1
                routes:
                  - path: /grpc.testing.SimpleService
                    upstream: %s
                    grpc_web: true
                    policies:
                      - cors:
                          allow_origins: [https://app.example]
                          allow_methods: [POST]
                          allow_headers: [content-type, x-grpc-web, x-user-agent, grpc-timeout]
                          expose_headers: [grpc-status, grpc-message]
                """.formatted(backend.url()), "grpc-web.yaml"));
        return portico.port();
    }

    private static GrpcH1Backend backend(Function<GrpcH1Backend.Received, GrpcH1Backend.Answer> script)
            throws InterruptedException {
        return new GrpcH1Backend(script);
    }

    /** The trailer frame gRPC-Web clients expect: flag 0x80, length, {@code name:value\r\n} lines. */
    private static byte[] trailerFrame(String lines) {
        byte[] block = lines.getBytes(StandardCharsets.US_ASCII);
        byte[] f = GrpcH1Backend.frame(block);
        f[0] = (byte) 0x80;
        return f;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** An HTTP/1.1 request with a chunked body in exactly these chunks. */
    private static String chunked(String contentType, String... chunks) {
        StringBuilder sb = new StringBuilder("POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                + contentType + "\r\nX-Grpc-Web: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (String c : chunks) {
            sb.append(Integer.toHexString(c.length())).append("\r\n").append(c).append("\r\n");
        }
        return sb.append("0\r\n\r\n").toString();
    }

    @Test
    void binaryGrpcWebOverHttp11BecomesGrpcAndTheTrailersComeBackAsATrailerFrame() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG}, "x-custom", "Value-1"))) {
            int port = start(backend);
            byte[] request = GrpcH1Backend.frame(PING);
            try (RawClient c = new RawClient(port)) {
                c.send(("POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/grpc-web+proto\r\n"
                        + "Content-Length: " + request.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                c.send(request);
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("content-type")).isEqualTo("application/grpc-web+proto");
                assertThat(r.headers()).doesNotContainKeys("grpc-status", "trailer:grpc-status");
                assertThat(r.body().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(concat(
                        GrpcH1Backend.frame(PONG), trailerFrame("grpc-status:0\r\nx-custom:Value-1\r\n")));
            }
            GrpcH1Backend.Received seen = backend.take();
            assertThat(seen.headers().get("content-type")).isEqualTo("application/grpc+proto");
            assertThat(seen.headers().get("te")).as("hop-by-hop on HTTP/1.1").isNull();
            assertThat(seen.body()).isEqualTo(request);
        }
    }

    @Test
    void textGrpcWebIsDecodedAcrossUnalignedChunksAndTheAnswerIsBase64() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG, PING}))) {
            int port = start(backend);
            // Two messages, each encoded on its own (padding inside the stream), sent in chunks of 3, 5, ... chars.
            String text = b64(GrpcH1Backend.frame(PING)) + b64(GrpcH1Backend.frame("x".getBytes()));
            assertThat(text.indexOf('=')).isBetween(1, text.length() - 2);
            String[] chunks = {text.substring(0, 3), text.substring(3, 8), text.substring(8, 21),
                text.substring(21)};
            try (RawClient c = new RawClient(port)) {
                c.send(chunked("application/grpc-web-text", chunks));
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("content-type")).isEqualTo("application/grpc-web-text");
                assertThat(r.body()).isEqualTo(b64(concat(GrpcH1Backend.frame(PONG), GrpcH1Backend.frame(PING)))
                        + b64(trailerFrame("grpc-status:0\r\n")));
            }
            GrpcH1Backend.Received seen = backend.take();
            assertThat(seen.headers().get("content-type")).isEqualTo("application/grpc");
            assertThat(seen.body()).isEqualTo(concat(GrpcH1Backend.frame(PING), GrpcH1Backend.frame("x".getBytes())));
        }
    }

    @Test
    void aBodyThatIsNotBase64IsRefusedInGrpcWebForm() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG}))) {
            int port = start(backend);
            try (RawClient c = new RawClient(port)) {
                c.send(chunked("application/grpc-web-text", "AAAA", "not*base64"));
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                String frame = new String(Base64.getDecoder().decode(r.body()), StandardCharsets.ISO_8859_1);
                assertThat(frame).startsWith("\u0080").contains("grpc-status:13\r\n"); // 400: INTERNAL
            }
        }
    }

    @Test
    void aTrailersOnlyAnswerMovesItsStatusIntoTheTrailerFrame() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new TrailersOnly(14, "busy"))) {
            int port = start(backend);
            try (RawClient c = new RawClient(port)) {
                c.send(chunked("application/grpc-web", new String(GrpcH1Backend.frame(PING),
                        StandardCharsets.ISO_8859_1)));
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.headers()).doesNotContainKeys("grpc-status", "grpc-message");
                assertThat(r.body().getBytes(StandardCharsets.ISO_8859_1))
                        .isEqualTo(trailerFrame("grpc-status:14\r\ngrpc-message:busy\r\n"));
            }
        }
    }

    @Test
    void porticosOwnAnswerToAGrpcWebRequestIsATrailerFrame() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG}))) {
            int port = start(backend);
            try (RawClient c = new RawClient(port)) {
                c.send("POST /other.Service/Call HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/grpc-web-text\r\nContent-Length: 0\r\n\r\n");
                RawClient.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("content-type")).isEqualTo("application/grpc-web-text");
                assertThat(r.headers()).doesNotContainKey("grpc-status");
                String frame = new String(Base64.getDecoder().decode(r.body()), StandardCharsets.ISO_8859_1);
                assertThat(frame.substring(5)).isEqualTo("grpc-status:12\r\ngrpc-message:404 Not Found: "
                        + "no route for this host and path\r\n");
            }
        }
    }

    @Test
    void grpcWebOverHttp2InBothForms() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG}, "x-custom", "v"));
             H2Fetch h2 = new H2Fetch(start(backend))) {
            byte[] request = GrpcH1Backend.frame(PING);
            H2Fetch.Result binary = h2.send(HttpMethod.POST, PATH, new byte[][] {request},
                    "content-type", "application/grpc-web").get(10, TimeUnit.SECONDS);
            assertThat(binary.status()).isEqualTo(200);
            assertThat(binary.headers().get("content-type")).isEqualTo("application/grpc-web");
            assertThat(binary.body()).isEqualTo(concat(GrpcH1Backend.frame(PONG),
                    trailerFrame("grpc-status:0\r\nx-custom:v\r\n")));
            assertThat(backend.take().body()).isEqualTo(request);

            String text = b64(request);
            H2Fetch.Result encoded = h2.send(HttpMethod.POST, PATH, new byte[][] {
                text.substring(0, 6).getBytes(), text.substring(6).getBytes()},
                    "content-type", "application/grpc-web-text+proto").get(10, TimeUnit.SECONDS);
            assertThat(encoded.headers().get("content-type")).isEqualTo("application/grpc-web-text+proto");
            assertThat(new String(encoded.body(), StandardCharsets.US_ASCII)).isEqualTo(
                    b64(GrpcH1Backend.frame(PONG)) + b64(trailerFrame("grpc-status:0\r\nx-custom:v\r\n")));
            GrpcH1Backend.Received seen = backend.take();
            assertThat(seen.headers().get("content-type")).isEqualTo("application/grpc+proto");
            assertThat(seen.body()).isEqualTo(request);
        }
    }

    @Test
    void aCompressPolicyCompressesTheTextFormAfterItsFraming() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new Ok(new byte[][] {PONG, PONG, PONG}, "x-custom", "v"))) {
            portico.start(ProxyConfig.parse("""
                    listen: 127.0.0.1:0
                    workers: 1
                    routes:
                      - path: /
                        upstream: %s
                        grpc_web: true
                        policies:
                          - compress: {encodings: [gzip], min_length: 0, types: [application/grpc-web-text]}
                    """.formatted(backend.url()), "grpc-web-gzip.yaml"));
            try (RawClient c = new RawClient(portico.port())) {
                c.send(("POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/grpc-web-text\r\n"
                        + "Accept-Encoding: gzip\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                RawClient.Response r = c.read();
                assertThat(r.header("content-encoding")).isEqualTo("gzip");
                byte[] plain = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(
                        r.body().getBytes(StandardCharsets.ISO_8859_1))).readAllBytes();
                assertThat(new String(plain, StandardCharsets.US_ASCII)).isEqualTo(b64(concat(
                        GrpcH1Backend.frame(PONG), GrpcH1Backend.frame(PONG), GrpcH1Backend.frame(PONG)))
                        + b64(trailerFrame("grpc-status:0\r\nx-custom:v\r\n")));
            }
        }
    }

    @Test
    void aPreflightAllowsTheGrpcWebFieldsAndResponsesExposeTheStatus() throws Exception {
        try (GrpcH1Backend backend = backend(r -> new TrailersOnly(5, "none"))) {
            int port = start(backend);
            try (RawClient c = new RawClient(port)) {
                c.send("OPTIONS " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://app.example\r\n"
                        + "Access-Control-Request-Method: POST\r\n"
                        + "Access-Control-Request-Headers: content-type,x-grpc-web,x-user-agent,grpc-timeout\r\n\r\n");
                RawClient.Response pre = c.read();
                assertThat(pre.status()).isEqualTo(204);
                assertThat(pre.header("access-control-allow-origin")).isEqualTo("https://app.example");
                assertThat(pre.header("access-control-allow-headers").toLowerCase())
                        .contains("x-grpc-web", "x-user-agent", "grpc-timeout", "content-type");
                c.send(("POST " + PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://app.example\r\n"
                        + "Content-Type: application/grpc-web+proto\r\nContent-Length: 5\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                c.send(GrpcH1Backend.frame(new byte[0]));
                RawClient.Response r = c.read();
                assertThat(r.header("access-control-allow-origin")).isEqualTo("https://app.example");
                assertThat(r.header("access-control-expose-headers").toLowerCase())
                        .contains("grpc-status", "grpc-message");
                assertThat(r.body().getBytes(StandardCharsets.ISO_8859_1))
                        .isEqualTo(trailerFrame("grpc-status:5\r\ngrpc-message:none\r\n"));
            }
        }
    }
}
