package dev.portico.policy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A response a policy answers a request with instead of the backend: a status, header fields and a small body
 * held in memory. Immutable; build with {@link #builder(int)}. Portico adds the framing fields ({@code
 * Content-Length}, {@code Connection}) and the request id itself, and drops the body of a response to
 * {@code HEAD}.
 */
public final class LocalResponse {
    private static final byte[] EMPTY = new byte[0];

    private final int status;
    private final List<Map.Entry<String, String>> headers;
    private final byte[] body;

    private LocalResponse(Builder b) {
        this.status = b.status;
        this.headers = List.copyOf(b.headers);
        this.body = b.body;
    }

    /**
     * @param status the status code, 200 to 599
     * @return a builder for a response with that status, no fields and no body
     */
    public static Builder builder(int status) {
        return new Builder(status);
    }

    /**
     * @param status the status code
     * @param text the body, sent as {@code text/plain; charset=utf-8}
     * @return a plain-text response
     */
    public static LocalResponse text(int status, String text) {
        return builder(status).header("Content-Type", "text/plain; charset=utf-8").body(text).build();
    }

    /** @return the status code */
    public int status() {
        return status;
    }

    /** @return the header fields in order, each entry one field line */
    public List<Map.Entry<String, String>> headers() {
        return headers;
    }

    /** @return a copy of the body */
    public byte[] body() {
        return body.clone();
    }

    /** @return the body's length in bytes */
    public int bodyLength() {
        return body.length;
    }

    /**
     * Copies the body into {@code target} without allocating.
     *
     * @param target where the body goes, at least {@link #bodyLength()} long
     */
    public void copyBody(byte[] target) {
        System.arraycopy(body, 0, target, 0, body.length);
    }

    /** Builds a {@link LocalResponse}. Not thread-safe. */
    public static final class Builder {
        private final int status;
        private final List<Map.Entry<String, String>> headers = new ArrayList<>(4);
        private byte[] body = EMPTY;

        private Builder(int status) {
            if (status < 200 || status > 599) {
                throw new IllegalArgumentException("status must be between 200 and 599, got " + status);
            }
            this.status = status;
        }

        /**
         * Appends a field line.
         *
         * @param name the field name, a token
         * @param value the value, without CR, LF or NUL
         * @return this
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (!Headers.isFieldName(name)) {
                throw new IllegalArgumentException("not a field name: \"" + name + "\"");
            }
            if (!Headers.isFieldValue(value)) {
                throw new IllegalArgumentException("field " + name + ": value has control characters");
            }
            headers.add(Map.entry(name, value));
            return this;
        }

        /**
         * @param text the body, encoded as UTF-8
         * @return this
         */
        public Builder body(String text) {
            this.body = Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /**
         * @param bytes the body (copied)
         * @return this
         */
        public Builder body(byte[] bytes) {
            this.body = Objects.requireNonNull(bytes, "bytes").clone();
            return this;
        }

        /** @return the response */
        public LocalResponse build() {
            return new LocalResponse(this);
        }
    }
}
