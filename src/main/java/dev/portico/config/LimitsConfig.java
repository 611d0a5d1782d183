package dev.portico.config;

/**
 * Size limits on client requests.
 *
 * @param maxRequestLine the longest request line (longer: 414)
 * @param maxHeaderSize the largest request head (larger: 431)
 * @param maxRequestBody the largest request body, 0 for unlimited (larger: 413)
 */
public record LimitsConfig(long maxRequestLine, long maxHeaderSize, long maxRequestBody) {
    /** Default {@code limits.max_request_line}: 8 KiB. */
    public static final long DEFAULT_MAX_REQUEST_LINE = 8 * 1024;
    /** Default {@code limits.max_header_size}: 64 KiB. */
    public static final long DEFAULT_MAX_HEADER_SIZE = 64 * 1024;
    /** Default {@code limits.max_request_body}: unlimited. */
    public static final long DEFAULT_MAX_REQUEST_BODY = 0;
    /** All defaults. */
    public static final LimitsConfig DEFAULTS = new LimitsConfig(DEFAULT_MAX_REQUEST_LINE, DEFAULT_MAX_HEADER_SIZE,
            DEFAULT_MAX_REQUEST_BODY);

    /** The head limits must fit Netty's decoder (an int) and leave room for a minimal request. */
    public LimitsConfig {
        ConfigValues.inRange(maxRequestLine, 64, Integer.MAX_VALUE, "max_request_line");
        ConfigValues.inRange(maxHeaderSize, 256, Integer.MAX_VALUE, "max_header_size");
        ConfigValues.inRange(maxRequestBody, 0, Long.MAX_VALUE, "max_request_body");
    }
}
