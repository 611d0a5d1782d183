package dev.portico.fuzz;

import dev.portico.fuzz.FuzzHarness.TryResult;
import dev.portico.fuzz.RecordingBackend.Event;
import dev.portico.fuzz.RecordingBackend.Parsed;
import dev.portico.fuzz.RecordingBackend.Rejected;
import dev.portico.fuzz.RecordingBackend.Truncated;
import dev.portico.fuzz.StrictHttpParser.Complete;
import dev.portico.fuzz.StrictHttpParser.Field;
import dev.portico.fuzz.StrictHttpParser.Incomplete;
import dev.portico.fuzz.StrictHttpParser.Invalid;
import dev.portico.fuzz.StrictHttpParser.Mode;
import dev.portico.fuzz.StrictHttpParser.Request;
import dev.portico.fuzz.StrictHttpParser.Result;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The properties every try must have. Each problem is one line naming the invariant it breaks:
 * <ul>
 * <li>(a) an answer: the client gets at least one response, unless the input is incomplete: it holds no complete
 *     head (no empty line after the first line, with CRLF or LF endings), or the reference parser finds the body
 *     of its first request unfinished, or the proxy forwarded a request whose body never completed (the backend
 *     saw it cut off). Then the proxy may just close when the client's EOF comes. In every case the proxy closes
 *     the connection within 3 s of the client's EOF;</li>
 * <li>(b) every response is a well-formed 200 relayed from the backend, echoing the next request the backend parsed
 *     in this try, or a 4xx/5xx from the proxy itself, which is the last response on its connection;</li>
 * <li>(c) the backend's strict parser accepts every byte the proxy sent it, and no partial request lingers on an
 *     upstream connection after the client went away;</li>
 * <li>(d) the backend parsed exactly as many requests as the client got 200s (a request of an earlier try that the
 *     backend parsed late is that try's: {@link FuzzHarness} leaves it out by its X-Request-Id);</li>
 * <li>(e) a canary request on a fresh connection afterwards gets its own 200 (no desynchronized pooled
 *     connection), and nothing was logged with an exception (no crash);</li>
 * <li>(f) the access log has a line for each response sent (408 for a slow head excepted), with its status, in
 *     order, and for each 200 the method and (origin-form) target the backend received; a trailing line for an
 *     exchange whose client had already gone is only counted;</li>
 * <li>(g) what the backend received is normalized: no hop-by-hop field, {@code Via} and {@code X-Forwarded-For}
 *     appended;</li>
 * <li>(h) against the reference parse of the input ({@link Mode#CLIENT}, reading past the soft reasons a lenient
 *     but safe proxy may accept): a 200 means the backend got the same method, origin-form target, Host,
 *     end-to-end fields and body bytes; no 200 for a request the reference finds incomplete, or invalid for a
 *     hard reason (DESIGN.md section 6, or framing that has no safe reading).</li>
 * </ul>
 */
final class Invariants {
    /** The combined format with request id, duration, upstream and upstream time appended. */
    private static final Pattern ACCESS = Pattern.compile("^(\\S+) - - \\[[^\\]]+] \"((?:[^\"\\\\]|\\\\.)*)\" (\\d+|-) "
            + "(\\d+|-) \"(?:[^\"\\\\]|\\\\.)*\" \"(?:[^\"\\\\]|\\\\.)*\" (\\S+) (\\d+) (\\S+) (\\S+)$");
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade");
    /** Fields Portico sets or re-frames itself, compared separately from the end-to-end ones. */
    private static final Set<String> REWRITTEN = Set.of("host", "content-length", "transfer-encoding", "expect",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "via", "x-request-id");

    private Invariants() {
    }

    static List<String> check(TryResult r, FuzzStats stats) {
        List<String> p = new ArrayList<>();
        List<String> malformed = new ArrayList<>();
        List<Wire.Response> rs = Wire.responses(r.received(), malformed);
        List<Parsed> parsed = new ArrayList<>();
        boolean truncatedUpstream = false;
        for (Event e : r.backend()) {
            if (e instanceof Parsed) {
                parsed.add((Parsed) e);
                if (!((Parsed) e).request().tolerated().isEmpty()) {
                    stats.note("forwarded a target that is not RFC 3986 origin-form", ((Parsed) e).request().method()
                            + " " + ((Parsed) e).request().target());
                }
            } else if (e instanceof Rejected) {
                p.add("(c) the proxy forwarded bytes the strict parser rejects: " + e);
            } else if (e instanceof Truncated) {
                truncatedUpstream = true;
                stats.note("forwarded head, body cut off by client EOF", e.toString());
            }
        }
        malformed.forEach(m -> p.add("(b) the proxy sent bytes that are not a response: " + m));
        if (!r.backendSettled()) {
            p.add("(c) an upstream connection still holds a partial request 1.5 s after the client left");
        }

        if (rs.isEmpty() && malformed.isEmpty() && hasCompleteHead(r.input()) && !truncatedUpstream
                && !firstRequestIncomplete(r.input())) {
            p.add("(a) no response, though the input holds a complete head and nothing reached the backend in part");
        }
        if (!r.closedByProxy()) {
            p.add("(a) the proxy kept the connection open 3 s after the client's EOF");
        }

        int k = 0;
        for (int i = 0; i < rs.size(); i++) {
            Wire.Response x = rs.get(i);
            stats.note("status " + x.status(), "");
            if (x.status() == 200 && x.echo() != null) {
                if (k >= parsed.size()) {
                    p.add("(b) response " + i + " [" + x.echo() + "] answers no request the backend parsed in this try");
                } else if (!x.echo().equals(parsed.get(k).echo())) {
                    p.add("(b) response " + i + " echoes [" + x.echo() + "] but the backend's next request was ["
                            + parsed.get(k).echo() + "]");
                }
                if (x.truncated() || !x.headers().getOrDefault("via", "").endsWith("1.1 portico")) {
                    p.add("(b) response " + i + " relayed truncated or without Via: " + x.headers());
                }
                k++;
            } else if (x.status() >= 400 && x.status() <= 599 && x.echo() == null) {
                if (i != rs.size() - 1) {
                    p.add("(b) error response " + x.status() + " is followed by more responses: " + rs);
                }
            } else {
                p.add("(b) unexpected response " + i + ": " + x + " " + x.headers());
            }
        }
        if (k != parsed.size()) {
            p.add("(d) the backend parsed " + parsed.size() + " requests, the client got " + k + " 200s: " + rs);
        }
        if (r.canaryProblem() != null) {
            p.add("(e) " + r.canaryProblem());
        }
        r.crashes().forEach(c -> p.add("(e) logged exception: " + c));
        checkAccessLog(r.access(), rs, parsed, p, stats);
        parsed.forEach(x -> checkNormalized(x.request(), p));
        checkAgainstReference(r.input(), rs, parsed, p, stats);
        return p;
    }

    /**
     * A head is complete once an empty line follows the first line, with CRLF or bare LF endings. (A parser that
     * ended lines at a bare CR would see more complete heads; Portico waiting for more there is safe.)
     */
    static boolean hasCompleteHead(byte[] in) {
        int s = 0;
        while (s < in.length && (in[s] == '\r' || in[s] == '\n')) {
            s++;
        }
        byte[] rest = Arrays.copyOfRange(in, s, in.length);
        return Wire.indexOf(rest, 0, "\n\r\n") >= 0 || Wire.indexOf(rest, 0, "\n\n") >= 0;
    }

    /** Whether the reference parser reads a valid head in front of a body that the input does not finish. */
    private static boolean firstRequestIncomplete(byte[] in) {
        List<Result> ref = StrictHttpParser.parseAll(in, Mode.CLIENT, StrictHttpParser.TOLERABLE);
        return !ref.isEmpty() && ref.get(0) instanceof Incomplete;
    }

    private static void checkAccessLog(List<String> lines, List<Wire.Response> rs, List<Parsed> parsed,
                                       List<String> p, FuzzStats stats) {
        List<String[]> logged = new ArrayList<>();
        for (String line : lines) {
            Matcher m = ACCESS.matcher(line);
            if (!m.matches()) {
                p.add("(f) access log line does not parse: " + line);
                return;
            }
            String req = m.group(2);
            int a = req.indexOf(' ');
            int z = req.lastIndexOf(' ');
            if (a < 0 || z <= a) {
                p.add("(f) access log request is not METHOD TARGET VERSION: " + line);
                return;
            }
            if (!m.group(3).equals("-") && !m.group(3).equals("408")) {
                logged.add(new String[] {m.group(3), req.substring(0, a), req.substring(a + 1, z), line});
            }
        }
        List<Wire.Response> answered = rs.stream().filter(x -> x.status() != 408).toList();
        List<String> want = answered.stream().map(x -> Integer.toString(x.status())).toList();
        List<String> got = logged.stream().map(l -> l[0]).toList();
        if (got.size() < want.size() || !got.subList(0, want.size()).equals(want)) {
            p.add("(f) statuses sent " + want + " but logged " + got + ": " + lines);
            return;
        }
        if (got.size() > want.size()) {
            stats.note("access log has a status never sent (client already gone)", lines.toString());
        }
        int k = 0;
        for (String[] l : logged) {
            if (l[0].equals("200") && k < parsed.size()) {
                Request b = parsed.get(k++).request();
                Request asLogged = new Request(l[1], l[2], "", List.of(), new byte[0], false, List.of(), 0, List.of());
                if (!b.method().equals(l[1]) || !b.target().equals(asLogged.originForm())) {
                    p.add("(f) logged " + l[3] + " but the backend received " + b.method() + " " + b.target());
                }
            }
        }
    }

    private static void checkNormalized(Request b, List<String> p) {
        for (Field f : b.headers()) {
            if (HOP_BY_HOP.contains(f.name().toLowerCase(Locale.ROOT)) && !(f.name().equalsIgnoreCase(
                    "transfer-encoding") && b.chunked())) {
                p.add("(g) hop-by-hop field forwarded: " + f);
            }
        }
        List<String> via = b.all("via");
        List<String> xff = b.all("x-forwarded-for");
        if (via.size() != 1 || !via.get(0).endsWith("1.1 portico") || xff.size() != 1
                || !xff.get(0).endsWith("127.0.0.1") || !b.all("x-forwarded-proto").equals(List.of("http"))) {
            p.add("(g) Via / X-Forwarded-* not as documented: " + b.headers());
        }
    }

    private static void checkAgainstReference(byte[] input, List<Wire.Response> rs, List<Parsed> parsed,
                                              List<String> p, FuzzStats stats) {
        List<Result> ref = StrictHttpParser.parseAll(input, Mode.CLIENT, StrictHttpParser.TOLERABLE);
        for (int i = 0; i < ref.size() && i < rs.size(); i++) {
            Result q = ref.get(i);
            Wire.Response x = rs.get(i);
            boolean ok = x.status() == 200 && x.echo() != null && i < parsed.size();
            if (q instanceof Complete) {
                Request c = ((Complete) q).request();
                if (ok) {
                    compare(i, c, parsed.get(i).request(), p);
                    if (!c.tolerated().isEmpty()) {
                        stats.note("strictly invalid " + new java.util.TreeSet<>(c.tolerated()) + ", forwarded",
                                Wire.escape(input, 400));
                    }
                } else if (c.tolerated().isEmpty()) {
                    stats.note("strictly valid, refused with " + x.status(), Wire.escape(input, 400));
                }
                continue;
            }
            if (ok && q instanceof Incomplete) {
                p.add("(h) the proxy forwarded request " + i + " although its body is incomplete (strictly)");
            } else if (ok && q instanceof Invalid && ((Invalid) q).reason().hard) {
                p.add("(h) the proxy forwarded request " + i + " which it must reject: " + q);
            } else if (ok && q instanceof Invalid) {
                stats.note("strictly invalid (" + ((Invalid) q).reason() + "), forwarded", Wire.escape(input, 400));
            }
            break;
        }
    }

    private static void compare(int i, Request c, Request b, List<String> p) {
        String host = c.authority() != null ? c.authority() : c.all("host").isEmpty() ? null : c.all("host").get(0);
        List<String> diffs = new ArrayList<>();
        if (!b.method().equals(c.method())) {
            diffs.add("method " + b.method());
        }
        if (!b.target().equals(c.originForm())) {
            diffs.add("target " + b.target());
        }
        if (host != null && !b.all("host").equals(List.of(host))) {
            diffs.add("Host " + b.all("host"));
        }
        if (!Arrays.equals(b.body(), c.body())) {
            diffs.add("body " + Wire.escape(b.body(), 100) + " instead of " + Wire.escape(c.body(), 100));
        }
        if (!endToEnd(b.headers(), Set.of()).equals(endToEnd(c.headers(), connectionOptions(c)))) {
            diffs.add("fields " + endToEnd(b.headers(), Set.of()) + " instead of "
                    + endToEnd(c.headers(), connectionOptions(c)));
        }
        // Trailers may be dropped (nginx does), but what is forwarded must be what the client sent.
        if (!b.trailers().isEmpty() && (c.tolerated().contains(StrictHttpParser.Reason.BAD_TRAILER)
                || !endToEnd(b.trailers(), Set.of()).equals(endToEnd(c.trailers(), Set.of())))) {
            diffs.add("trailers " + b.trailers() + " instead of " + c.trailers());
        }
        if (!diffs.isEmpty()) {
            p.add("(h) request " + i + " forwarded with " + String.join(", ", diffs));
        }
    }

    private static Set<String> connectionOptions(Request c) {
        Set<String> out = new HashSet<>();
        for (String v : c.all("connection")) {
            for (String t : v.split(",")) {
                out.add(t.trim().toLowerCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static List<String> endToEnd(List<Field> fields, Set<String> alsoDropped) {
        List<String> out = new ArrayList<>();
        for (Field f : fields) {
            String n = f.name().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(n) && !REWRITTEN.contains(n) && !alsoDropped.contains(n)) {
                out.add(n + ": " + f.value());
            }
        }
        return out;
    }
}
