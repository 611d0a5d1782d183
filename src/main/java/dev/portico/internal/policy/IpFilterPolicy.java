package dev.portico.internal.policy;

import dev.portico.config.Cidr;
import dev.portico.config.IpFilterPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import java.net.InetAddress;
import java.util.List;

/** The {@code ip_filter} policy: deny wins; a non-empty allow list refuses everyone outside it. */
final class IpFilterPolicy implements Policy {
    private static final Decision FORBIDDEN = Decision.respond(LocalResponse.text(403, "Forbidden\n"));

    private final Cidr[] allow;
    private final Cidr[] deny;

    IpFilterPolicy(IpFilterPolicyConfig config) {
        this.allow = config.allow().toArray(new Cidr[0]);
        this.deny = config.deny().toArray(new Cidr[0]);
    }

    @Override
    public Decision onRequest(RequestContext r) {
        return allowed(r.clientAddress()) ? Decision.proceed() : FORBIDDEN;
    }

    boolean allowed(InetAddress a) {
        if (matches(deny, a)) {
            return false;
        }
        return allow.length == 0 || matches(allow, a);
    }

    private static boolean matches(Cidr[] blocks, InetAddress a) {
        for (Cidr c : blocks) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "ip_filter allow " + List.of(allow) + " deny " + List.of(deny);
    }
}
