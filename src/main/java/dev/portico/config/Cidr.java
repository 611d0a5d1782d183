package dev.portico.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}; a bare address is a block of
 * one. An IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}) is matched as the IPv4 address it carries.
 *
 * @param network the first address of the block (host bits zero)
 * @param prefix the prefix length
 */
public record Cidr(InetAddress network, int prefix) {
    /** Checks the prefix length and zeroes the host bits. */
    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix length must be between 0 and " + bits + ", got " + prefix);
        }
        network = masked(network, prefix);
    }

    /**
     * @param text {@code address/prefix} or an address; only numeric addresses (no names are looked up)
     * @return the block
     * @throws IllegalArgumentException if it is not one
     */
    public static Cidr parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        InetAddress a = numeric(addr);
        if (a == null) {
            throw new IllegalArgumentException("not an IP address or CIDR block: \"" + text + "\"");
        }
        int bits = a.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("not a prefix length in \"" + text + "\"");
            }
            prefix = Integer.parseInt(p);
        }
        return new Cidr(a, prefix);
    }

    /**
     * @param address an address
     * @return whether it is in the block
     */
    public boolean contains(InetAddress address) {
        if (address instanceof Inet4Address && network instanceof Inet4Address) {
            // Inet4Address.hashCode() is the address as an int: no array copied per check.
            int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
            return (address.hashCode() & mask) == (network.hashCode() & mask);
        }
        byte[] a = unmapped(address).getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        return rest == 0 || ((a[full] ^ n[full]) & (0xff << (8 - rest)) & 0xff) == 0;
    }

    /**
     * @param text a numeric IPv4 or IPv6 address, IPv6 optionally in brackets
     * @return the address, or {@code null} if {@code text} is not one (no name is looked up)
     */
    public static InetAddress numeric(String text) {
        String s = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (s.isEmpty()) {
            return null;
        }
        boolean v6 = s.indexOf(':') >= 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= '0' && c <= '9') || c == '.' || (v6 && (c == ':' || (c >= 'a' && c <= 'f')
                    || (c >= 'A' && c <= 'F')));
            if (!ok) {
                return null;
            }
        }
        if (!v6 && s.chars().filter(c -> c == '.').count() != 3) {
            return null;
        }
        try {
            return unmapped(InetAddress.getByName(s)); // numeric only, checked above: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** An IPv4-mapped IPv6 address as its IPv4 address; any other address as it is. */
    static InetAddress unmapped(InetAddress a) {
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return a;
                }
            }
            if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                try {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return a;
    }

    private static InetAddress masked(InetAddress a, int prefix) {
        byte[] b = unmapped(a).getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the block as {@code address/prefix} */
    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
