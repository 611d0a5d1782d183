package dev.portico.internal.upstream;

import io.netty.handler.codec.http.HttpObject;

/** What an upstream connection tells the exchange that borrowed it. All calls happen on the event loop. */
public interface UpstreamListener {
    /**
     * A decoded response part. The listener owns it and must release it.
     *
     * @param msg a response head or content
     */
    void onUpstreamMessage(HttpObject msg);

    /** A read from the socket was fully processed; read more if the response can move on. */
    void onUpstreamReadComplete();

    /** The connection can take more writes. */
    void onUpstreamWritable();

    /**
     * The connection closed or failed.
     *
     * @param cause the error, or {@code null} for a plain close
     */
    void onUpstreamClosed(Throwable cause);

    /** The deadline set with {@link UpstreamConnection#startResponseDeadline} passed without a response head. */
    void onUpstreamResponseTimeout();

    /** Nothing was read or written for {@code timeouts.idle}. */
    void onUpstreamIdle();
}
