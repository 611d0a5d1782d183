package dev.portico.internal.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portico.testing.Decoding;
import dev.portico.testing.TextBody;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/** The encoders on their own: parts in, bytes out that the reference decoders read back exactly. */
class BodyTransformTest {
    @ParameterizedTest(name = "{0} level {1}")
    @CsvSource({"gzip,1", "gzip,5", "gzip,9", "br,0", "br,4", "br,11", "zstd,1", "zstd,3", "zstd,19"})
    void partsOfAnySizeAndKindDecodeBackToTheInput(String encoding, int level) {
        byte[] input = TextBody.of(level, 600 * 1024);
        BodyTransform t = Encodings.transform(encoding, level);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SplittableRandom random = new SplittableRandom(7);
        int at = 0;
        while (at < input.length) {
            int n = Math.min(input.length - at, random.nextInt(5) == 0 ? 0 : random.nextInt(70 * 1024));
            // Heap parts (a local response) and direct ones (from a socket), as the transforms get them.
            ByteBuf part = random.nextBoolean() ? Unpooled.wrappedBuffer(input, at, n)
                    : ByteBufAllocator.DEFAULT.directBuffer(n).writeBytes(input, at, n);
            drain(t.next(part), out);
            at += n;
            if (random.nextInt(4) == 0) {
                drain(t.flush(), out);
            }
        }
        drain(t.finish(), out);
        t.close();

        assertThat(Decoding.decode(encoding, out.toByteArray())).isEqualTo(input);
        assertThat(out.size()).as("compressed").isLessThan(input.length / 2);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void aFlushMakesEverythingGivenSoFarDecodable(String encoding) throws Exception {
        BodyTransform t = Encodings.transform(encoding, 5);
        TextBody text = new TextBody(3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream given = new ByteArrayOutputStream();
        for (int round = 0; round < 5; round++) {
            byte[] part = text.next(1000 + round * 3000);
            given.writeBytes(part);
            drain(t.next(Unpooled.wrappedBuffer(part)), out);
            drain(t.flush(), out);

            assertThat(Decoding.decodePrefix(encoding, out.toByteArray(), given.size())).as("round %d", round)
                    .isEqualTo(given.toByteArray());
        }
        ByteBuf nothing = t.flush();
        assertThat(nothing.readableBytes()).as("a flush with nothing new").isZero();
        nothing.release();
        t.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"gzip", "br", "zstd"})
    void closingWithoutFinishingReleasesEverythingAndMayBeRepeated(String encoding) {
        BodyTransform t = Encodings.transform(encoding, 3);
        t.next(Unpooled.wrappedBuffer(TextBody.of(1, 100_000))).release();
        t.close();
        t.close();
    }

    @Test
    void aWholeResponseGetsItsEncodedBodyAndExactLength() {
        byte[] body = TextBody.of(9, 50_000);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(body));
        r.headers().set("Transfer-Encoding", "chunked");

        FullHttpResponse encoded = BodyTransforms.whole(Encodings.transform("gzip", 5), r);

        assertThat(r.refCnt()).isZero();
        assertThat(encoded.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(encoded.headers().getInt("Content-Length")).isEqualTo(encoded.content().readableBytes());
        assertThat(Decoding.decode("gzip", ByteBufUtil.getBytes(encoded.content()))).isEqualTo(body);
        encoded.release();
    }

    @Test
    void anEncodingThatCannotLoadIsSkippedWithOneWarning() {
        Logger logger = (Logger) LoggerFactory.getLogger(Encodings.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        logger.addAppender(seen);
        Set<String> warned = new HashSet<>();
        try {
            for (int i = 0; i < 3; i++) {
                List<String> usable = Encodings.usable(List.of("zstd", "br", "gzip"),
                        e -> e.equals("zstd") ? new UnsatisfiedLinkError("no zstd-jni here") : null, warned);
                assertThat(usable).containsExactly("br", "gzip");
            }
        } finally {
            logger.detachAppender(seen);
        }
        assertThat(seen.list).singleElement().satisfies(e -> {
            assertThat(e.getLevel().toString()).isEqualTo("WARN");
            assertThat(e.getFormattedMessage()).contains("zstd").contains("no zstd-jni here");
        });
    }

    @Test
    void theNativeLibrariesLoadOnThisMachine() {
        assertThat(Encodings.usable(List.of("zstd", "br", "gzip"))).containsExactly("zstd", "br", "gzip");
    }

    private static void drain(ByteBuf b, ByteArrayOutputStream out) {
        try {
            out.writeBytes(ByteBufUtil.getBytes(b));
        } finally {
            b.release();
        }
    }
}
