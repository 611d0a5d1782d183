package dev.portico.internal.server;

import io.netty.buffer.ByteBuf;

/**
 * Follows the bytes of a chunked request body as the decoder consumes them, to check what Netty's decoder does not:
 * the chunk extensions (RFC 9112 section 7.1.1):
 * {@code chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )}, a name being a token and a
 * value a token or a quoted-string. Chunk sizes, line endings and trailers are the decoder's to check; this only
 * counts the chunk data to find the next size line. One per connection, reset for each chunked body.
 */
final class ChunkLineScanner {
    private static final int SIZE = 0;
    private static final int BWS_BEFORE_SEMI = 1;
    private static final int AFTER_SEMI = 2;
    private static final int NAME = 3;
    private static final int AFTER_NAME = 4;
    private static final int AFTER_EQUALS = 5;
    private static final int TOKEN_VALUE = 6;
    private static final int AFTER_VALUE = 7;
    private static final int QUOTED = 8;
    private static final int QUOTED_PAIR = 9;
    private static final int AFTER_QUOTE = 10;
    private static final int LINE_CR = 11;
    private static final int DATA = 12;
    private static final int DATA_END = 13;
    /** The last chunk's line was read: trailers follow, checked by the decoder. */
    private static final int DONE = 14;

    private int state = SIZE;
    private long remaining;

    /** Starts a new chunked body. */
    void reset() {
        state = SIZE;
        remaining = 0;
    }

    /**
     * @param buffer the bytes the decoder consumed
     * @param from the first of them
     * @param to the end of them (exclusive)
     * @return false if a chunk line broke the chunk-ext grammar
     */
    boolean scan(ByteBuf buffer, int from, int to) {
        int i = from;
        while (i < to && state != DONE) {
            if (state == DATA) {
                int n = (int) Math.min(remaining, to - i);
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    state = DATA_END;
                }
                continue;
            }
            if (!next(buffer.getByte(i++))) {
                return false;
            }
        }
        return true;
    }

    /** One byte of a size line, or of the CRLF after chunk data. */
    boolean next(byte b) {
        switch (state) {
            case SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    if (remaining > (Long.MAX_VALUE >> 4)) {
                        state = DONE; // the decoder refuses this size; nothing more to follow
                        return true;
                    }
                    remaining = remaining * 16 + digit;
                    return true;
                }
                return afterValue(b, BWS_BEFORE_SEMI);
            }
            case BWS_BEFORE_SEMI, AFTER_VALUE -> {
                return isBws(b) || semicolon(b);
            }
            case AFTER_SEMI -> {
                return isBws(b) || token(b, NAME);
            }
            case NAME -> {
                if (isTchar(b)) {
                    return true;
                }
                if (b == '=') {
                    state = AFTER_EQUALS;
                    return true;
                }
                return afterValue(b, AFTER_NAME);
            }
            case AFTER_NAME -> {
                if (b == '=') {
                    state = AFTER_EQUALS;
                    return true;
                }
                return isBws(b) || semicolon(b);
            }
            case AFTER_EQUALS -> {
                if (b == '"') {
                    state = QUOTED;
                    return true;
                }
                return isBws(b) || token(b, TOKEN_VALUE);
            }
            case TOKEN_VALUE -> {
                return isTchar(b) || afterValue(b, AFTER_VALUE);
            }
            case QUOTED -> {
                if (b == '"') {
                    state = AFTER_QUOTE;
                } else if (b == '\\') {
                    state = QUOTED_PAIR;
                } else {
                    return b == '\t' || (b >= 0x20 && b != 0x7f) || b < 0; // qdtext, obs-text
                }
                return true;
            }
            case QUOTED_PAIR -> {
                state = QUOTED;
                return b == '\t' || (b >= 0x20 && b != 0x7f) || b < 0;
            }
            case AFTER_QUOTE -> {
                return afterValue(b, AFTER_VALUE);
            }
            case LINE_CR -> {
                state = remaining == 0 ? DONE : DATA;
                return b == '\n';
            }
            case DATA_END -> {
                if (b == '\n') {
                    state = SIZE;
                }
                return true;
            }
            default -> {
                return true;
            }
        }
    }

    /** After a size, name or value: whitespace, ';' or the line's CR may follow. */
    private boolean afterValue(byte b, int whitespaceState) {
        if (isBws(b)) {
            state = whitespaceState;
            return true;
        }
        if (b == '\r') {
            state = LINE_CR;
            return true;
        }
        return semicolon(b);
    }

    private boolean semicolon(byte b) {
        if (b == ';') {
            state = AFTER_SEMI;
            return true;
        }
        return false;
    }

    private boolean token(byte b, int tokenState) {
        if (isTchar(b)) {
            state = tokenState;
            return true;
        }
        return false;
    }

    private static boolean isBws(byte b) {
        return b == ' ' || b == '\t';
    }

    /** RFC 9110 section 5.6.2: {@code tchar}. */
    static boolean isTchar(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || (b > 0x20 && b < 0x7f && "!#$%&'*+-.^_`|~".indexOf(b) >= 0);
    }
}
