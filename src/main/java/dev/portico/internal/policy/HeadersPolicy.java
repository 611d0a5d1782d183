package dev.portico.internal.policy;

import dev.portico.config.HeaderField;
import dev.portico.config.HeaderRulesConfig;
import dev.portico.config.HeadersPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.Headers;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;

/** The {@code headers} policy: remove, set, set-if-absent and add rules on the request and the response. */
final class HeadersPolicy implements Policy {
    private final HeaderRulesConfig request;
    private final HeaderRulesConfig response;

    HeadersPolicy(HeadersPolicyConfig config) {
        this.request = config.request();
        this.response = config.response();
    }

    @Override
    public Decision onRequest(RequestContext r) {
        if (!request.isEmpty()) {
            apply(request, r.headers(), r);
        }
        return Decision.proceed();
    }

    @Override
    public void onResponse(RequestContext r, ResponseHead head) {
        if (!response.isEmpty()) {
            apply(response, head.headers(), r);
        }
    }

    private static void apply(HeaderRulesConfig rules, Headers h, RequestContext r) {
        for (String name : rules.remove()) {
            h.remove(name);
        }
        for (HeaderField f : rules.set()) {
            h.set(f.name(), f.value().render(r));
        }
        for (HeaderField f : rules.setIfAbsent()) {
            if (!h.contains(f.name())) {
                h.set(f.name(), f.value().render(r));
            }
        }
        for (HeaderField f : rules.add()) {
            h.add(f.name(), f.value().render(r));
        }
    }
}
