package dev.portico.config;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What makes a running Portico observable and changeable: the admin endpoint, request ids, trace context, reload.
 *
 * @param adminListen the admin endpoint's address ({@code admin.listen}), or {@code null} for none (the default)
 * @param requestIdEnabled whether request ids are propagated and generated ({@code request_id.enabled})
 * @param requestIdHeader the request id field ({@code request_id.header})
 * @param generateTraceparent whether a {@code traceparent} is started for requests without one
 *     ({@code tracing.generate})
 * @param watch whether a change to the configuration file reloads it ({@code reload.watch})
 */
public record OperationsConfig(ListenAddress adminListen, boolean requestIdEnabled, String requestIdHeader,
                               boolean generateTraceparent, boolean watch) {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** Default {@code request_id.header}. */
    public static final String DEFAULT_REQUEST_ID_HEADER = "X-Request-Id";
    /** The defaults: no admin endpoint, request ids in X-Request-Id, no generated traceparent, no file watch. */
    public static final OperationsConfig DEFAULTS = new OperationsConfig(null, true, DEFAULT_REQUEST_ID_HEADER,
            false, false);

    /** Validates the header name (an RFC 9110 token). */
    public OperationsConfig {
        Objects.requireNonNull(requestIdHeader, "requestIdHeader");
        if (!TOKEN.matcher(requestIdHeader).matches()) {
            throw new IllegalArgumentException("not a valid header field name: \"" + requestIdHeader + "\"");
        }
    }
}
