package dev.portico.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.CorsPolicyConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.ProxyConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.testing.GrpcBackend;
import dev.portico.testing.H2Fetch;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** gRPC-Web clients (hand-built frames) through Portico to grpc-java's server as an h2c upstream. */
@Timeout(60)
class GrpcWebToGrpcJavaTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();
    private GrpcBackend backend;

    @AfterEach
    void stop() throws InterruptedException {
        if (backend != null) {
            backend.close();
        }
    }

    private int start() throws Exception {
        backend = GrpcBackend.plaintext();
        UpstreamConfig up = UpstreamConfig.builder("grpc").servers("http://127.0.0.1:" + backend.port())
                .protocol(UpstreamConfig.Protocol.H2C).build();
        portico.start(ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(1)
                .route("/grpc.testing.SimpleService", r -> r.upstream(up).grpcWeb(true)
                        .policies(CorsPolicyConfig.builder("https://app.example").build())).build());
        return portico.port();
    }

    private static byte[] frame(SimpleRequest r) {
        return GrpcH1Backend.frame(r.toByteArray());
    }

    /** A gRPC-Web body split into its frames: each is the flag byte followed by the payload. */
    private static List<byte[]> frames(byte[] body) {
        List<byte[]> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(body);
        while (b.hasRemaining()) {
            byte flag = b.get();
            byte[] payload = new byte[b.getInt()];
            b.get(payload);
            byte[] f = new byte[payload.length + 1];
            f[0] = flag;
            System.arraycopy(payload, 0, f, 1, payload.length);
            out.add(f);
        }
        return out;
    }

    /** Decodes base64 made of separately padded pieces, quad by quad. */
    private static byte[] unbase64(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < text.length(); i += 4) {
            out.writeBytes(Base64.getDecoder().decode(text.substring(i, i + 4)));
        }
        return out.toByteArray();
    }

    private static List<String> trailerLines(byte[] frame) {
        assertThat(frame[0]).isEqualTo((byte) 0x80);
        String block = new String(frame, 1, frame.length - 1, StandardCharsets.US_ASCII);
        assertThat(block).endsWith("\r\n");
        return Arrays.asList(block.split("\r\n"));
    }

    @Test
    void aUnaryCallOverHttp11ReachesTheGrpcServerAndItsTrailersComeBackAsAFrame() throws Exception {
        int port = start();
        byte[] request = frame(SimpleRequest.newBuilder().setRequestMessage("web").build());
        try (RawClient c = new RawClient(port)) {
            c.send(("POST /grpc.testing.SimpleService/UnaryRpc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Origin: https://app.example\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n"
                    + "Content-Length: " + request.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            c.send(request);
            RawClient.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("application/grpc-web+proto");
            assertThat(r.header("access-control-allow-origin")).isEqualTo("https://app.example");
            List<byte[]> frames = frames(r.body().getBytes(StandardCharsets.ISO_8859_1));
            assertThat(frames).hasSize(2);
            assertThat(frames.get(0)[0]).isZero();
            assertThat(SimpleResponse.parseFrom(Arrays.copyOfRange(frames.get(0), 1, frames.get(0).length))
                    .getResponseMessage()).isEqualTo("hello web");
            assertThat(trailerLines(frames.get(1))).contains("grpc-status:0", GrpcBackend.TRAILER + ":present");
        }
        assertThat(backend.calls()).isEqualTo(1);
    }

    @Test
    void aServerStreamOverHttp2InTextFormComesBackMessageByMessage() throws Exception {
        int port = start();
        String body = Base64.getEncoder().encodeToString(frame(SimpleRequest.newBuilder()
                .setRequestMessage("3:10").build()));
        try (H2Fetch h2 = new H2Fetch(port)) {
            H2Fetch.Result r = h2.send(HttpMethod.POST, "/grpc.testing.SimpleService/ServerStreamingRpc",
                    new byte[][] {body.substring(0, 5).getBytes(), body.substring(5).getBytes()},
                    "content-type", "application/grpc-web-text", "x-grpc-web", "1").get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().get("content-type")).isEqualTo("application/grpc-web-text");
            List<byte[]> frames = frames(unbase64(new String(r.body(), StandardCharsets.US_ASCII)));
            assertThat(frames).hasSize(4);
            for (byte[] m : frames.subList(0, 3)) {
                assertThat(m[0]).isZero();
                assertThat(SimpleResponse.parseFrom(Arrays.copyOfRange(m, 1, m.length)).getResponseMessage())
                        .hasSize(10);
            }
            assertThat(trailerLines(frames.get(3))).contains("grpc-status:0");
        }
    }

    @Test
    void aFailedCallsTrailersOnlyAnswerBecomesTheTrailerFrame() throws Exception {
        int port = start();
        byte[] request = frame(SimpleRequest.newBuilder().setRequestMessage("fail:5:no such order").build());
        try (H2Fetch h2 = new H2Fetch(port)) {
            H2Fetch.Result r = h2.send(HttpMethod.POST, "/grpc.testing.SimpleService/UnaryRpc",
                    new byte[][] {request}, "content-type", "application/grpc-web").get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().contains("grpc-status")).isFalse();
            List<byte[]> frames = frames(r.body());
            assertThat(frames).hasSize(1);
            assertThat(trailerLines(frames.get(0))).containsExactly("grpc-status:5", "grpc-message:no such order");
            // The rest of a trailers-only head is metadata the client reads from the head, where it came.
            assertThat(r.headers().get(GrpcBackend.TRAILER)).isEqualTo("present");
        }
    }
}
