package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FrontendCodec#shrink}, what an idle connection does: the decoder and encoder go only when nothing is held
 * (no byte of a request, no response owed), and the ones made for the next request carry on the same.
 */
class FrontendCodecShrinkTest {
    private final FrontendCodec codec = new FrontendCodec(FrontendInitializer.decoderConfig(LimitsConfig.DEFAULTS));
    private final EmbeddedChannel channel = new EmbeddedChannel(codec);

    @AfterEach
    void finish() {
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    private void shrink() {
        codec.shrink(channel.pipeline().context(codec));
    }

    private void send(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    /** What was decoded: "METHOD target" for a head, "end" for the end of a request, failures marked. */
    private List<String> decoded() {
        List<String> out = new ArrayList<>();
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            String fail = ((io.netty.handler.codec.DecoderResultProvider) msg).decoderResult().isSuccess() ? "" : "!";
            if (msg instanceof HttpRequest r) {
                out.add(fail + r.method() + " " + r.uri());
            } else if (msg instanceof LastHttpContent c) {
                out.add(fail + "end" + (c.content().isReadable() ? " " + c.content().toString(StandardCharsets.US_ASCII)
                        : ""));
            } else if (msg instanceof HttpContent c) {
                out.add(fail + c.content().toString(StandardCharsets.US_ASCII));
            }
            ReferenceCountUtil.release(msg);
        }
        return out;
    }

    /** Answers with a 200 carrying {@code body} and returns the bytes written. */
    private String answer(String body) {
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII)));
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b = channel.readOutbound(); b != null; b = channel.readOutbound()) {
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void requestsAfterAShrinkAreDecodedAndAnsweredAsBefore() {
        send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(decoded()).containsExactly("GET /a", "end");
        assertThat(answer("one")).startsWith("HTTP/1.1 200 OK").endsWith("one");
        shrink();
        assertThat(codec.holding()).isFalse();
        send("HEAD /b HTTP/1.1\r\nHost: a\r\n\r\nPOST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(decoded()).containsExactly("HEAD /b", "end", "POST /c", "end hi");
        assertThat(answer("xyz")).doesNotEndWith("xyz"); // the new encoder knows the first was a HEAD
        assertThat(answer("xyz")).endsWith("xyz");
    }

    @Test
    void aShrinkKeepsThePartOfARequestHeadAlreadyReceived() {
        send("GET /a HTTP/1.1\r\nHo");
        shrink();
        assertThat(codec.holding()).isTrue();
        send("st: a\r\n\r\n");
        assertThat(decoded()).containsExactly("GET /a", "end");
    }

    @Test
    void aShrinkKeepsTheDecoderInTheMiddleOfABody() {
        send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n");
        assertThat(decoded()).containsExactly("POST /a", "hi");
        shrink();
        send("0\r\n\r\n");
        assertThat(decoded()).containsExactly("end");
    }

    @Test
    void aShrinkKeepsTheEncoderWhileAResponseIsOwed() {
        send("HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(decoded()).containsExactly("HEAD /a", "end");
        shrink();
        assertThat(answer("xyz")).doesNotEndWith("xyz");
    }

    @Test
    void aDecoderThatFailedStaysAndKeepsDiscarding() {
        send("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n");
        List<String> first = decoded();
        assertThat(first).isNotEmpty();
        assertThat(first.get(0)).startsWith("!");
        shrink();
        send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(decoded()).doesNotContain("GET /next");
    }
}
