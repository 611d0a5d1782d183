package dev.portico.internal.server;

import dev.portico.config.Http2Config;
import dev.portico.internal.tls.QuicServerTls;
import dev.portico.internal.tls.ServerTls;
import dev.portico.internal.upstream.IdleTimer;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3SettingsFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ErrorCode;
import io.netty.handler.codec.http3.Http3FrameToHttpObjectCodec;
import io.netty.handler.codec.http3.Http3ServerConnectionHandler;
import io.netty.handler.codec.http3.Http3SettingIdentifier;
import io.netty.handler.codec.quic.Quic;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/3 on a TLS listener ({@code http3: true}): a UDP socket on the TCP listener's port with Netty's QUIC codec,
 * each QUIC connection an {@link Http3ServerConnectionHandler} whose request streams are {@link Http3StreamHandler}s.
 * The {@code http2} limits apply: {@code max_concurrent_streams} is the peer's bidirectional stream credit,
 * {@code max_header_list_size} SETTINGS_MAX_FIELD_SECTION_SIZE, {@code max_resets}/{@code reset_window} the
 * {@link Http3ConnectionGuard}'s; {@code timeouts.idle} is QUIC's idle timeout. Transport settings are read when the
 * listener binds.
 */
final class Http3Listener {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    /** A stream's receive window, as HTTP/2's default (quiche widens it while the stream is read quickly). */
    static final long STREAM_WINDOW = 64 * 1024;

    private final ProxyRuntime runtime;
    private final ChannelGroup connections = new DefaultChannelGroup("http3", GlobalEventExecutor.INSTANCE);
    private Channel channel;
    private AltSvc altSvc;
    private volatile boolean draining;

    private Http3Listener(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Binds HTTP/3 next to a bound TLS listener, or says in one WARN why it cannot (no QUIC native library for this
     * platform, or the UDP port is taken) and leaves the listener TCP only.
     *
     * @param runtime the running proxy
     * @param group its event loops (the UDP socket is served by one of them, and so are all its connections)
     * @param tcp the TCP listener's bound address; UDP binds the same address and port
     * @param tls the listener's TLS
     * @param name the listener's key path, for messages
     * @return the HTTP/3 endpoint, or {@code null}
     */
    static Http3Listener bind(ProxyRuntime runtime, EventLoopGroup group, InetSocketAddress tcp, ServerTls tls,
                              String name) {
        String udp = tcp.getAddress().getHostAddress() + ":" + tcp.getPort();
        try {
            if (!Quic.isAvailable()) {
                Throwable why = Quic.unavailabilityCause();
                LOG.warn("{}.http3: the QUIC native library cannot load ({}); serving HTTP/1.1 and HTTP/2 only", name,
                        why == null ? "unknown cause" : why.toString());
                return null;
            }
            Http3Listener h3 = new Http3Listener(runtime);
            ChannelFuture f = new Bootstrap().group(group)
                    .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                    .handler(h3.codec(new QuicServerTls(tls)))
                    .bind(tcp.getAddress(), tcp.getPort()).awaitUninterruptibly();
            if (!f.isSuccess()) {
                LOG.warn("{}.http3: cannot bind udp {} ({}); serving HTTP/1.1 and HTTP/2 only", name, udp,
                        f.cause().getMessage());
                return null;
            }
            h3.channel = f.channel();
            h3.altSvc = new AltSvc(tcp.getPort());
            LOG.info("HTTP/3 on udp {}", udp);
            return h3;
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}.http3: QUIC cannot start ({}); serving HTTP/1.1 and HTTP/2 only", name, e.toString());
            return null;
        }
    }

    private ChannelHandler codec(QuicServerTls tls) {
        Http2Config limits = runtime.config().http2();
        long streams = limits.maxConcurrentStreams();
        long connectionWindow = Math.min(Http2ConnectionGuard.MAX_CONNECTION_WINDOW,
                STREAM_WINDOW * Math.max(1, streams));
        return Http3.newQuicServerCodecBuilder()
                .sslContext(tls.context())
                .maxIdleTimeout(runtime.config().timeouts().idle().toMillis(), TimeUnit.MILLISECONDS)
                .initialMaxData(connectionWindow)
                .initialMaxStreamDataBidirectionalRemote(STREAM_WINDOW)
                .initialMaxStreamDataBidirectionalLocal(STREAM_WINDOW)
                .initialMaxStreamsBidirectional(streams)
                // No Retry round trip: QUIC's anti-amplification limit (3x) still bounds what a spoofed source gets.
                .tokenHandler(null)
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel ch) {
                        accepted(ch);
                    }
                })
                .build();
    }

    private void accepted(QuicChannel ch) {
        if (draining) {
            ch.close();
            return;
        }
        int max = runtime.config().limits().maxConnections();
        if (max > 0 && connections.size() >= max) { // limits.max_connections counts QUIC connections apart from TCP
            runtime.logConnectionLimit(ch, max);
            ch.close();
            return;
        }
        Http2Config limits = runtime.config().http2();
        DefaultHttp3SettingsFrame settings = new DefaultHttp3SettingsFrame();
        settings.put(Http3SettingIdentifier.HTTP3_SETTINGS_MAX_FIELD_SECTION_SIZE.id(), limits.maxHeaderListSize());
        ch.pipeline().addLast(
                new Http3ServerConnectionHandler(new StreamInitializer(runtime), null, null, settings, true),
                new Http3ConnectionGuard(limits));
        connections.add(ch);
        runtime.quicConnectionOpened(ch);
    }

    /** @return the stage that advertises this endpoint on the listener's HTTP/1.1 and HTTP/2 responses */
    AltSvc altSvc() {
        return altSvc;
    }

    /** The listener stops: new QUIC connections are refused, open ones get GOAWAY and close once their streams end. */
    void drain() {
        draining = true;
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                Http3ConnectionGuard guard = ch.pipeline().get(Http3ConnectionGuard.class);
                if (guard != null) {
                    guard.drain();
                } else {
                    ch.close();
                }
            });
        }
    }

    /** Closes the UDP socket and with it every QUIC connection left. */
    void close() {
        draining = true;
        connections.close(); // not awaited: this may run on the executor the group's future would notify on
        channel.close().awaitUninterruptibly();
    }

    /** Each request stream: HTTP/3 frames as HTTP/1.1 objects, an idle timer, the exchange host. */
    private static final class StreamInitializer extends ChannelInitializer<QuicStreamChannel> {
        private final ProxyRuntime runtime;

        StreamInitializer(ProxyRuntime runtime) {
            this.runtime = runtime;
        }

        @Override
        protected void initChannel(QuicStreamChannel ch) {
            Http3ConnectionGuard guard = Http3ConnectionGuard.of(ch);
            if (guard != null && !guard.admit(ch)) {
                ch.shutdown(Http3ErrorCode.H3_REQUEST_REJECTED.code()).addListener(f -> ch.close());
                return;
            }
            ch.pipeline().addLast(
                    new Http3FrameToHttpObjectCodec(true, true),
                    new IdleTimer(runtime.config().timeouts().idle().toMillis()),
                    new Http3StreamHandler(runtime));
        }
    }
}
