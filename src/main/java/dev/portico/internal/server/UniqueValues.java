package dev.portico.internal.server;

import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.AsciiString;

/**
 * Keeps the response fields whose value is new on every response out of the HPACK dynamic table (RFC 7541
 * section 6.2.3, a literal never indexed): the request id. Indexed, each response's id would take a new table entry
 * and push out the fields that repeat (server, content-type, via, ...), which would then be sent as literals and
 * inserted again, response after response: more bytes on the wire and table churn on both sides for nothing, since
 * no later response can refer to an id. The field name is read from the running configuration, so a reload that
 * renames it is followed.
 */
final class UniqueValues implements Http2HeadersEncoder.SensitivityDetector {
    private final ProxyRuntime runtime;

    UniqueValues(ProxyRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public boolean isSensitive(CharSequence name, CharSequence value) {
        AsciiString requestId = runtime.snapshot().requestIdName;
        return requestId != null && requestId.length() == name.length() && requestId.contentEqualsIgnoreCase(name);
    }
}
