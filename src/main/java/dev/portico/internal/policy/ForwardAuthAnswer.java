package dev.portico.internal.policy;

import dev.portico.policy.Headers;
import dev.portico.policy.LocalResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A non-2xx answer of an auth service on its way to the client: its status, its fields but hop-by-hop and framing
 * ones (Portico frames the response itself), and its body up to {@link #MAX_BODY} bytes, collected as it arrives.
 * A longer body is not relayed at all (the status and fields are): a truncated page would be worse than none.
 */
final class ForwardAuthAnswer {
    /** The most body bytes relayed: login pages and error documents are small. */
    static final int MAX_BODY = 64 * 1024;
    private static final Set<String> NOT_RELAYED = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade", "content-length");

    private final HttpResponse head;
    private byte[] body = new byte[0];
    private int length;
    private boolean tooLong;

    ForwardAuthAnswer(HttpResponse head) {
        this.head = head;
    }

    /**
     * @param bytes the next body part (not retained)
     */
    void append(io.netty.buffer.ByteBuf bytes) {
        int n = bytes.readableBytes();
        if (tooLong || n == 0) {
            return;
        }
        if (length + n > MAX_BODY) {
            tooLong = true;
            body = new byte[0];
            length = 0;
            return;
        }
        if (length + n > body.length) {
            body = Arrays.copyOf(body, Math.min(MAX_BODY, Math.max(length + n, body.length * 2 + 256)));
        }
        bytes.getBytes(bytes.readerIndex(), body, length, n);
        length += n;
    }

    /** @return whether the body was over the bound, and is not relayed */
    boolean tooLong() {
        return tooLong;
    }

    /** @return the answer for the client; fields whose name or value a response cannot carry are left out */
    LocalResponse response() {
        LocalResponse.Builder b = LocalResponse.builder(head.status().code());
        List<String> named = new ArrayList<>();
        for (String v : head.headers().getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : v.split(",")) {
                named.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        for (Map.Entry<String, String> f : head.headers()) {
            String name = f.getKey().toLowerCase(Locale.ROOT);
            if (!NOT_RELAYED.contains(name) && !named.contains(name) && Headers.isFieldName(f.getKey())
                    && Headers.isFieldValue(f.getValue())) {
                b.header(f.getKey(), f.getValue());
            }
        }
        return b.body(length == body.length ? body : Arrays.copyOf(body, length)).build();
    }
}
