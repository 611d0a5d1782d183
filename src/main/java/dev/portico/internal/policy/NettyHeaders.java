package dev.portico.internal.policy;

import dev.portico.policy.Headers;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@link Headers} over a Netty head's fields: changes go straight to the head that is sent on. */
final class NettyHeaders implements Headers {
    /** Fields that frame the message or belong to the connection: Portico's alone (RFC 9110 section 7.6.1). */
    private static final AsciiString[] MANAGED = {HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
        AsciiString.cached("proxy-connection"), HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
        HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.CONTENT_LENGTH};

    private final HttpHeaders h;

    NettyHeaders(HttpHeaders h) {
        this.h = h;
    }

    @Override
    public String get(CharSequence name) {
        return h.get(name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        return h.getAll(name);
    }

    @Override
    public boolean contains(CharSequence name) {
        return h.contains(name);
    }

    @Override
    public void set(CharSequence name, String value) {
        check(name, value);
        h.set(name, value);
    }

    @Override
    public void add(CharSequence name, String value) {
        check(name, value);
        h.add(name, value);
    }

    @Override
    public void remove(CharSequence name) {
        managed(name);
        h.remove(name);
    }

    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : h) {
            names.add(e.getKey().toLowerCase(Locale.ROOT));
        }
        return names;
    }

    private static void managed(CharSequence name) {
        for (AsciiString m : MANAGED) {
            if (m.contentEqualsIgnoreCase(name)) {
                throw new IllegalArgumentException(name + " is a framing or connection field that Portico manages");
            }
        }
    }

    /** A value with CR or LF would split the head: refused, whatever the policy. */
    private static void check(CharSequence name, String value) {
        managed(name);
        if (!Headers.isFieldName(name)) {
            throw new IllegalArgumentException("not a field name: \"" + name + "\"");
        }
        if (!Headers.isFieldValue(value)) {
            throw new IllegalArgumentException("field " + name + ": value has control characters or edge spaces");
        }
    }
}
