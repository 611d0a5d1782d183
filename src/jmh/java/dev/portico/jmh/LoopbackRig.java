package dev.portico.jmh;

import com.sun.management.ThreadMXBean;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * What the proxied-request benchmarks share: a backend answering every request with 1 KiB, a keep-alive client
 * sending one request at a time through the proxy, and the CPU time and allocation of the proxy's event loop thread
 * (its own counters, so the client's and the backend's work is not counted). Not thread-safe.
 */
final class LoopbackRig implements AutoCloseable {
    private static final int BODY = 1024;

    private final EventLoopGroup backendGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel backend;
    private int proxyPort;
    private byte[] request;
    private Socket client;
    private OutputStream out;
    private InputStream in;
    private byte[] buffer;
    private long loopThreadId;
    private long allocatedAtStart;
    private long cpuAtStart;
    private long requests;

    /** Starts the backend. */
    LoopbackRig() {
        ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(BODY).writeZero(BODY));
        backend = new ServerBootstrap().group(backendGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(BODY),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
                                        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, body.duplicate());
                                        // the head nginx sends for a static file, as bench/run.sh's backend does
                                        r.headers().set("Server", "nginx/1.22.1")
                                                .set("Date", "Sat, 05 Dec 2026 05:00:00 GMT")
                                                .set("Content-Type", "application/octet-stream")
                                                .setInt("Content-Length", BODY)
                                                .set("Last-Modified", "Sat, 05 Dec 2026 04:00:00 GMT")
                                                .set("Connection", "keep-alive")
                                                .set("ETag", "\"6931e3c0-400\"")
                                                .set("Accept-Ranges", "bytes");
                                        ctx.writeAndFlush(r);
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    /** @return the backend's URL, for the route's upstream */
    String backendUrl() {
        return "http://127.0.0.1:" + ((InetSocketAddress) backend.localAddress()).getPort();
    }

    /**
     * Connects to the proxy, sends {@code request} once (the answer must be a 200 with the 1 KiB body) and starts
     * the event loop's counters.
     *
     * @param port the proxy's port
     * @param request the whole request head each iteration sends
     */
    void connect(int port, byte[] request) throws IOException {
        this.proxyPort = port;
        this.request = request;
        connect();
        out.write(request);
        buffer = firstResponse(16 * 1024);
        loopThreadId = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("portico-loop")).findFirst().orElseThrow().getId();
        allocatedAtStart = allocated();
        cpuAtStart = ManagementFactory.getThreadMXBean().getThreadCpuTime(loopThreadId);
    }

    /** Sends the request and reads its response: one benchmark operation. */
    int exchange() throws IOException {
        out.write(request);
        int n = 0;
        while (n < buffer.length) {
            int r = in.read(buffer, n, buffer.length - n);
            if (r < 0) { // limits.max_requests_per_connection closed it: reconnect, as a browser or wrk would
                connect();
                out.write(request);
                n = 0;
                continue;
            }
            n += r;
        }
        requests++;
        return n;
    }

    /** @return the requests exchanged since {@link #connect(int, byte[])} */
    long requests() {
        return requests;
    }

    /** @return the event loop's CPU time per request so far, in microseconds */
    double loopCpuMicrosPerRequest() {
        long cpu = ManagementFactory.getThreadMXBean().getThreadCpuTime(loopThreadId) - cpuAtStart;
        return requests == 0 ? 0 : cpu / 1000.0 / requests;
    }

    /** @return the bytes the event loop allocated per request so far */
    long loopBytesPerRequest() {
        return requests == 0 ? 0 : (allocated() - allocatedAtStart) / requests;
    }

    private long allocated() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getThreadAllocatedBytes(loopThreadId);
    }

    private void connect() throws IOException {
        if (client != null) {
            client.close();
        }
        client = new Socket("127.0.0.1", proxyPort);
        client.setTcpNoDelay(true);
        out = client.getOutputStream();
        in = client.getInputStream();
    }

    /** Reads the first response, checks it is a 200, and returns a buffer of its exact length. */
    private byte[] firstResponse(int max) throws IOException {
        byte[] b = new byte[max];
        int n = 0;
        while (true) {
            int r = in.read(b, n, max - n);
            if (r < 0) {
                throw new IOException("the proxy closed the connection before answering");
            }
            n += r;
            String s = new String(b, 0, n, StandardCharsets.ISO_8859_1);
            int end = s.indexOf("\r\n\r\n");
            if (end > 0 && !s.startsWith("HTTP/1.1 200 ")) {
                throw new IllegalStateException("the proxy did not answer 200: " + s.substring(0, end));
            }
            if (end > 0 && n >= end + 4 + BODY) {
                return Arrays.copyOf(b, end + 4 + BODY);
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (client != null) {
            client.close();
        }
        backend.close().syncUninterruptibly();
        backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
