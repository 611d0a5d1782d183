package dev.portico.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits on what one HTTP/2 client connection may ask of the proxy; most map to Netty's decoder protections.
 *
 * @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS: streams open at once per connection; more are refused
 *     (RST_STREAM REFUSED_STREAM)
 * @param maxHeaderListSize SETTINGS_MAX_HEADER_LIST_SIZE in bytes: a larger request head gets 431 on its stream,
 *     and one far larger (a quarter more) closes the connection
 * @param maxResets stream resets (RST_STREAM) a client may send per {@code resetWindow}, and resets its malformed
 *     frames or unfinished requests may make Portico send, whatever their code; more close the connection with GOAWAY ENHANCE_YOUR_CALM (Rapid Reset,
 *     CVE-2023-44487; MadeYouReset, CVE-2025-8671)
 * @param resetWindow the window {@code maxResets} counts in, whole seconds
 * @param maxSmallContinuationFrames CONTINUATION frames with little payload a header block may have; more close the
 *     connection (CONTINUATION flood)
 * @param maxQueuedControlFrames control frames (SETTINGS and PING acknowledgements, RST_STREAM) queued for a client
 *     that does not read them; more close the connection (CVE-2019-9512, CVE-2019-9515). A frame counts until it is
 *     written to the socket, which for the frames of one event-loop round is at the round's end, so keep this well
 *     above {@code maxConcurrentStreams}
 * @param maxControlFramesPerSecond frames carrying no request a client may send per second (PING, SETTINGS and
 *     their acknowledgements, PRIORITY, unknown types, WINDOW_UPDATE beyond two per DATA frame sent); more close the
 *     connection with GOAWAY ENHANCE_YOUR_CALM
 */
