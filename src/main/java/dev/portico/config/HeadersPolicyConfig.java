package dev.portico.config;

import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The {@code headers} policy: rules on the request's fields (what the backend gets) and on the response's (what the
 * client gets, Portico's own error responses included).
 *
 * @param request the request rules
 * @param response the response rules
 */
public record HeadersPolicyConfig(HeaderRulesConfig request, HeaderRulesConfig response) implements PolicyConfig {
    /** Checks presence. */
    public HeadersPolicyConfig {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(response, "response");
    }

    /**
     * @param request builds the request rules
     * @param response builds the response rules
     * @return the policy
     */
    public static HeadersPolicyConfig of(UnaryOperator<HeaderRulesConfig.Builder> request,
                                         UnaryOperator<HeaderRulesConfig.Builder> response) {
        return new HeadersPolicyConfig(request.apply(HeaderRulesConfig.builder()).build(),
                response.apply(HeaderRulesConfig.builder()).build());
    }

    @Override
    public String type() {
        return "headers";
    }
}
