package dev.portico.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} process for a test. Redis cannot take port 0, so it starts on a random port in
 * 20000-29999, waits until the server says it accepts connections, and tries another port if that one was taken.
 * Stopped by its PID (also by {@link #close()} after a failed test). {@link #stop()} and {@link #restart()} let a
 * test take it away under load and bring it back on the same port.
 */
public final class RedisServer implements AutoCloseable {
    /** Where CI installs it (apt's redis-server). */
    public static final String BINARY = "/usr/bin/redis-server";

    private final String[] extra;
    private int port;
    private Process process;

    private RedisServer(String[] extra) {
        this.extra = extra;
    }

    /** @return whether the binary is installed */
    public static boolean available() {
        return new java.io.File(BINARY).canExecute();
    }

    /**
     * @param extraArgs more server options, e.g. {@code --requirepass secret}
     * @return a running server on a free port
     */
    public static RedisServer start(String... extraArgs) throws Exception {
        RedisServer r = new RedisServer(extraArgs);
        for (int attempt = 0; attempt < 20; attempt++) {
            r.port = ThreadLocalRandom.current().nextInt(20000, 30000);
            if (r.launch()) {
                return r;
            }
        }
        throw new IllegalStateException("redis-server did not start on any of 20 ports");
    }

    /** @return {@code redis://127.0.0.1:PORT/0} */
    public String url() {
        return "redis://127.0.0.1:" + port + "/0";
    }

    public int port() {
        return port;
    }

    /** Kills the server (SIGTERM, then waits for the PID to go). */
    public synchronized void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            process = null;
        }
    }

    /** Starts the server again on the same port, empty. */
    public synchronized void restart() throws Exception {
        stop();
        for (int attempt = 0; attempt < 50; attempt++) {
            if (launch()) {
                return;
            }
            Thread.sleep(100); // the port of the process just stopped can take a moment to free
        }
        throw new IllegalStateException("redis-server did not start again on port " + port);
    }

    /** @return whether the server came up on {@link #port}; false if the port was taken */
    private synchronized boolean launch() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--enable-debug-command", "local"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.contains("Ready to accept connections")) {
                process = p;
                drain(p.getInputStream());
                return true;
            }
        }
        p.waitFor(5, TimeUnit.SECONDS);
        if (seen.indexOf("Address already in use") >= 0) {
            return false;
        }
        throw new IllegalStateException("redis-server failed to start:\n" + seen);
    }

    /** Keeps reading the server's output so that it never blocks on a full pipe. */
    private static void drain(InputStream in) {
        Thread t = new Thread(() -> {
            try {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the process ended
            }
        }, "redis-output");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Sends one command and returns the reply's text (a bulk string's content, or a status or error line).
     *
     * @param args the command and its arguments
     */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
            for (String a : args) {
                req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a)
                        .append("\r\n");
            }
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            String first = readLine(in);
            if (first.startsWith("$")) {
                int n = Integer.parseInt(first.substring(1));
                return n < 0 ? null : new String(in.readNBytes(n), StandardCharsets.UTF_8);
            }
            return first;
        }
    }

    /**
     * Sends one command without waiting for its reply (e.g. {@code DEBUG SLEEP 2}, to make Redis slow).
     *
     * @return the connection, to read the reply from or close
     */
    public Socket sendOnly(String... args) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        s.getOutputStream().write(req.toString().getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return s;
    }

    /** @return the calls of one command in {@code INFO commandstats}, e.g. {@code evalsha}; 0 if never called */
    public long calls(String command) throws IOException {
        String stats = command("INFO", "commandstats");
        for (String line : stats.split("\r\n")) {
            if (line.startsWith("cmdstat_" + command + ":calls=")) {
                String v = line.substring(line.indexOf("calls=") + 6);
                return Long.parseLong(v.substring(0, v.indexOf(',')));
            }
        }
        return 0;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
