package dev.portico.internal.policy;

import dev.portico.config.Cidr;
import java.net.InetAddress;
import java.util.List;

/**
 * Who the client is when trusted proxies stand in front of Portico: the right-most {@code X-Forwarded-For} entry
 * that is not itself a trusted proxy, walking right to left from the peer (the left-most entry is whatever the
 * client wrote, so it is never believed unless every hop after it is trusted). Stateless.
 */
public final class ClientAddress {
    private ClientAddress() {
    }

    /**
     * @param peer the connection's peer (or the PROXY protocol's source)
     * @param forwardedFor the request's {@code X-Forwarded-For} field lines, in order (may be empty)
     * @param trusted the {@code trusted_proxies} blocks
     * @return the client address: {@code peer} unless it is trusted and the chain names someone else
     */
    public static InetAddress resolve(InetAddress peer, List<String> forwardedFor, List<Cidr> trusted) {
        if (trusted.isEmpty() || !isTrusted(peer, trusted) || forwardedFor.isEmpty()) {
            return peer;
        }
        InetAddress client = peer;
        for (int line = forwardedFor.size() - 1; line >= 0; line--) {
            String[] entries = forwardedFor.get(line).split(",");
            for (int i = entries.length - 1; i >= 0; i--) {
                String entry = entries[i].strip();
                if (entry.isEmpty()) {
                    continue;
                }
                InetAddress a = Cidr.numeric(stripPort(entry));
                if (a == null) {
                    return client; // garbage in the chain: believe nothing left of it
                }
                client = a;
                if (!isTrusted(a, trusted)) {
                    return a;
                }
            }
        }
        return client; // every entry trusted: the left-most one
    }

    /** @return whether {@code a} is in one of the blocks */
    public static boolean isTrusted(InetAddress a, List<Cidr> trusted) {
        for (Cidr c : trusted) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** {@code 1.2.3.4:5678} and {@code [2001:db8::1]:443} carry a port some proxies add; a bare IPv6 has colons. */
    private static String stripPort(String entry) {
        if (entry.startsWith("[")) {
            int end = entry.indexOf(']');
            return end < 0 ? entry : entry.substring(0, end + 1);
        }
        int colon = entry.indexOf(':');
        if (colon > 0 && entry.indexOf(':', colon + 1) < 0) {
            return entry.substring(0, colon);
        }
        return entry;
    }
}
