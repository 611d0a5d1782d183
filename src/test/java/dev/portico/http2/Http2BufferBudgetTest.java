package dev.portico.http2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import dev.portico.config.ListenAddress;
import dev.portico.config.OperationsConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawH2;
import dev.portico.testing.StreamBackend;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * HTTP/2 clients that open many streams for large responses and never read: each stream reads its backend only
 * while the client grants window, what Portico holds for them stays bounded by {@code limits.max_buffered_bytes},
 * and everyone else keeps getting answers within a second, during the attack and after it.
 */
@Timeout(120)
class Http2BufferBudgetTest {
    private static final int CONNECTIONS = 5;
    private static final int STREAMS = 50;
    private static final String BIG = "/stream?bytes=1000000";

    private static final HttpClient HTTP1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final StreamBackend backend = new StreamBackend();
    private final List<Socket> attackers = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        leave();
        backend.close();
    }

    private ProxyConfig.Builder config() {
        return ProxyConfig.builder().listen(new ListenAddress("127.0.0.1", 0, true)).workers(2)
                .operations(new OperationsConfig(new ListenAddress("127.0.0.1", 0), true,
                        OperationsConfig.DEFAULT_REQUEST_ID_HEADER, false, false))
                .route("/", backend.url());
    }

    /** Opens h2c connections that send {@code streams} GETs each, with the default 64 KiB windows, then never read. */
    private void attack(int connections, int streams) throws Exception {
        for (int i = 0; i < connections; i++) {
            Socket s = new Socket();
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress("127.0.0.1", portico.port()));
            attackers.add(s);
            OutputStream out = s.getOutputStream();
            out.write(requests(streams));
            out.flush();
        }
    }

    private static byte[] requests(int streams) throws Exception {
        ByteBuf buf = Unpooled.buffer();
        try {
            buf.writeBytes(Http2CodecUtil.connectionPrefaceBuf());
            buf.writeMedium(0).writeByte(4).writeByte(0).writeInt(0); // an empty SETTINGS: every default
            DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
            for (int i = 0; i < streams; i++) {
                int id = 1 + 2 * i;
                ByteBuf block = Unpooled.buffer();
                hpack.encodeHeaders(id, RawH2.get(BIG), block);
                buf.writeMedium(block.readableBytes()).writeByte(1).writeByte(0x5).writeInt(id); // END_STREAM|HEADERS
                buf.writeBytes(block);
                block.release();
            }
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    private void leave() throws Exception {
        for (Socket s : attackers) {
            s.setSoLinger(true, 0);
            s.close();
        }
        attackers.clear();
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** @return {@code portico_buffered_bytes} from the admin listener's {@code /metrics} */
    private long bufferedBytes() throws Exception {
        HttpResponse<String> r = get(portico.proxy().adminAddress().getPort(), "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("(?m)^portico_buffered_bytes (\\S+)$").matcher(r.body());
        assertThat(m.find()).isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    private static long directMemoryUsed() {
        return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
    }

    /** An HTTP/1.1 GET and an HTTP/2 GET (on a connection already open), each answered 200 within a second. */
    private void ordinaryRequestsAreAnswered() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = get(portico.port(), "/stream?bytes=1000");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize(1000);
        try (RawH2 h2 = new RawH2(portico.port())) {
            assertThat(h2.await(e -> e.equals("SETTINGS"))).isNotNull();
            start = System.nanoTime();
            h2.headers(1, RawH2.get("/stream?bytes=1000"), true);
            assertThat(h2.await(e -> e.startsWith("HEADERS 1") || e.startsWith("RST 1"))).isEqualTo("HEADERS 1 200");
            assertThat(h2.await(e -> e.equals("END 1"))).isNotNull();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void streamsWhoseClientNeverReadsHoldLittleAndOthersStayServed() throws Exception {
        portico.start(config().build()); // the default limits
        // Warm-up: class loading and the first connections are not what is measured.
        assertThat(get(portico.port(), "/stream?bytes=1000").statusCode()).isEqualTo(200);
        try (RawH2 h2 = new RawH2(portico.port())) {
            h2.headers(1, RawH2.get("/stream?bytes=1000"), true);
            assertThat(h2.await(e -> e.equals("END 1"))).isNotNull();
        }
        long before = directMemoryUsed();
        attack(CONNECTIONS, STREAMS);
        // The backend writes until the upstream connections' socket buffers are full, or every response is out.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> backend.written() > 0);
        long[] last = {-1};
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
            long now = backend.written();
            boolean settled = now == last[0];
            last[0] = now;
            return settled;
        });
        long held = directMemoryUsed() - before;
        assertThat(held).isLessThan(8L << 20);
        ordinaryRequestsAreAnswered();
        leave();
        ordinaryRequestsAreAnswered();
    }

    @Test
    void overTheBudgetNewStreamsAreRefusedAndHttp1Gets503UntilTheMemoryIsReleased() throws Exception {
        long budget = 64 * 1024;
        portico.start(config().limits(new LimitsConfig(8192, 65536, 0, 100, 10_000, 1000).withMaxBufferedBytes(budget)).build());
        attack(2, STREAMS);
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (RawH2 h2 = new RawH2(portico.port())) {
                h2.headers(1, RawH2.get("/stream?bytes=1000"), true);
                return ("RST 1 " + Http2Error.REFUSED_STREAM.code())
                        .equals(h2.await(e -> e.startsWith("HEADERS 1") || e.startsWith("RST 1")));
            }
        });
        assertThat(get(portico.port(), "/stream?bytes=1000").statusCode()).isEqualTo(503);
        assertThat(bufferedBytes()).isGreaterThanOrEqualTo(budget); // the admin listener is not shed
        leave();
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> bufferedBytes() == 0);
        ordinaryRequestsAreAnswered();
    }
}
