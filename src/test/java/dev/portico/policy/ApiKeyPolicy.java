package dev.portico.policy;

import java.util.Map;

/** The example of README's "Write your own policy", kept compiling and tested. */
public final class ApiKeyPolicy implements Policy {
    private final String key;

    /** @param settings {@code key}: the API key to expect */
    public ApiKeyPolicy(Map<String, Object> settings) {
        this.key = String.valueOf(settings.get("key"));
    }

    @Override
    public Decision onRequest(RequestContext request) {
        if (key.equals(request.headers().get("X-Api-Key"))) {
            request.headers().remove("X-Api-Key");
            return Decision.proceed();
        }
        return Decision.respond(LocalResponse.text(401, "missing or wrong API key\n"));
    }

    @Override
    public void onResponse(RequestContext request, ResponseHead response) {
        response.headers().set("X-Checked-By", "portico");
    }
}
