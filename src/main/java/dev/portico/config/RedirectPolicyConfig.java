package dev.portico.config;

import dev.portico.policy.Template;
import java.util.Objects;

/**
 * The {@code redirect} policy: every request of the route is answered with a redirect, never forwarded.
 *
 * @param to the {@code Location}, with variables (e.g. {@code https://new.example${path}${query}})
 * @param status 301, 302, 303, 307 or 308
 */
public record RedirectPolicyConfig(Template to, int status) implements PolicyConfig {
    /** The status when none is given. */
    public static final int DEFAULT_STATUS = 302;

    /** Checks the status. */
    public RedirectPolicyConfig {
        Objects.requireNonNull(to, "to");
        if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
            throw new IllegalArgumentException("status must be 301, 302, 303, 307 or 308, got " + status);
        }
    }

    /**
     * @param to the location template
     * @param status the status
     * @return the policy
     */
    public static RedirectPolicyConfig of(String to, int status) {
        return new RedirectPolicyConfig(Template.parse(to), status);
    }

    @Override
    public String type() {
        return "redirect";
    }
}
