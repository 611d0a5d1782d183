package dev.portico.internal.balance;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A consistent-hash ring over a fixed set of endpoints: each endpoint owns points in proportion to its weight, and
 * a key belongs to the first point at or after its hash. Adding an endpoint moves only the keys its new points
 * take, about 1/N of them. Immutable.
 */
final class HashRing {
    /** Points per unit of weight. */
    static final int POINTS_PER_WEIGHT = 160;
    /** Weights above this count as this many units, to bound the ring's size. */
    static final int MAX_WEIGHT_UNITS = 16;

    private final long[] hashes;
    private final int[] owners;

    HashRing(Endpoint[] endpoints) {
        int total = 0;
        for (Endpoint e : endpoints) {
            total += points(e);
        }
        long[][] pairs = new long[total][];
        int n = 0;
        for (int i = 0; i < endpoints.length; i++) {
            int p = points(endpoints[i]);
            for (int k = 0; k < p; k++) {
                pairs[n++] = new long[] {hash(endpoints[i].text() + "#" + k), i};
            }
        }
        Arrays.sort(pairs, (a, b) -> Long.compare(a[0], b[0]));
        hashes = new long[total];
        owners = new int[total];
        for (int i = 0; i < total; i++) {
            hashes[i] = pairs[i][0];
            owners[i] = (int) pairs[i][1];
        }
    }

    private static int points(Endpoint e) {
        return POINTS_PER_WEIGHT * Math.min(e.weight(), MAX_WEIGHT_UNITS);
    }

    /** @return the index of the first ring point at or after {@code keyHash}, wrapping around */
    int firstPoint(long keyHash) {
        int i = Arrays.binarySearch(hashes, keyHash);
        if (i < 0) {
            i = -i - 1;
        }
        return i == hashes.length ? 0 : i;
    }

    /** @return the number of points */
    int size() {
        return hashes.length;
    }

    /** @return the endpoint index owning point {@code point} (taken modulo the ring size) */
    int owner(int point) {
        return owners[point % owners.length];
    }

    /** A 64-bit FNV-1a of the UTF-8 bytes, finished with a MurmurHash3 mix so nearby keys spread over the ring. */
    static long hash(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
