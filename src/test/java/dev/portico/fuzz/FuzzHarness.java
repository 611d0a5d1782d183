package dev.portico.fuzz;

import dev.portico.ProxyServer;
import dev.portico.config.ProxyConfig;
import dev.portico.config.TimeoutsConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Portico (127.0.0.1:0, one worker, short timeouts) in front of a {@link RecordingBackend}, and the way a fuzz
 * input is played against it.
 * <p>
 * Portico does not support half-closed client connections: a client EOF aborts the exchange in flight, even for a
 * complete request. So the client does not half-close right after sending: it reads until the line is quiet for
 * {@code quietMillis} <em>and</em> every request the backend parsed in this try has been answered on the client
 * connection, and only then shuts its output down, so the proxy sees EOF for whatever incomplete input is left,
 * and reads on to EOF (at most 3 s).
 */
final class FuzzHarness implements AutoCloseable {
    static final long FAST_QUIET_MILLIS = 60;
    /** Longer than {@code request_header}: an incomplete head is answered 408 rather than cut by EOF (warm-up). */
    static final long SLOW_QUIET_MILLIS = 500;
    private static final long PHASE_MILLIS = 3000;

    /** What one try produced. */
    record TryResult(byte[] input, byte[] received, boolean closedByProxy, List<RecordingBackend.Event> backend,
                     boolean backendSettled, List<String> access, List<String> crashes, List<String> warnings,
                     String canaryProblem, long millis) {
    }

    private static final Pattern REQUEST_ID = Pattern.compile("(?i)\r\nX-Request-Id: ?([!-~]+)\r\n");

    private final RecordingBackend backend;
    private final Set<RecordingBackend.Event> late = Collections.newSetFromMap(new IdentityHashMap<>());
    private final ProxyServer proxy;
    private final LogCapture logs;
    private int canaries;
    private boolean closed;

