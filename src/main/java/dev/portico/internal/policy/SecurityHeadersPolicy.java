package dev.portico.internal.policy;

import dev.portico.config.SecurityHeadersPolicyConfig;
import dev.portico.policy.Headers;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code security_headers} policy: browser-hardening fields on every response; the backend's own value wins
 * unless {@code mode: override}. HSTS only over TLS (RFC 6797 section 7.2: a host must not send it over plain HTTP).
 */
final class SecurityHeadersPolicy implements Policy {
    private static final String HSTS = "Strict-Transport-Security";

    /** Name, value pairs of the fields sent on every response. */
    private final String[] fields;
    private final String hsts;
    private final boolean override;

    SecurityHeadersPolicy(SecurityHeadersPolicyConfig c) {
        List<String> f = new ArrayList<>();
        pair(f, "X-Content-Type-Options", c.contentTypeOptions());
        pair(f, "X-Frame-Options", c.frameOptions());
        pair(f, "Referrer-Policy", c.referrerPolicy());
        pair(f, "Cross-Origin-Opener-Policy", c.crossOriginOpenerPolicy());
        pair(f, "Permissions-Policy", c.permissionsPolicy());
        pair(f, "Content-Security-Policy", c.contentSecurityPolicy());
        this.fields = f.toArray(new String[0]);
        this.hsts = c.hstsValue();
        this.override = c.override();
    }

    private static void pair(List<String> f, String name, String value) {
        if (!value.isEmpty()) {
            f.add(name);
            f.add(value);
        }
    }

    @Override
    public void onResponse(RequestContext r, ResponseHead head) {
        Headers h = head.headers();
        for (int i = 0; i < fields.length; i += 2) {
            put(h, fields[i], fields[i + 1]);
        }
        if (!hsts.isEmpty() && "https".equals(r.scheme())) {
            put(h, HSTS, hsts);
        }
    }

    private void put(Headers h, String name, String value) {
        if (override || !h.contains(name)) {
            h.set(name, value);
        }
    }
}
