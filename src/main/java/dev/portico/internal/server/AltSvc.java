package dev.portico.internal.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.AttributeKey;

/**
 * Advertises a listener's HTTP/3 endpoint on its HTTP/1.1 and HTTP/2 responses (RFC 7838): {@code Alt-Svc:
 * h3=":PORT"; ma=86400}. It sits right after the HTTP codec (on an HTTP/2 stream, after the stream's codec), so
 * every response head passes it: proxied, Portico's own answers and errors alike. Portico's value replaces a
 * backend's, since the client's origin is Portico.
 */
@ChannelHandler.Sharable
final class AltSvc extends ChannelOutboundHandlerAdapter {
    /** On a client connection of a listener that serves HTTP/3: the stage to add to its HTTP pipelines. */
    static final AttributeKey<AltSvc> KEY = AttributeKey.valueOf("portico.altSvc");
    /** How long clients may remember the advertisement, in seconds (RFC 7838's {@code ma}). */
    static final long MAX_AGE = 86400;

    private final String value;

    /** @param port the UDP port HTTP/3 is served on */
    AltSvc(int port) {
        this.value = "h3=\":" + port + "\"; ma=" + MAX_AGE;
    }

    /** @return the header's value */
    String value() {
        return value;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse r && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
            r.headers().set(HttpHeaderNames.ALT_SVC, value);
        }
        ctx.write(msg, promise);
    }
}
