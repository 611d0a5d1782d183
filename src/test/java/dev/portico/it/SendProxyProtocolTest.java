package dev.portico.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portico.internal.balance.Endpoint;
import dev.portico.config.ProxyConfig;
import dev.portico.testing.PorticoExtension;
import dev.portico.testing.RawClient;
import dev.portico.testing.Upstreams;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code send_proxy_protocol}: each backend connection opens with a PROXY header naming the request's client and the
 * address it connected to, and such a connection never serves a second client connection. The backend reads the
 * header with Netty's decoder and answers with the number of the connection the request came on.
 */
@Timeout(30)
class SendProxyProtocolTest {
    @RegisterExtension
    final PorticoExtension portico = new PorticoExtension();

    /** What one backend connection's PROXY header said, or {@code version == null} if it had none. */
    record Header(String version, String protocol, String source, int sourcePort, String destination,
                  int destinationPort) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<Header> headers = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger closed = new AtomicInteger();
    private final Channel backend = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
            .childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    int n = connections.getAndIncrement();
                    ch.closeFuture().addListener(f -> closed.incrementAndGet());
                    ch.pipeline().addLast(new HAProxyMessageDecoder(), new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof HAProxyMessage m) {
                                headers.add(new Header(m.protocolVersion().name(), m.proxiedProtocol().name(),
                                        m.sourceAddress(), m.sourcePort(), m.destinationAddress(),
                                        m.destinationPort()));
                                m.release();
                                return;
                            }
                            ctx.fireChannelRead(msg);
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            headers.add(new Header(null, null, null, 0, null, 0));
                            ctx.close();
                        }
                    }, new HttpServerCodec(), new HttpObjectAggregator(1 << 16), new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof FullHttpRequest) {
                                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                                        Unpooled.copiedBuffer("conn-" + n, StandardCharsets.US_ASCII));
                                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
                                ctx.writeAndFlush(r);
                            }
                            ReferenceCountUtil.release(msg);
                        }
                    });
                }
            }).bind("127.0.0.1", 0).syncUninterruptibly().channel();

    @AfterEach
    void stop() {
        backend.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void start(String version, String extra) {
        start(version, "127.0.0.1:0", extra, "");
    }

    private void start(String version, String listen, String extra) {
        start(version, listen, extra, "");
    }

    private void start(String version, String listen, String extra, String upstreamExtra) {
        portico.start(ProxyConfig.parse("""
                listen: %s
                workers: 1
                %s
                upstreams:
                  app:
                    servers: [http://127.0.0.1:%d]
                    send_proxy_protocol: %s
                %sroutes:
                  - path: /
                    upstream: app
                """.formatted(listen, extra, ((InetSocketAddress) backend.localAddress()).getPort(), version, upstreamExtra), "t.yaml"));
    }

    private static RawClient.Response get(RawClient c, String extraHeaders) throws Exception {
        c.send("GET / HTTP/1.1\r\nHost: h\r\n" + extraHeaders + "\r\n");
        return c.read();
    }

    @Test
    void aV1HeaderNamesTheClientAndTheAddressItConnectedTo() throws Exception {
        start("v1", "");
        try (RawClient c = portico.raw()) {
            assertThat(get(c, "").body()).isEqualTo("conn-0");

            assertThat(headers).containsExactly(new Header("V1", "TCP4", "127.0.0.1", c.socket().getLocalPort(),
                    "127.0.0.1", portico.port()));
        }
    }

    @Test
    void aV2HeaderNamesTheClientAndTheAddressItConnectedTo() throws Exception {
        start("v2", "");
        try (RawClient c = portico.raw()) {
            assertThat(get(c, "").body()).isEqualTo("conn-0");

            assertThat(headers).containsExactly(new Header("V2", "TCP4", "127.0.0.1", c.socket().getLocalPort(),
                    "127.0.0.1", portico.port()));
        }
    }

    @Test
    void behindATrustedProxyTheHeaderNamesTheClientFromXForwardedFor() throws Exception {
        start("v2", "trusted_proxies: [127.0.0.1]");
        try (RawClient c = portico.raw()) {
            assertThat(get(c, "X-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n").status()).isEqualTo(200);
        }

        // The client's port is not known: 0, as HAProxy sends for an address taken from a header.
        assertThat(headers).containsExactly(new Header("V2", "TCP4", "203.0.113.9", 0, "127.0.0.1",
                portico.port()));
    }

    @Test
    void behindALoadBalancerSpeakingThePROXYProtocolTheHeaderPassesOnWhatItSaid() throws Exception {
        start("v1", "{address: 127.0.0.1:0, proxy_protocol: true}", "trusted_proxies: [127.0.0.1]");
        try (RawClient c = portico.raw()) {
            c.send("PROXY TCP4 203.0.113.7 192.0.2.10 51000 443\r\n");
            assertThat(get(c, "").status()).isEqualTo(200);
        }

        assertThat(headers).containsExactly(new Header("V1", "TCP4", "203.0.113.7", 51000, "192.0.2.10", 443));
    }

    @Test
    void twoClientConnectionsNeverShareABackendConnection() throws Exception {
        start("v1", "");
        try (RawClient a = portico.raw(); RawClient b = portico.raw()) {
            String first = get(a, "").body();
            // a's backend connection is done with its exchange; b must not be given it.
            String second = get(b, "").body();
            String third = get(a, "").body();

            assertThat(List.of(first, second, third)).doesNotHaveDuplicates();
            assertThat(headers).hasSize(3).extracting(Header::sourcePort).containsExactly(
                    a.socket().getLocalPort(), b.socket().getLocalPort(), a.socket().getLocalPort());
        }
    }

    @Test
    void aBackendConnectionWithAHeaderIsClosedAfterItsExchange() throws Exception {
        start("v2", "");
        try (RawClient c = portico.raw()) {
            assertThat(get(c, "").status()).isEqualTo(200);

            // Not kept for a later request of this client either: the client connection stays open meanwhile.
            await().atMost(Duration.ofSeconds(5)).until(() -> closed.get() == 1);
        }
    }

    @Test
    void healthChecksSendALocalHeaderSoTheEndpointStaysHealthy() {
        start("v2", "127.0.0.1:0", "", "    health_check: {path: /healthz, interval: 100ms}\n");

        // A LOCAL header (no addresses: the connection is Portico's own), then the check's request, answered 200.
        await().atMost(Duration.ofSeconds(5)).until(() -> headers.size() >= 2);
        assertThat(headers).allMatch(h -> "V2".equals(h.version()) && "UNKNOWN".equals(h.protocol()));
        assertThat(Upstreams.of(portico.proxy(), "app").endpoints()).allMatch(Endpoint::healthy);
    }
}
