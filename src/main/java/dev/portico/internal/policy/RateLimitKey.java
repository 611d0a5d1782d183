package dev.portico.internal.policy;

import dev.portico.policy.RequestContext;
import java.util.List;

/**
 * A {@code rate_limit} key: its parts read from the request and joined. A request missing any part (no such field,
 * no such verified claim) gets the one shared {@link #MISSING} key, so it is limited, never let through unlimited.
 */
final class RateLimitKey {
    /** The key of every request that lacks a part; a field value cannot hold its control character. */
    static final String MISSING = "\u001fmissing";
    private static final char SEPARATOR = '\u001f';
    private static final int CLIENT_IP = 0;
    private static final int ROUTE = 1;
    private static final int HEADER = 2;
    private static final int CLAIM = 3;

    private final int[] kinds;
    private final String[] args;

    RateLimitKey(List<String> parts) {
        kinds = new int[parts.size()];
        args = new String[parts.size()];
        for (int i = 0; i < kinds.length; i++) {
            String p = parts.get(i);
            if (p.equals("client_ip")) {
                kinds[i] = CLIENT_IP;
            } else if (p.equals("route")) {
                kinds[i] = ROUTE;
            } else if (p.startsWith("header:")) {
                kinds[i] = HEADER;
                args[i] = p.substring(7);
            } else {
                kinds[i] = CLAIM;
                args[i] = p.substring(10);
            }
        }
    }

    /** @return the request's key; a one-part key is the part itself, so {@code client_ip} allocates nothing */
    String of(RequestContext r) {
        if (kinds.length == 1) {
            String v = part(r, 0);
            return v == null ? MISSING : v;
        }
        StringBuilder sb = new StringBuilder(64);
        for (int i = 0; i < kinds.length; i++) {
            String v = part(r, i);
            if (v == null) {
                return MISSING;
            }
            if (i > 0) {
                sb.append(SEPARATOR);
            }
            sb.append(v);
        }
        return sb.toString();
    }

    private String part(RequestContext r, int i) {
        switch (kinds[i]) {
            case CLIENT_IP:
                return r.clientIp();
            case ROUTE:
                return r.route();
            case HEADER:
                return r.headers().get(args[i]);
            default:
                // Claims come from a jwt policy earlier on the chain; without one, every request lacks them.
                Object claim = r instanceof PolicyRun run ? run.verifiedClaims().get(args[i]) : null;
                return claim == null ? null : String.valueOf(claim);
        }
    }
}
