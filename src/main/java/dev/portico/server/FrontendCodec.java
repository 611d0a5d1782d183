package dev.portico.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Netty's HTTP/1.1 server codec with one more rule: a request head with obs-fold (a header line continued on the
 * next line by leading whitespace, RFC 9112 section 5.2) is marked invalid. Netty's decoder joins such lines, and
 * after that the fold can no longer be seen, so the check looks at the head's bytes as the decoder consumes them.
 * The encoder pairs each final response with its request's method, as {@code HttpServerCodec} does, so the answer
 * to a HEAD never carries a body.
 */
final class FrontendCodec extends CombinedChannelDuplexHandler<FrontendCodec.Decoder, FrontendCodec.Encoder> {
    /** The message of the failure set on a request with obs-fold. */
    static final String OBS_FOLD = "obs-fold in request head";

    FrontendCodec(HttpDecoderConfig config) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        init(new Decoder(config, methods), new Encoder(methods));
    }

    static final class Decoder extends HttpRequestDecoder {
        private final ArrayDeque<HttpMethod> methods;
        /** True while the bytes being consumed belong to a request head (not a body). */
        private boolean inHead = true;
        private boolean afterLineFeed;
        private boolean foldSeen;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            int start = buffer.readerIndex();
            int before = out.size();
            super.decode(ctx, buffer, out);
            if (inHead) {
                scanHead(buffer, start, buffer.readerIndex());
            }
            for (int i = before; i < out.size(); i++) {
                Object msg = out.get(i);
                if (msg instanceof HttpRequest) {
                    HttpRequest request = (HttpRequest) msg;
                    methods.add(request.method());
                    if (foldSeen && request.decoderResult().isSuccess()) {
                        request.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(OBS_FOLD)));
                    }
                    inHead = false;
                    afterLineFeed = false;
                    foldSeen = false;
                }
                if (msg instanceof LastHttpContent) {
                    inHead = true;
                }
            }
        }

        /** Bytes [from, to) of the buffer were consumed as part of a head: look for LF followed by SP or HTAB. */
        private void scanHead(ByteBuf buffer, int from, int to) {
            for (int i = from; i < to; i++) {
                byte b = buffer.getByte(i);
                if (afterLineFeed && (b == ' ' || b == '\t')) {
                    foldSeen = true;
                }
                afterLineFeed = b == '\n';
            }
        }
    }

    static final class Encoder extends HttpResponseEncoder {
        private final ArrayDeque<HttpMethod> methods;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // interim: the final response is still to come
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }
}
