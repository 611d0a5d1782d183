package dev.portico;

import dev.portico.config.ConfigException;
import dev.portico.config.ConfigValues;
import dev.portico.config.ProxyConfig;
import dev.portico.config.RouteConfig;
import dev.portico.internal.demo.DemoBackend;
import dev.portico.internal.tls.TlsRuntime;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The command line: {@code java -jar portico.jar --config FILE}, {@code --listen/--route}, {@code --demo},
 * {@code --check}. Exit codes: 0 after a clean (graceful) shutdown, 1 for a runtime failure, 2 for a
 * configuration or usage error.
 */
@Command(name = "portico", mixinStandardHelpOptions = true, versionProvider = PorticoMain.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Portico: a streaming HTTP reverse proxy.%n",
        footer = {"%nExamples:",
            "  portico --config portico.yaml",
            "  portico --listen 127.0.0.1:8080 --route /api=http://127.0.0.1:8000 --route /=http://127.0.0.1:9000",
            "  portico --demo",
            "%nExit codes: 0 clean shutdown, 1 runtime failure, 2 configuration or usage error."})
public final class PorticoMain implements Callable<Integer> {
    /** Exit code after a clean shutdown. */
    public static final int EXIT_OK = 0;
    /** Exit code for a runtime failure such as a port in use. */
    public static final int EXIT_RUNTIME = 1;
    /** Exit code for a configuration or usage error. */
    public static final int EXIT_CONFIG = 2;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "YAML configuration file.")
    Path configFile;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (repeatable).")
    List<String> listen = new ArrayList<>();

    @Option(names = "--route", paramLabel = "PREFIX=URL",
            description = "Route a path prefix to an upstream URL (repeatable).")
    List<String> routes = new ArrayList<>();

    @Option(names = "--demo", description = "Run the demo: proxy on 127.0.0.1:8080, backends on :8000 (/api) "
            + "and :8001 (/web).")
    boolean demo;

    @Option(names = "--check", description = "Validate the configuration and exit (0 valid, 2 invalid).")
    boolean check;

    @Option(names = "--warmup", paramLabel = "DURATION", description = "Before listening, load a proxy of Portico's "
            + "own on loopback for this long (e.g. 3s), so that the first clients meet compiled code.")
    String warmup;

    private final PrintWriter out;
    private final PrintWriter err;

    PorticoMain(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Runs the command line and exits with its code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        LogConfigurator.configureForMain();
        System.exit(run(args));
    }

    static int run(String... args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine cl = new CommandLine(new PorticoMain(out, err));
        cl.setOut(out).setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("portico: " + ex.getMessage());
            err.println("Try 'portico --help'.");
            return EXIT_CONFIG;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            err.println("portico: " + ex);
            return EXIT_RUNTIME;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() {
        int modes = (configFile != null ? 1 : 0) + (demo ? 1 : 0) + (!listen.isEmpty() || !routes.isEmpty() ? 1 : 0);
        if (modes != 1) {
            err.println("portico: give exactly one of --config FILE, --demo, or --listen with --route");
            err.println("Try 'portico --help'.");
            return EXIT_CONFIG;
        }
        ProxyConfig config;
        Duration warmupFor;
        try {
            warmupFor = warmupDuration();
            config = demo ? demoConfig() : configFile != null ? ProxyConfig.load(configFile) : commandLineConfig();
            if (check) {
                TlsRuntime.create(config).close(); // certificate and key contents, not only the files' presence
            }
        } catch (ConfigException e) {
            err.println("portico: invalid configuration");
            err.println(e.getMessage());
            return EXIT_CONFIG;
        }
        if (check) {
            out.println((configFile != null ? configFile.toString() : "configuration") + ": OK ("
                    + config.routes().size() + " routes, " + config.listen().size() + " listeners)");
            return EXIT_OK;
        }
        return serve(config, warmupFor);
    }

    /** @return {@code --warmup} as a duration, zero without it */
    private Duration warmupDuration() {
        if (warmup == null) {
            return Duration.ZERO;
        }
        try {
            return ConfigValues.parseDuration(warmup); // digits and a unit: never negative
        } catch (IllegalArgumentException e) {
            throw new ConfigException("command line", List.of("--warmup: expected a duration such as 3s, got \""
                    + warmup + "\""));
        }
    }

    private int serve(ProxyConfig config, Duration warmupFor) {
        List<DemoBackend> backends = new ArrayList<>();
        ProxyServer proxy = new ProxyServer(config, configFile);
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown, () -> {
            proxy.stopNow();
            stop.countDown();
        });
        // Handled before the listeners bind: "listening on" shows before the start is over, and a SIGHUP or SIGUSR1
        // the JVM has no handler for stops it (exit 129). One that comes before the proxy runs waits for its start.
        CompletableFuture<Boolean> started = new CompletableFuture<>();
        Signals.onceStarted("HUP", started, () -> proxy.reload("SIGHUP"));
        Signals.onceStarted("USR1", started, proxy::reopenAccessLog);
        try {
            if (demo) {
                backends.add(DemoBackend.start("api", "127.0.0.1", 8000));
                backends.add(DemoBackend.start("web", "127.0.0.1", 8001));
            }
            if (!warmupFor.isZero()) {
                Warmup.run(warmupFor);
            }
            proxy.start();
            started.complete(true);
            if (demo) {
                out.println("Demo running. Try: curl http://127.0.0.1:8080/api/hello  (Ctrl-C to stop)");
            }
        } catch (UncheckedIOException e) {
            err.println("portico: " + e.getMessage());
            backends.forEach(DemoBackend::close);
            return EXIT_RUNTIME;
        } catch (ConfigException e) {
            err.println("portico: invalid configuration");
            err.println(e.getMessage());
            backends.forEach(DemoBackend::close);
            return EXIT_CONFIG;
        } finally {
            started.complete(false); // no effect once started; a signal that waited for a failed start is dropped
        }
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        proxy.stop();
        backends.forEach(DemoBackend::close);
        return EXIT_OK;
    }

    private static ProxyConfig demoConfig() {
        return ProxyConfig.builder().listen("127.0.0.1", 8080)
                .route("/api", "http://127.0.0.1:8000")
                .route("/web", "http://127.0.0.1:8001")
                .build();
    }

    private ProxyConfig commandLineConfig() {
        List<String> problems = new ArrayList<>();
        ProxyConfig.Builder b = ProxyConfig.builder();
        for (int i = 0; i < listen.size(); i++) {
            try {
                b.listen(listen.get(i));
            } catch (IllegalArgumentException e) {
                problems.add("--listen[" + i + "]: " + e.getMessage());
            }
        }
        for (int i = 0; i < routes.size(); i++) {
            String r = routes.get(i);
            int eq = r.indexOf('=');
            try {
                if (eq <= 0) {
                    throw new IllegalArgumentException("expected PREFIX=URL, got \"" + r + "\"");
                }
                b.route(RouteConfig.of(r.substring(0, eq), r.substring(eq + 1)));
            } catch (IllegalArgumentException e) {
                problems.add("--route[" + i + "]: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException("command line", problems);
        }
        try {
            return b.build();
        } catch (ConfigException e) {
            List<String> named = new ArrayList<>();
            for (String p : e.problems()) {
                named.add(p.replaceFirst("^routes", "--route").replaceFirst("^listen", "--listen"));
            }
            throw new ConfigException("command line", named);
        }
    }

    /** Reads the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = PorticoMain.class.getPackage().getImplementationVersion();
            return new String[] {"portico " + (v == null ? "(development build)" : v),
                "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name")};
        }
    }
}
