package dev.portico.internal.policy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The 2xx decisions of one {@code forward_auth} policy, each kept for {@code cache}: the fields to set on the
 * request, keyed by a SHA-256 digest of everything the auth service was sent (so a request it could judge
 * differently never shares an entry, and no crafted request can collide with another's). Bounded: at most
 * {@link #MAX_ENTRIES} entries of at most {@link #MAX_ENTRY_CHARS} characters of fields each (decisions with more
 * are not kept), so about 50 MiB at the very worst. Shared by every event loop; lock-free reads.
 */
final class ForwardAuthCache {
    static final int MAX_ENTRIES = 10_000;
    static final int MAX_ENTRY_CHARS = 4096;
    private static final MessageDigest SHA_256;

    static {
        try {
            SHA_256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new ExceptionInInitializerError(e); // every Java platform has SHA-256
        }
    }

    /** The 32 bytes of a digest, compared by value. */
    record Key(long a, long b, long c, long d) {
    }

    private record Entry(long expiresNanos, List<Map.Entry<String, String>> fields) {
    }

    private final long ttlNanos;
    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();

    ForwardAuthCache(long ttlNanos) {
        this.ttlNanos = ttlNanos;
    }

    /** Builds a key from the parts of an auth request, in order; each part is length-prefixed, so none is ambiguous. */
    static final class KeyBuilder {
        private final MessageDigest digest;

        KeyBuilder() {
            try {
                digest = (MessageDigest) SHA_256.clone();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }

        KeyBuilder add(CharSequence part) {
            byte[] b = part.toString().getBytes(StandardCharsets.UTF_8);
            digest.update((byte) (b.length >>> 24));
            digest.update((byte) (b.length >>> 16));
            digest.update((byte) (b.length >>> 8));
            digest.update((byte) b.length);
            digest.update(b);
            return this;
        }

        Key build() {
            ByteBuffer d = ByteBuffer.wrap(digest.digest());
            return new Key(d.getLong(), d.getLong(), d.getLong(), d.getLong());
        }
    }

    /**
     * @param key the request's key
     * @param now {@code System.nanoTime()}
     * @return the fields of a live decision, or {@code null}
     */
    List<Map.Entry<String, String>> get(Key key, long now) {
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        if (now - e.expiresNanos >= 0) {
            entries.remove(key, e);
            return null;
        }
        return e.fields;
    }

    /**
     * Keeps a 2xx decision, unless its fields are too large.
     *
     * @param key the request's key
     * @param fields the fields to set on the request
     * @param now {@code System.nanoTime()}
     */
    void put(Key key, List<Map.Entry<String, String>> fields, long now) {
        int chars = 0;
        for (Map.Entry<String, String> f : fields) {
            chars += f.getKey().length() + f.getValue().length();
        }
        if (chars > MAX_ENTRY_CHARS) {
            return;
        }
        if (entries.size() >= MAX_ENTRIES) {
            evict(now);
        }
        entries.put(key, new Entry(now + ttlNanos, List.copyOf(fields)));
    }

    /** Drops expired entries; if the table is still full, drops others until a tenth of it is free. */
    private void evict(long now) {
        entries.values().removeIf(e -> now - e.expiresNanos >= 0);
        Iterator<Key> it = entries.keySet().iterator();
        while (entries.size() > MAX_ENTRIES - MAX_ENTRIES / 10 && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** @return the entries held, expired ones included until they are swept */
    int size() {
        return entries.size();
    }
}
