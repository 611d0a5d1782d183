package dev.portico.internal.balance;

import dev.portico.config.HealthCheckConfig;
import dev.portico.config.UpstreamConfig;
import dev.portico.config.UpstreamConfig.SendProxyProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active health check of one upstream: every {@code interval}, {@code GET path} on a new connection to each
 * endpoint (or with {@code grpc: true} a {@link GrpcHealthCall} over HTTP/2); {@code unhealthy_threshold} failures in a row take it out, {@code healthy_threshold} passes bring it
 * back. Runs on one event loop, the only writer of the endpoints' verdicts.
 */
public final class HealthChecker {
    private static final Logger LOG = LoggerFactory.getLogger("portico.health");

    private final UpstreamGroup group;
    private final HealthCheckConfig config;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    /** Per endpoint: passes in a row (positive) or failures in a row (negative). Loop-only. */
    /** PROXY protocol headers saying the connection is the proxy's own (v1 UNKNOWN, v2 LOCAL), as HAProxy sends. */
    private static final byte[] LOCAL_V1 = "PROXY UNKNOWN\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LOCAL_V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
        0x20, 0x00, 0x00, 0x00};

    private final Map<Endpoint, int[]> streaks = new IdentityHashMap<>();
    private ScheduledFuture<?> next;
    private boolean closed;

    /**
     * @param group the upstream
     * @param loop the loop checks run on
     * @param channelClass the socket channel class of the loop's transport
     */
    public HealthChecker(UpstreamGroup group, EventLoop loop, Class<? extends Channel> channelClass) {
        this.group = group;
        this.config = group.config().healthCheck();
        this.loop = loop;
        this.bootstrap = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.timeout().toMillis()));
    }

    /** Runs the first round now and the next ones every interval. */
    public void start() {
        loop.execute(this::round);
    }

    /** Stops checking. */
    public void close() {
        loop.execute(() -> {
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
        });
    }

    private void round() {
        if (closed) {
            return;
        }
        for (Endpoint e : group.endpoints()) {
            check(e);
        }
        streaks.keySet().retainAll(group.endpoints());
        next = loop.schedule(this::round, config.interval().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void check(Endpoint e) {
        Probe probe = new Probe(e);
        // h2 and auto offer h2 in ALPN: what to speak is known only after the handshake.
        boolean alpn = e.tls() != null && e.speaksHttp2();
        Future<?>[] handshake = new Future<?>[1];
        ChannelFuture f = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (e.tls() != null) {
                    handshake[0] = e.tls().addTo(ch); // the request waits in the TLS handler until it is done
                }
                if (config.grpc()) {
                    Http2Check.addCodec(ch); // gRPC is HTTP/2 whatever the protocol: over TLS, ALPN must say h2
                    ch.pipeline().addLast(probe); // sees the connection's end and errors; the stream sees the call
                } else if (e.protocol() == UpstreamConfig.Protocol.H2C) {
                    Http2Check.addCodec(ch);
                } else if (!alpn) {
                    ch.pipeline().addLast(new HttpClientCodec(), probe);
                }
            }
        }).connect(e.address());
        probe.timer = loop.schedule(() -> probe.done(f.channel(), false, "no answer within "
                + config.timeout().toMillis() + "ms"), config.timeout().toMillis(), TimeUnit.MILLISECONDS);
        f.addListener(c -> {
            if (!c.isSuccess()) {
                probe.done(f.channel(), false, "connect failed: " + c.cause().getMessage());
                return;
            }
            if (config.grpc()) {
                sendProxyHeader(f.channel());
                GrpcHealthCall.start(f.channel(), e.server().url().authority(), e.tls() != null, config.service(),
                        probe);
                return;
            }
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                    config.path());
            req.headers().set(HttpHeaderNames.HOST, e.server().url().authority())
                    .set(HttpHeaderNames.USER_AGENT, "portico-health-check")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            sendProxyHeader(f.channel());
            if (e.protocol() == UpstreamConfig.Protocol.H2C) {
                Http2Check.send(f.channel(), req, probe);
            } else if (alpn) {
                handshake[0].addListener(hs -> {
                    if (!hs.isSuccess()) {
                        probe.done(f.channel(), false, "TLS handshake failed: " + hs.cause().getMessage());
                    } else if (Http2Check.choseH2(f.channel())) {
                        Http2Check.addCodec(f.channel());
                        Http2Check.send(f.channel(), req, probe);
                    } else {
                        f.channel().pipeline().addLast(new HttpClientCodec(), probe);
                        f.channel().writeAndFlush(req);
                    }
                });
            } else {
                f.channel().writeAndFlush(req);
            }
        });
    }

    private void sendProxyHeader(Channel ch) {
        SendProxyProtocol pp = group.config().sendProxyProtocol();
        if (pp != SendProxyProtocol.OFF) {
            // A backend behind send_proxy_protocol expects the header on every connection, checks included.
            // Written from the first stage, so it precedes TLS (and the HTTP/2 preface); the connect listener runs
            // before the handshake starts.
            ch.pipeline().firstContext().write(Unpooled.wrappedBuffer(
                    pp == SendProxyProtocol.V2 ? LOCAL_V2 : LOCAL_V1), ch.voidPromise());
        }
    }

    private void verdict(Endpoint e, boolean pass, String why) {
        if (closed) {
            return;
        }
        int[] streak = streaks.computeIfAbsent(e, k -> new int[1]);
        streak[0] = pass ? Math.max(streak[0], 0) + 1 : Math.min(streak[0], 0) - 1;
        long now = System.nanoTime();
        if (!pass) {
            e.failed("health check: " + why);
        }
        if (pass && !e.healthy() && streak[0] >= config.healthyThreshold()) {
            e.healthy(true, now);
            LOG.info("upstream {}: endpoint {} is healthy again", group.name(), e.text());
        } else if (!pass && e.healthy() && -streak[0] >= config.unhealthyThreshold()) {
            e.healthy(false, now);
            LOG.warn("upstream {}: endpoint {} failed {} health checks in a row ({}); taken out", group.name(),
                    e.text(), -streak[0], why);
        }
    }

    /** One check of one endpoint: the first outcome counts. */
    private final class Probe extends ChannelInboundHandlerAdapter implements GrpcHealthCall.Outcome {
        private final Endpoint endpoint;
        private ScheduledFuture<?> timer;
        private boolean finished;

        Probe(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        @Override
        public void done(Channel ch, boolean pass, String why) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            (ch.parent() != null ? ch.parent() : ch).close(); // an HTTP/2 check's connection, not just its stream
            verdict(endpoint, pass, why);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpResponse r) {
                    int status = r.status().code();
                    done(ctx.channel(), status >= config.expectMin() && status <= config.expectMax(),
                            "status " + status);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done(ctx.channel(), false, "connection closed before a response");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done(ctx.channel(), false, String.valueOf(cause.getMessage()));
        }
    }
}
