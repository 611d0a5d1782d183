package dev.portico.config;

import dev.portico.policy.Headers;
import java.util.List;
import java.util.Objects;

/**
 * The {@code respond} policy: a fixed local response (a maintenance page, robots.txt), never forwarded.
 *
 * @param status the status, 200 to 599
 * @param body the body text (UTF-8)
 * @param contentType the {@code Content-Type}
 * @param headers more fields, with variables
 */
public record RespondPolicyConfig(int status, String body, String contentType, List<HeaderField> headers)
        implements PolicyConfig {
    /** The content type when none is given. */
    public static final String DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8";

    /** Checks the status and content type. */
    public RespondPolicyConfig {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status must be between 200 and 599, got " + status);
        }
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(contentType, "content_type");
        if (contentType.isEmpty() || !Headers.isFieldValue(contentType)) {
            throw new IllegalArgumentException("content_type is not a valid field value");
        }
        headers = List.copyOf(headers);
    }

    /**
     * @param status the status
     * @param body the body
     * @return the policy, as {@code text/plain; charset=utf-8} with no other fields
     */
    public static RespondPolicyConfig of(int status, String body) {
        return new RespondPolicyConfig(status, body, DEFAULT_CONTENT_TYPE, List.of());
    }

    @Override
    public String type() {
        return "respond";
    }
}
