package dev.portico.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.ListenAddress;
import dev.portico.config.ListenerConfig;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A {@code proxy_protocol} listener behind a trusted load balancer (127.0.0.1); 127.0.0.2 plays an untrusted peer. */
@Timeout(30)
class ProxyProtocolTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    private final TestBackend backend = TestBackend.echo();

    @BeforeEach
    void start() {
        portico.start(ProxyConfig.builder()
                .listen(new ListenerConfig(new ListenAddress("127.0.0.1", 0, false), null, false, true))
                .workers(1).trustedProxies("127.0.0.1").route("/", backend.url()).build());
    }

    @AfterEach
    void close() {
        backend.close();
    }

    private Socket from(String localAddress) throws Exception {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(localAddress, 0));
        s.connect(new InetSocketAddress("127.0.0.1", portico.port()), 5000);
        s.setSoTimeout(5000);
        return s;
    }

    /** A PROXY v2 header for TCP over IPv4 from {@code a.b.c.d:src} to 127.0.0.1:dst. */
    private static byte[] v2(int a, int b, int c, int d, int src, int dst) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        out.write(0x21); // version 2, PROXY
        out.write(0x11); // TCP over IPv4
        out.write(0);
        out.write(12);
        out.writeBytes(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d, 127, 0, 0, 1});
        out.write(src >> 8);
        out.write(src & 0xff);
        out.write(dst >> 8);
        out.write(dst & 0xff);
        return out.toByteArray();
    }

    @Test
    void aTrustedPeersV1HeaderNamesTheClient() throws Exception {
        try (RawClient c = new RawClient(from("127.0.0.1"))) {
            c.send("PROXY TCP4 203.0.113.7 127.0.0.1 51000 443\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestBackend.Received seen = backend.take();
        assertThat(seen.headers().get("X-Forwarded-For")).isEqualTo("203.0.113.7");
    }

    @Test
    void aTrustedPeersV2HeaderNamesTheClient() throws Exception {
        try (RawClient c = new RawClient(from("127.0.0.1"))) {
            c.send(v2(198, 51, 100, 9, 40000, 443));
            c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(backend.take().headers().get("X-Forwarded-For")).isEqualTo("198.51.100.9");
    }

    @Test
    void anUntrustedPeerIsClosedBeforeAnyHttpIsRead() throws Exception {
        try (RawClient c = new RawClient(from("127.0.0.2"))) {
            c.send("PROXY TCP4 203.0.113.7 127.0.0.1 51000 443\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(backend.pending()).isZero();
    }

    @Test
    void aConnectionWithoutTheHeaderIsClosed() throws Exception {
        try (RawClient c = new RawClient(from("127.0.0.1"))) {
            c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(backend.pending()).isZero();
    }
}
