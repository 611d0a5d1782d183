package dev.portico.config;

/**
 * Limits on what one client may ask of the proxy.
 *
 * @param maxRequestLine the longest request line in bytes (longer: 414)
 * @param maxHeaderSize the largest request header section in bytes, as sent: the field lines with their CRLFs and
 *     the empty line that ends the head (larger: 431); the request line has its own limit
 * @param maxRequestBody the largest request body in bytes, 0 for unlimited (larger: 413)
 * @param maxHeaders the most header fields in a request head (more: 431)
 * @param maxConnections the most client connections open at once per listener, 0 for no limit; more are closed
 *     on accept
 * @param maxRequestsPerConnection the most requests served on one client connection, 0 for no limit; the last
 *     response closes it
 * @param maxMethodLength the longest request method in bytes (longer: 501)
 * @param maxBufferedBytes the most response bytes held for clients that have not taken them yet, across all
 *     connections, 0 for no limit; over it, new requests get 503 (HTTP/2: REFUSED_STREAM)
 */
public record LimitsConfig(long maxRequestLine, long maxHeaderSize, long maxRequestBody, int maxHeaders,
                           int maxConnections, int maxRequestsPerConnection, int maxMethodLength,
                           long maxBufferedBytes) {
    /** Default {@code limits.max_request_line}: 8 KiB. */
    public static final long DEFAULT_MAX_REQUEST_LINE = 8 * 1024;
    /** Default {@code limits.max_header_size}: 64 KiB. */
    public static final long DEFAULT_MAX_HEADER_SIZE = 64 * 1024;
    /** Default {@code limits.max_request_body}: unlimited. */
    public static final long DEFAULT_MAX_REQUEST_BODY = 0;
    /** Default {@code limits.max_headers}: 100, as Apache httpd's LimitRequestFields. */
    public static final int DEFAULT_MAX_HEADERS = 100;
    /** Default {@code limits.max_connections}: 10,000 per listener. */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    /** Default {@code limits.max_requests_per_connection}: 1,000, as nginx's keepalive_requests. */
    public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = 1000;
    /**
     * Default {@code limits.max_method_length}: 32 bytes. The longest registered method
     * ({@code UPDATEREDIRECTREF}) has 17; nginx refuses methods over 32 bytes too (as an invalid request).
     */
    public static final int DEFAULT_MAX_METHOD_LENGTH = 32;
    /**
     * Default {@code limits.max_buffered_bytes}: 64 MiB, a quarter of the 256 MiB of direct memory
     * {@code bin/portico} gives, so buffers for exchanges under way and the admin listener keep room.
     */
    public static final long DEFAULT_MAX_BUFFERED_BYTES = 64L << 20;
    /** All defaults. */
    public static final LimitsConfig DEFAULTS = new LimitsConfig(DEFAULT_MAX_REQUEST_LINE, DEFAULT_MAX_HEADER_SIZE,
            DEFAULT_MAX_REQUEST_BODY);

    /** Every value must lie in the range {@link #check} gives for its key. */
    public LimitsConfig {
        checkNamed("max_request_line", maxRequestLine);
        checkNamed("max_header_size", maxHeaderSize);
        checkNamed("max_request_body", maxRequestBody);
        checkNamed("max_headers", maxHeaders);
        checkNamed("max_connections", maxConnections);
        checkNamed("max_requests_per_connection", maxRequestsPerConnection);
        checkNamed("max_method_length", maxMethodLength);
        checkNamed("max_buffered_bytes", maxBufferedBytes);
    }

    /**
     * The limits with the default {@code max_method_length} and {@code max_buffered_bytes}.
     *
     * @param maxRequestLine the longest request line in bytes
     * @param maxHeaderSize the largest request header section in bytes
     * @param maxRequestBody the largest request body in bytes, 0 for unlimited
     * @param maxHeaders the most header fields in a request head
     * @param maxConnections the most client connections per listener, 0 for no limit
     * @param maxRequestsPerConnection the most requests on one client connection, 0 for no limit
     */
    public LimitsConfig(long maxRequestLine, long maxHeaderSize, long maxRequestBody, int maxHeaders,
                        int maxConnections, int maxRequestsPerConnection) {
        this(maxRequestLine, maxHeaderSize, maxRequestBody, maxHeaders, maxConnections, maxRequestsPerConnection,
                DEFAULT_MAX_METHOD_LENGTH, DEFAULT_MAX_BUFFERED_BYTES);
    }

    /**
     * @param value {@code max_method_length}
     * @return a copy of these limits with that value
     */
    public LimitsConfig withMaxMethodLength(int value) {
        return new LimitsConfig(maxRequestLine, maxHeaderSize, maxRequestBody, maxHeaders, maxConnections,
                maxRequestsPerConnection, value, maxBufferedBytes);
    }

    /**
     * @param value {@code max_buffered_bytes}, 0 for no limit
     * @return a copy of these limits with that value
     */
    public LimitsConfig withMaxBufferedBytes(long value) {
        return new LimitsConfig(maxRequestLine, maxHeaderSize, maxRequestBody, maxHeaders, maxConnections,
                maxRequestsPerConnection, maxMethodLength, value);
    }

    /**
     * The size limits, with the defaults for the counts.
     *
     * @param maxRequestLine the longest request line in bytes
     * @param maxHeaderSize the largest request head in bytes
     * @param maxRequestBody the largest request body in bytes, 0 for unlimited
     */
    public LimitsConfig(long maxRequestLine, long maxHeaderSize, long maxRequestBody) {
        this(maxRequestLine, maxHeaderSize, maxRequestBody, DEFAULT_MAX_HEADERS, DEFAULT_MAX_CONNECTIONS,
                DEFAULT_MAX_REQUESTS_PER_CONNECTION);
    }

    private static void checkNamed(String key, long value) {
        try {
            check(key, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " " + e.getMessage());
        }
    }

    /**
     * Validates one value by its YAML key. The head limits must fit Netty's decoder (an int) and leave room for a
     * minimal request.
     *
     * @param key the key under {@code limits}
     * @param value the value
     * @throws IllegalArgumentException if it is out of range
     */
    public static void check(String key, long value) {
        long min;
        long max;
        switch (key) {
            case "max_request_line" -> { min = 64; max = Integer.MAX_VALUE; }
            case "max_header_size" -> { min = 256; max = Integer.MAX_VALUE; }
            case "max_request_body" -> { min = 0; max = Long.MAX_VALUE; }
            case "max_headers" -> { min = 1; max = 1_000_000; }
            case "max_requests_per_connection" -> { min = 0; max = Integer.MAX_VALUE; }
            case "max_connections" -> { min = 0; max = Integer.MAX_VALUE; }
            case "max_method_length" -> { min = 7; max = 1024; }
            case "max_buffered_bytes" -> { min = 0; max = Long.MAX_VALUE; }
            default -> throw new IllegalArgumentException("unknown limit " + key);
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException("must be between " + min + " and " + max + ", got " + value);
        }
    }

    /** @return a builder starting from {@link #DEFAULTS} */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /**
     * Builds {@link LimitsConfig}; each method sets the {@code limits} key of its name, the others keep their
     * defaults. {@link #build()} validates each value with {@link #check}. Not thread-safe.
     */
    public static final class Builder {
        private long maxRequestLine;
        private long maxHeaderSize;
        private long maxRequestBody;
        private int maxHeaders;
        private int maxConnections;
        private int maxRequestsPerConnection;
        private int maxMethodLength;
        private long maxBufferedBytes;

        Builder(LimitsConfig from) {
            maxRequestLine = from.maxRequestLine;
            maxHeaderSize = from.maxHeaderSize;
            maxRequestBody = from.maxRequestBody;
            maxHeaders = from.maxHeaders;
            maxConnections = from.maxConnections;
            maxRequestsPerConnection = from.maxRequestsPerConnection;
            maxMethodLength = from.maxMethodLength;
            maxBufferedBytes = from.maxBufferedBytes;
        }

        /**
         * @param bytes {@code max_request_line}: the longest request line (longer: 414)
         * @return this
         */
        public Builder maxRequestLine(long bytes) {
            maxRequestLine = bytes;
            return this;
        }

        /**
         * @param bytes {@code max_header_size}: the largest request header section (larger: 431)
         * @return this
         */
        public Builder maxHeaderSize(long bytes) {
            maxHeaderSize = bytes;
            return this;
        }

        /**
         * @param bytes {@code max_request_body}: the largest request body, 0 for unlimited (larger: 413)
         * @return this
         */
        public Builder maxRequestBody(long bytes) {
            maxRequestBody = bytes;
            return this;
        }

        /**
         * @param count {@code max_headers}: the most header fields in a request head (more: 431)
         * @return this
         */
        public Builder maxHeaders(int count) {
            maxHeaders = count;
            return this;
        }

        /**
         * @param count {@code max_connections}: client connections open at once per listener, 0 for no limit
         * @return this
         */
        public Builder maxConnections(int count) {
            maxConnections = count;
            return this;
        }

        /**
         * @param count {@code max_requests_per_connection}: requests served on one client connection, 0 for no
         *     limit
         * @return this
         */
        public Builder maxRequestsPerConnection(int count) {
            maxRequestsPerConnection = count;
            return this;
        }

        /**
         * @param bytes {@code max_method_length}: the longest request method (longer: 501)
         * @return this
         */
        public Builder maxMethodLength(int bytes) {
            maxMethodLength = bytes;
            return this;
        }

        /**
         * @param bytes {@code max_buffered_bytes}: response bytes held for slow clients across all connections,
         *     0 for no limit
         * @return this
         */
        public Builder maxBufferedBytes(long bytes) {
            maxBufferedBytes = bytes;
            return this;
        }

        /**
         * @return the limits
         * @throws IllegalArgumentException if a value is out of range
         */
        public LimitsConfig build() {
            return new LimitsConfig(maxRequestLine, maxHeaderSize, maxRequestBody, maxHeaders, maxConnections,
                    maxRequestsPerConnection, maxMethodLength, maxBufferedBytes);
        }
    }
}
