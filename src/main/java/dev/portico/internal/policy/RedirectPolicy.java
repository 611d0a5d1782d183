package dev.portico.internal.policy;

import dev.portico.config.RedirectPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.Template;

/** The {@code redirect} policy: every request is answered with a redirect to the rendered location. */
final class RedirectPolicy implements Policy {
    private final Template to;
    private final int status;
    /** The answer when the location has no variables: built once. */
    private final Decision constant;

    RedirectPolicy(RedirectPolicyConfig config) {
        this.to = config.to();
        this.status = config.status();
        this.constant = to.isConstant() ? Decision.respond(response(to.toString().replace("$$", "$"))) : null;
    }

    @Override
    public Decision onRequest(RequestContext r) {
        return constant != null ? constant : Decision.respond(response(to.render(r)));
    }

    private LocalResponse response(String location) {
        return LocalResponse.builder(status).header("Location", location).build();
    }
}
