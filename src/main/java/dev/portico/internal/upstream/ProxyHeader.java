package dev.portico.internal.upstream;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * The PROXY protocol header a backend connection opens with ({@code send_proxy_protocol}): who the client is and
 * which address it connected to. A connection that carries one speaks for that client alone, so the pool never
 * lends it to another.
 *
 * @param v2 the binary form (version 2) rather than the text form (version 1)
 * @param source the client's address and port (port 0 when only its address is known, e.g. from
 *     {@code X-Forwarded-For})
 * @param destination the address and port the client connected to
 */
public record ProxyHeader(boolean v2, InetSocketAddress source, InetSocketAddress destination) {
    /** Validates the addresses. */
    public ProxyHeader {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
    }

    /**
     * @return a new message for Netty's encoder, which releases it once written; made only when the connection is
     *     up, so a connect that fails leaves nothing to release
     */
    HAProxyMessage message() {
        InetAddress s = source.getAddress();
        InetAddress d = destination.getAddress();
        boolean ipv4 = s instanceof Inet4Address && d instanceof Inet4Address;
        if (!ipv4) {
            // Both ends must share a family: an IPv4 end of a mixed pair is written IPv4-mapped (::ffff:a.b.c.d).
            s = mapped(s);
            d = mapped(d);
        }
        return new HAProxyMessage(v2 ? HAProxyProtocolVersion.V2 : HAProxyProtocolVersion.V1, HAProxyCommand.PROXY,
                ipv4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(s), text(d), source.getPort(), destination.getPort());
    }

    private static InetAddress mapped(InetAddress a) {
        if (a instanceof Inet6Address) {
            return a;
        }
        byte[] v4 = a.getAddress();
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xff;
        v6[11] = (byte) 0xff;
        System.arraycopy(v4, 0, v6, 12, 4);
        try {
            return Inet6Address.getByAddress(null, v6, null);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 16 bytes are always a valid IPv6 address
        }
    }

    /** The numeric form without a zone id, which neither form of the header can carry. */
    private static String text(InetAddress a) {
        String t = a.getHostAddress();
        int zone = t.indexOf('%');
        return zone < 0 ? t : t.substring(0, zone);
    }
}
