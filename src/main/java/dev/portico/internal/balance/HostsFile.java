package dev.portico.internal.balance;

import io.netty.resolver.HostsFileEntriesProvider;
import io.netty.resolver.HostsFileEntriesResolver;
import io.netty.resolver.ResolvedAddressTypes;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The hosts file, read again when it changes (Netty's own reader keeps its first reading unless told a refresh
 * interval), so a name added to it after start resolves at the next reload or re-resolution. Its size and
 * modification time are looked at no more than once per {@link #CHECK_NANOS}; a lookup costs a map read otherwise.
 */
final class HostsFile implements HostsFileEntriesResolver {
    /** The system property naming another hosts file, e.g. for tests. */
    static final String PROPERTY = "portico.dns.hostsFile";
    static final long CHECK_NANOS = 1_000_000_000L;

    private final Path file;
    private volatile Entries entries = new Entries(null, Map.of(), Map.of());
    private volatile long nextCheck = System.nanoTime();

    private record Entries(Object state, Map<String, List<InetAddress>> v4, Map<String, List<InetAddress>> v6) {
    }

    private HostsFile(Path file) {
        this.file = file;
    }

    /** @return the hosts file of {@link #PROPERTY}, else {@code /etc/hosts}; Netty's default reader on Windows */
    static HostsFileEntriesResolver system() {
        String named = System.getProperty(PROPERTY);
        if (named != null) {
            return new HostsFile(Path.of(named));
        }
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")) {
            return HostsFileEntriesResolver.DEFAULT;
        }
        return new HostsFile(Path.of("/etc/hosts"));
    }

    @Override
    public InetAddress address(String inetHost, ResolvedAddressTypes resolvedAddressTypes) {
        Entries e = current();
        String name = inetHost.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        List<InetAddress> v4 = e.v4().get(name);
        List<InetAddress> v6 = e.v6().get(name);
        List<InetAddress> first;
        List<InetAddress> second;
        switch (resolvedAddressTypes) {
            case IPV4_ONLY -> {
                first = v4;
                second = null;
            }
            case IPV6_ONLY -> {
                first = v6;
                second = null;
            }
            case IPV6_PREFERRED -> {
                first = v6;
                second = v4;
            }
            default -> {
                first = v4;
                second = v6;
            }
        }
        if (first != null && !first.isEmpty()) {
            return first.get(0);
        }
        return second != null && !second.isEmpty() ? second.get(0) : null;
    }

    /** Re-reads the file if it changed; a stat at most once a second (a small file, read only when changed). */
    private Entries current() {
        long now = System.nanoTime();
        if (now - nextCheck < 0) {
            return entries;
        }
        nextCheck = now + CHECK_NANOS;
        Object state;
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            state = Arrays.asList(a.size(), a.lastModifiedTime(), a.fileKey());
        } catch (IOException ex) {
            state = null;
        }
        Entries e = entries;
        if (state == null || state.equals(e.state())) {
            return e;
        }
        HostsFileEntriesProvider p = HostsFileEntriesProvider.parser().parseSilently(file.toFile(),
                StandardCharsets.UTF_8);
        e = new Entries(state, p.ipv4Entries(), p.ipv6Entries());
        entries = e;
        return e;
    }
}
