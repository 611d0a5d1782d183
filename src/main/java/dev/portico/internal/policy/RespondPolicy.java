package dev.portico.internal.policy;

import dev.portico.config.HeaderField;
import dev.portico.config.RespondPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;

/** The {@code respond} policy: a fixed local response; built once unless its fields hold variables. */
final class RespondPolicy implements Policy {
    private final RespondPolicyConfig config;
    private final Decision constant;

    RespondPolicy(RespondPolicyConfig config) {
        this.config = config;
        boolean constantFields = config.headers().stream().allMatch(f -> f.value().isConstant());
        this.constant = constantFields ? Decision.respond(build(null)) : null;
    }

    @Override
    public Decision onRequest(RequestContext r) {
        return constant != null ? constant : Decision.respond(build(r));
    }

    private LocalResponse build(RequestContext r) {
        LocalResponse.Builder b = LocalResponse.builder(config.status()).header("Content-Type", config.contentType());
        for (HeaderField f : config.headers()) {
            b.header(f.name(), r == null ? f.value().toString().replace("$$", "$") : f.value().render(r));
        }
        return b.body(config.body()).build();
    }
}
