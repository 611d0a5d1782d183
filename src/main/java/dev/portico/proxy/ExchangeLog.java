package dev.portico.proxy;

import dev.portico.balance.Endpoint;
import dev.portico.proxy.ProxyFailure.Kind;
import dev.portico.route.Route;
import io.netty.handler.codec.http.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What one exchange writes to the logs: its access-log line, and one line when it fails. */
final class ExchangeLog {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);

    private final ExchangeHost host;
    private final AccessLog accessLog;
    private final HttpRequest request;
    private final String clientAddress;
    private final Route route;
    private final long startNanos = System.nanoTime();

    ExchangeLog(ExchangeHost host, AccessLog accessLog, HttpRequest request, String clientAddress, Route route) {
        this.host = host;
        this.accessLog = accessLog;
        this.request = request;
        this.clientAddress = clientAddress;
        this.route = route;
    }

    /**
     * The access-log line: {@code status} 0 when none was sent.
     *
     * @param endpoint the endpoint of the last try, or null if none was tried
     * @param attempts the tries made
     */
    void access(int status, long responseBytes, Endpoint endpoint, int attempts) {
        accessLog.log(clientAddress, request.method().name(), request.uri(), request.protocolVersion().text(),
                status, responseBytes, System.nanoTime() - startNanos, endpoint == null ? null : endpoint.text(),
                attempts, host.tlsSummary());
    }

    /** One WARN line per failed exchange (DEBUG when the client went away: nothing to fix on our side). */
    void failed(ProxyFailure failure, Endpoint endpoint) {
        if (failure.kind() != Kind.CLIENT_ABORTED) {
            LOG.warn("{} {} {} failed: {} ({}) route={} upstream={} endpoint={}", id(), request.method(),
                    request.uri(), failure.kind(), failure.getMessage(), route.config().path(),
                    route.upstream().name(), endpoint == null ? "-" : endpoint.text());
        } else if (LOG.isDebugEnabled()) {
            LOG.debug("{} {} {}", id(), failure.kind(), failure.getMessage());
        }
    }

    void retrying(Endpoint endpoint) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} pooled connection to {} was closed by the backend; retrying on a new one", id(), endpoint);
        }
    }

    void retry(Endpoint endpoint, String why, int tries) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} try {} on {} failed ({}); retrying", id(), tries, endpoint, why);
        }
    }

    /** The exchange id for logs: the client connection's id and the request's number on it. */
    private String id() {
        return host.clientChannel().id().asShortText() + "#" + host.requestNumber();
    }
}