public record Http2Config(int maxConcurrentStreams, long maxHeaderListSize, int maxResets, Duration resetWindow,
                          int maxSmallContinuationFrames, int maxQueuedControlFrames, int maxControlFramesPerSecond) {
    /** Default {@code http2.max_concurrent_streams}: 100, as nginx and Netty. */
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;
    /** Default {@code http2.max_header_list_size}: 64 KiB, as {@code limits.max_header_size}. */
    public static final long DEFAULT_MAX_HEADER_LIST_SIZE = 64 * 1024;
    /** Default {@code http2.max_resets}: 200 per window, Netty's default for servers. */
    public static final int DEFAULT_MAX_RESETS = 200;
    /** Default {@code http2.reset_window}: 30 seconds. */
    public static final Duration DEFAULT_RESET_WINDOW = Duration.ofSeconds(30);
    /** Default {@code http2.max_small_continuation_frames}: 16, Netty's default. */
    public static final int DEFAULT_MAX_SMALL_CONTINUATION_FRAMES = 16;
    /** Default {@code http2.max_queued_control_frames}: 10,000, Netty's default. */
    public static final int DEFAULT_MAX_QUEUED_CONTROL_FRAMES = 10_000;
    /** Default {@code http2.max_control_frames_per_second}: 100. */
    public static final int DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND = 100;
    /** All defaults. */
    public static final Http2Config DEFAULTS = new Http2Config(DEFAULT_MAX_CONCURRENT_STREAMS,
            DEFAULT_MAX_HEADER_LIST_SIZE, DEFAULT_MAX_RESETS, DEFAULT_RESET_WINDOW,
            DEFAULT_MAX_SMALL_CONTINUATION_FRAMES, DEFAULT_MAX_QUEUED_CONTROL_FRAMES,
            DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND);

    /** Every value must lie in the range {@link #check} gives for its key. */
    public Http2Config {
        checkNamed("max_concurrent_streams", maxConcurrentStreams);
        checkNamed("max_header_list_size", maxHeaderListSize);
        checkNamed("max_resets", maxResets);
        Objects.requireNonNull(resetWindow, "resetWindow");
        try {
            checkResetWindow(resetWindow);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reset_window " + e.getMessage());
        }
        checkNamed("max_small_continuation_frames", maxSmallContinuationFrames);
        checkNamed("max_queued_control_frames", maxQueuedControlFrames);
        checkNamed("max_control_frames_per_second", maxControlFramesPerSecond);
    }

    private static void checkNamed(String key, long value) {
        try {
            check(key, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " " + e.getMessage());
        }
    }

    /**
     * @param window a value for {@code reset_window}
     * @throws IllegalArgumentException unless it is whole seconds from 1s to 1h (Netty counts in seconds)
     */
    public static void checkResetWindow(Duration window) {
        if (window.toMillis() < 1000 || window.toMillis() % 1000 != 0 || window.toSeconds() > 3600) {
            throw new IllegalArgumentException("must be whole seconds between 1s and 1h, got "
                    + window.toMillis() + "ms");
        }
    }

    /**
     * Validates one numeric value by its YAML key.
     *
     * @param key the key under {@code http2}
     * @param value the value
     * @throws IllegalArgumentException if it is out of range
     */
    public static void check(String key, long value) {
        long min;
        long max = Integer.MAX_VALUE;
        switch (key) {
            case "max_concurrent_streams", "max_resets", "max_small_continuation_frames",
                    "max_queued_control_frames", "max_control_frames_per_second" -> min = 1;
            case "max_header_list_size" -> min = 1024;
            default -> throw new IllegalArgumentException("unknown http2 limit " + key);
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
     * Builds {@link Http2Config}; each method sets the {@code http2} key of its name, the others keep their
     * defaults. {@link #build()} validates with {@link #check} and {@link #checkResetWindow}. Not thread-safe.
     */
    public static final class Builder {
        private int maxConcurrentStreams;
        private long maxHeaderListSize;
        private int maxResets;
        private Duration resetWindow;
        private int maxSmallContinuationFrames;
        private int maxQueuedControlFrames;
        private int maxControlFramesPerSecond;

        Builder(Http2Config from) {
            maxConcurrentStreams = from.maxConcurrentStreams;
            maxHeaderListSize = from.maxHeaderListSize;
            maxResets = from.maxResets;
            resetWindow = from.resetWindow;
            maxSmallContinuationFrames = from.maxSmallContinuationFrames;
            maxQueuedControlFrames = from.maxQueuedControlFrames;
            maxControlFramesPerSecond = from.maxControlFramesPerSecond;
        }

        /**
         * @param count {@code max_concurrent_streams}: streams open at once per connection
         * @return this
         */
        public Builder maxConcurrentStreams(int count) {
            maxConcurrentStreams = count;
            return this;
        }

        /**
         * @param bytes {@code max_header_list_size}: the largest request head (larger: 431 on its stream)
         * @return this
         */
        public Builder maxHeaderListSize(long bytes) {
            maxHeaderListSize = bytes;
            return this;
        }

        /**
         * @param count {@code max_resets}: stream resets allowed per {@code reset_window}
         * @return this
         */
        public Builder maxResets(int count) {
            maxResets = count;
            return this;
        }

        /**
         * @param value {@code reset_window}: whole seconds, 1s to 1h
         * @return this
         */
        public Builder resetWindow(Duration value) {
            resetWindow = value;
            return this;
        }

        /**
         * @param count {@code max_small_continuation_frames}: small CONTINUATION frames one header block may have
         * @return this
         */
        public Builder maxSmallContinuationFrames(int count) {
            maxSmallContinuationFrames = count;
            return this;
        }

        /**
         * @param count {@code max_queued_control_frames}: control frames queued for a client that does not read
         * @return this
         */
        public Builder maxQueuedControlFrames(int count) {
            maxQueuedControlFrames = count;
            return this;
        }

        /**
         * @param count {@code max_control_frames_per_second}: frames carrying no request a client may send per
         *     second
         * @return this
         */
        public Builder maxControlFramesPerSecond(int count) {
            maxControlFramesPerSecond = count;
            return this;
        }

        /**
         * @return the HTTP/2 limits
         * @throws IllegalArgumentException if a value is out of range
         */
        public Http2Config build() {
            return new Http2Config(maxConcurrentStreams, maxHeaderListSize, maxResets, resetWindow,
                    maxSmallContinuationFrames, maxQueuedControlFrames, maxControlFramesPerSecond);
        }
    }
}
