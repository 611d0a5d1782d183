package dev.portico.internal.server;

import dev.portico.internal.policy.PolicyRun;
import dev.portico.internal.proxy.ExchangeHost;
import dev.portico.internal.proxy.ProxyExchange;
import dev.portico.internal.proxy.ProxyFailure;
import dev.portico.internal.proxy.WebSocketUpgrade;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetAddress;
import java.net.SocketAddress;

/**
 * What a protocol handler (HTTP/1.1 connection, HTTP/2 or HTTP/3 stream) gives {@link Admission}: the few
 * things that differ by protocol. Everything that decides (validation, routing, redirects, limits, policies, the
 * request id, the access-log line and the metrics of a refusal) is {@link Admission}'s alone. All calls on the
 * connection's event loop.
 */
interface RequestSide extends ExchangeHost {
    /** @return the runtime */
    ProxyRuntime runtime();

    /** @return the listener's redirect to HTTPS, or {@code null} */
    HttpsRedirect redirect();

    /** @return the connection's local address, for the redirect's port */
    SocketAddress localAddress();

    /** @return the connection's client: the PROXY protocol's source, else its peer */
    InetAddress peer();

    /** @return {@link #peer()} as text */
    String peerIp();

    /** @return whether the request came over TLS */
    boolean secure();

    /** @return whether the client can still be answered (HTTP/2 and HTTP/3: the stream is open) */
    default boolean clientOpen() {
        return clientChannel().isActive();
    }

    /**
     * Brings a valid head to the form the rest expects (HTTP/1.1: a higher minor version is handled as 1.1;
     * HTTP/2: the version is {@code HTTP/2.0}).
     *
     * @param request the head
     */
    void normalize(HttpRequest request);

    /**
     * Call before the headers are rewritten.
     *
     * @param request a validated head
     * @return whether it asks for a WebSocket Portico tunnels: an HTTP/1.1 upgrade, or on HTTP/2 an extended CONNECT
     */
    default boolean webSocket(HttpRequest request) {
        return WebSocketUpgrade.requested(request);
    }

    /**
     * @param request the head
     * @return whether the client still sends a body after the head
     */
    boolean bodyFollows(HttpRequest request);

    /**
     * Logs a refused request the way this protocol does (HTTP/2: one WARN line per connection, the rest at DEBUG);
     * the answer, its count and its access-log line are {@link Admission}'s.
     *
     * @param failure why
     * @param request the head
     */
    void logRefusal(ProxyFailure failure, HttpRequest request);

    /**
     * Sheds a request because too many response bytes are held, if the protocol has a way of its own.
     *
     * @param request the head
     * @return whether it was shed (HTTP/2: RST_STREAM REFUSED_STREAM, nothing was processed); {@code false} to have
     *     it answered with 503
     */
    boolean shed(HttpRequest request);

    /**
     * Writes a response Portico made (a redirect, a policy's answer), already through the response phases; the
     * access-log line and metrics are written by the caller.
     *
     * @param request the head
     * @param response the response
     * @param close whether the connection closes after it
     */
    void answer(HttpRequest request, FullHttpResponse response, boolean close);

    /**
     * Sends {@code 100 Continue} if the protocol and the request call for it.
     *
     * @param request the head, which carries {@code Expect: 100-continue}
     */
    void sendContinue(HttpRequest request);

    /**
     * The request waits for its policies (a suspension): hold its body, read no more; or, with {@code null}, the
     * wait is over.
     *
     * @param run the run that waits, or {@code null}
     */
    void hold(PolicyRun run);

    /**
     * The exchange of an admitted request: keep it as the current one and start it.
     *
     * @param exchange the exchange
     * @param requestId its request id, or {@code null}
     */
    void begin(ProxyExchange exchange, String requestId);
}
