package dev.portico.internal.policy;

import dev.portico.config.CorsPolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.Headers;
import dev.portico.policy.LocalResponse;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * The {@code cors} policy (the Fetch standard's CORS protocol). An allowed origin's preflight is answered here with
 * 204; another origin's goes on untouched, so the backend may still answer it. Responses to an allowed origin's
 * requests get the CORS fields, replacing any the backend sent, and {@code Vary: Origin} when the answer depends on
 * the origin.
 */
final class CorsPolicy implements Policy {
    private static final String[] RESPONSE_FIELDS = {"Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Max-Age"};

    private final boolean any;
    private final List<String> exact;
    private final List<Pattern> patterns;
    private final boolean credentials;
    private final String methods;
    private final String allowHeaders;
    private final boolean anyHeader;
    private final String expose;
    private final String maxAge;

    CorsPolicy(CorsPolicyConfig c) {
        List<String> e = new ArrayList<>();
        List<Pattern> p = new ArrayList<>();
        boolean star = false;
        for (String o : c.allowOrigins()) {
            if (o.equals("*")) {
                star = true;
            } else if (o.startsWith("~")) {
                p.add(Pattern.compile(o.substring(1)));
            } else {
                e.add(o);
            }
        }
        this.any = star;
        this.exact = List.copyOf(e);
        this.patterns = List.copyOf(p);
        this.credentials = c.allowCredentials();
        this.methods = String.join(", ", c.allowMethods());
        this.anyHeader = c.allowHeaders().contains("*");
        this.allowHeaders = String.join(", ", c.allowHeaders());
        this.expose = String.join(", ", c.exposeHeaders());
        this.maxAge = c.maxAge().isZero() ? "" : Long.toString(c.maxAge().toSeconds());
    }

    boolean allowed(String origin) {
        if (any || exact.contains(origin)) {
            return true;
        }
        for (Pattern p : patterns) {
            if (p.matcher(origin).matches()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Decision onRequest(RequestContext r) {
        String origin = r.headers().get("Origin");
        if (origin == null || !allowed(origin)) {
            return Decision.proceed(); // not a CORS request, or not ours to allow: the backend decides
        }
        String requestedMethod = r.headers().get("Access-Control-Request-Method");
        if (r.method().equals("OPTIONS") && requestedMethod != null) {
            return Decision.respond(preflight(r, origin));
        }
        r.attach(this, origin);
        return Decision.proceed();
    }

    private LocalResponse preflight(RequestContext r, String origin) {
        LocalResponse.Builder b = LocalResponse.builder(204);
        allowOrigin((n, v) -> b.header(n, v), origin);
        b.header("Access-Control-Allow-Methods", methods);
        String requested = r.headers().get("Access-Control-Request-Headers");
        if (anyHeader && requested != null) {
            // With credentials "*" is taken literally by browsers: name the requested fields instead.
            b.header("Access-Control-Allow-Headers", credentials ? requested : "*");
        } else if (!allowHeaders.isEmpty()) {
            b.header("Access-Control-Allow-Headers", allowHeaders);
        }
        if (!maxAge.isEmpty()) {
            b.header("Access-Control-Max-Age", maxAge);
        }
        return b.build();
    }

    @Override
    public void onResponse(RequestContext r, ResponseHead head) {
        Object origin = r.attachment(this);
        if (origin == null) {
            return;
        }
        Headers h = head.headers();
        for (String f : RESPONSE_FIELDS) {
            h.remove(f);
        }
        allowOrigin((n, v) -> {
            if (n.equals("Vary")) {
                varyOnOrigin(h);
            } else {
                h.set(n, v);
            }
        }, (String) origin);
        if (!expose.isEmpty()) {
            h.set("Access-Control-Expose-Headers", expose);
        }
    }

    private void allowOrigin(BiConsumer<String, String> out, String origin) {
        boolean wildcard = any && !credentials;
        out.accept("Access-Control-Allow-Origin", wildcard ? "*" : origin);
        if (credentials) {
            out.accept("Access-Control-Allow-Credentials", "true");
        }
        if (!wildcard) {
            out.accept("Vary", "Origin");
        }
    }

    /** Adds {@code Origin} to the response's {@code Vary}, keeping what the backend listed. */
    private static void varyOnOrigin(Headers h) {
        for (String v : h.getAll("Vary")) {
            for (String element : v.split(",")) {
                String e = element.strip();
                if (e.equals("*") || e.equalsIgnoreCase("Origin")) {
                    return;
                }
            }
        }
        h.add("Vary", "Origin");
    }
}
