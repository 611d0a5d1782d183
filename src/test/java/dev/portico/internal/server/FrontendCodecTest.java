package dev.portico.internal.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portico.config.LimitsConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FrontendCodec} on raw bytes: the request-line form, obs-fold, Content-Length lists and the header section
 * size it checks on top of Netty's decoder, per request of a pipelined connection, and the pairing of responses with
 * HEAD requests.
 */
class FrontendCodecTest {
    private static final String HEAD_OK = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    private EmbeddedChannel channel = codec(1024);

    private static EmbeddedChannel codec(long maxHeaderSize) {
        return new EmbeddedChannel(new FrontendCodec(
                FrontendInitializer.decoderConfig(LimitsConfig.DEFAULTS).setMaxHeaderSize((int) maxHeaderSize)));
    }

    @AfterEach
    void finish() {
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    /** Writes the bytes and returns the failure message of each decoded request head (null when it passed). */
    private List<String> heads(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
        return decodedHeads();
    }

    /** The failure message of each request head decoded so far (null when it passed); the rest is released. */
    private List<String> decodedHeads() {
        List<String> results = new ArrayList<>();
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            if (msg instanceof HttpRequest request) {
                results.add(request.decoderResult().isSuccess() ? null
                        : String.valueOf(request.decoderResult().cause().getMessage()));
            }
            ReferenceCountUtil.release(msg);
        }
        return results;
    }

