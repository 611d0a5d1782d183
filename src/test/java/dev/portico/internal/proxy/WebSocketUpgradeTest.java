package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which requests are WebSocket upgrades, and the 101 the client gets. */
class WebSocketUpgradeTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            GET  | HTTP/1.1 | Upgrade            | websocket        | -   | true
            GET  | HTTP/1.1 | keep-alive, UPGRADE | WebSocket       | -   | true
            GET  | HTTP/1.1 | upgrade            | foo, websocket   | -   | true
            GET  | HTTP/1.1 | upgrade            | h2c              | -   | false
            GET  | HTTP/1.1 | keep-alive         | websocket        | -   | false
            GET  | HTTP/1.1 | -                  | websocket        | -   | false
            POST | HTTP/1.1 | upgrade            | websocket        | -   | false
            GET  | HTTP/1.0 | upgrade            | websocket        | -   | false
            GET  | HTTP/1.1 | upgrade            | websocket        | 5   | false
            GET  | HTTP/1.1 | upgrade            | websocket        | 0   | true
            GET  | HTTP/1.1 | upgrade            | websocket        | -1  | false
            """)
    void recognisesOnlyABodilessHttp11GetWithTheHandshakeFields(String method, String version, String connection,
                                                           String upgrade, String length, boolean expected) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.valueOf(version), HttpMethod.valueOf(method), "/ws");
        if (connection != null) {
            r.headers().set("connection", connection);
        }
        r.headers().set("upgrade", upgrade);
        if (!"-1".equals(length)) { // -1: a request without the handshake's fields
            r.headers().set("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==").set("sec-websocket-version", "13");
        }
        if (length != null && !"-1".equals(length)) {
            r.headers().set("content-length", length);
        }
        assertThat(WebSocketUpgrade.requested(r)).isEqualTo(expected);
    }

    @Test
    void theClientsSwitchKeepsTheHandshakeFieldsAndDropsOtherHopByHopOnes() {
        HttpResponse backend = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        backend.headers().set("upgrade", "websocket").set("connection", "Upgrade, x-secret")
                .set("sec-websocket-accept", "abc").set("x-secret", "1").set("keep-alive", "timeout=5")
                .set("via", "1.1 backend");
        assertThat(WebSocketUpgrade.accepted(backend)).isTrue();

        HttpResponse out = WebSocketUpgrade.clientResponse(backend);
        assertThat(out.status().code()).isEqualTo(101);
        assertThat(out.headers().get("upgrade")).isEqualTo("websocket");
        assertThat(out.headers().get("connection")).isEqualTo("upgrade");
        assertThat(out.headers().get("sec-websocket-accept")).isEqualTo("abc");
        assertThat(out.headers().get("via")).isEqualTo("1.1 backend, 1.1 portico");
        assertThat(out.headers().contains("x-secret")).isFalse();
        assertThat(out.headers().contains("keep-alive")).isFalse();
    }

    @Test
    void a101ToAnotherProtocolIsNotAWebSocketSwitch() {
        HttpResponse h2c = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        h2c.headers().set("upgrade", "h2c");
        assertThat(WebSocketUpgrade.accepted(h2c)).isFalse();
    }

    @Test
    void anExtendedConnectsHandshakeGetsAFreshKeyAndVersion13AndItsAnswerIsChecked() {
        HttpRequest upstream = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws");
        upstream.headers().set("sec-websocket-key", "from-the-client").set("sec-websocket-protocol", "chat");
        String key = WebSocketUpgrade.handshake(upstream);
        assertThat(key).hasSize(24).isNotEqualTo(WebSocketUpgrade.handshake(
                new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/ws")));
        assertThat(upstream.headers().get("sec-websocket-key")).isEqualTo(key);
        assertThat(upstream.headers().get("sec-websocket-version")).isEqualTo("13");
        assertThat(upstream.headers().get("sec-websocket-protocol")).isEqualTo("chat");

        HttpResponse backend = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        backend.headers().set("upgrade", "websocket").set("sec-websocket-accept", WebSocketUpgrade.acceptFor(key));
        assertThat(WebSocketUpgrade.accepted(backend, key)).isTrue();
        backend.headers().set("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(WebSocketUpgrade.accepted(backend, key)).isFalse();
    }

    @Test
    void theAcceptValueIsRfc6455s() {
        assertThat(WebSocketUpgrade.acceptFor("dGhlIHNhbXBsZSBub25jZQ==")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    @Test
    void theStreamsAnswerIs200WithTheChosenSubprotocolAndWithoutTheHandshakesOwnFields() {
        HttpResponse backend = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        backend.headers().set("Upgrade", "websocket").set("Connection", "Upgrade, X-Secret")
                .set("Sec-WebSocket-Accept", "abc").set("Sec-WebSocket-Protocol", "chat").set("X-Secret", "1")
                .set("Content-Length", "0");
        io.netty.handler.codec.http2.Http2HeadersFrame out = WebSocketUpgrade.streamResponse(backend);
        assertThat(out.isEndStream()).isFalse();
        assertThat(out.headers().status().toString()).isEqualTo("200");
        assertThat(out.headers().get("sec-websocket-protocol").toString()).isEqualTo("chat");
        assertThat(out.headers().get("via").toString()).isEqualTo("1.1 portico");
        for (String gone : new String[] {"upgrade", "connection", "sec-websocket-accept", "x-secret",
            "content-length"}) {
            assertThat(out.headers().contains(gone)).as(gone).isFalse();
        }
    }
}
