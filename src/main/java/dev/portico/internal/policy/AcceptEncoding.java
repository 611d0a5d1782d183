package dev.portico.internal.policy;

import dev.portico.policy.Headers;
import java.util.List;
import java.util.Locale;

/**
 * Content negotiation on {@code Accept-Encoding} (RFC 9110 section 12.5.3), with the q-values read exactly
 * ({@code 0}, {@code 0.5}, {@code 1.000}; three decimals at most). The chosen encoding is the one with the highest
 * weight among those Portico offers; equal weights go by Portico's order of preference. A coding the client does not
 * list is acceptable only through {@code *}; {@code x-gzip} is {@code gzip}; {@code q=0} excludes. Identity competes
 * when the client weighs it ({@code identity;q=...}, or {@code *} when identity is not listed): if it outweighs every
 * offered coding, the response goes as it is. No field at all, or an empty one, means identity: a client that does
 * not ask for a coding gets none (as with nginx). When nothing offered is acceptable, the response goes unencoded
 * even if identity was refused, which RFC 9110 allows. Malformed members (a bad q-value, another parameter) are
 * ignored. Stateless.
 */
final class AcceptEncoding {
    private static final int UNLISTED = -1;

    private AcceptEncoding() {
    }

    /**
     * @param fieldValues every {@code Accept-Encoding} line of the request
     * @param offered the encodings Portico can use, in its order of preference
     * @return the chosen element of {@code offered}, or {@code null} for identity
     */
    static String negotiate(List<String> fieldValues, List<String> offered) {
        if (fieldValues.isEmpty() || offered.isEmpty()) {
            return null;
        }
        int[] q = new int[offered.size()];
        java.util.Arrays.fill(q, UNLISTED);
        int star = UNLISTED;
        int identity = UNLISTED;
        for (String line : fieldValues) {
            for (String member : line.split(",", -1)) {
                int semi = member.indexOf(';');
                String coding = (semi < 0 ? member : member.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
                int weight = semi < 0 ? 1000 : weight(member.substring(semi + 1));
                if (weight < 0 || !(coding.equals("*") || Headers.isFieldName(coding))) {
                    continue; // empty list elements and malformed members count for nothing
                }
                if (coding.equals("x-gzip")) {
                    coding = "gzip";
                }
                // A coding listed twice keeps its first weight.
                if (coding.equals("*")) {
                    star = star == UNLISTED ? weight : star;
                } else if (coding.equals("identity")) {
                    identity = identity == UNLISTED ? weight : identity;
                } else {
                    int i = offered.indexOf(coding);
                    if (i >= 0 && q[i] == UNLISTED) {
                        q[i] = weight;
                    }
                }
            }
        }
        int best = -1;
        int bestWeight = 0;
        for (int i = 0; i < q.length; i++) {
            int w = q[i] != UNLISTED ? q[i] : star != UNLISTED ? star : 0;
            if (w > bestWeight) { // strictly: among equals the earlier, preferred one stays
                best = i;
                bestWeight = w;
            }
        }
        if (best < 0) {
            return null;
        }
        int identityWeight = identity != UNLISTED ? identity : star;
        return identityWeight > bestWeight ? null : offered.get(best);
    }

    /**
     * @param params what follows the coding's {@code ;}: {@code q=0.5} with optional whitespace around it
     * @return the weight in thousandths, or -1 if malformed
     */
    static int weight(String params) {
        String p = params.trim();
        if (p.length() < 3 || (p.charAt(0) != 'q' && p.charAt(0) != 'Q')) {
            return -1;
        }
        int eq = 1;
        while (eq < p.length() && (p.charAt(eq) == ' ' || p.charAt(eq) == '\t')) {
            eq++;
        }
        if (eq >= p.length() || p.charAt(eq) != '=') {
            return -1;
        }
        return qvalue(p.substring(eq + 1).trim());
    }

    /** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if malformed. */
    static int qvalue(String v) {
        if (v.isEmpty() || v.length() > 5 || (v.length() > 1 && v.charAt(1) != '.')) {
            return -1;
        }
        char first = v.charAt(0);
        if (first != '0' && first != '1') {
            return -1;
        }
        int result = (first - '0') * 1000;
        int scale = 100;
        for (int i = 2; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9' || (first == '1' && c != '0')) {
                return -1;
            }
            result += (c - '0') * scale;
            scale /= 10;
        }
        return result;
    }
}
