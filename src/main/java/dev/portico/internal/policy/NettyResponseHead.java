package dev.portico.internal.policy;

import dev.portico.policy.Headers;
import dev.portico.policy.ResponseHead;
import io.netty.handler.codec.http.HttpResponse;

/** {@link ResponseHead} over a Netty response head. */
final class NettyResponseHead implements ResponseHead {
    private final HttpResponse response;
    private final boolean local;
    private Headers headers;

    NettyResponseHead(HttpResponse response, boolean local) {
        this.response = response;
        this.local = local;
    }

    /** @return the Netty head, for built-in policies that change its framing (compress) */
    HttpResponse response() {
        return response;
    }

    @Override
    public int status() {
        return response.status().code();
    }

    @Override
    public Headers headers() {
        if (headers == null) {
            headers = new NettyHeaders(response.headers());
        }
        return headers;
    }

    @Override
    public boolean local() {
        return local;
    }
}
