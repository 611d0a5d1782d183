package dev.portico.internal.policy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The token bucket as one Lua script, so a decision is atomic in Redis whatever the number of Portico instances.
 * Time is Redis's {@code TIME} (instances' clocks never disagree); a bucket is a hash with tokens and timestamp that
 * expires once it would be full again. {@code ARGV}: rate, period in microseconds, burst, tokens wanted. Grants the
 * tokens wanted, or when fewer are left (a lease) the whole ones there are, or none. Returns granted, whole tokens
 * left, milliseconds until the tokens wanted are there (0 if they were granted), milliseconds until full.
 */
final class RedisScript {
    static final RedisScript TOKEN_BUCKET = new RedisScript("""
            local rate = tonumber(ARGV[1])
            local per = tonumber(ARGV[2])
            local burst = tonumber(ARGV[3])
            local want = tonumber(ARGV[4])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local b = redis.call('HMGET', KEYS[1], 'tk', 'ts')
            local tokens = tonumber(b[1])
            local ts = tonumber(b[2])
            if tokens == nil or ts == nil then
              tokens = burst
              ts = now
            end
            if now > ts then
              tokens = math.min(burst, tokens + (now - ts) * rate / per)
              ts = now
            end
            local granted = 0
            if tokens >= want then
              granted = want
            elseif tokens >= 1 then
              granted = math.floor(tokens)
            end
            tokens = tokens - granted
            local full = math.ceil((burst - tokens) * per / rate / 1000)
            redis.call('HSET', KEYS[1], 'tk', string.format('%.6f', tokens), 'ts', string.format('%.0f', ts))
            redis.call('PEXPIRE', KEYS[1], full + 1000)
            local wait = 0
            if granted < want then
              wait = math.ceil((want - tokens) * per / rate / 1000)
            end
            return {granted, math.floor(tokens), wait, full}
            """);

    private final String text;
    private final String sha;

    private RedisScript(String text) {
        this.text = text;
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            this.sha = HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    String text() {
        return text;
    }

    String sha() {
        return sha;
    }
}
