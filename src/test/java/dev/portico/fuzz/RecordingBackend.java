package dev.portico.fuzz;

import dev.portico.fuzz.StrictHttpParser.Complete;
import dev.portico.fuzz.StrictHttpParser.Invalid;
import dev.portico.fuzz.StrictHttpParser.Mode;
import dev.portico.fuzz.StrictHttpParser.Request;
import dev.portico.fuzz.StrictHttpParser.Result;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;

/**
 * The backend behind the proxy under fuzz: a plain server socket, a thread per connection, recording every byte
 * each connection receives and parsing it with the {@link StrictHttpParser} in {@link Mode#UPSTREAM}. Each request
 * parsed gets a global id and the answer {@code 200} with {@code X-Fuzz-Echo: ID METHOD TARGET BODYLEN CRC32} (also
 * the body, except for HEAD), so the client can tell which parsed request a response belongs to. Bytes the parser
 * rejects are recorded, answered 500 and the connection closed.
 */
final class RecordingBackend implements AutoCloseable {
    /** Something the backend saw, in the order it happened. */
    sealed interface Event permits Parsed, Rejected, Truncated {
    }

    /** A request parsed strictly, answered 200. */
    record Parsed(long id, int conn, Request request) implements Event {
        String echo() {
            CRC32 crc = new CRC32();
            crc.update(request.body());
            return id + " " + request.method() + " " + request.target() + " " + request.body().length + " "
                    + Long.toHexString(crc.getValue());
        }
    }

    /** Bytes on connection {@code conn} at {@code offset} that the strict parser rejected. */
    record Rejected(int conn, Invalid invalid, byte[] connBytes, int offset) implements Event {
        @Override
        public String toString() {
            return "backend conn " + conn + " rejected " + invalid + " in: "
                    + Wire.escape(java.util.Arrays.copyOfRange(connBytes, offset, connBytes.length), 600);
        }
    }

    /** The proxy closed connection {@code conn} in the middle of a request (its bytes so far are valid). */
    record Truncated(int conn, byte[] partial) implements Event {
        @Override
        public String toString() {
            return "backend conn " + conn + " closed mid-request after: " + Wire.escape(partial, 300);
        }
    }

    /**
     * Portico forwards the target byte for byte (README), so a target that is printable ASCII but not RFC 3986
     * (say a lone {@code %}) is parsed on and flagged in {@link Request#tolerated()} rather than refused.
     */
    private static final java.util.Set<StrictHttpParser.Reason> TOLERATED =
            java.util.Set.of(StrictHttpParser.Reason.BAD_TARGET);

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fuzz-backend");
        t.setDaemon(true);
        return t;
    });
    private final List<Event> events = new ArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    /** Connections with a request begun and not finished; a connection is removed when it closes. */
    private final Map<Integer, Boolean> midRequest = new ConcurrentHashMap<>();
    private final Map<Integer, Socket> open = new ConcurrentHashMap<>();
    private long nextId;

    RecordingBackend() throws IOException {
        server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** @return a mark: {@link #eventsSince} returns what happened after it */
    synchronized int mark() {
        return events.size();
    }

    synchronized List<Event> eventsSince(int mark) {
        return List.copyOf(events.subList(mark, events.size()));
    }

    synchronized long parsedSince(int mark) {
        return events.subList(mark, events.size()).stream().filter(e -> e instanceof Parsed).count();
    }

    /** @return whether some connection holds part of a request */
    boolean anyMidRequest() {
        return midRequest.values().stream().anyMatch(b -> b);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                int index = connections.getAndIncrement();
                open.put(index, s);
                threads.execute(() -> serve(s, index));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, int conn) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int consumed = 0;
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                all.write(buf, 0, n);
                byte[] data = all.toByteArray();
                while (consumed < data.length) {
                    Result r = StrictHttpParser.parse(data, consumed, data.length, Mode.UPSTREAM, TOLERATED);
                    if (r instanceof Complete) {
                        Request req = ((Complete) r).request();
                        Parsed p = record(conn, req);
                        consumed += req.length();
                        midRequest.put(conn, consumed < data.length);
                        respond(out, p);
                    } else if (r instanceof Invalid) {
                        record(new Rejected(conn, (Invalid) r, data, consumed));
                        out.write(("HTTP/1.1 500 Backend Rejected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                        return;
                    } else {
                        midRequest.put(conn, true);
                        break;
                    }
                }
            }
            byte[] data = all.toByteArray();
            if (consumed < data.length) {
                record(new Truncated(conn, java.util.Arrays.copyOfRange(data, consumed, data.length)));
            }
        } catch (IOException e) {
            byte[] data = all.toByteArray();
            if (consumed < data.length) {
                record(new Truncated(conn, java.util.Arrays.copyOfRange(data, consumed, data.length)));
            }
        } finally {
            midRequest.remove(conn);
            open.remove(conn);
        }
    }

    private synchronized Parsed record(int conn, Request req) {
        Parsed p = new Parsed(++nextId, conn, req);
        events.add(p);
        return p;
    }

    private synchronized void record(Event e) {
        events.add(e);
    }

    private static void respond(OutputStream out, Parsed p) throws IOException {
        String echo = p.echo();
        byte[] body = (echo + "\n").getBytes(StandardCharsets.ISO_8859_1);
        boolean head = p.request().method().equals("HEAD");
        String h = "HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\nX-Fuzz-Echo: " + echo + "\r\n\r\n";
        out.write(h.getBytes(StandardCharsets.ISO_8859_1));
        if (!head) {
            out.write(body);
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open.values()) {
            s.close();
        }
        threads.shutdownNow();
    }
}
