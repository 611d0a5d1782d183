package dev.portico.internal.upstream;

import dev.portico.internal.http.HeaderNames;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;

/**
 * The backend side's HTTP/1.1 codec: Netty's request encoder and response decoder, paired by method (a response to
 * HEAD has no body) as {@code HttpClientCodec} does, and with the decoder's unread bytes visible, so a connection
 * holding part of an unexpected response (say, a body sent with a HEAD response) is never pooled.
 */
final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.Decoder, UpstreamCodec.Encoder> {

    UpstreamCodec(HttpDecoderConfig config) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        init(new Decoder(config, methods), new Encoder(methods));
    }

    /** @return bytes received but not yet decoded into a message */
    int undecodedBytes() {
        return inboundHandler().undecoded();
    }

    static final class Decoder extends HttpResponseDecoder {
        private final ArrayDeque<HttpMethod> methods;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
        }

        int undecoded() {
            return actualReadableBytes();
        }

        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString common = HeaderNames.lookup(sb, start, length);
            return common != null ? common : super.splitHeaderName(sb, start, length);
        }

        @Override
        protected boolean isContentAlwaysEmpty(io.netty.handler.codec.http.HttpMessage msg) {
            HttpResponse response = (HttpResponse) msg;
            if (response.status().code() == 101) {
                return true; // what follows a 101 is the new protocol, never a body (Netty assumes one for Hixie-76)
            }
            if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // interim: its request still waits for the final answer
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }
    }

    static final class Encoder extends HttpRequestEncoder {
        private final ArrayDeque<HttpMethod> methods;

        Encoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpRequest) {
                methods.add(((HttpRequest) msg).method());
            }
            super.write(ctx, msg, promise);
        }
    }
}
