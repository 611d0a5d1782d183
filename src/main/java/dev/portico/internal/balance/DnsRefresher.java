package dev.portico.internal.balance;

import dev.portico.config.ServerConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DefaultDnsCache;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCacheEntry;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the servers' host names on one event loop, without blocking it, and again when each answer's TTL runs
 * out. A name that stops resolving keeps its last addresses until its TTL plus {@code grace} has passed.
 */
public final class DnsRefresher {
    private static final Logger LOG = LoggerFactory.getLogger("portico.dns");
    /** Re-resolution interval for names whose TTL is unknown (e.g. from /etc/hosts). */
    static final long DEFAULT_REFRESH_MILLIS = 30_000;
    static final long MIN_REFRESH_MILLIS = 1_000;
    static final long MAX_REFRESH_MILLIS = 300_000;

    private final EventLoop loop;
    private final DnsNameResolver resolver;
    private final long graceMillis;
    /** The last TTL seen per name, in seconds. */
    private final Map<String, Long> ttls = new ConcurrentHashMap<>();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private volatile boolean closed;

    /**
     * @param loop the loop resolution runs on
     * @param channelClass the datagram channel class of the loop's transport
     * @param nameServers where to send queries ({@code null} for the system's resolv.conf)
     * @param grace how long past its TTL an address outlives failed re-resolution
     */
    public DnsRefresher(EventLoop loop, Class<? extends DatagramChannel> channelClass,
                        DnsServerAddressStreamProvider nameServers, Duration grace) {
        this.loop = loop;
        this.graceMillis = grace.toMillis();
        DnsNameResolverBuilder b = new DnsNameResolverBuilder(loop).datagramChannelType(channelClass)
                .resolvedAddressTypes(ResolvedAddressTypes.IPV4_PREFERRED)
                .resolveCache(new TtlRecordingCache(new DefaultDnsCache(), ttls))
                .hostsFileEntriesResolver(HostsFile.system());
        if (nameServers != null) {
            b.nameServerProvider(nameServers);
        }
        this.resolver = b.build();
    }

    /**
     * Resolves every server of {@code group} now, and schedules re-resolution.
     *
     * @param group the upstream
     * @return completed once every server has addresses, or failed naming the first name that did not resolve
     */
    public CompletableFuture<Void> add(UpstreamGroup group) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ServerConfig s : group.config().servers()) {
            String host = s.url().host();
            if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
                group.setAddresses(s, List.of(new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host),
                        s.url().port())));
                continue;
            }
            CompletableFuture<Void> first = new CompletableFuture<>();
            all.add(first);
            loop.execute(() -> resolve(group, s, first, 0));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
    }

    private void resolve(UpstreamGroup group, ServerConfig s, CompletableFuture<Void> first, long lastGood) {
        if (closed || group.closed()) {
            return;
        }
        String host = s.url().host();
        Future<List<InetAddress>> f = resolver.resolveAll(host);
        f.addListener(done -> {
            long now = System.currentTimeMillis();
            if (done.isSuccess() && !f.getNow().isEmpty()) {
                List<InetSocketAddress> addresses = preferred(f.getNow(), s.url().port());
                group.setAddresses(s, addresses);
                if (first != null) {
                    first.complete(null);
                }
                long ttlMillis = ttlMillis(host);
                schedule(() -> resolve(group, s, null, now), ttlMillis);
                return;
            }
            String why = done.cause() == null ? "no addresses" : String.valueOf(done.cause().getMessage());
            if (first != null) {
                first.completeExceptionally(new IllegalStateException("cannot resolve upstream host \"" + host
                        + "\" of upstream " + group.name() + ": " + why));
                return;
            }
            long keepUntil = lastGood + ttlMillis(host) + graceMillis;
            if (now > keepUntil && group.endpoints().stream().anyMatch(e -> e.server() == s)) {
                LOG.error("upstream {}: {} no longer resolves ({}); its addresses are dropped", group.name(), host,
                        why);
                group.setAddresses(s, List.of());
            } else {
                LOG.warn("upstream {}: cannot re-resolve {} ({}); keeping its last addresses", group.name(), host,
                        why);
            }
            schedule(() -> resolve(group, s, null, lastGood), MIN_REFRESH_MILLIS * 5);
        });
    }

    /** A name's IPv4 addresses, or its IPv6 ones if it has none: never a family the backend may not listen on. */
    private static List<InetSocketAddress> preferred(List<InetAddress> all, int port) {
        boolean v4 = all.stream().anyMatch(a -> a instanceof Inet4Address);
        List<InetSocketAddress> out = new ArrayList<>();
        for (InetAddress a : all) {
            if ((a instanceof Inet4Address) == v4) {
                out.add(new InetSocketAddress(a, port));
            }
        }
        return out;
    }

    private long ttlMillis(String host) {
        Long ttl = ttls.get(host.endsWith(".") ? host : host + ".");
        if (ttl == null) {
            ttl = ttls.get(host);
        }
        if (ttl == null) {
            return DEFAULT_REFRESH_MILLIS;
        }
        return Math.max(MIN_REFRESH_MILLIS, Math.min(MAX_REFRESH_MILLIS, ttl * 1000));
    }

    private void schedule(Runnable task, long delayMillis) {
        if (closed) {
            return;
        }
        ScheduledFuture<?> t = loop.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        timers.removeIf(ScheduledFuture::isDone);
        timers.add(t);
    }

    /** Stops re-resolution and closes the resolver. */
    public void close() {
        closed = true;
        loop.execute(() -> {
            for (ScheduledFuture<?> t : timers) {
                t.cancel(false);
            }
            timers.clear();
            resolver.close();
        });
    }

    /** A DNS cache that remembers each name's TTL, so re-resolution happens when the answer expires. */
    private record TtlRecordingCache(DnsCache delegate, Map<String, Long> ttls) implements DnsCache {
        @Override
        public void clear() {
            delegate.clear();
        }

        @Override
        public boolean clear(String hostname) {
            return delegate.clear(hostname);
        }

        @Override
        public List<? extends DnsCacheEntry> get(String hostname, DnsRecord[] additionals) {
            return delegate.get(hostname, additionals);
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, InetAddress address, long originalTtl,
                                   EventLoop loop) {
            ttls.put(hostname.endsWith(".") ? hostname : hostname + ".", originalTtl);
            return delegate.cache(hostname, additionals, address, originalTtl, loop);
        }

        @Override
        public DnsCacheEntry cache(String hostname, DnsRecord[] additionals, Throwable cause, EventLoop loop) {
            return delegate.cache(hostname, additionals, cause, loop);
        }
    }
}
