package dev.portico.internal.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import java.util.List;

/**
 * Netty's server frame codec, with a decoder that keeps a client's malformed request head from costing it the
 * connection. Netty resets a stream whose header block fails validation (a header name with a space, say) before
 * the stream exists, so the DATA frames the client sent after that head name a stream that "does not exist" and
 * close the connection with PROTOCOL_ERROR, cutting every other stream. RFC 9113 section 5.1 says frames on a stream
 * the server reset are not an error; here the stream is recorded as opened and closed, so those frames are ignored
 * (answered, as on any closed stream, with RST_STREAM STREAM_CLOSED at most).
 */
final class Http2CodecBuilder extends Http2FrameCodecBuilder {
    Http2CodecBuilder() {
        server(true);
    }

    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                    Http2Settings initialSettings) {
        return super.build(new HeadErrorDecoder(decoder), encoder, initialSettings);
    }

    private static final class HeadErrorDecoder extends DecoratingHttp2ConnectionDecoder {
        HeadErrorDecoder(Http2ConnectionDecoder delegate) {
            super(delegate);
        }

        @Override
        public void decodeFrame(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Http2Exception {
            try {
                super.decodeFrame(ctx, in, out);
            } catch (Http2Exception.StreamException e) {
                if (!(e instanceof Http2Exception.HeaderListSizeException)) { // Netty opens that stream for its 431
                    recordAsClosed(e.streamId());
                }
                throw e; // Netty resets the stream with the error's code
            }
        }

        private void recordAsClosed(int id) {
            Http2Connection c = connection();
            Http2Connection.Endpoint<?> remote = c.remote();
            if (c.stream(id) != null || c.streamMayHaveExisted(id) || !remote.isValidStreamId(id)
                    || !remote.canOpenStream() || c.goAwaySent()) {
                return;
            }
            try {
                remote.createStream(id, true).close();
            } catch (Http2Exception e) {
                // a stream id out of order: the frames that follow are the client's protocol error
            }
        }
    }
}
