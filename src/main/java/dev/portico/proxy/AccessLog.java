package dev.portico.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per exchange on the {@code portico.access} logger: client address, request line, status, response
 * body bytes, duration and upstream endpoint. The logback configuration writes it through an async appender, so
 * the event loop never waits for stdout.
 */
public final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("portico.access");

    private final boolean enabled;

    /** @param enabled whether lines are written at all */
    public AccessLog(boolean enabled) {
        this.enabled = enabled && LOG.isInfoEnabled();
    }

    /**
     * Writes one line.
     *
     * @param client the client's IP address
     * @param method the request method
     * @param target the request target as received
     * @param version the request's HTTP version
     * @param status the status sent, or 0 if none was
     * @param bytes response body bytes sent
     * @param durationNanos time from request head to the end of the exchange
     * @param upstream the backend address, or {@code null} if none was involved
     * @param attempts tries made (appended as {@code attempts=N} when more than one)
     * @param tls the TLS version and cipher suite, or {@code null} on a plain connection (nothing is appended)
     */
    public void log(String client, String method, String target, String version, int status, long bytes,
             long durationNanos, String upstream, int attempts, String tls) {
        if (!enabled) {
            return;
        }
        StringBuilder sb = new StringBuilder(128);
        sb.append(client).append(" \"").append(method).append(' ').append(target).append(' ').append(version)
                .append("\" ");
        if (status > 0) {
            sb.append(status);
        } else {
            sb.append('-');
        }
        sb.append(' ').append(bytes).append(' ').append(durationNanos / 1_000_000).append("ms ")
                .append(upstream == null ? "-" : upstream);
        if (attempts > 1) {
            sb.append(" attempts=").append(attempts);
        }
        if (tls != null) {
            sb.append(' ').append(tls);
        }
        LOG.info(sb.toString());
    }
}
