package dev.portico.internal.server;

import dev.portico.config.LimitsConfig;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.ProxyFailure.Kind;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestValidatorTest {

    /** A request head; headers unvalidated, so the validator sees what a lenient parser would hand it. */
    private static HttpRequest request(HttpVersion version, String... nameValues) {
        HttpRequest r = new DefaultHttpRequest(version, HttpMethod.GET, "/",
                DefaultHttpHeadersFactory.headersFactory().withValidation(false));
        for (int i = 0; i < nameValues.length; i += 2) {
            r.headers().add(nameValues[i], nameValues[i + 1]);
        }
        return r;
    }

    private static Kind kindOf(ProxyFailure failure) {
        assertThat(failure).as("a failure").isNotNull();
        return failure.kind();
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "example.com:8080", "EXAMPLE.com", "[::1]:8080", "[::1]", "127.0.0.1:80",
            "my_backend", "a-b.example"})
    void acceptsAnHttp11RequestWithOneValidHost(String host) {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", host);

        assertThat(RequestValidator.check(request, LimitsConfig.DEFAULTS)).isNull();
    }

    @Test
    void acceptsAnHttp10RequestWithoutHost() {
        HttpRequest request = request(HttpVersion.HTTP_1_0);

        assertThat(RequestValidator.check(request, LimitsConfig.DEFAULTS)).isNull();
    }

    @Test
    void acceptsAnHttp10RequestWithHost() {
        HttpRequest request = request(HttpVersion.HTTP_1_0, "Host", "example.com");

        assertThat(RequestValidator.check(request, LimitsConfig.DEFAULTS)).isNull();
    }

    @Test
    void rejectsAnHttp11RequestWithoutHost() {
        HttpRequest request = request(HttpVersion.HTTP_1_1);

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.0", "HTTP/1.1"})
    void rejectsTwoHostHeaders(String version) {
        HttpRequest request = request(HttpVersion.valueOf(version), "Host", "a.example", "Host", "b.example");

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
    }

    @Test
    void rejectsTwoIdenticalHostHeaders() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", "a.example", "Host", "a.example");

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "exa mple.com", "example.com/path", "user@example.com", "example.com?x",
            "example.com#x", "a\\b", "a\tb", "a\u0001b", "a\u007fb", "caf\u00e9.example", "example.com\r\n"})
    void rejectsInvalidHostCharacters(String host) {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", host);

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
    }

    @Test
    void rejectsAnInvalidHostFromAnHttp10ClientToo() {
        HttpRequest request = request(HttpVersion.HTTP_1_0, "Host", "user@example.com");

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"chunked", "Chunked", "CHUNKED", " chunked "})
    void acceptsExactlyOneChunkedTransferCoding(String coding) {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", coding);

        assertThat(RequestValidator.check(request, LimitsConfig.DEFAULTS)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip, chunked", "deflate,chunked", "chunked, gzip", "identity", "gzip",
            "chunked, chunked", "x-custom"})
    void rejectsAnyOtherTransferCodingAsNotImplemented(String coding) {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", coding);

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.NOT_IMPLEMENTED);
    }

    @Test
    void rejectsTwoTransferEncodingFieldsAsNotImplemented() {
        HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", "a", "Transfer-Encoding", "gzip",
                "Transfer-Encoding", "chunked");

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.NOT_IMPLEMENTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/0.9", "HTTP/2.0", "HTTP/3.0"})
    void rejectsMajorVersionsOtherThan1(String version) {
        HttpRequest request = request(HttpVersion.valueOf(version), "Host", "a");

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.VERSION_NOT_SUPPORTED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"HTTP/1.2", "HTTP/1.10"})
    void acceptsLaterMinorVersionsOfHttp1(String version) {
        HttpRequest request = request(HttpVersion.valueOf(version), "Host", "a");

        assertThat(RequestValidator.check(request, LimitsConfig.DEFAULTS)).isNull();
    }

    @Test
    void reportsAnUnsupportedVersionBeforeAMissingHost() {
        HttpRequest request = request(HttpVersion.valueOf("HTTP/2.0"));

        assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.VERSION_NOT_SUPPORTED);
    }

    @Nested
    class DecoderFailures {

        private HttpRequest failed(Throwable cause) {
            HttpRequest request = request(HttpVersion.HTTP_1_1, "Host", "a");
            request.setDecoderResult(DecoderResult.failure(cause));
            return request;
        }

        @Test
        void tooLongRequestLineIsUriTooLong() {
            HttpRequest request = failed(new TooLongHttpLineException("An HTTP line is larger than 4096 bytes."));

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.URI_TOO_LONG);
        }

        @Test
        void tooLargeHeaderBlockIsHeadersTooLarge() {
            HttpRequest request = failed(new TooLongHttpHeaderException("HTTP header is larger than 8192 bytes."));

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.HEADERS_TOO_LARGE);
        }

        @Test
        void anyOtherDecoderFailureIsBadRequest() {
            HttpRequest request = failed(new IllegalArgumentException("invalid version format: FOO"));

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
        }

        @Test
        void decoderFailureWithoutMessageIsBadRequest() {
            HttpRequest request = failed(new NumberFormatException());

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
        }

        @Test
        void decoderRejectingAFinalCodingOtherThanChunkedIsABadRequest() {
            HttpRequest request = failed(
                    new IllegalArgumentException("The final transfer coding must be chunked for HTTP requests"));

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.BAD_REQUEST);
        }

        @Test
        void decoderFailureWinsOverAValidLookingHead() {
            HttpRequest request = failed(new TooLongHttpHeaderException("too large"));
            request.headers().set("Transfer-Encoding", "gzip, chunked");

            assertThat(kindOf(RequestValidator.check(request, LimitsConfig.DEFAULTS))).isEqualTo(Kind.HEADERS_TOO_LARGE);
        }
    }

    /**
     * Raw requests through Netty's decoder configured as {@code FrontendInitializer} configures it, then the
     * validator: every smuggling vector of DESIGN.md section 6 must end in a failure, never in a forwardable head.
     */
    @Nested
    class DecodedByTheFrontendCodec {

        private ProxyFailure decodeAndCheck(String head) {
            EmbeddedChannel channel = new EmbeddedChannel(
                    new FrontendCodec(FrontendInitializer.decoderConfig(new LimitsConfig(64, 256, 0))));
            channel.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1));
            Object first = channel.readInbound();
            try {
                assertThat(first).as("decoded head").isInstanceOf(HttpRequest.class);
                return RequestValidator.check((HttpRequest) first, LimitsConfig.DEFAULTS);
            } finally {
                ReferenceCountUtil.release(first);
                for (Object more = channel.readInbound(); more != null; more = channel.readInbound()) {
                    ReferenceCountUtil.release(more);
                }
                assertThat(channel.finishAndReleaseAll()).isFalse();
            }
        }

        @Test
        void wellFormedRequestPasses() {
            ProxyFailure failure = decodeAndCheck("POST /a HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n");

            assertThat(failure).isNull();
        }

        @Test
        void wellFormedChunkedRequestPasses() {
            ProxyFailure failure = decodeAndCheck(
                    "POST /a HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");

            assertThat(failure).isNull();
        }

        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', value = {
                "Content-Length with Transfer-Encoding | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\n"
                        + "Transfer-Encoding: chunked\\r\\n\\r\\n | BAD_REQUEST",
                "conflicting Content-Length | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\n"
                        + "Content-Length: 4\\r\\n\\r\\n | BAD_REQUEST",
                "repeated Content-Length | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 3\\r\\n"
                        + "Content-Length: 3\\r\\n\\r\\n | BAD_REQUEST",
                "malformed Content-Length | POST / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: +3\\r\\n\\r\\n "
                        + "| BAD_REQUEST",
                "coding before chunked | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n "
                        + "| NOT_IMPLEMENTED",
                "final coding not chunked | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n "
                        + "| BAD_REQUEST",
                "chunked twice | POST / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked, chunked\\r\\n\\r\\n "
                        + "| BAD_REQUEST",
                "Transfer-Encoding in HTTP/1.0 | POST / HTTP/1.0\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n "
                        + "| BAD_REQUEST",
                "whitespace before colon | GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n | BAD_REQUEST",
                "control character in value | GET / HTTP/1.1\\r\\nHost: a\\r\\nX-A: 1\\u00012\\r\\n\\r\\n "
                        + "| BAD_REQUEST",
                "missing Host | GET / HTTP/1.1\\r\\n\\r\\n | BAD_REQUEST",
                "repeated Host | GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n | BAD_REQUEST",
                "HTTP/2.0 | GET / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n | VERSION_NOT_SUPPORTED",
                "long request line | GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1"
                        + "\\r\\nHost: a\\r\\n\\r\\n | URI_TOO_LONG",
                "large header block | GET / HTTP/1.1\\r\\nHost: a\\r\\nX-A: "
                        + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        + "\\r\\n\\r\\n | HEADERS_TOO_LARGE"})
        void malformedOrAmbiguousRequestIsRejected(String description, String escapedHead, Kind expected) {
            String head = escapedHead.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0001", "\u0001");

            ProxyFailure failure = decodeAndCheck(head);

            assertThat(kindOf(failure)).as(description).isEqualTo(expected);
        }

        @Test
        void obsFoldIsRejected() {
            ProxyFailure failure = decodeAndCheck("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n");

            assertThat(kindOf(failure)).isEqualTo(Kind.BAD_REQUEST);
        }
    }
}
