package dev.portico.policy;

import java.util.List;
import java.util.Set;

/**
 * The header fields of a request or response head. Names are case-insensitive. Changes made by a request phase
 * are what the backend receives; changes made by a response phase are what the client receives.
 */
public interface Headers {
    /**
     * @param name a field name
     * @return the first value of the field, or {@code null} if absent
     */
    String get(CharSequence name);

    /**
     * @param name a field name
     * @return every value of the field, in order (each field line one element), empty if absent
     */
    List<String> getAll(CharSequence name);

    /**
     * @param name a field name
     * @return whether the field is present
     */
    boolean contains(CharSequence name);

    /**
     * Replaces every line of the field, whatever the case of its name, with one line.
     *
     * @param name a field name
     * @param value its value
     */
    void set(CharSequence name, String value);

    /**
     * Appends a field line, keeping those already present.
     *
     * @param name a field name
     * @param value its value
     */
    void add(CharSequence name, String value);

    /**
     * Removes every line of the field.
     *
     * @param name a field name
     */
    void remove(CharSequence name);

    /** @return the names present, in lower case */
    Set<String> names();

    /**
     * @param s a candidate field name
     * @return whether {@code s} is a non-empty token (RFC 9110 section 5.6.2), as field names are
     */
    static boolean isFieldName(CharSequence s) {
        if (s.length() == 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && "!#$%&'*+-.^_`|~".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param s a candidate field value
     * @return whether {@code s} may be a field value: visible characters, spaces and tabs, no edge whitespace
     */
    static boolean isFieldValue(CharSequence s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return n == 0 || (s.charAt(0) != ' ' && s.charAt(0) != '\t' && s.charAt(n - 1) != ' '
                && s.charAt(n - 1) != '\t');
    }
}
