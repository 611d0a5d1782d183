package dev.portico.internal.policy;

import dev.portico.config.CompressPolicyConfig;
import dev.portico.policy.Policy;
import dev.portico.policy.RequestContext;
import dev.portico.policy.ResponseHead;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code compress} policy. All of it happens in the response phase, so it works on the backend's responses
 * and Portico's own alike: it decides from the response head and the request's fields, rewrites the head
 * ({@code Content-Encoding}, {@code Vary}, no {@code Content-Length}, a weak {@code ETag}) and hands the run a
 * {@link BodyTransform} that encodes the body part by part. Memory per compressed exchange: the encoder's state
 * (its window and tables, native: measured about 0.26 MiB for gzip 5, 1.6 MiB for zstd 3, 3.9 MiB for br 4) plus
 * the output buffer of the part being encoded; nothing else is held, and the output waits for the client under the
 * same backpressure as any response. The encoding runs on the event loop, a part (at most 64 KiB) at a time.
 */
final class CompressPolicy implements Policy {
    private static final Logger LOG = LoggerFactory.getLogger(CompressPolicy.class);

    private final CompressPolicyConfig config;
    private final List<String> usable;
    private final ContentTypes types;

    CompressPolicy(CompressPolicyConfig config) {
        this(config, Encodings.usable(config.encodings()));
    }

    /** @param usable the configured encodings that work here, in order of preference */
    CompressPolicy(CompressPolicyConfig config, List<String> usable) {
        this.config = config;
        this.usable = usable;
        this.types = new ContentTypes(config.types());
    }

    @Override
    public void onResponse(RequestContext request, ResponseHead head) {
        HttpHeaders h = ((NettyResponseHead) head).response().headers();
        int status = head.status();
        if (status == 304) {
            // The client holds a compressed body under a weakened tag: a 304 validating it must name the same tag.
            if (!h.contains(HttpHeaderNames.CONTENT_ENCODING) && requestAllows(request) && chosen(request) != null) {
                weakenETag(h);
            }
            return;
        }
        if (status < 200 || status == 204 || status == 206 || h.contains(HttpHeaderNames.CONTENT_ENCODING)
                || noTransform(h.getAll(HttpHeaderNames.CACHE_CONTROL))
                || !types.matches(h.get(HttpHeaderNames.CONTENT_TYPE)) || shorterThanMinimum(h)) {
            return;
        }
        // The response would be encoded for some clients: caches must key it on Accept-Encoding.
        varyOnAcceptEncoding(h);
        if (!requestAllows(request) || !((PolicyRun) request).bodyTransformable()) {
            return;
        }
        String encoding = chosen(request);
        if (encoding == null) {
            return;
        }
        // The encoder first: if it cannot start, the head is left as it was and the body goes unencoded.
        BodyTransform t;
        try {
            t = Encodings.transform(encoding, config.level(encoding));
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("compress: no {} encoder for this response: {}", encoding, String.valueOf(e));
            return;
        }
        ((PolicyRun) request).transformBody(t);
        h.set(HttpHeaderNames.CONTENT_ENCODING, encoding);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        if (request.protocol().equals("HTTP/1.1")) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        weakenETag(h);
    }

    private String chosen(RequestContext request) {
        return AcceptEncoding.negotiate(request.headers().getAll("Accept-Encoding"), usable);
    }

    /**
     * HEAD gets the head alone; a range request's bytes are offsets into the unencoded body; an upgrade is no
     * message body; an HTTP/1.0 client could not be sent a body without a length on a kept-alive connection; a
     * request's own {@code no-transform} asks intermediaries not to change the response.
     */
    private static boolean requestAllows(RequestContext request) {
        dev.portico.policy.Headers q = request.headers();
        return !request.method().equals("HEAD") && !q.contains("Range") && !q.contains("Upgrade")
                && !request.protocol().equals("HTTP/1.0") && !noTransform(q.getAll("Cache-Control"));
    }

    private boolean shorterThanMinimum(HttpHeaders h) {
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        if (length == null) {
            return false; // unknown length: compressed
        }
        try {
            return Long.parseLong(length.trim()) < config.minLength();
        } catch (NumberFormatException e) {
            return true;
        }
    }

    static boolean noTransform(List<String> cacheControl) {
        for (String line : cacheControl) {
            for (String directive : line.split(",")) {
                String d = directive.trim();
                int eq = d.indexOf('=');
                if ((eq < 0 ? d : d.substring(0, eq).trim()).equalsIgnoreCase("no-transform")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Adds {@code Accept-Encoding} to {@code Vary}, merged into one line with what the backend listed. */
    static void varyOnAcceptEncoding(HttpHeaders h) {
        List<String> lines = h.getAll(HttpHeaderNames.VARY);
        for (String line : lines) {
            for (String token : line.split(",")) {
                String t = token.trim();
                if (t.equals("*") || t.equalsIgnoreCase("accept-encoding")) {
                    return;
                }
            }
        }
        StringBuilder merged = new StringBuilder();
        for (String line : lines) {
            if (!line.isBlank()) {
                merged.append(line.trim()).append(", ");
            }
        }
        h.set(HttpHeaderNames.VARY, merged.append("Accept-Encoding").toString());
    }

    /** A strong tag names the unencoded bytes; the encoded body is only semantically equivalent (RFC 9110 8.8.1). */
    static void weakenETag(HttpHeaders h) {
        String tag = h.get(HttpHeaderNames.ETAG);
        if (tag != null && tag.startsWith("\"")) {
            h.set(HttpHeaderNames.ETAG, "W/" + tag);
        }
    }

    /** The configured media types, matched on a Content-Type's type and subtype, case-insensitively. */
    static final class ContentTypes {
        private final List<String> exact;
        private final List<String> prefixes;

        ContentTypes(List<String> patterns) {
            exact = patterns.stream().filter(p -> !p.endsWith("/*")).toList();
            prefixes = patterns.stream().filter(p -> p.endsWith("/*"))
                    .map(p -> p.substring(0, p.length() - 1)).toList();
        }

        boolean matches(String contentType) {
            if (contentType == null) {
                return false;
            }
            int semi = contentType.indexOf(';');
            String t = (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
            if (exact.contains(t)) {
                return true;
            }
            for (String p : prefixes) {
                if (t.startsWith(p) && t.length() > p.length()) {
                    return true;
                }
            }
            return false;
        }
    }
}