    private String onlyHead(String bytes) {
        List<String> results = heads(bytes);
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1", "\r\nGET / HTTP/1.1", "\r\n\r\nGET /a?b HTTP/1.1", "OPTIONS * HTTP/1.0",
        "GET / HTTP/1.1\r\nX-A: a,b\r\nContent-Length: 0"})
    void aWellFormedHeadPasses(String firstLines) {
        assertThat(onlyHead(firstLines + "\r\nHost: a\r\n\r\n")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET  / HTTP/1.1", "GET /  HTTP/1.1", " GET / HTTP/1.1", "GET\t/ HTTP/1.1",
        "GET / HTTP/1.1 ", "GET / http/1.1", "GET / HTTX/1.1", "GET / XTTP/1.1", "GET / HxTP/1.1", "GET / HTxP/1.1",
        "GET / HTTx/1.1", "GET / HTTP", "GET / HTT", "GET /", "GET / HTTP/1.1 x"})
    void aRequestLineNotInTheFormMethodSpTargetSpVersionFails(String requestLine) {
        String failure = onlyHead(requestLine + "\r\nHost: a\r\n\r\n");

        assertThat(failure).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / http/1.1", "GET / hTTP/1.1", "GET / HtTP/1.1", "GET / HTtP/1.1", "GET / HTTp/1.1"})
    void aVersionNotSpelledInCapitalsIsTheCodecsOwnFailure(String requestLine) {
        assertThat(onlyHead(requestLine + "\r\nHost: a\r\n\r\n")).isEqualTo(FrontendCodec.BAD_REQUEST_LINE);
    }

    @ParameterizedTest
    @ValueSource(strings = {" folded", "\tfolded"})
    void obsFoldFails(String continuation) {
        assertThat(onlyHead("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n" + continuation + "\r\n\r\n"))
                .isEqualTo(FrontendCodec.OBS_FOLD);
    }

    /**
     * The checks see every byte of a long head, whether it comes in a heap buffer or a direct one (as sockets give
     * them), whole or in two reads split at an odd place: a defect a kilobyte in is found either way.
     */
    @ParameterizedTest
    @CsvSource({"false, 0", "true, 0", "false, 701", "true, 701", "true, 1"})
    void aDefectFarIntoALongHeadIsFoundInHeapAndDirectBuffers(boolean direct, int splitAt) {
        channel = codec(16 * 1024);
        String filler = "X-Filler: " + "a".repeat(1000) + "\r\n";
        assertThat(headsIn("GET / HTTP/1.1\r\nHost: a\r\n" + filler + "X-A: 1\r\n folded\r\n\r\n", direct, splitAt))
                .containsExactly(FrontendCodec.OBS_FOLD);
        assertThat(headsIn("POST / HTTP/1.0\r\n" + filler + "Content-Length: 1\r\n" + filler
                + "Content-Length: 1\r\n\r\nx", direct, splitAt)).containsExactly(FrontendCodec.MANY_LENGTHS);
    }

    @ParameterizedTest
    @CsvSource({"false, 0", "true, 0", "true, 701"})
    void aLongWellFormedHeadPassesInHeapAndDirectBuffers(boolean direct, int splitAt) {
        channel = codec(16 * 1024);
        String filler = "X-Filler: " + "a".repeat(1000) + "\r\n";
        assertThat(headsIn("GET / HTTP/1.1\r\nHost: a\r\n" + filler + filler + "X-A: 1\r\n\r\n", direct, splitAt))
                .containsExactly((String) null);
    }

    /** As {@link #heads}, the bytes in a heap or a direct buffer, in one write or two (split at {@code splitAt}). */
    private List<String> headsIn(String bytes, boolean direct, int splitAt) {
        byte[] all = bytes.getBytes(StandardCharsets.ISO_8859_1);
        int[] cuts = splitAt > 0 ? new int[] {0, splitAt, all.length} : new int[] {0, all.length};
        for (int i = 0; i + 1 < cuts.length; i++) {
            ByteBuf part = direct ? Unpooled.directBuffer(cuts[i + 1] - cuts[i]) : Unpooled.buffer(cuts[i + 1] - cuts[i]);
            part.writeBytes(all, cuts[i], cuts[i + 1] - cuts[i]);
            channel.writeInbound(part);
        }
        return decodedHeads();
    }

    @Test
    void whitespaceInsideAFieldLineIsNoFold() {
        assertThat(onlyHead("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1 \t 2\r\n\r\n")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"CONTENT-LENGTH: 1\r\nContent-Length: 1", "Content-Length: 1\r\ncontent-length: 2",
        "Content-length: 2\r\nX-A: b\r\ncOntent-Length: 2"})
    void severalContentLengthFieldsFailInHttp10(String fields) {
        assertThat(onlyHead("POST / HTTP/1.0\r\n" + fields + "\r\n\r\n")).isEqualTo(FrontendCodec.MANY_LENGTHS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Content-Length: 1,1", "Content-Lengthy: 1,1", "Content-Lengt: 1,1",
        "Content-Length: 1\r\nX-A: a,b", "Content-Type: a,b\r\nContent-Length: 1", "Content_Length: 1,1"})
    void commasOutsideTheContentLengthValueAreNotItsList(String fields) {
        String head = "POST / HTTP/1.0\r\n" + fields + "\r\n\r\n";

        String failure = onlyHead(head);

        assertThat(failure).isNotEqualTo(FrontendCodec.MANY_LENGTHS);
    }

    @Test
    void theHeaderSectionIsMeasuredWithItsLineEndings() {
        // "Host: a\r\n" and the final "\r\n": 11 bytes, of which Netty counts 7.
        channel = codec(11);
        assertThat(onlyHead(HEAD_OK)).isNull();
        channel.finishAndReleaseAll();

        channel = codec(10);
        assertThat(onlyHead(HEAD_OK)).isEqualTo("header section over 10 bytes");
        channel.finishAndReleaseAll();

        channel = codec(10);
        channel.writeInbound(Unpooled.copiedBuffer(HEAD_OK, StandardCharsets.US_ASCII));
        HttpRequest request = channel.readInbound();
        assertThat(request.decoderResult().cause()).isInstanceOf(TooLongHttpHeaderException.class);
        decodeAll("").forEach(ReferenceCountUtil::release);
    }

    @Test
    void theRequestLineIsNotCountedInTheHeaderSection() {
        channel = codec(11);

        assertThat(onlyHead("GET /a-long-path-that-is-longer-than-eleven-bytes HTTP/1.1\r\nHost: a\r\n\r\n")).isNull();
    }

    @Test
    void eachPipelinedRequestIsCheckedOnItsOwn() {
        channel = codec(11);
        String post = "POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\nx";

        assertThat(heads(HEAD_OK + HEAD_OK + HEAD_OK)).containsExactly(null, null, null);
        assertThat(heads("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  fold\r\n\r\n")).isNotNull();
        channel.finishAndReleaseAll();

        channel = codec(1024);
        assertThat(heads(post + post + "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\ny"))
                .containsExactly(null, null, null);
    }

    @Test
    void aMalformedHeadAfterAGoodOneFails() {
        assertThat(heads(HEAD_OK + "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"))
                .containsExactly(null, FrontendCodec.BAD_REQUEST_LINE);
    }

    @Test
    void aGoodHeadAfterABodyOfLineEndingsPasses() {
        String post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n\r\n\r\n";

        assertThat(heads(post + HEAD_OK)).containsExactly(null, null);
    }

    @Test
    void aBadChunkExtensionEndsTheBodyWithAFailureAndNothingAfterItIsDecoded() {
        channel.writeInbound(Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;a b\r\nhello\r\n0\r\n\r\n" + HEAD_OK, StandardCharsets.US_ASCII));

        HttpRequest request = channel.readInbound();
        assertThat(request.decoderResult().isSuccess()).isTrue();
        LastHttpContent end = channel.readInbound();
        assertThat(end.decoderResult().cause()).hasMessage(FrontendCodec.BAD_CHUNK_EXT);
        assertThat(end.content().readableBytes()).isZero();
        end.release();
        assertThat((Object) channel.readInbound()).isNull();

        channel.writeInbound(Unpooled.copiedBuffer(HEAD_OK, StandardCharsets.US_ASCII));
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void aGoodChunkedBodyIsDecodedAndTheNextRequestFollows() {
        List<Object> out = decodeAll("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;a=b\r\nhello\r\n0\r\n\r\n" + HEAD_OK);
        try {
            assertThat(out).hasSize(5);
            assertThat(((HttpContent) out.get(1)).content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
            assertThat(out.get(2)).isInstanceOf(LastHttpContent.class);
            assertThat(((LastHttpContent) out.get(2)).decoderResult().isSuccess()).isTrue();
            assertThat(((HttpRequest) out.get(3)).decoderResult().isSuccess()).isTrue();
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    @Test
    void aContentLengthBodyIsNotScannedAsChunks() {
        List<Object> out = decodeAll("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n5;a b\r\n" + HEAD_OK);
        try {
            assertThat(out).hasSize(4);
            assertThat(((LastHttpContent) out.get(1)).decoderResult().isSuccess()).isTrue();
            assertThat(((HttpRequest) out.get(2)).decoderResult().isSuccess()).isTrue();
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    @Test
    void chunkLinesOfALaterRequestAreCheckedFromTheirStart() {
        String chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        List<Object> out = decodeAll(chunked + "3\r\nabc\r\n0\r\n\r\n" + chunked + "2;x y\r\nab\r\n0\r\n\r\n");
        try {
            assertThat(out.stream().filter(HttpRequest.class::isInstance)).hasSize(2);
            LastHttpContent end = (LastHttpContent) out.get(out.size() - 1);
            assertThat(end.decoderResult().cause()).hasMessage(FrontendCodec.BAD_CHUNK_EXT);
            assertThat(out.subList(0, out.size() - 1)).allSatisfy(msg -> assertThat(
                    ((DecoderResultProvider) msg).decoderResult().isSuccess()).isTrue());
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    private List<Object> decodeAll(String bytes) {
        channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
        List<Object> out = new ArrayList<>();
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            out.add(msg);
        }
        return out;
    }

    @Test
    void theResponseToHeadCarriesNoBodyAndTheNextResponseDoes() {
        heads("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n" + HEAD_OK);

        String head = respond("hello");
        String get = respond("hello");

        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n").doesNotContain("hello");
        assertThat(get).startsWith("HTTP/1.1 200 OK\r\n").endsWith("\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    }

    @Test
    void anInterimResponseLeavesTheHeadRequestToTheFinalOne() {
        heads("HEAD / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n" + HEAD_OK);
        channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        assertThat(outbound()).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");

        assertThat(respond("hello")).doesNotContain("hello");
        assertThat(respond("hello")).contains("hello");
    }

    /** Writes a chunked 200 with the body and returns what the encoder sent. */
    private String respond(String body) {
        DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        response.headers().set("Transfer-Encoding", "chunked");
        channel.writeOutbound(response, new DefaultHttpContent(ascii(body)), new DefaultLastHttpContent());
        return outbound();
    }

    private String outbound() {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf buf = channel.readOutbound(); buf != null; buf = channel.readOutbound()) {
            sb.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        return sb.toString();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void headerNamesKeepTheirSpellingAndCommonOnesAreSharedInstances() {
        channel.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: b\r\nuser-agent: c\r\n"
                + "USER-AGENT: d\r\nX-Own: e\r\n\r\n", StandardCharsets.ISO_8859_1));
        HttpRequest request = channel.readInbound();
        List<String> names = new ArrayList<>();
        List<CharSequence> instances = new ArrayList<>();
        request.headers().iteratorCharSequence().forEachRemaining(e -> {
            names.add(e.getKey().toString());
            instances.add(e.getKey());
        });
        assertThat(names).containsExactly("Host", "User-Agent", "user-agent", "USER-AGENT", "X-Own");
        assertThat((Object) instances.get(1)).isSameAs(dev.portico.internal.http.HeaderNames.lookup(
                "User-Agent".getBytes(StandardCharsets.US_ASCII), 0, 10));
        assertThat((Object) instances.get(2)).isSameAs(dev.portico.internal.http.HeaderNames.lookup(
                "user-agent".getBytes(StandardCharsets.US_ASCII), 0, 10));
        ReferenceCountUtil.release(channel.readInbound());
    }
}
