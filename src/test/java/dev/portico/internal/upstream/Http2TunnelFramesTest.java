package dev.portico.internal.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tunnelled stream's DATA frames become bytes and back; END_STREAM becomes the FIN event. */
class Http2TunnelFramesTest {
    /** What reaches the tunnel's end: bytes as text, and the FIN as "FIN". */
    private final List<String> seen = new ArrayList<>();
    private final EmbeddedChannel ch = new EmbeddedChannel(new Http2TunnelFrames(), new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            seen.add(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                seen.add("FIN");
            }
        }
    });

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void dataBecomesBytesAndEndStreamTheFinAfterThem() {
        ch.writeInbound(new DefaultHttp2DataFrame(text("hello ")));
        ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, false)); // nothing to pass on
        ch.writeInbound(new DefaultHttp2DataFrame(text("world"), true));
        assertThat(seen).containsExactly("hello ", "world", "FIN");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void trailersThatEndTheStreamAreTheFinToo() {
        ch.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-end", "1"), true));
        assertThat(seen).containsExactly("FIN");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void bytesWrittenGoOutAsDataFramesAndFramesPassAsTheyAre() {
        ch.writeOutbound(text("to the client"));
        ch.writeOutbound(new DefaultHttp2DataFrame(true));
        Http2DataFrame data = ch.readOutbound();
        assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("to the client");
        assertThat(data.isEndStream()).isFalse();
        data.release();
        Http2DataFrame end = ch.readOutbound();
        assertThat(end.isEndStream()).isTrue();
        end.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}