    FuzzHarness() throws IOException {
        backend = new RecordingBackend();
        logs = new LogCapture();
        try {
            // connect 1s, response 2s, idle 1s, request_header 300ms, drain 1s: truncated inputs end quickly.
            proxy = new ProxyServer(ProxyConfig.builder().listen("127.0.0.1", 0).workers(1)
                    .timeouts(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(1),
                            Duration.ofMillis(300), Duration.ofSeconds(1)))
                    .route("/", backend.url()).build()).start();
        } catch (RuntimeException e) {
            logs.close();
            backend.close();
            throw e;
        }
    }

    /**
     * Plays {@code input} on a fresh connection, then a canary request on another. Synchronized: jqwik's bounded
     * shrinking goes on in a thread of its own after it stops waiting for it, and tries must not overlap.
     */
    synchronized TryResult play(byte[] input, long quietMillis) throws IOException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("shrinking was stopped");
        }
        if (closed) {
            throw new IllegalStateException("the fuzz harness is closed");
        }
        long t0 = System.nanoTime();
        int mark = backend.mark();
        int accessMark = logs.accessMark();
        int crashMark = logs.crashMark();
        int warnMark = logs.warningMark();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        boolean eof = false;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout(5);
            try {
                s.getOutputStream().write(input);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the proxy answered and closed before taking all of the input: read what it said
            }
            InputStream in = s.getInputStream();
            byte[] buf = new byte[16 * 1024];
            long last = System.nanoTime();
            long deadline = last + PHASE_MILLIS * 1_000_000;
            boolean halfClosed = false;
            while (!eof) {
                try {
                    int n = in.read(buf);
                    if (n < 0) {
                        eof = true;
                    } else {
                        got.write(buf, 0, n);
                        last = System.nanoTime();
                    }
                } catch (SocketTimeoutException e) {
                    // poll again
                } catch (IOException e) {
                    eof = true; // reset: the proxy is gone from this connection too
                }
                long now = System.nanoTime();
                if (!eof && !halfClosed) {
                    boolean quiet = now - last >= quietMillis * 1_000_000;
                    long parsed = own(backend.eventsSince(mark), accessMark).stream()
                            .filter(e -> e instanceof RecordingBackend.Parsed).count();
                    if ((quiet && Wire.backendAnswers(got.toByteArray()) >= parsed)
                            || now > deadline) {
                        try {
                            s.shutdownOutput();
                        } catch (IOException e) {
                            eof = true;
                        }
                        halfClosed = true;
                        deadline = now + PHASE_MILLIS * 1_000_000;
                    }
                } else if (!eof && now > deadline) {
                    break;
                }
            }
        }
        boolean settled = awaitBackendSettled();
        List<RecordingBackend.Event> events = own(backend.eventsSince(mark), accessMark);
        List<String> access = logs.accessSince(accessMark);
        String canary = canary();
        return new TryResult(input, got.toByteArray(), eof, events, settled, access, logs.crashesSince(crashMark),
                logs.warningsSince(warnMark), canary, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Waits until no backend connection holds a partial request (the proxy discarded the ones it abandoned). */
    private boolean awaitBackendSettled() throws InterruptedException {
        long deadline = System.nanoTime() + 1500 * 1_000_000L;
        while (backend.anyMidRequest()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(2);
        }
        return true;
    }

    /** A valid request on a fresh connection: null if it got its 200 from the backend, else what went wrong. */
    synchronized String canary() throws IOException {
        String path = "/canary/" + (++canaries);
        int mark = backend.mark();
        int accessMark = logs.accessMark();
        byte[] got;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout((int) PHASE_MILLIS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: canary.test\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            try {
                got = s.getInputStream().readAllBytes();
            } catch (SocketTimeoutException e) {
                return "canary " + path + " got no complete answer within 3 s";
            }
        }
        List<String> malformed = new ArrayList<>();
        List<Wire.Response> rs = Wire.responses(got, malformed);
        List<RecordingBackend.Event> events = own(backend.eventsSince(mark), accessMark);
        List<RecordingBackend.Event> parsed = events.stream()
                .filter(e -> e instanceof RecordingBackend.Parsed).toList();
        boolean ok = malformed.isEmpty() && rs.size() == 1 && rs.get(0).status() == 200 && parsed.size() == 1
                && rs.get(0).echo() != null && rs.get(0).echo().equals(((RecordingBackend.Parsed) parsed.get(0)).echo())
                && ((RecordingBackend.Parsed) parsed.get(0)).request().target().equals(path)
                && events.stream().noneMatch(e -> e instanceof RecordingBackend.Rejected);
        return ok ? null : "canary " + path + " answered " + rs + " " + malformed + ", backend saw " + events
                + " (client got \"" + Wire.escape(got, 400) + "\")";
    }

    /**
     * The backend events of the try that began at {@code accessMark}, without the late ones of earlier tries. A try
     * whose backend has not answered within the quiet period half-closes, and Portico, which ends the exchange on
     * the client's EOF, closes the upstream connection; but the request was forwarded, and the backend, which reads
     * on a thread per connection that a busy machine may run late, can still parse it after the next try began.
     * Portico gives each exchange its own X-Request-Id, logged in the access line written when the exchange ended:
     * a request whose id is in a line logged before this try belongs to an earlier exchange, not to this try.
     */
    private List<RecordingBackend.Event> own(List<RecordingBackend.Event> events, int accessMark) {
        List<RecordingBackend.Event> mine = new ArrayList<>(events.size());
        for (RecordingBackend.Event e : events) {
            String id = requestId(e);
            if (id != null && logs.loggedBefore(accessMark, id)) {
                late.add(e);
            } else {
                mine.add(e);
            }
        }
        return mine;
    }

    private static String requestId(RecordingBackend.Event e) {
        if (e instanceof RecordingBackend.Parsed p) {
            return p.request().headers().stream().filter(f -> f.name().equalsIgnoreCase("X-Request-Id"))
                    .map(StrictHttpParser.Field::value).findFirst().orElse(null);
        }
        if (e instanceof RecordingBackend.Truncated t) {
            Matcher m = REQUEST_ID.matcher(new String(t.partial(), StandardCharsets.ISO_8859_1));
            return m.find() ? m.group(1) : null;
        }
        return null;
    }

    /** @return backend events that came late, after the try of their exchange was over (for the summary) */
    synchronized List<RecordingBackend.Event> late() {
        return List.copyOf(late);
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        try {
            proxy.stop();
        } finally {
            try {
                backend.close();
            } finally {
                logs.close();
            }
        }
    }
}
