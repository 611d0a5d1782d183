package dev.portico.internal.ops;

import dev.portico.testing.TestBackend;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A backend script: {@code /stream...} answers with a long chunked response, one line every {@link #INTERVAL_MS}
 * for {@link #CHUNKS} lines; anything else is echoed.
 */
final class SlowStream implements TestBackend.Script {
    static final int CHUNKS = 60;
    static final long INTERVAL_MS = 50;

    /** @return the body the stream sends */
    static String expectedBody() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < CHUNKS; i++) {
            sb.append("chunk ").append(i).append('\n');
        }
        return sb.toString();
    }

    @Override
    public void handle(FullHttpRequest req, ChannelHandlerContext ctx) {
        if (!req.uri().contains("/stream")) {
            ctx.writeAndFlush(TestBackend.text(HttpResponseStatus.OK, req.method() + " " + req.uri() + "\n"));
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpUtil.setTransferEncodingChunked(head, true);
        ctx.writeAndFlush(head);
        for (int i = 0; i < CHUNKS; i++) {
            String line = "chunk " + i + "\n";
            ctx.executor().schedule(() -> ctx.writeAndFlush(new DefaultHttpContent(
                    Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII))), i * INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
        ctx.executor().schedule(() -> ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT),
                CHUNKS * INTERVAL_MS, TimeUnit.MILLISECONDS);
    }
}
