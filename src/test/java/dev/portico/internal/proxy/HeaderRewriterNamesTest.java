package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which names {@link HeaderRewriter} treats as hop-by-hop or drops, and the fields that describe the client. */
class HeaderRewriterNamesTest {

    @ParameterizedTest
    @ValueSource(strings = {"TE", "te", "Trailer", "Upgrade", "UPGRADE", "Keep-Alive", "Proxy-Connection",
        "Transfer-Encoding", "transfer-encoding"})
    void fixedHopByHopNames(String name) {
        assertThat(HeaderRewriter.isFixedHopByHop(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Tf", "XE", "Cookie", "Trailex", "Upgradx", "Traffic", "Keep-Alivx", "Cache-Ctrl",
        "Proxy-Connectiox", "Proxy-Authorizat", "Transfer-Encodinx", "Content-Language", "Accept-Encoding",
        "Cache-Control", "Authorization", "X", "Content-Type", "Content-Length", "Host", "Set-Cookie", "ETag"})
    void otherNamesAreEndToEndEvenWithTheSameLength(String name) {
        assertThat(HeaderRewriter.isFixedHopByHop(name)).isFalse();
    }

    @Test
    void endToEndFieldsSurviveWhenAHopByHopFieldIsRemovedBesideThem() {
        HttpHeaders h = new DefaultHttpHeaders().add("Cookie", "c=1").add("Cache-Control", "no-cache")
                .add("TE", "trailers").add("Authorization", "Basic x");

        HeaderRewriter.removeHopByHop(h);

        assertThat(h.names()).containsExactlyInAnyOrder("Cookie", "Cache-Control", "Authorization");
    }

    @Test
    void eachFixedHopByHopFieldIsRemovedEvenWhenAlone() {
        for (String name : new String[] {"TE", "Trailer", "Upgrade", "Keep-Alive", "Proxy-Connection",
            "Transfer-Encoding"}) {
            HttpHeaders h = new DefaultHttpHeaders().add(name, "x").add("Cookie", "c");
            HeaderRewriter.removeHopByHop(h);
            assertThat(h.names()).as(name).containsExactly("Cookie");
        }
    }

    @Test
    void connectionCannotNameHostOrContentLengthAway() {
        HttpHeaders h = new DefaultHttpHeaders().add("Connection", "Host, content-length, , X-A")
                .add("Host", "a").add("Content-Length", "1").add("X-A", "1").add("X-B", "2");

        HeaderRewriter.removeHopByHop(h);

        assertThat(h.names()).containsExactlyInAnyOrder("Host", "Content-Length", "X-B");
    }

    @Test
    void underscoreNamesAreRemovedAndOthersKept() {
        HttpHeaders h = new DefaultHttpHeaders().add("X_A", "1").add("X-B", "2").add("_", "3").add("y_", "4");

        HeaderRewriter.removeUnderscoreNames(h);

        assertThat(h.names()).containsExactly("X-B");
    }

    @Test
    void forwardedElementQuotesIpv6AndHostAndNamesTheProtocol() {
        assertThat(HeaderRewriter.forwardedElement("10.0.0.1", "a:80", false))
                .isEqualTo("for=10.0.0.1;host=\"a:80\";proto=http");
        assertThat(HeaderRewriter.forwardedElement("::1", null, true)).isEqualTo("for=\"[::1]\";proto=https");
    }

    @Test
    void tlsSetsHttpsAndAForwardedListGetsPorticosElement() {
        HttpRequest client = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        client.headers().add("Host", "a").add("Forwarded", "for=1.2.3.4").add("Forwarded", "for=5.6.7.8")
                .add("X-Real-IP", "6.6.6.6").add("X-Forwarded-Port", "1").add("X-Forwarded-Prefix", "/p");

        HttpHeaders out = HeaderRewriter.upstreamRequest(client, "/", "a", "10.0.0.7", "a", true).headers();

        assertThat(out.getAll("X-Forwarded-Proto")).containsExactly("https");
        assertThat(out.getAll("Forwarded"))
                .containsExactly("for=1.2.3.4, for=5.6.7.8, for=10.0.0.7;host=\"a\";proto=https");
        assertThat(out.getAll("X-Real-IP")).containsExactly("10.0.0.7");
        assertThat(out.contains("X-Forwarded-Port")).isFalse();
        assertThat(out.contains("X-Forwarded-Prefix")).isFalse();
    }

    @Test
    void withoutForwardedOrXRealIpFromTheClientNoneIsAdded() {
        HttpRequest client = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        client.headers().add("Host", "a");

        HttpHeaders out = HeaderRewriter.upstreamRequest(client, "/", "a", "10.0.0.7", "a", false).headers();

        assertThat(out.contains("Forwarded")).isFalse();
        assertThat(out.contains("X-Real-IP")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "7", "10"})
    void canonicalContentLengthsAreLeftAsSent(String length) {
        HttpRequest client = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
        client.headers().add("Host", "a").add("Content-Length", length);

        HttpHeaders out = HeaderRewriter.upstreamRequest(client, "/", "a", "10.0.0.7", "a", false).headers();

        assertThat(out.getAll("Content-Length")).containsExactly(length);
    }

    @Test
    void leadingZerosAreDroppedFromContentLength() {
        HttpRequest client = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
        client.headers().add("Host", "a").add("Content-Length", "00");

        HttpHeaders out = HeaderRewriter.upstreamRequest(client, "/", "a", "10.0.0.7", "a", false).headers();

        assertThat(out.getAll("Content-Length")).containsExactly("0");
    }

    @Test
    void fixedHopByHopFieldsGoAlsoWhenConnectionNamesOthers() {
        HttpHeaders h = new DefaultHttpHeaders().add("Connection", "close").add("TE", "trailers")
                .add("Keep-Alive", "timeout=5").add("Cookie", "c=1");

        HeaderRewriter.removeHopByHop(h);

        assertThat(h.names()).containsExactly("Cookie");
    }
}
