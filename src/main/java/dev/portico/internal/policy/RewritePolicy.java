package dev.portico.internal.policy;

import dev.portico.config.RewritePolicyConfig;
import dev.portico.policy.Decision;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code rewrite} policy: where the regex matches the path, its first match is replaced (as Traefik's
 * ReplacePathRegex does; with {@code ^...$} the whole path is). The query is left alone; a result that is no
 * origin-form path fails the request (500) through {@link RequestContext#setPath}.
 */
final class RewritePolicy implements Policy {
    private final Pattern regex;
    private final String replacement;

    RewritePolicy(RewritePolicyConfig config) {
        this.regex = Pattern.compile(config.regex());
        this.replacement = config.replacement();
    }

    @Override
    public Decision onRequest(RequestContext r) {
        Matcher m = regex.matcher(r.path());
        if (m.find()) {
            r.setPath(m.replaceFirst(replacement));
        }
        return Decision.proceed();
    }
}
