package dev.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged {@code portico.jar} running as a child process, its stdout and stderr drained by background threads
 * into buffers so the child never blocks on a full pipe.
 */
final class PorticoProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    /** The outcome of a process that ran to its end. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    private final Process process;
    private final StringBuffer stdout = new StringBuffer();
    private final StringBuffer stderr = new StringBuffer();
    private final Thread outDrain;
    private final Thread errDrain;
    /** Shells made ready to signal the process ({@link #signaller}). */
    private final List<Process> helpers = new ArrayList<>();

    private PorticoProcess(List<String> command) throws IOException {
        this(command, Map.of());
    }

    private PorticoProcess(List<String> command, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(withDefaultSignals(command))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().putAll(environment);
        process = builder.start();
        outDrain = drain(process.getInputStream(), stdout, "portico-stdout");
        errDrain = drain(process.getErrorStream(), stderr, "portico-stderr");
    }

    /**
     * The command run by {@code env --default-signal}, where {@code env} knows the option: a process inherits the
     * signals ignored by whoever started the tests (a build under {@code nohup} ignores SIGHUP, a background job
     * SIGINT), and the JVM keeps SIGHUP, SIGINT and SIGTERM ignored if they were, so without it the signal tests
     * would test how the build was started.
     */
    private static List<String> withDefaultSignals(List<String> command) {
        if (!DEFAULT_SIGNALS) {
            return command;
        }
        List<String> out = new ArrayList<>(List.of("env", "--default-signal"));
        out.addAll(command);
        return out;
    }

    private static final boolean DEFAULT_SIGNALS = envDefaultsSignals();

    private static boolean envDefaultsSignals() {
        try {
            Process p = new ProcessBuilder("env", "--default-signal", "true").redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Starts {@code bash LAUNCHER [args]} with these variables added to the environment. */
    static PorticoProcess startLauncher(Path launcher, Map<String, String> environment, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", launcher.toString()));
        command.addAll(Arrays.asList(args));
        return new PorticoProcess(command, environment);
    }

    /** Starts {@code java [jvmOptions] -jar portico.jar [args]}. */
    static PorticoProcess start(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar().toString());
        command.addAll(Arrays.asList(args));
        return new PorticoProcess(command);
    }

    /** Starts {@code bin/portico [args]} on the packaged jar. */
    static PorticoProcess startScript(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("bash");
        command.add(Path.of("bin/portico").toAbsolutePath().toString());
        command.addAll(Arrays.asList(args));
        return new PorticoProcess(command);
    }

    /** Starts {@code java -jar portico.jar [args]}. */
    static PorticoProcess start(String... args) throws IOException {
        return start(List.of(), args);
    }

    /** Runs {@code java -jar portico.jar [args]} to its end (at most 30 s) and returns what it printed. */
    static Result run(String... args) throws IOException, InterruptedException {
        try (PorticoProcess p = start(args)) {
            int code = p.awaitExit(Duration.ofSeconds(30));
            return new Result(code, p.stdout(), p.stderr());
        }
    }

    /** @return the jar failsafe passes as {@code portico.jar}, or {@code target/portico.jar} */
    static Path jar() {
        Path jar = Path.of(System.getProperty("portico.jar", "target/portico.jar"));
        assertThat(jar).as("the packaged jar (run mvn package first)").isRegularFile();
        return jar;
    }

    private static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java");
    }

    private static Thread drain(InputStream in, StringBuffer into, String name) {
        Thread t = new Thread(() -> {
            char[] buf = new char[8192];
            try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                int n;
                while ((n = r.read(buf)) >= 0) {
                    into.append(buf, 0, n);
                }
            } catch (IOException ignored) {
                // the process ended and its pipe closed: everything read so far is in the buffer
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits for the {@code listening on HOST:PORT} line on stderr and returns the port it names.
     *
     * @param index which listener, 0 for the first
     */
    int awaitPort(int index) {
        return awaitPort(index, Duration.ofMillis(20));
    }

    /** @return the port of the first {@code listening on} line, looked for every millisecond */
    int awaitPortPromptly() {
        return awaitPort(0, Duration.ofMillis(1));
    }

    private int awaitPort(int index, Duration poll) {
        await("listener " + index + " of " + pid() + " to log 'listening on'").atMost(Duration.ofSeconds(20))
                .pollDelay(Duration.ZERO).pollInterval(poll)
                .until(() -> listeningPorts().size() > index || !process.isAlive());
        List<Integer> ports = listeningPorts();
        assertThat(ports.size()).as("portico exited before listening; stderr:%n%s", stderr).isGreaterThan(index);
        return ports.get(index);
    }

    /** @return the port of the first {@code listening on} line */
    int awaitPort() {
        return awaitPort(0);
    }

    private List<Integer> listeningPorts() {
        List<Integer> ports = new ArrayList<>();
        Matcher m = LISTENING.matcher(stderr);
        while (m.find()) {
            ports.add(Integer.parseInt(m.group(2)));
        }
        return ports;
    }

    /** @return the exit code, after waiting up to {@code timeout} and for both pipes to be drained */
    int awaitExit(Duration timeout) throws InterruptedException {
        assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .as("portico exited within %s; stderr:%n%s", timeout, stderr).isTrue();
        outDrain.join(5000);
        errDrain.join(5000);
        return process.exitValue();
    }

    /**
     * Sends SIGTERM. Through the {@link ProcessHandle}: {@link Process#destroy()} sends the same signal but also
     * closes our end of the pipes, which would lose everything the child prints while it shuts down.
     */
    void terminate() {
        assertThat(process.toHandle().destroy()).as("SIGTERM sent to %d", pid()).isTrue();
    }

    /** Sends a signal by name, e.g. {@code INT}, with {@code kill}. */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as("kill -%s %d", name, pid()).isZero();
    }

    /**
     * A shell made ready to send a signal to this process: calling the result sends it at once, without the delay
     * of starting {@code kill} then (a shell builtin does it).
     *
     * @param name the signal, e.g. {@code HUP}
     * @return sends the signal and checks that it was sent
     */
    Runnable signaller(String name) throws IOException {
        Process shell = new ProcessBuilder("bash", "-c", "read -r _ && kill -" + name + " " + pid())
                .redirectErrorStream(true).start();
        helpers.add(shell); // stopped by close() if never used
        return () -> {
            try (java.io.OutputStream in = shell.getOutputStream()) {
                in.write('\n');
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            try {
                assertThat(shell.waitFor(5, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            assertThat(shell.exitValue()).as("kill -%s %d", name, pid()).isZero();
        };
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String stdout() {
        return stdout.toString();
    }

    String stderr() {
        return stderr.toString();
    }

    /** @return the resident set size in KiB from {@code /proc/PID/status}, or -1 once the process is gone */
    long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Kills the process if it is still running. */
    @Override
    public void close() {
        helpers.forEach(Process::destroyForcibly);
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
