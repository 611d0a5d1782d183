package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import org.junit.jupiter.api.Test;

/** The extended CONNECT an HTTP/2 backend gets for a WebSocket upgrade, and the head its 200 becomes. */
class ExtendedConnectTest {
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    @Test
    void theConnectCarriesThePseudoHeadersAndEndToEndFieldsButNoHandshakeFields() {
        HttpRequest up = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/chat?room=1");
        up.headers().set("Host", "backend.test").set("Upgrade", "websocket").set("Connection", "upgrade")
                .set("Sec-WebSocket-Key", KEY).set("Sec-WebSocket-Version", "13")
                .set("Sec-WebSocket-Protocol", "chat").set("Sec-WebSocket-Extensions", "permessage-deflate")
                .set("Origin", "http://a.test").set("TE", "trailers").set("X-Forwarded-For", "10.0.0.1");
        EmbeddedChannel stream = new EmbeddedChannel();
        Http2HeadersFrame frame = ExtendedConnect.frame(up, stream);
        Http2Headers h = frame.headers();
        assertThat(frame.isEndStream()).as("the stream carries the tunnel next").isFalse();
        assertThat(h.method()).hasToString("CONNECT");
        assertThat(h.get(":protocol")).hasToString("websocket");
        assertThat(h.scheme()).hasToString("http");
        assertThat(h.path()).hasToString("/chat?room=1");
        assertThat(h.authority()).hasToString("backend.test");
        assertThat(h.get("sec-websocket-version")).hasToString("13");
        assertThat(h.get("sec-websocket-protocol")).hasToString("chat");
        assertThat(h.get("sec-websocket-extensions")).hasToString("permessage-deflate");
        assertThat(h.get("origin")).hasToString("http://a.test");
        assertThat(h.get("x-forwarded-for")).hasToString("10.0.0.1");
        for (String gone : new String[] {"sec-websocket-key", "upgrade", "connection", "host", "te"}) {
            assertThat(h.contains(gone)).as(gone).isFalse();
        }
        assertThat(up.headers().get("Sec-WebSocket-Key")).as("the upstream head is left as it was").isEqualTo(KEY);
        stream.finishAndReleaseAll();
    }

    @Test
    void aBackend200BecomesA101WithTheAcceptForTheClientsKey() {
        HttpResponse ok = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().set("transfer-encoding", "chunked").set("sec-websocket-protocol", "chat");
        HttpResponse head = ExtendedConnect.asSwitch(ok, KEY);
        assertThat(head.status().code()).isEqualTo(101);
        assertThat(head.headers().get("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(head.headers().contains("transfer-encoding")).isFalse();
        assertThat(head.headers().get("sec-websocket-protocol")).isEqualTo("chat");
    }

    @Test
    void onlyA200OpensTheTunnel() {
        assertThat(ExtendedConnect.opens(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK)))
                .isTrue();
        assertThat(ExtendedConnect.opens(new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.NO_CONTENT))).isFalse();
        assertThat(ExtendedConnect.opens(new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS))).isFalse();
    }
}
