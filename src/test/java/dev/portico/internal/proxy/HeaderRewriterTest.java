package dev.portico.internal.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HeaderRewriterTest {
    private static final String CLIENT_IP = "10.0.0.7";

    private static HttpRequest request(HttpVersion version, String... nameValues) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.POST, "/api/x?y=1");
        for (int i = 0; i < nameValues.length; i += 2) {
            r.headers().add(nameValues[i], nameValues[i + 1]);
        }
        return r;
    }

    private static HttpRequest forward(HttpRequest client) {
        return HeaderRewriter.upstreamRequest(client, "/v1/x?y=1", "app.example:8080", CLIENT_IP, "app.example:8080", false);
    }

    private static HttpResponse response(HttpResponseStatus status, String... nameValues) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        for (int i = 0; i < nameValues.length; i += 2) {
            r.headers().add(nameValues[i], nameValues[i + 1]);
        }
        return r;
    }

    @Nested
    class UpstreamRequest {

        @ParameterizedTest
        @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
        void isHttp11WithTheClientsMethodAndTheGivenTarget(String clientVersion) {
            HttpRequest client = request(HttpVersion.valueOf(clientVersion), "Host", "app.example:8080");

            HttpRequest out = forward(client);

            assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
            assertThat(out.method()).isEqualTo(HttpMethod.POST);
            assertThat(out.uri()).isEqualTo("/v1/x?y=1");
        }

        @ParameterizedTest
        @ValueSource(strings = {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"})
        void removesHopByHopHeaders(String name) {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", name, "close", "Accept", "*/*");

            HttpRequest out = forward(client);

            assertThat(out.headers().contains(name)).isFalse();
            assertThat(out.headers().get("Accept")).isEqualTo("*/*");
        }

        @Test
        void removesEveryHeaderNamedInConnection() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a",
                    "Connection", "X-Secret, x-debug ,,keep-alive",
                    "Connection", "X-Other",
                    "X-Secret", "s", "X-DEBUG", "d", "X-Other", "o", "X-Kept", "k");

            HttpRequest out = forward(client);

            assertThat(out.headers().names()).doesNotContain("X-Secret", "X-DEBUG", "X-Other", "Connection");
            assertThat(out.headers().get("X-Kept")).isEqualTo("k");
        }

        @ParameterizedTest
        @ValueSource(strings = {"X-Secret", "x-secret,", ", X-SECRET", "X-Secret,\tX-Debug", "X-Secret \t,X-Debug"})
        void removesTheFieldsOneConnectionFieldNames(String connection) {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Connection", connection,
                    "X-Secret", "s", "X-Debug", "d", "X-Kept", "k");

            HttpRequest out = forward(client);

            assertThat(out.headers().names()).doesNotContain("X-Secret", "Connection");
            assertThat(out.headers().contains("X-Debug")).isEqualTo(!connection.contains("X-Debug"));
            assertThat(out.headers().get("X-Kept")).isEqualTo("k");
        }

        @Test
        void keepsEndToEndHeadersWithAllTheirValuesInOrder() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Accept", "text/html",
                    "Cookie", "a=1", "Cookie", "b=2", "Authorization", "Bearer t", "Content-Type", "text/plain");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll("Cookie")).containsExactly("a=1", "b=2");
            assertThat(out.headers().get("Accept")).isEqualTo("text/html");
            assertThat(out.headers().get("Authorization")).isEqualTo("Bearer t");
            assertThat(out.headers().get("Content-Type")).isEqualTo("text/plain");
        }

        @Test
        void sendsTheGivenHostOnce() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "App.Example:8080");

            HttpRequest out = HeaderRewriter.upstreamRequest(client, "/", "App.Example:8080", CLIENT_IP,
                    "App.Example:8080", false);

            assertThat(out.headers().getAll(HttpHeaderNames.HOST)).containsExactly("App.Example:8080");
        }

        @Test
        void sendsTheGivenHostForAnAbsoluteFormTarget() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "ignored.example");

            HttpRequest out = HeaderRewriter.upstreamRequest(client, "/x", "b.example", CLIENT_IP, "ignored.example", false);

            assertThat(out.headers().getAll(HttpHeaderNames.HOST)).containsExactly("b.example");
            assertThat(out.headers().get("X-Forwarded-Host")).isEqualTo("ignored.example");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "''                    | ''                 | 10.0.0.7",
                "1.1.1.1               | ''                 | 1.1.1.1, 10.0.0.7",
                "1.1.1.1, 2.2.2.2      | ''                 | 1.1.1.1, 2.2.2.2, 10.0.0.7",
                "1.1.1.1               | 2.2.2.2, 3.3.3.3   | 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.7"})
        void appendsTheClientAddressToXForwardedFor(String first, String second, String expected) {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a");
            if (!first.isEmpty()) {
                client.headers().add("X-Forwarded-For", first);
            }
            if (!second.isEmpty()) {
                client.headers().add("X-Forwarded-For", second);
            }

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll("X-Forwarded-For")).containsExactly(expected);
        }

        @Test
        void setsXForwardedProtoToHttpReplacingTheClients() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "X-Forwarded-Proto", "https");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll("X-Forwarded-Proto")).containsExactly("http");
        }

        @Test
        void setsXForwardedHostToTheClientsHostExactlyAsSent() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "WWW.Example.com:8443",
                    "X-Forwarded-Host", "spoofed.example");

            HttpRequest out = HeaderRewriter.upstreamRequest(client, "/", "WWW.Example.com:8443", CLIENT_IP,
                    "WWW.Example.com:8443", false);

            assertThat(out.headers().getAll("X-Forwarded-Host")).containsExactly("WWW.Example.com:8443");
        }

        @Test
        void dropsXForwardedHostWhenTheClientSentNoHost() {
            HttpRequest client = request(HttpVersion.HTTP_1_0, "X-Forwarded-Host", "spoofed.example");

            HttpRequest out = HeaderRewriter.upstreamRequest(client, "/", "127.0.0.1:8000", CLIENT_IP, null, false);

            assertThat(out.headers().contains("X-Forwarded-Host")).isFalse();
            assertThat(out.headers().get(HttpHeaderNames.HOST)).isEqualTo("127.0.0.1:8000");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "''                 | 1.1 portico",
                "1.0 fred           | 1.0 fred, 1.1 portico",
                "1.0 fred, 1.1 nowhere.com (Apache/1.1) | 1.0 fred, 1.1 nowhere.com (Apache/1.1), 1.1 portico"})
        void appendsItselfToVia(String existing, String expected) {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a");
            if (!existing.isEmpty()) {
                client.headers().add(HttpHeaderNames.VIA, existing);
            }

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.VIA)).containsExactly(expected);
        }

        @Test
        void doesNotForwardExpect() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Expect", "100-continue",
                    "Content-Length", "10");

            HttpRequest out = forward(client);

            assertThat(out.headers().contains(HttpHeaderNames.EXPECT)).isFalse();
        }

        @Test
        void chunkedRequestStaysChunkedWithoutContentLength() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", "chunked");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("chunked");
            assertThat(out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        }

        @Test
        void chunkedRequestNeverCarriesAContentLength() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", "chunked",
                    "Content-Length", "5");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("chunked");
            assertThat(out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        }

        @ParameterizedTest
        @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
        void contentLengthRequestKeepsItsContentLength(String clientVersion) {
            HttpRequest client = request(HttpVersion.valueOf(clientVersion), "Host", "a", "Content-Length", "42");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("42");
            assertThat(out.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        }

        @Test
        void contentLengthNamedInConnectionIsStillForwarded() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Connection", "Content-Length",
                    "Content-Length", "42");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("42");
        }

        @Test
        void transferEncodingNamedInConnectionDoesNotUnchunkTheRequest() {
            HttpRequest client = request(HttpVersion.HTTP_1_1, "Host", "a", "Connection", "Transfer-Encoding",
                    "Transfer-Encoding", "chunked");

            HttpRequest out = forward(client);

            assertThat(out.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("chunked");
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {"HTTP/1.1 | close", "HTTP/1.0 | ''", "HTTP/1.0 | close"})
        void upstreamConnectionIsKeepAliveWhateverTheClientAsked(String clientVersion, String connection) {
            HttpRequest client = request(HttpVersion.valueOf(clientVersion), "Host", "a");
            if (!connection.isEmpty()) {
                client.headers().add(HttpHeaderNames.CONNECTION, connection);
            }

            HttpRequest out = forward(client);

            assertThat(HttpUtil.isKeepAlive(out)).isTrue();
        }

        @Test
        void takesOverTheHeadersButKeepsTheClientsRequestLine() {
            HttpRequest client = request(HttpVersion.HTTP_1_0, "Host", "a", "Connection", "keep-alive, X-Hop",
                    "X-Hop", "1");
            String uri = client.uri();

            HttpRequest out = forward(client);

            assertThat(out.headers()).isSameAs(client.headers());
            assertThat(client.uri()).isEqualTo(uri);
            assertThat(client.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_0);
            assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
            assertThat(out.headers().contains("X-Hop")).isFalse();
        }
    }

    @Nested
    class ClientResponse {

        @ParameterizedTest
        @ValueSource(strings = {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"})
        void removesHopByHopHeaders(String name) {
            HttpResponse upstream = response(HttpResponseStatus.OK, name, "x", "Content-Length", "3");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.headers().contains(name)).isFalse();
        }

        @Test
        void removesEveryHeaderNamedInConnectionAndKeepsTheRest() {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Connection", "X-Internal, Keep-Alive",
                    "Keep-Alive", "timeout=5", "X-Internal", "1", "Set-Cookie", "a=1", "Set-Cookie", "b=2",
                    "Content-Type", "text/html", "Content-Length", "3");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.headers().names()).doesNotContain("X-Internal", "Keep-Alive", "Connection");
            assertThat(out.headers().getAll("Set-Cookie")).containsExactly("a=1", "b=2");
            assertThat(out.headers().get("Content-Type")).isEqualTo("text/html");
        }

        @Test
        void keepsTheStatus() {
            HttpResponse upstream = response(HttpResponseStatus.valueOf(418), "Content-Length", "0");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.status().code()).isEqualTo(418);
            assertThat(out.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        }

        @ParameterizedTest
        @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
        void keepsContentLengthAndDoesNotChunk(String clientVersion) {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Content-Length", "1234");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.valueOf(clientVersion), false, true);

            assertThat(out.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("1234");
            assertThat(out.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void bodyWithoutLengthIsChunkedForAnHttp11Client(boolean upstreamChunked) {
            HttpResponse upstream = upstreamChunked
                    ? response(HttpResponseStatus.OK, "Transfer-Encoding", "chunked")
                    : response(HttpResponseStatus.OK);

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)).containsExactly("chunked");
            assertThat(out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        }

        @ParameterizedTest
        @ValueSource(booleans = {true, false})
        void bodyWithoutLengthIsNotChunkedForAnHttp10Client(boolean upstreamChunked) {
            HttpResponse upstream = upstreamChunked
                    ? response(HttpResponseStatus.OK, "Transfer-Encoding", "chunked")
                    : response(HttpResponseStatus.OK);

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_0, false, false);

            assertThat(out.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
            assertThat(out.headers().contains(HttpHeaderNames.CONTENT_LENGTH)).isFalse();
        }

        @Test
        void bodilessResponseWithoutLengthIsNotChunked() {
            HttpResponse upstream = response(HttpResponseStatus.NO_CONTENT);

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, true, true);

            assertThat(out.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        }

        @ParameterizedTest
        @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
        void saysConnectionCloseWhenNotKeepingAlive(String clientVersion) {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Content-Length", "0", "Connection", "keep-alive");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.valueOf(clientVersion), false,
                    false);

            assertThat(out.headers().getAll(HttpHeaderNames.CONNECTION)).containsExactly("close");
        }

        @Test
        void saysConnectionKeepAliveToAKeepAliveHttp10Client() {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Content-Length", "0");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_0, false, true);

            assertThat(out.headers().getAll(HttpHeaderNames.CONNECTION)).containsExactly("keep-alive");
        }

        @Test
        void sendsNoConnectionHeaderToAKeepAliveHttp11Client() {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Content-Length", "0", "Connection", "close");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
            assertThat(HttpUtil.isKeepAlive(out)).isTrue();
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {"'' | 1.1 portico", "1.1 backend | 1.1 backend, 1.1 portico"})
        void appendsItselfToVia(String existing, String expected) {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Content-Length", "0");
            if (!existing.isEmpty()) {
                upstream.headers().add(HttpHeaderNames.VIA, existing);
            }

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_1, false, true);

            assertThat(out.headers().getAll(HttpHeaderNames.VIA)).containsExactly(expected);
        }

        @Test
        void contentLengthNamedInConnectionIsKept() {
            HttpResponse upstream = response(HttpResponseStatus.OK, "Connection", "Content-Length",
                    "Content-Length", "3");

            HttpResponse out = HeaderRewriter.clientResponse(upstream, HttpVersion.HTTP_1_0, false, true);

            assertThat(out.headers().getAll(HttpHeaderNames.CONTENT_LENGTH)).containsExactly("3");
        }
    }

    @Nested
    class FramingAllowsKeepAlive {

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                // Content-Length, client version, bodiless, expected
                "true  | HTTP/1.0 | false | true",
                "false | HTTP/1.0 | false | false",
                "false | HTTP/1.0 | true  | true",
                "false | HTTP/1.1 | false | true",
                "true  | HTTP/1.1 | false | true"})
        void onlyAnHttp10ClientReadingABodyOfUnknownLengthMustClose(boolean hasLength, String clientVersion,
                                                                    boolean bodiless, boolean expected) {
            HttpResponse upstream = hasLength
                    ? response(HttpResponseStatus.OK, "Content-Length", "5")
                    : response(HttpResponseStatus.OK);

            boolean allowed = HeaderRewriter.framingAllowsKeepAlive(upstream, HttpVersion.valueOf(clientVersion),
                    bodiless);

            assertThat(allowed).isEqualTo(expected);
        }
    }
}
