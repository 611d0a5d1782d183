package dev.portico.internal.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UpstreamCodec} on raw bytes: a response is read with its request's method in mind (no body after HEAD, none
 * after a 101, interim responses skipped), and bytes a backend sent beyond the response stay visible.
 */
class UpstreamCodecTest {
    private static final String OK_5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

    private final UpstreamCodec codec = new UpstreamCodec(new HttpDecoderConfig());
    private final EmbeddedChannel channel = new EmbeddedChannel(codec);

    @AfterEach
    void finish() {
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    private void send(HttpMethod method) {
        channel.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        StringBuilder sent = new StringBuilder();
        for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            sent.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        assertThat(sent.toString()).isEqualTo(method.name() + " / HTTP/1.1\r\n\r\n");
    }

    /** Feeds the bytes and describes each decoded message: the status, the body bytes, "end" for the last part. */
    private List<String> receive(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
        List<String> seen = new ArrayList<>();
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            try {
                if (msg instanceof HttpResponse response) {
                    assertThat(response.decoderResult().isSuccess()).isTrue();
                    seen.add(String.valueOf(response.status().code()));
                }
                if (msg instanceof HttpContent content && content.content().isReadable()) {
                    seen.add(content.content().toString(StandardCharsets.US_ASCII));
                }
                if (msg instanceof LastHttpContent) {
                    seen.add("end");
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        return seen;
    }

    @Test
    void theResponseToGetHasItsBody() {
        send(HttpMethod.GET);

        assertThat(receive(OK_5 + "hello")).containsExactly("200", "hello", "end");
        assertThat(codec.undecodedBytes()).isZero();
    }

    @Test
    void theResponseToHeadHasNoBodyAndBytesAfterItStayUndecoded() {
        send(HttpMethod.HEAD);

        assertThat(receive(OK_5 + "hello")).containsExactly("200", "end");
        assertThat(codec.undecodedBytes()).isEqualTo(5);
    }

    @Test
    void pipelinedResponsesArePairedWithTheirMethodsInOrder() {
        send(HttpMethod.HEAD);
        send(HttpMethod.GET);
        send(HttpMethod.HEAD);

        assertThat(receive(OK_5 + OK_5 + "hello" + OK_5))
                .containsExactly("200", "end", "200", "hello", "end", "200", "end");
        assertThat(codec.undecodedBytes()).isZero();
    }

    @Test
    void bodyPartsWrittenAfterTheRequestHeadDoNotCountAsRequests() {
        channel.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/"),
                new DefaultHttpContent(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)),
                LastHttpContent.EMPTY_LAST_CONTENT);
        for (Object out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            ReferenceCountUtil.release(out);
        }
        send(HttpMethod.GET);

        assertThat(receive(OK_5 + OK_5 + "hello")).containsExactly("200", "end", "200", "hello", "end");
    }

    @Test
    void anInterimResponseLeavesTheMethodToTheFinalResponse() {
        send(HttpMethod.HEAD);
        send(HttpMethod.GET);

        assertThat(receive("HTTP/1.1 100 Continue\r\n\r\n" + OK_5 + "HTTP/1.1 103 Early Hints\r\n\r\n" + OK_5 + "hello"))
                .containsExactly("100", "end", "200", "end", "103", "end", "200", "hello", "end");
    }

    @Test
    void aSwitchingProtocolsResponseHasNoBodyEvenForAHixieWebSocketUpgrade() {
        send(HttpMethod.GET);

        // Netty would wait for a Hixie-76 body after this 101; what follows is the new protocol's.
        List<String> seen = receive("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade"
                + "\r\n\r\n");

        assertThat(seen).containsExactly("101", "end");
    }

    @Test
    void headerNamesKeepTheirSpellingAndCommonOnesAreSharedInstances() {
        send(HttpMethod.GET);
        channel.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nServer: a\r\nserver: b\r\nSERVER: c\r\n"
                + "X-Own: d\r\nContent-Length: 0\r\n\r\n", StandardCharsets.US_ASCII));
        HttpResponse response = channel.readInbound();
        List<String> names = new ArrayList<>();
        List<CharSequence> instances = new ArrayList<>();
        response.headers().iteratorCharSequence().forEachRemaining(e -> {
            names.add(e.getKey().toString());
            instances.add(e.getKey());
        });
        assertThat(names).containsExactly("Server", "server", "SERVER", "X-Own", "Content-Length");
        assertThat((Object) instances.get(0)).isSameAs(dev.portico.internal.http.HeaderNames.lookup(
                "Server".getBytes(StandardCharsets.US_ASCII), 0, 6));
        assertThat((Object) dev.portico.internal.http.HeaderNames.lookup("SERVER".getBytes(StandardCharsets.US_ASCII), 0, 6))
                .isNull();
        ReferenceCountUtil.release(channel.readInbound());
    }
}
