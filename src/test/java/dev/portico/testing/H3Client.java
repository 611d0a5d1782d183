package dev.portico.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.DefaultHttp3DataFrame;
import io.netty.handler.codec.http3.DefaultHttp3HeadersFrame;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.http3.Http3ClientConnectionHandler;
import io.netty.handler.codec.http3.Http3DataFrame;
import io.netty.handler.codec.http3.Http3Headers;
import io.netty.handler.codec.http3.Http3HeadersFrame;
import io.netty.handler.codec.http3.Http3RequestStreamInboundHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/3 client for tests, on Netty's QUIC and HTTP/3 codecs: one QUIC connection, a request per stream. Bodies
 * are counted as they arrive (kept only when asked), uploads are streamed as the stream's flow control allows, so
 * transfers of any size use bounded memory.
 */
public final class H3Client implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel udp;
    private final QuicChannel quic;

    /** A response: its status, headers and body (empty when not kept). */
    public record Response(int status, Http3Headers headers, byte[] body, long bodyBytes) {
        /** @return the body as UTF-8 text */
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /**
     * Connects to 127.0.0.1:{@code port}, checking the server's certificate against {@code ca}.
     *
     * @param port the UDP port
     * @param ca the CA that issued the server's certificate, or {@code null} to trust any
     * @param serverName the SNI name to send
     */
    public H3Client(int port, X509Certificate ca, String serverName) throws Exception {
        QuicSslContextBuilder tls = QuicSslContextBuilder.forClient()
                .applicationProtocols(Http3.supportedApplicationProtocols());
        tls = ca == null ? tls.trustManager(InsecureTrustManagerFactory.INSTANCE) : tls.trustManager(ca);
        QuicSslContext context = tls.build();
        Channel bound = null;
        try {
            bound = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                    .handler(Http3.newQuicClientCodecBuilder().sslContext(context)
                            .sslEngineProvider(q -> context.newEngine(q.alloc(), serverName, port))
                            .maxIdleTimeout(60, TimeUnit.SECONDS)
                            .initialMaxData(16 << 20)
                            .initialMaxStreamDataBidirectionalLocal(1 << 20)
                            .build())
                    .bind(0).sync().channel();
            quic = QuicChannel.newBootstrap(bound).handler(new Http3ClientConnectionHandler())
                    .remoteAddress(new InetSocketAddress("127.0.0.1", port))
                    .connect().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (bound != null) {
                bound.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw e;
        }
        udp = bound;
    }

    /** @return the QUIC connection */
    public QuicChannel connection() {
        return quic;
    }

    /** Sends a request whose body (if any) is {@code body}, and collects the response. */
    public CompletableFuture<Response> send(String method, String path, Map<String, String> headers, byte[] body) {
        return send(method, path, headers, body == null ? -1 : body.length,
                body == null ? null : Unpooled.wrappedBuffer(body), true, null);
    }

    /** GET {@code path}, the body kept. */
    public CompletableFuture<Response> get(String path) {
        return send("GET", path, Map.of(), null);
    }

    /**
     * Sends a request and collects the response.
     *
     * @param length the body's length, -1 for none; {@code body} is repeated until that many bytes went out
     * @param body what the body is made of (released by this method), or {@code null}
     * @param keep whether the response body is kept (else only counted)
     * @param streamOut set to the request stream once open (to pause reading, say), or {@code null}
     */
    public CompletableFuture<Response> send(String method, String path, Map<String, String> headers, long length,
                                            ByteBuf body, boolean keep,
                                            CompletableFuture<QuicStreamChannel> streamOut) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        Collector collector = new Collector(result, keep, length, body);
        Http3.newRequestStream(quic, collector).addListener(f -> {
            if (!f.isSuccess()) {
                if (body != null) {
                    body.release();
                }
                result.completeExceptionally(f.cause());
                return;
            }
            QuicStreamChannel stream = (QuicStreamChannel) f.getNow();
            if (streamOut != null) {
                streamOut.complete(stream);
            }
            DefaultHttp3HeadersFrame head = new DefaultHttp3HeadersFrame();
            head.headers().method(method).path(path).authority("localhost").scheme("https");
            headers.forEach((k, v) -> head.headers().add(k, v));
            if (length >= 0) {
                head.headers().set("content-length", Long.toString(length));
                stream.write(head);
                collector.pump(stream);
            } else {
                stream.writeAndFlush(head).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            }
        });
        return result;
    }

    private static final class Collector extends Http3RequestStreamInboundHandler {
        private final CompletableFuture<Response> result;
        private final boolean keep;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final AtomicLong bytes = new AtomicLong();
        private final ByteBuf source;
        private long toSend;
        private boolean finished;
        private Http3Headers headers;

        Collector(CompletableFuture<Response> result, boolean keep, long length, ByteBuf source) {
            this.result = result;
            this.keep = keep;
            this.toSend = Math.max(0, length);
            this.source = source;
        }

        /** Writes body parts while the stream takes them; the rest when it is writable again. */
        void pump(QuicStreamChannel stream) {
            while (!finished && toSend > 0 && stream.isWritable()) {
                int n = (int) Math.min(toSend, source.readableBytes());
                toSend -= n;
                stream.write(new DefaultHttp3DataFrame(source.retainedSlice(source.readerIndex(), n)));
            }
            if (!finished && toSend == 0) {
                finished = true;
                source.release();
                stream.writeAndFlush(new DefaultHttp3DataFrame(Unpooled.EMPTY_BUFFER))
                        .addListener(QuicStreamChannel.SHUTDOWN_OUTPUT);
            } else {
                stream.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (source != null && ctx.channel().isWritable()) {
                pump((QuicStreamChannel) ctx.channel());
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3HeadersFrame frame) {
            if (headers == null || headers.status() != null && headers.status().charAt(0) == '1') {
                headers = frame.headers();
            }
            ReferenceCountUtil.release(frame);
        }

        @Override
        protected void channelRead(ChannelHandlerContext ctx, Http3DataFrame frame) {
            ByteBuf c = frame.content();
            bytes.addAndGet(c.readableBytes());
            if (keep) {
                byte[] b = new byte[c.readableBytes()];
                c.readBytes(b);
                kept.writeBytes(b);
            }
            frame.release();
        }

        @Override
        protected void channelInputClosed(ChannelHandlerContext ctx) {
            result.complete(new Response(headers == null ? 0 : Integer.parseInt(headers.status().toString()),
                    headers, kept.toByteArray(), bytes.get()));
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (source != null && !finished) {
                finished = true;
                source.release();
            }
            result.completeExceptionally(new IOException("stream closed before the response ended"));
            ctx.fireChannelInactive();
        }
    }

    @Override
    public void close() {
        quic.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
